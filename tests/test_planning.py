"""Planning by simulation (no database) against the closed-form normal approximation."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from analysis import planning

NORMAL = NormalDist()


def noether_power(shift: float, n: int, alpha: float = 0.05) -> float:
    """Noether (1987): a one-sided Mann-Whitney test at n per arm on normal data (SD 1) shifted by ``shift`` has
    power Phi(sqrt(12 n n / (2n + 1)) * |P(X > Y) - 1/2| - z_(1-alpha)), with P(X > Y) = Phi(shift / sqrt 2)."""
    p_greater = NORMAL.cdf(shift / math.sqrt(2))
    return NORMAL.cdf(math.sqrt(12 * n * n / (2 * n + 1)) * abs(p_greater - 0.5) - NORMAL.inv_cdf(1 - alpha))


def test_simulated_power_on_continuous_data_agrees_with_the_normal_approximation():
    rng = np.random.default_rng(0)
    # A pilot large enough that resampling it is almost sampling the normal distribution itself.
    first, second = rng.normal(0.5, 1, 20_000), rng.normal(0, 1, 20_000)
    for n in (30, 45, 60):
        expected = noether_power(0.5, n)
        assert 0.5 < expected < 0.9
        simulated = planning.power(first, second, n, "greater", simulations=4000, seed=1)
        assert simulated == pytest.approx(expected, abs=0.03), n


def test_the_same_seed_gives_the_same_plan_and_the_needed_n_reaches_the_power():
    rng = np.random.default_rng(2)
    first, second = rng.integers(1, 6, 40).astype(float), rng.integers(0, 5, 40).astype(float)
    one = planning.plan(first, second, 20, "greater", simulations=400, seed=3)
    assert one == planning.plan(first, second, 20, "greater", simulations=400, seed=3)
    assert one.n_for_80 is not None and one.n_for_90 is not None and one.n_for_80 <= one.n_for_90
    assert planning.power(first, second, one.n_for_80, "greater", simulations=400, seed=3) >= 0.8
    assert planning.power(first, second, one.n_for_80 - 1, "greater", simulations=400, seed=3) < 0.8
    assert "n per arm for 80% power" in one.apa()


def test_a_stated_effect_is_added_to_the_first_arm_and_clipped_to_the_scale():
    values = np.array([0.0, 1.0, 2.0, 3.0])
    observed = planning.plan(values, values, 10, simulations=200)
    stated = planning.plan(values, values, 10, shift=2.0, bounds=(0, 3), simulations=200)
    assert observed.effect == "the effect observed" and observed.power < 0.15
    assert "+2 added to the first arm's values, clipped to [0, 3]" in stated.effect
    assert stated.power > 0.8  # the first arm becomes 2, 3, 3, 3: above the second's 0, 1, 2 but for ties


def test_no_effect_needs_more_than_the_largest_n():
    values = np.arange(10, dtype=float)
    result = planning.plan(values, values, 10, simulations=100)
    assert result.n_for_80 is None and f"more than {planning.MAX_N}" in result.apa()


@pytest.mark.parametrize("n", [0, planning.MAX_N + 1])
def test_an_n_outside_the_range_is_refused(n):
    with pytest.raises(ValueError, match="n per arm"):
        planning.plan([1.0], [2.0], n)
