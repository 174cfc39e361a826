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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..config import schema
from ..config.core import Config
from ..model.economics import block_economics
from ..model.events import Shocks
from ..model.flows import BinomialFlows, ExpectedFlows, Flows
from ..model.params import Draws, Parameters, draw_uniforms
from ..model.step import ModelShape, simulate
from . import kernels
from .results import Result, derive
from .storage import Plan, Storage, plan, reduce_block

BLOCK_PATHS = 4096


def _blocks(paths: int, size: int) -> Iterator[tuple[int, int, int]]:
    for index, start in enumerate(range(0, paths, size)):
        yield index, start, min(start + size, paths)


def run_block(shape: ModelShape, flows_kind: str, cac_window: int, params: Parameters,
              seed: int, block: int, out: dict[str, np.ndarray] | None = None,
              only_at: tuple[int, ...] | None = None, kernel: str = "numpy"
              ) -> dict[str, np.ndarray]:
    """Simulate one block of paths and derive its metrics (into ``out`` when given). With
    ``only_at`` (1-based months) the upper funnel and every derived metric are kept at those
    months only, and the upper funnel is drawn only there. ``kernel="compiled"`` runs the
    block on the compiled kernel (:mod:`simulator.model.kernel`)."""
    if kernel == "compiled":
        from ..model.kernel import simulate_block  # imports numba: only when it runs

        return simulate_block(shape, params, flows_kind == "expected", cac_window, seed,
                              block, out, only_at)
    flows: Flows = BinomialFlows(seed, block) if flows_kind == "binomial" else ExpectedFlows()
    events = Shocks(shape.depth.shocks, seed, block, params.n) if shape.shocks else None
    out = simulate(shape, params, flows, events, out, only_at or ())
    for name, values in block_economics(shape, params, out, cac_window, flows.integer_counts,
                                        only_at).items():
        if name in out:
            out[name][...] = values
        else:
            out[name] = values
    return out


@dataclass(frozen=True)
class BlockJob:
    """One block of paths: everything a worker needs to simulate it."""

    shape: ModelShape
    flows: str
    cac_window: int
    draws: Draws
    seed: int
    index: int
    storage: Plan
    shared: int | None = None  # key of the run's shared storage (forked workers)
    kernel: str = "numpy"  # "numpy" or "compiled" (see simulator.engine.kernels)

    @property
    def start(self) -> int:
        return self.index * BLOCK_PATHS

    @property
    def stop(self) -> int:
        return self.start + self.draws.n

    def run(self, out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Simulate the block (into ``out`` when given) and keep what storage keeps; the
        block's drawn input values come back under ``input:<name>``."""
        params = self.draws.parameters()
        # a reduced run keeps whole trajectories only for the sampled paths (the first
        # ones); the other blocks need their kept months only
        only_kept = self.storage.reduced and not self.storage.samples(self.start)
        part = run_block(self.shape, self.flows, self.cac_window, params, self.seed,
                         self.index, out, self.storage.kept if only_kept else None,
                         self.kernel)
        kept = {} if out is not None else reduce_block(self.storage, self.start, part)
        kept.update({f"input:{name}": np.asarray(params.whole(name))
                     for name in self.draws.inputs})
        return kept


#: Shared storage of runs in progress, by key: worker processes forked while a run is in
#: progress inherit it and write their blocks into it in place.
_SHARED: dict[int, Storage] = {}


def _run_job(job: BlockJob) -> dict[str, np.ndarray]:
    if job.shared is not None and job.shared in _SHARED:
        return job.run(_SHARED[job.shared].views(job.start, job.stop))
    return job.run()


def resolve_workers(workers: int | str | None) -> int:
    """``None`` -> 1, ``"auto"`` -> all cores, else the integer itself (>= 1)."""
    if workers is None:
        return 1
    if workers == "auto":
        return os.cpu_count() or 1
    return max(1, int(workers))


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy, printed to stderr so it can be reused."""
    seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    print(f"seed: {seed} (drawn; pass --seed {seed} to repeat this run)", file=sys.stderr)
    return seed


Progress = Callable[[int, int], None]


def _shape(config: Config, shocks: bool = True) -> ModelShape:
    return ModelShape(config.stages, config.simulation.months,
                      float(config.inputs["revenue.arpa"].dist.mean()),
                      "start.mrr" in config.inputs, config.depth, config.channel_names, shocks,
                      tuple(float(config.inputs[s.arpa].dist.mean())
                            for s in config.depth.segments))


def plan_line(config: Config) -> dict[str, np.ndarray]:
    """The deterministic plan: expected flows with every input at its mean and no shocks;
    each metric as an array of shape (months,)."""
    means: dict[str, float | np.ndarray] = {name: float(inp.dist.mean())
                                            for name, inp in config.inputs.items()}
    out = run_block(_shape(config, shocks=False), "expected", config.cac_window,
                    Parameters(means, 1), 0, 0)
    return {name: derive(name, out, config.stages, {})[0] for name in config.metrics}


def run(config: Config, paths: int | None = None, seed: int | None = None,
        workers: int | str | None = None, progress: Progress | None = None,
        memory: int | None = None, keep_months: tuple[int, ...] = (),
        client: Any = None) -> Result:
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
    memory
        Bytes of trajectories the result may keep (default 1 GiB); a bigger run keeps the
        report months and ``keep_months`` exactly, and a sample of paths for the bands
        (see :mod:`simulator.engine.storage`).
    client
        A ``dask.distributed.Client``: the blocks run on its cluster (same numbers).
    """
    sim = config.simulation
    n = sim.paths if paths is None else int(paths)
    if n < 1:
        raise ValueError(f"paths must be >= 1 (got {n})")
    storage_plan = plan(config, n, keep_months, memory)
    if seed is None:
        seed = sim.seed if sim.seed is not None else draw_seed()
    draws = draw_uniforms(config, n, seed)
    shape = _shape(config)
    choice = kernels.choose(config, shape)
    jobs = [BlockJob(shape, sim.flows, config.cac_window, draws.block(start, stop), seed, index,
                     storage_plan, kernel=choice.kernel)
            for index, start, stop in _blocks(n, BLOCK_PATHS)]
    parallel = client is None and min(resolve_workers(workers), len(jobs)) > 1
    storage = Storage(storage_plan, stored_names(shape), n, sim.months,
                      shared=parallel and _fork_context() is not None)
    done = 0
    drawn: dict[str, np.ndarray] = {}
    for job, part in zip(jobs, _execute(jobs, workers, client, storage), strict=True):
        storage.add(job.start, job.stop, part)
        for name, values in part.items():
            if name.startswith("input:"):
                drawn.setdefault(name[6:], np.empty((n, *values.shape[1:])))[
                    job.start:job.stop] = values
        done += job.draws.n
        if progress is not None:
            progress(done, n)
    params = Parameters({**draws.constants, **drawn}, n)
    result = Result(config, storage, params, seed)
    result.kernel = choice
    return result


def stored_names(shape: ModelShape) -> tuple[str, ...]:
    """The arrays each block produces and a run stores."""
    return schema.stored_names(shape.stages, shape.channels,
                               tuple(s.name for s in shape.depth.segments),
                               tuple(s.name for s in shape.depth.shocks))


def _execute(jobs: list[BlockJob], workers: int | str | None, client: Any, storage: Storage
             ) -> Iterator[dict[str, np.ndarray]]:
    """Block results in block order: in this process (written straight into the storage
    when it keeps everything), in worker processes, or on Dask."""
    if client is not None:
        futures = client.map(_run_job, jobs, pure=False)
        for future in futures:
            yield future.result()
            future.release()
        return
    n_workers = min(resolve_workers(workers), len(jobs))
    if n_workers <= 1:
        for job in jobs:
            yield job.run(storage.views(job.start, job.stop))
        return
    context = _fork_context()
    key = id(storage)
    if context is not None and not storage.plan.reduced:
        _SHARED[key] = storage
        jobs = [replace(job, shared=key) for job in jobs]
    try:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
            yield from pool.map(_run_job, jobs)
    finally:
        _SHARED.pop(key, None)


def _fork_context() -> Any:
    """The fork start method where the platform has it (workers then inherit the shared
    storage), else None (the default)."""
    import multiprocessing

    if sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None
