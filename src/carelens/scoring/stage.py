"""The score stage: every response with status ok, scored by every configured scorer.

Each response is paired with the text its responder saw (its variant's text, so a reply to a cued
post is scored against the cued post). Responses that were refused, filtered or failed are not
scored; they stay in the responses table with their status, and the counts go into the manifest
notes. Scorers are built once and fed batches; the pure-Python scorers (``parallel = True``) are
spread over ``workers`` processes, the model-based ones use torch's threads.
"""

import time
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.ids import original_variant_id
from carelens.llm.settings import ClientConfig
from carelens.progress import console, progress_bar
from carelens.scoring.base import (
    Pair,
    Scorer,
    create_scorer,
    evidence_column,
    output_columns,
    run_scorer,
    scorer_params,
)
from carelens.scoring.empathy import EmpathyScorer
from carelens.scoring.hf import ScorerUnavailable
from carelens.scoring.settings import ScoringConfig
from carelens.store import Table
from carelens.study import StageContext
from carelens.tables import empty_table


def post_texts(responses: pd.DataFrame, variants: pd.DataFrame, posts: pd.DataFrame) -> pd.Series:
    """The post text each response answered, by joining its variant_id to the variants table.

    A response to the original (uncued) variant of a post whose variant row is absent falls back to
    the post's own text, which is the same text; any other unknown variant is an error.
    """
    by_variant = variants.drop_duplicates("variant_id").set_index("variant_id")["text"]
    by_post = posts.drop_duplicates("post_id").set_index("post_id")["text"]
    texts = responses["variant_id"].map(by_variant)
    missing = texts.isna()
    if missing.any():
        original = responses["variant_id"] == responses["post_id"].map(original_variant_id)
        texts[missing & original] = responses.loc[missing & original, "post_id"].map(by_post)
    unresolved = responses.loc[texts.isna(), "variant_id"]
    if len(unresolved):
        raise CarelensError(
            f"{len(unresolved)} ok response(s) answer variants with no text, e.g. "
            f"{sorted(unresolved.astype(str).unique())[:3]}",
            where="tables/variants.parquet",
        )
    return texts.astype(str)


@cache
def _worker_scorer(name: str, config_json: str) -> Scorer:
    return create_scorer(name, ScoringConfig.model_validate_json(config_json))


def _score_chunk(name: str, config_json: str, pairs: list[Pair]) -> pd.DataFrame:
    return run_scorer(_worker_scorer(name, config_json), pairs)


def _chunks(pairs: Sequence[Pair], size: int) -> list[list[Pair]]:
    return [list(pairs[i : i + size]) for i in range(0, len(pairs), size)]


def score_pairs(
    scorer: Scorer, registered: str, pairs: Sequence[Pair], config: ScoringConfig, advance: Any
) -> pd.DataFrame:
    """All pairs through one scorer in batches; pure-Python scorers across worker processes."""
    chunks = _chunks(pairs, config.batch_size)
    if getattr(scorer, "parallel", False) and config.workers > 1 and len(chunks) > 1:
        from joblib import Parallel, delayed

        config_json = config.model_dump_json()
        frames = []
        parallel = Parallel(n_jobs=config.workers, backend="loky", return_as="generator")
        for chunk, frame in zip(
            chunks, parallel(delayed(_score_chunk)(registered, config_json, c) for c in chunks), strict=True
        ):
            frames.append(frame)
            advance(len(chunk))
    else:
        frames = []
        for chunk in chunks:
            frames.append(run_scorer(scorer, chunk))
            advance(len(chunk))
    if not frames:
        return run_scorer(scorer, [])
    return pd.concat(frames, ignore_index=True)[output_columns(scorer.metrics)]


def to_long(response_ids: Sequence[str], scorer_name: str, wide: pd.DataFrame) -> pd.DataFrame:
    """Scores in the table's long form with their evidence; NaN (does not apply) values are left out."""
    metrics = [c for c in wide.columns if not c.startswith("evidence:")]
    ids = list(response_ids)
    long = (
        pd.concat(
            [
                pd.DataFrame(
                    {
                        "response_id": ids,
                        "metric": m,
                        "value": wide[m].to_numpy(dtype=float),
                        "evidence": wide[evidence_column(m)].astype(str).to_numpy()
                        if evidence_column(m) in wide
                        else "",
                    }
                )
                for m in metrics
            ],
            ignore_index=True,
        )
        if metrics
        else empty_table("scores")
    )
    long = long[np.isfinite(long["value"].to_numpy(dtype=float))]
    return long.assign(scorer=scorer_name)[["response_id", "scorer", "metric", "value", "evidence"]]


def in_table_order(
    scores: pd.DataFrame, replies: pd.Index, order: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Scores ordered reply by reply as ``replies`` (``get_indexer``: each id's position) lists them,
    then by scorer and metric as ``order`` lists them (the order both engines write)."""
    scorer_rank = {name: i for i, name in enumerate(order)}
    metric_rank = {(s, m): i for s, metrics in order.items() for i, m in enumerate(metrics)}
    reply = replies.get_indexer(scores["response_id"].astype(str))
    scorer = scores["scorer"].map(scorer_rank).to_numpy(dtype=int)
    metric = [metric_rank[key] for key in zip(scores["scorer"], scores["metric"], strict=True)]
    return scores.iloc[np.lexsort((np.asarray(metric, dtype=int), scorer, reply))].reset_index(drop=True)


def build_scorers(
    config: ScoringConfig, notes: dict[str, Any], generation: ClientConfig | None = None
) -> list[tuple[str, Scorer]]:
    """The configured scorers, each built once; unavailable ones skipped (or an error) as configured.

    A scorer whose ``from_config`` takes ``generation`` (the judge) gets the study's generation
    settings (providers, limits, cache).
    """
    built: list[tuple[str, Scorer]] = []
    for name in config.scorers:
        try:
            built.append((name, create_scorer(name, config, generation=generation)))
        except ScorerUnavailable as exc:
            if config.on_unavailable == "error":
                raise
            console.print(f"[yellow]scorer '{name}' skipped: {exc}[/yellow]")
            notes.setdefault("skipped_scorers", {})[name] = str(exc)
    return built


def record_scorers(ctx: StageContext, scorers: list[tuple[str, Scorer]]) -> dict[str, tuple[str, ...]]:
    """Record the built scorers in the manifest notes (names, parameters, the empathy model and its
    card as a file the stage depends on) and return each scorer's metrics in table order."""
    ctx.notes["scorers"] = {registered: scorer.name for registered, scorer in scorers}
    ctx.notes["scorer_params"] = {registered: scorer_params(scorer) for registered, scorer in scorers}
    for _, scorer in scorers:
        if isinstance(scorer, EmpathyScorer):
            ctx.depends_on(scorer.card_path)  # a retrained model re-scores the run
            ctx.notes["empathy"] = {
                "variant": scorer.card["variant"],
                "model": scorer.name,
                "model_card": str(scorer.card_path),
            }
    return {scorer.name: tuple(scorer.metrics) for _, scorer in scorers}


def score(ctx: StageContext) -> dict[str, Table]:
    """Fill the scores table for every ok response of the run."""
    # [execution] engine = "ray": the stage runs on a Ray cluster (carelens.execution.scoring)
    if ctx.source.study.execution.engine == "ray":
        from carelens.execution.scoring import score_on_ray

        return score_on_ray(ctx)
    # end of the engine hook
    config = ctx.study.scoring
    if config.empathy_model:
        config = config.model_copy(update={"empathy_model": str(ctx.loaded.resolve(config.empathy_model))})
    responses = ctx.table("responses")
    ok = responses[responses["status"] == "ok"].reset_index(drop=True)
    ctx.notes["responses_scored"] = int(len(ok))
    ctx.notes["responses_not_scored"] = {
        str(k): int(v) for k, v in responses.loc[responses["status"] != "ok", "status"].value_counts().items()
    }
    ok_ids = pd.Index(ok["response_id"].astype(str))
    if ok.empty:
        return {"scores": recorded_scores(ctx, ok_ids)}
    prompts = post_texts(ok, ctx.table("variants"), ctx.table("posts"))
    pairs = list(zip(prompts, ok["text"].fillna("").astype(str), strict=True))
    generation = ctx.study.generation
    if generation.cache:
        generation = generation.model_copy(update={"cache": str(ctx.loaded.resolve(generation.cache))})
    scorers = build_scorers(config, ctx.notes, generation)
    frames, seconds = [], {}
    with progress_bar() as bar:
        for registered, scorer in scorers:
            task = bar.add_task(f"scoring: {scorer.name}", total=len(pairs))
            clock = time.perf_counter()
            wide = score_pairs(scorer, registered, pairs, config, lambda k, t=task: bar.advance(t, k))
            seconds[scorer.name] = round(time.perf_counter() - clock, 2)
            frames.append(to_long(ok["response_id"].tolist(), scorer.name, wide))
            if getattr(scorer, "notes", None):
                ctx.notes[f"{registered}_outcomes"] = scorer.notes  # type: ignore[attr-defined]
    order = record_scorers(ctx, scorers)
    ctx.notes["scoring_seconds"] = seconds
    scored = pd.concat(frames, ignore_index=True) if frames else empty_table("scores")
    scored = in_table_order(scored, ok_ids, order)
    return {"scores": pd.concat([scored, recorded_scores(ctx, ok_ids)], ignore_index=True)}


def recorded_scores(ctx: StageContext, ok_ids: Any) -> pd.DataFrame:
    """The scores the data stage read from the study's files (``collected_scores``) for ok responses
    (``ok_ids``: anything that finds an id's position, -1 for none, with ``get_indexer``)."""
    if not ctx.run.has_table("collected_scores"):
        return empty_table("scores")
    recorded = ctx.table("collected_scores")
    kept = recorded[ok_ids.get_indexer(recorded["response_id"].astype(str)) >= 0]
    ctx.notes["recorded_scores"] = {
        "copied": int(len(kept)),
        "of_responses_not_ok": int(len(recorded) - len(kept)),
    }
    return kept[["response_id", "scorer", "metric", "value", "evidence"]]
