"""A small real Ray cluster on this machine (a head and two worker processes), shared by the tests."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carelens.config import LoadedStudy, parse_study
from carelens.store import RunDir
from carelens.study import StageContext

ray = pytest.importorskip("ray")

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """Ray with 3 CPUs (2 scoring actors and a reader), ~200 MB of shared memory and no dashboard."""
    ray.init(
        num_cpus=3,
        object_store_memory=200 * 1024 * 1024,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": SRC}},
    )
    yield ray
    ray.shutdown()


def study_context(folder: Path, tables: dict[str, Any], body: str) -> StageContext:
    """A stage context for a study whose run directory already holds ``tables``."""
    text = f'[study]\nname = "scale"\noutput = "run"\n\n[[data]]\nfile = "posts.tsv"\n\n{body}'
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    loaded = LoadedStudy(parse_study(text, str(path)), path, text)
    run = RunDir(loaded.output_dir)
    for name, frame in tables.items():
        run.write_table(name, frame)
    return StageContext(loaded, run)
