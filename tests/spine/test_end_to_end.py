"""A whole study end to end on real posts with the embedded model, then a re-run that skips it all."""

import json
import re
import subprocess
import sys

import pytest

from carelens.config import load_study
from carelens.study import STAGE_NAMES, run_study

STUDY = """
[study]
name = "e2e"
seed = 5

[[data]]
dataset = "mh-eval-reddit"
communities = ["anxiety", "depression", "stress"]
posts = 3
replies_per_post = 1

[demographics]
design = "counterfactual"
races = ["black"]
genders = ["female"]
ages = [32]
cue_kinds = ["explicit"]
probe = "local:smollm2-135m"
probe_max_tokens = 32

[generation]
responders = ["local:smollm2-135m", "peer"]
conditions = ["mental_health_forum"]
max_tokens = 32

[scoring]
scorers = ["text", "empathy", "sentiment", "offensive", "safety"]

[analysis]
bootstrap = 50
"""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mirror):
    folder = tmp_path_factory.mktemp("e2e")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("CARELENS_CACHE_DIR", str(folder / "cache"))
    (folder / "study.toml").write_text(STUDY, encoding="utf-8")
    run = run_study(load_study(folder / "study.toml"))
    yield folder, run
    monkey.undo()


def test_every_stage_ran_and_every_request_is_a_row(finished_run):
    _, run = finished_run
    manifest = json.loads(run.manifest_path.read_text())
    assert [s for s in STAGE_NAMES if manifest["stages"][s]["status"] == "done"] == list(STAGE_NAMES)
    variants = run.read_table("variants")
    responses = run.read_table("responses")
    generated = responses[responses["responder"] == "local:smollm2-135m"]
    assert len(generated) == int(variants["fidelity_ok"].sum())
    assert set(generated["status"]) <= {"ok", "refused", "filtered", "error"}
    peers = responses[responses["responder"] == "peer"]
    assert 1 <= len(peers) <= 3
    scores = run.read_table("scores")
    scored = set(scores["response_id"])
    assert scored == set(responses.loc[responses["status"] == "ok", "response_id"])
    assert {"ER", "IP", "EX"} <= set(scores["metric"])
    assert len(run.read_table("inferences")) == len(variants)
    assert len(run.read_table("comparisons")) > 0
    manipulation = run.read_table("verdicts").set_index("guideline").loc["manipulation"]
    assert manipulation["verdict"] in ("pass", "fail") and "variants" in manipulation["evidence"]


def test_report_is_written_and_says_the_model_is_a_stand_in(finished_run):
    _, run = finished_run
    html = (run.path / "report.html").read_text(encoding="utf-8")
    assert "SmolLM2" in html and "not a research finding" in html.replace("\n", " ")
    assert re.search(r"""(src|href)=["']?(https?:)?//""", html) is None  # opens offline: nothing fetched
    assert (run.path / "comparisons.csv").exists()


def test_rerun_skips_every_stage_and_keeps_tables_identical(finished_run):
    folder, run = finished_run
    before = {p.name: p.read_bytes() for p in (run.path / "tables").iterdir()}
    report = (run.path / "report.html").read_bytes()
    run_study(load_study(folder / "study.toml"))
    manifest = json.loads(run.manifest_path.read_text())
    assert {manifest["stages"][s]["status"] for s in STAGE_NAMES} == {"skipped"}
    assert before == {p.name: p.read_bytes() for p in (run.path / "tables").iterdir()}
    assert report == (run.path / "report.html").read_bytes()


def test_query_reads_the_run(finished_run):
    _, run = finished_run
    result = subprocess.run(
        [sys.executable, "-m", "carelens", "query", str(run.path),
         "select responder, count(*) as n from responses group by responder order by responder", "--csv"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "responder,n" and lines[1].startswith("local:smollm2-135m,")
