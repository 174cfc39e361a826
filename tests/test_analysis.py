"""Risk-review statistics: interval coverage, Wilson intervals, tornado, scenarios, exports."""

from __future__ import annotations

import copy
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulator
from simulator import ConfigError
from simulator.cli import main
from simulator.review.analysis import Target, order_statistic_interval, sensitivity, wilson_interval
from tests.conftest import CONSTANT


@pytest.mark.parametrize("q", [5, 50, 90])
def test_order_statistic_intervals_cover_95_percent(q):
    """Oracle: the true percentile of a lognormal(0, 1), from scipy."""
    rng = np.random.default_rng(12345)
    truth = stats.lognorm(1.0).ppf(q / 100)
    runs = 2000
    samples = rng.lognormal(0.0, 1.0, size=(runs, 500))
    covered = 0
    for x in samples:
        low, high = order_statistic_interval(x, q, 0.95)
        covered += low <= truth <= high
    assert 0.93 <= covered / runs <= 0.97


def _wilson_reference(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson's interval as the roots of (p - k/n)^2 = z^2 p (1 - p) / n."""
    phat = k / n
    a = 1 + z * z / n
    b = -(2 * phat + z * z / n)
    c = phat * phat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize("k, n", [(50, 100), (0, 40), (3, 1000), (997, 1000), (12, 12)])
def test_wilson_matches_reference(k, n):
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(wilson_interval(k, n), _wilson_reference(k, n, z), atol=1e-12)
    low, high = wilson_interval(50, 100)
    assert round(low, 4) == 0.4038 and round(high, 4) == 0.5962  # published value


def test_tornado_ranks_the_one_uncertain_input_first():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=3000, months=12, flows="binomial")
    cfg["funnel"][4]["rate"] = {"dist": "beta", "mean": 0.4, "sd": 0.15}  # the only spread
    cfg["revenue"]["arpa"] = {"dist": "uniform", "low": 1499.0, "high": 1501.0}  # negligible
    result = simulator.run(simulator.load_config(cfg))
    frame = sensitivity(result, "customers", 12)
    assert list(frame.index)[0] == "funnel.customer.rate"
    assert set(frame.index) == {"funnel.customer.rate", "revenue.arpa"}  # constants never appear
    assert frame.loc["funnel.customer.rate", "variance_pct"] > 90
    assert frame.loc["funnel.customer.rate", "swing"] > 0
    assert math.isclose(frame["variance_pct"].sum(), 100)


def test_target_parsing_and_errors():
    metrics = simulator.config.schema.metric_names(("lead",))
    t = Target.parse("arr@24>=1000000", metrics, 36)
    assert (t.metric, t.month, t.op, t.threshold) == ("arr", 24, ">=", 1e6)
    for bad in ("arr24>=1", "arrr@24>=1", "arr@99>=1", "arr@24>=x"):
        with pytest.raises(ConfigError) as info:
            Target.parse(bad, metrics, 36)
        assert info.value.source == "--target"


def _cli(capsys, *argv):
    try:
        main(list(argv))
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


def test_identical_scenarios_give_identical_columns(capsys, base_toml, tmp_path):
    copy_path = tmp_path / "again.toml"
    copy_path.write_text(base_toml.read_text())
    out = _cli(capsys, str(base_toml), str(copy_path), "--paths", "500", "--format", "csv",
               "--target", "customers@12>=60")
    frame = pd.read_csv(io.StringIO(out))
    a = frame[frame.scenario == "base"].drop(columns="scenario").reset_index(drop=True)
    b = frame[frame.scenario == "again"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_scenarios_use_common_random_numbers(base_toml):
    config = simulator.load_config(base_toml)
    cheaper = simulator.load_config(base_toml, [simulator.config.overrides.Override(
        "costs.marketing", 4000)])
    a = simulator.run(config, paths=300)
    b = simulator.run(cheaper, paths=300)
    np.testing.assert_array_equal(a["customers"], b["customers"])  # spend does not drive flows
    assert not np.array_equal(a["cash"], b["cash"])


def test_csv_and_json_exports_round_trip(capsys, base_toml):
    argv = [str(base_toml), "--paths", "400", "--ci", "95", "--target", "arr@24>=1200000",
            "--sensitivity", "customers@24"]
    frame = pd.read_csv(io.StringIO(_cli(capsys, *argv, "--format", "csv")))
    assert list(frame.columns) == ["scenario", "section", "metric", "input", "month",
                                   "statistic", "value"]
    doc = json.loads(_cli(capsys, *argv, "--format", "json"))["scenarios"]["base"]
    p50 = frame.query("metric == 'customers' and month == 24 and statistic == 'p50'").value
    assert p50.item() == doc["tables"]["24"]["customers"]["p50"]
    low = frame.query("metric == 'customers' and month == 24 and statistic == 'p50_low'").value
    assert low.item() == doc["intervals"]["24"]["customers"]["p50_low"]
    target = frame.query("metric == 'arr' and statistic == 'P(>= 1.2e+06)'").value
    assert target.item() == doc["targets"][0]["probability"]
    assert list(doc["sensitivity"]["inputs"])[0].startswith(("funnel", "retention", "acq"))


def test_ci_table_in_terminal_output(capsys, base_toml):
    out = _cli(capsys, str(base_toml), "--paths", "400", "--ci", "95", "--at", "12")
    assert "Monte Carlo error at month 12" in out and "±" in out


def test_bad_review_flags(capsys, base_toml):
    for argv, prefix in ((["--ci", "120"], "error: --ci: "),
                         (["--sensitivity", "nope@12"], "error: --sensitivity: "),
                         (["--target", "arr@12"], "error: --target: ")):
        with pytest.raises(SystemExit) as info:
            main([str(base_toml), *argv])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.startswith(prefix) and err.count("\n") == 1


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty, quiet, drawn", [(True, False, True), (False, False, False),
                                              (True, True, False)])
def test_progress_bar_only_on_a_terminal(base_toml, tty, quiet, drawn):
    from simulator.engine.progress import ProgressBar

    stream = _Stream(tty)
    bar = ProgressBar("base:", stream=stream, delay=0.0, enabled=not quiet)
    simulator.run(simulator.load_config(base_toml), paths=20000, progress=bar)
    bar.close()
    assert ("20,000/20,000 paths" in stream.getvalue()) is drawn


def test_swing_keeps_infinite_medians_signed():
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=2000, months=6, flows="binomial")
    # a close rate near 0 wins no customer (infinite payback); near 0.8 it wins a few
    cfg["funnel"][4]["rate"] = {"dist": "uniform", "low": 0.0, "high": 0.8}
    frame = sensitivity(simulator.run(simulator.load_config(cfg)), "cac_payback_months", 6)
    row = frame.loc["funnel.customer.rate"]
    assert math.isinf(row["median_if_low"]) and row["swing"] == -math.inf
