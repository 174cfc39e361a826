"""How long a decision takes: goal seek, budget allocation and first-order variance shares on
the example configs at their default paths (10,000), one process.

Each row is timed once after a warm-up call at 300 paths (imports, first-call costs), and
shows wall-clock seconds, the process's CPU seconds (on a shared machine wall time includes
waiting for a core; CPU time is what the work cost), the runs of the model the decision made,
and what the same runs would cost as full ``simulator.run`` calls (runs x one full run's CPU
seconds): what the evaluator saves by drawing the inputs and shocks once and simulating only
up to the month asked about.

    python benchmarks/decide.py            # every row, about a minute
    python benchmarks/decide.py --quick    # 2,000 paths: a smoke test
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import simulator
from simulator.review.variance import first_order_shares

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _full_run_cpu(config: simulator.Config, paths: int) -> float:
    simulator.run(config, paths=300)
    return _timed(lambda: simulator.run(config, paths=paths))[2]


def rows(paths: int) -> list[tuple[str, Callable[[int], Any], str]]:
    """(label, call with a path count, config name)."""
    return [
        ("solve: visitors for P(customers@24 >= 100) >= 80%",
         lambda n: simulator.solve(simulator.load_config(CONFIGS / "base.toml"),
                                   "customers@24>=100", 0.8, "acquisition.visitors", paths=n),
         "base.toml"),
        ("solve: largest marketing with P(cac_payback@12 <= 12) >= 60%",
         lambda n: simulator.solve(simulator.load_config(CONFIGS / "base.toml"),
                                   "cac_payback_months@12<=12", 0.6, "costs.marketing",
                                   paths=n),
         "base.toml"),
        ("solve: paid search spend for P(mrr@12 >= 200k) >= 50%",
         lambda n: simulator.solve(simulator.load_config(CONFIGS / "smb_multichannel.toml"),
                                   "mrr@12>=200000", 0.5, "channels.paid_search.spend",
                                   within="0.1x:5x", paths=n),
         "smb_multichannel.toml"),
        ("allocate: 5 channels, mean of customers@12",
         lambda n: simulator.allocate(CONFIGS / "paid_mix.toml", 40000, "customers@12",
                                      paths=n),
         "paid_mix.toml"),
        ("allocate: 5 channels, p10 of cash@24",
         lambda n: simulator.allocate(CONFIGS / "paid_mix.toml", 40000, "cash@24",
                                      statistic="p10", paths=n),
         "paid_mix.toml"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 paths")
    args = parser.parse_args(argv)
    paths = 2000 if args.quick else 10000
    print(f"{paths:,} paths; seconds: wall / CPU; 'as full runs': the same number of runs "
          f"as simulator.run calls (CPU)")
    print(f"{'decision':62} {'wall':>6} {'cpu':>6} {'runs':>5} {'as full runs':>13}")
    full: dict[str, float] = {}
    for label, call, name in rows(paths):
        if name not in full:
            full[name] = _full_run_cpu(simulator.load_config(CONFIGS / name), paths)
        call(300)
        answer, wall, cpu = _timed(lambda call=call: call(paths))
        runs = answer.evaluations
        print(f"{label:62} {wall:6.2f} {cpu:6.2f} {runs:5d} {runs * full[name]:12.1f}s",
              flush=True)
    result = simulator.run(simulator.load_config(CONFIGS / "base.toml"), paths=paths)
    shares, wall, cpu = _timed(lambda: first_order_shares(result, "customers", 24))
    print(f"{'first-order shares of customers@24, 200 bootstraps':62} {wall:6.2f} {cpu:6.2f}"
          f" {'-':>5} {'-':>13}")
    print("full simulator.run of each config, CPU seconds: "
          + ", ".join(f"{k} {v:.2f}" for k, v in full.items()))


if __name__ == "__main__":
    main()
