"""The mixed-effects model of the full design: ``value ~ group * condition + (1 | post)``.

One linear mixed model (statsmodels ``mixedlm``, REML) per metric x responder x stratum, with a random
intercept per post, so a post's several replies (samples, conditions, cue variants) are not counted as
independent evidence. Its terms are reported for what they estimate, each a named row of the ``models``
table computed as a linear contrast of the fitted coefficients:

* ``group_main``: a group's gap from the reference group, averaged over the prompt conditions;
* ``group_simple``: that gap within one condition;
* ``condition_main``: a condition's difference from the reference condition, averaged over groups;
* ``interaction``: how much a group's gap in one condition differs from its gap in the reference one.

Intervals are Wald intervals from the model's standard errors (normal approximation).
"""

import warnings
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from carelens.analysis.groups import ORIGINAL, RATE_METRICS, AnalysisData
from carelens.analysis.settings import AnalysisConfig

FORMULA = "value ~ group * condition + (1 | post)"
CI_METHOD = "Wald (model-based standard errors, normal approximation)"
FIT_PROBLEMS = {
    "boundary": "post variance at its boundary (0): replies to a post hardly agree more than others",
    "singular": "singular random-effects covariance",
    "Hessian": "Hessian not positive definite: standard errors unreliable",
}


def _levels(values: pd.Series, first: str | None) -> list[str]:
    seen = sorted(str(v) for v in values.unique())
    return ([first] if first is not None and first in seen else []) + [v for v in seen if v != first]


def _condensed(messages: list[str], converged: bool) -> str:
    """statsmodels' fitting warnings as one short note."""
    found = [text for key, text in FIT_PROBLEMS.items() if any(key in m for m in messages)]
    if not converged:
        found.insert(0, "did not converge: estimates unreliable")
    return "; ".join(found)


def contrasts(groups: list[str], conditions: list[str]) -> list[tuple[str, str, str, str, dict[str, float]]]:
    """(term, term_kind, group, condition, {coefficient: weight}) for every reported term."""
    out: list[tuple[str, str, str, str, dict[str, float]]] = []
    g_name = {g: f"C(g)[T.{g}]" for g in groups[1:]}
    c_name = {c: f"C(c)[T.{c}]" for c in conditions[1:]}

    def gc(g: str, c: str) -> str:
        return f"C(g)[T.{g}]:C(c)[T.{c}]"

    k, n_groups = len(conditions), len(groups)
    for g in groups[1:]:
        main = {g_name[g]: 1.0, **{gc(g, c): 1.0 / k for c in conditions[1:]}}
        out.append((f"group {g} (averaged over conditions)", "group_main", g, "all", main))
        if k > 1:
            out.append((f"group {g} in {conditions[0]}", "group_simple", g, conditions[0], {g_name[g]: 1.0}))
            for c in conditions[1:]:
                out.append((f"group {g} in {c}", "group_simple", g, c, {g_name[g]: 1.0, gc(g, c): 1.0}))
                out.append((f"group {g} × condition {c}", "interaction", g, c, {gc(g, c): 1.0}))
    for c in conditions[1:]:
        main = {c_name[c]: 1.0, **{gc(g, c): 1.0 / n_groups for g in groups[1:]}}
        out.append((f"condition {c} (averaged over groups)", "condition_main", "all", c, main))
    return out


def fit_mixed(
    frame: pd.DataFrame, reference: str, reference_condition: str | None, alpha: float
) -> tuple[list[dict[str, Any]], str]:
    """Fit one model; returns a row per reported term (and a note when it cannot be fitted)."""
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = smf.mixedlm("value ~ " + " * ".join(terms), data, groups=data["post"]).fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return [], f"mixed model not fitted: {exc}"
    note = _condensed([str(w.message) for w in caught], fit.converged)
    names = list(fit.fe_params.index)
    rows = []
    for term, term_kind, group, condition, weights in contrasts(groups, conditions):
        if any(name not in names for name in weights):
            continue  # a cell of the design is empty: the coefficient was not estimable
        vector = np.array([[weights.get(name, 0.0) for name in names]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = fit.t_test(vector)
        low, high = np.asarray(test.conf_int(alpha=alpha)).ravel()
        rows.append(
            {
                "term": term,
                "term_kind": term_kind,
                "group": group,
                "condition": condition,
                "estimate": float(np.asarray(test.effect).ravel()[0]),
                "se": float(np.asarray(test.sd).ravel()[0]),
                "ci_low": float(low),
                "ci_high": float(high),
                "p": float(np.asarray(test.pvalue).ravel()[0]),
                "n_responses": int(fit.nobs),
                "n_posts": int(data["post"].nunique()),
                "post_variance": float(fit.cov_re.iloc[0, 0]),
                "note": note,
            }
        )
    return rows, note


def mixed_models(
    data: AnalysisData, config: AnalysisConfig, reference_condition: str | None
) -> list[dict[str, Any]]:
    """Fit the model for every metric x responder x stratum; one ``models`` row per term."""
    rows: list[dict[str, Any]] = []
    observations = data.observations[~data.observations["metric"].isin(RATE_METRICS.values())]
    # each reply once: one also in a random control group counts in its own group
    in_control_last = observations.sort_values("group", key=lambda g: g == data.control, kind="stable")
    observations = in_control_last.drop_duplicates(["response_id", "metric"])
    for stratum in data.strata:
        pool = observations[observations["stratum"].isin([stratum, ORIGINAL])]
        for (metric, responder), frame in pool.groupby(["metric", "responder"]):
            fitted, note = fit_mixed(frame, data.reference, reference_condition, config.alpha)
            if not fitted:
                fitted = [
                    {
                        "term": "(model not fitted)",
                        "term_kind": "none",
                        "n_responses": len(frame),
                        "n_posts": frame["post_id"].nunique(),
                        "note": note,
                    }
                ]
            for row in fitted:
                rows.append(
                    {
                        "model": f"{metric} ~ group * condition + (1 | post)",
                        "metric": metric,
                        "responder": responder,
                        "stratum": stratum,
                        "reference": data.reference,
                        "ci_method": CI_METHOD if row["term_kind"] != "none" else "",
                        **row,
                    }
                )
    return rows
