"""Budget allocation: the month-1 spend of each paid channel that maximises a statistic of an
objective metric (or minimises it, for CAC, payback and the like), the spends summing to the
budget and each within its bounds.

Sample-average approximation with common random numbers: every candidate allocation runs the
same paths (same drawn inputs, same shocks). The search (scipy's SLSQP) runs on the expected
flows of the first 2,000 paths' worth of draws (same seed), where the objective is a smooth,
deterministic function of the spends; the allocation found is then compared with the config's
own allocation on all paths under the config's flows, which gives the gain and its paired
Monte Carlo interval. Marginal CAC is
the extra spend of a channel over months 1..M per extra new customer it brings, when its
month-1 spend rises by 0.1% of the budget (expected flows); at an interior optimum each
channel's marginal objective (gain per extra budget dollar) is the same. A percentile
objective (``p10``: the bad case) is searched as the mean of the paths within two percentile
points of it, which moves smoothly where one order statistic jumps between paths; it is
reported as the percentile itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from distributions.joint import stream

from ..config.core import Config, load_config
from ..config.errors import ConfigError
from .evaluate import Evaluator, Outcome
from .response import Response
from .targets import Objective, paid_channels, parse_bound, parse_budget

BOOTSTRAP = 400
#: Paths the search runs on (a subset of the run's paths, same seed).
SEARCH_PATHS = 2000
#: SLSQP iterations at most (each costs a run per channel, and one).
MAX_STEPS = 40


@dataclass(frozen=True)
class ChannelPlan:
    """One channel before and after: month-1 spend and share of the budget, new customers
    over months 1..M (P10, P50, P90), blended CAC (spend / new customers over months 1..M,
    over all paths), and at the optimum the marginal CAC and marginal objective."""

    name: str
    spend_current: float
    spend_optimal: float
    share_current: float
    share_optimal: float
    new_customers_current: tuple[float, float, float]
    new_customers_optimal: tuple[float, float, float]
    blended_cac_current: float
    blended_cac_optimal: float
    marginal_cac: float
    marginal_objective: float


@dataclass(frozen=True)
class Allocation:
    """The answer of an allocation; intervals are paired Monte Carlo intervals at ``level``."""

    objective: str
    minimise: bool
    budget: float
    channels: tuple[ChannelPlan, ...]
    objective_current: float
    objective_optimal: float
    gain: float
    gain_interval: tuple[float, float]
    level: float
    paths: int
    seed: int
    evaluations: int
    converged: bool
    #: per channel: month-1 spends and the new customers a month they buy (for the chart)
    curves: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(
        default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (intervals as lists; without the curves)."""
        out = asdict(self)
        out.pop("curves")
        out["gain_interval"] = list(self.gain_interval)
        out["channels"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in c.items()}
                           for c in out["channels"]]
        return out

    def table(self) -> pd.DataFrame:
        """One row per channel."""
        rows = {c.name: {"spend_current": c.spend_current, "share_current": c.share_current,
                         "spend_optimal": c.spend_optimal, "share_optimal": c.share_optimal,
                         "new_p10": c.new_customers_optimal[0],
                         "new_p50": c.new_customers_optimal[1],
                         "new_p90": c.new_customers_optimal[2],
                         "blended_cac": c.blended_cac_optimal, "marginal_cac": c.marginal_cac,
                         "marginal_objective": c.marginal_objective}
                for c in self.channels}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "channel"
        return frame


def _changes(curves: Sequence[Response], spends: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for curve, s in zip(curves, spends, strict=True):
        out.update(curve.changes(float(s)))
    return out


def _start(current: np.ndarray, low: np.ndarray, high: np.ndarray, budget: float
           ) -> np.ndarray:
    """A feasible starting point near the current shares."""
    x = current / current.sum() * budget if current.sum() > 0 else \
        np.full(len(current), budget / len(current))
    for _ in range(50):
        x = np.clip(x, low, high)
        gap = budget - x.sum()
        free = (x < high) if gap > 0 else (x > low)
        if abs(gap) <= 1e-9 * max(budget, 1.0) or not free.any():
            break
        x[free] += gap / free.sum()
    return x


def _bounds(budget: float, names: tuple[str, ...], given: Mapping[str, tuple[float, float]]
            ) -> tuple[np.ndarray, np.ndarray]:
    low = np.array([given.get(n, (0.0, budget))[0] for n in names])
    high = np.array([min(given.get(n, (0.0, budget))[1], budget) for n in names])
    if low.sum() > budget + 1e-9 or high.sum() < budget - 1e-9:
        raise ConfigError("", f"the bounds allow a total month-1 spend of {low.sum():,.0f} to "
                              f"{high.sum():,.0f}, not {budget:,.0f}", "--budget")
    return low, high


def allocate(config: Config | str | Path | dict[str, Any], budget: float | str,
             objective: str, *, channels: Sequence[str] | None = None,
             statistic: str = "mean", bounds: Sequence[str] | Mapping[str, tuple[float, float]]
             | None = None, paths: int | None = None, seed: int | None = None,
             level: float = 0.95) -> Allocation:
    """The month-1 spends of the paid ``channels`` that optimise ``statistic`` of
    ``objective`` (``"METRIC@MONTH"``), summing to ``budget``.

    Parameters
    ----------
    config
        A config with paid channels, or a path or dict to load one from.
    budget
        The total month-1 spend of the channels allocated (dollars).
    objective
        ``"METRIC@MONTH"``, e.g. ``"customers@12"``; maximised, or minimised for metrics
        where less is better (cac, cac_payback_months, churned, burn_multiple, ...).
    channels
        The paid channels to allocate among (default: all; a list, or "a,b"); the others
        keep their spend.
    statistic
        ``"mean"`` or a percentile such as ``"p10"`` (the bad case: a risk-averse plan).
    bounds
        Per channel ``(low, high)`` month-1 spend, or strings ``"name=LOW:HIGH"``.
    paths, seed, level
        As for :func:`simulator.run`; ``level`` of the gain's interval.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    goal = Objective.parse(objective, statistic, cfg)
    names = paid_channels(cfg, channels.split(",") if isinstance(channels, str) else channels)
    bounds = [bounds] if isinstance(bounds, str) else bounds
    total = parse_budget(budget)
    given: dict[str, tuple[float, float]] = dict(bounds) if isinstance(bounds, Mapping) \
        else {name: (lo, hi) for name, lo, hi in (parse_bound(b, names) for b in bounds or ())}
    low, high = _bounds(total, names, given)
    flows = tuple(f"{n}.{m}" for n in names for m in ("new_customers", "spend"))
    smooth = Evaluator(cfg, goal.month, paths=paths, seed=seed, flows="expected",
                       metrics=(goal.metric,), totals=flows)
    exact = smooth if cfg.simulation.flows == "expected" else \
        Evaluator(cfg, goal.month, paths=smooth.paths, seed=smooth.seed, metrics=(goal.metric,),
                  totals=flows)
    by_name = {c.name: c for c in cfg.depth.channels}
    curves = [Response.of(by_name[n], smooth) for n in names]
    current = np.array([c.current for c in curves])
    best = _start(current, low, high, total)
    converged, searched = True, 0
    if total > 0 and len(names) > 1:
        first = smooth if smooth.paths <= SEARCH_PATHS else \
            Evaluator(cfg, goal.month, paths=SEARCH_PATHS, seed=smooth.seed, flows="expected",
                      metrics=(goal.metric,))
        found = _search(goal, first, [Response.of(by_name[n], first) for n in names], best,
                        low, high, total)
        shares = np.where(found.x < 1e-9, 0.0, found.x)  # a channel switched off is at 0
        best = _start(shares * total, low, high, total)
        converged = bool(found.success)
        searched = first.evaluations if first is not smooth else 0
    return _report(cfg, goal, names, curves, current, best, total, smooth, exact, converged,
                   level, searched)


def _search(goal: Objective, ev: Evaluator, curves: list[Response], start: np.ndarray,
            low: np.ndarray, high: np.ndarray, total: float) -> Any:
    """SLSQP over the budget shares, from ``start``."""
    from scipy import optimize  # slow to import: only when used

    sign = 1.0 if goal.minimise else -1.0
    scale = max(abs(goal.smoothed(ev.run(_changes(curves, start)).at(goal.metric))), 1e-9)

    def loss(y: np.ndarray) -> float:
        value = goal.smoothed(ev.run(_changes(curves, y * total)).at(goal.metric))
        return sign * value / scale if math.isfinite(value) else 1e6

    return optimize.minimize(loss, start / total, method="SLSQP",
                             bounds=list(zip(low / total, high / total, strict=True)),
                             constraints=[{"type": "eq", "fun": lambda y: y.sum() - 1.0}],
                             options={"ftol": 1e-6, "eps": 1e-4, "maxiter": MAX_STEPS})


def _quantiles(values: np.ndarray) -> tuple[float, float, float]:
    q = np.percentile(values, [10, 50, 90])
    return float(q[0]), float(q[1]), float(q[2])


def _blended(outcome: Outcome, name: str) -> float:
    new = float(outcome.through(f"{name}.new_customers").sum())
    spend = float(outcome.through(f"{name}.spend").sum())
    return spend / new if new > 0 else math.inf


def _marginal(goal: Objective, smooth: Evaluator, curves: list[Response], spends: np.ndarray,
              total: float) -> list[tuple[float, float]]:
    """Per channel: (marginal CAC, marginal objective) at ``spends``, by a forward step of
    0.1% of the budget in its month-1 spend (expected flows)."""
    step = max(1e-3 * total, 1.0)
    base = smooth.run(_changes(curves, spends))
    base_value = goal.of(base.at(goal.metric))
    out = []
    for i, curve in enumerate(curves):
        moved = spends.copy()
        moved[i] += step
        after = smooth.run(_changes(curves, moved))
        extra_new = float(np.mean(after.through(f"{curve.name}.new_customers")
                                  - base.through(f"{curve.name}.new_customers")))
        extra_spend = float(np.mean(after.through(f"{curve.name}.spend")
                                    - base.through(f"{curve.name}.spend")))
        out.append((extra_spend / extra_new if extra_new > 0 else math.inf,
                    (goal.of(after.at(goal.metric)) - base_value) / step))
    return out


def _gain_interval(goal: Objective, before: np.ndarray, after: np.ndarray, level: float,
                   seed: int) -> tuple[float, float]:
    """Paired interval of the statistic's change: normal for the mean, bootstrap over paths
    for a percentile."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if goal.statistic == "mean":
        diff = after - before
        if not np.isfinite(diff).all():
            return -math.inf, math.inf
        half = z * float(np.std(diff, ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
        centre = float(np.mean(diff))
        return centre - half, centre + half
    rng = stream(seed, "allocate bootstrap")
    q = float(goal.statistic[1:])
    picks = rng.integers(0, len(before), size=(BOOTSTRAP, len(before)))
    gains = np.percentile(after[picks], q, axis=1) - np.percentile(before[picks], q, axis=1)
    low, high = np.percentile(gains, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def _report(cfg: Config, goal: Objective, names: tuple[str, ...], curves: list[Response],
            current: np.ndarray, best: np.ndarray, total: float, smooth: Evaluator,
            exact: Evaluator, converged: bool, level: float, searched: int) -> Allocation:
    before = exact.run({})
    after = exact.run(_changes(curves, best))
    y0, y1 = before.at(goal.metric), after.at(goal.metric)
    margins = _marginal(goal, smooth, curves, best, total)
    plans = []
    for i, name in enumerate(names):
        plans.append(ChannelPlan(
            name, float(current[i]), float(best[i]),
            float(current[i] / current.sum()) if current.sum() > 0 else 0.0,
            float(best[i] / total) if total > 0 else 0.0,
            _quantiles(before.through(f"{name}.new_customers")),
            _quantiles(after.through(f"{name}.new_customers")),
            _blended(before, name), _blended(after, name), margins[i][0], margins[i][1]))
    value0, value1 = goal.of(y0), goal.of(y1)
    top = 1.5 * max(total, float(current.max()), float(best.max()))
    grid = tuple(float(s) for s in top * np.linspace(0.0, 1.0, 61) ** 2)
    drawn = {c.name: (grid, tuple(float(np.mean(c.customers(s))) for s in grid))
             for c in curves}
    return Allocation(goal.label, goal.minimise, total, tuple(plans), value0, value1,
                      value1 - value0, _gain_interval(goal, y0, y1, level, exact.seed), level,
                      exact.paths, exact.seed, searched + smooth.evaluations + (
                          exact.evaluations if exact is not smooth else 0), converged,
                      drawn)
