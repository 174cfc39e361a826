"""What a risk review shows: one or more scenarios' results, targets, Monte Carlo error and
sensitivity, gathered once and rendered by :mod:`simulator.review.report` in any format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from ..engine.results import Result
from .analysis import Target, interval_table, sensitivity

#: Metrics compared side by side across scenarios.
COMPARED = ("customers", "new_customers", "mrr", "arr", "cac_payback_months", "ltv_to_cac",
            "cash")
COMPARED_PERCENTILES = (10.0, 50.0, 90.0)


@dataclass(frozen=True)
class Review:
    """Results by scenario name (in order) and the questions asked of them."""

    results: Mapping[str, Result]
    targets: tuple[Target, ...] = ()
    ci: float | None = None  # confidence level of the intervals, e.g. 0.95
    sensitivity_of: tuple[str, int] | None = None

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

    def tidy(self) -> pd.DataFrame:
        """Long frame: scenario, metric, month, statistic, value (with ``ci``, every
        percentile's ``_low``/``_high`` and the mean's ``_se``; then the targets)."""
        frames = []
        for name, result in self.results.items():
            frame = result.tidy(self.intervals[name] if self.ci is not None
                                else self.tables[name])
            rows: list[tuple[int, str, str, float]] = []
            for target, p, low, high in self.target_values[name]:
                stat = f"P({target.op} {target.threshold:g})"
                rows += [(target.month, target.metric, stat, p),
                         (target.month, target.metric, f"{stat}_low", low),
                         (target.month, target.metric, f"{stat}_high", high)]
            targets = pd.DataFrame.from_records(rows, columns=list(frame.columns))
            frame = pd.concat([frame, targets], ignore_index=True) if rows else frame
            frame.insert(0, "scenario", name)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)[["scenario", "metric", "month",
                                                      "statistic", "value"]]
