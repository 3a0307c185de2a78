"""Comparisons of two arms that respect the randomisation's strata: van Elteren's test and the adjusted arm effect.

The randomisation balances the arms within each stratum (experience, and session or site where declared), so the
comparison is made within strata and then combined:
- van Elteren (1960): a Wilcoxon rank-sum test in each stratum, combined with weights 1 / (n_s + 1), the locally
  most powerful weights when the shift is the same in every stratum. Neither scipy, statsmodels nor base R has it.
- the arm effect adjusted for the strata: ordinary least squares of the outcome on the arm and the strata
  (statsmodels), with its confidence interval: the mean difference between the arms within strata.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from analysis.stats import Sample, _clean, _fmt, format_p


@dataclass(frozen=True)
class VanElteren:
    """Van Elteren's stratified Wilcoxon test of x against y; ``z > 0`` when x tends to be larger."""

    strata: tuple[str, ...]
    ns: tuple[tuple[int, int], ...]
    t: float | None
    expected: float | None
    variance: float | None
    z: float | None
    p: float | None
    alternative: str
    method: str

    def apa(self) -> str:
        if self.z is None:
            return f"van Elteren test not computed: {self.method}"
        used = len(self.strata)
        sides = "two-sided" if self.alternative == "two-sided" else "one-sided"
        return f"van Elteren z = {_fmt(self.z)}, {format_p(self.p)} ({sides}), {used} strata"


def van_elteren(strata: Mapping[str, tuple[Sample, Sample]], alternative: str = "two-sided") -> VanElteren:
    """Van Elteren's test over ``strata`` (name -> (x values, y values)).

    In stratum s with n_s = n_xs + n_ys values, W_s is the sum of x's midranks within the stratum, with
    E[W_s] = n_xs (n_s + 1) / 2 and Var[W_s] = n_xs n_ys / 12 * (n_s + 1 - sum(t^3 - t) / (n_s (n_s - 1))), t the
    sizes of the tied groups. With w_s = 1 / (n_s + 1): T = sum w_s W_s, z = (T - sum w_s E[W_s]) /
    sqrt(sum w_s^2 Var[W_s]), p from the standard normal, no continuity correction. A stratum where an arm has no
    values, or whose values are all the same, carries no information and is left out (said in ``method``).
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    used, ns, left_out = [], [], []
    t = expected = variance = 0.0
    for name, (x, y) in strata.items():
        xs, _missing_x = _clean(x)
        ys, _missing_y = _clean(y)
        n_x, n_y = len(xs), len(ys)
        n = n_x + n_y
        if n_x == 0 or n_y == 0:
            left_out.append(f"{name} (an arm has no values)")
            continue
        pooled = np.concatenate([xs, ys])
        ties = np.unique(pooled, return_counts=True)[1].astype(float)
        var_w = n_x * n_y / 12 * (n + 1 - (ties**3 - ties).sum() / (n * (n - 1)))
        if var_w <= 0:
            left_out.append(f"{name} (all values the same)")
            continue
        w_s = float(st.rankdata(pooled)[:n_x].sum())
        weight = 1 / (n + 1)
        t += weight * w_s
        expected += weight * n_x * (n + 1) / 2
        variance += weight**2 * var_w
        used.append(name)
        ns.append((n_x, n_y))
    note = f"; left out: {', '.join(left_out)}" if left_out else ""
    method = (
        "van Elteren's stratified Wilcoxon rank-sum test: midranks within each stratum, the rank sums combined "
        "with weights 1/(n_s + 1), tie-corrected variance, normal p without continuity correction" + note
    )
    if not used:
        return VanElteren(
            (), (), None, None, None, None, None, alternative, "no stratum has values in both arms" + note
        )
    z = (t - expected) / math.sqrt(variance)
    if alternative == "greater":
        p = float(st.norm.sf(z))
    elif alternative == "less":
        p = float(st.norm.cdf(z))
    else:
        p = float(min(1.0, 2 * st.norm.sf(abs(z))))
    return VanElteren(tuple(used), tuple(ns), t, expected, variance, z, p, alternative, method)


@dataclass(frozen=True)
class AdjustedEffect:
    """The difference first arm - second arm in the outcome's mean, adjusted for the strata, with its CI."""

    estimate: float | None
    ci: tuple[float, float] | None
    p: float | None
    n: int
    strata: tuple[str, ...]
    method: str

    def apa(self) -> str:
        if self.estimate is None or self.ci is None:
            return f"adjusted arm effect not computed: {self.method}"
        return (
            f"adjusted difference = {_fmt(self.estimate)}, 95% CI [{_fmt(self.ci[0])}, {_fmt(self.ci[1])}], "
            f"{format_p(self.p)} (two-sided), N = {self.n}"
        )


def adjusted_effect(values: Sample, in_first_arm: Sequence[bool], strata: Sequence[str]) -> AdjustedEffect:
    """OLS of the outcome on an indicator of the first arm and the strata as categories (statsmodels), with
    HC1 standard errors (White's, with the n / (n - k) correction), which do not assume equal variance across arms:
    the arm's coefficient, its 95% CI and p.

    Missing outcomes are dropped. Not computed (None) when an arm has no values or nothing is left to estimate
    the error from.
    """
    y = np.asarray(values, dtype=float)
    keep = np.isfinite(y)
    y, arm = y[keep], np.asarray(in_first_arm, dtype=float)[keep]
    levels, stratum = np.unique(np.asarray(strata, dtype=str)[keep], return_inverse=True)
    n = len(y)
    if len(np.unique(arm)) < 2 or n <= 2 + max(0, len(levels) - 1):
        return AdjustedEffect(
            None, None, None, n, tuple(levels), "an arm has no values, or too few values for the model"
        )
    # The design matrix built here rather than from a formula, fitted by QR, with HC1 rather than HC3 (which needs
    # every leverage): on 100,000 participants the formula took 0.4 s per outcome and this takes 0.02 s, where the
    # whole analysis of 100,000 has 3 s.
    design = np.column_stack([np.ones(n), arm, *(stratum == level for level in range(1, len(levels)))]).astype(float)
    # Imported here: statsmodels adds about 50 MB to a process, and the exports (which share this package) stream
    # 1,000,000 rows within 200 MB without it.
    import statsmodels.api as sm

    fit = sm.OLS(y, design).fit(method="qr", cov_type="HC1")
    low, high = (float(v) for v in fit.conf_int()[1])
    estimate, p = float(fit.params[1]), float(fit.pvalues[1])
    if not all(math.isfinite(v) for v in (low, high, estimate, p)):
        return AdjustedEffect(None, None, None, n, tuple(levels), "the model has no finite estimate (no variance left)")
    model = "outcome ~ arm + stratum" if len(levels) > 1 else "outcome ~ arm"
    return AdjustedEffect(
        estimate=estimate,
        ci=(low, high),
        p=p,
        n=n,
        strata=tuple(str(level) for level in levels),
        method=(
            f"OLS {model} (statsmodels), arm = 1 in the first arm, strata as categories; HC1 standard errors; 95% CI "
            "and two-sided p of the arm's coefficient: the difference of means within strata"
        ),
    )
