"""Agreement of coders on one question under an explicit N/A convention: kappa, exact agreement, alpha.

``NA_CONVENTIONS``:

- ``exclude`` (default): an N/A answer is not on the scale, so a pair of answers counts only when both
  are scored; ordinal questions get quadratic-weighted kappa and ordinal Krippendorff's alpha.
- ``category``: for a question that allows N/A, N/A is one more category. Every pair of answers counts;
  the scale is then nominal (N/A has no place between 1 and 5), so kappa is unweighted, alpha nominal
  and quadratic kappa undefined (``None``).

Questions without N/A give the same figures under both. ``n`` of a pair is the number of items whose
two answers entered its statistics (the rated pairs); ``both_na`` and ``one_na`` count the N/A pairs.
Cohen's kappa comes from ``sklearn.metrics.cohen_kappa_score``, alpha from ``krippendorff.alpha``.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from carelens.errors import CarelensError
from carelens.review.questions import NA, Question

NA_CONVENTIONS = ("exclude", "category")


@dataclass(frozen=True)
class Scale:
    """The categories a question is scored on under a convention, in scale order."""

    labels: tuple[str, ...]
    ordinal: bool
    keeps_na: bool


def check_na(na: str) -> str:
    if na not in NA_CONVENTIONS:
        raise CarelensError(f"unknown N/A convention '{na}'; use {' or '.join(NA_CONVENTIONS)}", where="--na")
    return na


def scale_of(spec: Question, na: str = "exclude") -> Scale:
    if check_na(na) == "category" and spec.allows_na:
        return Scale(spec.choices, ordinal=False, keeps_na=True)
    return Scale(spec.levels, ordinal=spec.kind == "ordinal", keeps_na=False)


def _clean(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _kappa(a: list[str], b: list[str], labels: tuple[str, ...], weights: str | None) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _clean(cohen_kappa_score(a, b, labels=list(labels), weights=weights))


def numeric(values: pd.Series, spec: Question, na: str = "exclude") -> pd.Series:
    """Answers as numbers for alpha: the level of an ordinal scale, else the category's index.

    What the convention leaves out (N/A under ``exclude``) becomes NaN.
    """
    scale = scale_of(spec, na)
    if scale.ordinal:
        return pd.to_numeric(values.where(values != NA), errors="coerce")
    return values.map({label: float(i) for i, label in enumerate(scale.labels)}).astype(float)


def alpha(matrix: np.ndarray, spec: Question, na: str = "exclude") -> float | None:
    """Krippendorff's alpha of a coders x items matrix (NaN = no answer counted); None if undefined."""
    scale = scale_of(spec, na)
    if matrix.size == 0 or (np.sum(~np.isnan(matrix), axis=0) >= 2).sum() == 0:
        return None
    if scale.ordinal:
        domain = sorted(float(v) for v in scale.labels)
    else:
        domain = [float(i) for i in range(len(scale.labels))]
    level: Literal["ordinal", "nominal"] = "ordinal" if scale.ordinal else "nominal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _clean(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level,
                                         value_domain=domain))


def pair_stats(a: pd.Series, b: pd.Series, spec: Question, na: str = "exclude") -> dict[str, Any]:
    """Agreement of two coders over their shared items (series indexed by item; ``NA`` = N/A)."""
    scale = scale_of(spec, na)
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    na_a, na_b = a == NA, b == NA
    counted = pd.Series(True, index=both) if scale.keeps_na else ~(na_a | na_b)
    x, y = list(a[counted]), list(b[counted])
    n = len(x)
    pair = np.vstack([numeric(a[counted], spec, na).to_numpy(dtype=float),
                      numeric(b[counted], spec, na).to_numpy(dtype=float)])
    return {
        "n": n,
        "exact": float(np.mean(np.array(x) == np.array(y))) if n else None,
        "kappa": _kappa(x, y, scale.labels, None) if n else None,
        "kappa_quadratic": _kappa(x, y, scale.labels, "quadratic") if n and scale.ordinal else None,
        "alpha": alpha(pair, spec, na) if n else None,
        "both_na": int((na_a & na_b).sum()),
        "one_na": int((na_a ^ na_b).sum()),
    }


def alpha_with_ci(matrix: np.ndarray, spec: Question, resamples: int, rng: np.random.Generator,
                  level: float, na: str = "exclude") -> dict[str, Any]:
    """Alpha over a coders x items matrix (NaN = no answer counted), with a percentile bootstrap CI
    over items."""
    pairable = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2]
    point = alpha(pairable, spec, na) if pairable.shape[1] else None
    out: dict[str, Any] = {"alpha": point, "alpha_ci": None, "alpha_resamples_used": 0,
                           "alpha_items": int(pairable.shape[1])}
    if point is None or pairable.shape[1] < 2 or resamples < 1:
        return out
    draws = []
    for _ in range(resamples):
        value = alpha(pairable[:, rng.integers(0, pairable.shape[1], pairable.shape[1])], spec, na)
        if value is not None:
            draws.append(value)
    if draws:
        tail = (1 - level) / 2
        out["alpha_ci"] = [float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))]
        out["alpha_resamples_used"] = len(draws)
    return out
