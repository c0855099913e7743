"""The analyze stage over a run directory: its findings table, its manifest notes, its errors."""

from pathlib import Path

import pytest

from carelens.analysis.stage import analyze
from carelens.analysis.synthetic import Synthetic, tables
from carelens.config import LoadedStudy, parse_study
from carelens.errors import CarelensError
from carelens.store import RunDir
from carelens.study import StageContext
from carelens.tables import SCHEMAS

STUDY = """
[study]
name = "stage-test"
seed = 5
[[data]]
dataset = "mh-eval-reddit"
[generation]
responders = ["peer", "local:smollm2-135m"]
conditions = ["mental_health_forum"]
[demographics]
design = "counterfactual"
races = ["black", "white"]
[analysis]
bootstrap = 100
{extra}
"""


def _context(tmp_path: Path, extra: str = "", write_inferences: bool = True) -> StageContext:
    text = STUDY.format(extra=extra)
    loaded = LoadedStudy(parse_study(text, "stage-test.toml"), tmp_path / "stage-test.toml", text)
    run = RunDir(tmp_path / "run")
    spec = Synthetic(
        posts=12,
        groups=("black", "white"),
        conditions=("mental_health_forum",),
        responders=("local:smollm2-135m",),
        peer_replies=2,
        metrics=("empathy_ER", "words"),
    )
    for name, frame in tables(spec).items():
        if name != "inferences" or write_inferences:
            run.write_table(name, frame)
    return StageContext(loaded, run)


def test_analyze_returns_conforming_findings_and_notes(tmp_path: Path) -> None:
    ctx = _context(tmp_path, write_inferences=False)
    out = analyze(ctx)
    assert list(out) == ["findings"]
    findings = out["findings"]
    assert list(findings.columns[: len(SCHEMAS["findings"])]) == list(SCHEMAS["findings"])
    assert {"group_gap", "responder_gap", "descriptive", "guideline", "mixed"} <= set(findings["kind"])
    assert ctx.notes["design"] == "counterfactual" and ctx.notes["seed"] == 5
    assert ctx.notes["metrics"] == ["empathy_ER", "words"]
    assert ctx.notes["comparisons"]["guideline"] == 5
    # the same inputs give the same findings (seeded bootstrap and permutations)
    again = analyze(_context(tmp_path / "again", write_inferences=False))["findings"]
    assert findings.equals(again)


def test_unknown_metric_names_the_config_key(tmp_path: Path) -> None:
    ctx = _context(tmp_path, 'metrics = ["empathy_ER", "nope"]')
    with pytest.raises(CarelensError, match="analysis.metrics.*nope"):
        analyze(ctx)


def test_unknown_analysis_key_is_a_study_error() -> None:
    with pytest.raises(CarelensError, match="analysis.bootstraps"):
        parse_study(STUDY.format(extra="bootstraps = 10"), "x.toml")
