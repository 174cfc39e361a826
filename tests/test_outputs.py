"""Exports, charts, the HTML report (rendered in headless Chromium) and --precision."""

from __future__ import annotations

import pandas as pd
import pytest

import simulator
from simulator.cli import main
from simulator.review.convergence import run_to_precision, worst_relative_error
from tests.conftest import browse, needs_chromium


def _cli(capsys, *argv):
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr()


def test_parquet_exports_round_trip(capsys, base_toml, tmp_path):
    pytest.importorskip("pyarrow")
    table, trajectories = tmp_path / "t.parquet", tmp_path / "p.parquet"
    _cli(capsys, base_toml, "--paths", "300", "--months", "12", "--at", "12", "--output", table,
         "--paths-out", trajectories)
    tidy = pd.read_parquet(table)
    assert list(tidy.columns) == ["scenario", "section", "metric", "input", "month",
                                  "statistic", "value"]
    paths = pd.read_parquet(trajectories)
    assert len(paths) == 300 * 12
    result = simulator.run(simulator.load_config(base_toml), paths=300)
    customers = paths.pivot(index="path", columns="month", values="customers").to_numpy()
    assert (customers == result["customers"][:, :12]).all()


def test_paths_out_csv(capsys, base_toml, tmp_path):
    target = tmp_path / "p.csv"
    _cli(capsys, base_toml, "--paths", "50", "--months", "6", "--at", "6", "--paths-out", target)
    frame = pd.read_csv(target)
    assert {"scenario", "path", "month", "customers", "cac_payback_months"} <= set(frame.columns)
    assert len(frame) == 300


def test_plot_writes_a_png(capsys, base_toml, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "fan.png"
    _cli(capsys, base_toml, "--paths", "300", "--plot", target, "--sensitivity", "mrr@12")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 50_000


def test_bad_output_targets_fail_before_running(capsys, base_toml, tmp_path):
    for argv, prefix in ((["--plot", tmp_path / "x.jpg"], "error: --plot: unknown extension"),
                         (["--report", tmp_path / "x.pdf"], "error: --report: "),
                         (["--paths-out", tmp_path / "nodir" / "p.csv"], "error: --paths-out: "),
                         (["--precision", "0"], "error: --precision: ")):
        with pytest.raises(SystemExit) as info:
            main([str(base_toml), *map(str, argv)])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.startswith(prefix) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_precision_doubles_paths_until_the_target(base_toml):
    config = simulator.load_config(base_toml, [simulator.config.overrides.Override(
        "simulation.paths", 1000)])
    result, history = run_to_precision(config, 0.03, 64000, seed=1)
    assert [s.paths for s in history] == [1000 * 2**i for i in range(len(history))]
    assert history[-1].worst <= 0.03 or history[-1].paths == 64000
    assert all(s.worst > 0.03 for s in history[:-1])
    assert worst_relative_error(result)[0] == history[-1].worst
    capped, steps = run_to_precision(config, 1e-6, 3000, seed=1)
    assert capped.paths == 3000 and steps[-1].paths == 3000


@needs_chromium
def test_html_report_renders_in_headless_chromium(capsys, base_toml, tmp_path):
    downside = base_toml.parent / "downside.toml"
    report = tmp_path / "review.html"
    _cli(capsys, base_toml, downside, "--paths", "1000", "--report", report, "--sensitivity",
         "cac_payback_months@12", "--target", "arr@24>=1200000", "--ci", "95")
    text = report.read_text()
    assert "<style>" in text and "data:image/png;base64," in text and "http" not in text
    shot = tmp_path / "review.png"
    seen = browse(report, shot)
    problems, headings = seen["problems"], seen["h2"]
    images = [width for width, _, _ in seen["images"]]
    assert problems == []
    assert images and all(w > 0 for w in images)
    assert {"Scenarios side by side", "Headline percentiles: base",
            "Headline percentiles: downside", "Targets", "Charts", "Assumptions: base",
            "Assumptions: downside"} <= set(headings)
    assert shot.stat().st_size > 100_000
