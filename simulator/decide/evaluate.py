"""Run one config again and again with a few inputs changed, paying once for what stays fixed.

A goal seek or an allocation evaluates the same paths many times. Between evaluations the
seed, the paths' uniforms and drawn inputs, the shocks and the block layout stay the same
(common random numbers); only the changed inputs' values and the month loop are redone, up
to the month asked about. With the default ``sampler="numpy"`` each evaluation gives exactly
the numbers :func:`simulator.run` gives for the changed config at that month; with
``sampler="inversion"`` binomial flows draw their counts by inversion
(:class:`~simulator.model.inversion.InversionFlows`: the same law, other numbers), so each
path's counts are monotone in its means and depend on that path alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ..config.core import Config
from ..engine import kernels
from ..engine.results import derive
from ..engine.runner import BLOCK_PATHS, blocks, draw_seed, model_shape, run_block
from ..model.events import Shocks
from ..model.params import Parameters, Value, draw_uniforms

#: Metrics whose value in a month depends on later months (they look ahead to the horizon):
#: evaluating them needs the whole horizon; every other metric is simulated up to its month.
HORIZON_DEPENDENT = frozenset({"runway_months", "cohort_payback_months"})
#: How binomial flows draw their counts (see :class:`Evaluator`).
SAMPLERS = ("numpy", "inversion")


class Replay(Shocks):
    """A block's shocks, drawn once and replayed month by month for every evaluation."""

    def __init__(self, shocks: Shocks, months: int) -> None:
        self.record = [shocks.month() for _ in range(months)]
        self.cursor = 0

    def month(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The recorded month after the last one replayed."""
        self.cursor += 1
        return self.record[self.cursor - 1]

    def rewind(self) -> Replay:
        """Start again from month 1."""
        self.cursor = 0
        return self


@dataclass(frozen=True)
class Outcome:
    """One evaluation: each path's value of the metrics read at the month, and its sum of the
    flows totalled over months 1..month."""

    values: Mapping[str, np.ndarray]
    totals: Mapping[str, np.ndarray]

    def at(self, metric: str) -> np.ndarray:
        """Every path's value of ``metric`` at the month asked about."""
        return self.values[metric]

    def through(self, flow: str) -> np.ndarray:
        """Every path's sum of a monthly flow (e.g. ``paid.new_customers``) over months
        1..month."""
        return self.totals[flow]


class Evaluator:
    """The fixed part of repeated runs of ``config`` at ``month`` (see the module doc).

    Parameters
    ----------
    config
        A validated config.
    month
        The month asked about (1-based).
    paths, seed
        As for :func:`simulator.run` (None: the config's; a seed must then be in the config
        or is drawn and printed).
    flows
        "binomial" or "expected" (None: the config's).
    sampler
        How binomial flows draw counts: "numpy" (as :func:`simulator.run`, on the kernel
        it would choose: :mod:`simulator.engine.kernels`) or "inversion"
        (:class:`~simulator.model.inversion.InversionFlows`, on the NumPy kernel). Expected
        flows ignore it.
    metrics
        The metrics read at ``month`` (:meth:`Outcome.at`); one that looks ahead keeps the
        whole horizon.
    totals
        The monthly flows summed over months 1..month (:meth:`Outcome.through`).

    Only these are kept of each block, so memory grows with the paths, not the months.
    """

    def __init__(self, config: Config, month: int, *, paths: int | None = None,
                 seed: int | None = None, flows: str | None = None,
                 metrics: tuple[str, ...] = (), totals: tuple[str, ...] = (),
                 sampler: str = "numpy") -> None:
        sim = config.simulation
        self.config = config
        self.month = month
        self.paths = sim.paths if paths is None else int(paths)
        self.seed = seed if seed is not None else (sim.seed if sim.seed is not None
                                                   else draw_seed())
        self.flows = flows or sim.flows
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, not {sampler!r}")
        #: the flows run_block builds: "expected", "binomial" or "inversion"
        self.kind = "inversion" if self.flows == "binomial" and sampler == "inversion" \
            else self.flows
        self.metrics = metrics
        self.totals = totals
        self.months = sim.months if HORIZON_DEPENDENT & set(metrics) else month
        self.draws = draw_uniforms(config, self.paths, self.seed)
        self.base = self.draws.parameters()
        shape = model_shape(config)
        #: the kernel of the blocks: the run's, but inversion is drawn by the NumPy kernel
        self.kernel = "numpy" if self.kind == "inversion" else kernels.choose(config,
                                                                               shape).kernel
        self.shape = replace(shape, months=self.months)
        self.layout = tuple(blocks(self.paths, BLOCK_PATHS))
        self.shocks = [Replay(Shocks(config.depth.shocks, self.seed, index, stop - start),
                              self.months) for index, start, stop in self.layout]
        self.evaluations = 0

    def value(self, name: str) -> Value:
        """The base value of input ``name`` (a number, or one per path)."""
        return self.base.whole(name)

    def scaled(self, name: str, factor: Value) -> np.ndarray:
        """Input ``name`` with every draw times ``factor`` (a number or one per path)."""
        return self.draws.scaled(self.config.inputs[name], factor)

    def run(self, changes: Mapping[str, Value]) -> Outcome:
        """Simulate every path with the inputs in ``changes`` set to the given values (a
        number, or one per path)."""
        values = dict(self.base.values)
        values.update(changes)
        params = Parameters(values, self.paths)
        read: dict[str, list[np.ndarray]] = {name: [] for name in self.metrics}
        summed: dict[str, list[np.ndarray]] = {name: [] for name in self.totals}
        for (index, start, stop), shocks in zip(self.layout, self.shocks, strict=True):
            part = run_block(self.shape, self.kind, self.config.cac_window,
                             params.block(start, stop), self.seed, index,
                             only_at=(self.month,), events=shocks.rewind(),
                             kernel=self.kernel)
            for name, columns in read.items():
                array = derive(name, part, self.config.stages, {})
                # arrays with fewer columns than the horizon were kept at the month only
                columns.append(array[:, self.month - 1] if array.shape[1] == self.months
                               else array[:, 0])
            for name, columns in summed.items():
                columns.append(part[name][:, : self.month].sum(axis=1))
        self.evaluations += 1
        return Outcome({k: np.concatenate(v) for k, v in read.items()},
                       {k: np.concatenate(v) for k, v in summed.items()})
