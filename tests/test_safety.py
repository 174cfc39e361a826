"""Safe outputs: atomic writes, interrupted runs, unwritable targets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.review.io import atomic_write
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    atomic_write(target, "new contents")
    assert target.read_text() == "new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_write_failure_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, "data")
    assert list(tmp_path.iterdir()) == []


def _wait_until_main_runs(pid: int, timeout: float = 60) -> None:
    """Until the command line has installed its SIGTERM handler (its imports can take
    seconds on a busy machine; a signal before that would not be the command's to handle)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines()
                          if line.startswith("SigCgt:")), 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.05)
    raise AssertionError("the command never started")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_no_file(tmp_path, sig):
    out = tmp_path / "big.csv"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from simulator.cli import main; main()",
         str(ROOT / "configs" / "base.toml"), "--paths", "1000000", "--output", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    _wait_until_main_runs(proc.pid)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted; nothing was written"]
    assert list(tmp_path.iterdir()) == []


def test_oversized_request_is_refused_before_allocation(capsys):
    from simulator.cli import main

    with pytest.raises(SystemExit) as info:
        main([str(ROOT / "configs" / "base.toml"), "--paths", "1000000000", "--months", "1200",
              "--at", "12"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("error: --paths: simulation.paths: 1,000,000,000 paths x 1200 months")
    assert "GiB" in err and err.count("\n") == 1


_main = run_cli


def _config_with(tmp_path, churn_line: str) -> Path:
    text = (ROOT / "configs" / "base.toml").read_text()
    text = "\n".join(churn_line if line.startswith("churn =") else line
                     for line in text.splitlines())
    path = tmp_path / "sub" / "model.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_empirical_file_resolves_relative_to_the_config(capsys, tmp_path, monkeypatch):
    path = _config_with(tmp_path, 'churn = { dist = "empirical", file = "history.csv", '
                                  'column = "churn" }')
    (path.parent / "history.csv").write_text("month,churn\n1,0.01\n2,0.015\n3,0.02\n")
    monkeypatch.chdir(tmp_path)  # not the config's directory
    code, out, err = _main(capsys, path, "--paths", "50", "--at", "12")
    assert code == 0, err
    assert "Month 12" in out


@pytest.mark.parametrize("csv, fragment", [
    (None, "retention.churn.file"),
    ("month,rate\n1,0.01\n", "retention.churn.column"),
    ("month,churn\n1,abc\n", "retention.churn.column"),
])
def test_missing_or_malformed_history_is_a_clean_error(capsys, tmp_path, csv, fragment):
    path = _config_with(tmp_path, 'churn = { dist = "empirical", file = "history.csv", '
                                  'column = "churn" }')
    if csv is not None:
        (path.parent / "history.csv").write_text(csv)
    code, out, err = _main(capsys, path)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: {fragment}: ") and err.count("\n") == 1


def test_configs_never_execute_code(capsys, tmp_path):
    marker = tmp_path / "pwned"
    path = _config_with(tmp_path, f'churn = "__import__(\'os\').system(\'touch {marker}\')"')
    code, _, err = _main(capsys, path)
    assert code == 2 and "retention.churn" in err
    assert not marker.exists()


def test_output_into_a_file_as_directory_is_refused_before_running(capsys, tmp_path):
    blocker = tmp_path / "plain_file"
    blocker.write_text("x")
    code, _, err = _main(capsys, ROOT / "configs" / "base.toml", "--output",
                         blocker / "out.csv")
    assert code == 2 and err.startswith("error: --output: directory")


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("change", [
    ["--months", "600", "--at", "600", "--set", "acquisition.visitor_growth=0.5"],
    ["--set", 'acquisition.visitors={dist="lognormal", mu=7, sigma=24}'],
])
def test_exploding_volume_is_one_line_not_a_numpy_traceback(capsys, tmp_path, change, workers,
                                                            kernel):
    """Valid inputs whose monthly counts outgrow what binomial flows draw exactly (NumPy's
    Poisson refuses means above ~9.2e18; int64 sums wrap long before; the compiled kernel's
    samplers would return nonsense) end with one line naming simulation.flows, also when the
    block ran in a worker process."""
    out = tmp_path / "out.csv"
    code, _, err = _main(capsys, "configs/base.toml", "--paths", "5000", "--workers", workers,
                         "--kernel", kernel, "--output", str(out), *change)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: configs/base.toml: simulation.flows:")
    assert "Traceback" not in err and not out.exists()


def test_config_errors_survive_pickling() -> None:
    """A ConfigError raised in a worker is rebuilt whole in the parent."""
    import pickle

    from simulator import ConfigError

    error = pickle.loads(pickle.dumps(ConfigError("simulation.flows", "too big", "x.toml")))
    assert (error.key, error.reason, error.source) == ("simulation.flows", "too big", "x.toml")
    assert error.line() == "x.toml: simulation.flows: too big"
