"""Safe outputs: atomic writes, interrupted runs, unwritable targets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.io import atomic_write

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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_no_file(tmp_path, sig):
    out = tmp_path / "big.csv"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from simulator.cli import main; main()",
         str(ROOT / "configs" / "base.toml"), "--paths", "1000000", "--output", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(4.0)
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
