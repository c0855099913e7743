"""The mixed-effects model of the full design: ``score ~ group * condition + (1 | post)``.

One linear mixed model (statsmodels ``mixedlm``, REML) per metric x responder x stratum, with a random
intercept per post, so a post's several replies (samples, conditions, cue variants) are not counted as
independent evidence. Terms are treatment-coded against the reference group and reference condition.
"""

import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from carelens.analysis.groups import ORIGINAL, RATE_METRICS, AnalysisData
from carelens.analysis.settings import AnalysisConfig


def _levels(values: pd.Series, first: str | None) -> list[str]:
    seen = sorted(str(v) for v in values.unique())
    return ([first] if first is not None and first in seen else []) + [v for v in seen if v != first]


def _term_names(groups: list[str], conditions: list[str]) -> dict[str, tuple[str, str, str]]:
    """Coefficient name -> (readable term, group, condition); reference levels stand for main effects."""
    names = {f"C(g)[T.{g}]": (f"group {g}", g, conditions[0]) for g in groups[1:]}
    names.update({f"C(c)[T.{c}]": (f"condition {c}", groups[0], c) for c in conditions[1:]})
    names.update(
        {f"C(g)[T.{g}]:C(c)[T.{c}]": (f"{g} × {c}", g, c) for g in groups[1:] for c in conditions[1:]}
    )
    return names


FIT_PROBLEMS = {
    "boundary": "post variance at its boundary (0): replies to a post hardly agree more than others",
    "singular": "singular random-effects covariance",
    "Hessian": "Hessian not positive definite: standard errors unreliable",
}


def _condensed(messages: list[str], converged: bool) -> str:
    """statsmodels' fitting warnings as one short note."""
    found = [text for key, text in FIT_PROBLEMS.items() if any(key in m for m in messages)]
    if not converged:
        found.insert(0, "did not converge: estimates unreliable")
    return "; ".join(found)


def fit_mixed(
    frame: pd.DataFrame, reference: str, reference_condition: str | None, alpha: float
) -> tuple[list[dict[str, Any]], str]:
    """Fit one model; returns a row per group/condition term (and a note when it cannot be fitted)."""
    groups = _levels(frame["group"], reference)
    conditions = _levels(frame["condition"], reference_condition)
    if frame["post_id"].nunique() < 2 or (len(groups) < 2 and len(conditions) < 2):
        return [], "fewer than 2 posts or nothing to compare"
    if frame.groupby("post_id")[["group", "condition"]].nunique().max().max() == 1:
        return [], (
            "not fitted: each post is in one group and condition only, so the post-level tests "
            "already count each post once"
        )
    data = pd.DataFrame(
        {
            "value": frame["value"].to_numpy(float),
            "g": pd.Categorical(frame["group"], categories=groups),
            "c": pd.Categorical(frame["condition"], categories=conditions),
            "post": frame["post_id"].to_numpy(),
        }
    )
    terms = [t for t, levels in (("C(g)", groups), ("C(c)", conditions)) if len(levels) > 1]
    formula = "value ~ " + " * ".join(terms)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = smf.mixedlm(formula, data, groups=data["post"]).fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return [], f"mixed model not fitted: {exc}"
    note = _condensed([str(w.message) for w in caught], fit.converged)
    ci = fit.conf_int(alpha)
    rows = []
    for name, (term, group, condition) in _term_names(groups, conditions).items():
        if name not in fit.fe_params.index:
            continue
        coef = float(fit.fe_params[name])
        rows.append(
            {
                "group": group,
                "condition": condition,
                "term": term,
                "diff": coef,
                "effect": coef,
                "effect_name": "coef",
                "ci_low": float(ci.loc[name, 0]),
                "ci_high": float(ci.loc[name, 1]),
                "diff_ci_low": float(ci.loc[name, 0]),
                "diff_ci_high": float(ci.loc[name, 1]),
                "statistic": float(fit.tvalues[name]),
                "p": float(fit.pvalues[name]),
                "n": int(fit.nobs),
                "n_posts": int(data["post"].nunique()),
                "note": note,
                "post_variance": float(fit.cov_re.iloc[0, 0]),
            }
        )
    return rows, note


def mixed_models(
    data: AnalysisData, config: AnalysisConfig, reference_condition: str | None
) -> list[dict[str, Any]]:
    """Fit the model for every metric x responder x stratum; rows carry kind ``mixed``."""
    rows: list[dict[str, Any]] = []
    observations = data.observations[~data.observations["metric"].isin(RATE_METRICS.values())]
    # each reply once: one also in a random control group counts in its own group
    in_control_last = observations.sort_values("group", key=lambda g: g == data.control, kind="stable")
    observations = in_control_last.drop_duplicates(["response_id", "metric"])
    for stratum in data.strata:
        pool = observations[observations["stratum"].isin([stratum, ORIGINAL])]
        for (metric, model), frame in pool.groupby(["metric", "responder"]):
            fitted, note = fit_mixed(frame, data.reference, reference_condition, config.alpha)
            if not fitted and note.startswith("not fitted"):
                fitted = [
                    {
                        "term": "(model not fitted)",
                        "n": len(frame),
                        "n_posts": frame["post_id"].nunique(),
                        "note": note,
                    }
                ]
            for row in fitted:
                rows.append(
                    {
                        "kind": "mixed",
                        "metric": metric,
                        "model": model,
                        "stratum": stratum,
                        "reference": data.reference,
                        "design": data.design,
                        "test": "mixedlm",
                        "aggregation": "response",
                        "paired": True,
                        "primary": True,
                        **row,
                    }
                )
    return rows
