"""Tests of the distribution families, their quantile and moment forms, and ``parse`` errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from distributions.base import Distribution, DistributionError
from distributions.spec import FAMILIES, parse

N = 20_000
SEED = 20260
KS_P = 1e-3

Spec = dict[str, Any]


def _sample(spec: Spec | float, n: int = N, seed: int = SEED) -> tuple[Distribution, np.ndarray]:
    dist = parse(spec)
    return dist, dist.sample(n, np.random.default_rng(seed))


def _truncated_cdf(parent: Any, low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    fa, fb = parent.cdf(low), parent.cdf(high)
    return lambda x: np.clip((parent.cdf(x) - fa) / (fb - fa), 0.0, 1.0)


# --- every continuous family against scipy.stats -------------------------------------------

_MU, _SIGMA = 7.2, 0.17
_LN_MEAN, _LN_SD = 1500.0, 250.0
_LN_S2 = math.log1p((_LN_SD / _LN_MEAN) ** 2)
_BETA_M, _BETA_SD = 0.2, 0.04
_BETA_K = _BETA_M * (1 - _BETA_M) / _BETA_SD**2 - 1
_PERT_A, _PERT_B = 1 + 4 * 0.5, 1 + 4 * 0.5 * 0.5 / 0.5  # low 0.4, mode 0.5, high 0.6

CONTINUOUS: list[tuple[str, Spec, Any]] = [
    ("uniform", {"dist": "uniform", "low": 2, "high": 5}, stats.uniform(2, 3)),
    ("normal", {"dist": "normal", "mean": 10, "sd": 2}, stats.norm(10, 2)),
    (
        "lognormal-mu-sigma",
        {"dist": "lognormal", "mu": _MU, "sigma": _SIGMA},
        stats.lognorm(s=_SIGMA, scale=math.exp(_MU)),
    ),
    (
        "lognormal-mean-sd",
        {"dist": "lognormal", "mean": _LN_MEAN, "sd": _LN_SD},
        stats.lognorm(s=math.sqrt(_LN_S2), scale=_LN_MEAN * math.exp(-_LN_S2 / 2)),
    ),
    ("beta", {"dist": "beta", "alpha": 2.5, "beta": 7}, stats.beta(2.5, 7)),
    (
        "beta-mean-sd",
        {"dist": "beta", "mean": _BETA_M, "sd": _BETA_SD},
        stats.beta(_BETA_M * _BETA_K, (1 - _BETA_M) * _BETA_K),
    ),
    ("gamma", {"dist": "gamma", "shape": 3.5, "scale": 2}, stats.gamma(3.5, scale=2)),
    ("gamma-mean-sd", {"dist": "gamma", "mean": 6, "sd": 3}, stats.gamma(4, scale=1.5)),
    (
        "triangular",
        {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
        stats.triang(0.25, loc=1, scale=4),
    ),
    (
        "pert",
        {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
        stats.beta(_PERT_A, _PERT_B, loc=0.4, scale=0.2),
    ),
    (
        "pert-skewed-lambda",
        {"dist": "pert", "low": 0, "mode": 1, "high": 10, "lambda": 2},
        stats.beta(1.2, 2.8, loc=0, scale=10),
    ),
    (
        "truncated-normal",
        {"dist": "normal", "mean": 0.05, "sd": 0.1, "low": 0, "high": 0.2},
        stats.truncnorm(-0.5, 1.5, loc=0.05, scale=0.1),
    ),
]


@pytest.mark.parametrize(
    ("spec", "ref"), [c[1:] for c in CONTINUOUS], ids=[c[0] for c in CONTINUOUS]
)
def test_continuous_family_matches_scipy(spec: Spec, ref: Any) -> None:
    dist, x = _sample(spec)
    assert stats.kstest(x, ref.cdf).pvalue > KS_P
    q = np.linspace(0.001, 0.999, 201)
    np.testing.assert_allclose(dist.ppf(q), ref.ppf(q), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(dist.cdf(ref.ppf(q)), q, rtol=1e-8, atol=1e-12)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9)
    assert abs(x.mean() - dist.mean()) < 4 * ref.std() / math.sqrt(N)
    low, high = dist.support()
    assert low <= x.min() and x.max() <= high


@pytest.mark.parametrize(
    ("spec", "parent", "low", "high"),
    [
        ({"dist": "lognormal", "mu": 0, "sigma": 1, "high": 2}, stats.lognorm(1), 0.0, 2.0),
        ({"dist": "gamma", "shape": 2, "scale": 1, "low": 1, "high": 4}, stats.gamma(2), 1.0, 4.0),
        ({"dist": "beta", "alpha": 2, "beta": 5, "low": 0.3}, stats.beta(2, 5), 0.3, 1.0),
        (
            {"dist": "normal", "p5": 10, "p95": 20, "low": 12},
            stats.norm(15, 5 / stats.norm.ppf(0.95)),
            12.0,
            math.inf,
        ),
    ],
)
def test_truncation_is_inverse_cdf_on_the_range(
    spec: Spec, parent: Any, low: float, high: float
) -> None:
    dist, x = _sample(spec)
    assert x.min() >= low and x.max() <= high
    assert dist.support() == (low, high)
    assert stats.kstest(x, _truncated_cdf(parent, low, high)).pvalue > KS_P
    expected = parent.expect(lambda t: t, lb=low, ub=high, conditional=True)
    assert dist.mean() == pytest.approx(expected, rel=1e-7)


def test_truncated_normal_matches_truncnorm_including_far_tail() -> None:
    dist, x = _sample({"dist": "normal", "mean": 100, "sd": 20, "low": 90, "high": 150})
    ref = stats.truncnorm(-0.5, 2.5, loc=100, scale=20)
    assert x.min() >= 90 and x.max() <= 150
    assert stats.kstest(x, ref.cdf).pvalue > KS_P
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-12)
    far = parse({"dist": "normal", "mean": 0, "sd": 1, "low": 8})  # 6e-16 of the parent's mass
    far_ref = stats.truncnorm(8, np.inf)
    q = np.array([0.001, 0.5, 0.999])
    np.testing.assert_allclose(far.ppf(q), far_ref.ppf(q), rtol=1e-9)
    assert far.mean() == pytest.approx(far_ref.mean(), rel=1e-9)


def test_truncation_never_clips() -> None:
    x = parse({"dist": "normal", "mean": 0, "sd": 1, "low": -0.5, "high": 0.5}).ppf(
        np.linspace(0.001, 0.999, 999)
    )
    assert np.unique(x).size == x.size  # clipping would pile values on the bounds


# --- discrete and resampled families: compare frequencies ---------------------------------


def _check_frequencies(x: np.ndarray, support: np.ndarray, pmf: np.ndarray) -> None:
    freq = (x[:, None] == support[None, :]).mean(axis=0)
    se = np.sqrt(pmf * (1 - pmf) / x.size)
    assert np.all(np.abs(freq - pmf) <= 4.5 * se + 1e-12)
    assert np.isin(x, support).all()


@pytest.mark.parametrize("lam", [0.4, 3.5, 60.0])
def test_poisson_frequencies_and_exact_ppf(lam: float) -> None:
    dist, x = _sample({"dist": "poisson", "lam": lam})
    assert dist.discrete and x.dtype == np.float64
    ks = np.arange(0, int(lam + 10 * math.sqrt(lam) + 10))
    _check_frequencies(x, ks.astype(float), stats.poisson.pmf(ks, lam))
    q = np.random.default_rng(1).random(5000)
    np.testing.assert_array_equal(dist.ppf(q), stats.poisson.ppf(q, lam))
    assert abs(x.mean() - lam) < 4 * math.sqrt(lam / N)


def test_poisson_large_mean_matches_scipy() -> None:
    q = np.array([1e-9, 0.01, 0.3, 0.5, 0.9, 0.999])
    for lam in (2e7, 5e9):
        got = parse({"dist": "poisson", "lam": lam}).ppf(q)
        np.testing.assert_allclose(got, stats.poisson.ppf(q, lam), rtol=1e-9)


def test_empirical_resamples_with_equal_weight() -> None:
    values = [3.0, 1.0, 2.0, 2.0, 10.0]
    dist, x = _sample({"dist": "empirical", "values": values})
    _check_frequencies(x, np.array([1.0, 2.0, 3.0, 10.0]), np.array([0.2, 0.4, 0.2, 0.2]))
    q = np.array([0.0, 0.19, 0.2, 0.39, 0.6, 0.99, 1.0])
    np.testing.assert_array_equal(dist.ppf(q), [1, 1, 2, 2, 3, 10, 10])
    assert dist.mean() == pytest.approx(3.6)
    assert dist.support() == (1.0, 10.0)


@pytest.mark.parametrize("smooth", [True, 0.5])
def test_empirical_smoothing_is_the_kernel_mixture(smooth: bool | float) -> None:
    values = np.random.default_rng(3).lognormal(1, 0.6, 60)
    dist, x = _sample({"dist": "empirical", "values": values.tolist(), "smooth": smooth})
    h = dist.bandwidth  # type: ignore[attr-defined]
    if smooth is not True:
        assert h == smooth
    else:
        iqr = np.subtract(*np.percentile(values, [75, 25])) / 1.34
        assert h == pytest.approx(0.9 * min(values.std(ddof=1), iqr) * 60**-0.2)

    def kde_cdf(t: np.ndarray) -> np.ndarray:
        return stats.norm.cdf((np.asarray(t)[:, None] - values[None, :]) / h).mean(axis=1)

    assert stats.kstest(x, kde_cdf).pvalue > KS_P
    q = np.linspace(0.0005, 0.9995, 2001)
    y = dist.ppf(q)
    assert np.all(np.diff(y) >= 0)  # monotone: ranks (copulas, LHS) are preserved
    assert np.max(np.abs(kde_cdf(y) - q)) < 2e-4
    assert abs(x.mean() - values.mean()) < 4 * math.sqrt(values.var() + h * h) / math.sqrt(N)


def test_empirical_reads_a_csv_column_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hist.csv").write_text("month,churn\n1,0.01\n2,\n3,0.03\n4,0.02\n")
    spec = {"dist": "empirical", "file": "data/hist.csv", "column": "churn"}
    dist = parse(spec, base_dir=tmp_path)
    np.testing.assert_array_equal(dist.ppf([0.1, 0.4, 0.9]), [0.01, 0.02, 0.03])
    assert "hist.csv:churn" in dist.describe()
    assert parse(spec, base_dir=str(tmp_path)).mean() == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("content", "column", "param", "words"),
    [
        (None, "churn", "file", "no such file"),
        ("month,churn\n1,0.1\n", "chrun", "column", "did you mean 'churn'"),
        ("month,churn\n1,0.1\n2,abc\n", "churn", "column", "non-numeric value 'abc' on line 3"),
        ("month,churn\n1,\n2,\n", "churn", "column", "has no values"),
        ("", "churn", "file", "cannot read"),
    ],
)
def test_empirical_file_errors(
    tmp_path: Path, content: str | None, column: str, param: str, words: str
) -> None:
    if content is not None:
        (tmp_path / "h.csv").write_text(content)
    with pytest.raises(DistributionError) as info:
        parse({"dist": "empirical", "file": "h.csv", "column": column}, base_dir=tmp_path)
    assert info.value.param == param
    assert words in info.value.reason


# --- mixtures and constants ---------------------------------------------------------------


def test_mixture_matches_weighted_cdf() -> None:
    spec = {
        "dist": "mixture",
        "components": [
            {"dist": "normal", "mean": 0, "sd": 1},
            {"dist": "gamma", "shape": 9, "scale": 0.5},
            {"dist": "uniform", "low": 10, "high": 11},
        ],
        "weights": [0.5, 0.3, 0.2],
    }
    parts = [stats.norm(0, 1), stats.gamma(9, scale=0.5), stats.uniform(10, 1)]
    weights = [0.5, 0.3, 0.2]

    def cdf(t: np.ndarray) -> np.ndarray:
        return sum(w * p.cdf(t) for w, p in zip(weights, parts, strict=True))

    dist, x = _sample(spec)
    assert stats.kstest(x, cdf).pvalue > KS_P
    q = np.linspace(0.001, 0.999, 999)
    np.testing.assert_allclose(cdf(dist.ppf(q)), q, atol=1e-12)
    mean = sum(w * p.mean() for w, p in zip(weights, parts, strict=True))
    sd = math.sqrt(
        sum(w * (p.var() + p.mean() ** 2) for w, p in zip(weights, parts, strict=True)) - mean**2
    )
    assert dist.mean() == pytest.approx(mean)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(N)


def test_discrete_mixture_is_exact() -> None:
    spec = {
        "dist": "mixture",
        "components": [{"dist": "poisson", "lam": 2}, {"dist": "poisson", "lam": 20}],
        "weights": [0.7, 0.3],
    }
    dist, x = _sample(spec)
    assert dist.discrete
    ks = np.arange(0, 60)
    pmf = 0.7 * stats.poisson.pmf(ks, 2) + 0.3 * stats.poisson.pmf(ks, 20)
    _check_frequencies(x, ks.astype(float), pmf)


def test_mixture_with_a_constant_component_has_an_atom() -> None:
    dist = parse(
        {
            "dist": "mixture",
            "components": [5, {"dist": "uniform", "low": 0, "high": 1}],
            "weights": [0.25, 0.75],
        }
    )
    np.testing.assert_allclose(dist.ppf([0.5, 0.74, 0.76, 0.99]), [2 / 3, 74 / 75, 5, 5])
    assert dist.support() == (0.0, 5.0)


def test_constant_and_plain_numbers() -> None:
    for spec in (4.5, {"dist": "constant", "value": 4.5}):
        dist = parse(spec)
        assert dist.is_constant and dist.mean() == 4.5
        np.testing.assert_array_equal(dist.ppf([0, 0.3, 1]), [4.5, 4.5, 4.5])
        assert dist.describe() == "constant(value=4.5)"
    assert parse(3).ppf(0.5).shape == ()


def test_ppf_shapes_dtypes_and_ends() -> None:
    q = np.array([[0.0, 0.5], [1.0, 0.25]])
    for name, spec in [
        ("normal", {"dist": "normal", "mean": 0, "sd": 1}),
        ("beta", {"dist": "beta", "alpha": 2, "beta": 2}),
        ("poisson", {"dist": "poisson", "lam": 3}),
        ("empirical", {"dist": "empirical", "values": [1, 2, 3]}),
        ("pert", {"dist": "pert", "low": 1, "mode": 2, "high": 4}),
    ]:
        dist = parse(spec)
        y = dist.ppf(q)
        assert y.shape == q.shape and y.dtype == np.float64, name
        assert (y[0, 0], y[1, 0]) == dist.support(), name
        assert np.isnan(dist.ppf([-0.1, 1.1, np.nan])).all(), name


def test_describe_uses_six_significant_digits() -> None:
    assert parse({"dist": "beta", "alpha": 12.345678, "beta": 45.6}).describe() == (
        "beta(alpha=12.3457, beta=45.6)"
    )
    assert parse({"dist": "normal", "mean": 1, "sd": 2, "low": 0}).describe() == (
        "normal(mean=1, sd=2, low=0)"
    )
    assert (
        "weights=[0.3, 0.7]"
        in parse({"dist": "mixture", "components": [1, 2], "weights": [0.3, 0.7]}).describe()
    )


# --- quantile and moment forms --------------------------------------------------------------

QUANTILE_CASES = [
    ("normal", (10.0, 20.0)),
    ("normal", (-0.02, 0.05)),
    ("lognormal", (2000.0, 3000.0)),
    ("lognormal", (0.001, 50.0)),
    ("beta", (0.28, 0.52)),
    ("beta", (0.001, 0.01)),
    ("beta", (0.9, 0.999)),
    ("gamma", (2.0, 9.0)),
    ("gamma", (100.0, 101.0)),
    ("gamma", (1e-4, 30.0)),
]
PAIRS = [(5, 95), (10, 90), (1, 50), (25, 99)]


@pytest.mark.parametrize(("family", "values"), QUANTILE_CASES)
@pytest.mark.parametrize("pair", PAIRS, ids=[f"p{a}-p{b}" for a, b in PAIRS])
def test_quantile_forms_reproduce_both_quantiles(
    family: str, values: tuple[float, float], pair: tuple[int, int]
) -> None:
    (pa, pb), (a, b) = pair, values
    dist = parse({"dist": family, f"p{pa}": a, f"p{pb}": b})
    got = dist.ppf([pa / 100, pb / 100])
    for g, v in zip(got, (a, b), strict=True):
        assert abs(g - v) <= max(1e-6 * abs(v), 1e-9)


def test_quantile_keys_may_come_in_any_order() -> None:
    a = parse({"dist": "gamma", "p90": 9, "p10": 2}).describe()
    assert a == parse({"dist": "gamma", "p10": 2, "p90": 9}).describe()


@pytest.mark.parametrize(
    ("spec", "mean", "sd"),
    [
        ({"dist": "lognormal", "mean": 1500, "sd": 250}, 1500, 250),
        ({"dist": "beta", "mean": 0.0075, "sd": 0.0015}, 0.0075, 0.0015),
        ({"dist": "gamma", "mean": 0.5, "sd": 2}, 0.5, 2),
    ],
)
def test_moment_forms(spec: Spec, mean: float, sd: float) -> None:
    dist = parse(spec)
    q = (np.arange(200_000) + 0.5) / 200_000
    y = dist.ppf(q)
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert y.std() == pytest.approx(sd, rel=0.02)


# --- errors ---------------------------------------------------------------------------------

ERRORS: list[tuple[object, str, str]] = [
    ({"dist": "betta", "alpha": 1, "beta": 2}, "dist", "did you mean 'beta'?"),
    ({"dist": "Normal", "mean": 1, "sd": 2}, "dist", "allowed: constant, uniform"),
    ({"mean": 1, "sd": 2}, "dist", "is missing"),
    ({"dist": 3}, "dist", "must be a name"),
    ({"dist": "normal", "meen": 1, "sd": 2}, "meen", "did you mean 'mean'? allowed: mean, sd"),
    ({"dist": "normal", "mean": 1}, "sd", "is missing"),
    ({"dist": "beta", "alpha": 2}, "beta", "is missing"),
    ({"dist": "normal", "mean": "1", "sd": 2}, "mean", "must be a number (got '1')"),
    ({"dist": "normal", "mean": True, "sd": 2}, "mean", "must be a number (got true)"),
    ({"dist": "normal", "mean": math.nan, "sd": 2}, "mean", "finite"),
    ({"dist": "normal", "mean": 1, "sd": math.inf}, "sd", "finite"),
    ({"dist": "normal", "mean": 1, "sd": -3}, "sd", "must be > 0 (got -3)"),
    ({"dist": "normal", "mean": 1, "sd": 0}, "sd", "must be > 0"),
    ({"dist": "lognormal", "mu": 1, "sigma": 0}, "sigma", "must be > 0"),
    ({"dist": "lognormal", "mean": -1, "sd": 2}, "mean", "must be > 0"),
    ({"dist": "gamma", "shape": 0, "scale": 1}, "shape", "must be > 0"),
    ({"dist": "normal", "mean": 1, "sd": 2, "p5": 0}, "p5", "cannot be combined"),
    ({"dist": "lognormal", "mu": 1, "sigma": 2, "mean": 3}, "mean", "cannot be combined"),
    ({"dist": "normal", "p5": 3}, "p5", "exactly two"),
    ({"dist": "normal", "p5": 3, "p50": 4, "p95": 5}, "p95", "exactly two"),
    ({"dist": "normal", "p5": 3, "p95": 3}, "p95", "must be > p5"),
    ({"dist": "normal", "p0": 3, "p95": 5}, "p0", "p1..p99"),
    ({"dist": "normal", "p100": 3, "p5": 1}, "p100", "p1..p99"),
    ({"dist": "uniform", "p5": 3, "p95": 4}, "p5", "quantile forms apply to"),
    ({"dist": "lognormal", "p5": -1, "p95": 2}, "p5", "must be > 0"),
    ({"dist": "beta", "p5": 0.2, "p95": 1.2}, "p95", "must be in (0, 1)"),
    ({"dist": "gamma", "p5": 0, "p95": 2}, "p5", "must be > 0"),
    ({"dist": "uniform", "low": 3, "high": 3}, "high", "must be > low"),
    ({"dist": "triangular", "low": 0, "mode": 5, "high": 3}, "mode", "between low and high"),
    ({"dist": "pert", "low": 0, "mode": 1, "high": 3, "lambda": 0}, "lambda", "must be > 0"),
    ({"dist": "poisson", "lam": -1}, "lam", "must be >= 0"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 3, "high": 2}, "high", "must be > low"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 3, "high": 3}, "high", "must be > low"),
    ({"dist": "beta", "alpha": 2, "beta": 3, "low": 1.5}, "low", "zero probability"),
    ({"dist": "gamma", "shape": 2, "scale": 1, "high": -1}, "high", "zero probability"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 50}, "low", "zero probability"),
    ({"dist": "uniform", "low": 0, "high": 1, "low_": 2}, "low_", "unknown parameter"),
    ({"dist": "triangular", "low": 0, "mode": 1, "high": 3, "lambda": 2}, "lambda", "unknown"),
    ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "sd", "too large for a beta"),
    ({"dist": "beta", "mean": 0.1, "sd": 0.31}, "sd", "must be < sqrt(mean * (1 - mean))"),
    ({"dist": "beta", "mean": 1.2, "sd": 0.1}, "mean", "must be in (0, 1)"),
    ({"dist": "mixture", "components": [1, 2], "weights": [0.5, 0.6]}, "weights", "sum to 1"),
    ({"dist": "mixture", "components": [1, 2], "weights": [1.5, -0.5]}, "weights", ">= 0"),
    ({"dist": "mixture", "components": [1, 2], "weights": [1.0]}, "weights", "one weight per"),
    ({"dist": "mixture", "components": [], "weights": []}, "components", "at least one"),
    ({"dist": "mixture", "components": 1, "weights": [1]}, "components", "list of specs"),
    (
        {"dist": "mixture", "components": [1, {"dist": "normal", "mean": 0}], "weights": [1, 0]},
        "components[1].sd",
        "is missing",
    ),
    ({"dist": "mixture", "components": [1, "x"], "weights": [1, 0]}, "components[1]", "number"),
    ({"dist": "empirical", "values": []}, "values", "must not be empty"),
    ({"dist": "empirical", "values": [1, "a"]}, "values", "item 1"),
    ({"dist": "empirical", "values": "1,2"}, "values", "list of numbers"),
    ({"dist": "empirical", "values": [1, 2], "file": "x.csv"}, "file", "cannot be combined"),
    ({"dist": "empirical", "file": "x.csv"}, "column", "is missing"),
    ({"dist": "empirical", "values": [1, 2], "smooth": -1}, "smooth", "bandwidth > 0"),
    ({"dist": "empirical", "values": [1, 2], "smooth": "yes"}, "smooth", "true, false"),
    ({"dist": "empirical", "values": [1, 1], "smooth": True}, "smooth", "two distinct"),
    ({"dist": "normal", "mean": 0, "sd": 1, "vary": "month"}, "vary", "handled by the caller"),
    ({"dist": "normal", "mean": 0, "sd": 1, "persistence": 0.5}, "persistence", "caller"),
    ({"dist": "normal", 3: 1}, "3", "must be text"),
    ("normal", "", "must be a number or a table"),
    ([1, 2], "", "must be a number or a table"),
    (None, "", "must be a number or a table"),
    (True, "", "must be a number or a table"),
    (math.nan, "", "finite"),
    (math.inf, "", "finite"),
]


@pytest.mark.parametrize(("spec", "param", "words"), ERRORS, ids=[e[1] or "spec" for e in ERRORS])
def test_errors_name_the_parameter(spec: object, param: str, words: str) -> None:
    with pytest.raises(DistributionError) as info:
        parse(spec, caller_keys=("vary", "persistence"))  # the simulator's per-input options
    assert info.value.param == param
    assert words in info.value.reason
    reason = info.value.reason
    assert str(info.value) == (f"{param}: {reason}" if param else reason)


def test_distribution_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="sd: must be > 0"):
        parse({"dist": "normal", "mean": 0, "sd": -1})


def test_registry_lists_every_family() -> None:
    assert list(FAMILIES) == [
        "constant",
        "uniform",
        "normal",
        "lognormal",
        "beta",
        "gamma",
        "triangular",
        "pert",
        "poisson",
        "empirical",
        "mixture",
    ]


# --- property-based ---------------------------------------------------------------------------

_finite = st.floats(-1e4, 1e4, allow_nan=False)
_positive = st.floats(0.05, 50.0)


@st.composite
def _ordered(draw: st.DrawFn, lo: float = -1e4, hi: float = 1e4, gap: float = 1e-3) -> tuple:
    a = draw(st.floats(lo, hi - gap))
    return a, draw(st.floats(a + gap, hi)).__float__()


@st.composite
def _quantile_spec(draw: st.DrawFn) -> Spec:
    family = draw(st.sampled_from(["normal", "lognormal", "beta", "gamma"]))
    pa = draw(st.integers(1, 90))
    pb = draw(st.integers(pa + 5, 99))
    if family == "normal":
        a, b = draw(_ordered(gap=1e-2))
    elif family == "beta":
        a, b = draw(_ordered(0.02, 0.98, gap=0.01))
    else:
        a = draw(st.floats(0.01, 100.0))
        b = a * draw(st.floats(1.05, 20.0))
    return {"dist": family, f"p{pa}": a, f"p{pb}": b}


@st.composite
def _truncated_spec(draw: st.DrawFn) -> Spec:
    mean, sd = draw(_finite), draw(st.floats(0.01, 100.0))
    z1, z2 = draw(_ordered(-4.0, 4.0, gap=0.05))
    spec: Spec = {"dist": "normal", "mean": mean, "sd": sd}
    if draw(st.booleans()):
        spec["low"] = mean + z1 * sd
    if draw(st.booleans()):
        spec["high"] = mean + z2 * sd
    return spec


def _simple_specs() -> st.SearchStrategy[Any]:
    return st.one_of(
        _finite,
        st.builds(lambda v: {"dist": "constant", "value": v}, _finite),
        _ordered().map(lambda t: {"dist": "uniform", "low": t[0], "high": t[1]}),
        _truncated_spec(),
        st.builds(
            lambda m, s: {"dist": "lognormal", "mu": m, "sigma": s},
            st.floats(-3, 3),
            st.floats(0.05, 2),
        ),
        st.builds(
            lambda m, c: {"dist": "lognormal", "mean": m, "sd": m * c},
            st.floats(0.01, 1e4),
            st.floats(0.01, 2),
        ),
        st.builds(lambda a, b: {"dist": "beta", "alpha": a, "beta": b}, _positive, _positive),
        st.builds(
            lambda m, f: {"dist": "beta", "mean": m, "sd": f * math.sqrt(m * (1 - m))},
            st.floats(0.02, 0.98),
            st.floats(0.05, 0.9),
        ),
        st.builds(lambda k, s: {"dist": "gamma", "shape": k, "scale": s}, _positive, _positive),
        st.builds(
            lambda t, f, lam: {
                "dist": "pert",
                "low": t[0],
                "mode": t[0] + f * (t[1] - t[0]),
                "high": t[1],
                "lambda": lam,
            },
            _ordered(),
            st.floats(0, 1),
            st.floats(0.5, 10),
        ),
        st.builds(
            lambda t, f: {
                "dist": "triangular",
                "low": t[0],
                "mode": t[0] + f * (t[1] - t[0]),
                "high": t[1],
            },
            _ordered(),
            st.floats(0, 1),
        ),
        st.builds(lambda lam: {"dist": "poisson", "lam": lam}, st.floats(0, 500)),
        st.builds(
            lambda v, s: {"dist": "empirical", "values": v, "smooth": s},
            st.lists(_finite, min_size=2, max_size=20).filter(lambda v: len(set(v)) > 1),
            st.one_of(st.just(False), st.just(True), st.floats(0.01, 10)),
        ),
        _quantile_spec(),
    )


@st.composite
def _mixture_spec(draw: st.DrawFn) -> Spec:
    components = draw(st.lists(_simple_specs(), min_size=1, max_size=3))
    raw = draw(st.lists(st.integers(1, 10), min_size=len(components), max_size=len(components)))
    return {"dist": "mixture", "components": components, "weights": [r / sum(raw) for r in raw]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.one_of(_simple_specs(), _mixture_spec()), seed=st.integers(0, 2**32 - 1))
def test_valid_specs_give_finite_samples_inside_the_support(spec: Any, seed: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist = parse(spec)
        x = dist.sample(300, np.random.default_rng(seed))
        low, high = dist.support()
        assert np.isfinite(x).all()
        assert (x >= low).all() and (x <= high).all()
        assert math.isfinite(dist.mean())
        assert isinstance(dist.describe(), str)


_KEYS = st.sampled_from(
    [
        "dist",
        "mean",
        "sd",
        "mu",
        "sigma",
        "alpha",
        "beta",
        "shape",
        "scale",
        "low",
        "high",
        "mode",
        "lambda",
        "lam",
        "value",
        "values",
        "file",
        "column",
        "smooth",
        "components",
        "weights",
        "p5",
        "p95",
        "p50",
        "p0",
        "vary",
    ]
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=4),
    st.sampled_from(list(FAMILIES)),
    st.lists(st.one_of(st.floats(), st.integers(-3, 3), st.text(max_size=2)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-2, 2), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(
    spec=st.one_of(
        st.dictionaries(st.one_of(_KEYS, st.text(max_size=4)), _VALUES, max_size=5),
        st.builds(
            lambda name, rest: {**rest, "dist": name},
            st.sampled_from(list(FAMILIES)),
            st.dictionaries(_KEYS, _VALUES, max_size=4),
        ),
        _VALUES,
    )
)
def test_any_input_raises_only_distribution_error(spec: Any) -> None:
    try:
        dist = parse(spec, base_dir=Path("/nonexistent-test-dir"))
    except DistributionError as err:
        assert isinstance(err.param, str) and err.reason
        return
    assert isinstance(dist, Distribution)


SHAPES = [(5.0, 600.0), (2.0, 2.0), (24.5, 6.1), (9.0, 700.0), (0.3, 4.0), (1.6, 3.4),
          (200.0, 300.0), (0.05, 0.05), (1000.0, 2.0), (0.01, 5.0), (3.0, 1.0), (0.5, 0.5),
          (1.0, 1.0), (40.0, 0.2)]


@pytest.mark.parametrize("alpha, beta", SHAPES)
def test_fast_beta_inverse_agrees_with_betaincinv(alpha: float, beta: float) -> None:
    """Oracle: scipy.special.betaincinv, over both tails down to 1e-100 and up to 1 - 2^-53.
    Where the two disagree in the last digits, the fast one must not fit worse: its
    residual |I_x - q| relative to the smaller tail is at most betaincinv's plus 1e-13."""
    from scipy import special

    from distributions.beta_inverse import beta_ppf

    rng = np.random.default_rng(7)
    q = np.concatenate([rng.random(20000), rng.random(500) ** 40,
                        1.0 - rng.random(500) ** 8, [2.0**-53, 0.5, 1.0 - 2.0**-53]])
    q = np.clip(q, 1e-300, 1.0 - 2.0**-53)  # strictly inside (0, 1), as ppf passes it
    fast = beta_ppf(alpha, beta, q)
    exact = special.betaincinv(alpha, beta, q)
    close = np.abs(fast - exact) <= 1e-12 * exact
    fits = beta_misfit(alpha, beta, q, fast) <= beta_misfit(alpha, beta, q, exact) + 1e-13
    assert np.all(close | fits)
    assert np.mean(close) > 0.999
    assert beta_ppf(alpha, beta, q.reshape(-1, 3)[:5]).shape == (5, 3)
    assert np.isnan(beta_ppf(alpha, beta, [np.nan, -0.1, 1.1])).all()  # as betaincinv


def beta_misfit(alpha: float, beta: float, q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|I_x(alpha, beta) - q| relative to the smaller tail (each tail's own function)."""
    from scipy import special

    low = special.betainc(alpha, beta, x) - q
    high = (1.0 - q) - special.betaincc(alpha, beta, x)
    return np.abs(np.where(q <= 0.5, low, high)) / np.minimum(q, 1.0 - q)
