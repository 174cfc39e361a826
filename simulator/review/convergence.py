"""Run until the Monte Carlo error is small enough: ``--precision 1%``.

The run doubles its paths until, for every headline metric at every report month, the 95%
order-statistic interval of P10, P50 and P90 has a half-width below ``precision`` times the
metric's scale, or until ``max_paths``. The scale is the larger of |percentile| and the
metric's P90 - P10 spread, so a percentile near zero (cash crossing 0) does not demand
infinite precision. An interval that is infinite on both ends (an infinite percentile that
more paths cannot move) counts as converged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config.core import Config
from ..engine.execution import Execution
from ..engine.results import Result, percentiles
from ..engine.runner import Progress, run
from .analysis import order_statistic_interval

HEADLINE_METRICS = ("customers", "mrr", "cash", "cac_payback_months")
CHECKED = (10.0, 50.0, 90.0)


@dataclass(frozen=True)
class Step:
    """One round: its paths and the worst relative half-width found."""

    paths: int
    worst: float
    where: str


def worst_relative_error(result: Result) -> tuple[float, str]:
    """The largest relative half-width over headline metrics, report months and P10/50/90."""
    worst, where = 0.0, ""
    for month in result.report_months:
        for metric in HEADLINE_METRICS:
            values = result.at(metric, month)
            p10, p50, p90 = percentiles(values, CHECKED)
            spread = p90 - p10 if math.isfinite(p90 - p10) else 0.0
            for q, estimate in zip(CHECKED, (p10, p50, p90), strict=True):
                low, high = order_statistic_interval(values, q)
                if low == high:
                    continue
                half = (high - low) / 2
                scale = max(abs(estimate), spread)
                error = half / scale if scale > 0 and math.isfinite(half) else math.inf
                if error > worst:
                    worst, where = error, f"p{q:g} of {metric} at month {month}"
    return worst, where


def run_to_precision(config: Config, precision: float, max_paths: int, seed: int, *,
                     execution: Execution | None = None, progress: Progress | None = None,
                     keep_months: tuple[int, ...] = ()) -> tuple[Result, list[Step]]:
    """Double the paths from the config's count until ``precision`` or ``max_paths``; each
    round is a :func:`simulator.run` with ``execution``, ``progress`` and ``keep_months``."""
    paths = min(config.simulation.paths, max_paths)
    history: list[Step] = []
    while True:
        result = run(config, paths=paths, seed=seed, execution=execution, progress=progress,
                     keep_months=keep_months)
        worst, where = worst_relative_error(result)
        history.append(Step(paths, worst, where))
        if worst <= precision or paths >= max_paths:
            return result, history
        paths = int(min(max_paths, paths * 2))
