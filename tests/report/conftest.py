"""A small analysed run (synthetic tables, real analysis) that the report tests render."""

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from carelens.analysis.stage import analyze
from carelens.analysis.synthetic import Synthetic, tables
from carelens.config import LoadedStudy, parse_study
from carelens.store import RunDir
from carelens.study import StageContext

STUDY = """
[study]
name = "report-test"
description = "A synthetic run for the report tests."
[[data]]
dataset = "mh-eval-reddit"
[generation]
responders = ["peer", "{responder}"]
conditions = ["mental_health_forum", "clinician"]
[demographics]
design = "counterfactual"
races = ["black", "white"]
[analysis]
bootstrap = 200
[report]
examples_per_group = 1
"""

RunFactory = Callable[..., StageContext]


@pytest.fixture
def analysed_run(tmp_path: Path) -> RunFactory:
    """Build and analyse a run; ``texts`` replaces every reply's text, ``inferences`` adds probe readings."""

    def build(
        responder: str = "local:smollm2-135m",
        texts: str | None = None,
        inferences: bool = False,
        meta: dict[str, object] | None = None,
    ) -> StageContext:
        text = STUDY.replace("{responder}", responder)
        loaded = LoadedStudy(parse_study(text, "report-test.toml"), tmp_path / "report-test.toml", text)
        run = RunDir(tmp_path / "run")
        spec = Synthetic(
            posts=16,
            groups=("black", "white"),
            gaps={"black": -0.3},
            conditions=("mental_health_forum", "clinician"),
            responders=(responder,),
            peer_replies=2,
            metrics=("empathy_ER", "empathy_EX", "words"),
            refusal={"black": 0.1},
            seed=4,
        )
        t = tables(spec)
        if texts is not None:
            t["responses"]["text"] = texts
        if meta is not None:
            t["responses"]["meta"] = json.dumps(meta)
        if inferences:
            variants = t["variants"]
            t["inferences"] = pd.DataFrame(
                {
                    "variant_id": variants["variant_id"],
                    "model": "probe",
                    "race": variants["race"],
                    "gender": None,
                    "age": None,
                    "explanation": "",
                    "raw": "",
                    "status": ["ok" if r else "no_prediction" for r in variants["race"].notna()],
                }
            )
        for name, frame in t.items():
            run.write_table(name, frame)
        ctx = StageContext(loaded, run)
        run.write_table("findings", analyze(ctx)["findings"])
        run.write_manifest(
            {
                "study": {"name": "report-test", "sha256": loaded.sha256},
                "versions": {"python": "3.11"},
                "stages": {
                    "analyze": {
                        "status": "done",
                        "seconds": 1.0,
                        "notes": ctx.notes,
                        "rows": {"findings": 1},
                    },
                    "score": {
                        "status": "done",
                        "notes": {"empathy_variant": "fast", "empathy_model": "card-123"},
                    },
                },
            }
        )
        return StageContext(loaded, run)

    return build
