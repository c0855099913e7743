"""Every shipped study that needs no network runs end to end, as a user runs it (the CLI), and its
report says what the study found."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from carelens.store import RunDir

STUDIES = Path(__file__).resolve().parents[2] / "src" / "carelens" / "studies"
PAPER_ER_GAPS = {  # the paper's Student-t ER gaps, Black vs White posters, recorded GPT-4 replies (%)
    "social_media": -9.2,
    "mental_health_forum": -13.5,
    "clinician": -16.6,
    "forum_with_demographics": -13.1,
    "forum_without_demographics": -10.4,
}


def _carelens(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carelens", *args], capture_output=True, text=True, cwd=cwd, timeout=3000
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, RunDir]:
    folder = tmp_path_factory.mktemp("shipped")
    out = {}
    for name in ("reproduce-paper", "paper-counterfactual"):
        result = _carelens("run", str(STUDIES / f"{name}.toml"), "--output", str(folder / name), cwd=folder)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        out[name] = RunDir(folder / name)
    result = _carelens("quickstart", "--output", str(folder / "quickstart"), cwd=folder)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert str(folder / "quickstart" / "report.html") in result.stdout.replace("\n", "")
    out["quickstart"] = RunDir(folder / "quickstart")
    return out


@pytest.mark.parametrize("name", ["quickstart", "reproduce-paper", "paper-counterfactual"])
def test_the_study_ran_every_stage_and_wrote_its_report(runs: dict[str, RunDir], name: str) -> None:
    run = runs[name]
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["state"] == "complete"
    assert {entry["status"] for entry in manifest["stages"].values()} == {"done"}
    html = (run.path / "report.html").read_text(encoding="utf-8")
    verdicts = run.read_table("verdicts")
    assert len(verdicts) and set(verdicts["verdict"]) <= {
        "pass",
        "warn",
        "fail",
        "inconclusive",
        "not assessed",
    }
    for title in verdicts["title"].unique():
        assert title in html


def test_reproduction_shows_the_papers_gaps_beside_the_corrected_analysis(runs: dict[str, RunDir]) -> None:
    comparisons = runs["reproduce-paper"].read_table("comparisons")
    rows = comparisons[
        (comparisons["kind"] == "group_gap")
        & (comparisons["responder"] == "recorded:gpt-4")
        & (comparisons["metric"] == "paper_ER")
        & (comparisons["group"] == "black")
    ]
    paper = rows[rows["test"] == "student_t_paper"].set_index("condition")["pct_diff"]
    assert paper.round(1).to_dict() == PAPER_ER_GAPS
    primary = rows[rows["primary"].astype(bool)]
    assert set(primary["unit"]) == {"post"} and primary["p_adj"].notna().all()
    html = (runs["reproduce-paper"].path / "report.html").read_text(encoding="utf-8")
    for gap in PAPER_ER_GAPS.values():
        assert f"{gap:+.1f}%".replace("-", "−") in html or f"{gap:+.1f}%" in html
    verdicts = runs["reproduce-paper"].read_table("verdicts")
    assert "peer" not in set(verdicts["responder"])
    empathy = verdicts[(verdicts["guideline"] == "empathy_gap") & (verdicts["responder"] == "recorded:gpt-4")]
    assert "64 tokens" in empathy.iloc[0]["caveat"]


def test_quickstart_scores_real_replies_beside_the_live_stand_in(runs: dict[str, RunDir]) -> None:
    run = runs["quickstart"]
    responses = run.read_table("responses")
    assert {"recorded:gpt-4", "peer", "local:smollm2-135m"} <= set(responses["responder"])
    comparisons = run.read_table("comparisons")
    gpt4_vs_peer = comparisons[
        (comparisons["kind"] == "responder_gap")
        & (comparisons["responder"] == "recorded:gpt-4")
        & (comparisons["metric"] == "ER")
        & comparisons["primary"].astype(bool)
    ]
    assert len(gpt4_vs_peer) and gpt4_vs_peer["n_posts"].min() >= 10
    html = (run.path / "report.html").read_text(encoding="utf-8")
    assert "SmolLM2" in html and "not a research finding" in html.replace("\n", " ")


def test_a_rerun_skips_every_stage(runs: dict[str, RunDir], tmp_path: Path) -> None:
    run = runs["paper-counterfactual"]
    before = {p.name: p.read_bytes() for p in (run.path / "tables").iterdir()}
    result = _carelens(
        "run", str(STUDIES / "paper-counterfactual.toml"), "--output", str(run.path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads(run.manifest_path.read_text())
    assert {entry["status"] for entry in manifest["stages"].values()} == {"skipped"}
    assert before == {p.name: p.read_bytes() for p in (run.path / "tables").iterdir()}
    assert isinstance(run.read_table("comparisons"), pd.DataFrame)
