"""Decisions: goal seek and budget allocation against closed forms, the evaluator against
simulator.run, and the two commands' output and errors.

Oracles:
- all-constant inputs, no start customers: customers at month T are Poisson with mean
  V * r_1 ... r_K * (1 - (1 - churn)^T) / churn (a customer won in month t survives the churn
  draws of months t+1..T; thinned Poissons stay Poisson), so the visitors V needed for
  P(customers >= N) >= P come from the Poisson quantile; the tolerance is 4 standard errors of
  the answer (the binomial standard error of P over the Poisson's slope in V);
- expected flows, all constants: payback = marketing / (new customers * arpa * margin), so the
  largest marketing spend with payback <= 12 is exact;
- two paid channels under expected flows: customers at T = sum_c a_c K_c s_c^e_c, and the
  optimal split equalises the marginal returns a_c K_c e_c s_c^(e_c - 1).
"""

from __future__ import annotations

import copy
import importlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import optimize, special, stats

import simulator
from simulator.decide.evaluate import HORIZON_DEPENDENT, Evaluator
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _poisson_config(seed: int, paths: int = 4000) -> dict[str, Any]:
    return {"simulation": {"paths": paths, "months": 12, "seed": seed},
            "acquisition": {"visitors": 100},
            "funnel": [{"stage": "lead", "rate": 0.1}, {"stage": "customer", "rate": 0.2}],
            "revenue": {"arpa": 100}, "retention": {"churn": 0.05}}


@pytest.mark.parametrize("seed", [0, 1])
def test_visitors_needed_match_the_poisson_quantile(seed):
    n, goal, need, churn, months = 4000, 0.8, 30, 0.05, 12
    per_visitor = 0.1 * 0.2 * (1 - (1 - churn) ** months) / churn
    mean = optimize.brentq(lambda m: special.gammainc(need, m) - goal, 1, 500)
    truth = mean / per_visitor
    slope = stats.poisson.pmf(need - 1, mean) * per_visitor  # dP/dV at the answer
    se = math.sqrt(goal * (1 - goal) / n) / slope
    answer = simulator.solve(_poisson_config(seed, n), f"customers@{months}>={need}", goal,
                             "acquisition.visitors")
    assert abs(answer.value - truth) <= 4 * se, (answer.value, truth, se)
    assert answer.multiplier == pytest.approx(answer.value / 100)
    assert answer.probability >= goal
    low, high = answer.value_interval
    assert low < answer.value < high
    assert 0.5 < (high - low) / (2 * 1.96 * se) < 2, "interval width near the delta method's"
    assert answer.probability_interval[0] < goal < answer.probability_interval[1]


def test_largest_spend_for_a_payback_goal_is_exact_under_expected_flows():
    cfg = {"simulation": {"paths": 5, "months": 6, "seed": 1, "flows": "expected"},
           "acquisition": {"visitors": 1000}, "funnel": [{"stage": "customer", "rate": 0.01}],
           "revenue": {"arpa": 100, "gross_margin": 0.8}, "retention": {"churn": 0.02},
           "costs": {"marketing": 5000}}
    answer = simulator.solve(cfg, "cac_payback_months@6<=12", "80%", "costs.marketing")
    truth = 12 * 10 * 100 * 0.8  # payback = marketing / (10 customers * $100 * 0.8)
    assert answer.value == pytest.approx(truth, rel=2e-3)
    assert answer.value <= truth * (1 + 1e-9), "the largest spend that still meets the goal"
    assert answer.ends[0][1] == 1.0 and answer.ends[1][1] == 0.0


def test_a_distribution_is_scaled_draw_by_draw():
    cfg = copy.deepcopy(_poisson_config(3, 2000))
    cfg["acquisition"]["visitors"] = {"dist": "lognormal", "p5": 80, "p95": 120}
    answer = simulator.solve(cfg, "customers@12>=25", 0.5, "acquisition.visitors",
                             within="0.5x:5x")
    dist = simulator.load_config(cfg).inputs["acquisition.visitors"].dist
    assert answer.value == pytest.approx(answer.multiplier * dist.mean())
    assert answer.value_p5 == pytest.approx(answer.multiplier * 80, rel=1e-6)
    assert answer.value_p95 == pytest.approx(answer.multiplier * 120, rel=1e-6)


def test_no_solution_names_the_probability_at_both_ends():
    with pytest.raises(simulator.NoSolution, match=r"0\.0% at 50 \(0\.5x\) and .*% at 200 "
                                                   r"\(2x\)") as caught:
        simulator.solve(_poisson_config(1, 500), "customers@12>=80", 0.9,
                        "acquisition.visitors", within=(50, 200))
    assert caught.value.ends[0] == (0.5, 0.0)


def test_evaluations_are_the_runs_numbers():
    """Every metric at the month asked equals a full run (the horizon is cut only for
    metrics that do not look ahead), with shocks replayed and inputs scaled as configured."""
    cfg = simulator.load_config(ROOT / "configs" / "smb_multichannel.toml")
    full = simulator.run(cfg, paths=600, seed=4)
    cut = tuple(m for m in cfg.metrics if m not in HORIZON_DEPENDENT)
    for metrics in (cut, tuple(HORIZON_DEPENDENT)):
        out = Evaluator(cfg, 7, paths=600, seed=4, metrics=metrics).run({})
        for name in metrics:
            assert np.array_equal(out.at(name), full.at(name, 7), equal_nan=True), name
    out = Evaluator(cfg, 7, paths=600, seed=4, totals=("paid_search.spend",)).run({})
    assert np.allclose(out.through("paid_search.spend"), full["paid_search.spend"][:, :7].sum(1))
    scaled = simulator.load_config(_poisson_config(2, 300) | {"acquisition": {"visitors": 137.5}})
    ev = Evaluator(simulator.load_config(_poisson_config(2, 300)), 12, metrics=("customers",))
    out = ev.run({"acquisition.visitors": ev.scaled("acquisition.visitors", 1.375)})
    assert np.array_equal(out.at("customers"), simulator.run(scaled).at("customers", 12))


def _two_channels(e: tuple[float, float], growth: tuple[float, float] = (0.0, 0.0),
                  churn: float = 0.0) -> dict[str, Any]:
    return {"simulation": {"paths": 20, "months": 6, "seed": 1, "flows": "expected"},
            "funnel": [{"stage": "customer", "rate": 0.01}],
            "channels": [{"name": "a", "spend": 1000, "cost_per_unit": 1.0,
                          "elasticity": e[0], "spend_growth": growth[0]},
                         {"name": "b", "spend": 1000, "cost_per_unit": 2.0,
                          "elasticity": e[1], "spend_growth": growth[1]}],
            "revenue": {"arpa": 100}, "retention": {"churn": churn}}


def test_equal_elasticities_split_by_the_closed_form():
    plan = simulator.allocate(_two_channels((0.5, 0.5)), 2000, "customers@6")
    spends = {c.name: c.spend_optimal for c in plan.channels}
    # a_c = (1000 / cost_c) * 1000^-e: a_a / a_b = 2, so s_a / s_b = 2^(1 / (1 - e)) = 4
    assert spends["a"] == pytest.approx(1600, abs=4) and spends["b"] == pytest.approx(400, abs=4)
    assert sum(spends.values()) == pytest.approx(2000)
    returns = [c.marginal_objective for c in plan.channels]
    assert returns[0] == pytest.approx(returns[1], rel=0.01)
    low, high = plan.gain_interval  # expected flows, constant inputs: no Monte Carlo error
    assert plan.gain > 0 and low == pytest.approx(plan.gain) and high == pytest.approx(plan.gain)


def test_unequal_elasticities_with_growth_and_churn_equalise_marginal_returns():
    e, g, churn, months = (0.7, 0.4), (0.05, 0.0), 0.03, 6
    plan = simulator.allocate(_two_channels(e, g, churn), 3000, "customers@6")
    a = np.array([1000 / 1.0 * 1000 ** -e[0], 1000 / 2.0 * 1000 ** -e[1]])
    k = np.array([sum((1 - churn) ** (months - t) * (1 + g[c]) ** ((t - 1) * e[c])
                      for t in range(1, months + 1)) for c in range(2)])

    def gap(s: float) -> float:
        return a[0] * k[0] * e[0] * s ** (e[0] - 1) - a[1] * k[1] * e[1] * (3000 - s) ** (e[1] - 1)

    truth = optimize.brentq(gap, 1, 2999)
    assert plan.channels[0].spend_optimal == pytest.approx(truth, abs=6)


def test_bounds_and_the_bad_case_statistic(monkeypatch):
    module = importlib.import_module("simulator.decide.allocate")
    monkeypatch.setattr(module, "SEARCH_PATHS", 200)  # the search on a subset of the paths
    plan = simulator.allocate(ROOT / "configs" / "paid_mix.toml", 40000, "customers@12",
                              statistic="p10", bounds=["display=6000:9000"], paths=600,
                              channels=["paid_search", "display"])
    spends = {c.name: c.spend_optimal for c in plan.channels}
    assert set(spends) == {"paid_search", "display"}
    assert 6000 - 1e-6 <= spends["display"] <= 9000 + 1e-6
    assert sum(spends.values()) == pytest.approx(40000)
    assert plan.objective == "p10 of customers@12" and plan.paths == 600


def test_solve_command_table_json_and_errors(capsys):
    path = ROOT / "configs" / "base.toml"
    code, out, err = run_cli(capsys, "solve", str(path), "--target", "customers@12>=70",
                          "--probability", "0.8", "--vary", "acquisition.visitors",
                          "--paths", "600", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {"input", "multiplier", "value", "probability", "probability_interval",
            "value_interval"} <= set(data)
    code, out, err = run_cli(capsys, "solve", str(path), "--target", "customers@12>=70",
                          "--probability", "0.8", "--vary", "acquisition.visitors",
                          "--paths", "300", "--range", "1:2x")
    assert code == 2 and err.startswith("error: --range: ") and len(err.splitlines()) == 1
    code, out, err = run_cli(capsys, "solve", str(path), "--target", "customers@12>=5000",
                          "--probability", "0.8", "--vary", "acquisition.visitors",
                          "--paths", "300")
    assert code == 1 and "no solution" in err and "at 0 (0x)" in err and out == ""
    for flag, value in (("--probability", "1.5"), ("--vary", "revenue.arpaa"),
                        ("--target", "customers@99>=5")):
        argv = {"--target": "customers@12>=70", "--probability": "0.8",
                "--vary": "acquisition.visitors"} | {flag: value}
        code, _, err = run_cli(capsys, "solve", str(path), *sum(argv.items(), ()))
        assert code == 2 and err.startswith(f"error: {flag}: ") and len(err.splitlines()) == 1


def test_allocate_command_json_plot_and_errors(capsys, tmp_path):
    path = ROOT / "configs" / "paid_mix.toml"
    png = tmp_path / "curves.png"
    code, out, err = run_cli(capsys, "allocate", str(path), "--budget", "40000", "--objective",
                          "customers@6", "--paths", "500", "--format", "json", "--plot",
                          str(png))
    assert code == 0, err
    data = json.loads(out)
    assert {"channels", "objective_current", "objective_optimal", "gain_interval"} <= set(data)
    assert {"name", "spend_current", "spend_optimal", "marginal_cac"} <= set(data["channels"][0])
    assert png.read_bytes()[:4] == b"\x89PNG"
    for argv, flag in ((["--budget", "-5"], "--budget"), (["--bound", "nope=1:2"], "--bound"),
                       (["--statistic", "p0"], "--statistic"),
                       (["--channels", "referral"], "--channels")):
        code, _, err = run_cli(capsys, "allocate", str(path), "--budget", "40000", "--objective",
                            "customers@6", *argv)
        assert code == 2 and err.startswith(f"error: {flag}: ") and len(err.splitlines()) == 1
    code, _, err = run_cli(capsys, "allocate", str(ROOT / "configs" / "base.toml"), "--budget",
                        "1000", "--objective", "customers@6")
    assert code == 2 and "no paid channel" in err


def test_solving_for_a_channel_spend_follows_its_response_curve():
    # customers@6 = 6 * 0.01 * (a_a * sqrt(s_a) + 500) with a_a = sqrt(1000): 120 customers
    # need sqrt(s_a) = 1500 / sqrt(1000), s_a = 2250 (a linear response would say 1500)
    answer = simulator.solve(_two_channels((0.5, 0.5)), "customers@6>=120", 0.5,
                             "channels.a.spend")
    assert answer.value == pytest.approx(2250, rel=2e-3)
    # a channel's own metric: a.new_customers@6 = 0.01 * a_a * sqrt(s_a)
    answer = simulator.solve(_two_channels((0.5, 0.5)), "a.new_customers@6 >= 15", 0.5,
                             "channels.a.spend")
    assert answer.value == pytest.approx(2250, rel=2e-3)


def _truth(need: int, goal: float, months: int, churn: float = 0.05) -> float:
    """The visitors at which P(customers@months >= need) = goal in _poisson_config."""
    per_visitor = 0.1 * 0.2 * (1 - (1 - churn) ** months) / churn
    return optimize.brentq(lambda m: special.gammainc(need, m) - goal, 1, 500) / per_visitor


def test_the_probability_is_a_monotone_step_function_of_the_multiplier():
    """Under binomial flows drawn by inversion each path meets the target from one
    multiplier on and never stops, so the share of paths is a monotone step function and the
    search's answer is exactly where it reaches the goal (to the bracket's 0.1%)."""
    cfg = simulator.load_config(_poisson_config(4, 600))
    ev = Evaluator(cfg, 12, metrics=("customers",), sampler="inversion")
    grid = np.linspace(1.0, 2.6, 161)
    met = np.array([ev.run({"acquisition.visitors": ev.scaled("acquisition.visitors", m)})
                    .at("customers") >= 30 for m in grid])
    assert np.all(np.diff(met.astype(int), axis=0) >= 0), "a path stopped meeting the target"
    assert met[0].sum() < 0.8 * 600 < met[-1].sum()
    answer = simulator.solve(cfg, "customers@12>=30", 0.8, "acquisition.visitors")
    need = math.ceil(0.8 * 600)
    below = ev.run({"acquisition.visitors": ev.scaled("acquisition.visitors",
                                                      answer.multiplier * (1 - 2e-3))})
    assert round(answer.probability * 600) >= need > (below.at("customers") >= 30).sum()


def test_the_answers_interval_covers_the_truth_at_its_level():
    """Re-solving on 8 groups of paths gives a t interval for the answer; over 40 seeds the
    90% interval covers the closed-form answer about 36 times (binomial sd 1.9)."""
    truth, covered = _truth(30, 0.8, 12), 0
    for seed in range(40):
        answer = simulator.solve(_poisson_config(100 + seed, 400), "customers@12>=30", 0.8,
                                 "acquisition.visitors", level=0.9)
        low, high = answer.value_interval
        covered += low <= truth <= high
        assert len(answer.replicas) == 8
    assert 31 <= covered <= 40, covered


@pytest.mark.parametrize("name", ["base.toml", "enterprise.toml"])
def test_under_inversion_a_paths_numbers_depend_on_its_own_inputs_only(name):
    """What lets the groups of paths be searched together: half the paths at one multiplier
    and half at another give each half's numbers at its own multiplier (sales capacity's
    hypergeometric draws too, in enterprise.toml)."""
    cfg = simulator.load_config(ROOT / "configs" / name)
    vary = "acquisition.visitors"
    ev = Evaluator(cfg, 9, paths=400, seed=6, metrics=("customers", "mrr"), sampler="inversion")
    factor = np.where(np.arange(400) < 200, 1.0, 1.7)
    mixed = ev.run({vary: ev.scaled(vary, factor)})
    for m, half in ((1.0, slice(0, 200)), (1.7, slice(200, 400))):
        alone = ev.run({vary: ev.scaled(vary, m)})
        for metric in ("customers", "mrr"):
            assert np.array_equal(mixed.at(metric)[half], alone.at(metric)[half]), (m, metric)
