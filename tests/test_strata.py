"""Stratified comparisons (no database): van Elteren's test worked by hand, the adjusted effect by a second route."""

import math
from fractions import Fraction
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


def _van_elteren_by_hand(strata):
    """Van Elteren's numerator sum w_s (W_s - E[W_s]) and variance sum w_s^2 Var[W_s], in exact fractions.

    Written from the formula and sharing nothing with ``analysis.strata``, so that a published figure checks both.
    Per stratum: W_s is the sum of x's midranks in the pooled stratum, E[W_s] = n_x (n_s + 1) / 2,
    Var[W_s] = n_x n_y / 12 * (n_s + 1 - sum(t^3 - t) / (n_s (n_s - 1))) with t the sizes of the tied groups,
    and the weight w_s = 1 / (n_s + 1).
    """
    numerator = variance = Fraction(0)
    for x, y in strata:
        pooled = sorted(x + y)
        n_x, n_y, n = len(x), len(y), len(x) + len(y)
        # A value first at 0-based position i and held by c observations occupies ranks i + 1 .. i + c.
        midrank = {v: Fraction(2 * pooled.index(v) + 1 + pooled.count(v), 2) for v in set(pooled)}
        w_s = sum(midrank[v] for v in x)
        expected = Fraction(n_x * (n + 1), 2)
        ties = sum(pooled.count(v) ** 3 - pooled.count(v) for v in set(pooled))
        var_w = Fraction(n_x * n_y, 12) * (n + 1 - Fraction(ties, n * (n - 1)))
        weight = Fraction(1, n + 1)
        numerator += weight * (w_s - expected)
        variance += weight**2 * var_w
    return numerator, variance


def test_van_elteren_reproduces_stokes_davis_koch_arthritis_worked_example():
    """Stokes, Davis & Koch, Categorical Data Analysis Using the SAS System, 2nd ed. (SAS Institute, 2000),
    pp. 73-75: the arthritis trial of Koch & Edwards (1988), response none < some < marked, test treatment against
    placebo, stratified by sex. PROC FREQ's CMH "row mean scores differ" statistic with SCORES=MODRIDIT is van
    Elteren's test (modified ridits are the within-stratum midranks divided by n_s + 1, and the CMH hypergeometric
    variance is the tie-corrected one); the book prints chi-square = 15.0041, df = 1, P = 0.0001.

    The table is also in SAS's program for the book's third edition
    (support.sas.com/rnd/app/stat/cat/edition3/samples/chapter4.html, where the test arm is named "active"); the
    printed figure is as quoted, with the book's page, in Coveney's Stata package vanelteren (SSC, 2004:
    fmwww.bc.edu/repec/bocode/s/stokesdaviskoch.do). The book's page itself could not be read here. The source gives
    chi-square = z^2, without a sign: here x is the test arm, so z > 0 means more improvement on the test treatment,
    as the table shows.
    """
    none, some, marked = 0, 1, 2
    female_test = [none] * 6 + [some] * 5 + [marked] * 16
    female_placebo = [none] * 19 + [some] * 7 + [marked] * 6
    male_test = [none] * 7 + [some] * 2 + [marked] * 5
    male_placebo = [none] * 10 + [some] * 0 + [marked] * 1
    # Female, n = 59: none are ranks 1-25 (midrank 13), some 26-37 (31.5), marked 38-59 (48.5).
    # W = 6 * 13 + 5 * 31.5 + 16 * 48.5 = 1011.5, E = 27 * 60 / 2 = 810,
    # Var = 27 * 32 / 12 * (60 - (24 * 25 * 26 + 11 * 12 * 13 + 21 * 22 * 23) / (59 * 58)) = 72 * (60 - 27942 / 3422).
    # Male, n = 25: none are ranks 1-17 (midrank 9), some 18-19 (18.5), marked 20-25 (22.5).
    # W = 7 * 9 + 2 * 18.5 + 5 * 22.5 = 212.5, E = 14 * 26 / 2 = 182,
    # Var = 14 * 11 / 12 * (26 - (16 * 17 * 18 + 1 * 2 * 3 + 5 * 6 * 7) / (25 * 24)) = 154 / 12 * (26 - 5112 / 600).
    numerator, variance = _van_elteren_by_hand([(female_test, female_placebo), (male_test, male_placebo)])
    female_var = 72 * (60 - Fraction(27942, 3422))
    male_var = Fraction(154, 12) * (26 - Fraction(5112, 600))
    assert numerator == (Fraction(2023, 2) - 810) / 60 + (Fraction(425, 2) - 182) / 26  # 4.5314
    assert variance == female_var / 60**2 + male_var / 26**2  # 1.3685
    chi_square = numerator**2 / variance
    z = float(numerator) / math.sqrt(variance)
    p = 2 * (1 - NORMAL.cdf(z))
    assert round(float(chi_square), 4) == 15.0041  # the book's four decimals
    assert round(p, 4) == 0.0001

    result = van_elteren({"female": (female_test, female_placebo), "male": (male_test, male_placebo)})
    assert result.ns == ((27, 32), (14, 11))
    assert result.t - result.expected == pytest.approx(float(numerator))
    assert result.variance == pytest.approx(float(variance))
    assert result.z == pytest.approx(z) and result.z > 0
    assert result.p == pytest.approx(p)


def test_van_elteren_reproduces_lehmann_worked_example_as_run_by_sas():
    """Lehmann (with D'Abrera), Nonparametrics: Statistical Methods Based on Ranks (Holden-Day, 1975), pp. 132-141:
    the classic van Elteren example, four blocks of sizes 2, 3, 3 and 6, no ties. Lehmann's own asymptotic figures
    are one-sided and, per Coveney, differ by Lehmann's rounding; the two-sided figure checked here is SAS's, from its
    PROC FREQ SCORES=MODRIDIT implementation on the same data (ftp.sas.com/techsup/download/stat/vanelter.html):
    chi-square = 2.744, df = 1, P = 0.09765. Data and SAS's figures as transcribed in Coveney's Stata package
    vanelteren (SSC, 2004: fmwww.bc.edu/repec/bocode/l/lehmann.do); neither Lehmann's pages nor SAS's page could be
    read here.

    x is the source's treatment 1 and y its treatment 2; chi-square = z^2, so the orientation does not change the
    published figure, only the sign of z (negative: treatment 1 tends lower).
    """
    blocks = [([236], [255]), ([183], [179, 193]), ([115, 128], [132]), ([61, 70, 79], [67, 84, 88])]
    # Block 1: W = 1, E = 1.5, Var = 1 * 1 / 12 * 3 = 1/4, w = 1/3. Block 2: 179 < 183 < 193, W = 2, E = 2,
    # Var = 1 * 2 / 12 * 4 = 2/3, w = 1/4. Block 3: W = 1 + 2 = 3, E = 4, Var = 2/3, w = 1/4.
    # Block 4: 61 67 70 79 84 88, W = 1 + 3 + 4 = 8, E = 10.5, Var = 3 * 3 / 12 * 7 = 21/4, w = 1/7.
    # Numerator = -1/6 + 0 - 1/4 - 5/14 = -65/84; variance = 1/36 + 1/24 + 1/24 + 3/28 = 55/252.
    numerator, variance = _van_elteren_by_hand(blocks)
    assert numerator == Fraction(-65, 84)
    assert variance == Fraction(55, 252)
    chi_square = numerator**2 / variance
    assert chi_square == Fraction(845, 308)  # 2.74351
    assert round(float(chi_square), 3) == 2.744
    z = float(numerator) / math.sqrt(variance)
    p = 2 * NORMAL.cdf(z)
    assert round(p, 5) == 0.09765

    result = van_elteren({f"block {i}": block for i, block in enumerate(blocks, 1)})
    assert result.z == pytest.approx(z) and result.z < 0
    assert result.p == pytest.approx(p)


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
