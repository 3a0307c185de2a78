"""Statistics for comparing arms, as pure functions over plain sequences of numbers or numpy arrays.

Every function returns a frozen dataclass whose ``method`` says exactly what was computed and whose ``apa()`` gives a
one-line report ready to paste. Missing values (None, NaN and, as R does, +-inf) are dropped and counted. Where a
researcher can hit a degenerate case (an empty group, all values identical, n = 1) the result says so in ``method``
and carries None, or p = 1.0 when there is plainly no evidence of a difference; no NaN reaches a report.

Rank tests follow R's ``wilcox.test`` defaults: exact p when there are no ties (and no zero differences) and every
sample has fewer than 50 values, otherwise the normal approximation with tie correction and continuity correction.
The Hodges-Lehmann interval is R's too, exact or by inverting that approximation (analysis.hodges_lehmann).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from scipy import stats as st

from analysis import hodges_lehmann
from analysis.ranks import RankSums, distinct, rank_sums

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES = ("two-sided", "greater", "less")
EXACT_MAX_N = 50  # R's wilcox.test: exact p only while every sample has fewer than 50 values
CONFIDENCE = 0.95
Number = float | int | None
# The analysis passes numpy columns (NaN for a missing value); scripts and tests pass lists.
Sample = Sequence[Number] | np.ndarray


# ---------------------------------------------------------------------------------------------------------------
# Cleaning and formatting


def _floats(values: Iterable[Number] | np.ndarray) -> np.ndarray:
    """The values as a float array, None as NaN."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        # The analysis passes numeric columns: converting them element by element cost a third of its statistics.
        return values.astype(float, copy=False)
    return np.asarray([math.nan if v is None else float(v) for v in values], dtype=float)


def _clean(values: Iterable[Number] | np.ndarray) -> tuple[np.ndarray, int]:
    """The finite values as a float array, and how many were missing."""
    array = _floats(values)
    finite = np.isfinite(array)
    return array[finite], int((~finite).sum())


def _clean_pairs(a: Sample, b: Sample) -> tuple[np.ndarray, np.ndarray, int]:
    """The complete pairs as two float arrays, and how many pairs were dropped for a missing value."""
    if len(a) != len(b):
        raise ValueError(f"paired samples need the same length, got {len(a)} and {len(b)}")
    left, right = _floats(a), _floats(b)
    complete = np.isfinite(left) & np.isfinite(right)
    return left[complete], right[complete], int((~complete).sum())


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")


def _tie_sizes(values: np.ndarray) -> np.ndarray:
    return np.unique(values, return_counts=True)[1].astype(float)


def format_p(p: float | None) -> str:
    """APA style: three decimals without the leading zero, ``p < .001`` when tiny, ``p > .999`` when it rounds to 1."""
    if p is None:
        return "p = n/a"
    if p < 0.001:
        return "p < .001"
    if p >= 0.9995:
        return "p > .999"
    return "p = " + f"{p:.3f}".removeprefix("0")


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text  # no "-0.00"


def format_u(u: float | None) -> str:
    # U and V are multiples of 1/2: print 35 and 277.5, not 35.00.
    if u is None:
        return "n/a"
    return str(int(u)) if float(u).is_integer() else f"{u:.1f}"


def _sides(alternative: str) -> str:
    if alternative == "direction-free":
        return "direction-free: the smaller tail"
    return "two-sided" if alternative == "two-sided" else "one-sided"


def _missing_note(n_missing: int, what: str) -> str:
    return f"; {n_missing} missing value(s) dropped from {what}" if n_missing else ""


def _normal_p(z: float, alternative: str) -> float:
    if alternative == "greater":
        return float(st.norm.sf(z))
    if alternative == "less":
        return float(st.norm.cdf(z))
    return float(min(1.0, 2 * min(st.norm.cdf(z), st.norm.sf(z))))


def _continuity(difference: float, alternative: str) -> float:
    # R's CORRECTION: towards the null in the tested direction (both directions when two-sided).
    if alternative == "greater":
        return 0.5
    if alternative == "less":
        return -0.5
    return 0.5 * float(np.sign(difference))


# ---------------------------------------------------------------------------------------------------------------
# Two independent arms: Mann-Whitney U


@dataclass(frozen=True)
class MannWhitney:
    """A Mann-Whitney comparison of x with y.

    ``u`` is the statistic the report shows (U1 in R's convention, min(U1, U2) in the slides' convention);
    ``u1`` counts the pairs with x > y (ties 1/2) and ``u2 = n1*n2 - u1``. ``z`` is None when p is exact.
    Effect sizes are for x relative to y: rank-biserial r = 2*U1/(n1*n2) - 1 (positive when x tends to be larger),
    common-language CL = P(X > Y) + P(X = Y)/2 = U1/(n1*n2), Hodges-Lehmann shift = median of all x_i - y_j.
    ``hl_ci`` is R's interval for the shift (analysis.hodges_lehmann): (lower, upper), None on the open side of a
    one-sided bound, at the level ``hl_ci_confidence`` (below 95% only where the samples are too small for it).
    """

    n1: int
    n2: int
    n_missing_x: int
    n_missing_y: int
    alternative: str
    u: float | None
    u1: float | None
    u2: float | None
    z: float | None
    p: float | None
    exact: bool
    rank_biserial: float | None
    common_language: float | None
    hl_shift: float | None
    hl_ci: tuple[float | None, float | None] | None
    hl_ci_confidence: float | None
    method: str

    def apa(self) -> str:
        if self.u is None:
            return f"Mann-Whitney U not computed: a group has no values (n1 = {self.n1}, n2 = {self.n2})"
        parts = [f"Mann-Whitney U = {format_u(self.u)}"]
        if self.z is not None:
            parts.append(f"z = {_fmt(self.z)}")
        parts.append(f"{format_p(self.p)} ({'exact, ' if self.exact else ''}{_sides(self.alternative)})")
        parts.append(f"r_rb = {_fmt(self.rank_biserial)}")
        parts.append(f"HL shift = {_fmt(self.hl_shift)}, {self.ci_text()}")
        parts.append(f"n1 = {self.n1}, n2 = {self.n2}")
        return ", ".join(parts)

    def ci_text(self) -> str:
        """The interval as "95% CI [-0.15, 0.76]", "95% CI [0.50, ∞)" for a lower bound, "95% CI n/a"."""
        if self.hl_ci is None or self.hl_ci_confidence is None:
            return f"{CONFIDENCE:.0%} CI n/a"
        lower, upper = self.hl_ci
        left = "(-∞" if lower is None else f"[{_fmt(lower)}"
        right = "∞)" if upper is None else f"{_fmt(upper)}]"
        return f"{self.hl_ci_confidence:.0%} CI {left}, {right}"


_DIRECTION = {
    "two-sided": "x and y differ in location",
    "greater": "x tends to be larger than y",
    "less": "x tends to be smaller than y",
}


_ALL_TIED = "; all values identical, so no evidence of a difference: p set to 1"


def _r_test(
    xs: np.ndarray, ys: np.ndarray, ranked: RankSums, alternative: str
) -> tuple[bool, float | None, float, str]:
    """R's wilcox.test p value: (exact, z, p, description)."""
    n1, n2 = len(xs), len(ys)
    u1, sigma, ties = ranked.u1, ranked.sigma, ranked.ties
    head = "Wilcoxon-Mann-Whitney test as R's wilcox.test: "
    tail = f"; alternative: {_DIRECTION[alternative]}; U1 counts pairs with x > y (ties 1/2), U2 = n1*n2 - U1"
    if not ties and n1 < EXACT_MAX_N and n2 < EXACT_MAX_N:
        p = float(st.mannwhitneyu(xs, ys, alternative=alternative, method="exact").pvalue)
        return True, None, p, head + "exact null distribution of U (no ties, n < 50)" + tail
    why = "ties present" if ties else "a group has 50 or more values"
    test = head + f"normal approximation ({why}) with tie correction and continuity correction" + tail
    if sigma == 0:
        return False, None, 1.0, test + _ALL_TIED
    difference = u1 - n1 * n2 / 2
    z = (difference - _continuity(difference, alternative)) / sigma
    return False, z, _normal_p(z, alternative), test


def _slides_test(smaller_u: float, n1: int, n2: int, sigma: float, correction: bool) -> tuple[float | None, float, str]:
    """scipy < 1.7 with alternative=None: (z, p, description)."""
    corrected = "with" if correction else "without"
    half = " + 0.5" if correction else ""
    test = (
        "direction-free (the smaller tail), the slides' convention (scipy before 1.7, alternative=None): the "
        f"smaller U, min(U1, U2), with the p of the smaller tail from the normal approximation with tie correction "
        f"and {corrected} continuity correction, z = (min U{half} - n1*n2/2) / sigma, p = P(Z > |z|); the tail is "
        "the one the data point to, whichever arm leads, so this p ignores the direction the hypothesis states"
    )
    if sigma == 0:
        return None, 1.0, test + _ALL_TIED
    z = (smaller_u + (0.5 if correction else 0) - n1 * n2 / 2) / sigma
    return z, float(st.norm.sf(abs(z))), test


DIRECTION_FREE = "direction-free"


def _mann_whitney(x: Sample, y: Sample, alternative: str, slides: bool, correction: bool = True) -> MannWhitney:
    xs, missing_x = _clean(x)
    ys, missing_y = _clean(y)
    n1, n2 = len(xs), len(ys)
    missing = _missing_note(missing_x, "x") + _missing_note(missing_y, "y")
    shared = {"n1": n1, "n2": n2, "n_missing_x": missing_x, "n_missing_y": missing_y}
    if n1 == 0 or n2 == 0:
        return MannWhitney(
            **shared,
            alternative=alternative,
            u=None,
            u1=None,
            u2=None,
            z=None,
            p=None,
            exact=False,
            rank_biserial=None,
            common_language=None,
            hl_shift=None,
            hl_ci=None,
            hl_ci_confidence=None,
            method=f"Mann-Whitney U not computed: a group has no values (n1 = {n1}, n2 = {n2}){missing}",
        )
    x_distinct, y_distinct = distinct(xs), distinct(ys)
    ranked = rank_sums(x_distinct, y_distinct)
    u1 = ranked.u1
    u2 = n1 * n2 - u1
    if slides:
        u, exact = min(u1, u2), False
        z, p, test = _slides_test(u, n1, n2, ranked.sigma, correction)
    else:
        u = u1
        exact, z, p, test = _r_test(xs, ys, ranked, alternative)
    # The slides' convention has no interval of its own: it gets the two-sided one.
    ci = hodges_lehmann.interval(x_distinct, y_distinct, "two-sided" if slides else alternative, CONFIDENCE)
    interval = ci.method if ci else "no CI: one value in each sample, so every difference is the same (R stops here)"
    effects = (
        "; r_rb = 2*U1/(n1*n2) - 1 (positive when x tends to be larger); CL = U1/(n1*n2) = P(X > Y) + P(X = Y)/2; "
        f"HL shift = median of all x_i - y_j, {interval}"
    )
    return MannWhitney(
        **shared,
        alternative=DIRECTION_FREE if slides else alternative,
        u=u,
        u1=u1,
        u2=u2,
        z=z,
        p=p,
        exact=exact,
        rank_biserial=2 * u1 / (n1 * n2) - 1,
        common_language=u1 / (n1 * n2),
        hl_shift=hodges_lehmann.estimate(x_distinct, y_distinct),
        hl_ci=None if ci is None else (ci.lower, ci.upper),
        hl_ci_confidence=None if ci is None else ci.confidence,
        method=test + effects + missing,
    )


def mann_whitney(x: Sample, y: Sample, alternative: Alternative = "two-sided") -> MannWhitney:
    """Mann-Whitney U test of x against y with the conventions of R's ``wilcox.test`` (see the module docstring).

    ``alternative="greater"`` tests whether x tends to be larger than y. The reported U is U1, the one for x.
    """
    _check_alternative(alternative)
    return _mann_whitney(x, y, alternative, slides=False)


def slides_convention(x: Sample, y: Sample, correction: bool = True) -> MannWhitney:
    """The convention behind the original study's slides, direction-free: min(U1, U2) with the smaller tail's p.

    This was ``scipy.stats.mannwhitneyu`` before 1.7 (``alternative=None``, ``use_continuity=True`` by default):
    normal approximation with tie correction and (unless ``correction=False``) continuity correction,
    p = P(Z > |z|), never exact. Because the smaller U is taken, the p is the smaller tail's, whichever arm leads:
    it ignores the direction a hypothesis states. Use it only to compare with the slides, whose printed p values fit
    the version without continuity correction.
    """
    return _mann_whitney(x, y, DIRECTION_FREE, slides=True, correction=correction)


# ---------------------------------------------------------------------------------------------------------------
# Equivalence: two one-sided Mann-Whitney tests


@dataclass(frozen=True)
class Tost:
    """Equivalence of x and y within +-margin: ``lower`` rejects shift <= -margin, ``upper`` rejects shift >= margin."""

    margin: float
    alpha: float
    lower: MannWhitney
    upper: MannWhitney
    p: float | None
    equivalent: bool | None
    method: str

    def apa(self) -> str:
        if self.p is None:
            return f"TOST not computed: a group has no values (n1 = {self.lower.n1}, n2 = {self.lower.n2})"
        verdict = "equivalent" if self.equivalent else "not shown equivalent"
        return (
            f"TOST (two one-sided Mann-Whitney tests, margin = {_fmt(self.margin)}): "
            f"U_lower = {format_u(self.lower.u)}, {format_p(self.lower.p)}; "
            f"U_upper = {format_u(self.upper.u)}, {format_p(self.upper.p)}; "
            f"overall {format_p(self.p)}, {verdict} at alpha = {f'{self.alpha:g}'.removeprefix('0')}, "
            f"n1 = {self.lower.n1}, n2 = {self.lower.n2}"
        )


def tost_mann_whitney(x: Sample, y: Sample, margin: float, alpha: float = 0.05) -> Tost:
    """Equivalence test of the location shift of x relative to y, by two one-sided Mann-Whitney tests.

    Construction (as in the original study's package, margin 1 there):
      H0a: shift <= -margin. Test x + margin against y with alternative "greater"; rejecting means shift > -margin.
      H0b: shift >= +margin. Test x - margin against y with alternative "less"; rejecting means shift < +margin.
    Each one-sided test uses ``mann_whitney`` (R's conventions; shifted integer ratings usually tie, hence
    asymptotic). The TOST p is the larger of the two p values; x and y are declared equivalent when p < alpha.
    """
    if not margin > 0:
        raise ValueError(f"the equivalence margin must be positive, got {margin}")
    xs = _floats(x)  # a missing value stays NaN when shifted, and is dropped and counted as before
    lower = mann_whitney(xs + margin, y, "greater")
    upper = mann_whitney(xs - margin, y, "less")
    p = None if lower.p is None or upper.p is None else max(lower.p, upper.p)
    return Tost(
        margin=margin,
        alpha=alpha,
        lower=lower,
        upper=upper,
        p=p,
        equivalent=None if p is None else p < alpha,
        method=(
            f"TOST by two one-sided Mann-Whitney tests with margin {margin:g}: H0a shift <= -{margin:g} tested as "
            f"x + {margin:g} greater than y; H0b shift >= {margin:g} tested as x - {margin:g} less than y; "
            f"p = max of the two; equivalent when p < {alpha:g}. Lower: {lower.method}. Upper: {upper.method}"
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# Within an arm: paired comparisons


@dataclass(frozen=True)
class SignedRank:
    """Wilcoxon signed-rank test of a against b. ``v`` is R's V, the sum of the ranks of the positive a - b."""

    n_pairs: int
    n_missing: int
    n_zero: int
    n: int
    alternative: str
    v: float | None
    z: float | None
    p: float | None
    exact: bool
    rank_biserial: float | None
    method: str

    def apa(self) -> str:
        if self.v is None:
            return f"Wilcoxon signed-rank test not computed: {self.method}"
        parts = [f"Wilcoxon signed-rank V = {format_u(self.v)}"]
        if self.z is not None:
            parts.append(f"z = {_fmt(self.z)}")
        parts.append(f"{format_p(self.p)} ({'exact, ' if self.exact else ''}{_sides(self.alternative)})")
        parts.append(f"r_rb = {_fmt(self.rank_biserial)}")
        parts.append(f"n = {self.n}" + (f" ({self.n_zero} zero difference(s) dropped)" if self.n_zero else ""))
        return ", ".join(parts)


def wilcoxon_signed_rank(a: Sample, b: Sample, alternative: Alternative = "two-sided") -> SignedRank:
    """Paired Wilcoxon signed-rank test of a - b with R's defaults, p from ``scipy.stats.wilcoxon``.

    Pairs with a missing value are dropped; zero differences are dropped (Wilcoxon's method, R's default). Exact p
    when fewer than 50 differences remain and there are no ties and no zeros; otherwise the normal approximation
    with tie correction and continuity correction. Effect size: the matched-pairs rank-biserial correlation
    r = (W+ - W-) / (W+ + W-), positive when a tends to exceed b.
    """
    _check_alternative(alternative)
    left, right, n_missing = _clean_pairs(a, b)
    differences = left - right
    nonzero = differences[differences != 0]
    n_pairs, n, n_zero = len(differences), len(nonzero), len(differences) - len(nonzero)
    missing = _missing_note(n_missing, "the pairs")
    if n == 0:
        why = "no complete pairs" if n_pairs == 0 else "all differences are zero, so no evidence of a difference"
        return SignedRank(
            n_pairs=n_pairs,
            n_missing=n_missing,
            n_zero=n_zero,
            n=0,
            alternative=alternative,
            v=None,
            z=None,
            p=None if n_pairs == 0 else 1.0,
            exact=False,
            rank_biserial=None,
            method=f"{why}" + ("" if n_pairs == 0 else ": p set to 1") + missing,
        )
    ranks = st.rankdata(np.abs(nonzero))
    v = float(ranks[nonzero > 0].sum())
    total = n * (n + 1) / 2
    ties = len(np.unique(np.abs(nonzero))) < n
    alt = {"two-sided": "a and b differ", "greater": "a tends to exceed b", "less": "a tends to fall below b"}
    if n < EXACT_MAX_N and not ties and n_zero == 0:
        exact, z = True, None
        p = float(st.wilcoxon(nonzero, alternative=alternative, method="exact").pvalue)
        test = "exact null distribution (no ties, no zero differences, n < 50)"
    else:
        exact = False
        tie_sizes = _tie_sizes(np.abs(nonzero))
        sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - (tie_sizes**3 - tie_sizes).sum() / 48)
        difference = v - total / 2
        z = (difference - _continuity(difference, alternative)) / sigma
        result = st.wilcoxon(nonzero, alternative=alternative, method="asymptotic", correction=True)
        p = float(result.pvalue)
        why = ", ".join(r for r, hit in (("ties", ties), ("zero differences", n_zero), ("n >= 50", n >= 50)) if hit)
        test = f"normal approximation ({why}) with tie correction and continuity correction"
    return SignedRank(
        n_pairs=n_pairs,
        n_missing=n_missing,
        n_zero=n_zero,
        n=n,
        alternative=alternative,
        v=v,
        z=z,
        p=p,
        exact=exact,
        rank_biserial=(2 * v - total) / total,
        method=(
            f"Wilcoxon signed-rank test of a - b as R's wilcox.test(paired=TRUE): {n_zero} zero difference(s) "
            f"dropped, {test}; alternative: {alt[alternative]}; V = sum of ranks of positive differences; "
            f"r_rb = (W+ - W-)/(W+ + W-){missing}"
        ),
    )


@dataclass(frozen=True)
class PairedT:
    """Paired t-test of a - b; ``cohens_dz`` = mean difference / SD of the differences."""

    n: int
    n_missing: int
    alternative: str
    mean_difference: float | None
    sd_difference: float | None
    t: float | None
    df: int | None
    p: float | None
    cohens_dz: float | None
    method: str

    def apa(self) -> str:
        if self.t is None:
            return f"paired t-test not computed: {self.method}"
        return (
            f"paired t({self.df}) = {_fmt(self.t)}, {format_p(self.p)} ({_sides(self.alternative)}), "
            f"d_z = {_fmt(self.cohens_dz)}, M_diff = {_fmt(self.mean_difference)}, n = {self.n}"
        )


def paired_t(a: Sample, b: Sample, alternative: Alternative = "two-sided") -> PairedT:
    """Paired t-test of the mean of a - b against 0 (``scipy.stats.ttest_rel``), as the original study ran it.

    Pairs with a missing value are dropped. With fewer than two pairs, or differences without variance, t is
    undefined and reported as None (p = 1 when every difference is zero).
    """
    _check_alternative(alternative)
    left, right, n_missing = _clean_pairs(a, b)
    differences = left - right
    n = len(differences)
    missing = _missing_note(n_missing, "the pairs")
    mean = float(differences.mean()) if n else None
    sd = float(differences.std(ddof=1)) if n >= 2 else None
    if n < 2 or sd == 0:
        if n < 2:
            why, p = f"fewer than two complete pairs (n = {n})", None
        elif mean == 0:
            why, p = "every difference is zero, so no evidence of a difference: p set to 1", 1.0
        else:
            why, p = "the differences have no variance, so t is undefined", None
        return PairedT(
            n=n,
            n_missing=n_missing,
            alternative=alternative,
            mean_difference=mean,
            sd_difference=sd,
            t=None,
            df=None,
            p=p,
            cohens_dz=None,
            method=why + missing,
        )
    result = st.ttest_rel(left, right, alternative=alternative)
    return PairedT(
        n=n,
        n_missing=n_missing,
        alternative=alternative,
        mean_difference=mean,
        sd_difference=sd,
        t=float(result.statistic),
        df=n - 1,
        p=float(result.pvalue),
        cohens_dz=mean / sd,
        method=(
            f"paired t-test of a - b (scipy.stats.ttest_rel), df = n - 1, alternative: {alternative}; "
            f"d_z = mean(a - b) / SD(a - b), SD with n - 1{missing}"
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# More than two arms: Kruskal-Wallis and Dunn


def _clean_groups(groups: Mapping[str, Sample]) -> tuple[dict[str, np.ndarray], str]:
    """Non-empty groups with missing values dropped, and a note on what was dropped."""
    kept: dict[str, np.ndarray] = {}
    notes = []
    for name, values in groups.items():
        clean, n_missing = _clean(values)
        if n_missing:
            notes.append(f"{n_missing} missing value(s) dropped from {name}")
        if len(clean):
            kept[name] = clean
        else:
            notes.append(f"group {name} has no values and is left out")
    return kept, "".join("; " + note for note in notes)


@dataclass(frozen=True)
class KruskalWallis:
    """Kruskal-Wallis H test across groups, with epsilon squared = H * (n + 1) / (n^2 - 1) = H / (n - 1)."""

    groups: tuple[str, ...]
    ns: tuple[int, ...]
    n: int
    h: float | None
    df: int | None
    p: float | None
    epsilon_squared: float | None
    method: str

    def apa(self) -> str:
        if self.h is None:
            return f"Kruskal-Wallis H not computed: {self.method}"
        return (
            f"Kruskal-Wallis H({self.df}) = {_fmt(self.h)}, {format_p(self.p)}, "
            f"ε² = {_fmt(self.epsilon_squared)}, N = {self.n}"
        )


def kruskal_wallis(groups: Mapping[str, Sample]) -> KruskalWallis:
    """Kruskal-Wallis H test (``scipy.stats.kruskal``: tie-corrected H, chi-squared with k - 1 df).

    Missing values are dropped and empty groups left out. Fewer than two groups left: not computed (None). All
    values identical: H undefined (None) and p = 1.
    """
    kept, notes = _clean_groups(groups)
    names = tuple(kept)
    ns = tuple(len(v) for v in kept.values())
    n = sum(ns)
    if len(kept) < 2:
        why = f"fewer than two groups with values ({len(kept)})"
        return KruskalWallis(names, ns, n, h=None, df=None, p=None, epsilon_squared=None, method=why + notes)
    df = len(kept) - 1
    if len(np.unique(np.concatenate(list(kept.values())))) == 1:
        why = "all values identical, so H is undefined and there is no evidence of a difference: p set to 1"
        return KruskalWallis(names, ns, n, h=None, df=df, p=1.0, epsilon_squared=None, method=why + notes)
    result = st.kruskal(*kept.values())
    h = float(result.statistic)
    return KruskalWallis(
        groups=names,
        ns=ns,
        n=n,
        h=h,
        df=df,
        p=float(result.pvalue),
        epsilon_squared=h * (n + 1) / (n**2 - 1),
        method=(
            "Kruskal-Wallis H test with tie correction, p from chi-squared with k - 1 df (scipy.stats.kruskal); "
            "epsilon^2 = H * (n + 1) / (n^2 - 1)" + notes
        ),
    )


@dataclass(frozen=True)
class DunnPair:
    """One pairwise Dunn comparison; z > 0 when group ``a`` has the higher mean rank."""

    a: str
    b: str
    z: float | None
    p: float | None
    p_adjusted: float | None

    def apa(self) -> str:
        adjusted = format_p(self.p_adjusted).replace("p ", "p_adj ", 1)
        return f"{self.a} vs {self.b}: z = {_fmt(self.z)}, {format_p(self.p)}, {adjusted}"


@dataclass(frozen=True)
class Dunn:
    """All pairwise Dunn tests after a Kruskal-Wallis test."""

    pairs: tuple[DunnPair, ...]
    adjust: str
    method: str

    def apa(self) -> str:
        if not self.pairs:
            return f"Dunn tests not computed: {self.method}"
        label = "Holm-adjusted" if self.adjust == "holm" else "unadjusted"
        return f"Dunn tests ({label}): " + "; ".join(pair.apa() for pair in self.pairs)


def dunn(groups: Mapping[str, Sample], adjust: Literal["holm", "none"] = "holm") -> Dunn:
    """Pairwise Dunn (1964) tests on the ranks of all groups pooled, two-sided, p adjusted by Holm.

    z = (mean rank a - mean rank b) / sqrt((N(N+1)/12 - sum(t^3 - t)/(12(N-1))) * (1/n_a + 1/n_b)), with t the
    sizes of the tied groups. Missing values are dropped and empty groups left out; all values identical gives
    z = None and p = 1 for every pair.
    """
    if adjust not in ("holm", "none"):
        raise ValueError(f"adjust must be 'holm' or 'none', got {adjust!r}")
    kept, notes = _clean_groups(groups)
    if len(kept) < 2:
        return Dunn((), adjust, f"fewer than two groups with values ({len(kept)})" + notes)
    pooled = np.concatenate(list(kept.values()))
    n = len(pooled)
    ranks = st.rankdata(pooled)
    mean_ranks, start = {}, 0
    for name, values in kept.items():
        mean_ranks[name] = float(ranks[start : start + len(values)].mean())
        start += len(values)
    ties = _tie_sizes(pooled)
    variance = n * (n + 1) / 12 - (ties**3 - ties).sum() / (12 * (n - 1))
    zs: list[float | None] = []
    ps: list[float | None] = []
    names = list(combinations(kept, 2))
    for a, b in names:
        if variance == 0:
            zs.append(None)
            ps.append(1.0)
            continue
        z = (mean_ranks[a] - mean_ranks[b]) / math.sqrt(variance * (1 / len(kept[a]) + 1 / len(kept[b])))
        zs.append(z)
        ps.append(_normal_p(z, "two-sided"))
    adjusted = holm(ps) if adjust == "holm" else ps
    pairs = tuple(DunnPair(a, b, z, p, q) for (a, b), z, p, q in zip(names, zs, ps, adjusted, strict=True))
    note = "; all values identical: z undefined, p set to 1" if variance == 0 else ""
    return Dunn(
        pairs=pairs,
        adjust=adjust,
        method=(
            "Dunn's pairwise z tests on pooled ranks with tie correction, two-sided normal p, "
            + ("Holm-adjusted over all pairs" if adjust == "holm" else "unadjusted")
            + note
            + notes
        ),
    )


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment, monotone and capped at 1; None (and NaN) pass through as None.

    The i-th smallest of the m present p values becomes min(1, max over j <= i of (m - j + 1) * p_(j)).
    """
    present = sorted((p, i) for i, p in enumerate(pvalues) if p is not None and not math.isnan(p))
    adjusted: list[float | None] = [None] * len(pvalues)
    running, m = 0.0, len(present)
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))  # the running max keeps the adjusted values monotone
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------------------------------------------------------
# Proportions: one threat marked in two arms


@dataclass(frozen=True)
class Fisher:
    """Fisher's exact test on marked / not marked in arms a and b."""

    marked_a: int
    n_a: int
    marked_b: int
    n_b: int
    odds_ratio: float | None
    p: float
    method: str

    def apa(self) -> str:
        return (
            f"Fisher's exact test: {self.marked_a}/{self.n_a} vs {self.marked_b}/{self.n_b} marked, "
            f"sample OR = {_fmt(self.odds_ratio)}, {format_p(self.p)} (two-sided)"
        )


def fisher_exact_2x2(marked_a: int, n_a: int, marked_b: int, n_b: int) -> Fisher:
    """Two-sided Fisher's exact test of the table [[marked_a, n_a - marked_a], [marked_b, n_b - marked_b]].

    The odds ratio is the sample cross-product ratio (a*d)/(b*c) that scipy returns, not R's conditional maximum
    likelihood estimate, and the report calls it "sample OR" for that reason; None when a zero cell makes it
    infinite or undefined.
    """
    for marked, n in ((marked_a, n_a), (marked_b, n_b)):
        if not 0 <= marked <= n:
            raise ValueError(f"marked must lie between 0 and n, got {marked} of {n}")
    table = [[marked_a, n_a - marked_a], [marked_b, n_b - marked_b]]
    result = st.fisher_exact(table, alternative="two-sided")
    odds = float(result.statistic)
    finite = math.isfinite(odds)
    return Fisher(
        marked_a=marked_a,
        n_a=n_a,
        marked_b=marked_b,
        n_b=n_b,
        odds_ratio=odds if finite else None,
        p=float(result.pvalue),
        method=(
            "Fisher's exact test, two-sided (scipy: sum of tables no more likely than the observed), odds ratio "
            "= (a*d)/(b*c) of the sample" + ("" if finite else "; odds ratio not finite (a zero cell): reported as n/a")
        ),
    )


# ---------------------------------------------------------------------------------------------------------------
# Description


@dataclass(frozen=True)
class Description:
    """Summary of one sample; None where undefined (everything at n = 0, sd at n < 2)."""

    n: int
    n_missing: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    min: float | None
    max: float | None
    method: str

    def apa(self) -> str:
        return (
            f"M = {_fmt(self.mean)}, SD = {_fmt(self.sd)}, Mdn = {_fmt(self.median)}, "
            f"IQR = {_fmt(self.iqr)} [{_fmt(self.q1)}, {_fmt(self.q3)}], n = {self.n}"
        )


def describe(values: Sample) -> Description:
    """n, missing, mean, SD (n - 1), median, quartiles (linear interpolation: R's type 7, numpy's default), IQR."""
    clean, n_missing = _clean(values)
    n = len(clean)
    method = "SD with n - 1; quartiles by linear interpolation (R type 7)" + _missing_note(n_missing, "the values")
    if n == 0:
        empty = dict.fromkeys(("mean", "sd", "median", "q1", "q3", "iqr", "min", "max"))
        return Description(n=0, n_missing=n_missing, method=method, **empty)
    q1, median, q3 = (float(q) for q in np.percentile(clean, [25, 50, 75]))
    return Description(
        n=n,
        n_missing=n_missing,
        mean=float(clean.mean()),
        sd=float(clean.std(ddof=1)) if n >= 2 else None,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        min=float(clean.min()),
        max=float(clean.max()),
        method=method,
    )


@dataclass(frozen=True)
class LikertDistribution:
    """Counts and shares per scale level; shares are of the in-range answers and None when there are none."""

    levels: tuple[int, ...]
    counts: tuple[int, ...]
    shares: tuple[float | None, ...]
    n: int
    n_missing: int
    n_out_of_range: int
    method: str

    def apa(self) -> str:
        cells = [
            f"{level}: {count} ({'n/a' if share is None else f'{share:.0%}'})"
            for level, count, share in zip(self.levels, self.counts, self.shares, strict=True)
        ]
        return ", ".join(cells) + f", n = {self.n}"


def likert_distribution(values: Sample, levels: Iterable[int] = range(1, 6)) -> LikertDistribution:
    """How many answers fall on each level. Missing answers are dropped; values that are not a level are counted
    in ``n_out_of_range`` and left out of the shares."""
    clean, n_missing = _clean(values)
    scale = tuple(levels)
    counts = tuple(int((clean == level).sum()) for level in scale)
    n = sum(counts)
    out_of_range = len(clean) - n
    note = f"; {out_of_range} value(s) outside the levels left out" if out_of_range else ""
    return LikertDistribution(
        levels=scale,
        counts=counts,
        shares=tuple(count / n if n else None for count in counts),
        n=n,
        n_missing=n_missing,
        n_out_of_range=out_of_range,
        method="counts per level, shares of the answers on the scale" + _missing_note(n_missing, "the values") + note,
    )
