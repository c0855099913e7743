"""A small real Ray cluster on this machine (a head and two worker processes), shared by the tests."""

import os
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


def ray_workers(title: str) -> list[int]:
    """Process ids of this test's Ray workers (descendants of this process) whose title holds ``title``
    (an actor's class or a task's function while it runs)."""
    parents: dict[int, int] = {}
    titles: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return [pid for pid, name in titles.items() if title in name and descends(pid)]
