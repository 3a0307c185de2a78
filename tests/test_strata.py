"""Stratified comparisons (no database): van Elteren's test worked by hand, the adjusted effect by a second route."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from analysis.stats import mann_whitney
from analysis.strata import adjusted_effect, van_elteren

NORMAL = NormalDist()


def test_van_elteren_by_hand_on_two_strata():
    # Van Elteren (1960): T = sum w_s W_s, w_s = 1 / (n_s + 1), W_s the rank sum of x within stratum s.
    # Stratum "novice": x = (1, 3), y = (2). Ranks 1, 3 | 2: W = 4, E = 2 * 4 / 2 = 4, Var = 2 * 1 / 12 * 4 = 2/3,
    # w = 1/4. Stratum "experienced": x = (6, 7, 8), y = (4, 5). Ranks 3, 4, 5 | 1, 2: W = 12, E = 3 * 6 / 2 = 9,
    # Var = 3 * 2 / 12 * 6 = 3, w = 1/6.
    # z = (1/4 * (4 - 4) + 1/6 * (12 - 9)) / sqrt(1/16 * 2/3 + 1/36 * 3) = 0.5 / sqrt(1/8) = sqrt(2).
    result = van_elteren({"novice": ([1, 3], [2]), "experienced": ([6, 7, 8], [4, 5])}, "greater")
    assert result.t == pytest.approx(4 / 4 + 12 / 6)
    assert result.expected == pytest.approx(4 / 4 + 9 / 6)
    assert result.variance == pytest.approx(2 / 3 / 16 + 3 / 36)
    assert result.z == pytest.approx(math.sqrt(2))
    assert result.p == pytest.approx(1 - NORMAL.cdf(math.sqrt(2)))  # 0.0786
    assert result.strata == ("novice", "experienced") and result.ns == ((2, 1), (3, 2))
    two_sided = van_elteren({"novice": ([1, 3], [2]), "experienced": ([6, 7, 8], [4, 5])})
    assert two_sided.p == pytest.approx(2 * (1 - NORMAL.cdf(math.sqrt(2))))
    assert "van Elteren z = 1.41" in result.apa()


def test_van_elteren_corrects_for_ties_within_a_stratum():
    # One stratum, x = (1, 2, 2), y = (2, 3): midranks 1, 3, 3 | 3, 5, W = 7, E = 3 * 6 / 2 = 9.
    # Ties: one run of three, sum(t^3 - t) = 24; Var = 3 * 2 / 12 * (6 - 24 / 20) = 2.4. The weight cancels.
    result = van_elteren({"all": ([1, 2, 2], [2, 3])})
    assert result.z == pytest.approx((7 - 9) / math.sqrt(2.4))


def test_with_one_stratum_van_elteren_is_the_wilcoxon_test_without_continuity_correction():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 6, 20).astype(float), rng.integers(0, 6, 17).astype(float)
    result = van_elteren({"one": (x, y)}, "greater")
    r = mann_whitney(x, y, "greater")
    n = 37
    ties = np.unique(np.concatenate([x, y]), return_counts=True)[1]
    sigma = math.sqrt(20 * 17 / 12 * (n + 1 - (ties**3 - ties).sum() / (n * (n - 1))))
    assert result.z == pytest.approx((r.u1 - 20 * 17 / 2) / sigma)


def test_a_stratum_with_one_arm_only_is_left_out_and_said():
    result = van_elteren({"a": ([1, 2], [3]), "b": ([4], [])})
    assert result.strata == ("a",) and "left out: b (an arm has no values)" in result.method
    nothing = van_elteren({"b": ([4], [])})
    assert nothing.z is None and nothing.p is None and "nan" not in nothing.apa().lower()


def test_the_adjusted_effect_is_the_least_squares_arm_coefficient():
    rng = np.random.default_rng(4)
    strata = ["novice"] * 30 + ["experienced"] * 30
    arm = np.tile([1, 0], 30)
    y = 1.5 * arm + np.where(np.array(strata) == "experienced", 2.0, 0.0) + rng.normal(0, 1, 60)
    result = adjusted_effect(y, arm.astype(bool), strata)
    design = np.column_stack([np.ones(60), arm, np.array(strata) == "novice"]).astype(float)
    coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
    assert result.estimate == pytest.approx(coefficients[1])
    assert result.ci[0] < result.estimate < result.ci[1]
    assert result.n == 60 and result.strata == ("experienced", "novice")
    assert "adjusted difference" in result.apa()


def test_the_adjusted_effect_is_not_computed_without_both_arms():
    result = adjusted_effect([1.0, 2.0, 3.0], [True, True, True], ["a", "a", "b"])
    assert result.estimate is None and "not computed" in result.apa()
