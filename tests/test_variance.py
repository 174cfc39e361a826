"""First-order variance shares against models with known indices: the Ishigami function of
three uniforms drawn through ``distributions``, and a product of two independent inputs run
through the model (expected flows: customers at month 1 = visitors * rate). Tolerances are
four bootstrap standard errors plus the estimator's binning bias (0.01)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import distributions
import simulator
from simulator.review.variance import first_order, first_order_shares, reading


def _close(row, truth: float) -> bool:
    se = (row["high"] - row["low"]) / (2 * 1.96)
    return abs(row["share"] - truth) <= 4 * se + 0.01


def test_ishigami_first_order_indices():
    u = {"dist": "uniform", "low": -math.pi, "high": math.pi}
    x = distributions.sample_joint({"x1": u, "x2": u, "x3": u}, 10000, seed=7)
    x1, x2, x3 = (x[c].to_numpy() for c in ("x1", "x2", "x3"))
    y = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)
    shares = first_order(y, {"x1": x1, "x2": x2, "x3": x3}, bootstrap=100, rng=1)
    # Saltelli et al.: V = 13.845; S1 = 4.346 / V, S2 = 6.125 / V, S3 = 0
    for name, truth in (("x1", 0.3139), ("x2", 0.4424), ("x3", 0.0)):
        assert _close(shares.loc[name], truth), (name, shares.loc[name].to_dict())
    assert list(shares.index[:2]) == ["x2", "x1"]
    assert shares.attrs["scale"] == "values"


def test_shares_of_a_product_through_the_model():
    visitors = {"dist": "lognormal", "mu": math.log(2000), "sigma": 0.3}
    rate = {"dist": "beta", "alpha": 4.0, "beta": 36.0}
    cfg = simulator.load_config({
        "simulation": {"paths": 8000, "months": 2, "seed": 5, "flows": "expected"},
        "acquisition": {"visitors": visitors}, "funnel": [{"stage": "customer", "rate": rate}],
        "revenue": {"arpa": 100}, "retention": {"churn": 0.02}})
    result = simulator.run(cfg)
    shares = first_order_shares(result, "customers", 1, bootstrap=100)
    ev, vv = 2000 * math.exp(0.045), 2000**2 * math.exp(0.09) * (math.exp(0.09) - 1)
    er, vr = 0.1, 4 * 36 / (40**2 * 41)
    total = (vv + ev**2) * (vr + er**2) - ev**2 * er**2
    assert _close(shares.loc["acquisition.visitors"], vv * er**2 / total)
    assert _close(shares.loc["funnel.customer.rate"], vr * ev**2 / total)
    assert set(shares.index) == {"acquisition.visitors", "funnel.customer.rate"}
    sentence = reading(shares)
    assert sentence.startswith(f"measuring {shares.index[0]} exactly would remove about ")
    assert sentence.endswith(" of the spread of customers at month 1")


def test_infinite_outputs_fall_back_to_ranks_and_intervals_repeat():
    rng = np.random.default_rng(2)
    x, noise = rng.random(3000), rng.random(3000)
    y = np.where(x < 0.2, np.inf, 1 / x)
    a = first_order(y, {"x": x, "noise": noise}, bootstrap=50, rng=3)
    b = first_order(y, {"x": x, "noise": noise}, bootstrap=50, rng=3)
    assert a.attrs["scale"] == "ranks" and a.loc["x", "share"] > 0.95
    assert a.loc["noise", "share"] < 0.01
    assert a.loc["x"].to_dict() == pytest.approx(b.loc["x"].to_dict())
    assert "(in ranks)" in reading(a, "cac", 12)


def test_paths_where_the_metric_is_undefined_are_left_out(base_toml):
    """NRR at month 13 from no customers is undefined where month 1 won none: the shares are
    those of the other paths (as the tornado ranks them), and all-undefined is no shares."""
    import tomllib

    raw = tomllib.loads(base_toml.read_text())
    raw["start"].update(customers=0, mrr=0)
    result = simulator.run(simulator.load_config(raw), paths=2000, seed=3)
    nrr = result.at("nrr", 13)
    keep = ~np.isnan(nrr)
    assert 0.2 < keep.mean() < 0.8
    shares = first_order_shares(result, "nrr", 13, bootstrap=20, rng=4)
    inputs = {name: result.params.whole(name)[keep] for name in shares.index}
    expected = first_order(nrr[keep], inputs, bootstrap=20, rng=4)
    pd.testing.assert_frame_equal(shares, expected.loc[shares.index])
    assert np.isfinite(shares.to_numpy()).all()
    none = first_order_shares(result, "nrr", 12, bootstrap=20)
    assert none.empty and reading(none).startswith("no uncertain input")


def test_numbers_do_not_depend_on_the_memory_block(monkeypatch):
    """Resamples are summed a block at a time (bounded memory at any path count); a block of
    one resample gives the same shares and intervals as all in one."""
    from simulator.review import variance

    rng = np.random.default_rng(6)
    x1, x2 = rng.random(1001), rng.random(1001)  # an odd count of paths too
    y = np.sin(6 * x1) + x2 + 0.3 * rng.normal(size=1001)
    whole = first_order(y, {"x1": x1, "x2": x2}, bootstrap=30, rng=8)
    monkeypatch.setattr(variance, "BLOCK_BYTES", 1)
    pd.testing.assert_frame_equal(first_order(y, {"x1": x1, "x2": x2}, bootstrap=30, rng=8),
                                  whole)
    assert whole.loc["x1", "share"] > whole.loc["x2", "share"] > 0
