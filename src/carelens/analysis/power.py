"""Power: posts needed to detect a gap, and the minimal detectable effect of a finished comparison.

Both use statsmodels' t-test power: the one-sample form for paired designs (the same posts under two
cues or conditions: the effect is d_z, the gap over the sd of the per-post differences) and the
two-sample form for independent groups (the effect is d, the gap over the pooled sd).
"""

import math
from functools import lru_cache

import numpy as np
from statsmodels.stats.power import TTestIndPower, TTestPower


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
        return _scalar(TTestPower().solve_power(nobs=n, alpha=alpha, power=power, alternative="two-sided"))
    ratio = (n_reference or n) / n
    return _scalar(
        TTestIndPower().solve_power(nobs1=n, ratio=ratio, alpha=alpha, power=power, alternative="two-sided")
    )


def _scalar(value: object) -> float:
    """statsmodels' solve_power returns a float or a one-element array, depending on its version."""
    return float(np.asarray(value, dtype=float).reshape(-1)[0])
