"""Scale: identical numbers on any number of workers and on Dask; reduced-memory runs."""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.cli import main
from simulator.engine.runner import BLOCK_PATHS

PATHS = 2 * BLOCK_PATHS + 1234  # three blocks, the last one partial


def _csv(capsys, *argv):
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


def test_csv_identical_on_one_and_two_workers(capsys, base_toml):
    args = [base_toml, "--paths", PATHS, "--format", "csv", "--months", "12", "--at", "6,12"]
    one = _csv(capsys, *args)
    two = _csv(capsys, *args, "--workers", "2")
    assert one == two


def test_identical_on_a_dask_local_cluster(base_toml):
    distributed = pytest.importorskip("distributed")
    config = simulator.load_config(base_toml)
    local = simulator.run(config, paths=PATHS, seed=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = simulator.run(config, paths=PATHS, seed=3, client=client)
    for name in local.metrics:
        np.testing.assert_array_equal(local[name], remote[name])


def test_reduced_memory_keeps_exact_report_months(base_toml):
    config = simulator.load_config(base_toml)
    full = simulator.run(config, paths=PATHS, seed=4)
    small = simulator.run(config, paths=PATHS, seed=4, memory=2**20, keep_months=(7,))
    assert small.reduced and not full.reduced
    for month in (7, 12, 24, 36):
        for name in full.metrics:
            np.testing.assert_array_equal(full.at(name, month), small.at(name, month))
    for month in (12, 24, 36):
        assert full.percentile_table(month).equals(small.percentile_table(month))
    assert full.probabilities().equals(small.probabilities())
    np.testing.assert_array_equal(small.trajectories("mrr"), full["mrr"][:10000])
    with pytest.raises(ValueError, match="reduced storage"):
        small["mrr"]
    with pytest.raises(ValueError, match="not kept"):
        small.at("mrr", 5)


def test_reduced_run_through_the_cli(capsys, base_toml, tmp_path):
    args = [base_toml, "--paths", PATHS, "--format", "csv", "--target", "arr@7>=1000000"]
    assert _csv(capsys, *args) == _csv(capsys, *args, "--memory", "1MB")
    with pytest.raises(SystemExit) as info:
        main([str(base_toml), "--memory", "1MB", "--paths-out", str(tmp_path / "p.csv")])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: --paths-out: ")
    with pytest.raises(SystemExit):
        main([str(base_toml), "--memory", "lots"])
    assert capsys.readouterr().err.startswith("error: --memory: ")


def test_scheduler_flag_gives_the_same_csv(capsys, base_toml):
    distributed = pytest.importorskip("distributed")
    args = [base_toml, "--paths", PATHS, "--format", "csv", "--months", "6", "--at", "6"]
    local = _csv(capsys, *args)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = _csv(capsys, *args, "--scheduler", cluster.scheduler_address)
    assert local == remote


@pytest.mark.parametrize("name", ["base", "smb_multichannel", "enterprise"])
def test_reduced_blocks_past_the_sample_derive_only_kept_months(name, monkeypatch):
    """Blocks past the sampled paths derive metrics at the kept months only; the values must
    be those of the full run (channels, segments, shocks and month-varying inputs too)."""
    from pathlib import Path

    from simulator.config.overrides import parse_set
    from simulator.engine import storage

    monkeypatch.setattr(storage, "SAMPLE_PATHS", 1000)  # blocks 2 and 3 are past the sample
    path = Path(__file__).resolve().parents[1] / "configs" / f"{name}.toml"
    varying = [parse_set('revenue.gross_margin.vary="month"')]
    config = simulator.load_config(path, varying)
    full = simulator.run(config, paths=PATHS, seed=5)
    small = simulator.run(config, paths=PATHS, seed=5, memory=2**20, keep_months=(3, 17))
    assert small.reduced
    for month in (3, 17, *config.simulation.report_months):
        for metric in full.metrics:
            np.testing.assert_array_equal(full.at(metric, month), small.at(metric, month),
                                          err_msg=f"{metric}@{month}")
    for metric in full.metrics:  # the sampled paths' whole trajectories (chart bands)
        sampled = small.trajectories(metric)
        np.testing.assert_array_equal(full[metric][: len(sampled)], sampled, err_msg=metric)


def test_a_months_funnel_draws_do_not_depend_on_earlier_months_being_drawn():
    """Reduced blocks skip the stages above the last at months they do not keep; the
    month-addressed streams must give the kept months the counts of a run drawing every
    month, and the last stage its counts in every month."""
    from simulator.model.flows import BinomialFlows

    mean = np.linspace(50.0, 400.0, 300)
    rates, stages = [0.3, 0.5, 0.4], ("mql", "sql", "customer")
    every = BinomialFlows(11, 2)
    drawn = {t: every.cascade("", mean * t, rates, stages, t) for t in range(1, 7)}
    kept = (2, 5)
    some = BinomialFlows(11, 2)
    for t in range(1, 7):
        counts = some.cascade("", mean * t, rates, stages, t, upper=t in kept)
        np.testing.assert_array_equal(counts[-1], drawn[t][-1])
        for got, want in zip(counts[:-1], drawn[t][:-1], strict=True):
            if t in kept:
                np.testing.assert_array_equal(got, want)
            else:
                assert not got.any()
    assert all(drawn[t][0].sum() > drawn[t][-1].sum() > 0 for t in drawn)


@pytest.mark.parametrize("months", [(1, 2), (1, 65), (7, 135)])
def test_monthly_streams_are_not_correlated(months):
    """Two months' substreams of one key must look independent: the number of bits in
    which their raw outputs differ is Binomial(64, 1/2) with mean 32 (a power-of-two spacing
    of PCG64 substreams fails this by 8-23 standard errors)."""
    from simulator.model.flows import BinomialFlows

    n = 1 << 20
    flows = BinomialFlows(2026, 3)
    first, second = (flows._monthly("short of sql", m).bit_generator.random_raw(n)
                     for m in months)
    differing = np.unpackbits((first ^ second).view(np.uint8)).reshape(n, 64).sum(axis=1)
    z = (differing.mean() - 32.0) / np.sqrt(16.0 / n)
    assert abs(z) < 4.5, z
    u, v = ((x >> np.uint64(11)) * 2.0**-53 for x in (first, second))
    assert abs(np.corrcoef(u, v)[0, 1]) < 4.5 / np.sqrt(n)
