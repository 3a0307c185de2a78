"""Planning the next study: the power of the declared test at a given n per arm, and the n per arm a power needs.

By simulation from the data at hand (the current study or a pilot): each simulated study draws n values per arm
with replacement from that arm's observed values and runs the declared Mann-Whitney test (R's conventions: exact
without ties below 50 per arm, else the normal approximation with tie and continuity correction). The share of
simulated studies with p < alpha is the power. A fixed seed makes the figures repeat.

The effect is the one observed, unless a stated effect is given on the outcome's own bounded scale: ``shift`` is
added to every value of the first arm, then clipped to the outcome's range (a count of threats stays within 0 and
the number of threats, a share within 0 and 1).
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

SIMULATIONS = 1000
MAX_N = 2000  # per arm; beyond it the search stops and says so
EXACT_MAX_N = 50


@dataclass(frozen=True)
class Plan:
    """Power at ``n_per_arm``, and the n per arm reaching 80% and 90% power (None when beyond MAX_N)."""

    n_per_arm: int
    power: float
    n_for_80: int | None
    n_for_90: int | None
    alpha: float
    alternative: str
    simulations: int
    seed: int
    effect: str
    method: str

    def apa(self) -> str:
        def need(n: int | None) -> str:
            return f"{n}" if n is not None else f"more than {MAX_N}"

        return (
            f"power at n = {self.n_per_arm} per arm: {self.power:.2f}; n per arm for 80% power: {need(self.n_for_80)}, "
            f"for 90%: {need(self.n_for_90)} (alpha = {self.alpha:g}, {self.alternative}, {self.effect})"
        )


def _p_values(x: np.ndarray, y: np.ndarray, alternative: str) -> np.ndarray:
    """R's wilcox.test p of each row of x against the same row of y."""
    asymptotic = st.mannwhitneyu(x, y, axis=1, alternative=alternative, method="asymptotic").pvalue
    n1, n2 = x.shape[1], y.shape[1]
    if n1 >= EXACT_MAX_N or n2 >= EXACT_MAX_N:
        return asymptotic
    pooled = np.sort(np.concatenate([x, y], axis=1), axis=1)
    untied = ~(np.diff(pooled, axis=1) == 0).any(axis=1)
    if not untied.any():
        return asymptotic
    exact = st.mannwhitneyu(x[untied], y[untied], axis=1, alternative=alternative, method="exact").pvalue
    p = asymptotic.copy()
    p[untied] = exact
    return p


def power(
    first: np.ndarray,
    second: np.ndarray,
    n_per_arm: int,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    simulations: int = SIMULATIONS,
    seed: int = 0,
) -> float:
    """The share of ``simulations`` studies of ``n_per_arm`` per arm, resampled from ``first`` and ``second``,
    in which the test rejects at ``alpha``."""
    rng = np.random.default_rng(seed)
    x = rng.choice(first, size=(simulations, n_per_arm), replace=True)
    y = rng.choice(second, size=(simulations, n_per_arm), replace=True)
    return float((_p_values(x, y, alternative) < alpha).mean())


def _n_for(target: float, first, second, alternative, alpha, simulations, seed) -> int | None:
    """The smallest n per arm whose simulated power reaches ``target``: doubling, then bisection (power is
    simulated with the same seed at each n, so it rises with n but for simulation noise)."""
    low, high = 1, 2
    while power(first, second, high, alternative, alpha, simulations, seed) < target:
        low, high = high, high * 2
        if high > MAX_N:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        if power(first, second, middle, alternative, alpha, simulations, seed) >= target:
            high = middle
        else:
            low = middle
    return high


def plan(
    first: np.ndarray,
    second: np.ndarray,
    n_per_arm: int,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    shift: float | None = None,
    bounds: tuple[float, float] | None = None,
    simulations: int = SIMULATIONS,
    seed: int = 0,
) -> Plan:
    """Power at ``n_per_arm`` and the n per arm for 80% and 90% power; see the module docstring.

    ``first`` and ``second`` are the arms' observed values (missing ones dropped here). With ``shift``, the first
    arm's values are moved by it and clipped to ``bounds`` (the outcome's range) before resampling.
    """
    xs = np.asarray(first, dtype=float)
    ys = np.asarray(second, dtype=float)
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    if not len(xs) or not len(ys):
        raise ValueError("each arm needs at least one value to resample")
    if not 1 <= n_per_arm <= MAX_N:
        raise ValueError(f"n per arm must be 1 to {MAX_N}, got {n_per_arm}")
    if shift is None:
        effect = "the effect observed"
    else:
        low, high = bounds if bounds is not None else (-math.inf, math.inf)
        xs = np.clip(xs + shift, low, high)
        effect = f"a stated effect: {shift:+g} added to the first arm's values, clipped to [{low:g}, {high:g}]"
    args = (xs, ys, alternative, alpha, simulations, seed)
    return Plan(
        n_per_arm=n_per_arm,
        power=power(xs, ys, n_per_arm, alternative, alpha, simulations, seed),
        n_for_80=_n_for(0.8, *args),
        n_for_90=_n_for(0.9, *args),
        alpha=alpha,
        alternative=alternative,
        simulations=simulations,
        seed=seed,
        effect=effect,
        method=(
            f"simulation: {simulations} studies drawing n values per arm with replacement from each arm's observed "
            f"values ({effect}), each tested by the declared Mann-Whitney test ({alternative}, R's conventions); "
            f"power = share with p < {alpha:g}; seed {seed}"
        ),
    )
