"""The stratified draw: balance between AI and people, strata, seeds, exclusions, masking, orders."""

import numpy as np
import pandas as pd
import pytest
from review_fixtures import XSS

from carelens.errors import CarelensError
from carelens.ids import stable_id
from carelens.review.packets import allocate, draw_items, rater_order, source_of
from carelens.store import RunDir


def test_source_of_responders() -> None:
    assert [source_of(r) for r in ("peer", "therapist", "human:nurse")] == ["human"] * 3
    assert [source_of(r) for r in ("recorded:gpt-4", "local:smollm2-135m", "openai:gpt-4o")] == ["ai"] * 3


@pytest.mark.parametrize(("capacity", "n", "expected_total"), [
    ({"a": 10, "b": 10, "c": 10}, 9, 9),
    ({"a": 1, "b": 10, "c": 10}, 9, 9),
    ({"a": 1, "b": 2}, 10, 3),
    ({"a": 5, "b": 5, "c": 5, "d": 0}, 7, 7),
])
def test_allocate_is_even_capped_and_complete(capacity: dict, n: int, expected_total: int) -> None:
    alloc = allocate(capacity, n, np.random.default_rng(0))
    assert sum(alloc.values()) == expected_total
    assert all(alloc[k] <= capacity[k] for k in capacity)
    free = [alloc[k] for k in capacity if alloc[k] < capacity[k]]
    assert not free or max(free) - min(free) <= 1  # strata not at capacity differ by at most one


def test_allocate_gives_leftovers_to_a_seeded_random_stratum() -> None:
    capacity = {k: 10 for k in "abcdef"}
    draws = {tuple(sorted(allocate(capacity, 3, np.random.default_rng(s)).items())) for s in range(12)}
    assert len(draws) > 1
    assert allocate(capacity, 3, np.random.default_rng(4)) == allocate(capacity, 3, np.random.default_rng(4))


def test_matched_draw_pairs_ai_and_human_replies_to_the_same_posts(review_run: RunDir) -> None:
    draw = draw_items(review_run, 6, seed=3)
    items = draw.items
    assert len(items) == 6 and items["source"].value_counts().to_dict() == {"ai": 3, "human": 3}
    posts = {src: sorted(items.loc[items["source"] == src, "post_id"]) for src in ("ai", "human")}
    assert posts["ai"] == posts["human"] and len(set(posts["ai"])) == 3  # three posts, one pair each
    assert sum(s["drawn"] for s in draw.strata) == 6
    for s in draw.strata:
        assert s["drawn"] == ((items["source"] == s["source"]) & (items["condition"] == s["condition"])
                              & (items["group"] == s["group"])).sum() <= s["available"]
    assert draw.excluded == {"status_not_ok": 1, "empty_response": 1}
    cued = int(items["group"].str.startswith("explicit").sum())
    assert draw.blinding == {"post_shown": "original", "match": "posts", "cued_items_shown_original": cued}
    assert items["item_id"].is_unique and items["response_id"].is_unique


def test_unmatched_draw_balances_sources_and_covers_strata(review_run: RunDir) -> None:
    draw = draw_items(review_run, 6, seed=3, match="none")
    items = draw.items
    assert len(items) == 6 and items["source"].value_counts().to_dict() == {"ai": 3, "human": 3}
    ai_strata = {(s["condition"], s["group"]) for s in draw.strata if s["source"] == "ai" and s["drawn"]}
    assert ai_strata == {("clinician", "unknown"), ("social_media", "unknown"),
                         ("social_media", "explicit:black/female/30")}


def test_draw_is_seeded(review_run: RunDir) -> None:
    first = draw_items(review_run, 5, seed=3)
    assert first.items.equals(draw_items(review_run, 5, seed=3).items)
    assert first.round_id == draw_items(review_run, 5, seed=3).round_id
    others = {tuple(draw_items(review_run, 5, seed=s).items["response_id"]) for s in range(8)}
    assert len(others) > 1


def test_posts_are_masked_and_counted(review_run: RunDir) -> None:
    assert len(draw_items(review_run, 20, seed=1).items) == 8  # four posts, one peer reply each
    items = draw_items(review_run, 20, seed=1, match="none").items
    assert len(items) == 13  # all that can be rated
    p1 = items[items["post_id"] == "p1"].iloc[0]
    assert "24F" not in p1["post_text"] and "[age][gender]" in p1["post_text"]
    assert "[nationality] student" in p1["post_text"] and XSS in p1["post_text"]
    assert (p1["masked_age"], p1["masked_gender"], p1["masked_nationality"]) == (1, 1, 1)
    cued = items[items["group"].str.startswith("explicit")].iloc[0]  # shown without its cue
    assert cued["post_text"] == items[items["post_id"] == "p2"]["post_text"].iloc[0]
    assert cued["post_text"].startswith("My anxiety") and cued["masked_age"] == 0
    p3 = items[items["post_id"] == "p3"].iloc[0]  # a post's own cue-like prefix is masked like any text
    assert p3["post_text"].startswith("[[age], [ethnicity] [gender]] --")


def test_responder_filter(review_run: RunDir) -> None:
    draw = draw_items(review_run, 20, seed=1, responders=["peer", "recorded:*"], match="none")
    assert set(draw.items["responder"]) == {"peer", "recorded:gpt-4"}
    assert draw.excluded["responder_not_selected"] == 5


def test_a_run_with_nothing_to_rate_is_an_error(review_run: RunDir) -> None:
    responses = review_run.read_table("responses")
    responses["status"] = "refused"
    review_run.write_table("responses", responses)
    with pytest.raises(CarelensError, match="no response can be rated"):
        draw_items(review_run, 5, seed=1)
    with pytest.raises(CarelensError, match="at least 1"):
        draw_items(review_run, 0, seed=1)


def test_inferred_race_is_the_group_of_an_original_post(review_run: RunDir) -> None:
    responses = review_run.read_table("responses")
    vid = responses.loc[responses["post_id"] == "p4", "variant_id"].iloc[0]
    review_run.write_table("inferences", pd.DataFrame([
        {"variant_id": vid, "model": "m", "race": "Asian", "gender": None, "age": None, "explanation": "",
         "raw": "", "status": "ok"}]))
    items = draw_items(review_run, 20, seed=1, match="none").items
    assert set(items.loc[items["post_id"] == "p4", "group"]) == {"asian"}


def test_each_rater_has_their_own_stable_order() -> None:
    ids = [stable_id("i", k) for k in range(30)]
    ann, bob = rater_order(ids, 5, "ann"), rater_order(ids, 5, "bob")
    assert sorted(ann) == sorted(ids) == sorted(bob)
    assert ann != bob and ann == rater_order(list(reversed(ids)), 5, "ann")
    assert ann != rater_order(ids, 6, "ann")
