"""Rank statistics of two samples held as their distinct values and counts: U, its tie-corrected spread.

Shared by the Mann-Whitney test (analysis.stats) and the Hodges-Lehmann interval (analysis.hodges_lehmann), which
ranks x - d against y for many shifts d.
"""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Distinct:
    """A sample as its distinct values, ascending, and how often each occurs.

    Rank statistics need no more than this, and the metrics take few distinct values (counts of threats, ratios of
    them, 1..5 ratings): after one sort per sample, U, its tie correction and the Hodges-Lehmann shift cost
    O(distinct values) instead of O(n) or O(n1*n2).
    """

    values: np.ndarray
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def shifted(self, d: float) -> "Distinct":
        """The sample minus d (distinct values stay distinct and ascending)."""
        return Distinct(self.values - d, self.counts)


def distinct(sample: np.ndarray) -> Distinct:
    values, counts = np.unique(sample, return_counts=True)
    return Distinct(values, counts)


@dataclass(frozen=True)
class RankSums:
    """U1 of x against y, the standard deviation of U under H0 with R's tie correction (0 when every value is the
    same), and whether any value occurs twice."""

    u1: float
    sigma: float
    ties: bool


def rank_sums(x: Distinct, y: Distinct) -> RankSums:
    # Each distinct value of the pooled sample takes the mean of the ranks its tied run covers (as rankdata does),
    # so x's rank sum is its counts times those midranks. The midranks are multiples of 1/2, so the sums are exact.
    pooled, where = np.unique(np.concatenate([x.values, y.values]), return_inverse=True)
    tie_sizes = np.bincount(where, weights=np.concatenate([x.counts, y.counts]), minlength=len(pooled))
    midranks = np.cumsum(tie_sizes) - (tie_sizes - 1) / 2
    n1, n2 = x.n, y.n
    n = n1 + n2
    u1 = float((x.counts * midranks[where[: len(x.values)]]).sum() - n1 * (n1 + 1) / 2)
    ties_term = (tie_sizes**3 - tie_sizes).sum() / (n * (n - 1)) if n > 1 else 0.0
    sigma = math.sqrt(max(0.0, n1 * n2 / 12 * ((n + 1) - ties_term)))
    return RankSums(u1, sigma, ties=len(pooled) < n)
