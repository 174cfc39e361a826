"""What a risk review shows: one or more scenarios' results, targets, Monte Carlo error,
sensitivity, shocks, assumptions and the run's status, gathered once. Its sections
(:mod:`simulator.review.sections`) feed the text, Markdown and HTML renderers; its tidy frame
feeds CSV and parquet, and :mod:`simulator.review.report` writes the JSON document."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..engine.results import Result, percentiles
from . import variance
from .analysis import Target, interval_table, sensitivity
from .cells import pct
from .sections import COMPARED, COMPARED_PERCENTILES, Section, sections

if TYPE_CHECKING:
    from .convergence import Step

__all__ = ["COMPARED", "COMPARED_PERCENTILES", "Review", "TIDY_COLUMNS"]

TIDY_COLUMNS = ["scenario", "section", "metric", "input", "month", "statistic", "value"]
#: Customers beyond this are more than there are businesses in the world: the run exploded.
EXPLODED_CUSTOMERS = 1e9


@dataclass(frozen=True)
class Review:
    """Results by scenario name (in order) and the questions asked of them."""

    results: Mapping[str, Result]
    targets: tuple[Target, ...] = ()
    ci: float | None = None  # confidence level of the intervals, e.g. 0.95
    sensitivity_of: tuple[str, int] | None = None
    history: tuple[Step, ...] = ()  # the rounds of --precision
    precision: float | None = None

    @property
    def first(self) -> Result:
        return next(iter(self.results.values()))

    @property
    def report_months(self) -> tuple[int, ...]:
        return self.first.report_months

    @cached_property
    def tables(self) -> dict[str, dict[int, pd.DataFrame]]:
        """Scenario -> month -> percentile table."""
        return {name: {m: r.percentile_table(m) for m in self.report_months}
                for name, r in self.results.items()}

    @cached_property
    def intervals(self) -> dict[str, dict[int, pd.DataFrame]]:
        """Scenario -> month -> percentiles with order-statistic intervals (when ``ci``)."""
        if self.ci is None:
            return {}
        return {name: {m: interval_table(r, m, self.ci) for m in self.report_months}
                for name, r in self.results.items()}

    @cached_property
    def headlines(self) -> dict[str, dict[int, dict[str, float]]]:
        return {name: r.headline_probabilities() for name, r in self.results.items()}

    @cached_property
    def target_values(self) -> dict[str, list[tuple[Target, float, float, float]]]:
        """Scenario -> [(target, probability, wilson low, wilson high)]."""
        return {name: [(t, *t.evaluate(r, self.ci or 0.95)) for t in self.targets]
                for name, r in self.results.items()}

    @cached_property
    def tornado(self) -> dict[str, pd.DataFrame]:
        if self.sensitivity_of is None:
            return {}
        metric, month = self.sensitivity_of
        return {name: sensitivity(r, metric, month) for name, r in self.results.items()}

    @property
    def shares_level(self) -> float:
        """Confidence level of the first-order shares' bootstrap intervals."""
        return self.ci or 0.95

    @cached_property
    def shares(self) -> dict[str, pd.DataFrame]:
        """Scenario -> first-order variance shares of the sensitivity metric (what each
        input explains on its own, with bootstrap intervals; the bootstrap's generator comes
        from the run's seed, so the same seed gives the same numbers)."""
        if self.sensitivity_of is None:
            return {}
        metric, month = self.sensitivity_of
        return {name: variance.first_order_shares(r, metric, month,
                                                 level=self.shares_level)
                for name, r in self.results.items()}

    def sensitivity_frame(self, name: str) -> pd.DataFrame:
        """The tornado table of scenario ``name`` with the first-order shares beside it
        (columns ``first_order_share``, ``first_order_low``, ``first_order_high``), in the
        tornado's order."""
        shares = self.shares[name].rename(columns=lambda c: f"first_order_{c}")
        return self.tornado[name].join(shares, how="left")

    def reading(self, name: str) -> str | None:
        """The one-line reading of scenario ``name``'s shares (its top input), or None."""
        if self.sensitivity_of is None or self.shares[name].empty:
            return None
        return variance.reading(self.shares[name])

    @cached_property
    def sections(self) -> list[Section]:
        """Every table of the review, cells formatted once, in reading order."""
        return sections(self)

    def undefined_shares(self, name: str, month: int) -> dict[str, float]:
        """Metric -> share of paths where it is undefined (NaN) at ``month``."""
        result = self.results[name]
        out = {}
        for metric in ("nrr",):
            if metric in result.metrics:
                out[metric] = float(np.isnan(result.at(metric, month)).mean())
        return out

    @property
    def converged(self) -> bool:
        """False when ``--precision`` stopped at ``--max-paths`` short of its target."""
        if not self.history or self.precision is None:
            return True
        return self.history[-1].worst <= self.precision

    @property
    def precision_warning(self) -> str | None:
        """The warning of a ``--precision`` run that stopped short of its target, or None."""
        if self.converged or not self.history:
            return None
        last, target = self.history[-1], self.precision or 0.0
        where = f" ({last.where})" if last.where else ""
        return (f"--precision {target:.2%} not reached: stopped at --max-paths {last.paths:,} "
                f"with a worst relative half-width of {pct(last.worst, 2)}{where}")

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """Numbers a reader should not trust: runs whose counts or money explode."""
        out = []
        for name, result in self.results.items():
            month = result.report_months[-1]
            customers = result.at("customers", month)
            top = float(percentiles(customers, (95,))[0])
            money = [result.at(m, month) for m in ("mrr", "cash")]
            if top > EXPLODED_CUSTOMERS or not all(np.isfinite(v).all() for v in money):
                shown = f"{top:.3g}" if math.isfinite(top) else "inf"
                out.append(f"{name}: the numbers explode (P95 of customers at month {month} "
                           f"is {shown}; money overflows or grows past any market): growth "
                           f"compounding over {result.months} months; check the horizon and "
                           f"the growth inputs")
        return tuple(out)

    def tidy(self) -> pd.DataFrame:
        """Long frame, one row per number: scenario, section (``percentiles``,
        ``probabilities``, ``targets``, ``sensitivity``, ``shocks``, ``assumptions``),
        metric, input (the input or shock a row is about), month, statistic, value. With
        ``ci`` every percentile has ``_low``/``_high`` rows and the mean ``_se``; with
        ``sensitivity_of`` every input has its tornado statistics and ``first_order_share``,
        ``_low``, ``_high``, and the scenario a ``first_order_unexplained`` row (no input)."""
        frames = [self._scenario_frame(name, result) for name, result in self.results.items()]
        frame = pd.concat(frames, ignore_index=True)
        frame["month"] = frame["month"].astype("Int64")
        return frame[TIDY_COLUMNS]

    def _scenario_frame(self, name: str, result: Result) -> pd.DataFrame:
        base = result.tidy(self.intervals[name] if self.ci is not None
                           else self.tables[name])
        is_prob = base["statistic"].str.startswith("P(")
        base.insert(0, "section", np.where(is_prob, "probabilities", "percentiles"))
        base.insert(2, "input", "")
        rows: list[tuple[str, str, str, int | None, str, float]] = []
        for target, p, low, high in self.target_values[name]:
            stat = target.statistic
            rows += [("targets", target.metric, "", target.month, s, v)
                     for s, v in ((stat, p), (f"{stat}_low", low), (f"{stat}_high", high))]
        if result.config.depth.shocks:
            shocks = result.shock_summary()
            for shock, row in shocks.iterrows():
                rows.append(("shocks", "", str(shock), result.months, "active_share",
                             float(row.iloc[0]) / 100))
                rows += [("shocks", "", str(shock), m, "P(fired by then)", float(v))
                         for m, v in zip(self.report_months, row.iloc[1:], strict=True)]
        if self.sensitivity_of is not None:
            metric, month = self.sensitivity_of
            for inp, row in self.sensitivity_frame(name).iterrows():
                rows += [("sensitivity", metric, str(inp), month, str(s), float(v))
                         for s, v in row.items()]
            if not self.shares[name].empty:
                rows.append(("sensitivity", metric, "", month, "first_order_unexplained",
                             self.shares[name].attrs["unexplained"]))
        from .sections_more import shown_inputs

        for key, inp in shown_inputs(result.config).items():
            q = inp.dist.ppf(np.array([0.05, 0.5, 0.95]))
            rows += [("assumptions", "", key, None, s, float(v))
                     for s, v in zip(("p5", "p50", "p95"), q, strict=True)]
        extra = pd.DataFrame.from_records(rows, columns=["section", "metric", "input", "month",
                                                         "statistic", "value"])
        frame = pd.concat([base, extra], ignore_index=True) if rows else base
        frame.insert(0, "scenario", name)
        return frame
