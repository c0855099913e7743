"""All of a study's analysis as typed tables: descriptives, comparisons, models, verdicts, and the plan.

``comparisons`` holds one row per test; the study's primary tests are corrected together over one
declared family, and every gap comparison carries its minimal detectable difference. The plan (what was
compared how) goes into the stage's manifest notes, from which the report writes its Methods.
"""

import re
from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis import compare, guidelines, mixed, power, stats
from carelens.analysis.groups import RATE_METRICS, AnalysisData, rate_observations
from carelens.analysis.safety import COLUMNS as CRISIS_COLUMNS
from carelens.analysis.safety import crisis_outcomes
from carelens.analysis.settings import AnalysisConfig
from carelens.demographics.manipulation import COLUMNS as MANIPULATION_COLUMNS
from carelens.demographics.manipulation import manipulation_table
from carelens.tables import conform, empty_table

SCALES: dict[str, tuple[float, float]] = {
    "paper_toxicity": (0.0, 1.0),
    "offensive": (0.0, 1.0),
    "vader_compound": (-1.0, 1.0),
    "vader_negative": (0.0, 1.0),
    "post_risk": (0.0, 1.0),
    "post_risk_level": (0.0, 3.0),
    "acknowledges_risk": (0.0, 1.0),
    "encourages_help": (0.0, 1.0),
    "gives_resource": (0.0, 1.0),
    "avoids_harm": (0.0, 1.0),
    "mi_change_talk": (1.0, 5.0),
    "mi_sustain_talk": (1.0, 5.0),
    "mi_partnership": (1.0, 5.0),
    **{metric: (0.0, 1.0) for metric in RATE_METRICS.values()},
}
MECHANISM = re.compile(r"(^|_)(ER|IP|EX|ALL)$")
FAMILY_KEYS = {"study": [], "kind": ["kind"], "metric": ["kind", "metric"]}


def scale_of(metric: str, config: AnalysisConfig) -> tuple[float, float]:
    """The [low, high] range of a metric: configured, built in, or unknown (NaN)."""
    if metric in config.scales:
        low, high = config.scales[metric]
        return float(low), float(high)
    if metric in SCALES:
        return SCALES[metric]
    return (0.0, 2.0) if MECHANISM.search(metric) else (np.nan, np.nan)


def correct(frame: pd.DataFrame, config: AnalysisConfig) -> pd.DataFrame:
    """Adjust the primary tests' p-values over the declared family; other tests keep no p_adj."""
    frame = frame.copy()
    frame["p_adj"], frame["family_size"] = np.nan, pd.NA
    frame["correction"], frame["family"] = "none", ""
    primary = frame["primary"].fillna(False).astype(bool)
    keys = FAMILY_KEYS[config.family]
    families = [((), frame[primary])] if not keys else list(frame[primary].groupby(keys))
    for key, family in families:
        key = key if isinstance(key, tuple) else (key,)
        scope = ", ".join(f"{k} {v}" for k, v in zip(keys, key, strict=True)) or "the study"
        size = int(family["p"].notna().sum())
        frame.loc[family.index, "p_adj"] = stats.adjust(family["p"].to_numpy(float), config.correction)
        frame.loc[family.index, "correction"] = config.correction
        frame.loc[family.index, "family"] = f"every primary post-level test of {scope} ({size} tests)"
        frame.loc[family.index, "family_size"] = size
    frame.loc[~primary & (frame["test"] != compare.PAPER_TEST), "family"] = "secondary test: not corrected"
    frame.loc[frame["test"] == compare.PAPER_TEST, "family"] = "the paper's method: not corrected"
    frame["significant"] = pd.array(np.where(primary, frame["p_adj"] < config.alpha, pd.NA), dtype="boolean")
    return frame


def add_power(frame: pd.DataFrame, config: AnalysisConfig) -> pd.DataFrame:
    """The minimal detectable difference of every post-level comparison, at the configured power.

    Its alpha is the one a Holm or Bonferroni correction applies to its first step (alpha / family
    size), the nominal alpha otherwise; the t-test's power stands in for the rank tests'.
    """
    frame = frame.copy()
    frame["mde"], frame["mde_pct"] = np.nan, np.nan
    for index, row in frame[(frame["unit"] == "post") & frame["unit_sd"].notna()].iterrows():
        size = row["family_size"] if pd.notna(row["family_size"]) and row["family_size"] else 1
        alpha = config.alpha / size if config.correction in ("holm", "bonferroni") else config.alpha
        effect = power.detectable_effect(
            int(row["n_posts"]), config.power, alpha, bool(row["paired"]), int(row["ref_n_posts"])
        )
        mde = effect * row["unit_sd"]
        frame.loc[index, "mde"] = mde
        if row["ref_mean"]:
            frame.loc[index, "mde_pct"] = 100 * mde / abs(row["ref_mean"])
    return frame


def _frame(rows: list[dict[str, Any]], table: str) -> pd.DataFrame:
    if not rows:
        return empty_table(table)
    frame = pd.DataFrame(rows)
    for column in empty_table(table).columns:
        if column not in frame.columns:
            frame[column] = pd.NA
    return conform(table, frame.astype("object").where(frame.notna(), None))


def comparisons(
    data: AnalysisData, rates: pd.DataFrame, config: AnalysisConfig, seed: int, ref_condition: str | None
) -> pd.DataFrame:
    rows = compare.group_comparisons(data, data.observations, config, seed, "group_gap")
    rows += compare.group_comparisons(data, rates, config, seed, "rate_gap")
    rows += compare.condition_comparisons(data, config, ref_condition, seed)
    rows += compare.responder_comparisons(data, config, seed)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return _frame([], "comparisons")
    frame = add_power(correct(frame, config), config)
    return _frame(frame.to_dict("records"), "comparisons")


def plan(
    data: AnalysisData, config: AnalysisConfig, ref_condition: str | None, table: pd.DataFrame, seed: int
) -> dict[str, Any]:
    """What was compared how, for the manifest and the report's Methods."""
    primary = table[table["primary"].fillna(False).astype(bool)]
    families = sorted(primary["family"].dropna().unique())
    metrics = data.metrics()
    scales = {m: scale_of(m, config) for m in metrics}
    return {
        "design": data.design,
        "group_source": data.group_source,
        "unit": "post",
        "reference": data.reference,
        "control": data.control,
        "reference_condition": ref_condition,
        "peer": config.peer,
        "primary_tests": {
            "paired": compare.PAIRED_TESTS[config.paired_test],
            "independent": compare.INDEPENDENT_TESTS[config.independent_test],
        },
        "secondary_tests": sorted(
            (set(compare.PAIRED_TESTS.values()) | set(compare.INDEPENDENT_TESTS.values()))
            - {compare.PAIRED_TESTS[config.paired_test], compare.INDEPENDENT_TESTS[config.independent_test]}
        )
        + ([compare.PAPER_TEST] if config.paper_method else []),
        "effect_sizes": dict(compare.EFFECT_OF_TEST),
        "correction": config.correction,
        "family": "; ".join(families) if families else "no primary tests",
        "family_size": int(primary["p"].notna().sum()),
        "alpha": config.alpha,
        "power": config.power,
        "bootstrap": config.bootstrap,
        "permutations": config.permutations,
        "ci_method": compare.ci_method(config, True) if config.bootstrap else "none (bootstrap = 0)",
        "mixed_model": {"formula": mixed.FORMULA, "ci_method": mixed.CI_METHOD}
        if config.mixed_model
        else None,
        "metrics": metrics,
        "derived_metrics": data.derived,
        "metric_scales": {m: list(s) for m, s in scales.items() if np.isfinite(s[0])},
        "metric_caveats": dict(config.metric_caveats),
        "exclusions": {k: int(v) for k, v in sorted(data.counts.items()) if v},
        "manipulation_min_recall": config.guidelines.manipulation_min_recall,
        "seed": seed,
    }


def analyse(
    data: AnalysisData,
    config: AnalysisConfig,
    seed: int,
    study_conditions: list[str],
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    scores: pd.DataFrame,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Every table of the analysis, and its plan."""
    ref_condition = compare.reference_condition(data.observations, config, study_conditions)
    scales = {m: scale_of(m, config) for m in data.metrics() + list(RATE_METRICS.values())}
    rates = rate_observations(data)
    descriptives = compare.descriptives(data.observations, config, scales)
    descriptives += compare.descriptives(rates, config, scales)
    table = comparisons(data, rates, config, seed, ref_condition)
    models = mixed.mixed_models(data, config, ref_condition) if config.mixed_model else []
    crisis = crisis_outcomes(data, scores, config.guidelines)
    manipulation = (
        manipulation_table(variants, inferences)
        if len(inferences)
        else pd.DataFrame(columns=MANIPULATION_COLUMNS)
    )
    verdicts = guidelines.evaluate(
        guidelines.Inputs(
            table,
            crisis,
            manipulation,
            sorted(data.responses["responder"].dropna().unique()),
            data.metrics(),
            config,
        )
    )
    tables = {
        "assignments": conform("assignments", data.assignments),
        "descriptives": _frame(descriptives, "descriptives"),
        "comparisons": table,
        "models": _frame(models, "models"),
        "verdicts": _frame(verdicts.to_dict("records"), "verdicts"),
        "crisis": crisis if crisis is not None else pd.DataFrame(columns=CRISIS_COLUMNS),
        "manipulation": manipulation,
    }
    return tables, plan(data, config, ref_condition, table, seed)
