"""The score stage on a real local Ray cluster: the same tables as the local engine, and a worker
killed mid-stage loses and duplicates nothing."""

import os
import signal
import threading
import time

import pandas as pd
import pytest

from carelens.errors import CarelensError
from carelens.execution.scoring import STAGING, ReplyPositions, hashed_ids, merge_notes, notes_since
from carelens.execution.synthetic import synthetic_tables
from carelens.scoring.stage import score

from .conftest import ray_workers, study_context

pytestmark = pytest.mark.slow

RAY = '[execution]\nengine = "ray"\nbatch_size = {batch}\n'


def _scores(ctx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The stage's scores table as the runner writes it (the Ray engine streams it to a file)."""
    ctx.notes["table_hash"] = ctx.run.write_table("scores", score(ctx)["scores"])
    return ctx.run.read_table("scores")


def test_ray_engine_writes_the_local_engines_scores_table(tmp_path, ray_local):
    tables = synthetic_tables(400, posts=30, seed=3)
    scoring = '[scoring]\nscorers = ["text", "safety", "sentiment", "mi"]\n'
    local_ctx = study_context(tmp_path / "local", tables, scoring)
    ray_ctx = study_context(tmp_path / "ray", tables, scoring + RAY.format(batch=50))
    local, on_ray = _scores(local_ctx), _scores(ray_ctx)
    assert len(on_ray) > 4 * 300 and set(on_ray["scorer"]) == {"text", "safety", "sentiment", "mi"}
    pd.testing.assert_frame_equal(local, on_ray)  # every scorer here is deterministic: exact
    assert ray_ctx.notes["table_hash"] == local_ctx.notes["table_hash"]  # later stages stay up to date
    outcomes = [key for key in local_ctx.notes if key.endswith("_outcomes")]
    assert "mi_outcomes" in outcomes
    for key in ("responses_scored", "responses_not_scored", "scorers", *outcomes):
        assert ray_ctx.notes[key] == local_ctx.notes[key]
    assert ray_ctx.notes["engine"]["engine"] == "ray"
    assert "execution" not in ray_ctx.reads  # switching the engine does not re-run the stage
    assert not (ray_ctx.run.path / "tables" / STAGING).exists()


def test_a_worker_killed_mid_stage_loses_and_duplicates_nothing(tmp_path, ray_local):
    tables = synthetic_tables(3000, posts=40, seed=5)
    scoring = '[scoring]\nscorers = ["text"]\n'
    ctx = study_context(tmp_path / "ray", tables, scoring + RAY.format(batch=50))
    staging = ctx.run.path / "tables" / STAGING
    killed: list[int] = []
    stage_done = threading.Event()

    def kill_one_worker_once_batches_are_written() -> None:
        # no fixed deadline: on a loaded machine the workers can take long to start
        while not stage_done.is_set() and not killed:
            workers = ray_workers("ScoreBatch")
            if workers and staging.exists() and len(list(staging.glob("*.parquet"))) >= 3:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_once_batches_are_written)
    killer.start()
    try:
        on_ray = _scores(ctx)
    finally:
        stage_done.set()
        killer.join()
    assert killed, "no scoring worker was found to kill"
    local = _scores(study_context(tmp_path / "local", tables, scoring))
    pd.testing.assert_frame_equal(local, on_ray)
    assert not on_ray.duplicated(["response_id", "scorer", "metric"]).any()
    assert on_ray["response_id"].nunique() == ctx.notes["responses_scored"]


def test_scorer_notes_gathered_over_batches_add_up():
    assert merge_notes([{"ok": 3, "model": "m"}, {"ok": 2, "unparsed": 1, "model": "m"}]) == {
        "ok": 5,
        "model": "m",
        "unparsed": 1,
    }
    assert notes_since({"ok": 3, "model": "m"}, {"ok": 5, "unparsed": 1, "model": "m"}) == {
        "ok": 2,
        "unparsed": 1,
        "model": "m",
    }


def test_reply_positions_find_ids_as_a_pandas_index_does_and_refuse_repeated_ids():
    ids = [f"r{i:05d}" for i in range(0, 20_000, 3)]
    asked = [f"r{i:05d}" for i in range(0, 20_010, 2)] + ["", "x"]
    positions = ReplyPositions(hashed_ids(ids))
    assert len(positions) == len(ids)
    assert (positions.get_indexer(asked) == pd.Index(ids).get_indexer(asked)).all()
    assert (ReplyPositions(hashed_ids([])).get_indexer(["r00001"]) == -1).all()
    with pytest.raises(CarelensError, match="repeats a response_id"):
        ReplyPositions(hashed_ids(["a", "b", "a"]))
