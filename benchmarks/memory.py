"""Peak memory of ``simulator.run`` on a big run (1,000,000 paths x 120 months by default).

The parent (:func:`measure`) starts this file as a child process, so that the peak resident
set size belongs to that one run alone. The child loads the benchmark config with the
horizon raised, runs it with one worker, and prints one JSON line: its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``), its RSS after imports (VmHWM before the run), the
seconds taken, or the refusal message when the engine refused the run as too big.
:func:`estimate` asks the engine what it expects to need without allocating anything.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simulator
from simulator.engine import storage

GIB = 2**30


@dataclass(frozen=True)
class Estimate:
    """What the engine expects a run to need, and whether it would refuse it."""

    nbytes: int | None
    source: str
    refused: str | None  # the refusal message, None when the run would go ahead
    storage: str  # "full" or "reduced"


def load_config(path: Path, months: int) -> simulator.Config:
    """The config at ``path`` with its horizon set to ``months``."""
    with open(path, "rb") as handle:
        doc: dict[str, Any] = tomllib.load(handle)
    doc["simulation"]["months"] = months
    doc["simulation"]["report_months"] = sorted({m for m in (12, 24, 36, months) if m <= months})
    return simulator.load_config(doc)


def _storage_bytes(config: simulator.Config, paths: int, chosen: storage.Plan) -> int:
    kept = chosen.kept
    data = (storage.full_bytes(config, paths) if kept is None
            else storage.reduced_bytes(config, paths, len(kept)))
    return int(data + storage.input_bytes(config, paths))


def estimate(config: simulator.Config, paths: int) -> Estimate:
    """The storage plan's own arithmetic (``simulator.storage``: kept trajectories + input
    draws), or the refusal the engine would give."""
    try:
        chosen = storage.plan(config, paths)
    except simulator.ConfigError as error:
        return Estimate(None, "simulator.engine.storage.plan", str(error), "refused")
    kind = "reduced" if chosen.reduced else "full"
    return Estimate(_storage_bytes(config, paths, chosen), "simulator.storage", None, kind)


def _vm_hwm() -> int:
    """This process's peak RSS so far, in bytes (VmHWM)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child(config_path: str, paths: int, months: int) -> dict[str, Any]:
    """Run the big simulation in this process and report on it."""
    config = load_config(Path(config_path), months)
    baseline = _vm_hwm()
    start = time.perf_counter()
    try:
        result = simulator.run(config, paths=paths, seed=1, workers=1)
    except simulator.ConfigError as error:
        return {"refused": str(error), "baseline": baseline}
    seconds = time.perf_counter() - start
    customers = float(result.at("customers", months).mean())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak": peak, "baseline": baseline, "seconds": seconds,
            "reduced": bool(result.reduced), "customers_mean": customers}


def measure(config_path: Path, paths: int, months: int) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its report."""
    command = [sys.executable, __file__, str(config_path), str(paths), str(months)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"error": tail[0]}
    report: dict[str, Any] = json.loads(lines[-1])
    return report


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
