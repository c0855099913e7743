"""Descriptives and two-sided comparisons: groups against the reference group, prompt conditions
against the reference condition, and every responder against peers.

One comparison gives one findings row per test. Paired comparisons (the same posts on both sides)
average each post's replies per side and run the paired t, Wilcoxon signed-rank and permutation tests
with Cohen's d_z / Cliff's delta; independent ones run Welch's t, Mann-Whitney U and Student's t on
the configured units (responses or post means) with Cohen's d / Cliff's delta. Every comparison also
gets the paper's test (``student_t_paper``: Student's t on single responses). Each row's n, mean and
diff are those its test used. Effect-size and difference CIs come from a bootstrap over posts.
"""

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carelens.analysis import stats
from carelens.analysis.groups import ALL, ORIGINAL, RATE_METRICS, AnalysisData
from carelens.analysis.settings import AnalysisConfig

PAIRED_TESTS = {"t": "paired_t", "wilcoxon": "wilcoxon", "permutation": "permutation"}
INDEPENDENT_TESTS = {"welch": "welch_t", "mann_whitney": "mann_whitney", "student": "student_t"}
PAPER_TEST = "student_t_paper"
RANK_TESTS = {"wilcoxon", "mann_whitney"}


@dataclass(frozen=True)
class Cell:
    """What one comparison compares: ``group`` (or a condition, or a responder) against ``reference``."""

    kind: str
    metric: str
    model: str
    condition: str
    stratum: str
    group: str
    reference: str

    def seed(self, base: int) -> int:
        key = "|".join(
            [self.kind, self.metric, self.model, self.condition, self.stratum, self.group, self.reference]
        )
        return (base * 1_000_003 + zlib.crc32(key.encode())) % (2**32)


def _post_means(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("post_id", sort=True)["value"].mean()


def _units(frame: pd.DataFrame, aggregate: str) -> stats.Sample:
    """The units a test uses (single responses or post means) and the post code of each."""
    if aggregate == "post":
        means = _post_means(frame)
        return stats.Sample(means.to_numpy(float), np.arange(len(means)))
    codes, _ = pd.factorize(frame["post_id"], sort=True)
    return stats.Sample(frame["value"].to_numpy(float), codes.astype(np.int64))


def _ci_columns(
    prefix: str, replicates: dict[str, np.ndarray] | None, key: str, level: float
) -> dict[str, float]:
    low, high = stats.percentile_ci(replicates[key], level) if replicates else (np.nan, np.nan)
    return {f"{prefix}ci_low": low, f"{prefix}ci_high": high}


def _is_paired(x: pd.DataFrame, y: pd.DataFrame, min_posts: int) -> bool:
    """Paired when most posts of the smaller side were answered on both sides."""
    px, py = set(x["post_id"]), set(y["post_id"])
    common = len(px & py)
    return common >= min_posts and common >= 0.5 * min(len(px), len(py))


def _base(cell: Cell, design: str) -> dict[str, Any]:
    return {
        "kind": cell.kind,
        "metric": cell.metric,
        "model": cell.model,
        "condition": cell.condition,
        "stratum": cell.stratum,
        "group": cell.group,
        "reference": cell.reference,
        "design": design,
    }


def _paired_rows(
    cell: Cell, x: pd.DataFrame, y: pd.DataFrame, config: AnalysisConfig, seed: int, level: float
) -> list[dict[str, Any]]:
    xm, ym = _post_means(x), _post_means(y)
    common = xm.index.intersection(ym.index)
    xv, yv = xm[common].to_numpy(float), ym[common].to_numpy(float)
    diff = xv - yv
    shared = {
        "aggregation": "post",
        "paired": True,
        "n": len(x[x["post_id"].isin(common)]),
        "n_posts": len(common),
        "ref_n": len(y[y["post_id"].isin(common)]),
        "ref_n_posts": len(common),
        **_summary(xv, yv),
        "unit_sd": float(np.std(diff, ddof=1)) if len(diff) > 1 else np.nan,
        "n_units": len(common),
        "ref_n_units": len(common),
    }
    boot = None
    if config.bootstrap and len(common) >= config.min_posts:
        boot = stats.bootstrap_paired(xv, yv, config.bootstrap, np.random.default_rng(seed))
    spread = {**_ci_columns("diff_", boot, "diff", level), **_ci_columns("pct_", boot, "pct_diff", level)}
    if len(common) < config.min_posts:
        note = f"only {len(common)} post(s) on both sides; at least {config.min_posts} needed"
        results = [stats.Result(t, np.nan, np.nan, note=note) for t in PAIRED_TESTS.values()]
    else:
        results = [
            stats.paired_t(xv, yv),
            stats.wilcoxon(xv, yv),
            stats.permutation(xv, yv, config.permutations, seed),
        ]
    return _test_rows(results, {**shared, **spread}, boot, level,
                      ("cohens_dz", stats.cohens_dz(xv, yv)), stats.cliffs_delta(xv, yv))


def _independent_rows(
    cell: Cell, x: pd.DataFrame, y: pd.DataFrame, config: AnalysisConfig, seed: int, level: float
) -> list[dict[str, Any]]:
    ux, uy = _units(x, config.aggregate), _units(y, config.aggregate)
    sd_x = float(np.std(ux.values, ddof=1)) if len(ux.values) > 1 else np.nan
    sd_y = float(np.std(uy.values, ddof=1)) if len(uy.values) > 1 else np.nan
    nx, ny = len(ux.values), len(uy.values)
    pooled = np.sqrt(((nx - 1) * sd_x**2 + (ny - 1) * sd_y**2) / (nx + ny - 2)) if nx + ny > 2 else np.nan
    shared = {
        "aggregation": config.aggregate,
        "paired": False,
        "n": len(x),
        "n_posts": x["post_id"].nunique(),
        "ref_n": len(y),
        "ref_n_posts": y["post_id"].nunique(),
        **_summary(ux.values, uy.values),
        "unit_sd": pooled,
        "n_units": nx,
        "ref_n_units": ny,
    }
    enough = ux.n_posts >= config.min_posts and uy.n_posts >= config.min_posts
    boot = None
    if config.bootstrap and enough:
        boot = stats.bootstrap_independent(ux, uy, config.bootstrap, np.random.default_rng(seed))
    spread = {**_ci_columns("diff_", boot, "diff", level), **_ci_columns("pct_", boot, "pct_diff", level)}
    if enough:
        results = [
            stats.welch_t(ux.values, uy.values),
            stats.mann_whitney(ux.values, uy.values),
            stats.student_t(ux.values, uy.values),
        ]
    else:
        note = f"posts: {ux.n_posts} vs {uy.n_posts}; at least {config.min_posts} each needed"
        results = [stats.Result(t, np.nan, np.nan, note=note) for t in INDEPENDENT_TESTS.values()]
    return _test_rows(results, {**shared, **spread}, boot, level,
                      ("cohens_d", stats.cohens_d(ux.values, uy.values)),
                      stats.cliffs_delta(ux.values, uy.values))


def _test_rows(results: list[Any], columns: dict[str, Any], boot: Any, level: float,
               mean_effect: tuple[str, float], cliffs: float) -> list[dict[str, Any]]:
    """One row per test: rank tests carry Cliff's delta, mean tests the given d (and its CI)."""
    rows = []
    for result in results:
        name, effect = ("cliffs_delta", cliffs) if result.test in RANK_TESTS else mean_effect
        rows.append({**columns, "test": result.test, "statistic": result.statistic, "df": result.df,
                     "p": result.p, "note": result.note, "effect_name": name, "effect": effect,
                     **_ci_columns("", boot, name, level)})
    return rows


def _summary(xv: np.ndarray, yv: np.ndarray) -> dict[str, float]:
    """Means, sds, and the raw and % difference of x against the reference y."""
    mean_x, mean_y = float(np.mean(xv)), float(np.mean(yv))
    return {
        "mean": mean_x,
        "ref_mean": mean_y,
        "sd": float(np.std(xv, ddof=1)) if len(xv) > 1 else np.nan,
        "ref_sd": float(np.std(yv, ddof=1)) if len(yv) > 1 else np.nan,
        "diff": mean_x - mean_y,
        "pct_diff": 100 * (mean_x - mean_y) / mean_y if mean_y else np.nan,
    }


def _paper_row(x: pd.DataFrame, y: pd.DataFrame) -> dict[str, Any]:
    """The paper's method: Student's t on single responses, no correction, no effect-size CI."""
    xv, yv = x["value"].to_numpy(float), y["value"].to_numpy(float)
    result = stats.student_t(xv, yv)
    return {
        "aggregation": "response",
        "paired": False,
        "n": len(xv),
        "n_posts": x["post_id"].nunique(),
        "ref_n": len(yv),
        "ref_n_posts": y["post_id"].nunique(),
        **_summary(xv, yv),
        "test": PAPER_TEST,
        "statistic": result.statistic,
        "df": result.df,
        "p": result.p,
        "note": result.note,
        "effect_name": "cohens_d",
        "effect": stats.cohens_d(xv, yv),
        "ci_low": np.nan,
        "ci_high": np.nan,
    }


def compare_cell(
    cell: Cell, x: pd.DataFrame, y: pd.DataFrame, paired: bool, config: AnalysisConfig, design: str, seed: int
) -> list[dict[str, Any]]:
    """The findings rows of one comparison of x (the group) against y (the reference)."""
    level = 1 - config.alpha
    cell_seed = cell.seed(seed)
    rows = (_paired_rows if paired else _independent_rows)(cell, x, y, config, cell_seed, level)
    primary = PAIRED_TESTS[config.paired_test] if paired else INDEPENDENT_TESTS[config.independent_test]
    for row in rows:
        row["primary"] = row["test"] == primary
    rows.append({**_paper_row(x, y), "primary": False})
    return [{**_base(cell, design), **row} for row in rows]


def _rate_row(
    cell: Cell, x: pd.DataFrame, y: pd.DataFrame, config: AnalysisConfig, design: str, seed: int
) -> dict[str, Any]:
    """Two status rates compared with Fisher's exact test; the CI of the rate difference resamples posts."""
    ex, ey = int(x["value"].sum()), int(y["value"].sum())
    result = stats.fisher_exact(ex, len(x), ey, len(y))
    rx, ry = ex / len(x), ey / len(y)
    boot = None
    if config.bootstrap:
        boot = stats.bootstrap_independent(
            _units(x, "response"),
            _units(y, "response"),
            config.bootstrap,
            np.random.default_rng(cell.seed(seed)),
        )
    level = 1 - config.alpha
    return {
        **_base(cell, design),
        "aggregation": "response",
        "paired": False,
        "n": len(x),
        "n_posts": x["post_id"].nunique(),
        "ref_n": len(y),
        "ref_n_posts": y["post_id"].nunique(),
        "mean": rx,
        "ref_mean": ry,
        "diff": rx - ry,
        "pct_diff": 100 * (rx - ry) / ry if ry else np.nan,
        "test": "fisher",
        "statistic": result.statistic,
        "p": result.p,
        "note": result.note,
        "effect_name": "rate_difference",
        "effect": rx - ry,
        **_ci_columns("", boot, "diff", level),
        **_ci_columns("diff_", boot, "diff", level),
        "primary": True,
    }


def _reference_pool(cell_rows: pd.DataFrame, stratum: str) -> pd.DataFrame:
    return cell_rows[cell_rows["stratum"].isin([stratum, ORIGINAL])]


def group_comparisons(
    data: AnalysisData, observations: pd.DataFrame, config: AnalysisConfig, seed: int, rates: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Each group against the reference group, per metric x responder x condition x stratum.

    Returns the rows and the number of cells skipped because the reference group was absent.
    """
    rows: list[dict[str, Any]] = []
    missing_reference = 0
    paired_design = data.design == "counterfactual"
    for (metric, model, condition), cell_rows in observations.groupby(["metric", "responder", "condition"]):
        if rates and cell_rows["value"].sum() == 0:
            continue
        for stratum in data.strata:
            pool = _reference_pool(cell_rows, stratum)
            ref = pool[pool["group"] == data.reference]
            others = sorted(set(pool.loc[pool["stratum"] == stratum, "group"]) - {data.reference})
            if ref.empty:
                missing_reference += bool(others)
                continue
            for group in others:
                x = pool[(pool["group"] == group) & (pool["stratum"] == stratum)]
                cell = Cell(
                    "rate_gap" if rates else "group_gap",
                    metric,
                    model,
                    condition,
                    stratum,
                    group,
                    data.reference,
                )
                if rates:
                    rows.append(_rate_row(cell, x, ref, config, data.design, seed))
                else:
                    rows += compare_cell(cell, x, ref, paired_design, config, data.design, seed)
    return rows, missing_reference


def _reference_rows(data: AnalysisData, observations: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows condition and responder comparisons use: the originals (counterfactual) or all, each
    reply once (a random control group can hold a reply that is also in a race group)."""
    if data.design == "counterfactual":
        return observations[observations["stratum"] == ORIGINAL], data.control
    return observations.drop_duplicates(["response_id", "metric"]), ALL


def reference_condition(
    observations: pd.DataFrame, config: AnalysisConfig, study_conditions: list[str], peer: str
) -> str | None:
    """The configured reference condition, else the study's first condition present, else the first seen."""
    present = sorted(observations.loc[observations["responder"] != peer, "condition"].unique())
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
    pool, group = _reference_rows(data, data.observations)
    for (metric, model), cell_rows in pool.groupby(["metric", "responder"]):
        y = cell_rows[cell_rows["condition"] == ref_condition]
        if y.empty:
            continue
        for condition in sorted(set(cell_rows["condition"]) - {ref_condition}):
            x = cell_rows[cell_rows["condition"] == condition]
            cell = Cell("condition_gap", metric, model, condition, ALL, group, ref_condition)
            rows += compare_cell(cell, x, y, _is_paired(x, y, config.min_posts), config, data.design, seed)
    return rows


def responder_comparisons(data: AnalysisData, config: AnalysisConfig, seed: int) -> list[dict[str, Any]]:
    """Every responder (per condition) against the peers' replies, per metric."""
    rows: list[dict[str, Any]] = []
    pool, group = _reference_rows(data, data.observations)
    for metric, metric_rows in pool.groupby("metric"):
        y = metric_rows[metric_rows["responder"] == config.peer]
        if y.empty:
            continue
        others = metric_rows[metric_rows["responder"] != config.peer]
        for (model, condition), x in others.groupby(["responder", "condition"]):
            cell = Cell("responder_gap", metric, model, condition, ALL, group, config.peer)
            rows += compare_cell(cell, x, y, _is_paired(x, y, config.min_posts), config, data.design, seed)
    return rows


def _describe(values: np.ndarray, level: float) -> tuple[float, float, float, float]:
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
    low, high = stats.mean_ci(values, level)
    return mean, sd, low, high


def descriptives(
    data: AnalysisData, observations: pd.DataFrame, config: AnalysisConfig
) -> list[dict[str, Any]]:
    """n, mean, sd and CI of every metric x responder x condition x stratum x group, per response and
    per post.

    The main columns use the configured aggregation; ``diff``/``pct_diff`` are against the reference
    group of the same cell (the originals for cue strata).
    """
    level = 1 - config.alpha
    rows: list[dict[str, Any]] = []
    keys = ["metric", "responder", "condition", "stratum", "group"]
    for (metric, model, condition, stratum, group), frame in observations.groupby(keys):
        values = frame["value"].to_numpy(float)
        posts = _post_means(frame).to_numpy(float)
        per_response, per_post = _describe(values, level), _describe(posts, level)
        main = per_post if config.aggregate == "post" else per_response
        kind = "rate" if metric in RATE_METRICS.values() else "descriptive"
        rows.append(
            {
                "kind": kind,
                "metric": metric,
                "model": model,
                "condition": condition,
                "stratum": stratum,
                "group": group,
                "reference": data.reference,
                "design": data.design,
                "aggregation": config.aggregate,
                "n": len(values),
                "n_posts": len(posts),
                "mean": main[0],
                "sd": main[1],
                "mean_ci_low": main[2],
                "mean_ci_high": main[3],
                "mean_per_response": per_response[0],
                "mean_per_post": per_post[0],
                "test": "none",
                "primary": False,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return rows
    keys = ["metric", "model", "condition", "stratum"]
    ref = table[table["group"] == data.reference].set_index(keys)["mean"]
    same_stratum = ref.reindex(pd.MultiIndex.from_frame(table[keys])).to_numpy()
    originals = ref.reindex(pd.MultiIndex.from_frame(table[keys].assign(stratum=ORIGINAL))).to_numpy()
    table["ref_mean"] = np.where(np.isnan(same_stratum), originals, same_stratum)
    table["diff"] = table["mean"] - table["ref_mean"]
    table["pct_diff"] = 100 * table["diff"] / table["ref_mean"].replace(0, np.nan)
    return table.to_dict("records")  # type: ignore[return-value]
