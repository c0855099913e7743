"""The report over what the analyze stage really writes (synthetic tables with known gaps)."""

import re
from pathlib import Path

import pandas as pd

from carelens.analysis.stage import analyze
from carelens.analysis.synthetic import Synthetic, tables
from carelens.config import LoadedStudy, parse_study
from carelens.report.stage import report
from carelens.store import RunDir
from carelens.study import StageContext

STUDY = """
[study]
name = "synthetic"
[[data]]
dataset = "mh-eval-reddit"
[generation]
responders = ["local:smollm2-135m", "peer"]
conditions = ["mental_health_forum", "clinician"]
[demographics]
design = "counterfactual"
races = ["black", "white"]
[analysis]
bootstrap = 200
[report]
examples_per_group = 1
"""


def test_report_of_the_analyze_stages_tables(tmp_path: Path) -> None:
    loaded = LoadedStudy(parse_study(STUDY, "synthetic.toml"), tmp_path / "synthetic.toml", STUDY)
    run = RunDir(tmp_path / "run")
    spec = Synthetic(
        posts=16,
        groups=("black", "white"),
        gaps={"black": -0.4},
        conditions=("mental_health_forum", "clinician"),
        responders=("local:smollm2-135m",),
        peer_replies=2,
        metrics=("empathy_ER", "empathy_IP", "empathy_EX"),
        levels=2,
        refusal={"black": 0.1},
        seed=4,
    )
    for name, frame in tables(spec).items():
        run.write_table(name, frame)
    ctx = StageContext(loaded, run)
    for name, frame in analyze(ctx).items():
        run.write_table(name, frame)
    run.write_manifest({"stages": {"analyze": {"status": "done", "notes": ctx.notes}}})
    report(StageContext(loaded, run))
    html = (run.path / "report.html").read_text(encoding="utf-8")
    verdicts, comparisons = run.read_table("verdicts"), run.read_table("comparisons")
    assert len(re.findall(r'<span class="badge v-', html)) == len(verdicts) > 0
    assert len(pd.read_csv(run.path / "comparisons.csv")) == len(comparisons)
    plan = ctx.notes["plan"]
    assert f"The unit of analysis is the {plan['unit']}" in html
    assert str(plan["family_size"]) in html
    assert "ALL" in "".join(plan["derived_metrics"]) and "forest_empathy_all.png" in {
        p.name for p in (run.path / "figures").iterdir()
    }
