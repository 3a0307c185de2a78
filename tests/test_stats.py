"""The statistics module against values obtained independently of it (no database).

Sources of the reference values:
- R, ?wilcox.test examples (Hollander & Wolfe 1973), printed outputs reproduced on RPubs
  (https://rstudio-pubs-static.s3.amazonaws.com/1010246_c61c86672ec041989613d044201c79c4.html): paired depression
  data "V = 40, p-value = 0.01953". The two-sample permeability example (alternative greater) prints W = 35,
  p-value = 0.1272; the stored copy of that page breaks off before this printout, so the test also derives the value
  by enumerating all 3003 rank assignments.
- R wilcox.test with ties, printed output on endmemo.com/r/wilcoxon.php: "W = 51.5, p-value = 0.5966" and
  "W = 0, p-value = 0.001364" (both "with continuity correction", two-sided).
- R wilcox.test paired with ties and zeros, printed output on stats.stackexchange.com/questions/514618:
  "V = 99.5, p-value = 0.01842"; with a zero only, stats.stackexchange.com/questions/510275: "V = 10, p-value = 0.1003".
- R t.test(extra ~ group, data = sleep, paired = TRUE), printed in "R For Dummies" (Meys & de Vries) and the
  Cookbook for R: "t = -4.0621, df = 9, p-value = 0.002833", mean of the differences -1.58.
- R ?fisher.test TeaTasting (Agresti 1990): two-sided p-value = 0.4857.
- Everything else by a second route written out here: enumeration of every rank or sign assignment for exact p,
  the normal approximation written out by hand with the standard library's NormalDist, rank sums by hand.
"""

import math
from itertools import combinations, product
from statistics import NormalDist, median

import pytest

from analysis.stats import (
    describe,
    dunn,
    fisher_exact_2x2,
    format_p,
    holm,
    kruskal_wallis,
    likert_distribution,
    mann_whitney,
    paired_t,
    slides_convention,
    tost_mann_whitney,
    wilcoxon_signed_rank,
)

NORMAL = NormalDist()

# Hollander & Wolfe (1973) p. 69f: permeability of the chorioamnion at term (x) and at 12-26 weeks (y).
TERM = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
EARLY = [1.15, 0.88, 0.90, 0.74, 1.21]

# Hollander & Wolfe (1973) p. 29f: Hamilton depression scale, first (x) and second (y) visit.
FIRST_VISIT = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
SECOND_VISIT = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

# A data set consistent with the slides' TP row (means 3.17 vs 2.83, n 29 vs 24, statistic 277.5): the raw data
# are not published, so this one was constructed to match those numbers, on the 0..5 scale of five real threats.
TP_DFD = [2] * 6 + [3] * 14 + [4] * 7 + [5] * 2
TP_CONTROL = [1] * 2 + [2] * 7 + [3] * 10 + [4] * 3 + [5] * 2


def exact_u_values(n1, n2):
    """U1 for every way of giving x n1 of the ranks 1..n1+n2, all equally likely under H0 (no ties)."""
    return [sum(chosen) - n1 * (n1 + 1) / 2 for chosen in combinations(range(1, n1 + n2 + 1), n1)]


def brute_force_u_tail(x, y, upper):
    """P(U1 >= observed), or P(U1 <= observed) when not upper, by enumeration."""
    observed = sum(1 for a in x for b in y if a > b)
    values = exact_u_values(len(x), len(y))
    return sum(u >= observed if upper else u <= observed for u in values) / len(values)


def brute_force_signed_rank_upper_tail(differences):
    """P(W+ >= observed) over every assignment of signs to the ranks 1..n (no ties, no zeros)."""
    ranked = sorted(abs(d) for d in differences)
    observed = sum(ranked.index(abs(d)) + 1 for d in differences if d > 0)
    n = len(differences)
    hits = sum(
        sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s) >= observed
        for signs in product((0, 1), repeat=n)
    )
    return hits / 2**n


def u_by_counting(x, y):
    """Pairs with x > y, ties counted 1/2."""
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)


# ---------------------------------------------------------------------------------------------------------------
# Mann-Whitney in R's conventions


def test_mann_whitney_matches_r_exact_one_sided_on_the_permeability_example():
    result = mann_whitney(TERM, EARLY, alternative="greater")
    assert result.exact and result.z is None
    assert result.u == result.u1 == 35  # R: W = 35
    assert result.p == pytest.approx(0.1272, abs=5e-5)  # R: p-value = 0.1272
    assert result.p == pytest.approx(brute_force_u_tail(TERM, EARLY, upper=True), rel=1e-9)


def test_the_one_sided_direction_follows_x_against_y():
    greater = mann_whitney(TERM, EARLY, alternative="greater")
    less = mann_whitney(TERM, EARLY, alternative="less")
    assert less.p == pytest.approx(brute_force_u_tail(TERM, EARLY, upper=False), rel=1e-9)
    assert less.p > 0.5 > greater.p
    assert mann_whitney(EARLY, TERM, alternative="less").p == pytest.approx(greater.p)


def test_two_sided_exact_p_doubles_the_smaller_tail():
    tail = min(brute_force_u_tail(TERM, EARLY, upper=True), brute_force_u_tail(TERM, EARLY, upper=False))
    assert mann_whitney(TERM, EARLY).p == pytest.approx(2 * tail, rel=1e-9)


def test_ties_switch_to_the_normal_approximation_as_r_does():
    x = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4]
    result = mann_whitney(x, [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5])
    assert not result.exact and result.z is not None
    assert "normal approximation (ties present)" in result.method
    assert result.u == 51.5  # R: W = 51.5
    assert result.p == pytest.approx(0.5966, abs=5e-5)  # R: p-value = 0.5966
    extreme = mann_whitney(x, [1233, 4356, 987, 39999, 1111, 200000])
    assert extreme.u == 0  # R: W = 0
    assert extreme.p == pytest.approx(0.001364, abs=5e-7)  # R: p-value = 0.001364


def test_fifty_values_in_a_group_switch_to_the_normal_approximation_without_ties():
    x = [i + 0.5 for i in range(50)]
    y = [10.25, 20.75, 33.1]
    result = mann_whitney(x, y)
    assert not result.exact
    assert "a group has 50 or more values" in result.method
    # By hand: no ties, so sigma^2 = n1 n2 (N + 1) / 12; continuity correction towards the null.
    u1 = u_by_counting(x, y)
    z = (u1 - 75 - 0.5 * math.copysign(1, u1 - 75)) / math.sqrt(50 * 3 * 54 / 12)
    assert result.z == pytest.approx(z)
    assert result.p == pytest.approx(2 * NORMAL.cdf(-abs(z)))
    assert mann_whitney(x[:49], y).exact


def test_effect_sizes_are_positive_when_x_tends_to_be_larger():
    result = mann_whitney(TERM, EARLY)
    assert result.u1 == u_by_counting(TERM, EARLY) == 35
    assert result.u2 == 50 - 35
    assert result.rank_biserial == pytest.approx(2 * 35 / 50 - 1)  # 0.4
    assert result.common_language == pytest.approx(35 / 50)
    assert mann_whitney(EARLY, TERM).rank_biserial == pytest.approx(-0.4)


def test_the_common_language_effect_counts_ties_as_half():
    # Pairs (x, y): (1,1) tie, (1,2) less, (3,1) greater, (3,2) greater: (2 + 0.5) / 4.
    assert mann_whitney([1, 3], [1, 2]).common_language == pytest.approx(2.5 / 4)


def test_hodges_lehmann_shift_and_its_interval_from_the_ordered_differences():
    result = mann_whitney(TERM, EARLY)
    differences = sorted(a - b for a in TERM for b in EARLY)
    assert result.hl_shift == pytest.approx(median(differences))  # (0.30 + 0.31) / 2 = 0.305
    assert result.hl_shift == pytest.approx(0.305)
    # By hand: C = 25 - 1.96 * sqrt(50 * 16 / 12) = 25 - 16.003 = 8.997, nearest integer 9. The exact distribution
    # (enumerated) agrees: P(U <= 8) = 0.0200 < 0.025 <= P(U <= 9) = 0.0276, so R's qwilcox gives 9 as well.
    values = exact_u_values(10, 5)
    assert sum(u <= 8 for u in values) / len(values) < 0.025 <= sum(u <= 9 for u in values) / len(values)
    assert result.hl_ci == pytest.approx((differences[9 - 1], differences[50 - 9]))
    assert result.hl_ci == pytest.approx((-0.15, 0.76))


def test_missing_values_are_dropped_and_counted():
    result = mann_whitney([*TERM, None, math.nan], [*EARLY, None], alternative="greater")
    assert (result.n1, result.n2, result.n_missing_x, result.n_missing_y) == (10, 5, 2, 1)
    assert result.p == pytest.approx(0.1272, abs=5e-5)
    assert "2 missing value(s) dropped from x" in result.method


def test_the_report_reads_as_apa():
    report = mann_whitney(TERM, EARLY, alternative="greater").apa()
    assert report.startswith("Mann-Whitney U = 35, p = .127 (exact, one-sided), r_rb = 0.40")
    assert report.endswith("n1 = 10, n2 = 5")


def test_p_values_are_formatted_without_a_leading_zero():
    assert format_p(0.0919) == "p = .092"
    assert format_p(0.0004) == "p < .001"
    assert format_p(1.0) == "p > .999"
    assert format_p(None) == "p = n/a"


# ---------------------------------------------------------------------------------------------------------------
# The slides' convention


def test_the_constructed_data_reproduce_the_slides_means():
    assert round(sum(TP_DFD) / len(TP_DFD), 2) == 3.17
    assert round(sum(TP_CONTROL) / len(TP_CONTROL), 2) == 2.83
    assert (len(TP_DFD), len(TP_CONTROL)) == (29, 24)


def test_the_slides_convention_reports_the_smaller_u_with_a_one_sided_asymptotic_p():
    result = slides_convention(TP_DFD, TP_CONTROL)
    smaller = min(u_by_counting(TP_DFD, TP_CONTROL), u_by_counting(TP_CONTROL, TP_DFD))
    assert result.u == smaller == 277.5  # the slides' statistic
    # By hand: tie sizes in the pooled data are 2 (ones), 13 (twos), 24 (threes), 10 (fours), 4 (fives).
    ties = sum(t**3 - t for t in (2, 13, 24, 10, 4))
    sigma = math.sqrt(29 * 24 / 12 * (54 - ties / (53 * 52)))
    z = (277.5 + 0.5 - 29 * 24 / 2) / sigma
    assert result.z == pytest.approx(z)
    assert result.p == pytest.approx(NORMAL.cdf(z))
    assert round(result.p, 2) == 0.09  # the slides' p
    assert not result.exact
    assert "smaller U" in result.method and "direction-free (the smaller tail)" in result.method
    assert result.apa().startswith("Mann-Whitney U = 277.5, z = -1.33, p = .092 (direction-free: the smaller tail)")


def test_without_continuity_correction_the_slides_convention_moves_z_by_half_a_step():
    corrected, plain = slides_convention(TP_DFD, TP_CONTROL), slides_convention(TP_DFD, TP_CONTROL, correction=False)
    assert plain.u == corrected.u == 277.5
    ties = sum(t**3 - t for t in (2, 13, 24, 10, 4))
    sigma = math.sqrt(29 * 24 / 12 * (54 - ties / (53 * 52)))
    assert plain.z == pytest.approx((277.5 - 29 * 24 / 2) / sigma)
    assert plain.p == pytest.approx(NORMAL.cdf(plain.z)) and plain.p < corrected.p
    assert "without continuity correction" in plain.method


def test_the_slides_convention_gives_the_same_row_for_tp_fn_and_recall():
    # The slides show statistic 277.5 and p 0.09 for TP, FN and recall alike: FN = 5 - TP and recall = TP / 5 reverse
    # or rescale the ranks, and the smaller U does not care about the direction.
    tp = slides_convention(TP_DFD, TP_CONTROL)
    fn = slides_convention([5 - v for v in TP_DFD], [5 - v for v in TP_CONTROL])
    recall = slides_convention([v / 5 for v in TP_DFD], [v / 5 for v in TP_CONTROL])
    assert tp.u == fn.u == recall.u == 277.5
    assert fn.p == pytest.approx(tp.p)
    assert recall.p == pytest.approx(tp.p)


def test_the_slides_one_sided_p_equals_r_with_the_direction_the_data_point_to():
    slides = slides_convention(TP_DFD, TP_CONTROL)
    r_greater = mann_whitney(TP_DFD, TP_CONTROL, alternative="greater")
    assert r_greater.u == 418.5 == 29 * 24 - 277.5
    assert slides.p == pytest.approx(r_greater.p)
    assert mann_whitney(TP_DFD, TP_CONTROL).p == pytest.approx(2 * slides.p)


# ---------------------------------------------------------------------------------------------------------------
# Equivalence


def test_tost_runs_the_two_shifted_one_sided_tests():
    result = tost_mann_whitney(TP_DFD, TP_CONTROL, margin=1)
    lower = mann_whitney([v + 1 for v in TP_DFD], TP_CONTROL, alternative="greater")
    upper = mann_whitney([v - 1 for v in TP_DFD], TP_CONTROL, alternative="less")
    assert result.lower.p == pytest.approx(lower.p)
    assert result.upper.p == pytest.approx(upper.p)
    assert result.p == max(result.lower.p, result.upper.p)
    assert result.equivalent == (result.p < 0.05)


def test_tost_declares_equal_samples_equivalent_and_shifted_ones_not():
    x = [1.1, 2.3, 2.9, 3.4, 4.2, 5.0, 5.7, 6.1, 7.4, 8.0]
    assert tost_mann_whitney(x, x, margin=3).equivalent is True
    shifted = tost_mann_whitney([v + 5 for v in x], x, margin=1)
    assert shifted.equivalent is False
    assert shifted.upper.p > 0.5  # the data lie far beyond the upper margin


def test_tost_rejects_a_margin_that_is_not_positive():
    with pytest.raises(ValueError, match="margin"):
        tost_mann_whitney([1, 2], [1, 2], margin=0)


# ---------------------------------------------------------------------------------------------------------------
# Paired tests within an arm


def test_signed_rank_matches_r_exact_on_the_depression_example():
    result = wilcoxon_signed_rank(FIRST_VISIT, SECOND_VISIT, alternative="greater")
    assert result.exact and result.z is None
    assert result.v == 40  # R: V = 40
    assert result.p == pytest.approx(0.01953, abs=5e-6)  # R: p-value = 0.01953
    differences = [a - b for a, b in zip(FIRST_VISIT, SECOND_VISIT, strict=True)]
    assert result.p == pytest.approx(brute_force_signed_rank_upper_tail(differences))
    assert result.rank_biserial == pytest.approx((40 - 5) / 45)  # W+ = 40, W- = 45 - 40


def test_signed_rank_with_ties_and_zeros_matches_r_normal_approximation():
    t1 = [5, 6, 3, 3, 4, 2, 5, 3, 4, 3, 4, 5, 3, 2, 2, 5, 4, 1, 3]
    t2 = [4, 5, 3, 2, 2, 1, 4, 5, 4, 2, 2, 4, 2, 1, 3, 5, 3, 1, 2]
    result = wilcoxon_signed_rank(t1, t2)
    assert not result.exact
    assert (result.n_zero, result.n) == (4, 15)
    assert result.v == 99.5  # R: V = 99.5
    assert result.p == pytest.approx(0.01842, abs=5e-6)  # R: p-value = 0.01842
    assert result.z > 0


def test_a_single_zero_difference_forces_the_normal_approximation():
    result = wilcoxon_signed_rank([6, 19.5, 5.1, 4.7, 10.6], [6, 5, 2.5, 2.1, 5.4])
    assert not result.exact and "zero differences" in result.method
    assert result.v == 10  # R: V = 10
    assert result.p == pytest.approx(0.1003, abs=5e-5)  # R: p-value = 0.1003
    # By hand: four differences, ranks 1..4 all positive; sigma^2 = 4*5*9/24; continuity 0.5 towards the null.
    assert result.z == pytest.approx((10 - 5 - 0.5) / math.sqrt(4 * 5 * 9 / 24))


def test_paired_t_matches_r_on_the_sleep_data():
    drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    result = paired_t(drug1, drug2)
    assert result.t == pytest.approx(-4.0621, abs=5e-5)  # R: t = -4.0621
    assert result.df == 9
    assert result.p == pytest.approx(0.002833, abs=5e-7)  # R: p-value = 0.002833
    assert result.mean_difference == pytest.approx(-1.58)
    # d_z by hand: differences' SD with n - 1; then t = d_z * sqrt(n).
    differences = [a - b for a, b in zip(drug1, drug2, strict=True)]
    sd = math.sqrt(sum((d + 1.58) ** 2 for d in differences) / 9)
    assert result.cohens_dz == pytest.approx(-1.58 / sd)
    assert result.t == pytest.approx(result.cohens_dz * math.sqrt(10))
    assert paired_t(drug1, drug2, alternative="less").p == pytest.approx(0.002833 / 2, abs=5e-7)


def test_paired_tests_drop_incomplete_pairs():
    result = paired_t([1, 2, None, 4, 6], [0, 1, 3, math.nan, 3])
    assert (result.n, result.n_missing) == (3, 2)
    assert wilcoxon_signed_rank([1, None], [0, 1]).n_missing == 1


def test_paired_samples_of_different_lengths_are_a_programming_error():
    with pytest.raises(ValueError, match="same length"):
        paired_t([1, 2], [1])


# ---------------------------------------------------------------------------------------------------------------
# More than two groups

AIRWAY = {  # R ?kruskal.test, Hollander & Wolfe (1973) p. 116: normal subjects, obstructive airway disease, asbestosis
    "normal": [2.9, 3.0, 2.5, 2.6, 3.2],
    "airway": [3.8, 2.7, 4.0, 2.4],
    "asbestosis": [2.8, 3.4, 3.7, 2.2, 2.0],
}


def test_kruskal_wallis_matches_a_hand_computed_h():
    result = kruskal_wallis(AIRWAY)
    # Pooled ranks by hand: normal 4+5+8+9+10 = 36, airway 3+6+13+14 = 36, asbestosis 1+2+7+11+12 = 33; no ties.
    h = 12 / (14 * 15) * (36**2 / 5 + 36**2 / 4 + 33**2 / 5) - 3 * 15
    assert result.h == pytest.approx(h) == pytest.approx(0.77143, abs=5e-6)
    assert result.df == 2
    assert result.p == pytest.approx(math.exp(-h / 2))  # chi-squared with 2 df: P(X > h) = exp(-h/2)
    assert result.epsilon_squared == pytest.approx(h / 13)  # H (n + 1) / (n^2 - 1) = H / (n - 1)


def test_epsilon_squared_on_a_hand_worked_example():
    # Ranks 1, 2 against 3, 4: H = 12/20 * (3^2/2 + 7^2/2) - 3*5 = 2.4; epsilon^2 = 2.4 * 5 / 15 = 0.8.
    result = kruskal_wallis({"a": [1, 2], "b": [3, 4]})
    assert result.h == pytest.approx(2.4)
    assert result.epsilon_squared == pytest.approx(0.8)
    assert result.apa() == "Kruskal-Wallis H(1) = 2.40, p = .121, ε² = 0.80, N = 4"


def test_dunn_z_and_holm_adjustment_by_hand():
    result = dunn(AIRWAY)
    by_pair = {(pair.a, pair.b): pair for pair in result.pairs}
    # Mean ranks 36/5 = 7.2, 36/4 = 9, 33/5 = 6.6; variance of a rank N(N+1)/12 = 17.5 (no ties).
    z_normal_airway = (7.2 - 9) / math.sqrt(17.5 * (1 / 5 + 1 / 4))
    z_normal_asbestosis = (7.2 - 6.6) / math.sqrt(17.5 * (1 / 5 + 1 / 5))
    z_airway_asbestosis = (9 - 6.6) / math.sqrt(17.5 * (1 / 4 + 1 / 5))
    assert by_pair["normal", "airway"].z == pytest.approx(z_normal_airway)
    assert by_pair["normal", "asbestosis"].z == pytest.approx(z_normal_asbestosis)
    assert by_pair["airway", "asbestosis"].z == pytest.approx(z_airway_asbestosis)
    p = {key: 2 * NORMAL.cdf(-abs(pair.z)) for key, pair in by_pair.items()}
    assert by_pair["airway", "asbestosis"].p == pytest.approx(p["airway", "asbestosis"])
    # Smallest p times 3, then the running maximum of (2 x next), then 1 x last, capped at 1.
    assert by_pair["airway", "asbestosis"].p_adjusted == pytest.approx(min(1, 3 * p["airway", "asbestosis"]))
    assert by_pair["normal", "asbestosis"].p_adjusted == 1


def test_dunn_corrects_for_ties():
    # Pooled 1,1,2,3,3,3 -> ranks 1.5,1.5,3,5,5,5; ties of sizes 2 and 3: sum(t^3 - t) = 6 + 24 = 30.
    result = dunn({"a": [1, 1, 2], "b": [3, 3, 3]}, adjust="none")
    variance = 6 * 7 / 12 - 30 / (12 * 5)
    z = (2 - 5) / math.sqrt(variance * (1 / 3 + 1 / 3))
    assert result.pairs[0].z == pytest.approx(z)
    assert result.pairs[0].p_adjusted == result.pairs[0].p


def test_holm_on_a_hand_worked_example():
    # Sorted: .005 x 4 = .02, .01 x 3 = .03, .03 x 2 = .06, .04 x 1 = .04 -> .06 (kept monotone).
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_lets_missing_values_through():
    assert holm([0.4, None, 0.6]) == [pytest.approx(0.8), None, pytest.approx(0.8)]
    assert holm([0.9, 0.8]) == [1.0, 1.0]
    assert holm([]) == []


# ---------------------------------------------------------------------------------------------------------------
# Fisher, description


def test_fisher_matches_the_tea_tasting_example():
    result = fisher_exact_2x2(3, 4, 1, 4)
    # By hand: hypergeometric probabilities of 0..4 correct cups are 1, 16, 36, 16, 1 out of 70; the two-sided p
    # sums those no more likely than the observed 16: (1 + 16 + 16 + 1) / 70.
    assert result.p == pytest.approx(34 / 70)
    assert result.p == pytest.approx(0.4857, abs=5e-5)  # R ?fisher.test
    assert result.odds_ratio == pytest.approx(3 * 3 / (1 * 1))
    assert result.apa() == "Fisher's exact test: 3/4 vs 1/4 marked, sample OR = 9.00, p = .486 (two-sided)"


def test_fisher_reports_an_infinite_odds_ratio_as_missing():
    result = fisher_exact_2x2(4, 4, 0, 4)
    assert result.odds_ratio is None
    assert result.p == pytest.approx(2 / 70)
    assert "nan" not in result.apa() and "inf" not in result.apa()


def test_describe_on_a_hand_worked_sample():
    result = describe([4, 1, None, 3, 2, math.nan])
    assert (result.n, result.n_missing) == (4, 2)
    assert result.mean == pytest.approx(2.5)
    assert result.sd == pytest.approx(math.sqrt(5 / 3))  # squared deviations 2.25 + 0.25 + 0.25 + 2.25 over 3
    assert result.median == pytest.approx(2.5)
    assert (result.q1, result.q3, result.iqr) == pytest.approx((1.75, 3.25, 1.5))  # R: quantile(1:4) type 7
    assert (result.min, result.max) == (1, 4)


def test_describe_leaves_undefined_fields_empty():
    empty = describe([None])
    assert (empty.n, empty.n_missing, empty.mean, empty.median, empty.sd) == (0, 1, None, None, None)
    single = describe([3])
    assert (single.mean, single.sd, single.iqr) == (3, None, 0)


def test_likert_distribution_counts_and_shares_each_level():
    result = likert_distribution([1, 2, 2, 5, None, 7, 3.0])
    assert result.levels == (1, 2, 3, 4, 5)
    assert result.counts == (1, 2, 1, 0, 1)
    assert result.shares == pytest.approx((0.2, 0.4, 0.2, 0.0, 0.2))
    assert (result.n, result.n_missing, result.n_out_of_range) == (5, 1, 1)


def test_likert_distribution_of_no_answers_has_no_shares():
    result = likert_distribution([])
    assert result.counts == (0, 0, 0, 0, 0)
    assert result.shares == (None,) * 5


# ---------------------------------------------------------------------------------------------------------------
# Degenerate cases a researcher will meet


def test_an_empty_group_gives_no_test_and_says_so():
    result = mann_whitney([], [1, 2, 3])
    assert (result.u, result.p, result.rank_biserial) == (None, None, None)
    assert "a group has no values" in result.method
    assert result.apa() == "Mann-Whitney U not computed: a group has no values (n1 = 0, n2 = 3)"
    assert tost_mann_whitney([None], [1, 2], margin=1).equivalent is None


def test_identical_values_everywhere_give_p_one_and_a_note():
    result = mann_whitney([3, 3, 3], [3, 3])
    assert (result.p, result.z, result.rank_biserial) == (1.0, None, 0)
    assert "all values identical" in result.method
    assert slides_convention([3, 3], [3, 3]).p == 1.0
    kruskal = kruskal_wallis({"a": [2, 2], "b": [2], "c": [2, 2]})
    assert (kruskal.h, kruskal.p) == (None, 1.0)
    assert all(pair.p == 1.0 for pair in dunn({"a": [2, 2], "b": [2]}).pairs)
    assert wilcoxon_signed_rank([1, 2], [1, 2]).p == 1.0
    assert paired_t([1, 2], [1, 2]).p == 1.0


def test_differences_without_variance_leave_t_undefined():
    result = paired_t([2, 3, 4], [1, 2, 3])
    assert (result.t, result.p, result.mean_difference) == (None, None, 1)
    assert "no variance" in result.method


def test_one_value_per_group_still_gives_an_exact_p():
    result = mann_whitney([1], [2])
    assert result.exact and result.p == 1.0  # both orderings equally likely
    # As R: the only difference, at the level it reaches, 1 - signif(2 * pwilcox(0, 1, 1), 2) = 0.
    assert result.hl_ci == (-1.0, -1.0) and result.hl_ci_confidence == 0


def test_fewer_than_two_nonempty_groups_give_no_kruskal_wallis():
    result = kruskal_wallis({"a": [1, 2], "b": [None]})
    assert result.h is None and result.p is None
    assert "group b has no values" in result.method
    assert dunn({"a": [1, 2]}).pairs == ()


@pytest.mark.parametrize(
    "report",
    [
        lambda: mann_whitney([3, 3, 3], [3, 3]).apa(),
        lambda: mann_whitney([], []).apa(),
        lambda: mann_whitney([1], [2]).apa(),
        lambda: slides_convention([2, 2], [2]).apa(),
        lambda: tost_mann_whitney([], [1], margin=1).apa(),
        lambda: wilcoxon_signed_rank([1, 1], [1, 1]).apa(),
        lambda: wilcoxon_signed_rank([None], [None]).apa(),
        lambda: paired_t([1], [2]).apa(),
        lambda: paired_t([2, 3], [1, 2]).apa(),
        lambda: kruskal_wallis({"a": [1], "b": [1]}).apa(),
        lambda: dunn({"a": [1], "b": [1]}).apa(),
        lambda: describe([]).apa(),
        lambda: likert_distribution([]).apa(),
    ],
)
def test_no_nan_reaches_a_report(report):
    text = report()
    assert "nan" not in text.lower() and "inf" not in text.lower()


def _random_sample_pairs(seed: int, trials: int, max_n: int):
    """Pairs of samples of 1 to max_n values: every other pair heavily tied (integers 0..5), the others continuous."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for trial in range(trials):
        n1, n2 = (int(n) for n in rng.integers(1, max_n, 2))
        if trial % 2:
            yield rng.integers(0, 6, n1).astype(float), rng.integers(0, 6, n2).astype(float)
        else:
            yield rng.normal(size=n1), rng.normal(size=n2)


def test_hodges_lehmann_from_value_counts_equals_the_brute_force_over_all_differences():
    """The fast route (distinct values with multiplicities) against all n1*n2 differences sorted, by hand: the
    median, and where the interval is exact, the order statistics at qwilcox's rank."""
    import numpy as np

    from analysis import hodges_lehmann
    from analysis.ranks import distinct

    for x, y in _random_sample_pairs(seed=0, trials=120, max_n=30):
        n1, n2 = len(x), len(y)
        differences = np.sort(np.subtract.outer(x, y).ravel())
        m = len(differences)
        assert hodges_lehmann.estimate(distinct(x), distinct(y)) == float(np.median(differences))
        interval = hodges_lehmann.interval(distinct(x), distinct(y))
        if interval is not None and interval.exact:
            q = max(1, hodges_lehmann.qwilcox(0.025, n1, n2))
            assert (interval.lower, interval.upper) == (float(differences[q - 1]), float(differences[m - q]))


def test_u_and_its_tie_correction_from_value_counts_equal_counting_pairs_and_tie_runs():
    """The counting route (distinct values with multiplicities) against U by counting pairs and sigma by hand."""

    from analysis.ranks import distinct as _distinct
    from analysis.ranks import rank_sums as _rank_sums

    for x, y in _random_sample_pairs(seed=1, trials=150, max_n=25):
        n1, n2 = len(x), len(y)
        pooled = list(x) + list(y)
        n = n1 + n2
        tie_term = sum(t**3 - t for t in (pooled.count(v) for v in set(pooled)))
        ranked = _rank_sums(_distinct(x), _distinct(y))
        assert ranked.u1 == u_by_counting(x, y)
        assert ranked.sigma == pytest.approx(math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))))
        assert ranked.ties == (len(set(pooled)) < n)


def test_numpy_columns_with_nan_give_the_results_of_lists_with_none():
    """The analysis passes numpy columns with NaN for a missing value; researchers' scripts pass lists with None."""
    import numpy as np

    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 6, 80).astype(float), rng.integers(0, 6, 70).astype(float)
    x[[3, 17]] = np.nan
    as_list = lambda a: [None if math.isnan(v) else float(v) for v in a]  # noqa: E731
    xl, yl = as_list(x), as_list(y)
    assert describe(x) == describe(xl) and describe(x).n_missing == 2
    assert likert_distribution(x) == likert_distribution(xl)
    assert mann_whitney(x, y, "greater") == mann_whitney(xl, yl, "greater")
    assert slides_convention(x, y) == slides_convention(xl, yl)
    assert tost_mann_whitney(x, y, 0.5) == tost_mann_whitney(xl, yl, 0.5)
    assert wilcoxon_signed_rank(x[:70], y) == wilcoxon_signed_rank(xl[:70], yl)
    assert paired_t(x[:70], y) == paired_t(xl[:70], yl)
    assert kruskal_wallis({"a": x, "b": y}) == kruskal_wallis({"a": xl, "b": yl})
    assert dunn({"a": x, "b": y, "c": y[:30]}) == dunn({"a": xl, "b": yl, "c": yl[:30]})
    counts = rng.integers(0, 6, 60)  # integer columns (the counts of threats) as well
    assert mann_whitney(counts, y) == mann_whitney(counts.tolist(), yl)
