"""The ``carelens review`` commands, run through Typer's CliRunner."""

import json
import re
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from review_fixtures import build_run
from typer.testing import CliRunner

from carelens.review.app import create_app
from carelens.review.commands import app
from carelens.review.db import ReviewDB, default_url
from carelens.review.questions import REQUIRED

runner = CliRunner()
LINK = re.compile(r"http://ratings\.test/signin/(\S+)")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def token_from(output: str) -> str:
    match = LINK.search(output)
    assert match, output
    return match.group(1)


def test_create_add_rater_rate_export_and_agreement(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    code, out = invoke("create", str(run.path), "--size", "6", "--seed", "3", "--base-url", "http://ratings.test")
    assert code == 0, out
    admin = token_from(out)
    info = json.loads((run.path / "review" / "round.json").read_text())
    assert info["drawn"] == 6 and info["excluded"] == {"status_not_ok": 1, "empty_response": 1}
    assert (run.path / "review" / "masking.csv").exists() and (run.path / "review" / "review.db").exists()
    tokens = {}
    for rater in ("ann", "bob"):
        code, out = invoke("add-rater", str(run.path), rater, "--name", f"Dr {rater}",
                           "--base-url", "http://ratings.test")
        assert code == 0, out
        tokens[rater] = token_from(out)

    db = ReviewDB(default_url(run.path))
    client = TestClient(create_app(db, run.path))
    values = {"ER": "2", "IP": "1", "EX": "0", "MITI_CCT": "NA", "MITI_SST": "4", "MITI_PARTNERSHIP": "3",
              "AI_GUESS": "ai"}
    for rater, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for position in range(1, 7):
            page = client.get(f"/item/{position}", headers=headers).text
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
            item_id = re.search(r'name="item_id" value="([^"]+)"', page).group(1)
            answer = {**values, "ER": "2" if rater == "ann" else "1"}
            response = client.post(f"/item/{position}", headers=headers, follow_redirects=False,
                                   data={"csrf": csrf, "item_id": item_id, "go": "next", **answer})
            target = f"/item/{position + 1}" if position < 6 else "/done"
            assert response.status_code == 303 and response.headers["location"] == target
    progress = client.get("/api/progress", headers={"Authorization": f"Bearer {admin}"}).json()["raters"]
    assert [(r["rater_id"], r["complete"], r["items"]) for r in progress] == [("ann", 6, 6), ("bob", 6, 6)]

    code, out = invoke("export", str(run.path))
    assert code == 0 and "exported 84 answers from 2 raters" in out
    ratings = run.read_table("ratings")
    assert len(ratings) == 2 * 6 * len(REQUIRED)
    assert set(ratings["source"]) <= {"ai", "human"} and ratings["response_id"].notna().all()
    csv = pd.read_csv(run.path / "review" / "ratings.csv", dtype=str, keep_default_na=False)
    assert len(csv) == len(ratings)

    code, out = invoke("agreement", str(run.path), "--resamples", "50")
    assert code == 0, out
    result = json.loads((run.path / "review" / "agreement.json").read_text())
    pair = result["questions"]["ER"]["pairs"][0]
    assert pair["n"] == 6 and pair["exact"] == 0.0
    assert result["questions"]["MITI_CCT"]["na"]["total"] == 12
    assert {s["rater"] for s in result["scorer_validity"]["ER"]["scorers"]} == {"ann", "bob"}
    assert (run.path / "review" / "agreement.csv").exists()
    assert "| ER | 6 | 6 | 0.00 |" in out
    guess = result["ai_guess"]["ann"]
    assert guess["n"] == 6 and guess["accuracy"] == 0.5  # the draw is three AI and three people


def test_agreement_from_a_plain_csv(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.csv"
    path.write_text("item,rater,question,value\n" + "".join(
        f"x{k},{r},ER,{v}\n" for k in range(4) for r, v in (("a", k % 3), ("b", (k + 1) % 3))))
    code, out = invoke("agreement", "--ratings", str(path), "--out", str(tmp_path / "out"),
                       "--resamples", "20")
    assert code == 0, out
    result = json.loads((tmp_path / "out" / "agreement.json").read_text())
    assert result["ratings_source"] == str(path) and result["questions"]["ER"]["pairs"][0]["n"] == 4
    assert result["scorer_validity"] == {} and result["ai_guess"] == {}


def test_user_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    code, out = invoke("add-rater", str(run.path), "ann")
    assert code == 2 and "no review round" in out
    assert invoke("create", str(run.path), "--size", "4")[0] == 0
    code, out = invoke("create", str(run.path), "--size", "4")
    assert code == 2 and "already holds a round" in out
    code, out = invoke("add-rater", str(run.path), "Not Valid!")
    assert code == 2 and "bad account id" in out
    code, out = invoke("add-rater", str(run.path), "admin")
    assert code == 2 and "reserved" in out
    code, out = invoke("add-rater", str(run.path), "ann", "--items", "99")
    assert code == 2 and "--items" in out
    assert invoke("add-rater", str(run.path), "ann", "--items", "2")[0] == 0
    code, out = invoke("add-rater", str(run.path), "ann")
    assert code == 2 and "exists" in out
    code, out = invoke("agreement", str(run.path))
    assert code == 2 and "no answers" in out
    code, out = invoke("agreement", "--ratings", str(tmp_path / "missing.csv"))
    assert code == 2 and "--out" in out
    code, out = invoke("create", str(tmp_path / "empty"), "--size", "4")
    assert code == 2 and "no 'responses' table" in out
    assert not (tmp_path / "empty" / "review").exists()
    code, out = invoke("export", str(run.path), "--db", "postgresql+nosuchdriver://u:pw@db.test/round")
    assert code == 2 and "cannot open postgresql+nosuchdriver://u:***@db.test/round" in out
    code, out = invoke("serve", str(run.path), "--db", "not a url")
    assert code == 2 and "not a database URL" in out


def test_reissue_prints_a_new_working_link(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    old = token_from(invoke("create", str(run.path), "--base-url", "http://ratings.test")[1])
    code, out = invoke("add-rater", str(run.path), "admin", "--reissue", "--base-url", "http://ratings.test")
    assert code == 0
    db = ReviewDB(default_url(run.path))
    assert db.authenticate(old) is None and db.authenticate(token_from(out)).is_admin
