"""The ``simulate`` command: output formats, flags, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

FAST = ["--paths", "400"]


def test_prints_readable_tables(capsys, base_toml, tmp_path):
    # A config path of 90 characters: only the path itself may come near the width.
    deep = tmp_path / ("d" * max(1, 80 - len(str(tmp_path))))
    deep.mkdir()
    config = deep / "base.toml"
    config.write_text(base_toml.read_text())
    assert len(str(config)) >= 85
    code, out, err = run_cli(capsys, str(config), *FAST)
    assert code == 0, err
    for month in (12, 24, 36):
        assert f"Month {month}" in out
        assert f"P(cash < 0 by month {month})" in out
    assert "cac_payback_months" in out and "p50" in out and "mean" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert re.search(r"\d,\d{3}", out), "thousands separators"


def test_csv_is_byte_identical_for_the_same_seed(capsys, base_toml, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run_cli(capsys, str(base_toml), *FAST, "--output", str(a))[0] == 0
    assert run_cli(capsys, str(base_toml), *FAST, "--output", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().splitlines()[0] == "scenario,section,metric,input,month,statistic,value"
    code, out, _ = run_cli(capsys, str(base_toml), *FAST, "--seed", "3", "--format", "csv")
    assert code == 0 and out != a.read_text()


def test_output_prints_nothing_else(capsys, base_toml, tmp_path):
    code, out, _ = run_cli(capsys, str(base_toml), *FAST, "--output", str(tmp_path / "r.md"))
    assert code == 0 and out == ""
    assert "| metric | unit | p5 |" in (tmp_path / "r.md").read_text()


def test_json_is_strict_and_writes_inf_as_string(capsys, base_toml):
    code, out, _ = run_cli(capsys, str(base_toml), *FAST, "--format", "json",
                        "--set", "funnel.customer.rate=0")
    assert code == 0
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    base = doc["scenarios"]["base"]  # one shape for one or several configs
    assert base["tables"]["12"]["cac"]["p50"] == "inf"
    assert base["seed"] == 2026 and base["report_months"] == [12, 24, 36]


def test_set_and_flag_precedence(capsys, base_toml):
    code, out, _ = run_cli(capsys, str(base_toml), "--set", "simulation.paths=50",
                        "--paths", "60", "--set", "revenue.arpa.mean=600", "--format", "json",
                        "--at", "6,12", "--percentiles", "50", "--months", "12")
    assert code == 0
    doc = json.loads(out)["scenarios"]["base"]
    assert doc["paths"] == 60 and doc["months"] == 12 and doc["report_months"] == [6, 12]
    assert list(doc["tables"]["6"]["mrr"]) == ["p50", "mean"]


def test_a_drawn_seed_is_printed(capsys, base_toml, tmp_path):
    text = base_toml.read_text().replace("seed = 2026", "")
    path = tmp_path / "noseed.toml"
    path.write_text(text)
    code, _, err = run_cli(capsys, str(path), "--paths", "50")
    assert code == 0 and re.search(r"seed: \d+", err)


ERRORS = [
    (["--paths", "abc"], "error: --paths: "),
    (["--paths", "0"], "error: --paths: "),
    (["--seed", "-4"], "error: --seed: "),
    (["--months", "x"], "error: --months: "),
    (["--at", "12,99"], "error: --at: simulation.report_months: month 99"),
    (["--percentiles", "5,abc"], "error: --percentiles: "),
    (["--percentiles", "0,50"], "error: --percentiles: simulation.percentiles"),
    (["--set", "funnel.sql.rate=2"], "error: --set: funnel.sql.rate: "),
    (["--set", "funnel.nope.rate=0.2"], "error: --set: funnel.nope: no such stage"),
    (["--set", "simulation.pahts=3"], "error: --set: simulation.pahts: unknown key"),
    (["--set", "noequals"], "error: --set: expected dotted.key=VALUE"),
    (["--set", "revenue.arpa.mean=[1,"], "error: --set: "),
    (["--workers", "0"], "error: --workers: "),
    (["--output", "out.xlsx"], "error: --output: unknown extension"),
    (["--output", "missing_dir/out.csv"], "error: --output: directory"),
    (["--format", "csv", "--output", "x.json"], "error: --format: "),
    (["--bogus"], "error: --bogus: unknown option"),
    (["--format", "yaml"], "error: "),
]


@pytest.mark.parametrize("argv, prefix", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_bad_flags_give_one_line_and_exit_2(capsys, base_toml, tmp_path, monkeypatch,
                                            argv, prefix):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, str(base_toml), *argv)
    assert code == 2
    assert err.startswith(prefix), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


BASE = (Path(__file__).resolve().parents[1] / "configs" / "base.toml").read_text()
BAD_FILES = [
    ("[simulation]\nmonths = = 3\n", "line 2"),
    (BASE.replace("paths = 10000", "paths = 0"), "simulation.paths: must be >= 1 (got 0)"),
    (re.sub(r"(?m)^arpa = .*$", 'arpa = "lots"', BASE),
     "revenue.arpa: must be a number or a distribution"),
]


@pytest.mark.parametrize("text, fragment", BAD_FILES)
def test_bad_config_files(capsys, tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out_file = tmp_path / "out.csv"
    code, out, err = run_cli(capsys, str(path), "--output", str(out_file))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: ") and fragment in err
    assert err.count("\n") == 1
    assert not out_file.exists()


def test_missing_config_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, str(tmp_path / "nope.toml"))
    assert code == 2 and "cannot read the config" in err and err.count("\n") == 1


def test_missing_argument(capsys):
    code, _, err = run_cli(capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_example_configs_run(capsys):
    for path in sorted(Path(__file__).resolve().parents[1].glob("configs/*.toml")):
        code, out, err = run_cli(capsys, str(path), "--paths", "200")
        assert code == 0, (path, err)
        assert "Month" in out


def test_fit_subcommand_ranks_families_and_prints_toml(capsys, tmp_path):
    import numpy as np

    history = tmp_path / "history.csv"
    rates = np.random.default_rng(3).beta(30, 50, size=200)
    history.write_text("month,close_rate\n" + "".join(f"{i},{r}\n" for i, r in
                                                     enumerate(rates, 1)))
    code, out, err = run_cli(capsys, "fit", str(history), "--column", "close_rate", "--top", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert "ranked by AIC" in lines[0] and len(lines) == 2 + 3
    assert '{ dist = "' in lines[2]
    code, _, err = run_cli(capsys, "fit", str(history), "--column", "close")
    assert code == 2 and err.startswith("error: --column: ") and "close_rate" in err
    code, _, err = run_cli(capsys, "fit", str(history), "--column", "close_rate",
                        "--families", "betta")
    assert code == 2 and err.startswith("error: --families: ")


def test_the_main_job_does_not_import_scipy_stats():
    """scipy.stats takes about 0.4 s to import; a plain run must not pay for it (fitting,
    Sobol designs, intervals and sensitivity import it when they are used)."""
    import subprocess
    import sys

    code = ("import sys; from simulator.cli import main; "
            "main(['configs/base.toml', '--paths', '50', '--quiet']); "
            "print('scipy.stats' in sys.modules)")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False"
