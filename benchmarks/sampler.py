"""Benchmark of ``distributions.sample_joint`` (issue 14, item 4): 20 inputs (beta, lognormal
and PERT) x N draws, without and with ten rank correlations.

    python benchmarks/sampler.py                 # 1,000,000 draws, best of 3
    python benchmarks/sampler.py --draws 100000
    python benchmarks/sampler.py --numpy         # the NumPy paths, as without numba

Prints wall and CPU seconds of each call, the parts of the time (the design's uniforms, the
inputs' inverse CDFs, the rank correlation step), and whether the goal is met: both calls in
under 2 s wall. The first call (numba's import and cached machine code, the shape tables) is
timed apart and left out of the best.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import distributions
from distributions import _compiled
from distributions.joint import _map, correlate, design_uniforms

KINDS: tuple[dict[str, Any], ...] = (
    {"dist": "beta", "mean": 0.2, "sd": 0.04},
    {"dist": "lognormal", "mean": 1500, "sd": 250},
    {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
)
SPECS = {f"x{i:02d}": KINDS[i % 3] for i in range(20)}
PAIRS = {(f"x{2 * i:02d}", f"x{2 * i + 1:02d}"): 0.3 for i in range(10)}
GOAL = 2.0  # seconds of wall time for each sample_joint call


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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--numpy", action="store_true",
                        help="the NumPy paths (as on a machine without numba)")
    args = parser.parse_args(argv)
    if args.numpy:
        _compiled.available = lambda: False  # type: ignore[method-assign]
    n = args.draws
    path = ("NumPy paths" if not _compiled.wanted(n) else
            f"compiled paths (numba {__import__('numba').__version__})")
    print(f"{path}; {n:,} draws; best of {args.repeat}")
    dists = {name: distributions.parse(spec) for name, spec in SPECS.items()}
    uniforms = design_uniforms(list(SPECS), n, 1)
    names = list(dists)
    plain = lambda: distributions.sample_joint(SPECS, n, seed=1)  # noqa: E731
    correlated = lambda: distributions.sample_joint(SPECS, n, seed=1,  # noqa: E731
                                                    correlations=PAIRS)
    first, _ = timed(correlated, 1)
    print(f"first call (imports, compiled code, shape tables): {first:.2f} s wall\n")
    rows = [
        ("sample_joint, 20 inputs", plain),
        ("sample_joint, 20 inputs, 10 correlations", correlated),
        ("  of which: the design's uniforms", lambda: design_uniforms(names, n, 1)),
        ("  of which: the 20 inverse CDFs",
         lambda: _map(lambda name: dists[name].ppf(uniforms[name]), names, n)),
        ("  of which: the rank correlation step", lambda: correlate(uniforms, PAIRS, 1)),
    ]
    print(f"{'call':<44} {'draws':>10} {'wall s':>8} {'cpu s':>8}")
    walls = []
    for label, fn in rows:
        wall, cpu = timed(fn, args.repeat)
        walls.append(wall)
        print(f"{label:<44} {n:>10,} {wall:>8.2f} {cpu:>8.2f}", flush=True)
    slowest = max(walls[:2])
    verdict = "met" if slowest < GOAL else "NOT met"
    print(f"\ngoal: both sample_joint calls under {GOAL:g} s wall: {verdict} "
          f"(slowest {slowest:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
