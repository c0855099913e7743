"""Descriptives and two-sided comparisons on one unit of analysis, the post.

Groups are compared with the reference group, prompt conditions with the reference condition, and
every responder with peers; refusal, filter and error rates are compared between groups like any
metric. A post's replies (samples, several peer replies) are averaged first, so every test, interval,
effect size and minimal detectable effect counts each post once. Comparisons of the same posts on both
sides are paired (paired t with d_z, Wilcoxon signed-rank with the matched-pairs rank-biserial,
permutation with d_z); others are independent (Welch's t and Student's t with Hedges' g, Mann-Whitney U
with Cliff's delta). Effect-size and difference intervals come from a bootstrap over posts. For
reproduction every comparison is also tested the paper's way (``student_t_paper``: Student's t on
single replies, uncorrected), never as a primary test.
"""

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis import stats
from carelens.analysis.groups import ALL, ORIGINAL, AnalysisData
from carelens.analysis.settings import AnalysisConfig

PAIRED_TESTS = {"t": "paired_t", "wilcoxon": "wilcoxon", "permutation": "permutation"}
INDEPENDENT_TESTS = {"welch": "welch_t", "mann_whitney": "mann_whitney", "student": "student_t"}
PAPER_TEST = "student_t_paper"
EFFECT_OF_TEST = {
    "paired_t": "cohens_dz",
    "wilcoxon": "rank_biserial",
    "permutation": "cohens_dz",
    "welch_t": "hedges_g",
    "mann_whitney": "cliffs_delta",
    "student_t": "hedges_g",
    PAPER_TEST: "cohens_d",
}
COMPARISON_KINDS = ("group_gap", "rate_gap", "condition_gap", "responder_gap")


@dataclass(frozen=True)
class Cell:
    """What one comparison compares: ``group`` (or a condition, or a responder) against ``reference``."""

    kind: str
    metric: str
    responder: str
    condition: str
    stratum: str
    group: str
    reference: str

    def seed(self, base: int) -> int:
        key = "|".join(
            [self.kind, self.metric, self.responder, self.condition, self.stratum, self.group, self.reference]
        )
        return (base * 1_000_003 + zlib.crc32(key.encode())) % (2**32)

    def columns(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "responder": self.responder,
            "condition": self.condition,
            "stratum": self.stratum,
            "group": self.group,
            "reference": self.reference,
        }


def post_means(frame: pd.DataFrame) -> pd.Series:
    """Each post's mean value (the unit of analysis), indexed by post_id."""
    return frame.groupby("post_id", sort=True)["value"].mean()


def ci_method(config: AnalysisConfig, paired: bool) -> str:
    kept = "pairs kept together" if paired else "each side's posts resampled"
    return f"percentile bootstrap, {config.bootstrap} resamples of posts ({kept})"


def _interval(replicates: dict[str, np.ndarray] | None, key: str, level: float) -> tuple[float, float]:
    return stats.percentile_ci(replicates[key], level) if replicates else (np.nan, np.nan)


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else np.nan


def _summary(xv: np.ndarray, yv: np.ndarray) -> dict[str, float]:
    """Means, sds, and the raw and % difference of x against the reference y (undefined % at 0)."""
    mean_x, mean_y = float(np.mean(xv)), float(np.mean(yv))
    return {
        "mean": mean_x,
        "ref_mean": mean_y,
        "sd": _sd(xv),
        "ref_sd": _sd(yv),
        "estimate": mean_x - mean_y,
        "pct_diff": 100 * (mean_x - mean_y) / mean_y if mean_y else np.nan,
    }


def _test_rows(
    results: list[stats.Result],
    effects: dict[str, float],
    boot: dict[str, np.ndarray] | None,
    shared: dict[str, Any],
    primary: str,
    level: float,
) -> list[dict[str, Any]]:
    """One row per test, each with the effect size that matches it and that effect's interval."""
    rows = []
    for result in results:
        name = EFFECT_OF_TEST[result.test]
        low, high = _interval(boot, name, level)
        rows.append(
            {
                **shared,
                "test": result.test,
                "statistic": result.statistic,
                "df": result.df,
                "p": result.p,
                "note": result.note,
                "primary": result.test == primary,
                "effect_name": name,
                "effect": effects[name],
                "ci_low": low,
                "ci_high": high,
            }
        )
    return rows


def _paired_rows(x: pd.DataFrame, y: pd.DataFrame, config: AnalysisConfig, seed: int) -> list[dict[str, Any]]:
    level = 1 - config.alpha
    xm, ym = post_means(x), post_means(y)
    common = xm.index.intersection(ym.index)
    xv, yv = xm[common].to_numpy(float), ym[common].to_numpy(float)
    enough = len(common) >= config.min_posts
    boot = (
        stats.bootstrap_paired(xv, yv, config.bootstrap, np.random.default_rng(seed))
        if config.bootstrap and enough
        else None
    )
    shared = {
        "paired": True,
        "n_posts": len(common),
        "ref_n_posts": len(common),
        "n_responses": int(x["post_id"].isin(common).sum()),
        "ref_n_responses": int(y["post_id"].isin(common).sum()),
        **(_summary(xv, yv) if len(common) else {}),
        "unit_sd": _sd(xv - yv),
        "ci_method": ci_method(config, True),
    }
    for key in ("diff", "pct_diff"):
        low, high = _interval(boot, key, level)
        prefix = "estimate" if key == "diff" else "pct"
        shared.update({f"{prefix}_ci_low": low, f"{prefix}_ci_high": high})
    unpaired = len(set(xm.index) ^ set(ym.index))
    note = f"{unpaired} post(s) on one side only were left out of the pairs" if unpaired else ""
    if enough:
        results = [
            stats.paired_t(xv, yv),
            stats.wilcoxon(xv, yv),
            stats.permutation(xv, yv, config.permutations, seed),
        ]
    else:
        why = f"only {len(common)} post(s) on both sides; at least {config.min_posts} needed"
        results = [stats.Result(t, np.nan, np.nan, note=why) for t in PAIRED_TESTS.values()]
    effects = {"cohens_dz": stats.cohens_dz(xv, yv), "rank_biserial": stats.rank_biserial(xv, yv)}
    rows = _test_rows(results, effects, boot, shared, PAIRED_TESTS[config.paired_test], level)
    for row in rows:
        row["note"] = "; ".join(n for n in (row["note"], note) if n)
    return rows


def _independent_rows(
    x: pd.DataFrame, y: pd.DataFrame, config: AnalysisConfig, seed: int
) -> list[dict[str, Any]]:
    level = 1 - config.alpha
    xv, yv = post_means(x).to_numpy(float), post_means(y).to_numpy(float)
    enough = len(xv) >= config.min_posts and len(yv) >= config.min_posts
    ux, uy = stats.Sample(xv, np.arange(len(xv))), stats.Sample(yv, np.arange(len(yv)))
    boot = (
        stats.bootstrap_independent(ux, uy, config.bootstrap, np.random.default_rng(seed))
        if config.bootstrap and enough
        else None
    )
    nx, ny = len(xv), len(yv)
    pooled = (
        np.sqrt(((nx - 1) * _sd(xv) ** 2 + (ny - 1) * _sd(yv) ** 2) / (nx + ny - 2)) if enough else np.nan
    )
    shared = {
        "paired": False,
        "n_posts": nx,
        "ref_n_posts": ny,
        "n_responses": len(x),
        "ref_n_responses": len(y),
        **(_summary(xv, yv) if nx and ny else {}),
        "unit_sd": pooled,
        "ci_method": ci_method(config, False),
    }
    for key in ("diff", "pct_diff"):
        low, high = _interval(boot, key, level)
        prefix = "estimate" if key == "diff" else "pct"
        shared.update({f"{prefix}_ci_low": low, f"{prefix}_ci_high": high})
    if enough:
        results = [stats.welch_t(xv, yv), stats.mann_whitney(xv, yv), stats.student_t(xv, yv)]
    else:
        why = f"posts: {nx} vs {ny}; at least {config.min_posts} each needed"
        results = [stats.Result(t, np.nan, np.nan, note=why) for t in INDEPENDENT_TESTS.values()]
    effects = {"hedges_g": stats.hedges_g(xv, yv), "cliffs_delta": stats.cliffs_delta(xv, yv)}
    return _test_rows(results, effects, boot, shared, INDEPENDENT_TESTS[config.independent_test], level)


def _paper_row(x: pd.DataFrame, y: pd.DataFrame) -> dict[str, Any]:
    """The paper's method: Student's t on single replies, uncorrected, no interval."""
    xv, yv = x["value"].to_numpy(float), y["value"].to_numpy(float)
    result = stats.student_t(xv, yv)
    return {
        "unit": "response",
        "paired": False,
        "n_posts": x["post_id"].nunique(),
        "ref_n_posts": y["post_id"].nunique(),
        "n_responses": len(xv),
        "ref_n_responses": len(yv),
        **_summary(xv, yv),
        "test": PAPER_TEST,
        "statistic": result.statistic,
        "df": result.df,
        "p": result.p,
        "note": "the paper's method: replies to one post counted as independent; for reproduction only",
        "primary": False,
        "effect_name": "cohens_d",
        "effect": stats.cohens_d(xv, yv),
        "ci_method": "",
    }


def compare_cell(
    cell: Cell, x: pd.DataFrame, y: pd.DataFrame, paired: bool, config: AnalysisConfig, seed: int
) -> list[dict[str, Any]]:
    """The comparisons rows of x (the group) against y (the reference): one per test."""
    rows = (_paired_rows if paired else _independent_rows)(x, y, config, cell.seed(seed))
    rows = [{**row, "unit": "post"} for row in rows]
    if config.paper_method and not x.empty and not y.empty:
        rows.append(_paper_row(x, y))
    return [{**cell.columns(), **row} for row in rows]


def _is_paired(x: pd.DataFrame, y: pd.DataFrame, min_posts: int) -> bool:
    """Paired when most posts of the smaller side were answered on both sides."""
    px, py = set(x["post_id"]), set(y["post_id"])
    common = len(px & py)
    return common >= min_posts and common >= 0.5 * min(len(px), len(py))


def group_comparisons(
    data: AnalysisData, observations: pd.DataFrame, config: AnalysisConfig, seed: int, kind: str
) -> list[dict[str, Any]]:
    """Each group against the reference group, per metric x responder x condition x stratum."""
    rows: list[dict[str, Any]] = []
    paired_design = data.design == "counterfactual"
    for (metric, responder, condition), cell_rows in observations.groupby(
        ["metric", "responder", "condition"]
    ):
        if kind == "rate_gap" and cell_rows["value"].sum() == 0:
            continue
        for stratum in data.strata:
            pool = cell_rows[cell_rows["stratum"].isin([stratum, ORIGINAL])]
            ref = pool[pool["group"] == data.reference]
            others = sorted(set(pool.loc[pool["stratum"] == stratum, "group"]) - {data.reference})
            if ref.empty:
                data.counts["comparisons_without_the_reference_group"] += len(others)
                continue
            for group in others:
                x = pool[(pool["group"] == group) & (pool["stratum"] == stratum)]
                cell = Cell(kind, metric, responder, condition, stratum, group, data.reference)
                rows += compare_cell(cell, x, ref, paired_design, config, seed)
    return rows


def _reference_rows(data: AnalysisData) -> tuple[pd.DataFrame, str]:
    """The rows condition and responder comparisons use: the originals (counterfactual) or all, each
    reply once (a random control group can hold a reply that is also in a race group)."""
    observations = data.observations
    if data.design == "counterfactual":
        return observations[observations["stratum"] == ORIGINAL], data.control
    return observations.drop_duplicates(["response_id", "metric"]), ALL


def reference_condition(
    observations: pd.DataFrame, config: AnalysisConfig, study_conditions: list[str]
) -> str | None:
    """The configured reference condition, else the study's first condition present, else the first seen."""
    present = sorted(observations.loc[observations["responder"] != config.peer, "condition"].unique())
    if config.reference_condition:
        return config.reference_condition
    for condition in study_conditions:
        if condition in present:
            return condition
    return present[0] if present else None


def condition_comparisons(
    data: AnalysisData, config: AnalysisConfig, ref_condition: str | None, seed: int
) -> list[dict[str, Any]]:
    """Each prompt condition against the reference condition, per metric x responder."""
    rows: list[dict[str, Any]] = []
    if ref_condition is None:
        return rows
    pool, group = _reference_rows(data)
    for (metric, responder), cell_rows in pool.groupby(["metric", "responder"]):
        y = cell_rows[cell_rows["condition"] == ref_condition]
        if y.empty:
            continue
        for condition in sorted(set(cell_rows["condition"]) - {ref_condition}):
            x = cell_rows[cell_rows["condition"] == condition]
            cell = Cell("condition_gap", metric, responder, condition, ALL, group, ref_condition)
            rows += compare_cell(cell, x, y, _is_paired(x, y, config.min_posts), config, seed)
    return rows


def responder_comparisons(data: AnalysisData, config: AnalysisConfig, seed: int) -> list[dict[str, Any]]:
    """Every responder (per condition) against the peers' replies, per metric."""
    rows: list[dict[str, Any]] = []
    pool, group = _reference_rows(data)
    for metric, metric_rows in pool.groupby("metric"):
        y = metric_rows[metric_rows["responder"] == config.peer]
        if y.empty:
            continue
        others = metric_rows[metric_rows["responder"] != config.peer]
        for (responder, condition), x in others.groupby(["responder", "condition"]):
            cell = Cell("responder_gap", metric, responder, condition, ALL, group, config.peer)
            rows += compare_cell(cell, x, y, _is_paired(x, y, config.min_posts), config, seed)
    return rows


def descriptives(
    observations: pd.DataFrame, config: AnalysisConfig, scales: dict[str, tuple[float, float]]
) -> list[dict[str, Any]]:
    """n, mean, sd and t interval of the post means of every metric x responder x condition x stratum x
    group; the interval is clipped to the metric's scale where it is known."""
    level = 1 - config.alpha
    rows: list[dict[str, Any]] = []
    keys = ["metric", "responder", "condition", "stratum", "group"]
    for (metric, responder, condition, stratum, group), frame in observations.groupby(keys):
        means = post_means(frame).to_numpy(float)
        low, high = stats.mean_ci(means, level)
        scale_low, scale_high = scales.get(str(metric), (np.nan, np.nan))
        clipped = bool(np.isfinite(scale_low))
        rows.append(
            {
                "metric": metric,
                "responder": responder,
                "condition": condition,
                "stratum": stratum,
                "group": group,
                "n_posts": len(means),
                "n_responses": len(frame),
                "mean": float(np.mean(means)),
                "sd": _sd(means),
                "ci_low": max(low, scale_low) if np.isfinite(scale_low) else low,
                "ci_high": min(high, scale_high) if np.isfinite(scale_high) else high,
                "ci_method": "t interval of post means" + (", clipped to the scale" if clipped else ""),
                "scale_low": scale_low,
                "scale_high": scale_high,
            }
        )
    return rows
