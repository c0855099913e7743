"""The paper's recorded scores (kept in ``responses.meta``) as a scores table, for reproduction.

The mh-eval parsers keep the authors' classifier outputs as ``paper_ER``, ``paper_IP``, ``paper_EX``
(0..2) and ``paper_toxicity`` in each reply's meta; the Reddit peer replies carry their EPITOME levels
as words under ``paper_ER_label`` etc. (no / weak / strong). Lifting them into metrics named like the
keys lets the analysis compare groups on exactly the numbers the paper used.
"""

import json

import numpy as np
import pandas as pd

from carelens.tables import empty_table

SCORER = "paper"
METRICS = ("paper_ER", "paper_IP", "paper_EX", "paper_toxicity")
LEVELS = {"no": 0.0, "weak": 1.0, "strong": 2.0}


def _metric_values(meta: dict[str, object]) -> dict[str, float]:
    values: dict[str, float] = {}
    for metric in METRICS:
        value = meta.get(metric)
        if value is None:
            value = LEVELS.get(str(meta.get(f"{metric}_label", "")).strip().lower())
        if isinstance(value, int | float) and np.isfinite(value):
            values[metric] = float(value)
    return values


def parse_meta(meta: pd.Series) -> tuple[list[dict[str, object]], int]:
    """Each response's meta as a dict, and how many were not a JSON object (read as empty)."""
    parsed: list[dict[str, object]] = []
    unreadable = 0
    for text in meta.fillna(""):
        try:
            value = json.loads(text) if text else {}
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            unreadable += 1
            value = {}
        parsed.append(value)
    return parsed, unreadable


def paper_scores(responses: pd.DataFrame) -> pd.DataFrame:
    """One scores row per (response, paper metric) present in the meta of an ``ok`` response."""
    ok = responses[responses["status"] == "ok"]
    metas, _ = parse_meta(ok["meta"])
    rows = [
        (response_id, SCORER, metric, value)
        for response_id, meta in zip(ok["response_id"], metas, strict=True)
        for metric, value in _metric_values(meta).items()
    ]
    if not rows:
        return empty_table("scores")
    return pd.DataFrame(rows, columns=["response_id", "scorer", "metric", "value"])
