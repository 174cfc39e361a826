"""Counts drawn by inversion (simulator.model.inversion): the exact law, checked against the
CDFs of scipy.special and by chi-square against scipy.stats, and monotone in the means for a
fixed seed, sampler by sampler and through the whole model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

import simulator
from simulator.engine.runner import model_shape, run_block
from simulator.model.inversion import (
    binomial_inverse,
    hypergeometric_inverse,
    multinomial_inverse,
    poisson_inverse,
)
from simulator.model.params import Parameters, draw_uniforms

ROOT = Path(__file__).resolve().parents[1]
U = np.random.default_rng(7).random(4000)
EDGES = np.array([0.0, 1e-300, 1e-12, 0.5, 1 - 1e-12, 1 - 2.0**-53])


def _least(x: np.ndarray, u: np.ndarray, cdf) -> bool:
    """x is the least k with CDF(k) >= u (to 1e-12: the small means' CDF is a pmf sum)."""
    below = np.where(x > 0, cdf(np.maximum(x - 1, 0)), -1.0)
    return bool(np.all(cdf(x) >= u - 1e-12) and np.all(below < u + 1e-12))


@pytest.mark.parametrize("mean", [0.0, 1e-9, 0.3, 4.0, 11.9, 12.0, 60.0, 2500.0, 1e6, 1e11])
def test_poisson_is_the_least_count_whose_cdf_reaches_u(mean):
    u = np.concatenate([U if mean < 1e5 else U[:300], EDGES])
    x = poisson_inverse(u, mean)
    assert x.dtype == np.int64 and x.shape == u.shape
    assert _least(x, u, lambda k: special.pdtr(k, mean))


@pytest.mark.parametrize("n", [1, 7, 300, 9000, 10**6])
@pytest.mark.parametrize("p", [0.0, 1e-9, 2e-3, 0.3, 0.5, 0.97, 1 - 1e-9, 1.0])
def test_binomial_is_the_least_count_whose_cdf_reaches_u(n, p):
    u = np.concatenate([U if n < 10**5 else U[:200], EDGES])  # big n: a slow CDF
    x = binomial_inverse(u, np.full(len(u), n), p)
    if p in (0.0, 1.0):
        assert np.all(x == (0 if p == 0.0 else n))
    else:
        assert _least(x, u, lambda k: stats.binom.cdf(k, n, p))


def _chi_square(x: np.ndarray, dist) -> float:
    """p-value of the counts ``x`` against the scipy.stats law ``dist`` on its 0.2%..99.8%
    range, the tails pooled into the end cells."""
    low, high = (int(v) for v in dist.ppf([0.002, 0.998]))
    ks = np.arange(low, high + 1)
    expected = dist.pmf(ks)
    expected[0], expected[-1] = dist.cdf(low), dist.sf(high - 1)
    observed = np.array([np.sum(x <= low)] + [np.sum(x == k) for k in ks[1:-1]]
                        + [np.sum(x >= high)], dtype=float)
    return float(stats.chisquare(observed, expected / expected.sum() * len(x)).pvalue)


@pytest.mark.parametrize("law", ["poisson 2", "poisson 40", "poisson 1e5", "binomial 50 0.02",
                                 "binomial 400 0.5", "binomial 20000 0.999"])
def test_the_draws_pass_a_chi_square_test(law):
    u = np.random.default_rng(sum(map(ord, law))).random(40000)
    kind, *args = law.split()
    if kind == "poisson":
        dist = stats.poisson(float(args[0]))
        x = poisson_inverse(u, float(args[0]))
    else:
        dist = stats.binom(int(args[0]), float(args[1]))
        x = binomial_inverse(u, np.full(len(u), int(args[0])), float(args[1]))
    assert _chi_square(x, dist) > 1e-3


def test_hypergeometric_and_multinomial_laws():
    u = np.random.default_rng(3).random(40000)
    good, bad, sample = 30, 50, 20
    x = hypergeometric_inverse(u, np.full(len(u), good), np.full(len(u), bad),
                               np.full(len(u), sample))
    assert _least(x, u, lambda k: stats.hypergeom.cdf(k, good + bad, good, sample))
    cells = multinomial_inverse(np.random.default_rng(4).random((40000, 2)),
                                np.full(40000, 60), np.array([0.2, 0.5, 0.3]))
    assert np.all(cells.sum(axis=1) == 60)
    for j, p in enumerate((0.2, 0.5, 0.3)):  # each cell is Binomial(60, p)
        assert _chi_square(cells[:, j], stats.binom(60, p)) > 1e-3


def test_counts_are_monotone_in_the_mean_for_a_fixed_uniform():
    u = np.random.default_rng(9).random(2000)
    last = np.zeros(len(u), dtype=np.int64)
    for mean in np.geomspace(1e-3, 1e5, 200):
        x = poisson_inverse(u, mean)
        assert np.all(x >= last), mean
        last = x
    last, kept = np.zeros(len(u), dtype=np.int64), np.zeros(len(u), dtype=np.int64)
    for n in range(0, 3000, 7):  # the count and what is left of n both rise with n
        x = binomial_inverse(u, np.full(len(u), n), 0.04)
        assert np.all(x >= last) and np.all(n - x >= kept), n
        last, kept = x, n - x
    last = np.zeros(len(u), dtype=np.int64)
    for p in np.linspace(0, 1, 101):
        x = binomial_inverse(u, np.full(len(u), 500), p)
        assert np.all(x >= last), p
        last = x


def _customers(cfg: simulator.Config, factor: float, paths: int, seed: int) -> np.ndarray:
    """Customers of every path at every month with the visitors times ``factor``."""
    draws = draw_uniforms(cfg, paths, seed)
    values = dict(draws.parameters().values)
    values["acquisition.visitors"] = draws.scaled(cfg.inputs["acquisition.visitors"], factor)
    out = run_block(model_shape(cfg), "inversion", cfg.cac_window, Parameters(values, paths),
                    seed, 0)
    return out["customers"]


@pytest.mark.parametrize("config", ["constant", "base.toml"])
def test_more_visitors_never_lower_a_paths_customers(config):
    if config == "constant":
        cfg = simulator.load_config({
            "simulation": {"paths": 300, "months": 18, "seed": 2},
            "acquisition": {"visitors": 400},
            "funnel": [{"stage": "lead", "rate": 0.1}, {"stage": "customer", "rate": 0.2}],
            "revenue": {"arpa": 100}, "retention": {"churn": 0.05}})
    else:
        cfg = simulator.load_config(ROOT / "configs" / "base.toml")
    last = None
    for factor in (0.5, 0.9, 1.0, 1.01, 1.3, 2.0, 4.0):
        customers = _customers(cfg, factor, 500, 5)
        if last is not None:
            assert np.all(customers >= last), factor
        last = customers
