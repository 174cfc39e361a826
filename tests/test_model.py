"""The model of docs/model.md against independent calculations."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import simulator
from tests.reference import expected_path

STAGES = ["lead", "mql", "sql", "opportunity", "customer"]
NAMES = ["visitors", *STAGES, "new_customers", "churned", "customers", "mrr", "sm_spend", "cash",
         "cac", "cac_payback_months", "ltv", "ltv_to_cac", "cumulative_revenue"]


def _flat(cfg: dict) -> dict[str, float]:
    p = {f"{section}.{k}": float(v) for section in ("start", "acquisition", "revenue",
                                                    "retention", "costs")
         for k, v in cfg.get(section, {}).items()}
    for s in cfg["funnel"]:
        p[f"funnel.{s['stage']}.rate"] = float(s["rate"])
    defaults = {"start.customers": 0.0, "start.cash": 0.0, "acquisition.visitor_growth": 0.0,
                "revenue.expansion": 0.0, "revenue.gross_margin": 1.0}
    for k in ("marketing", "marketing_growth", "sales", "sales_growth", "other_opex",
              "other_opex_growth"):
        defaults[f"costs.{k}"] = 0.0
    for k, v in defaults.items():
        p.setdefault(k, v)
    p["arpa_mean"] = p["revenue.arpa"]
    return p


def test_expected_flows_equal_the_spreadsheet_line(constant_config):
    result = simulator.run(simulator.load_config(constant_config))
    ref = expected_path(_flat(constant_config), STAGES, 24, 3)
    for name in NAMES:
        got = result[name]
        assert got.shape == (4, 24)
        np.testing.assert_allclose(got, np.tile(ref[name], (4, 1)), rtol=1e-9, atol=1e-9,
                                   err_msg=name)
    np.testing.assert_allclose(result["arr"], 12 * result["mrr"], rtol=1e-12)
    np.testing.assert_array_equal(result["revenue"], result["mrr"])


def test_expected_flows_with_drawn_inputs_match_per_path_loop(constant_config):
    cfg = copy.deepcopy(constant_config)
    cfg["simulation"]["paths"] = 50
    cfg["funnel"][4]["rate"] = {"dist": "beta", "mean": 0.4, "sd": 0.08}
    cfg["revenue"]["arpa"] = {"dist": "lognormal", "mean": 1500, "sd": 250}
    cfg["retention"]["churn"] = {"dist": "uniform", "low": 0.0, "high": 0.03}
    cfg["start"]["customers"] = {"dist": "poisson", "lam": 60}
    cfg["metrics"] = {"cac_window": 4}
    config = simulator.load_config(cfg)
    result = simulator.run(config)
    arpa_mean = config.inputs["revenue.arpa"].dist.mean()
    for i in range(0, 50, 7):
        p = _flat(constant_config)
        for name in config.inputs:
            value = result.params.whole(name)
            p[name] = float(value[i]) if isinstance(value, np.ndarray) else float(value)
        p["arpa_mean"] = arpa_mean
        ref = expected_path(p, STAGES, 24, 4)
        for name in NAMES:
            np.testing.assert_allclose(result[name][i], ref[name], rtol=1e-9, atol=1e-9,
                                       err_msg=f"{name} path {i}")


def test_binomial_means_agree_with_expected_flows(constant_config):
    expected = simulator.run(simulator.load_config(constant_config))
    cfg = copy.deepcopy(constant_config)
    cfg["simulation"].update(flows="binomial", paths=20000)
    binomial = simulator.run(simulator.load_config(cfg))
    # With constant parameters every flow is linear in the previous counts, so the binomial
    # mean of each metric equals the expected-flows line exactly.
    for name in ("visitors", "lead", "sql", "new_customers", "churned", "customers", "mrr",
                 "cash", "cumulative_revenue"):
        for month in (1, 6, 12, 24):
            x = binomial.at(name, month)
            se = x.std(ddof=1) / math.sqrt(len(x))
            target = expected.at(name, month)[0]
            assert abs(x.mean() - target) <= 4 * se + 1e-9, (name, month, x.mean(), target, se)


def test_conservation_and_integer_counts(base_toml):
    result = simulator.run(simulator.load_config(base_toml), paths=2000)
    customers, churned, new = result["customers"], result["churned"], result["new_customers"]
    previous = np.column_stack([np.full(result.paths, 60.0), customers[:, :-1]])
    np.testing.assert_array_equal(customers, previous - churned + new)
    assert (churned <= previous).all()
    for name in ("visitors", "lead", "customer", "churned", "customers"):
        assert (result[name] == np.rint(result[name])).all()
        assert (result[name] >= 0).all()
    assert (np.diff(result["cumulative_revenue"], axis=1) >= 0).all()
    for name in result.metrics:
        assert not np.isnan(result[name]).any(), name


def test_geometric_survival_of_a_closed_cohort(constant_config):
    cfg = copy.deepcopy(constant_config)
    cfg["simulation"].update(flows="binomial", paths=20000)
    cfg["funnel"][0]["rate"] = 0.0
    cfg["start"]["customers"] = 200
    result = simulator.run(simulator.load_config(cfg))
    for month in (1, 12, 24):
        x = result.at("customers", month)
        p = (1 - 0.012) ** month
        se = math.sqrt(200 * p * (1 - p) / len(x))  # binomial oracle
        assert abs(x.mean() - 200 * p) <= 4 * se
        assert abs(x.var() - 200 * p * (1 - p)) <= 0.1 * 200 * p * (1 - p)


def test_same_seed_same_numbers_and_workers_do_not_matter(base_toml):
    config = simulator.load_config(base_toml)
    a = simulator.run(config, paths=9000, seed=5)
    b = simulator.run(config, paths=9000, seed=5, workers=2)
    c = simulator.run(config, paths=9000, seed=6)
    for name in a.metrics:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["customers"], c["customers"])


def test_start_mrr_defaults_to_customers_times_mean_arpa(constant_config):
    cfg = copy.deepcopy(constant_config)
    cfg["revenue"]["arpa"] = {"dist": "gamma", "mean": 1200, "sd": 300}
    cfg["funnel"][0]["rate"] = 0.0
    cfg["revenue"]["expansion"] = 0.0
    result = simulator.run(simulator.load_config(cfg))
    np.testing.assert_allclose(result.at("mrr", 1), 60 * 1200 * (1 - 0.012), rtol=1e-9)


@pytest.mark.parametrize("change, metric, value", [
    ({"funnel": [{"stage": "customer", "rate": 0.0}]}, "cac", math.inf),
    ({"funnel": [{"stage": "customer", "rate": 0.0}]}, "ltv_to_cac", 0.0),
    ({"costs": {}}, "cac", 0.0),
    ({"revenue": {"arpa": 0}}, "cac_payback_months", math.inf),
    ({"retention": {"churn": 0}}, "ltv", math.inf),
])
def test_edge_cases(constant_config, change, metric, value):
    cfg = copy.deepcopy(constant_config)
    cfg.update(change)
    cfg["simulation"]["months"] = 6
    result = simulator.run(simulator.load_config(cfg))
    assert (result[metric] == value).all()


def test_infinite_values_stay_infinite_in_tables(constant_config):
    cfg = copy.deepcopy(constant_config)
    cfg["simulation"].update(flows="binomial", paths=400, months=12)
    cfg["acquisition"]["visitors"] = 300  # about 0.07 customers a month: most windows win none
    result = simulator.run(simulator.load_config(cfg))
    table = result.percentile_table(12)
    assert not table.isna().any().any()
    assert math.isinf(table.loc["cac", "p95"]) and math.isinf(table.loc["cac", "mean"])
    assert table.loc["ltv_to_cac", "p5"] == 0.0


def test_probabilities_match_direct_counts(base_toml):
    result = simulator.run(simulator.load_config(base_toml), paths=3000)
    probs = result.probabilities()
    assert list(probs.index) == [12, 24, 36]
    for m in (12, 24, 36):
        assert probs.loc[m, "P(cac_payback_months <= 12)"] == \
            np.mean(result["cac_payback_months"][:, m - 1] <= 12)
        assert probs.loc[m, "P(ltv_to_cac >= 3)"] == np.mean(result["ltv_to_cac"][:, m - 1] >= 3)
        assert probs.loc[m, "P(cash < 0 by then)"] == \
            np.mean((result["cash"][:, :m] < 0).any(axis=1))
