"""What-ifs from the command line (--scale, --scenario, --set explaining the form) and the
drawn inputs in --paths-out (issue 15 items 7 and 8)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.cli import main
from simulator.config.overrides import parse_scale


def _cli(capsys, *argv: object) -> tuple[int, str, str]:
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scale_multiplies_a_distribution_exactly(base_toml):
    plain = simulator.load_config(base_toml)
    scaled = simulator.load_config(base_toml, [parse_scale("funnel.customer.rate=0.7"),
                                               parse_scale("costs.sales=2")])
    a, b = simulator.run(plain, paths=300), simulator.run(scaled, paths=300)
    np.testing.assert_allclose(b.params.whole("funnel.customer.rate"),
                               0.7 * a.params.whole("funnel.customer.rate"), rtol=1e-12)
    assert scaled.inputs["costs.sales"].dist.mean() == 10_000
    q = np.array([0.05, 0.95])
    np.testing.assert_allclose(scaled.inputs["funnel.customer.rate"].dist.ppf(q),
                               [0.7 * 0.28, 0.7 * 0.52])


def test_scale_refusals(capsys, base_toml):
    for argv, message in ((["--scale", "funnel.customer.rate=3"], "factors up to 1"),
                          (["--scale", "costs.other_opex_growth=-1"], "number >= 0"),
                          (["--scale", "retention.early_churn=2"], "--set it instead")):
        code, _, err = _cli(capsys, base_toml, "--paths", "10", *argv)
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_scenario_runs_overrides_of_the_first_config_side_by_side(capsys, base_toml):
    code, out, _ = _cli(capsys, base_toml, "--paths", "500", "--at", "24", "--quiet",
                        "--scenario", "slow:funnel.customer.rate*=0.7",
                        "--scenario", 'pricey:revenue.arpa={ dist = "lognormal", mean = 1800, '
                                      'sd = 300 },costs.sales=8000', "--format", "json")
    assert code == 0
    doc = json.loads(out)["scenarios"]
    assert list(doc) == ["base", "slow", "pricey"]
    assert doc["slow"]["assumptions"]["inputs"]["funnel.customer.rate"]["written"] == {
        "scale": 0.7, "of": {"dist": "beta", "p5": 0.28, "p95": 0.52}}
    assert doc["pricey"]["assumptions"]["inputs"]["costs.sales"]["written"] == 8000
    assert doc["slow"]["config"].endswith(" with funnel.customer.rate*=0.7")  # what it changed
    # common random numbers: a factor of 1 gives the first scenario's numbers exactly
    code, out, _ = _cli(capsys, base_toml, "--paths", "500", "--at", "24", "--quiet",
                        "--scenario", "same:funnel.customer.rate*=1", "--format", "json")
    same = json.loads(out)["scenarios"]
    assert same["same"]["tables"] == same["base"]["tables"] == doc["base"]["tables"]
    assert doc["slow"]["tables"]["24"]["customers"]["p50"] < \
        doc["base"]["tables"]["24"]["customers"]["p50"]
    code, text, _ = _cli(capsys, base_toml, "--paths", "300", "--at", "24", "--quiet",
                         "--scenario", "slow:funnel.customer.rate*=0.7", "--format",
                         "markdown")
    assert "0.7 x (beta: p5 28%, p95 52%)" in text and "**0.7 x" in text


def test_scenario_refusals(capsys, base_toml):
    for value, message in (("nope", "expected NAME:KEY=VALUE"), ("x:nope", "KEY=VALUE"),
                           ("base:costs.sales=1", "is taken")):
        code, _, err = _cli(capsys, base_toml, "--paths", "10", "--scenario", value)
        assert code == 2 and err.startswith("error: --scenario: ") and message in err, err


def test_set_of_a_parameter_the_form_lacks_explains_the_form(capsys, base_toml):
    code, _, err = _cli(capsys, base_toml, "--set", "funnel.customer.rate.mean=0.3")
    assert code == 2 and err.startswith("error: --set: funnel.customer.rate.mean: ")
    assert "written as beta with p5, p95" in err
    code, _, _ = _cli(capsys, base_toml, "--paths", "20", "--set",
                      "funnel.customer.rate.p5=0.3", "--quiet")
    assert code == 0


def test_paths_out_carries_the_drawn_inputs(capsys, base_toml, tmp_path):
    target = tmp_path / "p.csv"
    _cli(capsys, base_toml, "--paths", "60", "--months", "6", "--at", "6", "--paths-out",
         target, "--quiet")
    frame = pd.read_csv(target)
    result = simulator.run(simulator.load_config(base_toml), paths=60)
    inputs = [c for c in frame.columns if c.startswith("input:")]
    uncertain = [n for n, i in result.config.inputs.items() if not i.dist.is_constant]
    assert inputs == [f"input:{n}" for n in uncertain]
    first = frame[frame.month == 1]
    np.testing.assert_array_equal(first["input:revenue.arpa"],
                                  result.params.whole("revenue.arpa"))
    slope = np.polyfit(first["input:funnel.customer.rate"], first["customers"], 1)[0]
    assert np.isfinite(slope)
    assert not any("costs.sales" in c for c in inputs)  # constants are left out
    pd.testing.assert_series_equal(frame.groupby("path")["input:revenue.arpa"].nunique(),
                                   pd.Series(1, index=pd.RangeIndex(60, name="path"),
                                             name="input:revenue.arpa"))


@pytest.mark.parametrize("flag", ["--scale", "--scenario"])
def test_whatif_flags_are_in_the_help(capsys, flag):
    code, out, _ = _cli(capsys, "--help")
    assert code == 0 and flag in out


def test_set_addresses_channels_segments_and_shocks_by_name() -> None:
    """``channels.<name>.<key>`` (like ``funnel.<stage>.<key>``) reaches the named entry;
    an unknown name lists the names there are."""
    from simulator.config.overrides import Override

    cfg = simulator.load_config("configs/smb_multichannel.toml", [
        Override("channels.paid_search.spend", 7500),
        Override("shocks.brand_gap.probability", 0.5)])
    assert cfg.inputs["channels.paid_search.spend"].dist.mean() == 7500
    shock = next(s for s in cfg.depth.shocks if s.name == "brand_gap")
    assert shock.probability == 0.5
    segment = simulator.load_config("configs/enterprise.toml").depth.segments[0].name
    cfg = simulator.load_config("configs/enterprise.toml",
                                [Override(f"segments.{segment}.arpa", 12345)])
    assert cfg.inputs[cfg.depth.segments[0].arpa].dist.mean() == 12345
    with pytest.raises(simulator.ConfigError) as err:
        simulator.load_config("configs/smb_multichannel.toml",
                              [Override("channels.nope.spend", 1)])
    assert err.value.key == "channels.nope"
    assert "no such channel (channels: paid_search, referral, newsletter)" in err.value.reason
