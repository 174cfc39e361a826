"""One test per validation rule of docs/config.md and docs/cli.md: the error names the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import simulator
from simulator import ConfigError
from tests.conftest import CONSTANT


def _set(path: str, value: Any):
    def change(cfg: dict) -> None:
        *head, last = path.split(".")
        table = cfg
        for part in head:
            table = table.setdefault(part, {})
        table[last] = value
    return change


def _drop(path: str):
    def change(cfg: dict) -> None:
        *head, last = path.split(".")
        table = cfg
        for part in head:
            table = table[part]
        del table[last]
    return change


def _stage(index: int, **entry: Any):
    def change(cfg: dict) -> None:
        cfg["funnel"][index] = {**cfg["funnel"][index], **entry}
        for k, v in list(cfg["funnel"][index].items()):
            if v is None:
                del cfg["funnel"][index][k]
    return change


def _corr(*entries: dict):
    def change(cfg: dict) -> None:
        cfg["correlations"] = list(entries)
    return change


BETA = {"dist": "beta", "mean": 0.3, "sd": 0.05}
CASES = [
    ("unknown section", _set("simulaton", {}), "simulaton", "did you mean 'simulation'"),
    ("unknown key", _set("simulation.pahts", 3), "simulation.pahts", "did you mean 'paths'"),
    ("months < 1", _set("simulation.months", 0), "simulation.months", ">= 1"),
    ("paths < 1", _set("simulation.paths", 0), "simulation.paths", ">= 1"),
    ("months float", _set("simulation.months", 12.5), "simulation.months", "integer"),
    ("paths string", _set("simulation.paths", "many"), "simulation.paths", "integer"),
    ("seed negative", _set("simulation.seed", -1), "simulation.seed", ">= 0"),
    ("seed bool", _set("simulation.seed", True), "simulation.seed", "integer"),
    ("percentile 0", _set("simulation.percentiles", [0, 50]), "simulation.percentiles", "(0, 100)"),
    ("percentile 100", _set("simulation.percentiles", [50, 100]), "simulation.percentiles",
     "(0, 100)"),
    ("percentiles empty", _set("simulation.percentiles", []), "simulation.percentiles",
     "non-empty"),
    ("report month beyond horizon", _set("simulation.report_months", [12, 48]),
     "simulation.report_months", "beyond the horizon"),
    ("report month 0", _set("simulation.report_months", [0]), "simulation.report_months", ">= 1"),
    ("sampling", _set("simulation.sampling", "lhc"), "simulation.sampling", "did you mean 'lhs'"),
    ("flows", _set("simulation.flows", "poisson"), "simulation.flows", "binomial"),
    ("cac_window < 1", _set("metrics.cac_window", 0), "metrics.cac_window", ">= 1"),
    ("metrics unknown", _set("metrics.window", 3), "metrics.window", "cac_window"),
    ("visitors required", _drop("acquisition.visitors"), "acquisition.visitors", "required"),
    ("arpa required", _drop("revenue.arpa"), "revenue.arpa", "required"),
    ("churn required", _drop("retention.churn"), "retention.churn", "required"),
    ("funnel required", _drop("funnel"), "funnel", "required"),
    ("funnel empty", _set("funnel", []), "funnel", "one or more"),
    ("stage name pattern", _stage(1, stage="MQL"), "funnel[2].stage", "[a-z][a-z0-9_]*"),
    ("stage name missing", _stage(1, stage=None), "funnel[2].stage", "required"),
    ("stage name duplicate", _stage(1, stage="lead"), "funnel.lead.stage", "duplicate"),
    ("stage name is a metric", _stage(1, stage="customers"), "funnel.customers.stage",
     "metric name"),
    ("stage rate missing", _stage(1, rate=None), "funnel.mql.rate", "required"),
    ("stage unknown key", _stage(1, rat=0.3), "funnel.mql.rat", "did you mean 'rate'"),
    ("rate above 1", _stage(2, rate=1.2), "funnel.sql.rate", "in [0, 1]"),
    ("rate negative", _set("retention.churn", -0.1), "retention.churn", "in [0, 1]"),
    ("rate as plain normal", _stage(2, rate={"dist": "normal", "mean": 0.2, "sd": 0.05}),
     "funnel.sql.rate", "beta or pert"),
    ("rate as lognormal", _set("retention.churn", {"dist": "lognormal", "mean": 0.02, "sd": 0.01}),
     "retention.churn", "beta or pert"),
    ("gross margin above 1", _set("revenue.gross_margin", 1.5), "revenue.gross_margin", "[0, 1]"),
    ("negative visitors", _set("acquisition.visitors", -5), "acquisition.visitors", ">= 0"),
    ("negative spend", _set("costs.marketing", -100), "costs.marketing", ">= 0"),
    ("negative opex", _set("costs.other_opex", -1), "costs.other_opex", ">= 0"),
    ("negative arpa", _set("revenue.arpa", -1500), "revenue.arpa", ">= 0"),
    ("spend that can go negative", _set("costs.sales", {"dist": "normal", "mean": 5000,
                                                        "sd": 4000}), "costs.sales", "low bound"),
    ("growth -1", _set("acquisition.visitor_growth", -1), "acquisition.visitor_growth", "> -1"),
    ("growth below -1", _set("costs.sales_growth", -2.0), "costs.sales_growth", "> -1"),
    ("arpa string", _set("revenue.arpa", "1500"), "revenue.arpa", "number or a distribution"),
    ("arpa bool", _set("revenue.arpa", True), "revenue.arpa", "number or a distribution"),
    ("distribution parameter", _set("revenue.arpa", {"dist": "lognormal", "mean": 1500,
                                                     "sd": -3}), "revenue.arpa.sd", "-3"),
    ("unknown distribution", _set("revenue.arpa", {"dist": "lognorm", "mean": 1, "sd": 1}),
     "revenue.arpa.dist", "lognormal"),
    ("unknown distribution parameter", _set("revenue.arpa", {"dist": "gamma", "mean": 1,
                                                             "sdev": 1}), "revenue.arpa.sdev", ""),
    ("vary value", _set("revenue.arpa", {"dist": "gamma", "mean": 1, "sd": 1, "vary": "day"}),
     "revenue.arpa.vary", "month"),
    ("persistence without vary", _set("revenue.arpa", {"dist": "gamma", "mean": 1, "sd": 1,
                                                       "persistence": 0.5}),
     "revenue.arpa.persistence", "vary"),
    ("start mrr without customers", lambda c: c["start"].update(customers=0, mrr=1000),
     "start.mrr", "start.customers is 0"),
    ("unknown start key", _set("start.customer", 5), "start.customer", "did you mean 'customers'"),
    ("section not a table", _set("costs", 5), "costs", "table"),
    ("correlation unknown input", _corr({"between": ["revenue.arpu", "retention.churn"],
                                         "rho": 0.2}), "correlations[1].between",
     "did you mean 'revenue.arpa'"),
    ("correlation with itself", _corr({"between": ["retention.churn", "retention.churn"],
                                       "rho": 0.2}), "correlations[1].between", "itself"),
    ("correlation rho 1", _corr({"between": ["revenue.arpa", "retention.churn"], "rho": 1.0}),
     "correlations[1].rho", "(-1, 1)"),
    ("correlation pair twice", _corr({"between": ["revenue.arpa", "retention.churn"], "rho": 0.1},
                                     {"between": ["retention.churn", "revenue.arpa"], "rho": 0.2}),
     "correlations[2].between", "twice"),
    ("correlation not PSD", _corr(
        {"between": ["revenue.arpa", "retention.churn"], "rho": 0.9},
        {"between": ["revenue.arpa", "funnel.sql.rate"], "rho": 0.9},
        {"between": ["retention.churn", "funnel.sql.rate"], "rho": -0.9}),
     "correlations", "positive semi-definite"),
    ("correlation between shape", _corr({"between": "revenue.arpa", "rho": 0.1}),
     "correlations[1].between", "two input names"),
    ("correlation rho missing", _corr({"between": ["revenue.arpa", "retention.churn"]}),
     "correlations[1].rho", "required"),
]


@pytest.mark.parametrize("name, change, key, text", CASES, ids=[c[0] for c in CASES])
def test_each_rule_names_its_key(name, change, key, text):
    cfg = copy.deepcopy(CONSTANT)
    change(cfg)
    with pytest.raises(ConfigError) as info:
        simulator.load_config(cfg)
    assert info.value.key == key
    assert text in info.value.reason
    assert "\n" not in str(info.value)


def test_defaults():
    cfg = copy.deepcopy(CONSTANT)
    del cfg["simulation"]
    del cfg["revenue"]["gross_margin"]
    config = simulator.load_config(cfg)
    sim = config.simulation
    assert (sim.months, sim.paths, sim.seed, sim.sampling, sim.flows) == \
        (36, 10000, None, "random", "binomial")
    assert sim.percentiles == (5, 10, 25, 50, 75, 90, 95)
    assert sim.report_months == (12, 24, 36)
    assert config.cac_window == 3
    assert config.inputs["revenue.gross_margin"].dist.mean() == 1.0
    assert "start.mrr" not in config.inputs


def test_default_report_months_are_cut_to_the_horizon():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"] = {"months": 18}
    assert simulator.load_config(cfg).simulation.report_months == (12, 18)
    cfg["simulation"] = {"months": 6}
    assert simulator.load_config(cfg).simulation.report_months == (6,)


def test_percentiles_are_sorted_and_deduplicated():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"]["percentiles"] = [95, 12.5, 5, 95]
    assert simulator.load_config(cfg).simulation.percentiles == (5, 12.5, 95)


def test_toml_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[simulation]\nmonths = = 3\n")
    with pytest.raises(ConfigError) as info:
        simulator.load_config(path)
    assert "line 2" in str(info.value) and "column" in str(info.value)
    assert str(info.value).startswith(str(path))


def test_config_is_frozen(base_toml):
    config = simulator.load_config(base_toml)
    with pytest.raises(AttributeError):
        config.cac_window = 5  # type: ignore[misc]
