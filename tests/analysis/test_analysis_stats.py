"""Tests, effect sizes, corrections and the post bootstrap against independently computed values."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from carelens.analysis import stats

# R's `sleep` data (Cushny & Peebles): extra hours of sleep under two drugs, the same 10 patients.
SLEEP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])


def test_t_tests_match_r_sleep_example() -> None:
    # R: t.test(extra ~ group, data = sleep) -> t = -1.8608, df = 17.776, p-value = 0.07939
    welch = stats.welch_t(SLEEP_1, SLEEP_2)
    assert welch.statistic == pytest.approx(-1.8608, abs=1e-4)
    assert welch.df == pytest.approx(17.776, abs=1e-3)
    assert welch.p == pytest.approx(0.07939, abs=1e-5)
    # R: t.test(extra ~ group, data = sleep, var.equal = TRUE) -> t = -1.8608, df = 18, p-value = 0.07919
    student = stats.student_t(SLEEP_1, SLEEP_2)
    assert (student.statistic, student.df) == (pytest.approx(-1.8608, abs=1e-4), 18)
    assert student.p == pytest.approx(0.07919, abs=1e-5)
    # R: with(sleep, t.test(extra[group == 1], extra[group == 2], paired = TRUE))
    #    -> t = -4.0621, df = 9, p-value = 0.002833
    paired = stats.paired_t(SLEEP_1, SLEEP_2)
    assert (paired.statistic, paired.df) == (pytest.approx(-4.0621, abs=1e-4), 9)
    assert paired.p == pytest.approx(0.002833, abs=1e-6)


def test_wilcoxon_signed_rank_matches_r_example() -> None:
    # R ?wilcox.test (Hollander & Wolfe, depression scale before/after):
    # wilcox.test(x, y, paired = TRUE, alternative = "greater") -> V = 40, p-value = 0.01953
    x = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
    y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
    result = stats.wilcoxon(x, y)
    # two-sided p is twice the one-sided; scipy reports min(W+, W-) = 45 - 40 = 5
    assert result.p == pytest.approx(2 * 0.01953, abs=1e-4)
    assert result.statistic == 5


def test_mann_whitney_matches_r_example() -> None:
    # R ?wilcox.test: wilcox.test(x, y, alternative = "g") -> W = 35, p-value = 0.1272 (exact)
    x = np.array([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46])
    y = np.array([1.15, 0.88, 0.90, 0.74, 1.21])
    result = stats.mann_whitney(x, y)
    assert result.statistic == 35
    assert result.p == pytest.approx(2 * 0.1272, abs=1e-3)


def test_exact_permutation_test_enumerates_every_sign_pattern() -> None:
    diff = SLEEP_1 - SLEEP_2
    observed = abs(diff.mean())
    patterns = list(itertools.product((-1, 1), repeat=len(diff)))
    extreme = sum(abs(np.mean(np.array(s) * diff)) >= observed - 1e-12 for s in patterns)
    result = stats.permutation(SLEEP_1, SLEEP_2, resamples=9999, seed=1)
    assert result.p == pytest.approx(extreme / len(patterns))
    assert result.statistic == pytest.approx(diff.mean())


def test_monte_carlo_sign_flips_agree_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(3)
    for shift in (0.0, 0.08, 0.2):
        diff = rng.normal(shift, 1.0, 300)
        ours = stats.sign_flip_pvalue(diff, 9999, np.random.default_rng(1))
        theirs = sps.permutation_test(
            (diff,),
            lambda v, axis: v.mean(axis=axis),
            permutation_type="samples",
            vectorized=True,
            n_resamples=9999,
            rng=np.random.default_rng(2),
        ).pvalue
        assert ours == pytest.approx(theirs, abs=0.015)


def test_degenerate_data_gives_nan_with_a_note_not_an_error() -> None:
    same = np.array([1.0, 1.0, 1.0])
    assert math.isnan(stats.paired_t(same, same).p)
    assert math.isnan(stats.wilcoxon(same, same).p)
    assert stats.permutation(same, same, 999, 0).p == 1.0
    result = stats.welch_t(np.array([1.0]), np.array([2.0, 3.0]))
    assert math.isnan(result.p) and result.note


def test_effect_sizes_against_hand_formulas() -> None:
    x, y = SLEEP_1, SLEEP_2
    pooled = math.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1)) / (len(x) + len(y) - 2))
    assert stats.cohens_d(x, y) == pytest.approx((x.mean() - y.mean()) / pooled)
    diff = x - y
    assert stats.cohens_dz(x, y) == pytest.approx(diff.mean() / diff.std(ddof=1))
    # Cliff's delta by its definition: P(x > y) - P(x < y) over all pairs
    signs = [np.sign(a - b) for a in x for b in y]
    assert stats.cliffs_delta(x, y) == pytest.approx(sum(signs) / len(signs))
    assert stats.cliffs_delta(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0


def test_fisher_exact_matches_hypergeometric_sum() -> None:
    # 7/20 refused vs 1/20: two-sided p sums hypergeometric probabilities no larger than the observed one
    table_p = sps.hypergeom(40, 8, 20)
    observed = table_p.pmf(7)
    expected = sum(table_p.pmf(k) for k in range(0, 9) if table_p.pmf(k) <= observed * (1 + 1e-7))
    assert stats.fisher_exact(7, 20, 1, 20).p == pytest.approx(expected)


def test_holm_and_benjamini_hochberg_by_hand() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # Holm: sorted 0.005*4, 0.01*3, 0.03*2, 0.04*1, made monotone -> 0.02, 0.03, 0.06, 0.06
    holm = stats.adjust(p, "holm")
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(holm[4])
    # BH: 0.005*4/1, 0.01*4/2, 0.03*4/3, 0.04*4/4 = 0.02, 0.02, 0.04, 0.04 (already monotone)
    assert stats.adjust(p, "fdr_bh")[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.adjust(p, "bonferroni")[:4] == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert stats.adjust(p, "none")[:4] == pytest.approx(p[:4])


def test_mean_ci_is_the_t_interval() -> None:
    values = np.array([2.0, 4.0, 4.0, 5.0, 7.0])
    half = sps.t.ppf(0.975, 4) * values.std(ddof=1) / math.sqrt(5)
    assert stats.mean_ci(values, 0.95) == pytest.approx((4.4 - half, 4.4 + half))


def test_resample_weights_draw_posts_with_replacement() -> None:
    weights = stats.resample_weights(7, 500, np.random.default_rng(0))
    assert weights.shape == (500, 7)
    assert (weights.sum(axis=1) == 7).all()
    assert weights.mean() == pytest.approx(1.0, abs=0.05)


def _expand(sample: stats.Sample, post_weights: np.ndarray) -> np.ndarray:
    """The resampled data: each unit repeated as often as its post was drawn."""
    return np.repeat(sample.values, post_weights[sample.post].astype(int))


def test_independent_bootstrap_replicates_equal_naive_resampling() -> None:
    rng = np.random.default_rng(5)
    x = stats.Sample(rng.integers(0, 3, 40).astype(float), np.repeat(np.arange(10), 4))
    y = stats.Sample(rng.normal(1, 1, 30), np.repeat(np.arange(6), 5))
    wx, wy = stats.resample_weights(10, 25, rng), stats.resample_weights(6, 25, rng)
    replicates = stats.independent_replicates(x, y, wx, wy)
    for b in range(25):
        rx, ry = _expand(x, wx[b]), _expand(y, wy[b])
        assert replicates["diff"][b] == pytest.approx(rx.mean() - ry.mean())
        assert replicates["pct_diff"][b] == pytest.approx(100 * (rx.mean() - ry.mean()) / ry.mean())
        assert replicates["cohens_d"][b] == pytest.approx(stats.cohens_d(rx, ry))
        assert replicates["hedges_g"][b] == pytest.approx(stats.hedges_g(rx, ry))
        assert replicates["cliffs_delta"][b] == pytest.approx(stats.cliffs_delta(rx, ry), abs=1e-6)


def test_paired_bootstrap_replicates_equal_naive_resampling() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(1, 1, 12), rng.normal(1.2, 1, 12)
    weights = stats.resample_weights(12, 20, rng)
    replicates = stats.paired_replicates(x, y, weights)
    for b in range(20):
        index = np.repeat(np.arange(12), weights[b].astype(int))
        assert replicates["diff"][b] == pytest.approx(np.mean(x[index] - y[index]))
        assert replicates["cohens_dz"][b] == pytest.approx(stats.cohens_dz(x[index], y[index]))
        assert replicates["rank_biserial"][b] == pytest.approx(
            stats.rank_biserial(x[index], y[index]), abs=1e-9
        )


def test_post_bootstrap_is_wider_than_a_response_bootstrap_when_posts_cluster() -> None:
    """Replies to the same post are alike: resampling posts must widen the interval accordingly."""
    rng = np.random.default_rng(9)
    post_effect = rng.normal(0, 1, 30)
    posts = np.repeat(np.arange(30), 10)
    x = stats.Sample(post_effect[posts] + rng.normal(0, 0.2, 300), posts)
    y = stats.Sample(rng.normal(0, 1, 30)[posts] + rng.normal(0, 0.2, 300), posts)
    clustered = stats.bootstrap_independent(x, y, 1000, np.random.default_rng(1))["diff"]
    units = np.arange(300)
    naive = stats.bootstrap_independent(
        stats.Sample(x.values, units), stats.Sample(y.values, units), 1000, np.random.default_rng(1)
    )["diff"]
    assert np.std(clustered) > 2 * np.std(naive)


def test_percentile_ci() -> None:
    values = np.arange(1, 1001, dtype=float)
    assert stats.percentile_ci(values, 0.95) == pytest.approx(np.percentile(values, [2.5, 97.5]))
    assert all(math.isnan(v) for v in stats.percentile_ci(np.array([1.0, np.nan]), 0.95))


def test_rank_biserial_is_the_signed_rank_sums_of_scipys_wilcoxon() -> None:
    """r = (T+ - T-) / (T+ + T-): T+ from scipy's one-sided Wilcoxon statistic, zeros dropped."""
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 3, 40).astype(float), rng.integers(0, 3, 40).astype(float)
    nonzero = int(np.sum(x != y))
    t_plus = sps.wilcoxon(x, y, alternative="greater", zero_method="wilcox").statistic
    total = nonzero * (nonzero + 1) / 2
    assert stats.rank_biserial(x, y) == pytest.approx((2 * t_plus - total) / total)
    assert stats.rank_biserial(SLEEP_2, SLEEP_1) == pytest.approx(1.0)  # every patient slept longer
    assert math.isnan(stats.rank_biserial(x, x))


def test_hedges_g_is_cohens_d_with_the_small_sample_correction() -> None:
    x, y = SLEEP_2, SLEEP_1
    n = len(x) + len(y)
    pooled = math.sqrt(((len(x) - 1) * np.var(x, ddof=1) + (len(y) - 1) * np.var(y, ddof=1)) / (n - 2))
    d = (x.mean() - y.mean()) / pooled
    assert stats.hedges_g(x, y) == pytest.approx(d * (1 - 3 / (4 * n - 9)))
