"""The score stage on Ray Data: replies stream from Parquet through a pool of scoring actors.

Each actor builds every scorer once (so a model loads once per worker) and scores batches of
replies read straight from ``tables/responses.parquet``; it writes each batch's scores atomically to
``tables/.scores-ray/<batch id>.parquet``, the batch id being a hash of the batch's response ids. A
batch redone after a lost worker therefore replaces its own file. The driver checks that every ok
reply was scored, then streams the batch files into the scores table one at a time, in the local
engine's order, each (response_id, scorer, metric) once. The driver holds the response ids, the
variants' and posts' texts and one batch of scores, never the replies or the whole scores table.
"""

import hashlib
import json
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carelens.errors import CarelensError
from carelens.execution.cluster import ray_cluster
from carelens.execution.settings import ExecutionConfig
from carelens.scoring.base import create_scorer, run_scorer
from carelens.scoring.settings import ScoringConfig
from carelens.scoring.stage import (
    build_scorers,
    in_table_order,
    post_texts,
    record_scorers,
    recorded_scores,
    to_long,
)
from carelens.store import Table, TableWriter, atomic_path
from carelens.study import StageContext

STAGING = ".scores-ray"
READ_COLUMNS = ["response_id", "variant_id", "post_id", "text", "status"]


def batch_id(response_ids: pd.Series) -> str:
    """A batch's id: a hash of its response ids, the same every time the batch is redone."""
    digest = hashlib.sha256("\x1f".join(response_ids.astype(str)).encode()).hexdigest()
    return digest[:24]


def notes_since(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """What a scorer's notes gained since ``before``: counts as differences, anything else as it is."""
    gained = {}
    for key, value in now.items():
        if isinstance(value, int) and not isinstance(value, bool):
            if value != before.get(key, 0):
                gained[key] = value - before.get(key, 0)
        else:
            gained[key] = value
    return gained


def merge_notes(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A scorer's notes over batches: counts added up, anything else (e.g. a model's name) kept."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            counted = isinstance(value, int) and not isinstance(value, bool) and key in merged
            merged[key] = merged[key] + value if counted else value
    return merged


class ScoreBatch:
    """A scoring actor: every scorer built once; each call scores one batch and writes its file.

    It returns the batch's response ids with the batch id, and on the first row the notes its
    scorers gathered on this batch as JSON.
    """

    def __init__(self, names: list[str], config_json: str, texts: Any, staging: str) -> None:
        import ray

        config = ScoringConfig.model_validate_json(config_json)
        self.names = names
        self.scorers = [create_scorer(name, config) for name in names]
        self.variants, self.posts = ray.get(texts[0])
        self.staging = Path(staging)

    def _notes(self) -> dict[str, dict[str, Any]]:
        return {
            n: dict(getattr(s, "notes", None) or {}) for n, s in zip(self.names, self.scorers, strict=True)
        }

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        ok = batch[batch["status"] == "ok"].reset_index(drop=True)
        if ok.empty:
            return pd.DataFrame({c: pd.Series([], dtype=str) for c in ("response_id", "batch_id", "notes")})
        ident = batch_id(ok["response_id"])
        before = self._notes()
        prompts = post_texts(ok, self.variants, self.posts)
        pairs = list(zip(prompts, ok["text"].fillna("").astype(str), strict=True))
        ids = ok["response_id"].astype(str).tolist()
        frames = [to_long(ids, scorer.name, run_scorer(scorer, pairs)) for scorer in self.scorers]
        scores = pd.concat(frames, ignore_index=True).astype(
            {"response_id": str, "scorer": str, "metric": str, "evidence": str}
        )
        with atomic_path(self.staging / f"{ident}.parquet") as tmp:
            scores.to_parquet(tmp, index=False)
        gathered = {name: notes_since(before[name], now) for name, now in self._notes().items() if now}
        notes = [json.dumps(gathered, sort_keys=True)] + [""] * (len(ids) - 1)
        return pd.DataFrame({"response_id": ids, "batch_id": ident, "notes": notes})


def hashed_ids(ids: Any) -> np.ndarray:
    """64-bit hashes of response ids (pandas' fixed-key SipHash: the same in every process)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object))


class ReplyPositions:
    """The ok replies' positions in the responses table, found by id, kept as 64-bit hashes of the ids
    (8 bytes a reply instead of a Python string each), so the driver stays small at any size."""

    def __init__(self, hashes: np.ndarray) -> None:
        self._order = np.argsort(hashes, kind="stable")
        self._sorted = hashes[self._order]
        if len(hashes) and (np.diff(self._sorted) == 0).any():
            raise CarelensError(
                "the responses table repeats a response_id among its ok replies",
                where="tables/responses.parquet",
            )

    def __len__(self) -> int:
        return len(self._sorted)

    def get_indexer(self, ids: Any) -> np.ndarray:
        """Each id's position among the ok replies, -1 where it is not one."""
        hashes = hashed_ids(ids)
        at = np.minimum(np.searchsorted(self._sorted, hashes), max(len(self._sorted) - 1, 0))
        found = (self._sorted[at] == hashes) if len(self._sorted) else np.zeros(len(hashes), dtype=bool)
        return np.where(found, self._order[at] if len(self._sorted) else -1, -1)


def _ok_replies(path: Path) -> tuple[ReplyPositions, dict[str, int]]:
    """The ok replies' positions and the count of every other status, read in chunks (ids and status)."""
    hashes: list[np.ndarray] = []
    others: Counter[str] = Counter()
    for chunk in pq.ParquetFile(path).iter_batches(batch_size=65_536, columns=["response_id", "status"]):
        status = chunk.column("status")
        ok = pc.equal(status, "ok").fill_null(False)
        hashes.append(hashed_ids(chunk.column("response_id").filter(ok).to_pylist()))
        others.update(status.filter(pc.invert(ok)).fill_null("<NA>").to_pylist())
    return ReplyPositions(np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)), dict(others)


def _write_staged(
    writer: TableWriter,
    staging: Path,
    batches: dict[str, int],
    order: dict[str, tuple[str, ...]],
    ok_ids: ReplyPositions,
) -> None:
    """The batches' scores into the table, batch by batch in reply order, each batch in table order.

    ``batches`` maps each batch that came back to its first reply's position; files of attempts that
    never came back are left out, and a score already written (a batch redone with other bounds) is
    written once.
    """
    column = {key: i for i, key in enumerate((s, m) for s, metrics in order.items() for m in metrics)}
    written = np.zeros((len(ok_ids), len(column)), dtype=bool)
    for ident in sorted(batches, key=batches.__getitem__):
        scores = in_table_order(pd.read_parquet(staging / f"{ident}.parquet"), ok_ids, order)
        reply = ok_ids.get_indexer(scores["response_id"].astype(str))
        metric = np.array(
            [column[key] for key in zip(scores["scorer"], scores["metric"], strict=True)], dtype=int
        )
        fresh = ~written[reply, metric]
        written[reply, metric] = True
        writer.write(scores[fresh])


def score_on_ray(ctx: StageContext) -> dict[str, Table]:
    """The score stage's tables, computed on a Ray cluster; the same tables as the local engine."""
    config = ctx.study.scoring
    execution: ExecutionConfig = ctx.source.study.execution  # the engine is not a result: not recorded
    if config.empathy_model:
        config = config.model_copy(update={"empathy_model": str(ctx.loaded.resolve(config.empathy_model))})
    path = ctx.run.table_path("responses")
    if not path.exists():
        ctx.table("responses")  # raises the run's own missing-table error
    ok_ids, others = _ok_replies(path)
    ctx.notes["responses_scored"] = int(len(ok_ids))
    ctx.notes["responses_not_scored"] = dict(sorted(others.items(), key=lambda kv: -kv[1]))
    if not len(ok_ids):
        return {"scores": recorded_scores(ctx, ok_ids)}
    variants = ctx.table("variants")[["variant_id", "post_id", "text"]]
    posts = ctx.table("posts")[["post_id", "text"]]
    if "judge" in config.scorers:
        # Identical (post, reply) pairs in batches on different workers could each be sent to the
        # judge: it stays where every request is paid for once.
        raise CarelensError(
            "the judge scorer runs on the local engine only; score it in a study with "
            '[execution] engine = "local"',
            where="execution.engine",
        )
    scorers = build_scorers(config, ctx.notes)
    order = record_scorers(ctx, scorers)
    names = [registered for registered, _ in scorers]
    ctx.notes["engine"] = {
        "engine": "ray",
        "workers": execution.num_workers,
        "batch_size": execution.batch_size,
    }
    del scorers
    staging = ctx.run.path / "tables" / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    clock = time.perf_counter()
    with ray_cluster(execution) as ray:
        started = time.perf_counter()
        # batches keep the responses table's order, so the table is written in the local engine's order
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        texts = ray.put((variants, posts))
        replies = ray.data.read_parquet(str(path), columns=READ_COLUMNS)
        # Ray restarts a lost actor and retries its batches (max_restarts = max_task_retries = -1).
        scored = replies.repartition(target_num_rows_per_block=execution.batch_size).map_batches(
            ScoreBatch,
            fn_constructor_args=(names, config.model_dump_json(), [texts], str(staging)),
            batch_size=execution.batch_size,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=execution.num_workers),
            num_cpus=execution.num_cpus_per_worker,
        )
        seen = np.zeros(len(ok_ids), dtype=bool)
        first: dict[str, int] = {}  # batch id -> position of its first reply
        batch_notes: dict[str, dict[str, dict[str, Any]]] = {}  # batch id -> its scorers' notes
        for batch in scored.iter_batches(batch_format="pandas", batch_size=65_536):
            found = ok_ids.get_indexer(batch["response_id"].astype(str))
            if (found < 0).any():
                raise RuntimeError("the Ray cluster scored replies that are not ok replies of this run")
            seen[found] = True
            for ident, lowest in pd.Series(found).groupby(batch["batch_id"].to_numpy()).min().items():
                first[str(ident)] = min(int(lowest), first.get(str(ident), int(lowest)))
            for ident, notes in batch.loc[batch["notes"] != "", ["batch_id", "notes"]].itertuples(
                index=False
            ):
                batch_notes.setdefault(str(ident), json.loads(notes))
        ctx.notes["engine"]["cluster_start_seconds"] = round(started - clock, 2)
        ctx.notes["engine"]["scoring_seconds"] = round(time.perf_counter() - started, 2)
    if not seen.all():
        raise RuntimeError(f"{int((~seen).sum())} ok replies came back unscored from the Ray cluster")
    for registered in names:
        parts = [notes[registered] for notes in batch_notes.values() if registered in notes]
        if parts:
            ctx.notes[f"{registered}_outcomes"] = merge_notes(parts)
    with ctx.run.table_writer("scores") as writer:
        _write_staged(writer, staging, first, order, ok_ids)
        writer.write(recorded_scores(ctx, ok_ids))
    shutil.rmtree(staging, ignore_errors=True)
    assert writer.table is not None  # set when the writer's block ends
    return {"scores": writer.table}
