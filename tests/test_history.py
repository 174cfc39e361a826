"""Calibration from history and backtests, checked on synthetic companies with known
parameters; tolerances come from the Monte Carlo error of the number of companies."""

from __future__ import annotations

import math

import numpy as np
import pytest

import distributions
from simulator.history.backtest import run_backtest
from simulator.history.calibrate import calibrate_history, load_base
from simulator.history.rates import fit_rate

from .synthetic import (
    BASE,
    ENGINE_COMPANIES,
    STAGES,
    Truth,
    draw_truth,
    engine_histories,
    histories,
)


def _interval(spec: object, level: float = 0.9) -> tuple[float, float]:
    if not isinstance(spec, dict):
        return float(spec), float(spec)  # type: ignore[arg-type]
    plain = {k: v for k, v in spec.items() if k not in ("vary", "persistence")}
    d = distributions.parse(plain)
    lo, hi = d.ppf(np.array([(1 - level) / 2, (1 + level) / 2]))
    return float(lo), float(hi)


def _tolerance(p: float, n: int) -> float:
    """Three binomial standard errors of a coverage p measured over n independent trials."""
    return 3.0 * math.sqrt(p * (1 - p) / n)


def test_calibrated_inputs_cover_the_true_values_90_percent_of_the_time():
    """Simulation-based calibration over 200 synthetic companies, the engine's own paths
    (each path's drawn inputs are its truth, its trajectories its 24-month history): the 90%
    interval of every calibrated rate (and of visitor growth) in the written config holds
    the company's true value about 90% of the time."""
    companies, truth = engine_histories(ENGINE_COMPANIES)
    raw, base = load_base(BASE)
    names = [*(f"funnel.{s}.rate" for s in STAGES), "retention.churn",
             "acquisition.visitor_growth"]
    hits = dict.fromkeys(names, 0)
    for i, h in enumerate(companies):
        config = calibrate_history(h, raw, base).config
        specs = {f"funnel.{e['stage']}.rate": e["rate"] for e in config["funnel"]}
        specs["retention.churn"] = config["retention"]["churn"]
        specs["acquisition.visitor_growth"] = config["acquisition"]["visitor_growth"]
        for name in names:
            lo, hi = _interval(specs[name])
            hits[name] += lo <= truth[name][i] <= hi
    n = len(companies)
    total = sum(hits.values()) / (n * len(hits))
    assert abs(total - 0.9) < _tolerance(0.9, n * len(hits)), hits
    for name, count in hits.items():
        assert abs(count / n - 0.9) < _tolerance(0.9, n), (name, count / n)


def test_overdispersed_rates_keep_their_coverage_and_vary_by_month():
    """Month-to-month spread (a beta-binomial): the posterior of the long-run rate still
    covers it 90% of the time, and a strong spread is written as vary = "month"."""
    rng = np.random.default_rng(12)
    n, months = 300, 24
    mu = rng.uniform(0.1, 0.6, n)
    cv = rng.uniform(0.1, 0.5, n)
    trials = rng.poisson(rng.uniform(20, 200, n)[:, None], (n, months))
    kappa = np.maximum((1 - mu) / (mu * cv**2) - 1, 0.5)[:, None]
    p = rng.beta(mu[:, None] * kappa, (1 - mu[:, None]) * kappa, (n, months))
    converted = rng.binomial(trials, p)
    hits, monthly, strong = 0, 0, 0
    for i in range(n):
        fit = fit_rate(trials[i], converted[i], horizon=12)
        hits += fit.low <= mu[i] <= fit.high
        if cv[i] > 0.3:
            strong += 1
            monthly += fit.spec.get("vary") == "month"
    assert abs(hits / n - 0.9) < _tolerance(0.9, n), hits / n
    assert monthly / strong > 0.9


def test_binomial_months_are_drawn_once_per_path():
    rng = np.random.default_rng(13)
    flagged = sum(fit_rate(t, rng.binomial(t, 0.3), horizon=12).overdispersed
                  for t in rng.poisson(100, (200, 24)))
    assert abs(flagged / 200 - 0.05) < _tolerance(0.05, 200)


def test_small_samples_give_wide_ranges():
    fit = fit_rate([8], [3], horizon=12)  # 3 customers from 8 opportunities
    assert fit.high - fit.low > 0.45
    many = fit_rate([100] * 8, [37, 38] * 4, horizon=12)  # 300 of 800 over 8 months
    assert many.high - many.low < 0.07


def _take(truth: Truth, rows: slice) -> Truth:
    return Truth(truth.visitors[rows], truth.growth[rows],
                 {k: v[rows] for k, v in truth.rates.items()}, truth.arpa[rows],
                 truth.expansion[rows], truth.customers[rows])


def test_backtest_coverage_is_80_percent_when_the_model_is_right():
    """30 synthetic companies drawn from the model itself: the P10-P90 ranges of calibrated
    forecasts hold about 80% of what then happened (tolerance from the spread between
    companies), and beat the naive baseline on CRPS."""
    rng = np.random.default_rng(21)
    n = 30
    truth = draw_truth(n, rng)
    raw, base = load_base(BASE)
    per_company, skill = [], []
    half = n // 2  # traffic with Poisson noise only, and with 10% month-to-month scatter
    companies = [*histories(_take(truth, slice(0, half)), 30, rng),
                 *histories(_take(truth, slice(half, n)), 30, rng, scatter=0.1)]
    for i, h in enumerate(companies):
        bt = run_backtest(h, raw, base, train=20, horizon=6, step=4, paths=300, seed=i)
        per_company.append(bt.scores["coverage_80"].mean())
        s = bt.scores
        skill.append(s["crps"].sum() / s["baseline_crps"].sum())
    mean = float(np.mean(per_company))
    err = 3.0 * float(np.std(per_company, ddof=1)) / math.sqrt(n)
    assert abs(mean - 0.8) < max(err, 0.03), (mean, err)
    assert np.median(skill) < 1.0


def test_backtest_coverage_collapses_after_a_regime_change():
    """Traffic drops 40% after month 20: forecasts made at month 20 miss what follows."""
    rng = np.random.default_rng(22)
    n = 20
    truth = draw_truth(n, rng)
    raw, base = load_base(BASE)
    top = []
    for i, h in enumerate(histories(truth, 26, rng, drop_after=20)):
        s = run_backtest(h, raw, base, train=20, horizon=6, step=6, paths=300, seed=i).scores
        top.append(s[s.metric.isin(["visitors", "lead"])]["coverage_80"].mean())
    assert float(np.mean(top)) < 0.3


@pytest.mark.parametrize("mean,param_sd,month_sd,horizon", [
    (0.25, 0.02, 0.05, 12), (0.01, 0.001, 0.004, 36), (0.5, 0.05, 0.05, 6)])
def test_a_month_varying_rate_has_the_spread_of_the_posterior(mean, param_sd, month_sd,
                                                              horizon):
    """The beta with vary = "month" and the matched persistence: one month's rate has the
    predictive variance (parameter + monthly), the horizon's average rate has parameter
    variance + monthly variance / horizon (within 5%; Monte Carlo error about 1%)."""
    from distributions.joint import ar1_uniforms
    from simulator.history.rates import beta_spec, persistence_for

    r = persistence_for(param_sd**2, month_sd**2, horizon)
    d = distributions.parse(beta_spec(mean, param_sd**2 + month_sd**2))
    x = d.ppf(ar1_uniforms(np.random.default_rng(1), 20000, horizon, r))
    assert np.var(x[:, 0]) / (param_sd**2 + month_sd**2) == pytest.approx(1, abs=0.05)
    assert np.var(x.mean(axis=1)) / (param_sd**2 + month_sd**2 / horizon) == \
        pytest.approx(1, abs=0.05)


def test_month_varying_visitors_keep_the_horizon_spread_of_level_and_growth():
    """Traffic that scatters month to month is redrawn every month, so its level cannot be
    correlated with growth; the widened growth gives the last month's log visitors the
    variance of the correlated estimates plus the scatter (within 5%)."""
    import simulator
    from simulator.history.levels import fit_visitors

    rng = np.random.default_rng(3)
    months = 24
    fit = fit_visitors(rng.poisson(3000 * 1.02 ** np.arange(30) * rng.lognormal(0, 0.08, 30)),
                       horizon=months)
    assert fit.visitors["vary"] == "month"
    h = months - 1
    target = (fit.level_se**2 + h**2 * fit.growth_se**2 + fit.month_sigma**2
              + 2 * h * fit.correlation * fit.level_se * fit.growth_se)
    config = {"simulation": {"months": months, "paths": 20000, "seed": 1, "flows": "expected"},
              "acquisition": {"visitors": fit.visitors, "visitor_growth": fit.visitor_growth},
              "funnel": [{"stage": "lead", "rate": 0.01}], "revenue": {"arpa": 100},
              "retention": {"churn": 0.02}}
    last = simulator.run(simulator.load_config(config))["visitors"][:, -1]
    assert np.var(np.log(last)) / target == pytest.approx(1, abs=0.05)
