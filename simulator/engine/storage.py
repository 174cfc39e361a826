"""What a run keeps in memory, and the memory budget that decides it.

A run whose trajectories fit in the budget keeps every path's every month. A bigger run
switches to **reduced** storage: exact values for every path at the kept months only (the
report months plus any month asked for by targets or sensitivity), each path's running
minimum of cash at those months (for P(cash < 0 by month m)), cumulative revenue at those
months, and the full trajectories of a fixed sample of paths (the first ``SAMPLE_PATHS``;
paths are exchangeable, so they are a uniform random sample) for the month-by-month bands of
the fan charts. With 10,000 sampled paths, the Dvoretzky-Kiefer-Wolfowitz inequality bounds
the error of every band's probability level by 1.4 percentage points with 95% confidence
(sqrt(ln(2/0.05) / (2 * 10,000)) = 0.0136), whatever the run's size.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass

import numpy as np

from ..config import schema
from ..config.core import Config
from ..config.errors import ConfigError
from ..model.metrics import along_months
from ..model.rows import Target, row_length

SAMPLE_PATHS = 10_000
DEFAULT_BUDGET = 2**30  # bytes of trajectories kept in memory, 1 GiB
BYTES = 8


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


def parse_size(text: str, flag: str = "--memory") -> int:
    """``2GB``, ``512MB``, ``1.5GiB`` or a plain number of bytes -> bytes."""
    units = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
             "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
    cleaned = text.strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    unit = cleaned[len(number):]
    try:
        value = float(number) * units[unit]
    except (ValueError, KeyError):
        raise ConfigError("", f"must be a size such as 2GB or 512MB (got {text!r})",
                          flag) from None
    if value < 10**6:
        raise ConfigError("", f"must be at least 1MB (got {text!r})", flag)
    return int(value)


def stored_metrics(config: Config) -> int:
    """How many (paths, months) arrays a run stores (:func:`schema.stored_names`: every
    metric but the views computed on read, plus each shock's activity)."""
    return len(schema.stored_names(config.stages, config.channel_names, config.segment_names,
                                   tuple(s.name for s in config.depth.shocks)))


def full_bytes(config: Config, paths: int) -> int:
    """Bytes of trajectories a full run keeps."""
    return paths * config.simulation.months * BYTES * stored_metrics(config)


def reduced_bytes(config: Config, paths: int, kept: int) -> int:
    """Bytes a reduced run keeps: kept months for every path (with cumulative revenue and
    the running minimum of cash), plus the sampled paths' trajectories."""
    per_path = kept * (stored_metrics(config) + 2)
    sample = min(paths, SAMPLE_PATHS) * config.simulation.months * stored_metrics(config)
    return (paths * per_path + sample) * BYTES


def input_bytes(config: Config, paths: int) -> int:
    """Per-path input draws (and their uniforms while they are drawn)."""
    return paths * len(config.inputs) * BYTES * 3


@dataclass(frozen=True)
class Plan:
    """How a run stores its results."""

    kept: tuple[int, ...] | None  # None: every month
    sample: int

    @property
    def reduced(self) -> bool:
        return self.kept is not None

    def samples(self, start: int) -> bool:
        """Whether a reduced run keeps whole trajectories of paths from ``start`` on (the
        sampled paths are the first ``sample``)."""
        return self.reduced and start < self.sample


def plan(config: Config, paths: int, keep_months: tuple[int, ...] = (),
         budget: int | None = None) -> Plan:
    """Full storage when it fits in ``budget``, reduced otherwise; refuse (before any
    allocation) a run that does not fit in the machine's memory either way."""
    budget = DEFAULT_BUDGET if budget is None else budget
    if full_bytes(config, paths) <= budget:
        need, chosen = full_bytes(config, paths), Plan(None, 0)
    else:
        kept = tuple(sorted(set(config.simulation.report_months) | set(keep_months)))
        need, chosen = reduced_bytes(config, paths, len(kept)), Plan(kept, SAMPLE_PATHS)
    need += input_bytes(config, paths)
    have = available_memory()
    if need > have:
        raise ConfigError(
            "simulation.paths",
            f"{paths:,} paths x {config.simulation.months} months need about "
            f"{need / 2**30:.1f} GiB even with reduced storage, more than the "
            f"{have / 2**30:.1f} GiB available (lower --paths or --months, or split the run "
            f"over seeds)")
    return chosen


class Storage:
    """Receives blocks of paths and keeps what the plan says."""

    def __init__(self, plan: Plan, names: tuple[str, ...], paths: int, months: int,
                 shared: bool = False) -> None:
        self.plan = plan
        self.paths = paths
        columns = months if plan.kept is None else len(plan.kept)
        # Every (paths, months) array is a month-major row of paths, transposed: a month's
        # paths are contiguous, as the compiled kernel computes them and as percentiles at
        # a month read them. Full storage keeps them all in one array, ``rows[metric, month,
        # path]``, which the compiled kernel writes directly (:meth:`target`); its rows are
        # padded so that successive months do not share the same cache sets.
        self.rows: np.ndarray | None = None
        self.index = {name: i for i, name in enumerate(names)}
        if plan.kept is None:
            stride = row_length(paths)
            count = len(names) * columns * stride
            if shared:
                # one anonymous shared mapping: worker processes forked after this write
                # their blocks straight into it, and nothing is pickled back
                buffer = mmap.mmap(-1, max(count * BYTES, 1))
                flat = np.frombuffer(buffer, dtype=np.float64)[:count]
            else:
                flat = np.empty(count)
            self.rows = flat.reshape(len(names), columns, stride)
            self.data = {name: self.rows[i, :, :paths].T for i, name in enumerate(names)}
        else:
            self.data = {name: np.empty((paths, columns), order="F") for name in names}
        self.running_min: dict[str, np.ndarray] = {}  # "cash"; and "shock:<name>" holds
        # the running maximum of a shock's activity (did it fire by then)
        self.sample: dict[str, np.ndarray] = {}
        if plan.kept is not None:
            self.data["cumulative_revenue"] = np.empty((paths, columns), order="F")
            for name in ("cash", *(n for n in names if n.startswith("shock:"))):
                self.running_min[name] = np.empty((paths, columns), order="F")
            size = min(paths, plan.sample)
            self.sample = {name: np.empty((size, months)) for name in names}

    def views(self, start: int, stop: int) -> dict[str, np.ndarray] | None:
        """Writable views of paths ``start:stop`` for a block to fill in place (full
        storage only)."""
        if self.plan.kept is not None:
            return None
        return {name: array[start:stop] for name, array in self.data.items()}

    def target(self, start: int) -> Target | None:
        """Where the compiled kernel writes the block starting at path ``start`` (full
        storage only)."""
        return None if self.rows is None else Target(self.rows, self.index, start)

    def add(self, start: int, stop: int, part: dict[str, np.ndarray]) -> None:
        """Store the block of paths ``start:stop``, as :func:`reduce_block` left it
        (nothing to do for blocks written in place, which send back nothing)."""
        for name, array in self.data.items():
            if name in part and not np.shares_memory(array[start:stop], part[name]):
                array[start:stop] = part[name]
        if self.plan.kept is None:
            return
        for name, array in self.running_min.items():
            array[start:stop] = part[f"{name}:extreme"]
        for name, array in self.sample.items():
            rows = part.get(f"sample:{name}")
            if rows is not None:
                array[start:start + len(rows)] = rows


def reduce_block(plan: Plan, start: int, part: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What storage keeps of a block starting at path ``start`` (run where the block ran, so
    workers send back only that): kept months, cumulative revenue and running minimum of
    cash at them, and the rows of sampled paths."""
    if plan.kept is None:
        return part
    index = np.asarray(plan.kept) - 1
    months = part["cash"].shape[1]
    # arrays with fewer columns were computed at the kept months only (run_block's only_at)
    out = {name: np.ascontiguousarray(values[:, index]) if values.shape[1] == months
           else values for name, values in part.items()}
    out["cumulative_revenue"] = along_months(np.add, part["mrr"])[:, index]
    out["cash:extreme"] = along_months(np.minimum, part["cash"])[:, index]
    for name in part:
        if name.startswith("shock:"):
            out[f"{name}:extreme"] = along_months(np.maximum, part[name])[:, index]
    if plan.samples(start):
        rows = plan.sample - start
        out.update({f"sample:{name}": values[:rows] for name, values in part.items()})
    return out
