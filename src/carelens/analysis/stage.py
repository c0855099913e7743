"""The analyze stage: the run's responses and scores -> assignments, descriptives, comparisons, models,
verdicts, and the crisis and manipulation tables (the analysis plan goes into the manifest notes)."""

import time

import pandas as pd

from carelens.analysis import groups
from carelens.analysis.results import analyse
from carelens.errors import CarelensError
from carelens.progress import console
from carelens.study import StageContext
from carelens.tables import empty_table

OUTPUTS = ("assignments", "descriptives", "comparisons", "models", "verdicts", "crisis", "manipulation")


def _table(ctx: StageContext, name: str) -> pd.DataFrame:
    """An earlier table, or an empty one where its stage wrote none (e.g. no probe ran)."""
    try:
        return ctx.table(name)
    except CarelensError:
        if name in ("inferences", "scores"):
            return empty_table(name)
        raise


def analyze(ctx: StageContext) -> dict[str, pd.DataFrame]:
    """Compare groups, conditions and responders; correct, size and judge them (see ``results``)."""
    config = ctx.study.analysis
    seed = config.seed if config.seed is not None else ctx.study.study.seed
    started = time.perf_counter()
    variants, inferences = _table(ctx, "variants"), _table(ctx, "inferences")
    responses, scores = _table(ctx, "responses"), _table(ctx, "scores")
    data = groups.build(responses, variants, inferences, scores, ctx.study.demographics, config, seed)
    if config.metrics is not None:
        unknown = sorted(set(config.metrics) - set(data.metrics()))
        if unknown:
            raise CarelensError(
                f"metrics {unknown} were not scored in this run; scored: {data.metrics()}",
                where="analysis.metrics",
            )
    console.print(
        f"analysing {len(data.observations)} scores of {data.observations['response_id'].nunique()} "
        f"responses ({data.design} design, groups from {data.group_source})",
        markup=False,
    )
    tables, plan = analyse(
        data, config, seed, list(ctx.study.generation.conditions), variants, inferences, scores
    )
    ctx.notes.update(
        {
            "plan": plan,
            "comparisons": {str(k): int(v) for k, v in tables["comparisons"]["kind"].value_counts().items()},
            "verdicts": {str(k): int(v) for k, v in tables["verdicts"]["verdict"].value_counts().items()},
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return tables
