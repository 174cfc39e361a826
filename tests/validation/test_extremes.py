"""Extreme inputs: each runs and gives defined numbers (no NaN, infinities only where the
contract defines them), or is refused with a clear message."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import simulator
from tests.conftest import CONSTANT

MAY_BE_INFINITE = {"cac", "cac_payback_months", "ltv", "ltv_to_cac", "runway_months",
                   "burn_multiple", "cohort_payback_months"}


def _check(result: simulator.Result) -> None:
    for name in result.metrics:
        values = result[name]
        if name == "nrr":  # undefined (NaN, 0/0) only where the book was empty a year before
            before = np.column_stack([np.rint(result.params.whole("start.customers"))
                                      * np.ones(result.paths), result["customers"][:, :-1]])
            window_start = np.maximum(np.arange(result.months) - 11, 0)
            np.testing.assert_array_equal(np.isnan(values), before[:, window_start] == 0)
            values = np.nan_to_num(values)
        assert not np.isnan(values).any(), name
        if name not in MAY_BE_INFINITE:
            assert np.isfinite(values).all(), name
    for m in result.report_months:
        table = result.percentile_table(m)
        if not np.isnan(result.at("nrr", m)).all():
            assert not table.isna().any().any()
        else:
            assert table.drop(index="nrr").notna().all().all()


def _binomial(**simulation):
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update({"flows": "binomial", "paths": 200, "months": 12, **simulation})
    return cfg


EXTREMES = {
    "churn 0": lambda c: c["retention"].update(churn=0),
    "churn 1": lambda c: c["retention"].update(churn=1),
    "all rates 0": lambda c: [s.update(rate=0) for s in c["funnel"]],
    "all rates 1": lambda c: [s.update(rate=1) for s in c["funnel"]],
    "arpa 0": lambda c: c["revenue"].update(arpa=0),
    "gross margin 0": lambda c: c["revenue"].update(gross_margin=0),
    "no start customers": lambda c: c["start"].update(customers=0),
    "no visitors": lambda c: c["acquisition"].update(visitors=0),
    "1e9 visitors": lambda c: c["acquisition"].update(visitors=1e9),
    "tiny spend": lambda c: c["costs"].update(marketing=1e-9, sales=0),
    "huge spend": lambda c: c["costs"].update(marketing=1e15, marketing_growth=0.5),
    "zero spend": lambda c: c.update(costs={}),
    "growth near -1": lambda c: c["acquisition"].update(visitor_growth=-0.999),
    "huge growth": lambda c: c["acquisition"].update(visitor_growth=0.5),
}


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
@pytest.mark.parametrize("flows", ["binomial", "expected"])
@pytest.mark.parametrize("name", list(EXTREMES))
def test_extreme_inputs_give_defined_numbers(name, flows, kernel):
    cfg = _binomial(flows=flows, kernel=kernel)
    EXTREMES[name](cfg)
    _check(simulator.run(simulator.load_config(cfg)))


def test_one_path_and_one_month():
    cfg = _binomial(paths=1, months=1)
    result = simulator.run(simulator.load_config(cfg))
    _check(result)
    assert result["customers"].shape == (1, 1)
    assert list(result.percentile_table(1).columns)[-1] == "mean"


def test_a_billion_visitors_do_not_overflow():
    cfg = _binomial(paths=50, months=24)
    cfg["acquisition"].update(visitors=1e9, visitor_growth=0.1)
    for stage in cfg["funnel"]:
        stage["rate"] = 0.9
    result = simulator.run(simulator.load_config(cfg))
    visitors = result.at("visitors", 24)
    expected = 1e9 * 1.1**23
    assert abs(visitors.mean() / expected - 1) < 1e-3
    assert (result["customers"] > 0).all()
    assert np.isfinite(result["mrr"]).all()


def test_churn_one_empties_the_book_every_month():
    cfg = _binomial()
    cfg["retention"]["churn"] = 1
    result = simulator.run(simulator.load_config(cfg))
    np.testing.assert_array_equal(result["customers"], result["new_customers"])
    assert math.isinf(result.at("ltv", 12)[0]) is False and result.at("ltv", 12)[0] > 0


@pytest.mark.parametrize("key, value, text", [
    ("acquisition.visitors", -1, ">= 0"),
    ("retention.churn", 1.5, "[0, 1]"),
    ("acquisition.visitor_growth", -1, "> -1"),
    ("costs.marketing", float("inf"), "finite"),
    ("revenue.arpa", float("nan"), "finite"),
])
def test_impossible_extremes_are_refused(key, value, text):
    cfg = _binomial()
    section, name = key.split(".")
    cfg[section][name] = value
    with pytest.raises(simulator.ConfigError) as info:
        simulator.load_config(cfg)
    assert info.value.key == key and text in info.value.reason
