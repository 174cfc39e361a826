"""Running a config: seeds, blocks of paths, workers.

Paths are simulated in fixed-size blocks. Per-path parameters are drawn once for all paths
(so LHS and Sobol designs span the whole run); each block's flow randomness comes from
streams keyed by (seed, flow, block index), so a seed gives the same numbers whichever
number of workers runs the blocks, in whichever order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

import numpy as np

from .config import Config
from .errors import ConfigError
from .metrics import unit_economics
from .model import BinomialFlows, ExpectedFlows, Flows, ModelShape, simulate
from .params import Parameters, draw_parameters
from .results import Result

BLOCK_PATHS = 8192


def _blocks(paths: int, size: int) -> Iterator[tuple[int, int, int]]:
    for index, start in enumerate(range(0, paths, size)):
        yield index, start, min(start + size, paths)


def run_block(shape: ModelShape, flows_kind: str, cac_window: int, params: Parameters,
              seed: int, block: int) -> dict[str, np.ndarray]:
    """Simulate one block of paths and derive its metrics."""
    flows: Flows = BinomialFlows(seed, block) if flows_kind == "binomial" else ExpectedFlows()
    out = simulate(shape, params, flows)
    new_customers = out[shape.stages[-1]]
    out.update(unit_economics(out["sm_spend"], new_customers, params.whole("revenue.arpa"),
                              params.whole("revenue.gross_margin"),
                              params.whole("retention.churn"), cac_window))
    return out


def _run_block_args(args: tuple[ModelShape, str, int, Parameters, int, int]
                    ) -> dict[str, np.ndarray]:
    return run_block(*args)


def resolve_workers(workers: int | str | None) -> int:
    """``None`` -> 1, ``"auto"`` -> all cores, else the integer itself (>= 1)."""
    if workers is None:
        return 1
    if workers == "auto":
        return os.cpu_count() or 1
    return max(1, int(workers))


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def estimate_bytes(config: Config, paths: int) -> int:
    """Peak bytes a run keeps: every metric's (paths, months) float64 trajectories, the
    per-path inputs, and a block's working arrays counted twice while they are joined."""
    months = config.simulation.months
    metrics = len(config.stages) + 14
    trajectories = paths * months * 8 * metrics
    inputs = paths * 8 * len(config.inputs) * 3
    return int(trajectories * 1.2 + inputs)


def check_memory(config: Config, paths: int, budget: int | None = None) -> None:
    """Refuse, before allocating anything, a run that cannot fit in memory."""
    need = estimate_bytes(config, paths)
    have = budget if budget is not None else available_memory()
    if need > have:
        raise ConfigError(
            "simulation.paths",
            f"{paths:,} paths x {config.simulation.months} months need about "
            f"{need / 2**30:.1f} GiB, more than the {have / 2**30:.1f} GiB available "
            f"(lower --paths or --months, or split the run with different seeds)")


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy, printed to stderr so it can be reused."""
    seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    print(f"seed: {seed} (drawn; pass --seed {seed} to repeat this run)", file=sys.stderr)
    return seed


Progress = Callable[[int, int], None]


def _shape(config: Config) -> ModelShape:
    return ModelShape(config.stages, config.simulation.months,
                      float(config.inputs["revenue.arpa"].dist.mean()),
                      "start.mrr" in config.inputs)


def plan_line(config: Config) -> dict[str, np.ndarray]:
    """The deterministic plan: expected flows with every input at its mean; each metric as
    an array of shape (months,)."""
    means: dict[str, float | np.ndarray] = {name: float(inp.dist.mean())
                                            for name, inp in config.inputs.items()}
    out = run_block(_shape(config), "expected", config.cac_window, Parameters(means, 1), 0, 0)
    line = {name: values[0] for name, values in out.items()}
    line["new_customers"] = line[config.stages[-1]]
    line["arr"] = 12.0 * line["mrr"]
    line["revenue"] = line["mrr"]
    line["cumulative_revenue"] = np.cumsum(line["mrr"])
    return line


def run(config: Config, paths: int | None = None, seed: int | None = None,
        workers: int | str | None = None, progress: Progress | None = None) -> Result:
    """Simulate ``config``; ``paths`` and ``seed`` default to the config's values.

    Parameters
    ----------
    config
        A validated config from :func:`simulator.load_config`.
    paths, seed
        Override the config's ``[simulation]`` values. A seed that is None in both is drawn
        and printed to stderr.
    workers
        Processes that run blocks in parallel (1, an integer, or ``"auto"`` for all cores).
        The numbers do not depend on it.
    progress
        Called as ``progress(paths_done, paths_total)`` after each block.
    """
    sim = config.simulation
    n = sim.paths if paths is None else int(paths)
    if n < 1:
        raise ValueError(f"paths must be >= 1 (got {n})")
    check_memory(config, n)
    if seed is None:
        seed = sim.seed if sim.seed is not None else draw_seed()
    params = draw_parameters(config, n, seed)
    shape = _shape(config)
    jobs = [(shape, sim.flows, config.cac_window, params.block(start, stop), seed, index)
            for index, start, stop in _blocks(n, BLOCK_PATHS)]
    n_workers = min(resolve_workers(workers), len(jobs))
    parts = []
    done = 0
    with ProcessPoolExecutor(max_workers=n_workers) if n_workers > 1 else nullcontext() as pool:
        outputs = pool.map(_run_block_args, jobs) if pool else map(_run_block_args, jobs)
        for job, part in zip(jobs, outputs, strict=True):
            parts.append(part)
            done += job[3].n
            if progress is not None:
                progress(done, n)
    if len(parts) == 1:
        trajectories = parts[0]
    else:
        trajectories = {name: np.concatenate([part[name] for part in parts])
                        for name in parts[0]}
    return Result(config, trajectories, params, seed)
