"""Property-based tests (Hypothesis): invariants of every run of a random valid config, and
only the documented error for random invalid ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator import ConfigError
from simulator.cli import main

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def rates(draw: st.DrawFn) -> Any:
    """A rate in [0, 1]: constants (extremes included) or a distribution inside [0, 1]."""
    kind = draw(st.sampled_from(["constant", "edge", "beta", "pert", "uniform", "triangular",
                                 "truncnormal", "empirical", "mixture"]))
    if kind == "constant":
        return draw(st.floats(0, 1))
    if kind == "empirical":
        return {"dist": "empirical", "values": draw(st.lists(st.floats(0, 1), min_size=1,
                                                             max_size=8))}
    if kind == "mixture":
        w = draw(st.floats(0.05, 0.95))
        return {"dist": "mixture", "weights": [w, 1 - w],
                "components": [{"dist": "beta", "alpha": draw(st.floats(0.5, 20)),
                                "beta": draw(st.floats(0.5, 20))},
                               {"dist": "uniform", "low": 0, "high": draw(st.floats(0.1, 1))}]}
    if kind == "edge":
        return draw(st.sampled_from([0, 1, 0.0, 1.0]))
    if kind == "beta":
        return {"dist": "beta", "alpha": draw(st.floats(0.5, 50)),
                "beta": draw(st.floats(0.5, 50))}
    lo = draw(st.floats(0, 0.9))
    hi = draw(st.floats(lo + 0.05, 1))
    mode = draw(st.floats(lo, hi))
    if kind == "pert":
        return {"dist": "pert", "low": lo, "mode": mode, "high": hi}
    if kind == "triangular":
        return {"dist": "triangular", "low": lo, "mode": mode, "high": hi}
    if kind == "uniform":
        return {"dist": "uniform", "low": lo, "high": hi}
    return {"dist": "normal", "mean": mode, "sd": draw(st.floats(0.01, 0.5)), "low": lo,
            "high": hi}


@st.composite
def amounts(draw: st.DrawFn, high: float = 1e6) -> Any:
    """A non-negative count or amount."""
    kind = draw(st.sampled_from(["constant", "zero", "lognormal", "gamma", "poisson",
                                 "quantiles"]))
    if kind == "constant":
        return draw(st.floats(0, high))
    if kind == "zero":
        return 0
    mean = draw(st.floats(1, high))
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "sd": mean * draw(st.floats(0.01, 1))}
    if kind == "gamma":
        return {"dist": "gamma", "mean": mean, "sd": mean * draw(st.floats(0.05, 1))}
    if kind == "poisson":
        return {"dist": "poisson", "lam": min(mean, 1e5)}
    return {"dist": "lognormal", "p10": mean, "p90": mean * draw(st.floats(1.1, 3))}


def growths() -> st.SearchStrategy[Any]:
    return st.one_of(st.floats(-0.5, 0.2),
                     st.builds(lambda m, s: {"dist": "normal", "mean": m, "sd": s},
                               st.floats(-0.05, 0.1), st.floats(0.001, 0.03)))


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    stages = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=1,
                           max_size=6, unique=True).filter(
        lambda names: not set(names) & set(simulator.config.schema.METRICS)))
    customers = draw(st.one_of(st.integers(0, 500), st.just(0)))
    cfg: dict[str, Any] = {
        "simulation": {"months": draw(st.integers(1, 18)), "paths": draw(st.integers(1, 40)),
                       "seed": draw(st.integers(0, 2**32)),
                       "flows": draw(st.sampled_from(["binomial", "expected"])),
                       "sampling": draw(st.sampled_from(["random", "lhs", "sobol"])),
                       # both kernels (the compiled one is the numpy one without numba)
                       "kernel": draw(st.sampled_from(["numpy", "compiled"]))},
        "start": {"customers": customers, "cash": draw(st.floats(-1e6, 1e7))},
        "acquisition": {"visitors": draw(amounts(1e9)), "visitor_growth": draw(growths())},
        "funnel": [{"stage": s, "rate": draw(rates())} for s in stages],
        "revenue": {"arpa": draw(amounts(1e5)), "expansion": draw(growths()),
                    "gross_margin": draw(rates())},
        "retention": {"churn": draw(rates())},
        "costs": {"marketing": draw(amounts()), "sales": draw(amounts()),
                  "marketing_growth": draw(growths()), "other_opex": draw(amounts())},
        "metrics": {"cac_window": draw(st.integers(1, 6))},
    }
    if customers > 0 and draw(st.booleans()):
        cfg["start"]["mrr"] = draw(st.floats(0, 1e7))
    if draw(st.booleans()):  # an input redrawn every month, with persistence
        cfg["retention"]["churn"] = {"dist": "beta", "alpha": draw(st.floats(0.5, 5)),
                                     "beta": draw(st.floats(5, 200)), "vary": "month",
                                     "persistence": draw(st.floats(0, 0.95))}
    if draw(st.booleans()):  # some model depth
        cfg["seasonality"] = {"multipliers": draw(st.lists(st.floats(0, 2), min_size=12,
                                                           max_size=12)), "churn": True}
        cfg["shocks"] = [{"name": "shock", "probability": draw(st.floats(0, 1)),
                          "duration": draw(st.integers(1, 4)),
                          "impact": draw(st.floats(0, 3)),
                          "target": draw(st.sampled_from(["acquisition", "churn", "spend"]))}]
        cfg["channels"] = [{"name": "paid", "spend": draw(st.floats(0, 1e5)),
                            "cost_per_unit": draw(st.floats(0.01, 100)),
                            "elasticity": draw(st.floats(0.1, 1)),
                            "spend_growth": draw(st.floats(-0.5, 0.2))}]
        cfg["funnel"][-1]["lag_pmf"] = [0.5, 0.5]
    return cfg


#: Metrics that docs/model.md defines as possibly infinite (core and model-depth metrics).
INFINITE_ALLOWED = ("cac", "cac_payback_months", "ltv", "ltv_to_cac", "runway_months",
                    "burn_multiple", "cohort_payback_months")


@SETTINGS
@given(configs())
def test_invariants_hold_for_any_valid_config(cfg):
    config = simulator.load_config(cfg)
    result = simulator.run(config)
    again = simulator.run(config)
    n, months = result.paths, result.months
    for name in result.metrics:
        values = result[name]
        assert values.shape == (n, months)
        np.testing.assert_array_equal(values, again[name])
        if name == "nrr":  # undefined (0/0) where the book was empty a year before
            values = np.where(np.isnan(values), 1.0, values)
        assert not np.isnan(values).any(), name
        if name not in INFINITE_ALLOWED and not name.endswith(".cac"):
            assert np.isfinite(values).all(), name
    for name in ("visitors", *config.stages, "churned", "customers", "mrr", "cac", "ltv",
                 "runway_months", "burn_multiple", "cohort_payback_months"):
        assert (result[name] >= 0).all(), name
    assert (np.nan_to_num(result["nrr"]) >= 0).all()
    start = np.broadcast_to(result.params.whole("start.customers"), (n,))
    if config.simulation.flows == "binomial":
        start = np.rint(start)
    previous = np.column_stack([start, result["customers"][:, :-1]])
    window_start = np.maximum(np.arange(months) - 11, 0)  # NRR: 0/0 without a book then
    np.testing.assert_array_equal(np.isnan(result["nrr"]), previous[:, window_start] == 0)
    assert (result["churned"] <= previous * (1 + 1e-12)).all()
    np.testing.assert_allclose(result["customers"],
                               previous - result["churned"] + result["new_customers"],
                               rtol=1e-9, atol=1e-6)
    assert (np.diff(result["cumulative_revenue"], axis=1) >= 0).all()
    for m in result.report_months:
        table = result.percentile_table(m).drop(index="nrr")
        assert not table.isna().any().any()


invalid_values = st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=3),
                           st.just(-1), st.just(1e308 * 10), st.just(float("nan")),
                           st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
keys = st.sampled_from(["simulation.months", "simulation.paths", "simulation.seed",
                        "simulation.percentiles", "simulation.report_months",
                        "simulation.sampling", "simulation.flows", "start.customers",
                        "start.mrr", "acquisition.visitors", "acquisition.visitor_growth",
                        "revenue.arpa", "revenue.gross_margin", "retention.churn",
                        "costs.marketing", "metrics.cac_window", "bogus.key", "simulation.bogus",
                        "funnel", "correlations"])


@SETTINGS
@given(configs(), keys, invalid_values)
def test_invalid_configs_raise_only_config_error(cfg, key, value):
    section, _, name = key.partition(".")
    if name:
        cfg.setdefault(section, {})[name] = value
    else:
        cfg[section] = value
    try:
        simulator.load_config(cfg)
    except ConfigError as err:
        assert "\n" not in str(err)
        assert err.key


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=200))
def test_random_toml_text_gives_one_line_and_exit_2(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "c.toml"
    path.write_text(text, encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main([str(path), "--paths", "5"])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    if code:
        assert code == 2
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
    assert not math.isnan(code)


def extreme_rates() -> st.SearchStrategy[Any]:
    """A rate at its extremes (0, 1) half of the time, else any valid rate."""
    return st.one_of(st.sampled_from([0, 1, 0.0, 1.0]), rates())


def extreme_amounts(high: float = 1e6) -> st.SearchStrategy[Any]:
    """Zero half of the time, else any valid amount."""
    return st.one_of(st.just(0), amounts(high))


def lags() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), st.just({"lag": 0}),
                     st.builds(lambda lam: {"lag": {"dist": "poisson", "lam": lam}},
                               st.floats(0.1, 3)),
                     st.builds(lambda w: {"lag_pmf": [w, 1 - w]}, st.floats(0, 1)))


@st.composite
def deep_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config that uses every depth feature at once (channels of every kind, lags,
    pipeline, segments, sales team, shocks, early churn, seasonality) at extremes: rates and
    churn 0 and 1, zero spend and visitors, one path, one month."""
    stages = ["lead", "sql", "opportunity", "customer"][-draw(st.integers(2, 4)):]
    months = draw(st.sampled_from([1, 1, 2, 13]))
    funnel = [{"stage": s, "rate": draw(extreme_rates()), **draw(lags())} for s in stages]
    share = draw(st.sampled_from([0.0, 1.0, 0.5, 0.3]))
    segments = [{"name": "small", "share": share, "churn": draw(extreme_rates()),
                 "arpa": draw(extreme_amounts(1e4)), **draw(lags())},
                {"name": "large", "share": 1 - share, "churn": draw(extreme_rates()),
                 "expansion": draw(growths())}]
    if draw(st.booleans()):
        for segment in segments:
            segment["close_rate"] = draw(extreme_rates())
        for key in ("lag", "lag_pmf"):  # the sales cycle is then a segment lag
            funnel[-1].pop(key, None)
    cfg: dict[str, Any] = {
        "simulation": {"months": months, "paths": draw(st.sampled_from([1, 1, 3, 17])),
                       "seed": draw(st.integers(0, 2**32)),
                       "flows": draw(st.sampled_from(["binomial", "expected"])),
                       "sampling": draw(st.sampled_from(["random", "lhs", "sobol"])),
                       # both kernels (the compiled one is the numpy one without numba)
                       "kernel": draw(st.sampled_from(["numpy", "compiled"]))},
        "start": {"customers": draw(st.sampled_from([0, 1, 50])),
                  "cash": draw(st.sampled_from([0.0, -1e5, 1e6])),
                  "pipeline": {stages[0]: draw(st.sampled_from([0, 3, 40.5]))}},
        "acquisition": {"visitors": draw(extreme_amounts(1e6)),
                        "visitor_growth": draw(growths())},
        "funnel": funnel,
        "revenue": {"arpa": draw(extreme_amounts(1e5)), "expansion": draw(growths()),
                    "gross_margin": draw(extreme_rates())},
        "retention": {"churn": draw(extreme_rates()), "early_churn": draw(extreme_rates()),
                      "early_months": draw(st.integers(1, 3))},
        "costs": {"marketing": draw(extreme_amounts()), "sales": draw(extreme_amounts()),
                  "other_opex": draw(extreme_amounts())},
        "channels": [
            {"name": "paid", "spend": draw(extreme_amounts(1e5)),
             "cost_per_unit": draw(st.floats(0.01, 100)),
             "elasticity": draw(st.sampled_from([0.1, 0.5, 1.0])),
             "spend_growth": draw(st.floats(-0.5, 0.2)),
             "rates": {stages[-1]: draw(extreme_rates())}},
            {"name": "referral", "enters": stages[0], "volume": draw(extreme_amounts(100)),
             "growth": draw(growths())},
            {"name": "newsletter", "contacts": draw(extreme_amounts(1e4)),
             "sends": draw(st.sampled_from([0, 1, 2.5])), "click_rate": draw(extreme_rates()),
             "click_to_lead": draw(extreme_rates()), "unsubscribe": draw(extreme_rates())},
        ],
        "sales_team": {"stage": stages[-2], "reps": draw(st.sampled_from([0, 1, 5])),
                       "hires_per_month": draw(st.sampled_from([0, 0.25, 2])),
                       "ramp_months": draw(st.integers(1, 4)),
                       "opportunities_per_rep": draw(st.sampled_from([0, 0.5, 10])),
                       "cost_per_rep": draw(extreme_amounts(2e4))},
        "segments": segments,
        "seasonality": {"multipliers": draw(st.lists(st.sampled_from([0, 0.5, 1, 2]),
                                                     min_size=12, max_size=12)),
                        "first_month": draw(st.integers(1, 12)), "churn": draw(st.booleans())},
        "shocks": [{"name": "outage", "probability": draw(st.sampled_from([0, 1, 0.3])),
                    "duration": draw(st.integers(1, 3)),
                    "impact": draw(st.sampled_from([0, 1, 3])),
                    "target": draw(st.sampled_from(["acquisition", "churn", "spend"]))}],
        "metrics": {"cac_window": draw(st.integers(1, 4))},
    }
    if len(stages) < 3:  # the pipeline may not hold customers: none at the first stage then
        del cfg["start"]["pipeline"]
    if cfg["start"]["customers"] == 0:
        cfg["start"]["mrr"] = 0
    return cfg


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_configs())
def test_every_depth_feature_at_its_extremes_runs_and_keeps_the_invariants(cfg):
    test_invariants_hold_for_any_valid_config.hypothesis.inner_test(cfg)
