"""Power: posts needed to detect a gap, and the minimal detectable effect of a finished comparison.

Both use the t-test's power: the one-sample form for paired designs (the same posts under two
cues or conditions: the effect is d_z, the gap over the sd of the per-post differences) and the
two-sample form for independent groups (the effect is d, the gap over the pooled sd). Posts needed come
from statsmodels. The detectable effect is found by scipy's root finder on the power of the noncentral
t (both tails, each as an upper tail, the form that stays finite), with a bracket that widens until the
power is reached: statsmodels' own solver fails there for few posts at a small (corrected) alpha, and
can return an effect whose power is far from the one asked for.
"""

import math
from functools import lru_cache

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower, TTestPower

MAX_EFFECT = 1e6
"""No detectable effect (NaN) is reported past this standardised effect."""


def posts_needed(effect_size: float, power: float, alpha: float, paired: bool) -> int:
    """Posts needed (per group when independent) to detect a standardised effect at the given power."""
    if not effect_size or not math.isfinite(effect_size):
        raise ValueError("the effect size must be a finite, non-zero number")
    solver = TTestPower() if paired else TTestIndPower()
    n = solver.solve_power(effect_size=abs(effect_size), alpha=alpha, power=power, alternative="two-sided")
    return math.ceil(_scalar(n))


@lru_cache(maxsize=4096)
def detectable_effect(
    n: int, power: float, alpha: float, paired: bool, n_reference: int | None = None
) -> float:
    """The smallest standardised effect (d_z paired, d independent) detectable with ``n`` units.

    ``n_reference`` is the reference side's size for independent groups (default: ``n``).
    """
    if n < 2 or (not paired and (n_reference or n) < 2):
        return float("nan")
    if paired:
        df, scale = n - 1, math.sqrt(n)
    else:
        m = n_reference or n
        df, scale = n + m - 2, math.sqrt(n * m / (n + m))
    critical = float(stats.t.isf(alpha / 2, df))

    def shortfall(effect: float) -> float:
        noncentrality = effect * scale
        tails = stats.nct.sf(critical, df, noncentrality) + stats.nct.sf(critical, df, -noncentrality)
        return float(tails) - power

    if shortfall(0.0) >= 0:  # a power at or below alpha: any effect is "detectable"
        return 0.0
    high = 1.0
    while shortfall(high) < 0:
        high *= 4
        if high > MAX_EFFECT:
            return float("nan")
    return float(optimize.brentq(shortfall, 0.0, high, xtol=1e-12))


def _scalar(value: object) -> float:
    """statsmodels' solve_power returns a float or a one-element array, depending on its version."""
    return float(np.asarray(value, dtype=float).reshape(-1)[0])
