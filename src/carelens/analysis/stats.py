"""Hypothesis tests, effect sizes, the post-resampling bootstrap and multiple-comparison correction.

Tests come from scipy, corrections from statsmodels. Each test has the effect size that matches it:
Cohen's d_z (mean difference over the sd of the differences) with the paired t and permutation tests,
the matched-pairs rank-biserial correlation with the Wilcoxon signed-rank test, Hedges' g (Cohen's d
with the small-sample correction) with Welch's and Student's t, Cliff's delta with Mann-Whitney U.
The bootstrap resamples posts, never single responses: a post's replies stay together.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

CORRECTIONS = {"holm": "holm", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni"}


@dataclass(frozen=True)
class Result:
    """One test's outcome. ``p`` is NaN when the test cannot be computed (``note`` says why)."""

    test: str
    statistic: float
    p: float
    df: float = float("nan")
    note: str = ""


def _guard(test: str, run: Callable[[], tuple[float, float, float]]) -> Result:
    """Run a scipy test; degenerate data (constant values, too few points) gives NaN with a note."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            statistic, p, df = run()
        except ValueError as exc:
            return Result(test, float("nan"), float("nan"), note=str(exc))
    note = "" if np.isfinite(p) else "not computable (constant or too few values)"
    return Result(test, float(statistic), float(p), float(df), note)


def paired_t(x: np.ndarray, y: np.ndarray) -> Result:
    def run() -> tuple[float, float, float]:
        res = stats.ttest_rel(x, y)
        return res.statistic, res.pvalue, res.df

    return _guard("paired_t", run)


def wilcoxon(x: np.ndarray, y: np.ndarray) -> Result:
    """Wilcoxon signed-rank test; zero differences are dropped (Wilcoxon's method)."""

    def run() -> tuple[float, float, float]:
        if np.all(x == y):
            return float("nan"), float("nan"), float("nan")
        res = stats.wilcoxon(x, y)
        return res.statistic, res.pvalue, float("nan")

    return _guard("wilcoxon", run)


def _mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


def sign_flip_pvalue(diff: np.ndarray, resamples: int, rng: np.random.Generator) -> float:
    """Two-sided Monte-Carlo p-value of the mean of ``diff`` under random sign flips, defined exactly as
    ``scipy.stats.permutation_test`` defines it (the observed statistic counts as one resample).

    scipy's paired resampler loops over the pairs in Python (about 0.5 s per 1,000-post test); this is the
    same null distribution drawn as one matrix product.
    """
    observed = float(np.mean(diff))
    null = np.empty(resamples)
    step = max(1, 4_000_000 // max(1, len(diff)))
    for start in range(0, resamples, step):
        signs = rng.integers(0, 2, size=(min(step, resamples - start), len(diff)), dtype=np.int8) * 2 - 1
        null[start : start + len(signs)] = signs @ diff / len(diff)
    gamma = abs(1e-14 * observed)
    less = (np.sum(null <= observed + gamma) + 1) / (resamples + 1)
    greater = (np.sum(null >= observed - gamma) + 1) / (resamples + 1)
    return float(min(1.0, 2 * min(less, greater)))


def permutation(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> Result:
    """Paired permutation test of the mean difference (each pair's difference flips sign at random).

    Exact (every sign pattern, ``scipy.stats.permutation_test``) when 2^n <= resamples, Monte-Carlo
    (``sign_flip_pvalue``) otherwise.
    """

    def run() -> tuple[float, float, float]:
        diff = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
        if np.all(diff == 0):
            return 0.0, 1.0, float("nan")
        rng = np.random.default_rng(seed)
        if 2 ** len(diff) > resamples:
            return float(np.mean(diff)), sign_flip_pvalue(diff, resamples, rng), float("nan")
        res = stats.permutation_test(
            (diff,),
            _mean,
            permutation_type="samples",
            vectorized=True,
            n_resamples=resamples,
            alternative="two-sided",
            rng=rng,
        )
        return res.statistic, res.pvalue, float("nan")

    return _guard("permutation", run)


def welch_t(x: np.ndarray, y: np.ndarray) -> Result:
    def run() -> tuple[float, float, float]:
        res = stats.ttest_ind(x, y, equal_var=False)
        return res.statistic, res.pvalue, res.df

    return _guard("welch_t", run)


def student_t(x: np.ndarray, y: np.ndarray) -> Result:
    """Student's t with pooled variance: the paper's test, kept for reproduction."""

    def run() -> tuple[float, float, float]:
        res = stats.ttest_ind(x, y, equal_var=True)
        return res.statistic, res.pvalue, res.df

    return _guard("student_t", run)


def mann_whitney(x: np.ndarray, y: np.ndarray) -> Result:
    def run() -> tuple[float, float, float]:
        res = stats.mannwhitneyu(x, y, alternative="two-sided")
        return res.statistic, res.pvalue, float("nan")

    return _guard("mann_whitney", run)


def fisher_exact(events_x: int, n_x: int, events_y: int, n_y: int) -> Result:
    """Fisher's exact test of two rates (events out of n)."""

    def run() -> tuple[float, float, float]:
        res = stats.fisher_exact([[events_x, n_x - events_x], [events_y, n_y - events_y]])
        return res.statistic, res.pvalue, float("nan")

    return _guard("fisher", run)


def cohens_d(x: np.ndarray, y: np.ndarray) -> float:
    """(mean x - mean y) / pooled sd."""
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        return float("nan")
    pooled = np.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2))
    return float((np.mean(x) - np.mean(y)) / pooled) if pooled > 0 else float("nan")


def cohens_dz(x: np.ndarray, y: np.ndarray) -> float:
    """Mean of the paired differences over their sd."""
    diff = np.asarray(x) - np.asarray(y)
    if len(diff) < 2:
        return float("nan")
    sd = np.std(diff, ddof=1)
    return float(np.mean(diff) / sd) if sd > 0 else float("nan")


def hedges_correction(n_x: np.ndarray | float, n_y: np.ndarray | float) -> np.ndarray | float:
    """The small-sample factor J that turns Cohen's d into Hedges' g: 1 - 3 / (4 (n_x + n_y) - 9)."""
    return 1 - 3 / (4 * (np.asarray(n_x) + np.asarray(n_y)) - 9)


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's d (pooled sd) times the small-sample correction J."""
    return float(cohens_d(x, y) * hedges_correction(len(x), len(y)))


def rank_biserial(x: np.ndarray, y: np.ndarray) -> float:
    """The matched-pairs rank-biserial correlation of the Wilcoxon signed-rank test.

    (sum of the ranks of positive differences - sum of the ranks of negative ones) / sum of all ranks,
    ranks of |x - y| with zero differences dropped (as the test drops them); 1 when every pair favours x.
    """
    diff = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    diff = diff[diff != 0]
    if len(diff) == 0:
        return float("nan")
    ranks = stats.rankdata(np.abs(diff))
    return float(np.sum(np.sign(diff) * ranks) / np.sum(ranks))


def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """P(x > y) - P(x < y), from the Mann-Whitney U of x: 2U / (n_x n_y) - 1."""
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    u = stats.mannwhitneyu(x, y, alternative="two-sided").statistic
    return float(2 * u / (len(x) * len(y)) - 1)


def mean_ci(values: np.ndarray, level: float) -> tuple[float, float]:
    """The t interval of a mean."""
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    sem = stats.sem(values)
    if sem == 0:
        mean = float(np.mean(values))
        return mean, mean
    low, high = stats.t.interval(level, n - 1, loc=np.mean(values), scale=sem)
    return float(low), float(high)


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values over one family (statsmodels ``multipletests``); NaNs stay NaN, out of the family."""
    p = np.asarray(p, dtype=float)
    out = p.copy()
    finite = np.isfinite(p)
    if method == "none" or not finite.any():
        return out
    out[finite] = multipletests(p[finite], method=CORRECTIONS[method])[1]
    return out


# ---- the post-resampling bootstrap ----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The units of one side of a comparison (responses or post means) and the post of each unit."""

    values: np.ndarray
    post: np.ndarray  # integer code of the unit's post, 0..n_posts-1

    @property
    def n_posts(self) -> int:
        return int(self.post.max()) + 1 if len(self.post) else 0

    def post_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per post: number of units, their sum and their sum of squares."""
        size = self.n_posts
        return (
            np.bincount(self.post, minlength=size).astype(float),
            np.bincount(self.post, weights=self.values, minlength=size),
            np.bincount(self.post, weights=self.values**2, minlength=size),
        )


def resample_weights(n_posts: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each post is drawn in each bootstrap resample (resamples x n_posts)."""
    draws = rng.integers(0, n_posts, size=(resamples, n_posts))
    draws += (np.arange(resamples) * n_posts)[:, None]
    return np.bincount(draws.ravel(), minlength=resamples * n_posts).reshape(resamples, n_posts).astype(float)


def _weighted_moments(sample: Sample, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count, total, squares = sample.post_sums()
    n, s, q = weights @ count, weights @ total, weights @ squares
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = (q - s * mean) / (n - 1)
    return n, mean, np.maximum(var, 0.0)


def weighted_cliffs_delta(
    x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray, chunk_cells: int = 4_000_000
) -> np.ndarray:
    """Cliff's delta of x against y for each row of unit weights ``wx`` (b x n_x) and ``wy`` (b x n_y).

    Equal to ``cliffs_delta`` of the data with each unit repeated as often as its weight.
    """
    order = np.argsort(y, kind="stable")
    ys = y[order]
    below_at = np.searchsorted(ys, x, side="left")
    above_from = np.searchsorted(ys, x, side="right")
    out = np.empty(wx.shape[0])
    step = max(1, chunk_cells // max(1, len(x) + len(y)))
    for start in range(0, wx.shape[0], step):
        wxc = wx[start : start + step].astype(np.float32)
        wyc = wy[start : start + step][:, order].astype(np.float32)
        cum = np.zeros((wyc.shape[0], wyc.shape[1] + 1), dtype=np.float32)
        np.cumsum(wyc, axis=1, out=cum[:, 1:])
        below = cum[:, below_at]
        above = cum[:, -1:] - cum[:, above_from]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + step] = np.sum(wxc * (below - above), axis=1, dtype=np.float64) / (
                wxc.sum(axis=1, dtype=np.float64) * wyc.sum(axis=1, dtype=np.float64)
            )
    return out


def bootstrap_independent(
    x: Sample, y: Sample, resamples: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Bootstrap distributions of diff, % diff, Cohen's d and Cliff's delta, resampling each side's posts."""
    wx = resample_weights(x.n_posts, resamples, rng)
    wy = resample_weights(y.n_posts, resamples, rng)
    return independent_replicates(x, y, wx, wy)


def independent_replicates(x: Sample, y: Sample, wx: np.ndarray, wy: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of ``bootstrap_independent`` for given post weights."""
    nx, mx, vx = _weighted_moments(x, wx)
    ny, my, vy = _weighted_moments(y, wy)
    diff = mx - my
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.sqrt(((nx - 1) * vx + (ny - 1) * vy) / (nx + ny - 2))
        return {
            "diff": diff,
            "pct_diff": 100 * diff / my,
            "cohens_d": diff / pooled,
            "hedges_g": diff / pooled * hedges_correction(nx, ny),
            "cliffs_delta": weighted_cliffs_delta(x.values, wx[:, x.post], y.values, wy[:, y.post]),
        }


def bootstrap_paired(
    x: np.ndarray, y: np.ndarray, resamples: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Bootstrap distributions for paired post-level values (x[i] and y[i] from post i)."""
    return paired_replicates(x, y, resample_weights(len(x), resamples, rng))


def paired_replicates(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of ``bootstrap_paired`` for given post weights."""
    posts = np.arange(len(x))
    n, mean_d, var_d = _weighted_moments(Sample(x - y, posts), w)
    ref = (w @ y) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "diff": mean_d,
            "pct_diff": 100 * mean_d / ref,
            "cohens_dz": mean_d / np.sqrt(var_d),
            "rank_biserial": weighted_rank_biserial(x - y, w),
        }


def weighted_rank_biserial(diff: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``rank_biserial`` of the differences for each row of pair weights ``w`` (b x n).

    Equal to ``rank_biserial`` of the data with each pair repeated as often as its weight: tied |d|
    share the mean of the ranks they span, and zero differences are dropped.
    """
    diff = np.asarray(diff, dtype=float)
    keep = diff != 0
    diff, w = diff[keep], w[:, keep]
    if len(diff) == 0:
        return np.full(w.shape[0], np.nan)
    order = np.argsort(np.abs(diff), kind="stable")
    levels, starts, inverse = np.unique(np.abs(diff)[order], return_index=True, return_inverse=True)
    del levels
    at_level = np.add.reduceat(w[:, order], starts, axis=1)
    below = np.cumsum(at_level, axis=1) - at_level
    rank = (below + (at_level + 1) / 2)[:, inverse]  # each sorted pair's rank, per resample
    weighted = w[:, order] * rank
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(weighted * np.sign(diff[order]), axis=1) / np.sum(weighted, axis=1)


def percentile_ci(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates (NaN when fewer than 10 are finite)."""
    finite = replicates[np.isfinite(replicates)]
    if len(finite) < 10:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)
