"""Running a config: seeds and blocks of paths, executed as an
:class:`~simulator.engine.execution.Execution` says (here, on the fault-tolerant worker pool
of :mod:`simulator.engine.pool`, or on Dask through :mod:`simulator.engine.remote`).

Paths are simulated in fixed-size blocks. Per-path parameters are drawn once for all paths
(so LHS and Sobol designs span the whole run); each block's flow randomness comes from
streams keyed by (seed, flow, block index), so a seed gives the same numbers whichever
number of workers runs the blocks, in whichever order, and however often a block had to be
run again after its worker died.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

import distributions

from ..config import schema
from ..config.core import Config
from ..model.economics import block_economics
from ..model.events import Shocks
from ..model.flows import BinomialFlows, ExpectedFlows, Flows
from ..model.inversion import InversionFlows
from ..model.params import Draws, Parameters, draw_uniforms
from ..model.rows import Target
from ..model.step import ModelShape, simulate
from . import kernels
from .execution import BLOCK_PATHS as BLOCK_PATHS
from .execution import Execution
from .faults import RunError
from .pool import Pool
from .remote import run_remote
from .results import Result, derive
from .storage import Plan, Storage, plan, reduce_block


def blocks(paths: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(index, start, stop) of each block of ``size`` paths."""
    for index, start in enumerate(range(0, paths, size)):
        yield index, start, min(start + size, paths)


def run_block(shape: ModelShape, flows_kind: str, cac_window: int, params: Parameters,
              seed: int, block: int, out: dict[str, np.ndarray] | None = None,
              only_at: tuple[int, ...] | None = None, events: Shocks | None = None,
              kernel: str = "numpy", target: Target | None = None
              ) -> dict[str, np.ndarray]:
    """Simulate one block of paths and derive its metrics (into ``out`` when given). With
    ``only_at`` (1-based months) the upper funnel and every derived metric are kept at those
    months only, and the upper funnel is drawn only there. ``events``: the block's shocks
    when the caller already has them (they depend on the seed and block only). ``flows_kind``:
    "binomial", "expected", or "inversion" (binomial flows' laws drawn by inversion,
    :mod:`simulator.model.inversion`; goal seek uses it). ``kernel="compiled"`` runs the
    block on the compiled kernel (:mod:`simulator.model.kernel`; it covers no shocks), which
    writes straight into a run's storage when given its ``target``
    (:meth:`~simulator.engine.storage.Storage.target`)."""
    if kernel == "compiled":
        try:
            from ..model.kernel import simulate_block  # imports numba: only when it runs
        except ImportError as err:  # e.g. a Dask worker without the fast extra
            raise RunError(f"the compiled kernel needs numba where the blocks run ({err}): "
                           f"{kernels.INSTALL} there, or use --kernel numpy") from None

        return simulate_block(shape, params, flows_kind == "expected", cac_window, seed,
                              block, out, only_at, target)
    flows: Flows = (BinomialFlows(seed, block) if flows_kind == "binomial" else
                    InversionFlows(seed, block) if flows_kind == "inversion" else
                    ExpectedFlows())
    if events is None and shape.shocks:
        events = Shocks(shape.depth.shocks, seed, block, params.n)
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
    start: int
    storage: Plan
    shared: int | None = None  # key of the run's shared storage (forked workers)
    kernel: str = "numpy"  # "numpy" or "compiled" (see simulator.engine.kernels)

    @property
    def stop(self) -> int:
        return self.start + self.draws.n

    def run(self, out: dict[str, np.ndarray] | None = None,
            storage: Storage | None = None) -> dict[str, np.ndarray]:
        """Simulate the block (into ``out`` when given: views of the run's ``storage``) and
        keep what storage keeps; the block's drawn input values come back under
        ``input:<name>``."""
        # the compiled kernel's runs (numba loaded anyway) take the compiled inverse CDFs
        with distributions.compiled_paths(self.kernel == "compiled"):
            params = self.draws.parameters()
        # a reduced run keeps whole trajectories only for the sampled paths (the first
        # ones); the other blocks need their kept months only
        only_kept = self.storage.reduced and not self.storage.samples(self.start)
        part = run_block(self.shape, self.flows, self.cac_window, params, self.seed,
                         self.index, out, self.storage.kept if only_kept else None,
                         kernel=self.kernel,
                         target=storage.target(self.start) if storage is not None
                         and self.kernel == "compiled" else None)
        kept = {} if out is not None else reduce_block(self.storage, self.start, part)
        kept.update({f"input:{name}": np.asarray(params.whole(name))
                     for name in self.draws.inputs})
        return kept


#: Shared storage of runs in progress, by key: worker processes forked while a run is in
#: progress inherit it and write their blocks into it in place.
_SHARED: dict[int, Storage] = {}


def _run_job(job: BlockJob) -> dict[str, np.ndarray]:
    if job.shared is not None and job.shared in _SHARED:
        storage = _SHARED[job.shared]
        return job.run(storage.views(job.start, job.stop), storage)
    return job.run()


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy (a run that draws one keeps it as
    :attr:`Result.seed <simulator.Result.seed>` and says so in ``Result.seed_drawn``)."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


Progress = Callable[[int, int], None]


def model_shape(config: Config, shocks: bool = True) -> ModelShape:
    """What the monthly step of ``config`` needs besides the drawn parameters."""
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
    out = run_block(model_shape(config, shocks=False), "expected", config.cac_window,
                    Parameters(means, 1), 0, 0)
    return {name: derive(name, out, config.stages, {})[0] for name in config.metrics}


def run(config: Config, paths: int | None = None, seed: int | None = None, *,
        workers: int | str | None = None, memory: int | None = None, client: Any = None,
        execution: Execution | None = None, progress: Progress | None = None,
        keep_months: tuple[int, ...] = ()) -> Result:
    """Simulate ``config``; ``paths`` and ``seed`` default to the config's values.

    Parameters
    ----------
    config
        A validated config from :func:`simulator.load_config`.
    paths, seed
        Override the config's ``[simulation]`` values. A seed that is None in both is drawn
        (``result.seed`` holds it, and ``result.seed_drawn`` is True).
    workers, memory, client
        Shorthands for the fields of an :class:`~simulator.engine.execution.Execution`
        (processes, memory budget in bytes, a ``dask.distributed.Client``); give either
        these or ``execution``. The numbers depend on none of them.
    execution
        How the run executes (see :class:`~simulator.engine.execution.Execution`).
    progress
        Called as ``progress(paths_done, paths_total)`` after each block.
    keep_months
        Months a reduced run keeps exactly besides the report months.

    Raises
    ------
    simulator.engine.faults.RunError
        A block's worker process died twice, or the Dask scheduler went away.
    """
    if execution is None:
        execution = Execution(1 if workers is None else workers, memory, client)
    elif (workers, memory, client) != (None, None, None):
        raise TypeError("give either execution or workers/memory/client, not both")
    sim = config.simulation
    n = sim.paths if paths is None else int(paths)
    if n < 1:
        raise ValueError(f"paths must be >= 1 (got {n})")
    storage_plan = plan(config, n, keep_months, execution.memory)
    drawn_seed = seed is None and sim.seed is None
    if seed is None:
        seed = draw_seed() if sim.seed is None else sim.seed
    draws = draw_uniforms(config, n, seed)
    shape = model_shape(config)
    choice = kernels.choose(config, shape)
    jobs = [BlockJob(shape, sim.flows, config.cac_window, draws.block(start, stop), seed,
                     index, start, storage_plan, kernel=choice.kernel)
            for index, start, stop in blocks(n, execution.block_paths)]
    parallel = execution.processes(len(jobs)) > 1
    if parallel and choice.kernel == "compiled":
        kernels.warm_up(config)  # once, before the workers fork
    storage = Storage(storage_plan, stored_names(shape), n, sim.months,
                      shared=parallel and _fork_context() is not None)
    done = 0
    drawn: dict[str, np.ndarray] = {}
    for index, part in _execute(jobs, execution, storage):
        job = jobs[index]
        storage.add(job.start, job.stop, part)
        for name, values in part.items():
            if name.startswith("input:"):
                drawn.setdefault(name[6:], np.empty((n, *values.shape[1:])))[
                    job.start:job.stop] = values
        done += job.draws.n
        if progress is not None:
            progress(done, n)
    params = Parameters({**draws.constants, **drawn}, n)
    result = Result(config, storage, params, seed, seed_drawn=drawn_seed)
    result.kernel = choice
    return result


def stored_names(shape: ModelShape) -> tuple[str, ...]:
    """The arrays each block produces and a run stores."""
    return schema.stored_names(shape.stages, shape.channels,
                               tuple(s.name for s in shape.depth.segments),
                               tuple(s.name for s in shape.depth.shocks))


def _execute(jobs: list[BlockJob], execution: Execution, storage: Storage
             ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``(block index, block result)`` as blocks finish: in this process (written straight
    into the storage when it keeps everything), on forked worker processes (into shared
    storage when it keeps everything), or on Dask."""
    if execution.client is not None:
        yield from run_remote(execution.client, _run_job, jobs, execution.scheduler_timeout)
        return
    n_workers = execution.processes(len(jobs))
    if n_workers <= 1:
        for index, job in enumerate(jobs):
            yield index, job.run(storage.views(job.start, job.stop), storage)
        return
    import multiprocessing

    context = _fork_context()
    key = id(storage)
    if context is not None and not storage.plan.reduced:
        _SHARED[key] = storage
        jobs = [replace(job, shared=key) for job in jobs]
    pool = Pool(n_workers, _run_job, context or multiprocessing.get_context(),
                describe=lambda index: (jobs[index].start, jobs[index].stop))
    try:
        yield from pool.imap_unordered(jobs)
    finally:
        _SHARED.pop(key, None)


def _fork_context() -> Any:
    """The fork start method where the platform has it (workers then inherit the shared
    storage), else None (the default)."""
    import multiprocessing

    if sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None
