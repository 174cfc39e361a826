"""Joint sampling: designs, Iman-Conover rank correlation, named streams, AR(1) months."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import stats

import simulator
from distributions import (
    DistributionError,
    ar1_uniforms,
    correlate,
    design_uniforms,
    sample_joint,
    stream,
)
from tests.conftest import CONSTANT

N = 4096
TARGETS = {("a", "b"): 0.6, ("a", "c"): -0.3, ("b", "c"): 0.0, ("c", "d"): 0.45}


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_achieved_spearman_within_004(method):
    u = design_uniforms(["a", "b", "c", "d"], N, seed=21, method=method)
    u = correlate(u, TARGETS, seed=21)
    for (x, y), rho in TARGETS.items():
        achieved = stats.spearmanr(u[x], u[y]).statistic
        assert abs(achieved - rho) <= 0.04, (x, y, achieved, rho)


def test_lhs_puts_one_draw_in_each_stratum_even_when_correlated():
    u = correlate(design_uniforms(["a", "b", "c", "d"], N, seed=2, method="lhs"), TARGETS, 2)
    for values in u.values():
        assert np.array_equal(np.sort(np.floor(values * N).astype(int)), np.arange(N))


def test_correlation_keeps_each_marginal_exactly():
    before = design_uniforms(["a", "b", "c", "d"], N, seed=4)
    after = correlate(before, TARGETS, 4)
    for name in before:
        np.testing.assert_array_equal(np.sort(before[name]), np.sort(after[name]))


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_streams_are_keyed_by_name(method):
    one = design_uniforms(["x", "y"], 1000, seed=8, method=method)
    two = design_uniforms(["z", "y", "w", "x"], 1000, seed=8, method=method)
    for name in ("x", "y"):
        np.testing.assert_array_equal(one[name], two[name])
    assert not np.array_equal(one["x"], one["y"])


def test_sobol_is_balanced():
    u = design_uniforms(["a", "b"], 1024, seed=1, method="sobol")
    for values in u.values():
        counts = np.bincount(np.floor(values * 16).astype(int), minlength=16)
        assert (counts == 64).all()  # a scrambled Sobol' net fills every 1/16 bin equally


def test_stream_accepts_seed_sequence_and_generator():
    seq = np.random.SeedSequence(3)
    np.testing.assert_array_equal(stream(seq, "a").random(3), stream(seq, "a").random(3))
    assert stream(np.random.default_rng(1), "a").random() == \
        stream(np.random.default_rng(1), "a").random()


@pytest.mark.parametrize("r", [0.0, 0.5, 0.9])
def test_ar1_lag1_correlation_and_uniform_marginal(r):
    u = ar1_uniforms(np.random.default_rng(5), 4000, 24, r)
    z = stats.norm.ppf(u)
    lag1 = np.corrcoef(z[:, :-1].ravel(), z[:, 1:].ravel())[0, 1]
    se = (1 - r**2) / np.sqrt(z[:, 1:].size)
    assert abs(lag1 - r) <= 5 * se + 0.01
    assert stats.kstest(u[:, 12], "uniform").pvalue > 0.001


def test_not_psd_is_an_error():
    bad = {("a", "b"): 0.9, ("a", "c"): 0.9, ("b", "c"): -0.9}
    with pytest.raises(DistributionError, match="positive semi-definite"):
        correlate(design_uniforms(["a", "b", "c"], 100, seed=1), bad, 1)


def test_sample_joint_frame():
    df = sample_joint({"close": {"dist": "beta", "p5": 0.28, "p95": 0.52},
                       "visitors": {"dist": "lognormal", "p5": 2000, "p95": 3000}},
                      N, seed=3, method="lhs", correlations={("close", "visitors"): -0.5})
    assert list(df.columns) == ["close", "visitors"]
    assert abs(df.corr("spearman").loc["close", "visitors"] + 0.5) <= 0.04
    assert abs(np.quantile(df["close"], 0.05) - 0.28) < 0.01
    with pytest.raises(DistributionError):
        sample_joint({"a": 1}, 10, method="halton")


def test_config_correlations_reach_the_parameters():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=N, months=1, sampling="lhs")
    cfg["funnel"][4]["rate"] = {"dist": "beta", "mean": 0.4, "sd": 0.08}
    cfg["retention"]["churn"] = {"dist": "beta", "mean": 0.012, "sd": 0.004}
    cfg["correlations"] = [{"between": ["funnel.customer.rate", "retention.churn"], "rho": -0.3}]
    result = simulator.run(simulator.load_config(cfg))
    close = result.params.whole("funnel.customer.rate")
    churn = result.params.whole("retention.churn")
    assert abs(stats.spearmanr(close, churn).statistic + 0.3) <= 0.04


def test_adding_an_input_leaves_other_draws_unchanged():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=500, months=3, flows="binomial")
    cfg["revenue"]["arpa"] = {"dist": "gamma", "mean": 1500, "sd": 300}
    a = simulator.run(simulator.load_config(cfg))
    cfg["retention"]["churn"] = {"dist": "beta", "mean": 0.012, "sd": 0.004}
    b = simulator.run(simulator.load_config(cfg))
    np.testing.assert_array_equal(a.params.whole("revenue.arpa"), b.params.whole("revenue.arpa"))
    np.testing.assert_array_equal(a["visitors"], b["visitors"])


def test_month_varying_input_with_persistence():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=3000, months=24, flows="expected")
    cfg["acquisition"]["visitors"] = {"dist": "lognormal", "mean": 2500, "sd": 400,
                                      "vary": "month", "persistence": 0.7}
    result = simulator.run(simulator.load_config(cfg))
    visitors = result.params.whole("acquisition.visitors")
    assert visitors.shape == (3000, 24)
    z = np.log(visitors)
    lag1 = np.corrcoef(z[:, :-1].ravel(), z[:, 1:].ravel())[0, 1]
    assert abs(lag1 - 0.7) < 0.03
    growth = (1 + 0.02) ** np.arange(24)
    np.testing.assert_allclose(result["visitors"], visitors * growth, rtol=1e-12)
