"""Benchmark of ``distributions.sample_joint`` (issue 14, item 4): 20 inputs (beta, lognormal
and PERT) x N draws, without and with ten rank correlations.

    python benchmarks/sampler.py                 # 1,000,000 draws, best of 2
    python benchmarks/sampler.py --draws 100000

Prints wall and CPU seconds of each call, and the share of the time spent in the inverse CDFs
(the same uniforms mapped by each input's ``ppf`` alone).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import distributions
from distributions.joint import correlate, design_uniforms

KINDS: tuple[dict[str, Any], ...] = (
    {"dist": "beta", "mean": 0.2, "sd": 0.04},
    {"dist": "lognormal", "mean": 1500, "sd": 250},
    {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
)
SPECS = {f"x{i:02d}": KINDS[i % 3] for i in range(20)}
PAIRS = {(f"x{2 * i:02d}", f"x{2 * i + 1:02d}"): 0.3 for i in range(10)}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The best wall and CPU seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.draws
    dists = {name: distributions.parse(spec) for name, spec in SPECS.items()}
    uniforms = design_uniforms(list(SPECS), n, 1)
    rows = [
        ("sample_joint, 20 inputs", lambda: distributions.sample_joint(SPECS, n, seed=1)),
        ("sample_joint, 20 inputs, 10 correlations",
         lambda: distributions.sample_joint(SPECS, n, seed=1, correlations=PAIRS)),
        ("  of which: the 20 inverse CDFs",
         lambda: [dist.ppf(uniforms[name]) for name, dist in dists.items()]),
        ("  of which: the rank correlation step", lambda: correlate(uniforms, PAIRS, 1)),
    ]
    print(f"{'call':<44} {'draws':>10} {'wall s':>8} {'cpu s':>8}")
    for label, fn in rows:
        wall, cpu = timed(fn, args.repeat)
        print(f"{label:<44} {n:>10,} {wall:>8.2f} {cpu:>8.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
