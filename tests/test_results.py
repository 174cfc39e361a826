"""Percentiles that keep infinities, and the pandas views."""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.engine.results import percentiles


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_equal_numpy_on_finite_data(seed):
    x = np.random.default_rng(seed).lognormal(size=101 + seed)
    qs = [1, 5, 12.5, 50, 95, 99]
    np.testing.assert_array_equal(percentiles(x, qs), np.percentile(x, qs))


def test_percentiles_interpolating_toward_inf_give_inf():
    x = np.array([3.0, 1.0, np.inf, 2.0, np.inf])
    got = percentiles(x, [25, 50, 60, 75, 100])
    np.testing.assert_array_equal(got, [2.0, 3.0, np.inf, np.inf, np.inf])
    assert not np.isnan(percentiles(np.full(3, np.inf), [50])).any()


def test_tables_and_tidy_frame(base_toml):
    result = simulator.run(simulator.load_config(base_toml), paths=500)
    table = result.percentile_table(12)
    assert list(table.columns) == ["p5", "p10", "p25", "p50", "p75", "p90", "p95", "mean"]
    assert list(table.index) == list(result.metrics)
    assert {"lead", "customer", "new_customers", "cac_payback_months"} <= set(table.index)
    tidy = result.tidy()
    assert list(tidy.columns) == ["month", "metric", "statistic", "value"]
    row = tidy[(tidy.month == 24) & (tidy.metric == "customers") & (tidy.statistic == "p50")]
    assert row.value.item() == result.percentile_table(24).loc["customers", "p50"]
    assert "<table" in result._repr_html_()


@pytest.mark.parametrize("name", ["base", "enterprise", "smb_multichannel"])
def test_metric_table_matches_what_a_run_stores(name: str) -> None:
    """The schema's one table of metrics says which arrays a run stores (the memory
    estimate counts them) and which it computes on read; every metric is readable."""
    from simulator.config import schema
    from simulator.engine.storage import stored_metrics

    config = simulator.load_config(f"configs/{name}.toml")
    result = simulator.run(config, paths=40, seed=3)
    assert len(result._data) == stored_metrics(config)
    assert set(result._data) == set(schema.stored_names(
        config.stages, config.channel_names, config.segment_names,
        tuple(s.name for s in config.depth.shocks)))
    for metric in config.metrics:
        assert result[metric].shape == (40, config.simulation.months)
    assert np.array_equal(result["arr"], 12.0 * result["mrr"])
    assert np.array_equal(result["cumulative_revenue"], np.cumsum(result["mrr"], axis=1))
