"""The notebook example runs as a user runs it, and what it shows is checked against scipy."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

import carelens

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reproduce_headline.py"
PAPER_ER_GAPS = {  # the paper's ER gaps, Black vs White posters, GPT-4 replies (%), Gabriel et al. 2024
    "social_media": -9.2,
    "mental_health_forum": -13.5,
    "clinician": -16.6,
    "forum_with_demographics": -13.1,
    "forum_without_demographics": -10.4,
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("example")
    env = {**os.environ, "CARELENS_CACHE_DIR": str(out / "cache"), "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(out)],
        capture_output=True,
        text=True,
        cwd=out,
        env=env,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out, result.stdout


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("reproduce_headline", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_writes_the_figure_and_prints_every_condition(example: tuple[Path, str]) -> None:
    out, stdout = example
    png = (out / "headline.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    for condition in ("social_media", "mental_health_forum", "clinician", "forum_with_demographics"):
        assert condition in stdout
    assert stdout.split("metric: ", 1)[1].split()[0] == "paper_ER"
    assert "after the post-level test and Holm's correction in" in stdout


def test_example_shows_the_papers_test_and_the_primary_one(example: tuple[Path, str]) -> None:
    out, stdout = example
    module = _module()
    run = carelens.open_run(out / "run")
    metric = module.METRIC
    table = module.headline(run, metric)
    assert table.pct_diff.round(1).to_dict() == PAPER_ER_GAPS  # the paper's published gaps
    scores = run.table("scores")
    values = run.table("assignments").merge(scores[scores.metric == metric], on="response_id")
    values = values[values.analysed & (values.responder == "recorded:gpt-4")]
    for condition, row in table.iterrows():
        cell = values[values.condition == condition]
        black, white = (cell[cell.group == g] for g in ("black", "white"))
        # the paper's test: Student's t on single replies
        paper = stats.ttest_ind(black.value, white.value, equal_var=True)
        assert row.paper_p == pytest.approx(paper.pvalue, rel=1e-9)
        # the primary test: Welch's t on post means
        assert row.primary_test == "welch_t"
        welch = stats.ttest_ind(
            black.groupby("post_id").value.mean(), white.groupby("post_id").value.mean(), equal_var=False
        )
        assert row.primary_p == pytest.approx(welch.pvalue, rel=1e-9)
        assert row.primary_p_adj >= row.primary_p
        means = white.groupby("post_id").value.mean().mean(), black.groupby("post_id").value.mean().mean()
        assert (row.white, row.black) == pytest.approx(means)
        assert row.pct_diff == pytest.approx(100 * (means[1] - means[0]) / means[0])
        assert row.pct_ci_low <= row.pct_diff <= row.pct_ci_high


def test_release_gate_on_the_real_run(example: tuple[Path, str]) -> None:
    out, _ = example
    run = carelens.open_run(out / "run")
    gate = run.check()
    verdicts = run.verdicts
    assert gate.counts == {v: int((verdicts.verdict == v).sum()) for v in gate.counts}
    assert sum(gate.counts.values()) == len(verdicts) > 0
    assessed = verdicts[verdicts.verdict != "not assessed"]
    expected_pass = len(assessed) > 0 and not (assessed.verdict == "fail").any()
    assert gate.passed is expected_pass and gate.exit_code == (0 if expected_pass else 1)
    strict = run.check(require_assessed=True)
    assert strict.passed is (expected_pass and len(assessed) == len(verdicts))
    result = subprocess.run(
        [sys.executable, "-m", "carelens", "check", str(run.path), "--json", "-"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=300,
    )
    assert result.returncode == gate.exit_code, result.stderr
    summary = json.loads(result.stdout)
    assert summary["study"]["name"] == "headline" and summary["counts"] == gate.counts
