"""The compiled kernel's exact samplers against scipy.stats, over their whole range of
parameters: chi-square goodness of fit with fixed seeds (each test can fail: a sampler off by
one, with a wrong tail or a wrong branch at a threshold gives p-values near 0)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("numba")

from simulator.model import binomial_samplers, samplers  # noqa: E402

DRAWS = 40_000
ALPHA = 1e-4  # per test; each test is deterministic (fixed seed)


def chi_square_p(draws: np.ndarray, dist: stats.rv_discrete) -> float:
    """p-value of the chi-square test of ``draws`` against ``dist``: one cell per value
    over the central 1 - 2e-7 of the law, both tails pooled into the end cells, adjacent
    cells merged until each expects at least 5 draws."""
    n = draws.size
    low, high = int(dist.ppf(1e-7)), int(dist.ppf(1 - 1e-7))
    values = np.arange(low, high + 1)
    expected = dist.pmf(values) * n
    expected[0] += dist.cdf(low - 1) * n
    expected[-1] += dist.sf(high) * n
    observed = np.bincount(np.clip(draws, low, high) - low, minlength=values.size)
    cells_e, cells_o, acc_e, acc_o = [], [], 0.0, 0
    for e, o in zip(expected, observed, strict=True):
        acc_e, acc_o = acc_e + e, acc_o + o
        if acc_e >= 5:
            cells_e.append(acc_e)
            cells_o.append(acc_o)
            acc_e, acc_o = 0.0, 0
    if cells_e:
        cells_e[-1] += acc_e
        cells_o[-1] += acc_o
    if len(cells_e) < 2:  # (nearly) one value: every draw must be it
        mode = values[int(np.argmax(expected))]
        return 1.0 if np.mean(draws == mode) > 1 - 1e-3 else 0.0
    e, o = np.asarray(cells_e), np.asarray(cells_o)
    statistic = float(((o - e) ** 2 / e).sum())
    return float(stats.chi2.sf(statistic, len(e) - 1))


@pytest.mark.parametrize("lam", [1e-3, 0.5, 1.38, 1.39, 3.75, 5.17, 9.99, 15.1, 37.0, 38.5,
                                 2500.0, 1e6])
def test_poisson_matches_scipy(lam: float) -> None:
    state = samplers.seed_state(2026, int(lam * 1000) % 2**31)
    draws = samplers.poisson_many(state, np.full(DRAWS, lam))
    assert chi_square_p(draws, stats.poisson(lam)) > ALPHA


def test_mixed_lanes_each_match_scipy() -> None:
    """Means of every size side by side in the same lanes (the search covers the largest
    inverted one, PTRS takes the rest): each mean's draws keep their law."""
    means = np.array([0.2, 1.0, 4.0, 12.0, 30.0, 37.9, 60.0, 2500.0])
    lam = np.tile(means, DRAWS)
    draws = samplers.poisson_many(samplers.seed_state(9, 9), lam)
    for k, mean in enumerate(means):
        assert chi_square_p(draws[k::means.size], stats.poisson(mean)) > ALPHA, mean


@pytest.mark.parametrize("lam", [0.01, 1.38, 5.16, 15.08, 38.0])
def test_inversion_is_exactly_the_inverse_cdf(lam: float) -> None:
    """Means up to INVERSION_MAX are drawn by inversion: each draw is scipy's ppf of its
    own uniform, also where the search of the lanes ran out of steps and went on alone."""
    keys = samplers.seed_state(5, int(lam * 100))
    n = 200_000
    draws = samplers.poisson_many(keys, np.full(n, lam))
    u = _uniforms(keys, n)
    expected = stats.poisson.ppf(u, lam)
    near = np.abs(stats.poisson.cdf(expected, lam) - u) < 1e-12  # rounding at a step
    assert (draws[~near] == expected[~near]).all()
    steps = next(k for k, cover in samplers.STEPS if lam <= cover)
    if lam > 1:
        assert (draws >= steps).any()  # the lanes' search ran out and went on
    assert chi_square_p(draws, stats.poisson(lam)) > ALPHA


@pytest.mark.parametrize("n,p", [(1, 0.5), (60, 0.012), (65, 1e-6), (800, 0.0124),
                                 (900, 0.0112), (100, 0.5), (100, 0.97), (7, 0.999),
                                 (50, 1 - 1e-9), (76, 0.5), (1000, 0.04), (10**6, 0.3),
                                 (10**5, 1e-4)])
def test_binomial_matches_scipy(n: int, p: float) -> None:
    state = samplers.seed_state(2026, n, int(p * 1e9))
    draws = binomial_samplers.binomial_many(state, np.full(DRAWS, n), np.full(DRAWS, p))
    assert draws.min() >= 0 and draws.max() <= n
    assert chi_square_p(draws, stats.binom(n, p)) > ALPHA


@pytest.mark.parametrize("n,p", [(65, 0.012), (200, 0.0069), (30, 0.5), (100, 0.97)])
def test_binomial_inversion_is_exactly_the_inverse_cdf(n: int, p: float) -> None:
    keys = samplers.seed_state(6, n)
    size = 100_000
    draws = binomial_samplers.binomial_many(keys, np.full(size, n), np.full(size, p))
    u = _uniforms(keys, size)
    small = min(p, 1 - p)
    k = stats.binom.ppf(u, n, small)
    near = np.abs(stats.binom.cdf(k, n, small) - u) < 1e-12
    expected = n - k if p > 0.5 else k
    assert (draws[~near] == expected[~near]).all()


def test_edges_are_exact() -> None:
    state = samplers.seed_state(1, 0)
    assert (samplers.poisson_many(state, np.array([0.0, -1.0])) == 0).all()
    n = np.array([0, 5, 5, 5])
    p = np.array([0.3, 0.0, 1.0, -0.5])
    assert binomial_samplers.binomial_many(state, n, p).tolist() == [0, 0, 5, 0]


def test_uniforms_are_uniform_and_keyed() -> None:
    keys = samplers.seed_state(3, 7)
    assert (samplers.seed_state(3, 7) == keys).all()
    assert not (samplers.seed_state(3, 8) == keys).any()
    assert not (samplers.seed_state(4, 7) == keys).any()
    # counters along each of their fields: paths, months, streams and attempts
    size = 50_000
    for field, top in enumerate((2**24, 2**16, 2**8, 2**16)):
        fields = [np.zeros(size, dtype=np.int64) for _ in range(4)]
        fields[field] = np.arange(size) % top
        draws = samplers.uniforms(keys, *fields)
        if top < size:  # each value repeats: test the distinct ones
            draws = draws[:top]
        assert stats.kstest(draws, "uniform").pvalue > ALPHA, field
    # neighbouring counters are not correlated
    first, second = _uniforms(keys, 20_000), _uniforms(keys, 20_000, month=1)
    assert abs(np.corrcoef(first, second)[0, 1]) < 4 / np.sqrt(20_000)
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 4 / np.sqrt(20_000)


def _uniforms(keys: np.ndarray, n: int, month: int = 0) -> np.ndarray:
    """The uniforms of paths 0..n-1 in ``month``, stream 0: those of ``poisson_many``."""
    zeros = np.zeros(n, dtype=np.int64)
    return samplers.uniforms(keys, np.arange(n), zeros + month, zeros, zeros)
