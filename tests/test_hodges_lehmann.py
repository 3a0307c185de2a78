"""The Hodges-Lehmann interval against R's wilcox.test(conf.int = TRUE) (no database).

The reference values in tests/fixtures/hodges_lehmann_reference.csv were computed by R 4.2.2 (Debian's r-base-core)
with tests/fixtures/hodges_lehmann_reference.R, which sits beside them: sample sizes 1..60 per arm, without ties and
with them, each alternative. Where R's interval is exact it is an order statistic of the differences, so it must be
equal; where R finds a bound by root-finding (uniroot, tol = 1e-4) it must lie within that tolerance.
"""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from analysis import hodges_lehmann
from analysis.ranks import distinct, rank_sums
from analysis.stats import mann_whitney

REFERENCE = Path(__file__).parent / "fixtures" / "hodges_lehmann_reference.csv"
ALTERNATIVES = {"two.sided": "two-sided", "greater": "greater", "less": "less"}


def _reference_rows():
    with REFERENCE.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _bound(text: str) -> float | None:
    value = float(text)
    return None if math.isinf(value) else value


def _exact_by_r(x: np.ndarray, y: np.ndarray) -> bool:
    return not rank_sums(distinct(x), distinct(y)).ties and len(x) < 50 and len(y) < 50


def test_the_reference_grid_covers_exact_and_root_finding_cases_each_way():
    rows = _reference_rows()
    kinds = set()
    for row in rows:
        x, y = np.array(row["x"].split(), dtype=float), np.array(row["y"].split(), dtype=float)
        kinds.add((row["case"], row["alternative"], _exact_by_r(x, y)))
    for case in ("no ties", "ties"):
        for alternative in ALTERNATIVES:
            assert (case, alternative, True) in kinds
            assert (case, alternative, False) in kinds  # no ties but 50 values, or ties


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda r: f"{r['case']}-{r['n1']}-{r['n2']}-{r['alternative']}")
def test_the_interval_is_r_s(row):
    x, y = np.array(row["x"].split(), dtype=float), np.array(row["y"].split(), dtype=float)
    result = hodges_lehmann.interval(distinct(x), distinct(y), ALTERNATIVES[row["alternative"]])
    if row["lower"] == "NA":  # R: "cannot compute confidence interval when all observations are tied"
        assert result is None
        return
    expected = (_bound(row["lower"]), _bound(row["upper"]))
    assert result is not None
    if _exact_by_r(x, y):
        assert result.exact
        assert (result.lower, result.upper) == expected
        assert result.confidence == pytest.approx(float(row["conf_level"]), abs=1e-12)
    else:
        assert not result.exact
        for ours, rs in zip((result.lower, result.upper), expected, strict=True):
            assert (ours is None) == (rs is None)
            if rs is not None:
                assert ours == pytest.approx(rs, abs=1e-4)
        assert result.confidence == 0.95


def test_the_issue_example_gives_r_s_interval():
    # R 4.2.2: wilcox.test(c(1.1, 2.2, 3.3), c(0.5, 1.5, 2.5, 3.5, 4.5, 5.5), conf.int = TRUE)
    # prints "95 percent confidence interval: -3.4  1.8"; the normal critical value gave [-4.4, 2.8].
    result = mann_whitney([1.1, 2.2, 3.3], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    assert result.hl_ci == pytest.approx((-3.4, 1.8))
    assert result.hl_ci_confidence == 0.95
    assert "95% CI [-3.40, 1.80]" in result.apa()
    assert "exact critical value of U (R's qwilcox" in result.method


def test_a_one_sided_test_reports_a_one_sided_bound():
    x, y = [1.1, 2.2, 3.3], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    greater, less = mann_whitney(x, y, "greater"), mann_whitney(x, y, "less")
    assert greater.hl_ci[1] is None and greater.hl_ci[0] is not None
    assert less.hl_ci[0] is None and less.hl_ci[1] is not None
    assert "∞)" in greater.apa() and "(-∞" in less.apa()
    assert "one-sided 95% lower bound" in greater.method


def test_ties_invert_the_tie_corrected_test_and_say_so():
    result = mann_whitney([3, 4, 4, 5, 5, 5], [2, 3, 3, 4, 4])
    assert not result.exact
    assert "inverting the normal approximation with tie correction" in result.method


def test_samples_too_small_for_95_percent_get_the_widest_interval_at_the_level_it_reaches():
    # R: wilcox.test(c(1, 3), c(2, 5), conf.int = TRUE) warns "Requested conf.level not achievable" and reports the
    # smallest and largest differences, [-4, 1], at conf.level 1 - 2 * pwilcox(0, 2, 2) = 1 - 2/6.
    result = mann_whitney([1, 3], [2, 5])
    assert result.hl_ci == (-4.0, 1.0)
    assert result.hl_ci_confidence == pytest.approx(2 / 3)
    assert "95% CI" not in result.apa() and "67% CI [-4.00, 1.00]" in result.apa()
    assert "too small for 95%" in result.method


def test_qwilcox_and_pwilcox_against_the_enumerated_distribution():
    from itertools import combinations

    for m, n in ((1, 1), (3, 6), (5, 4), (6, 6)):
        pooled = range(m + n)
        us = sorted(
            sum(1 for a in chosen for b in set(pooled) - set(chosen) if a > b) for chosen in combinations(pooled, m)
        )
        for q in range(m * n + 1):
            assert hodges_lehmann.pwilcox(q, m, n) == pytest.approx(sum(u <= q for u in us) / len(us))
        for p in (0.025, 0.05, 0.1, 0.5):
            assert hodges_lehmann.qwilcox(p, m, n) == next(
                q for q in range(m * n + 1) if sum(u <= q for u in us) / len(us) >= p - 1e-12
            )
