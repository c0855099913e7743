"""A whole study through the runner on both engines: the same tables, and switching the engine re-runs
nothing."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from carelens.config import load_study
from carelens.study import run_study

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("CARELENS_DATA_MIRROR"), reason="needs CARELENS_DATA_MIRROR"),
]

STUDY = """
[study]
name = "engines"
seed = 3
output = "run-{engine}"

[[data]]
dataset = "mh-eval-gpt4"
posts = 16

[demographics]
design = "none"

[generation]
responders = ["recorded:gpt-4", "peer"]
conditions = ["mental_health_forum"]

[scoring]
scorers = ["text", "sentiment", "safety"]

[analysis]
group_by = "paper_race"
reference = "white"
bootstrap = 200

[execution]
engine = "{engine}"
num_workers = 2
batch_size = 16
"""


def _run(folder: Path, engine: str) -> Path:
    path = folder / f"{engine}.toml"
    path.write_text(STUDY.format(engine=engine), encoding="utf-8")
    return run_study(load_study(path), until="analyze").path


def test_a_study_on_ray_writes_the_local_engines_tables(tmp_path, ray_local):
    local, on_ray = _run(tmp_path, "local"), _run(tmp_path, "ray")
    tables = sorted(p.name for p in (local / "tables").glob("*.parquet"))
    assert "scores.parquet" in tables and tables == sorted(p.name for p in (on_ray / "tables").iterdir())
    for name in tables:
        pd.testing.assert_frame_equal(
            pd.read_parquet(local / "tables" / name), pd.read_parquet(on_ray / "tables" / name)
        )
    stages = [json.loads((run / "manifest.json").read_text())["stages"] for run in (local, on_ray)]
    assert stages[0]["score"]["table_hashes"] == stages[1]["score"]["table_hashes"]
    assert stages[1]["score"]["notes"]["engine"]["engine"] == "ray"

    # the engine is not a result: the same study on the other engine finds every stage up to date
    path = tmp_path / "ray.toml"
    path.write_text(STUDY.format(engine="local").replace('output = "run-local"', 'output = "run-ray"'))
    run_study(load_study(path), until="analyze")
    again = json.loads((on_ray / "manifest.json").read_text())["stages"]
    assert {entry["status"] for entry in again.values()} == {"skipped"}
