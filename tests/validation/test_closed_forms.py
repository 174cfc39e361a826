"""Statistical validation: the binomial engine against closed forms.

Each check names its oracle. Tolerances are 4-5 Monte Carlo standard errors estimated from
the sample itself; seeds are fixed, so the checks are deterministic.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import simulator
from tests.conftest import CONSTANT

PATHS = 20000
MONTHS = 24


def _mean_ok(x: np.ndarray, target: float, k: float = 4.0) -> None:
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - target) <= k * se + 1e-12, (x.mean(), target, se)


def _var_ok(x: np.ndarray, target: float, k: float = 5.0) -> None:
    d = x - x.mean()
    m2, m4 = np.mean(d**2), np.mean(d**4)
    se = math.sqrt(max(m4 - m2**2, 0.0) / len(x))
    assert abs(x.var(ddof=1) - target) <= k * se + 1e-12, (x.var(ddof=1), target, se)


@pytest.fixture(scope="module")
def binomial_run():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(flows="binomial", paths=PATHS, months=MONTHS, seed=11)
    config = simulator.load_config(cfg)
    return cfg, simulator.run(config)


def test_poisson_thinning_every_stage_is_poisson(binomial_run):
    """Oracle: thinning a Poisson(lam) by independent binomial stages leaves a
    Poisson(lam * prod(rates)): mean and variance both equal that product."""
    cfg, result = binomial_run
    lam0 = cfg["acquisition"]["visitors"]
    growth = cfg["acquisition"]["visitor_growth"]
    for month in (1, 12, 24):
        lam = lam0 * (1 + growth) ** (month - 1)
        x = result.at("visitors", month)
        _mean_ok(x, lam)
        _var_ok(x, lam)
        for stage in cfg["funnel"]:
            lam *= stage["rate"]
            x = result.at(stage["stage"], month)
            _mean_ok(x, lam)
            _var_ok(x, lam)


def test_stage_counts_are_nested_thinnings(binomial_run):
    """Oracle: a deeper stage's count is part of a shallower one's plus an independent rest,
    so Cov(shallow, deep) = Var(deep) = its Poisson mean (Poisson splitting must keep this
    joint law, not only the marginals)."""
    cfg, result = binomial_run
    names = ["visitors", *(s["stage"] for s in cfg["funnel"])]
    month = 12
    lam = cfg["acquisition"]["visitors"] * (1 + cfg["acquisition"]["visitor_growth"]) ** 11
    means = [lam * math.prod(s["rate"] for s in cfg["funnel"][:k]) for k in range(len(names))]
    for shallow in range(len(names)):
        for deep in range(shallow + 1, len(names)):
            x, y = result.at(names[shallow], month), result.at(names[deep], month)
            products = (x - x.mean()) * (y - y.mean())
            se = products.std(ddof=1) / math.sqrt(len(x))
            assert abs(products.mean() - means[deep]) <= 5 * se, (names[shallow], names[deep])


def test_customers_mean_and_variance_closed_form(binomial_run):
    """Oracle: with constant churn p (q = 1 - p), customers(t) is the sum of independent
    Binomial(c0, q^t) survivors of the start and Poisson(mu_s q^(t-s)) survivors of each
    month's Poisson(mu_s) new customers."""
    cfg, result = binomial_run
    c0 = cfg["start"]["customers"]
    q = 1 - cfg["retention"]["churn"]
    rate = math.prod(s["rate"] for s in cfg["funnel"])
    lam0, growth = cfg["acquisition"]["visitors"], cfg["acquisition"]["visitor_growth"]
    for t in (1, 6, 12, 24):
        mus = [lam0 * (1 + growth) ** (s - 1) * rate * q ** (t - s) for s in range(1, t + 1)]
        mean = c0 * q**t + sum(mus)
        var = c0 * q**t * (1 - q**t) + sum(mus)
        x = result.at("customers", t)
        _mean_ok(x, mean)
        _var_ok(x, var)


def test_binomial_means_agree_with_expected_flows_month_by_month(binomial_run):
    """Oracle: the expected-flows line (all flows linear, so its values are the exact means)."""
    cfg, result = binomial_run
    expected_cfg = copy.deepcopy(cfg)
    expected_cfg["simulation"].update(flows="expected", paths=1)
    line = simulator.run(simulator.load_config(expected_cfg))
    for name in ("new_customers", "churned", "customers", "mrr", "cash", "cumulative_revenue"):
        for month in range(1, MONTHS + 1, 3):
            _mean_ok(result.at(name, month), float(line.at(name, month)[0]))


def test_churn_of_a_closed_cohort_is_geometric():
    """Oracle: with no acquisition, survival to month t is Binomial(c0, (1-p)^t)."""
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(flows="binomial", paths=PATHS, months=36, seed=3)
    cfg["acquisition"]["visitors"] = 0
    cfg["start"]["customers"] = 500
    cfg["retention"]["churn"] = 0.03
    result = simulator.run(simulator.load_config(cfg))
    for t in (1, 12, 36):
        s = 0.97**t
        x = result.at("customers", t)
        _mean_ok(x, 500 * s)
        _var_ok(x, 500 * s * (1 - s))


def test_drawn_parameters_follow_their_distribution():
    """Oracle: scipy.stats: a beta close rate drawn per path has the beta's quantiles."""
    from scipy import stats

    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=PATHS, months=1, seed=5)
    cfg["funnel"][4]["rate"] = {"dist": "beta", "alpha": 8, "beta": 12}
    result = simulator.run(simulator.load_config(cfg))
    draws = result.params.whole("funnel.customer.rate")
    assert stats.kstest(draws, stats.beta(8, 12).cdf).pvalue > 0.001


@pytest.mark.parametrize("sampling", ["random", "lhs", "sobol"])
def test_designs_agree_on_the_mean(sampling):
    """Oracle: expected flows with drawn inputs have mean customers(t) equal to the average
    over the joint input distribution; the three designs must agree within MC error."""
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=8192, months=12, seed=9, sampling=sampling)
    cfg["funnel"][4]["rate"] = {"dist": "beta", "mean": 0.4, "sd": 0.1}
    cfg["retention"]["churn"] = {"dist": "uniform", "low": 0.0, "high": 0.04}
    result = simulator.run(simulator.load_config(cfg))
    reference = copy.deepcopy(cfg)
    reference["simulation"].update(paths=200000, sampling="random", seed=1)
    truth = simulator.run(simulator.load_config(reference)).at("customers", 12).mean()
    _mean_ok(result.at("customers", 12), truth, k=5)
