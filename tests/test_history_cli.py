"""``simulate calibrate`` and ``simulate backtest``: outputs, and one clear line for bad
history files (exit 2, nothing written)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.config.core import read_toml
from simulator.history.toml_out import dumps
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "history_example.csv"
BASE = ROOT / "configs" / "base.toml"
HEADER = "month,visitors,lead,mql,sql,opportunity,customer,churned,customers,mrr"
GOOD = ["2024-01,2000,20,16,4,2,1,0,10,15000",
        "2024-02,2100,22,18,4,2,1,1,10,15100",
        "2024-03,2050,19,15,3,2,1,0,11,16600",
        "2024-04,2200,25,20,5,3,2,1,12,18000"]


def test_calibrate_writes_a_commented_config_that_runs(capsys, tmp_path):
    out = tmp_path / "cal.toml"
    code, stdout, err = run_cli(capsys, "calibrate", str(EXAMPLE), "--config", str(BASE),
                             "--output", str(out))
    assert code == 0, err
    assert "base p50" in stdout and "data p50" in stdout and "funnel.sql.rate" in stdout
    text = out.read_text()
    assert "# visitors -> lead: " in text and "90% interval" in text
    cal = tomllib.loads(text)
    assert cal["start"]["customers"] == 128  # the last month of the history
    assert cal["funnel"][2]["rate"]["vary"] == "month"  # the example's SQL rate varies
    code, stdout, err = run_cli(capsys, str(out), "--paths", "200", "--quiet")
    assert code == 0 and "Month 36" in stdout, err


def test_calibrate_prints_the_config_without_output(capsys):
    code, stdout, err = run_cli(capsys, "calibrate", str(EXAMPLE), "--config", str(BASE))
    assert code == 0 and "[[funnel]]" in stdout and "base p5" in err
    assert tomllib.loads(stdout) == simulator.calibrate(EXAMPLE, BASE)


def test_month_to_month_spread_shows_in_the_simulation():
    """The example's MQL -> SQL rate varies between months beyond binomial noise; the
    calibrated config carries that spread into the simulated months."""
    cal = simulator.calibrate(EXAMPLE, BASE)
    cal["simulation"].update(paths=400, months=24, seed=3, report_months=[24])
    result = simulator.run(simulator.load_config(cal))
    mql, sql = result["mql"], result["sql"]
    ratio = sql / np.maximum(mql, 1)
    binomial = np.mean(ratio * (1 - ratio) / np.maximum(mql, 1))
    assert np.mean(np.var(ratio, axis=1, ddof=1)) > 1.5 * binomial


def test_calibrate_needs_a_history_or_cohorts(capsys, tmp_path):
    out = tmp_path / "cal.toml"
    code, _, err = run_cli(capsys, "calibrate", "--config", str(BASE), "--output", str(out))
    assert code == 2 and "HISTORY.csv" in err and not out.exists()
    with pytest.raises(simulator.ConfigError, match="needs a history, cohorts or both"):
        simulator.calibrate(None, BASE)


def _rows(*edits: tuple[int, str]) -> list[str]:
    rows = list(GOOD)
    for index, row in edits:
        rows[index] = row
    return rows


@pytest.mark.parametrize("header,rows,where,fragment", [
    (HEADER, _rows((1, "2024-02,21x0,22,18,4,2,1,1,10,15100")), "row 3: visitors",
     "must be a count"),
    (HEADER, _rows((2, "2024-03,2050,-19,15,3,2,1,0,11,16600")), "row 4: lead", ">= 0"),
    (HEADER, _rows((1, "2024-02,2100,22,18,4,2,3,1,10,15100")), "row 3: customer",
     "more than the 2 that reached opportunity"),
    (HEADER, _rows((2, "2024-04,2050,19,15,3,2,1,0,11,16600"),
                   (3, "2024-05,2200,25,20,5,3,2,1,12,18000")), "row 4: month",
     "1 month(s) missing"),
    (HEADER, GOOD[:2], "row 3", "at least 3 are needed"),
    (HEADER + ",demos", [r + ",3" for r in GOOD], "row 1: demos",
     "not a stage of the config"),
    (HEADER, _rows((1, "2024-02,2100,22,18,4,2,1,,10,15100")), "row 3: churned", "is empty"),
    (HEADER, _rows((1, "2024-02,2100,22,18,4,2,1,1.5,10,15100")), "row 3: churned",
     "whole number"),
    (HEADER, _rows((1, "2024-02,2100,22,18,4,2,1,11,10,15100")), "row 3: churned",
     "more than the 10 customers"),
    (HEADER, _rows((1, "Feb 2024,2100,22,18,4,2,1,1,10,15100")), "row 3: month", "YYYY-MM"),
])
def test_bad_history_is_one_line_exit_2_nothing_written(capsys, tmp_path, header, rows,
                                                        where, fragment):
    history = tmp_path / "history.csv"
    history.write_text("\n".join([header, *rows]) + "\n")
    out = tmp_path / "cal.toml"
    for argv in (["calibrate", str(history), "--config", str(BASE), "--output", str(out)],
                 ["backtest", str(history), "--config", str(BASE), "--train", "3",
                  "--horizon", "1", "--output", str(tmp_path / "bt.json")]):
        code, stdout, err = run_cli(capsys, *argv)
        assert code == 2 and stdout == ""
        assert err.startswith(f"error: {history}: {where}: ") and fragment in err, err
        assert err.count("\n") == 1
        assert not out.exists() and not (tmp_path / "bt.json").exists()


def test_missing_history_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "calibrate", str(tmp_path / "no.csv"), "--config", str(BASE))
    assert code == 2 and err == f"error: {tmp_path / 'no.csv'}: no such file\n"


def test_backtest_json_rows_and_flags(capsys, tmp_path):
    code, stdout, err = run_cli(capsys, "backtest", str(EXAMPLE), "--config", str(BASE),
                             "--train", "33", "--horizon", "2", "--paths", "200",
                             "--format", "json")
    assert code == 0, err
    rows = json.loads(stdout)
    assert set(rows[0]) == {"metric", "horizon", "coverage_80", "coverage_90", "crps",
                            "baseline_crps", "n"}
    assert {r["metric"] for r in rows} == {"visitors", "lead", "mql", "sql", "opportunity",
                                           "new_customers", "churned", "customers", "mrr"}
    assert {(r["horizon"], r["n"]) for r in rows if r["metric"] == "mrr"} == {(1, 3), (2, 2)}
    code, stdout, _ = run_cli(capsys, "backtest", str(EXAMPLE), "--config", str(BASE),
                           "--train", "34", "--horizon", "1", "--paths", "100")
    assert code == 0 and "P10-P90" in stdout and "baseline" in stdout
    code, _, err = run_cli(capsys, "backtest", str(EXAMPLE), "--config", str(BASE),
                        "--train", "36", "--horizon", "1")
    assert code == 2 and err.startswith("error: --train: must be at least 3 and less than")
    code, _, err = run_cli(capsys, "backtest", str(EXAMPLE), "--config", str(BASE),
                        "--horizon", "1")
    assert code == 2 and err.startswith("error: --train: is required")


def test_the_toml_writer_round_trips_every_example_config():
    for path in sorted((ROOT / "configs").glob("*.toml")):
        raw = read_toml(path)
        assert tomllib.loads(dumps(raw, header="a\nb")) == raw, path


def test_too_short_or_erratic_traffic_keeps_the_base_visitors():
    import pandas as pd

    from simulator.history.calibrate import calibration

    cal = calibration(pd.DataFrame({"month": [1, 2, 3], "visitors": [100, 0, 50],
                                    "lead": [0, 0, 0], "mql": [0, 0, 0]}), BASE)
    assert "acquisition.visitors" in cal.kept and "funnel.mql.rate" in cal.kept
    assert any("too few or too erratic" in note for note in cal.notes)
    simulator.run(simulator.load_config(cal.config), paths=20, seed=1)


def test_backtest_plot_and_csv(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png, csv = tmp_path / "bt.png", tmp_path / "bt.csv"
    code, stdout, err = run_cli(capsys, "backtest", str(EXAMPLE), "--config", str(BASE),
                             "--train", "34", "--horizon", "2", "--paths", "100",
                             "--plot", str(png), "--output", str(csv))
    assert code == 0 and stdout == "", err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert csv.read_text().splitlines()[0] == ("metric,horizon,coverage_80,coverage_90,crps,"
                                               "baseline_crps,n")


def test_totals_that_mix_channels_do_not_calibrate_shared_inputs():
    """A channel entering at SQL adds to the SQL total: the MQL -> SQL rate is kept, the
    stages after it (shared rates) are calibrated; per-channel inputs are kept."""
    import pandas as pd

    from simulator.history.calibrate import calibration

    base = read_toml(BASE)
    base["channels"] = [{"name": "outbound", "enters": "sql", "volume": 5}]
    history = pd.read_csv(EXAMPLE)
    cal = calibration(history, base)
    assert "funnel.sql.rate" in cal.kept and "funnel.opportunity.rate" in cal.calibrated
    assert any("channel 'outbound' enters there" in note for note in cal.notes)
    base["channels"][0]["enters"] = "visitors"
    cal = calibration(history, base)
    assert "acquisition.visitors" not in cal.calibrated


def test_spreadsheet_exports(capsys, tmp_path):
    """A byte-order mark (Excel's UTF-8 CSV) is fine; ';'-separated columns are one line."""
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join([HEADER, *GOOD]).encode() + b"\n")
    code, _, err = run_cli(capsys, "calibrate", str(bom), "--config", str(BASE))
    assert code == 0, err
    semi = tmp_path / "semi.csv"
    semi.write_text("\n".join(r.replace(",", ";") for r in [HEADER, *GOOD]) + "\n")
    code, _, err = run_cli(capsys, "calibrate", str(semi), "--config", str(BASE))
    assert code == 2 and err == (f"error: {semi}: row 1: the columns are separated by ';': "
                                 f"save the file as comma-separated values\n")


def test_per_channel_columns_calibrate_the_channels_own_inputs(tmp_path):
    """smb_multichannel.toml: referral's own activation rate, volume and growth, and paid
    search's spend come from their columns; the written config runs."""
    import pandas as pd

    from simulator.history.calibrate import calibration

    rng = np.random.default_rng(5)
    months = 18
    referral = rng.poisson(40 * 1.02 ** np.arange(months))
    paid = rng.poisson(300, months)
    frame = pd.DataFrame({
        "month": range(1, months + 1),
        "referral.signup": referral, "referral.activated": rng.binomial(referral, 0.6),
        "paid_search.signup": paid, "paid_search.activated": rng.binomial(paid, 0.3),
        "paid_search.spend": np.full(months, 15000.0)})
    cal = calibration(frame, ROOT / "configs" / "smb_multichannel.toml")
    assert {"channels.referral.rates.activated", "channels.referral.volume",
            "channels.referral.growth", "channels.paid_search.spend"} <= set(cal.calibrated)
    low, high = (cal.config["channels"][1]["rates"]["activated"][k] for k in ("alpha", "beta"))
    assert 0.55 < low / (low + high) < 0.65
    assert any("channels.paid_search.rates.signup: kept" in n for n in cal.notes)
    text = dumps(cal.config, comments=cal.comments)
    assert "# referral.signup -> referral.activated: " in text
    out = tmp_path / "cal.toml"
    out.write_text(text)
    simulator.run(simulator.load_config(out), paths=20, seed=1)


def test_seasonal_traffic_is_deseasonalised_and_the_calendar_aligned():
    """With [seasonality] in the base, history volumes are divided by the month's multiplier
    before the trend is fitted (the seasonal swing is not mistaken for scatter), and the
    forecast's first month is the calendar month after the history's last."""
    import pandas as pd

    from simulator.history.calibrate import calibration

    multipliers = [1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 0.8, 0.8, 1.05, 1.1, 1.1, 0.95]
    rng = np.random.default_rng(8)
    labels = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(2, 32)]  # 2023-03..2025-08
    calendar = [int(label[5:]) for label in labels]
    level = 3000 * 1.01 ** np.arange(30) * np.array([multipliers[c - 1] for c in calendar])
    frame = pd.DataFrame({"month": labels, "visitors": rng.poisson(level)})
    base = read_toml(BASE)
    base["seasonality"] = {"multipliers": multipliers, "first_month": 1}
    cal = calibration(frame, base)
    assert cal.config["seasonality"]["first_month"] == 9  # September follows 2025-08
    assert cal.config["acquisition"]["visitors"].get("vary", "path") == "path"
    growth = cal.config["acquisition"]["visitor_growth"]
    assert abs(growth["mean"] - 0.01) < 3 * growth["sd"]
    del base["seasonality"]
    plain = calibration(frame, base)  # without it, the swing looks like scatter
    assert plain.config["acquisition"]["visitors"]["vary"] == "month"
