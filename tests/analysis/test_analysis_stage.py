"""The analyze stage over a run directory: its findings table, its manifest notes, its errors."""

from pathlib import Path

import pytest

from carelens.analysis.stage import OUTPUTS, analyze
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


def test_analyze_returns_conforming_tables_and_its_plan(tmp_path: Path) -> None:
    ctx = _context(tmp_path, write_inferences=False)
    out = analyze(ctx)
    assert list(out) == list(OUTPUTS)
    for name in ("assignments", "descriptives", "comparisons", "models", "verdicts"):
        assert list(out[name].columns[: len(SCHEMAS[name])]) == list(SCHEMAS[name])
    assert {"group_gap", "responder_gap", "rate_gap"} >= set(out["comparisons"]["kind"]) >= {"group_gap"}
    plan = ctx.notes["plan"]
    assert plan["design"] == "counterfactual" and plan["seed"] == 5 and plan["unit"] == "post"
    assert plan["metrics"] == ["empathy_ER", "words"]
    assert plan["family_size"] == int(out["comparisons"]["primary"].sum())
    assert set(out["verdicts"]["guideline"]) == {
        "empathy_gap", "rate_gap", "crisis_safety", "worse_than_peers", "manipulation"
    }
    # the same inputs give the same tables (seeded bootstrap and permutations)
    again = analyze(_context(tmp_path / "again", write_inferences=False))
    for name in OUTPUTS:
        assert out[name].equals(again[name]), name


def test_unknown_metric_names_the_config_key(tmp_path: Path) -> None:
    ctx = _context(tmp_path, 'metrics = ["empathy_ER", "nope"]')
    with pytest.raises(CarelensError, match="analysis.metrics.*nope"):
        analyze(ctx)


def test_unknown_analysis_key_is_a_study_error() -> None:
    with pytest.raises(CarelensError, match="analysis.bootstraps"):
        parse_study(STUDY.format(extra="bootstraps = 10"), "x.toml")
