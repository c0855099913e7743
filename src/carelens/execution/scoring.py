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
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carelens.errors import CarelensError
from carelens.execution.cluster import ray_cluster
from carelens.execution.settings import ExecutionConfig
from carelens.scoring.base import create_scorer, run_scorer, scorer_params
from carelens.scoring.empathy import EmpathyScorer
from carelens.scoring.settings import ScoringConfig
from carelens.scoring.stage import build_scorers, in_table_order, post_texts, recorded_scores, to_long
from carelens.store import Table, TableWriter, atomic_path
from carelens.study import StageContext

STAGING = ".scores-ray"
READ_COLUMNS = ["response_id", "variant_id", "post_id", "text", "status"]


def batch_id(response_ids: pd.Series) -> str:
    """A batch's id: a hash of its response ids, the same every time the batch is redone."""
    digest = hashlib.sha256("\x1f".join(response_ids.astype(str)).encode()).hexdigest()
    return digest[:24]


class ScoreBatch:
    """A scoring actor: every scorer built once; each call scores one batch and writes its file."""

    def __init__(self, names: list[str], config_json: str, texts: Any, staging: str) -> None:
        import ray

        config = ScoringConfig.model_validate_json(config_json)
        self.scorers = [create_scorer(name, config) for name in names]
        self.variants, self.posts = ray.get(texts[0])
        self.staging = Path(staging)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        ok = batch[batch["status"] == "ok"].reset_index(drop=True)
        if ok.empty:
            return pd.DataFrame(
                {"response_id": pd.Series([], dtype=str), "batch_id": pd.Series([], dtype=str)}
            )
        ident = batch_id(ok["response_id"])
        prompts = post_texts(ok, self.variants, self.posts)
        pairs = list(zip(prompts, ok["text"].fillna("").astype(str), strict=True))
        ids = ok["response_id"].astype(str).tolist()
        frames = [to_long(ids, scorer.name, run_scorer(scorer, pairs)) for scorer in self.scorers]
        scores = pd.concat(frames, ignore_index=True).astype(
            {"response_id": str, "scorer": str, "metric": str, "evidence": str}
        )
        with atomic_path(self.staging / f"{ident}.parquet") as tmp:
            scores.to_parquet(tmp, index=False)
        return pd.DataFrame({"response_id": ids, "batch_id": ident})


def _ok_ids(path: Path) -> tuple[pd.Index, dict[str, int]]:
    """The ok replies' ids in table order and the count of every other status (ids and status only)."""
    table = pq.read_table(path, columns=["response_id", "status"])
    ok = pc.equal(table["status"], "ok").fill_null(False)
    counts = pc.value_counts(table.filter(pc.invert(ok))["status"].fill_null("<NA>")).to_pylist()
    ids = pd.Index(table.filter(ok)["response_id"].to_numpy(zero_copy_only=False).astype(str))
    return ids, {str(c["values"]): int(c["counts"]) for c in counts}


def _write_staged(
    writer: TableWriter,
    staging: Path,
    batches: dict[str, int],
    order: dict[str, tuple[str, ...]],
    ok_ids: pd.Index,
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
    if "judge" in config.scorers:
        raise CarelensError(
            "the judge scorer runs on the local engine only; score it in a study with "
            '[execution] engine = "local"',
            where="execution.engine",
        )
    path = ctx.run.table_path("responses")
    if not path.exists():
        ctx.table("responses")  # raises the run's own missing-table error
    ok_ids, others = _ok_ids(path)
    ctx.notes["responses_scored"] = int(len(ok_ids))
    ctx.notes["responses_not_scored"] = dict(sorted(others.items(), key=lambda kv: -kv[1]))
    if ok_ids.empty:
        return {"scores": recorded_scores(ctx, pd.DataFrame({"response_id": ok_ids}))}
    variants = ctx.table("variants")[["variant_id", "post_id", "text"]]
    posts = ctx.table("posts")[["post_id", "text"]]
    scorers = build_scorers(config, ctx.notes)
    order = {scorer.name: tuple(scorer.metrics) for _, scorer in scorers}
    ctx.notes["scorers"] = {registered: scorer.name for registered, scorer in scorers}
    ctx.notes["scorer_params"] = {registered: scorer_params(scorer) for registered, scorer in scorers}
    for _, scorer in scorers:
        if isinstance(scorer, EmpathyScorer):
            ctx.notes["empathy"] = {
                "variant": scorer.card["variant"],
                "model": scorer.name,
                "model_card": str(scorer.card_path),
            }
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
        for batch in scored.iter_batches(batch_format="pandas", batch_size=65_536):
            found = ok_ids.get_indexer(batch["response_id"].astype(str))
            if (found < 0).any():
                raise RuntimeError("the Ray cluster scored replies that are not ok replies of this run")
            seen[found] = True
            for ident, lowest in pd.Series(found).groupby(batch["batch_id"].to_numpy()).min().items():
                first[str(ident)] = min(int(lowest), first.get(str(ident), int(lowest)))
        ctx.notes["engine"]["cluster_start_seconds"] = round(started - clock, 2)
        ctx.notes["engine"]["scoring_seconds"] = round(time.perf_counter() - started, 2)
    if not seen.all():
        raise RuntimeError(f"{int((~seen).sum())} ok replies came back unscored from the Ray cluster")
    with ctx.run.table_writer("scores") as writer:
        _write_staged(writer, staging, first, order, ok_ids)
        writer.write(recorded_scores(ctx, pd.DataFrame({"response_id": ok_ids})))
    shutil.rmtree(staging, ignore_errors=True)
    assert writer.table is not None  # set when the writer's block ends
    return {"scores": writer.table}
