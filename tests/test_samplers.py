"""The compiled kernel's exact samplers against scipy.stats, over their whole range of
parameters: chi-square goodness of fit with fixed seeds (each test can fail: a sampler off by
one, with a wrong tail or a wrong branch at a threshold gives p-values near 0)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("numba")

from simulator.model import samplers  # noqa: E402

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


@pytest.mark.parametrize("lam", [1e-3, 0.5, 3.75, 9.99, 10.0, 37.0, 2500.0, 1e6])
def test_poisson_matches_scipy(lam: float) -> None:
    state = samplers.seed_state(2026, int(lam * 1000) % 2**31)
    draws = samplers.poisson_many(state, np.full(DRAWS, lam))
    assert chi_square_p(draws, stats.poisson(lam)) > ALPHA


@pytest.mark.parametrize("n,p", [(1, 0.5), (60, 0.012), (65, 1e-6), (800, 0.0124),
                                 (900, 0.0112), (100, 0.5), (100, 0.97), (7, 0.999),
                                 (50, 1 - 1e-9), (10**6, 0.3), (10**5, 1e-4)])
def test_binomial_matches_scipy(n: int, p: float) -> None:
    state = samplers.seed_state(2026, n, int(p * 1e9))
    draws = samplers.binomial_many(state, np.full(DRAWS, n), np.full(DRAWS, p))
    assert draws.min() >= 0 and draws.max() <= n
    assert chi_square_p(draws, stats.binom(n, p)) > ALPHA


def test_edges_are_exact() -> None:
    state = samplers.seed_state(1, 0)
    assert (samplers.poisson_many(state, np.array([0.0, -1.0])) == 0).all()
    n = np.array([0, 5, 5, 5])
    p = np.array([0.3, 0.0, 1.0, -0.5])
    assert samplers.binomial_many(state, n, p).tolist() == [0, 0, 5, 0]


def test_uniforms_are_uniform_and_streams_keyed() -> None:
    state = samplers.seed_state(3, 7)
    many = samplers.poisson_many(state, np.full(20_000, 1e9)) - 1e9  # PTRS: 2 uniforms each
    assert abs(many.mean()) < 5 * np.sqrt(1e9 / 20_000)
    assert (samplers.seed_state(3, 7) == samplers.seed_state(3, 7)).all()
    assert not (samplers.seed_state(3, 7) == samplers.seed_state(3, 8)).any()
    assert not (samplers.seed_state(3, 7) == samplers.seed_state(4, 7)).any()
    draws = np.array([samplers.uniform(state) for _ in range(50_000)])
    assert stats.kstest(draws, "uniform").pvalue > ALPHA
