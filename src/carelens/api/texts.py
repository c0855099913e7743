"""One scorer over plain texts, without a study or a run directory."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from carelens.errors import CarelensError
from carelens.scoring.base import create_scorer, evidence_column, run_scorer
from carelens.scoring.settings import ScoringConfig

RESPONSE_ONLY = frozenset({"text", "empathy", "offensive", "toxigen", "sentiment", "sentiment-roberta"})
"""Built-in scorers that read the reply only; every other scorer is given the post it answers."""


def _config(scorer: str, options: dict[str, Any]) -> ScoringConfig:
    """``[scoring]`` keys from ``options`` as they are; any other option goes to ``options.<scorer>``."""
    own = {k: v for k, v in options.items() if k not in ScoringConfig.model_fields}
    section = {k: v for k, v in options.items() if k in ScoringConfig.model_fields}
    if own:
        section["options"] = {**section.get("options", {}), scorer: own}
    try:
        return ScoringConfig.model_validate({**section, "scorers": [scorer]})
    except ValidationError as exc:
        problems = "; ".join(
            "scoring." + ".".join(map(str, e["loc"])) + ": " + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise CarelensError(problems) from None


def score_texts(
    scorer: str,
    replies: Sequence[str],
    posts: Sequence[str] | None = None,
    *,
    ids: Sequence[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Score replies with one registered scorer, in the long form of a run's scores table.

    ``posts[i]`` is the post ``replies[i]`` answers; scorers that read the post (``safety``,
    ``mi``, ``judge``, plugins) require it, the others ignore it. ``ids`` name the replies (default: their
    positions, "0", "1", ...). ``options`` are ``[scoring]`` keys (``empathy_variant="full"``,
    ``truncate_tokens=64`` ...) or the scorer's own parameters (``[scoring.options.<scorer>]``).

    Returns one row per reply and metric: ``response_id``, ``scorer``, ``metric``, ``value`` (NaN where
    the metric does not apply, e.g. safety's help items for a post without risk; the score stage leaves
    such rows out of the scores table) and ``evidence`` (the sentences or the rule that decided the value;
    empty where the value is NaN, or from a plugin that gives none).

    >>> score_texts("text", ["I hear you. How long has it felt this way?"])  # doctest: +SKIP
    """
    if isinstance(replies, str):
        raise CarelensError("replies must be a list of texts, not one string")
    replies = [str(r) for r in replies]
    config = _config(scorer, options)
    if posts is None:
        if scorer not in RESPONSE_ONLY:
            raise CarelensError(f"scorer '{scorer}' reads the post each reply answers: pass posts=[...]")
        posts = [""] * len(replies)
    elif isinstance(posts, str) or len(posts) != len(replies):
        raise CarelensError(f"posts must be a list as long as replies ({len(replies)})")
    names = [str(i) for i in range(len(replies))] if ids is None else [str(i) for i in ids]
    if len(names) != len(replies) or len(set(names)) != len(names):
        raise CarelensError(f"ids must be {len(replies)} distinct names, one per reply")
    built = create_scorer(scorer, config)
    wide = run_scorer(built, list(zip((str(p) for p in posts), replies, strict=True)))
    frames = [
        pd.DataFrame(
            {
                "response_id": names,
                "scorer": built.name,
                "metric": metric,
                "value": wide[metric].to_numpy(dtype=np.float64),
                "evidence": wide[evidence_column(metric)].astype("string").to_numpy(),
                "_order": np.arange(len(wide)),
            }
        )
        for metric in built.metrics
    ]
    if not frames:
        return pd.DataFrame(columns=["response_id", "scorer", "metric", "value", "evidence"])
    long = pd.concat(frames, ignore_index=True).sort_values("_order", kind="stable").drop(columns="_order")
    return long.astype(
        {"response_id": "string", "scorer": "string", "metric": "string", "evidence": "string"}
    ).reset_index(drop=True)
