"""All of a study's comparisons as one findings table: descriptives, tests, corrections, power, verdicts.

Columns after the schema's (see ``tables.SCHEMAS['findings']``):

kind
    ``descriptive`` / ``rate`` (one group's figures), ``group_gap``, ``condition_gap``, ``responder_gap``,
    ``rate_gap`` (one comparison, a row per test), ``mixed`` (a mixed-model term), ``guideline``.
stratum, design, aggregation, paired
    the cue kind compared (``all`` without cues), the demographic design, the units of the test
    (``response`` or ``post`` means), whether the same posts are on both sides.
n_posts, ref_n, ref_n_posts, ref_mean, sd, ref_sd
    the reference side's figures (``n`` and ``mean`` are the group's).
mean_ci_low, mean_ci_high, mean_per_response, mean_per_post
    descriptives: the CI of the mean, and the mean under both aggregations.
statistic, df, effect_name
    the test's statistic and degrees of freedom; the effect size in ``effect`` (``cohens_d``,
    ``cohens_dz``, ``cliffs_delta``, ``rate_difference`` or a mixed-model ``coef``) whose bootstrap CI
    is ``ci_low``/``ci_high``.
diff_ci_low, diff_ci_high, pct_ci_low, pct_ci_high
    bootstrap (posts resampled) CIs of the difference and the % difference.
primary, family, family_size, significant
    the study's chosen test for this comparison, the correction family, its size, p_adj < alpha.
unit_sd, n_units, ref_n_units, mde, mde_pct, mde_alpha
    the minimal detectable difference at the configured power (raw and % of the reference mean).
term, post_variance
    mixed models: the coefficient and the estimated between-post variance.
verdict, evidence, title, note
    guidelines: the verdict, its evidence and the guideline text; elsewhere ``note`` explains a NaN.
"""

from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis import compare, guidelines, mixed, power, stats
from carelens.analysis.groups import AnalysisData, rate_observations
from carelens.analysis.settings import AnalysisConfig
from carelens.tables import SCHEMAS, conform

EXTRA_COLUMNS = {
    "kind": "string",
    "stratum": "string",
    "design": "string",
    "aggregation": "string",
    "paired": "boolean",
    "n_posts": "Int64",
    "ref_n": "Int64",
    "ref_n_posts": "Int64",
    "ref_mean": "float64",
    "sd": "float64",
    "ref_sd": "float64",
    "mean_ci_low": "float64",
    "mean_ci_high": "float64",
    "mean_per_response": "float64",
    "mean_per_post": "float64",
    "statistic": "float64",
    "df": "float64",
    "effect_name": "string",
    "diff_ci_low": "float64",
    "diff_ci_high": "float64",
    "pct_ci_low": "float64",
    "pct_ci_high": "float64",
    "primary": "boolean",
    "family": "string",
    "family_size": "Int64",
    "significant": "boolean",
    "unit_sd": "float64",
    "n_units": "Int64",
    "ref_n_units": "Int64",
    "mde": "float64",
    "mde_pct": "float64",
    "mde_alpha": "float64",
    "term": "string",
    "post_variance": "float64",
    "verdict": "string",
    "evidence": "string",
    "title": "string",
    "note": "string",
}
TESTED_KINDS = ("group_gap", "condition_gap", "responder_gap", "rate_gap", "mixed")
GAP_KINDS = ("group_gap", "condition_gap", "responder_gap")


def correct(frame: pd.DataFrame, config: AnalysisConfig) -> pd.DataFrame:
    """Adjusted p-values per family: each test across the study, or per kind, or per kind and metric."""
    keys = {"study": ["test"], "kind": ["test", "kind"], "metric": ["test", "kind", "metric"]}[config.family]
    frame = frame.copy()
    tested = frame["kind"].isin(TESTED_KINDS)
    frame["p_adj"] = np.nan
    for key, family in frame[tested].groupby(keys):
        key = key if isinstance(key, tuple) else (key,)
        frame.loc[family.index, "p_adj"] = stats.adjust(family["p"].to_numpy(float), config.correction)
        frame.loc[family.index, "family"] = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))
        frame.loc[family.index, "family_size"] = int(family["p"].notna().sum())
    frame["significant"] = pd.array(np.where(tested, frame["p_adj"] < config.alpha, pd.NA), dtype="boolean")
    return frame


def add_power(frame: pd.DataFrame, config: AnalysisConfig) -> pd.DataFrame:
    """The minimal detectable difference of every gap comparison, at the configured power.

    Its alpha is the family-wise one a Holm or Bonferroni correction applies to the first test
    (alpha / family size), the nominal alpha otherwise.
    """
    frame = frame.copy()
    for column in ("mde", "mde_pct", "mde_alpha"):
        frame[column] = np.nan
    rows = frame[
        frame["kind"].isin(GAP_KINDS) & frame["n_units"].notna() & (frame["test"] != compare.PAPER_TEST)
    ]
    for index, row in rows.iterrows():
        size = row["family_size"] if pd.notna(row["family_size"]) and row["family_size"] else 1
        alpha = config.alpha / size if config.correction in ("holm", "bonferroni") else config.alpha
        effect = power.detectable_effect(
            int(row["n_units"]), config.power, alpha, bool(row["paired"]), int(row["ref_n_units"])
        )
        mde = effect * row["unit_sd"]
        frame.loc[index, ["mde", "mde_alpha"]] = [mde, alpha]
        if row["ref_mean"]:
            frame.loc[index, "mde_pct"] = 100 * mde / abs(row["ref_mean"])
    return frame


def finalize(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a findings frame: the schema's columns, then the extras, with stable dtypes."""
    frame = pd.DataFrame(rows)
    for column in [*SCHEMAS["findings"], *EXTRA_COLUMNS]:
        if column not in frame.columns:
            frame[column] = pd.NA
    frame = frame[[*SCHEMAS["findings"], *EXTRA_COLUMNS]].astype("object")
    frame = frame.where(frame.notna(), None)
    for column, dtype in EXTRA_COLUMNS.items():
        frame[column] = frame[column].astype(dtype)
    return conform("findings", frame)


def analyse(
    data: AnalysisData,
    config: AnalysisConfig,
    seed: int,
    study_conditions: list[str],
    variants: pd.DataFrame,
    inferences: pd.DataFrame,
    scores: pd.DataFrame,
) -> pd.DataFrame:
    """Every descriptive, comparison, model term and guideline verdict of the study."""
    rates = rate_observations(data)
    rows = compare.descriptives(data, data.observations, config) + compare.descriptives(data, rates, config)
    gaps, without_reference = compare.group_comparisons(data, data.observations, config, seed)
    data.counts["comparison_cells_without_the_reference_group"] = without_reference
    rate_gaps, _ = compare.group_comparisons(data, rates, config, seed, rates=True)
    ref_condition = compare.reference_condition(data.observations, config, study_conditions, config.peer)
    rows += gaps + rate_gaps
    rows += compare.condition_comparisons(data, config, ref_condition, seed)
    rows += compare.responder_comparisons(data, config, seed)
    if config.mixed_model:
        rows += mixed.mixed_models(data, config, ref_condition)
    frame = finalize(rows)
    frame = add_power(correct(frame, config), config)
    verdicts = guidelines.evaluate(guidelines.Inputs(frame, data, config, variants, inferences, scores))
    return finalize(frame.to_dict("records") + guidelines.verdict_rows(verdicts, data.design))
