"""A run's result: every path's trajectory of every metric, and pandas views on top.

Infinite values (CAC with no customer won, LTV with zero churn) stay infinite: percentiles
interpolate linearly as numpy does, except that interpolating toward +inf gives +inf, and a
mean over paths with any inf is inf.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import schema
from .kernels import KernelChoice

if TYPE_CHECKING:
    from ..config.core import Config
    from ..model.params import Parameters
    from .storage import Storage

#: The headline probabilities: label -> (metric, comparison, threshold).
HEADLINES: tuple[tuple[str, str, str, float], ...] = (
    ("P(cac_payback_months <= 12)", "cac_payback_months", "<=", 12.0),
    ("P(ltv_to_cac >= 3)", "ltv_to_cac", ">=", 3.0),
    ("P(cash < 0 by then)", "cash", "ever<", 0.0),
)


def percentile_label(q: float) -> str:
    """``5.0`` -> ``"p5"``, ``12.5`` -> ``"p12.5"``."""
    return f"p{q:g}"


def path_mean(values: np.ndarray) -> float:
    """The mean over paths: inf when any path is inf, or when the sum overflows.

    >>> path_mean(np.array([1e308, 1e308]))
    inf
    """
    with np.errstate(over="ignore"):
        return float(np.mean(values))


def percentiles(values: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Percentiles of ``values`` (numpy's linear interpolation) that keep infinities.

    >>> percentiles(np.array([1.0, 2.0, np.inf]), [25, 50, 75, 100])
    array([1.5, 2. , inf, inf])
    """
    q = np.asarray(qs, dtype=np.float64)
    n = np.size(values)
    position = q / 100.0 * (n - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n - 1)
    frac = position - low
    # the order statistics needed in place (cheaper than a full sort)
    x = np.partition(np.asarray(values, dtype=np.float64).ravel(),
                     np.unique(np.concatenate([low, high])))
    lo, hi = x[low], x[high]
    with np.errstate(invalid="ignore"):
        out = np.percentile(x, q)
    out = np.where(frac == 0, lo, out)
    out = np.where((frac > 0) & np.isposinf(hi), np.inf, out)
    out = np.where((frac < 1) & np.isneginf(lo), -np.inf, out)
    return np.asarray(out, dtype=np.float64)


def defined(values: np.ndarray) -> np.ndarray:
    """The values that are defined: NRR is NaN (0/0) on paths without customers a year
    before; percentiles and means are over the other paths.

    >>> defined(np.array([1.0, np.nan, np.inf]))
    array([ 1., inf])
    """
    missing = np.isnan(values)
    return values[~missing] if missing.any() else values


def compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Boolean array of ``values op threshold``."""
    ops = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater,
           "==": np.equal}
    return np.asarray(ops[op](values, threshold))


def derive(name: str, source: dict[str, np.ndarray], stages: tuple[str, ...],
            cache: dict[str, np.ndarray]) -> np.ndarray:
    """A metric from stored arrays: stored ones as they are, the others derived."""
    if name in source:
        return source[name]
    if name not in cache:
        view = schema.VIEWS.get(name)
        if view is None:
            raise KeyError(f"unknown metric {name!r}")
        of = source[view.of or stages[-1]]
        cache[name] = _VIEW_HOW[view.how](of)
    return cache[name]


#: How a view is computed from the metric it is read from (schema.Metric.how).
_VIEW_HOW = {"same": lambda of: of, "x12": lambda of: 12.0 * of,
             "cumsum": lambda of: np.cumsum(of, axis=1)}


class Result:
    """Trajectories of a run. ``result["customers"]`` has shape (paths, months); column m-1
    holds month m.

    A run too big for its memory budget keeps reduced storage (see :mod:`simulator.engine.storage`):
    then :meth:`at` answers for the kept months, ``result[name]`` is refused, and
    :meth:`trajectories` gives the sampled paths' full trajectories.
    """

    #: The kernel that ran the blocks, and why it is not the one asked for (set by the run).
    kernel: KernelChoice = KernelChoice()

    def __init__(self, config: Config, storage: Storage, params: Parameters,
                 seed: int, seed_drawn: bool = False) -> None:
        self.config = config
        self.seed = seed
        self.seed_drawn = seed_drawn  # True when neither the caller nor the config gave one
        self.params = params
        self.paths = storage.paths
        self.months = config.simulation.months
        self.kept = storage.plan.kept
        self._data = storage.data
        self._sample = storage.sample
        self._running_min = storage.running_min
        self._derived: dict[str, np.ndarray] = {}
        self._sample_derived: dict[str, np.ndarray] = {}

    @property
    def reduced(self) -> bool:
        """True when only the kept months (and a sample of paths) are stored."""
        return self.kept is not None

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric name, in table order (stages after visitors)."""
        return self.config.metrics

    def _check(self, name: str) -> None:
        if name not in self.metrics:
            raise KeyError(f"unknown metric {name!r} (metrics: {', '.join(self.metrics)})")

    def __getitem__(self, name: str) -> np.ndarray:
        self._check(name)
        if self.reduced:
            raise ValueError(f"this run kept only months {list(self.kept or ())} of every path "
                             f"(reduced storage); use result.at(name, month), or "
                             f"result.trajectories(name) for a sample of paths")
        return derive(name, self._data, self.config.stages, self._derived)

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def at(self, name: str, month: int) -> np.ndarray:
        """Every path's value of ``name`` in month ``month`` (1-based)."""
        if not 1 <= month <= self.months:
            raise ValueError(f"month must be in 1..{self.months} (got {month})")
        self._check(name)
        if self.kept is None:
            return self[name][:, month - 1]
        if month not in self.kept:
            raise ValueError(f"month {month} was not kept (reduced storage keeps months "
                             f"{list(self.kept)})")
        column = self.kept.index(month)
        return derive(name, self._data, self.config.stages, self._derived)[:, column]

    def trajectories(self, name: str) -> np.ndarray:
        """Full trajectories of ``name``: every path, or the sampled paths of a reduced run."""
        if not self.reduced:
            return self[name]
        self._check(name)
        return derive(name, self._sample, self.config.stages, self._sample_derived)

    def percentile_table(self, month: int, qs: Sequence[float] | None = None) -> pd.DataFrame:
        """Rows: metrics; columns: the percentiles (p5, ...) and the mean, at ``month``."""
        qs = tuple(self.config.simulation.percentiles if qs is None else qs)
        rows = {}
        for name in self.metrics:
            values = defined(self.at(name, month))
            rows[name] = [*percentiles(values, qs), path_mean(values)] if len(values) else \
                [np.nan] * (len(qs) + 1)
        columns = [percentile_label(q) for q in qs] + ["mean"]
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        frame.index.name = "metric"
        return frame

    @property
    def report_months(self) -> tuple[int, ...]:
        """The configured report months that lie inside this run's horizon."""
        return tuple(m for m in self.config.simulation.report_months if m <= self.months)

    def tables(self) -> dict[int, pd.DataFrame]:
        """A percentile table per report month."""
        return {m: self.percentile_table(m) for m in self.report_months}

    def probability(self, metric: str, op: str, threshold: float, month: int) -> float:
        """P(metric op threshold) at ``month``; ``op = "ever<"`` asks whether the metric
        dropped below the threshold in some month <= ``month``."""
        if op == "ever<":
            if self.kept is not None:
                lowest = self._running_min[metric][:, self.kept.index(month)]
            else:
                lowest = self[metric][:, :month].min(axis=1)
            return float(np.mean(lowest < threshold))
        return float(np.mean(compare(self.at(metric, month), op, threshold)))

    def shock_activity(self, name: str) -> np.ndarray:
        """1.0 where shock ``name`` is active, per path and month (the sampled paths of a
        reduced run)."""
        key = f"shock:{name}"
        return self._data[key] if self.kept is None else self._sample[key]

    def shock_summary(self) -> pd.DataFrame:
        """Per shock: the share of path-months it was active, and P(it fired by month m) at
        each report month."""
        rows = {}
        for shock in self.config.depth.shocks:
            key = f"shock:{shock.name}"
            row = {"active %": 100 * float(self.shock_activity(shock.name).mean())}
            for month in self.report_months:
                if self.kept is None:
                    fired = self._data[key][:, :month].max(axis=1)
                else:
                    fired = self._running_min[key][:, self.kept.index(month)]
                row[f"P(fired by {month})"] = float(fired.mean())
            rows[shock.name] = row
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "shock"
        return frame

    def headline_probabilities(self) -> dict[int, dict[str, float]]:
        """Report month -> headline label -> probability."""
        return {m: {label: self.probability(metric, op, thr, m)
                    for label, metric, op, thr in HEADLINES} for m in self.report_months}

    def probabilities(self) -> pd.DataFrame:
        """The headline probabilities at each report month (rows: months)."""
        frame = pd.DataFrame.from_dict(self.headline_probabilities(), orient="index")
        frame.index.name = "month"
        return frame

    def tidy(self, tables: Mapping[int, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Long frame (month, metric, statistic, value): percentiles, means and headline
        probabilities at every report month (``tables``: other tables by month to unroll
        instead of the percentile tables, e.g. with their confidence intervals)."""
        records: list[tuple[int, str, str, float]] = []
        for month, table in (self.tables() if tables is None else tables).items():
            for metric, row in table.iterrows():
                records.extend((month, str(metric), str(stat), float(v))
                               for stat, v in row.items())
            for _, metric, op, thr in HEADLINES:
                stat = f"P(< {thr:g} by then)" if op == "ever<" else f"P({op} {thr:g})"
                records.append((month, metric, stat, self.probability(metric, op, thr, month)))
        return pd.DataFrame.from_records(records, columns=["month", "metric", "statistic",
                                                           "value"])

    def frame(self, metric: str) -> pd.DataFrame:
        """One metric as a DataFrame: rows paths, columns months 1..T."""
        return pd.DataFrame(self.trajectories(metric),
                            columns=pd.RangeIndex(1, self.months + 1, name="month"))

    def _repr_html_(self) -> str:
        month = self.report_months[-1]
        return (f"<p>{self.paths:,} paths x {self.months} months, seed {self.seed}; "
                f"month {month}</p>"
                + self.percentile_table(month).to_html(float_format="{:,.4g}".format))

    def __repr__(self) -> str:
        return (f"<Result {self.paths} paths x {self.months} months, seed {self.seed}, "
                f"{len(self.metrics)} metrics>")
