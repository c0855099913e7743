"""The score stage on a real local Ray cluster: the same tables as the local engine, and a worker
killed mid-stage loses and duplicates nothing."""

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from carelens.execution.scoring import STAGING
from carelens.execution.synthetic import synthetic_tables
from carelens.scoring.stage import score

from .conftest import study_context

pytestmark = pytest.mark.slow

RAY = '[execution]\nengine = "ray"\nbatch_size = {batch}\n'


def _scores(ctx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The stage's scores table as the runner writes it (the Ray engine streams it to a file)."""
    ctx.notes["table_hash"] = ctx.run.write_table("scores", score(ctx)["scores"])
    return ctx.run.read_table("scores")


def test_ray_engine_writes_the_local_engines_scores_table(tmp_path, ray_local):
    tables = synthetic_tables(400, posts=30, seed=3)
    scoring = '[scoring]\nscorers = ["text", "safety", "sentiment"]\n'
    local_ctx = study_context(tmp_path / "local", tables, scoring)
    ray_ctx = study_context(tmp_path / "ray", tables, scoring + RAY.format(batch=50))
    local, on_ray = _scores(local_ctx), _scores(ray_ctx)
    assert len(on_ray) > 4 * 300 and set(on_ray["scorer"]) == {"text", "safety", "sentiment"}
    pd.testing.assert_frame_equal(local, on_ray)  # every scorer here is deterministic: exact
    assert ray_ctx.notes["table_hash"] == local_ctx.notes["table_hash"]  # later stages stay up to date
    for key in ("responses_scored", "responses_not_scored", "scorers"):
        assert ray_ctx.notes[key] == local_ctx.notes[key]
    assert ray_ctx.notes["engine"]["engine"] == "ray"
    assert "execution" not in ray_ctx.reads  # switching the engine does not re-run the stage
    assert not (ray_ctx.run.path / "tables" / STAGING).exists()


def _score_workers() -> list[int]:
    """Process ids of this test's Ray scoring actors (descendants of this process)."""
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

    return [pid for pid, title in titles.items() if "ScoreBatch" in title and descends(pid)]


def test_a_worker_killed_mid_stage_loses_and_duplicates_nothing(tmp_path, ray_local):
    tables = synthetic_tables(3000, posts=40, seed=5)
    scoring = '[scoring]\nscorers = ["text"]\n'
    ctx = study_context(tmp_path / "ray", tables, scoring + RAY.format(batch=50))
    staging = ctx.run.path / "tables" / STAGING
    killed: list[int] = []

    def kill_one_worker_once_batches_are_written() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            workers = _score_workers()
            if workers and staging.exists() and len(list(staging.glob("*.parquet"))) >= 3:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_once_batches_are_written)
    killer.start()
    on_ray = _scores(ctx)
    killer.join()
    assert killed, "no scoring worker was found to kill"
    local = _scores(study_context(tmp_path / "local", tables, scoring))
    pd.testing.assert_frame_equal(local, on_ray)
    assert not on_ray.duplicated(["response_id", "scorer", "metric"]).any()
    assert on_ray["response_id"].nunique() == ctx.notes["responses_scored"]
