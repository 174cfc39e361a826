"""pdf/logpdf, pmf/logpmf, var/std, interval, rvs and to_scipy against independent oracles.

Every family with a scipy.stats equivalent is compared, at many points, with that scipy
distribution built here from the spec's own parameters (never through ``to_scipy``, which is
checked against the same oracle). The others are checked against numerical integration of an
independent density, finite differences of the CDF, or sums of scipy densities.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

from distributions import Distribution, parse

E = math.e
# (id, spec, the scipy oracle built by hand from the spec's parameters)
SCIPY_CASES: list[tuple[str, dict[str, Any] | float, Callable[[], Any]]] = [
    ("uniform", {"dist": "uniform", "low": -1, "high": 3}, lambda: stats.uniform(-1, 4)),
    ("normal", {"dist": "normal", "mean": 3, "sd": 2}, lambda: stats.norm(3, 2)),
    (
        "normal-q",
        {"dist": "normal", "p10": 10, "p90": 30},
        lambda: stats.norm(20, 10 / stats.norm.ppf(0.9)),
    ),
    (
        "truncnorm",
        {"dist": "normal", "mean": 3, "sd": 2, "low": 0, "high": 5},
        lambda: stats.truncnorm(-1.5, 1.0, loc=3, scale=2),
    ),
    (
        "truncnorm-low",
        {"dist": "normal", "mean": 0, "sd": 1, "low": 1.5},
        lambda: stats.truncnorm(1.5, np.inf),
    ),
    (
        "truncnorm-high",
        {"dist": "normal", "mean": 10, "sd": 4, "high": 2},
        lambda: stats.truncnorm(-np.inf, -2.0, loc=10, scale=4),
    ),
    (
        "lognormal",
        {"dist": "lognormal", "mu": 1, "sigma": 0.5},
        lambda: stats.lognorm(0.5, scale=E),
    ),
    (
        "lognormal-wide",
        {"dist": "lognormal", "mu": -2, "sigma": 1.7},
        lambda: stats.lognorm(1.7, scale=math.exp(-2)),
    ),
    ("beta", {"dist": "beta", "alpha": 2.5, "beta": 7}, lambda: stats.beta(2.5, 7)),
    ("beta-u", {"dist": "beta", "alpha": 0.6, "beta": 0.8}, lambda: stats.beta(0.6, 0.8)),
    ("gamma", {"dist": "gamma", "shape": 2.5, "scale": 3}, lambda: stats.gamma(2.5, scale=3)),
    ("gamma-j", {"dist": "gamma", "shape": 0.7, "scale": 2}, lambda: stats.gamma(0.7, scale=2)),
    (
        "triangular",
        {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
        lambda: stats.triang(0.25, 1, 4),
    ),
    (
        "triangular-left",
        {"dist": "triangular", "low": 1, "mode": 1, "high": 5},
        lambda: stats.triang(0.0, 1, 4),
    ),
    (
        "pert",
        {"dist": "pert", "low": 10, "mode": 12, "high": 20},
        lambda: stats.beta(1 + 4 * 2 / 10, 1 + 4 * 8 / 10, loc=10, scale=10),
    ),
    (
        "pert-lambda",
        {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6, "lambda": 8},
        lambda: stats.beta(5, 5, loc=0.4, scale=0.2),
    ),
    ("poisson", {"dist": "poisson", "lam": 3.5}, lambda: stats.poisson(3.5)),
    ("poisson-big", {"dist": "poisson", "lam": 250}, lambda: stats.poisson(250)),
    (
        "empirical",
        {"dist": "empirical", "values": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]},
        lambda: _counts_oracle([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]),
    ),
    ("constant", 5, lambda: stats.rv_discrete(values=([5], [1.0]))()),
]
IDS = [c[0] for c in SCIPY_CASES]


def _counts_oracle(values: list[int]) -> Any:
    counts = Counter(values)
    xk = sorted(counts)
    return stats.rv_discrete(values=(xk, [counts[k] / len(values) for k in xk]))()


def _is_discrete(oracle: Any) -> bool:
    return not hasattr(oracle, "pdf")


def _points(oracle: Any) -> np.ndarray:
    """Points across the support (and outside it), from the oracle's own quantiles."""
    inner = oracle.ppf(np.linspace(0.001, 0.999, 60))
    low, high = oracle.support()
    extra = [low, high, inner.min() - 1.0, inner.max() + 1.0, -1e9, 1e9]
    x = np.concatenate([inner, [v for v in extra if np.isfinite(v)]])
    if _is_discrete(oracle):
        x = np.concatenate([x, x + 0.5, x - 1.0])
    return np.unique(x)


@pytest.mark.parametrize(("spec", "make"), [c[1:] for c in SCIPY_CASES], ids=IDS)
def test_density_or_mass_matches_scipy(spec: Any, make: Callable[[], Any]) -> None:
    d, oracle = parse(spec), make()
    x = _points(oracle)
    if _is_discrete(oracle):
        np.testing.assert_allclose(d.pmf(x), oracle.pmf(x), rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(d.logpmf(x), oracle.logpmf(x), rtol=1e-10, atol=1e-12)
        with pytest.raises(TypeError, match="pmf"):
            d.pdf(x)
        with pytest.raises(TypeError, match="pmf"):
            d.logpdf(x)
    else:
        np.testing.assert_allclose(d.pdf(x), oracle.pdf(x), rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(d.logpdf(x), oracle.logpdf(x), rtol=1e-10, atol=1e-12)
        with pytest.raises(TypeError, match="pdf"):
            d.pmf(x)
    one = d.pmf(np.nan) if _is_discrete(oracle) else d.pdf(np.nan)
    assert one.shape == () and np.isnan(one)


@pytest.mark.parametrize(("spec", "make"), [c[1:] for c in SCIPY_CASES], ids=IDS)
def test_cdf_ppf_moments_and_interval_match_scipy(spec: Any, make: Callable[[], Any]) -> None:
    d, oracle = parse(spec), make()
    x = _points(oracle)
    np.testing.assert_allclose(d.cdf(x), oracle.cdf(x), rtol=1e-10, atol=1e-14)
    # random levels: never exactly on a step of a discrete CDF
    q = np.random.default_rng(3).uniform(1e-6, 1 - 1e-6, 200)
    np.testing.assert_allclose(d.ppf(q), oracle.ppf(q), rtol=1e-9, atol=1e-12)
    assert d.mean() == pytest.approx(float(oracle.mean()), rel=1e-11, abs=1e-14)
    assert d.var() == pytest.approx(float(oracle.var()), rel=1e-9, abs=1e-15)
    assert d.std() == pytest.approx(float(oracle.std()), rel=1e-9, abs=1e-15)
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.999):
        lo, hi = d.interval(confidence)
        want = oracle.interval(confidence)
        np.testing.assert_allclose([lo, hi], want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("spec", "make"), [c[1:] for c in SCIPY_CASES], ids=IDS)
def test_to_scipy_is_the_oracle_distribution(spec: Any, make: Callable[[], Any]) -> None:
    d, oracle = parse(spec), make()
    frozen = d.to_scipy()
    assert frozen.dist.name == oracle.dist.name or _is_discrete(oracle)
    x = _points(oracle)
    np.testing.assert_allclose(frozen.cdf(x), oracle.cdf(x), rtol=1e-12, atol=1e-300)
    if _is_discrete(oracle):
        np.testing.assert_allclose(frozen.pmf(x), oracle.pmf(x), rtol=1e-12, atol=1e-300)
    else:
        np.testing.assert_allclose(frozen.pdf(x), oracle.pdf(x), rtol=1e-12, atol=1e-300)
    assert float(frozen.var()) == pytest.approx(float(oracle.var()), rel=1e-12, abs=1e-300)


def test_interval_is_vectorised_and_checked() -> None:
    d = parse({"dist": "gamma", "shape": 2.5, "scale": 3})
    lo, hi = d.interval([0.5, 0.9, 1.0, 0.0])
    np.testing.assert_allclose(lo[:2], stats.gamma(2.5, scale=3).ppf([0.25, 0.05]), rtol=1e-12)
    assert (lo[2], hi[2]) == (0.0, math.inf)
    assert lo[3] == hi[3] == pytest.approx(float(d.ppf(0.5)))
    for bad in (1.5, -0.1, math.nan, [0.5, 2.0]):
        with pytest.raises(ValueError, match="confidence"):
            d.interval(bad)


# --- families without a scipy equivalent ------------------------------------------------------

_NORM, _GAMMA = stats.norm(0.3, 0.03), stats.gamma(9, scale=0.05)


def _restricted(parent: Any, low: float, high: float, x: np.ndarray) -> np.ndarray:
    inside = (x >= low) & (x <= high)
    mass = parent.sf(low) - parent.sf(high)
    return np.where(inside, parent.pdf(x), 0.0) / mass


def _kernels(x: np.ndarray, values: np.ndarray, h: float) -> np.ndarray:
    """The Gaussian kernel density, written out."""
    z = (x[..., None] - values) / h
    return np.exp(-0.5 * z * z).mean(axis=-1) / (h * math.sqrt(2 * math.pi))


NO_SCIPY: list[tuple[str, dict[str, Any] | float, Callable[[np.ndarray], np.ndarray]]] = [
    (
        "trunc-lognormal",
        {"dist": "lognormal", "mu": 1, "sigma": 0.5, "low": 1, "high": 4},
        partial(_restricted, stats.lognorm(0.5, scale=E), 1, 4),
    ),
    (
        "trunc-gamma",
        {"dist": "gamma", "shape": 2, "scale": 3, "low": 2},
        partial(_restricted, stats.gamma(2, scale=3), 2, np.inf),
    ),
    (
        "trunc-beta",
        {"dist": "beta", "alpha": 2, "beta": 3, "high": 0.3},
        partial(_restricted, stats.beta(2, 3), 0, 0.3),
    ),
    (
        "trunc-gamma-narrow",  # cancellation: the quadrature path of Truncated.var
        {"dist": "gamma", "shape": 400, "scale": 1, "low": 399.9, "high": 400.1},
        partial(_restricted, stats.gamma(400), 399.9, 400.1),
    ),
    (
        "mixture",
        {
            "dist": "mixture",
            "weights": [0.7, 0.3],
            "components": [
                {"dist": "normal", "mean": 0.3, "sd": 0.03},
                {"dist": "gamma", "shape": 9, "scale": 0.05},
            ],
        },
        lambda x: 0.7 * _NORM.pdf(x) + 0.3 * _GAMMA.pdf(x),
    ),
    (
        "smoothed-empirical",
        {"dist": "empirical", "values": [0.31, 0.42, 0.38, 0.45, 0.29], "smooth": 0.02},
        lambda x: _kernels(np.asarray(x), np.array([0.31, 0.42, 0.38, 0.45, 0.29]), 0.02),
    ),
]
NO_SCIPY_IDS = [c[0] for c in NO_SCIPY]


def _quad(f: Callable[[float], float], d: Distribution) -> float:
    """Integrate ``f`` over the distribution's bulk, split at its quartiles."""
    edges = d.ppf([1e-12, 0.25, 0.5, 0.75, 1 - 1e-12])
    return sum(
        integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-12, limit=200)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    )


@pytest.mark.parametrize(("spec", "density"), [c[1:] for c in NO_SCIPY], ids=NO_SCIPY_IDS)
def test_density_and_moments_without_scipy(
    spec: Any, density: Callable[[np.ndarray], np.ndarray]
) -> None:
    d = parse(spec)
    x = d.ppf(np.linspace(0.001, 0.999, 101))
    np.testing.assert_allclose(d.pdf(x), density(x), rtol=1e-10)
    np.testing.assert_allclose(d.logpdf(x), np.log(density(x)), rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError):
        d.pmf(x)
    # the moments by numerical integration of the independent density
    mass = _quad(lambda t: float(density(np.array(t))), d)
    mean = _quad(lambda t: t * float(density(np.array(t))), d)
    var = _quad(lambda t: (t - mean) ** 2 * float(density(np.array(t))), d)
    assert mass == pytest.approx(1.0, abs=1e-9)
    assert d.mean() == pytest.approx(mean, rel=1e-9)
    assert d.var() == pytest.approx(var, rel=1e-8)
    assert d.std() == pytest.approx(math.sqrt(var), rel=1e-8)
    # equal tails: the interval's ends leave (1 - c) / 2 on either side
    lo, hi = d.interval(0.9)
    smooth = "smooth" in str(spec)
    np.testing.assert_allclose(d.cdf([lo, hi]), [0.05, 0.95], atol=1e-9 if not smooth else 1e-12)
    with pytest.raises(NotImplementedError, match="scipy.stats has no"):
        d.to_scipy()


@pytest.mark.parametrize(("spec", "density"), [c[1:] for c in NO_SCIPY], ids=NO_SCIPY_IDS)
def test_pdf_is_the_slope_of_the_cdf(spec: Any, density: Callable[..., Any]) -> None:
    del density  # the oracle here is the distribution's own CDF
    d = parse(spec)
    x = d.ppf(np.linspace(0.02, 0.98, 49))
    scale = d.std()
    # the smoothed empirical CDF is tabulated: 16 points per bandwidth, error below 1e-4
    h, rtol = (0.02 / 20, 2e-3) if "smooth" in str(spec) else (1e-4 * scale, 1e-6)
    slope = (d.cdf(x + h) - d.cdf(x - h)) / (2 * h)
    np.testing.assert_allclose(d.pdf(x), slope, rtol=rtol, atol=rtol * d.pdf(x).max())


def test_point_masses_without_scipy() -> None:
    values = [0.25, 0.5, 0.5, 1.75]
    d = parse({"dist": "empirical", "values": values})
    x = np.array([0.25, 0.5, 1.75, 0.3, -1.0, np.nan])
    np.testing.assert_array_equal(d.pmf(x), [0.25, 0.5, 0.25, 0.0, 0.0, np.nan])
    assert d.var() == pytest.approx(float(np.var(values)), rel=1e-15)
    with pytest.raises(TypeError, match="pmf"):
        d.pdf(0.5)
    with pytest.raises(NotImplementedError, match="whole numbers"):
        d.to_scipy()
    c = parse(0.5)
    np.testing.assert_array_equal(c.pmf([0.5, 0.4]), [1.0, 0.0])
    assert c.var() == c.std() == 0.0
    assert c.interval(0.9) == (0.5, 0.5)
    with pytest.raises(NotImplementedError, match="whole numbers"):
        c.to_scipy()
    mix = parse({"dist": "mixture", "weights": [0.6, 0.4],
                 "components": [{"dist": "poisson", "lam": 2}, 7]})
    k = np.arange(0.0, 12.0)
    want = 0.6 * stats.poisson(2).pmf(k) + 0.4 * (k == 7)
    np.testing.assert_allclose(mix.pmf(k), want, rtol=1e-12)
    # law of total variance, from the scipy moments
    m = 0.6 * 2 + 0.4 * 7
    assert mix.var() == pytest.approx(0.6 * (2 + 2**2) + 0.4 * 7**2 - m**2, rel=1e-12)


def test_mixed_mixture_has_neither_density_nor_mass() -> None:
    mix = parse({"dist": "mixture", "weights": [0.5, 0.5],
                 "components": [{"dist": "normal", "mean": 0, "sd": 1}, 3]})
    for method in (mix.pdf, mix.logpdf, mix.pmf, mix.logpmf):
        with pytest.raises(TypeError, match="not every weighted component"):
            method(0.0)


# --- rvs ----------------------------------------------------------------------------------------

RVS_SPECS = [c[1] for c in SCIPY_CASES] + [c[1] for c in NO_SCIPY]


@pytest.mark.parametrize("spec", RVS_SPECS, ids=IDS + NO_SCIPY_IDS)
def test_rvs_is_reproducible_and_is_sample(spec: Any) -> None:
    d = parse(spec)
    a = d.rvs(1000, random_state=42)
    np.testing.assert_array_equal(a, d.rvs(1000, random_state=42))
    np.testing.assert_array_equal(a, d.sample(1000, np.random.default_rng(42)))
    assert not np.array_equal(a, d.rvs(1000, random_state=43)) or d.var() == 0.0
    one = d.rvs(random_state=42)
    assert isinstance(one, float) and one == a[0]
    assert d.rvs((2, 3), random_state=1).shape == (2, 3)


def test_rvs_generator_state_and_law() -> None:
    d = parse({"dist": "gamma", "shape": 2.5, "scale": 3})
    rng = np.random.default_rng(5)
    first, second = d.rvs(4, random_state=rng), d.rvs(4, random_state=rng)
    assert not np.array_equal(first, second)  # the generator was advanced
    np.testing.assert_array_equal(np.concatenate([first, second]),
                                  d.rvs(8, random_state=np.random.default_rng(5)))
    # never the global numpy state: neither read nor advanced
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    d.rvs(10)
    d.rvs(10, random_state=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    with pytest.raises(TypeError, match="RandomState"):
        d.rvs(3, random_state=np.random.RandomState(1))
    # the draws follow the law (a fixed seed, so deterministic)
    assert stats.kstest(d.rvs(20_000, random_state=9), stats.gamma(2.5, scale=3).cdf).pvalue > 0.01


HARD_TRUNCATIONS = [  # (spec, frozen scipy parent, integration range): cancellation cases
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 30}, stats.norm(), (30, 31.5)),
    ({"dist": "normal", "mean": 0, "sd": 1, "high": -37}, stats.norm(), (-38.5, -37)),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 8}, stats.norm(), (8, 13)),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": -1e-3, "high": 1e-3}, stats.norm(),
     (-1e-3, 1e-3)),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 5, "high": 5.001}, stats.norm(), (5, 5.001)),
    ({"dist": "normal", "mean": 3, "sd": 1, "low": 3 - 1e-7, "high": 3 + 2e-7}, stats.norm(3),
     (3 - 1e-7, 3 + 2e-7)),
    ({"dist": "gamma", "shape": 1e4, "scale": 1, "low": 1e4}, stats.gamma(1e4), (1e4, 1.1e4)),
    ({"dist": "lognormal", "mu": 0, "sigma": 0.05, "low": 1.1}, stats.lognorm(0.05),
     (1.1, 1.6)),
    ({"dist": "beta", "alpha": 2, "beta": 3, "low": 0.999}, stats.beta(2, 3), (0.999, 1)),
    ({"dist": "beta", "alpha": 200, "beta": 300, "low": 0.41}, stats.beta(200, 300), (0.41, 0.6)),
]


@pytest.mark.parametrize(("spec", "parent", "span"), HARD_TRUNCATIONS,
                         ids=[str(list(c[0].values())[1:]) for c in HARD_TRUNCATIONS])
def test_truncated_variance_where_the_closed_form_cancels(
    spec: dict[str, Any], parent: Any, span: tuple[float, float]
) -> None:
    """Against quadrature of the scipy parent's density, scaled to 1 at the range's start and
    integrated in the offset from it (so neither underflow nor a large origin costs digits)."""
    lo, hi = span
    ref = float(parent.logpdf(lo))

    def f(t: float) -> float:
        return math.exp(float(parent.logpdf(lo + t)) - ref)

    def q(g: Callable[[float], float]) -> float:
        return integrate.quad(g, 0.0, hi - lo, epsabs=0.0, epsrel=1e-13, limit=400)[0]

    mass = q(f)
    shift = q(lambda t: t * f(t)) / mass  # the mean less lo
    var = q(lambda t: (t - shift) ** 2 * f(t)) / mass
    assert parse(spec).var() == pytest.approx(var, rel=1e-9)
