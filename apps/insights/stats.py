"""Small statistics of the recommendations: pure, so they can be checked by hand."""

import math

Z_95 = 1.959963984540054  # two-sided 95%


def wilson_lower_bound(successes: int, trials: int, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval of successes / trials (0.0 when there are no trials)."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))
