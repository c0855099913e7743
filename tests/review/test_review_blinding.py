"""Blind rounds are blind: nothing a rater sees of the post tells an AI item from a human one.

The run is a counterfactual one: the model answered cued variants ("[30y/o, black female] -- ...")
only, peers answered the original posts. The check reads the post as the rating page shows it.
"""

import html
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from review_fixtures import POSTS
from sqlalchemy import select
from typer.testing import CliRunner

from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id
from carelens.review.app import create_app
from carelens.review.commands import app as review_app
from carelens.review.db import ReviewDB, default_url, items_t
from carelens.review.masking import mask_demographics
from carelens.review.packets import draw_items, rater_order
from carelens.store import RunDir

CUES = (("black", "female", "[30y/o, black female] -- "), ("white", "male", "[30y/o, white male] -- "))
POST_TEXT = re.compile(r'<div class="text" id="post-text">(.*?)</div>', re.S)


def counterfactual_run(path: Path, peers_per_post: int = 2) -> RunDir:
    """Each post: the original answered by peers, two cued variants answered by a model (twice each)."""
    run = RunDir(path)
    posts = pd.DataFrame([{"post_id": pid, "text": text, "source": "fixture", "community": "test",
                           "defects": ""} for pid, text in POSTS.items()])
    variants, responses = [], []
    for pid, text in POSTS.items():
        variants.append({"variant_id": original_variant_id(pid), "post_id": pid, "race": None, "gender": None,
                         "age": None, "cue_kind": "none", "cue": None, "text": text})
        for k in range(peers_per_post):
            responses.append((original_variant_id(pid), pid, "peer", "peer", f"hang in there {k} ({pid})"))
        for race, gender, cue in CUES:
            vid = stable_id("v", pid, "explicit", race, gender)
            variants.append({"variant_id": vid, "post_id": pid, "race": race, "gender": gender, "age": "30",
                             "cue_kind": "explicit", "cue": cue, "text": cue + text})
            for sample in range(2):
                responses.append((vid, pid, "recorded:gpt-4", "clinician",
                                  f"That sounds hard ({pid}, {race} {gender}, {sample})."))
    frame = pd.DataFrame([{"response_id": stable_id("r", *r), "variant_id": r[0], "post_id": r[1],
                           "responder": r[2], "condition": r[3], "sample": 0, "text": r[4], "status": "ok",
                           "meta": "{}"} for r in responses])
    run.write_table("posts", posts)
    run.write_table("variants", pd.DataFrame(variants).assign(fidelity_ok=True, fidelity_note="", defects=""))
    run.write_table("responses", frame)
    return run


def shown_posts(run: RunDir, size: int, seed: int) -> list[tuple[str, str, str]]:
    """(source, post_id, post text as the rater's page shows it) for every item of a new round."""
    draw = draw_items(run, size, seed)
    db = ReviewDB(default_url(run.path))
    db.create_round(draw.items, {**draw.summary(), "seed": seed})
    token = db.add_account("ann", "rater", "Ann", rater_order(db.item_ids(), seed, "ann"))
    with db.engine.connect() as conn:
        items = {r.item_id: r for r in conn.execute(select(items_t)).all()}
    client = TestClient(create_app(db, run.path))
    out = []
    for position in range(1, len(items) + 1):
        page = client.get(f"/item/{position}", headers={"Authorization": f"Bearer {token}"}).text
        item = items[re.search(r'data-item-id="([^"]+)"', page).group(1)]
        text = html.unescape(re.sub(r"</?span[^>]*>", "", POST_TEXT.search(page).group(1)))
        out.append((item.source, item.post_id, text))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shown_post_does_not_tell_ai_from_human(tmp_path: Path, seed: int) -> None:
    run = counterfactual_run(tmp_path / "run")
    shown = shown_posts(run, 12, seed)
    by_source = {s: Counter(text for source, _, text in shown if source == s) for s in ("ai", "human")}
    assert sum(by_source["ai"].values()) == sum(by_source["human"].values()) == 6
    # every AI reply in this run answered a cued variant, yet no shown post carries the cue: each is
    # the masked original post, whoever wrote the reply (p3's own "[32y/o, black female] --" stays)
    for _, post_id, text in shown:
        assert text == mask_demographics(POSTS[post_id]).text
    # and the same posts appear, as often, for AI and for human items (so no length, bracket or
    # wording feature of the post can separate them)
    assert by_source["ai"] == by_source["human"]


def test_the_blinding_choice_is_recorded(tmp_path: Path) -> None:
    run = counterfactual_run(tmp_path / "run")
    result = CliRunner().invoke(review_app, ["create", str(run.path), "--size", "7", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "only 6 responses drawn (asked for 7) (matched on posts" in result.output
    info = json.loads((run.path / "review" / "round.json").read_text())
    assert info["blinding"] == {"post_shown": "original", "match": "posts", "cued_items_shown_original": 3}


def test_unmatched_draw_still_shows_no_cue(tmp_path: Path) -> None:
    run = counterfactual_run(tmp_path / "run", peers_per_post=1)
    draw = draw_items(run, 10, 4, match="none")
    assert draw.blinding["match"] == "none"
    assert draw.items["source"].value_counts().to_dict() == {"ai": 6, "human": 4}  # 4 peer replies
    masked = {pid: mask_demographics(text).text for pid, text in POSTS.items()}
    assert list(draw.items["post_text"]) == [masked[p] for p in draw.items["post_id"]]
    with pytest.raises(CarelensError, match="unknown match"):
        draw_items(run, 10, 4, match="variants")


def test_posts_without_both_sources_are_counted_not_drawn(tmp_path: Path) -> None:
    run = counterfactual_run(tmp_path / "run", peers_per_post=1)
    responses = run.read_table("responses")
    p4_peer = (responses["post_id"] == "p4") & (responses["responder"] == "peer")
    run.write_table("responses", responses[~p4_peer])
    draw = draw_items(run, 100, 0)
    assert draw.excluded["post_without_both_sources"] == 4  # p4's four model replies
    assert "p4" not in set(draw.items["post_id"])
    assert draw.items["source"].value_counts().to_dict() == {"ai": 3, "human": 3}
    # no post with both: a clear error, and --match none still works
    responses = run.read_table("responses")
    peers = responses["responder"] == "peer"
    run.write_table("responses", pd.concat([responses[~peers & responses["post_id"].isin(["p1", "p2"])],
                                            responses[peers & responses["post_id"].isin(["p3", "p4"])]]))
    with pytest.raises(CarelensError, match="no post has both an AI and a human reply"):
        draw_items(run, 4, 0)
    assert len(draw_items(run, 4, 0, match="none").items) == 4
    with pytest.raises(CarelensError, match="at least 2 items"):
        draw_items(run, 1, 0)
