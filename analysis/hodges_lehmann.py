"""The Hodges-Lehmann shift of x relative to y and its confidence interval, as R's ``wilcox.test(conf.int = TRUE)``.

R (src/library/stats/R/wilcox.test.R, 4.2) computes the interval in one of two ways, and so does this module:
- exact, where R's p is exact (no ties and fewer than 50 values in each sample): the bounds are order statistics
  of the n1*n2 differences x_i - y_j, at ranks from ``qwilcox``, the quantiles of U's exact null distribution. When
  the samples are too small for the confidence asked, R keeps the widest interval and reports the level it reaches;
- otherwise, by inverting the normal approximation with tie correction and continuity correction: a bound is the
  shift d at which the test of x - d against y has z equal to the critical value. R finds it with ``uniroot`` to
  1e-4; z is a step function of d that jumps only where d equals a difference x_i - y_j, so this module finds
  that difference, the point R's root-finding converges to.
A one-sided alternative gives a one-sided bound: ``greater`` a lower bound (the upper is unbounded), ``less`` an
upper bound.

The estimate is the median of all differences, the Hodges-Lehmann estimator. (Where R's p is asymptotic its
printed estimate is instead a root of the same step function at z = 0, any point between the two middle differences
when there is an even number of them: the median is that interval's midpoint.)
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from analysis.ranks import Distinct, rank_sums

EXACT_MAX_N = 50  # as R's wilcox.test: exact only while every sample has fewer than 50 values
# qwilcox's fuzz against rounding in the summed probabilities (R's nmath/qwilcox.c).
_QWILCOX_FUZZ = 10 * np.finfo(float).eps


@dataclass(frozen=True)
class ShiftInterval:
    """A confidence interval for the shift; ``lower`` or ``upper`` is None where a one-sided bound leaves it open.

    ``confidence`` is the level the interval reaches: the one asked, or (as R reports with the warning "requested
    conf.level not achievable") the lower one that samples too small for it allow.
    """

    lower: float | None
    upper: float | None
    confidence: float
    exact: bool
    method: str


class _OrderedDifferences:
    """The n1*n2 differences x_i - y_j in ascending order, held as the k1*k2 distinct ones with their
    multiplicities: the same order statistics in O(k1*k2) memory instead of O(n1*n2) (10,000 participants would
    otherwise need 25 million)."""

    def __init__(self, x: Distinct, y: Distinct):
        differences = np.subtract.outer(x.values, y.values).ravel()
        weights = np.multiply.outer(x.counts, y.counts).ravel()
        order = np.argsort(differences, kind="stable")
        self.values = differences[order]
        self.cumulative = np.cumsum(weights[order])
        self.m = int(self.cumulative[-1])

    def kth(self, k: int) -> float:
        """The k-th smallest difference, counting from 1."""
        return float(self.values[np.searchsorted(self.cumulative, k)])

    def median(self) -> float:
        m = self.m
        return self.kth((m + 1) // 2) if m % 2 else (self.kth(m // 2) + self.kth(m // 2 + 1)) / 2


def estimate(x: Distinct, y: Distinct) -> float:
    """The Hodges-Lehmann shift: the median of all differences x_i - y_j."""
    return _OrderedDifferences(x, y).median()


@functools.lru_cache(maxsize=32)
def _u_frequencies(m: int, n: int) -> np.ndarray:
    """How many of the C(m + n, m) orderings of m x's and n y's without ties give U = 0 .. m*n (R's cwilcox).

    The largest value is an x, which beats all n y's, or a y, which adds nothing: f(u; m, n) = f(u - n; m - 1, n)
    + f(u; m, n - 1). Only additions of positive counts, so no cancellation even where the counts pass 2**53.
    """
    previous = [np.ones(1) for _ in range(n + 1)]  # no x: U = 0 whatever the number of y's
    for i in range(1, m + 1):
        current = [np.ones(1)]  # no y: U = 0
        for j in range(1, n + 1):
            counts = np.zeros(i * j + 1)
            counts[j : j + len(previous[j])] += previous[j]
            counts[: len(current[j - 1])] += current[j - 1]
            current.append(counts)
        previous = current
    return previous[n]


def _u_cdf(m: int, n: int) -> np.ndarray:
    """P(U <= q) for q = 0 .. m*n under H0 without ties, summed in R's order."""
    counts = _u_frequencies(m, n)
    return np.cumsum(counts / math.comb(m + n, n))


def qwilcox(p: float, m: int, n: int) -> int:
    """R's ``qwilcox(p, m, n)`` for p <= 0.5: the smallest q with P(U <= q) >= p, with R's fuzz."""
    if not 0 <= p <= 0.5:
        raise ValueError(f"qwilcox here takes p in [0, 0.5], got {p}")
    return int(np.searchsorted(_u_cdf(m, n), p - _QWILCOX_FUZZ, side="left"))


def pwilcox(q: int, m: int, n: int) -> float:
    """R's ``pwilcox(q, m, n)``: P(U <= q) under H0 without ties (0 below the support)."""
    return 0.0 if q < 0 else float(_u_cdf(m, n)[min(q, m * n)])


def _exact(ordered: _OrderedDifferences, n1: int, n2: int, alternative: str, confidence: float) -> ShiftInterval:
    alpha = 1 - confidence
    tail = alpha / 2 if alternative == "two-sided" else alpha
    # R: the q-th smallest and q-th largest differences, q at least 1 (the widest interval there is).
    q = max(1, qwilcox(tail, n1, n2))
    achieved = (2 if alternative == "two-sided" else 1) * pwilcox(q - 1, n1, n2)
    reached = 1 - achieved if achieved - alpha > alpha / 2 else confidence
    lower = None if alternative == "less" else ordered.kth(q)
    upper = None if alternative == "greater" else ordered.kth(n1 * n2 - q + 1)
    note = (
        f"; the samples are too small for {confidence:.0%}: the widest interval reaches {reached:.1%}"
        if reached != confidence
        else ""
    )
    return ShiftInterval(
        lower,
        upper,
        reached,
        exact=True,
        method=(
            f"{_bound(alternative, reached)} from the ordered differences x_i - y_j at the exact critical value of "
            f"U (R's qwilcox; no ties, n < 50){note}"
        ),
    )


def _bound(alternative: str, confidence: float) -> str:
    if alternative == "greater":
        return f"one-sided {confidence:.0%} lower bound"
    if alternative == "less":
        return f"one-sided {confidence:.0%} upper bound"
    return f"{confidence:.0%} CI"


def _standardised(x: Distinct, y: Distinct, d: float, alternative: str) -> float:
    """z of the test of x - d against y with R's tie and continuity correction (W in wilcox.test.R). The spread
    is never 0 here: that needs one value in each sample, which ``interval`` turns away first."""
    ranked = rank_sums(x.shifted(d), y)
    dz = ranked.u1 - x.n * y.n / 2
    correction = {"greater": 0.5, "less": -0.5}.get(alternative, 0.5 * float(np.sign(dz)))
    return (dz - correction) / ranked.sigma


def _root(x: Distinct, y: Distinct, distinct_differences: np.ndarray, zq: float, alternative: str) -> float:
    """The shift at which z crosses zq, as R's root(): an end of [min x - max y, max x - min y] when z is already
    past zq there, else the difference at which the non-increasing step function z(d) - zq changes sign."""
    low, high = distinct_differences[0], distinct_differences[-1]
    if _standardised(x, y, low, alternative) - zq <= 0:
        return float(low)
    if _standardised(x, y, high, alternative) - zq >= 0:
        return float(high)
    # Between consecutive differences z(d) is constant; find the first gap where it is below zq. The crossing is
    # at the difference that opens that gap (the sign at a difference itself lies between its neighbours').
    first, last = 0, len(distinct_differences) - 1  # gaps 0 .. last - 1; "last" means none is below
    while first < last:
        middle = (first + last) // 2
        d = (distinct_differences[middle] + distinct_differences[middle + 1]) / 2
        if _standardised(x, y, d, alternative) - zq < 0:
            last = middle
        else:
            first = middle + 1
    return float(distinct_differences[first])


def _asymptotic(
    x: Distinct, y: Distinct, ordered: _OrderedDifferences, alternative: str, confidence: float, why: str
) -> ShiftInterval | None:
    alpha = 1 - confidence
    distinct_differences = np.unique(ordered.values)
    if len(distinct_differences) == 1:
        # One value in each sample: R's root-finding has no interval to search (min x - max y = max x - min y)
        # and stops with an error.
        return None
    if alternative == "two-sided":
        lower = _root(x, y, distinct_differences, st.norm.ppf(1 - alpha / 2), alternative)
        upper = _root(x, y, distinct_differences, st.norm.ppf(alpha / 2), alternative)
    elif alternative == "greater":
        lower, upper = _root(x, y, distinct_differences, st.norm.ppf(1 - alpha), alternative), None
    else:
        lower, upper = None, _root(x, y, distinct_differences, st.norm.ppf(alpha), alternative)
    return ShiftInterval(
        lower,
        upper,
        confidence,
        exact=False,
        method=(
            f"{_bound(alternative, confidence)} by inverting the normal approximation with tie correction and "
            f"continuity correction ({why}), as R's wilcox.test: the shift d at which the test of x - d against y "
            "reaches the critical z; R finds it by root-finding to 1e-4, here it is the difference x_i - y_j at "
            "which z steps past the critical value"
        ),
    )


def interval(
    x: Distinct, y: Distinct, alternative: str = "two-sided", confidence: float = 0.95
) -> ShiftInterval | None:
    """R's ``wilcox.test(x, y, alternative, conf.int = TRUE, conf.level = confidence)$conf.int``.

    Exact when no value occurs twice in the pooled samples and both have fewer than 50 values, by inverting the
    normal approximation otherwise (see the module docstring). None where R stops with an error: ties, and a
    single value in each sample (every difference the same).
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    n1, n2 = x.n, y.n
    ordered = _OrderedDifferences(x, y)
    ties = rank_sums(x, y).ties
    if not ties and n1 < EXACT_MAX_N and n2 < EXACT_MAX_N:
        return _exact(ordered, n1, n2, alternative, confidence)
    why = "ties present" if ties else "a group has 50 or more values"
    return _asymptotic(x, y, ordered, alternative, confidence, why)
