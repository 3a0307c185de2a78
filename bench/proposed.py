"""Fixes this benchmark proposes for the app, kept here so their effect can be measured before anyone adopts them.

Nothing imports this module except bench/scale.py, and only when asked (--with-proposed-fix).
"""

import math

import numpy as np


def hodges_lehmann(x: np.ndarray, y: np.ndarray) -> tuple[float, tuple[float, float] | None]:
    """analysis.stats._hodges_lehmann from value counts instead of all n1*n2 differences; the same results.

    The metrics take few distinct values (counts of ten threats, 1..5 ratings, ratios of them), so the n1*n2
    differences are k1*k2 distinct values with multiplicities: order statistics come from their cumulative counts.
    Memory and time go from O(n1*n2) to O(k1*k2) (here at most a few thousand) plus O(n log n) for the counts.
    """
    from analysis.stats import CONFIDENCE, st

    x_values, x_counts = np.unique(x, return_counts=True)
    y_values, y_counts = np.unique(y, return_counts=True)
    differences = np.subtract.outer(x_values, y_values).ravel()
    weights = np.multiply.outer(x_counts, y_counts).ravel()
    order = np.argsort(differences, kind="stable")
    differences, cumulative = differences[order], np.cumsum(weights[order])
    m = int(cumulative[-1])

    def kth(k: int) -> float:  # the k-th smallest difference, from 1
        return float(differences[np.searchsorted(cumulative, k)])

    median = kth((m + 1) // 2) if m % 2 else (kth(m // 2) + kth(m // 2 + 1)) / 2
    z = st.norm.ppf(1 - (1 - CONFIDENCE) / 2)
    c = math.ceil(m / 2 - z * math.sqrt(m * (len(x) + len(y) + 1) / 12) - 0.5)
    return median, ((kth(c), kth(m - c + 1)) if c >= 1 else None)
