"""The section model of a review: each table a review shows, built once with its cells
formatted (:mod:`simulator.review.cells`), for thin renderers (text, Markdown, HTML).

A :class:`Section` is a title, a header, rows of formatted cells and a note; per-scenario
sections carry their scenario, so a review of several scenarios shows each one labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine.results import HEADLINES, Result, percentile_label, percentiles
from .cells import UNIT_NAMES, fmt, headline_label, pct, plus_minus, unit

if TYPE_CHECKING:
    import pandas as pd

    from .contents import Review

#: Metrics compared side by side across scenarios.
COMPARED = ("customers", "new_customers", "mrr", "arr", "cac_payback_months", "ltv_to_cac",
            "cash")
COMPARED_PERCENTILES = (10.0, 50.0, 90.0)


@dataclass(frozen=True)
class Section:
    """One table of a review.

    ``key`` says what it is (``comparison``, ``percentiles``, ``error``, ``probabilities``,
    ``targets``, ``sensitivity``, ``shocks``, ``assumptions``, ``correlations``, ``status``);
    the first ``left`` columns are labels (aligned left), the others values. ``marked``
    cells (row, column) are highlighted (what differs from the first scenario).
    ``reading``: one line that says what the table means for this scenario (such as what to
    measure next); unlike the note, which explains the columns, it is never left out.
    ``metric_rows``: the first column holds metric code names (HTML adds them in words).
    ``detail``: with several scenarios, a per-scenario table that the terminal leaves to the
    documents (it shows the side-by-side comparison instead, and says so).
    """

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    scenario: str | None = None
    month: int | None = None
    left: int = 1
    marked: frozenset[tuple[int, int]] = frozenset()
    metric_rows: bool = False
    detail: bool = False
    document_only: bool = False
    left_columns: tuple[int, ...] = ()  # more label columns, after the values
    reading: str = ""  # one line reading the table, shown under it every time

    def is_left(self, column: int) -> bool:
        """Whether ``column`` holds labels (aligned left)."""
        return column < self.left or column in self.left_columns


def _titled(review: Review, title: str, name: str) -> str:
    return f"{title} ({name})" if len(review.results) > 1 else title


# --- percentile tables ------------------------------------------------------------------

def shown_metrics(review: Review, name: str, month: int) -> tuple[list[str], str]:
    """The metrics a table shows and a note on what it leaves out: the last funnel stage
    when it equals ``new_customers``, and ``revenue`` (= ``mrr``); both stay in the data."""
    result = review.results[name]
    hidden, notes = set(), []
    last = result.config.stages[-1]
    if np.array_equal(result.at(last, month), result.at("new_customers", month)):
        hidden.add(last)
        notes.append(f"new_customers is the last funnel stage ({last})")
    hidden.add("revenue")
    notes.append("revenue equals mrr")
    note = "; ".join(notes) + " (both rows are in the CSV and JSON)."
    return [m for m in result.metrics if m not in hidden], note


def _undefined_note(table: pd.DataFrame, counts: dict[str, float]) -> str:
    parts = [f"{m} is undefined (n/a) on {share:.1%} of paths (no customers a year before); "
             f"its percentiles are over the other paths" for m, share in counts.items()
             if share > 0 and m in table.index]
    return " ".join(parts)


def percentile_section(review: Review, name: str, month: int) -> Section:
    table = review.tables[name][month]
    metrics, note = shown_metrics(review, name, month)
    whole = review.results[name].config.simulation.flows == "binomial"
    rows = []
    for metric in metrics:
        kind = unit(metric)
        values = table.loc[metric]
        cells = [fmt(float(v), kind, whole and kind == "#" and col != "mean")
                 for col, v in zip(table.columns, values.to_numpy(), strict=True)]
        rows.append((metric, _unit_name(kind), *cells))
    undefined = _undefined_note(table, review.undefined_shares(name, month))
    return Section("percentiles", _titled(review, f"Month {month}", name),
                   ("metric", "unit", *map(str, table.columns)), tuple(rows),
                   " ".join(p for p in (note, undefined) if p), name, month, left=2,
                   metric_rows=True, detail=len(review.results) > 1)


def _unit_name(kind: str) -> str:
    return UNIT_NAMES[kind]


def error_section(review: Review, name: str, month: int) -> Section:
    """Half-widths of the percentile intervals (the larger side) and the mean's standard
    error, one row per metric."""
    assert review.ci is not None
    full = review.intervals[name][month]
    qs = review.results[name].config.simulation.percentiles
    metrics, _ = shown_metrics(review, name, month)
    rows = []
    for metric in metrics:
        kind = unit(metric)
        cells = [plus_minus(half_width(full, metric, q), kind) for q in qs]
        rows.append((metric, _unit_name(kind), *cells,
                     plus_minus(_get(full, metric, "mean_se"), kind)))
    level = f"{100 * review.ci:g}%"
    return Section("error", _titled(review, f"Monte Carlo error at month {month}", name),
                   ("metric", "unit", *(percentile_label(q) for q in qs), "mean"), tuple(rows),
                   f"Half-width of the {level} order-statistic interval of each percentile "
                   f"(the larger side); standard error of the mean.", name, month, left=2,
                   metric_rows=True, detail=len(review.results) > 1)


def half_width(full: pd.DataFrame, metric: str, q: float) -> float:
    """The larger side of a percentile's interval (0 when all three are equal, also
    infinite)."""
    label = percentile_label(q)
    estimate = _get(full, metric, label)
    sides = (_get(full, metric, f"{label}_high"), _get(full, metric, f"{label}_low"))
    gaps = [0.0 if side == estimate else abs(side - estimate) for side in sides]
    return max(gaps)


def _get(frame: pd.DataFrame, row: str, column: str) -> float:
    return float(frame[column].to_numpy()[frame.index.get_loc(row)])


def probability_section(review: Review, name: str, month: int) -> Section:
    rows = tuple((headline_label(label, month), pct(p))
                 for label, p in review.headlines[name][month].items())
    return Section("probabilities", _titled(review, f"Headline probabilities at month {month}",
                                            name), ("probability", "value"), rows,
                   scenario=name, month=month, detail=len(review.results) > 1)


def comparison_section(review: Review, month: int) -> Section:
    """Scenarios side by side at ``month``: P10 / P50 / P90 of the compared metrics (with the
    half-widths of their intervals under ``--ci``), then the headline probabilities."""
    names = list(review.results)
    rows: list[tuple[str, ...]] = []
    for metric in COMPARED:
        kind = unit(metric)
        cells, errors = [], []
        for name, result in review.results.items():
            values = percentiles(result.at(metric, month), COMPARED_PERCENTILES)
            whole = result.config.simulation.flows == "binomial" and kind == "#"
            cells.append(" / ".join(fmt(float(v), kind, whole) for v in values))
            if review.ci is not None:
                full = review.intervals[name][month]
                errors.append(" / ".join(plus_minus(half_width(full, metric, q), kind)
                                         for q in COMPARED_PERCENTILES))
        rows.append((metric, _unit_name(kind), *cells))
        if errors:
            rows.append((f"  ± {100 * review.ci:g}%" if review.ci else "", "", *errors))
    for text, *_ in HEADLINES:
        rows.append((headline_label(text, month), "",
                     *(pct(review.headlines[n][month][text]) for n in names)))
    note = "Cells are P10 / P50 / P90 over paths."
    if review.ci is not None:
        note += (f" The ± rows are the half-widths of their {100 * review.ci:g}% "
                 f"order-statistic intervals (Monte Carlo error).")
    return Section("comparison", f"Month {month}: scenarios side by side",
                   ("metric", "unit", *names), tuple(rows), note, None, month, left=2,
                   metric_rows=True)


# --- questions asked: targets, shocks -----------------------------------------------------

def targets_section(review: Review) -> Section:
    level = f"{100 * (review.ci or 0.95):g}%"
    rows = tuple((name, t.label, pct(p), f"{pct(lo)} - {pct(hi)}")
                 for name, values in review.target_values.items() for t, p, lo, hi in values)
    return Section("targets", "Targets", ("scenario", "target", "probability",
                                          f"{level} Wilson interval"), rows,
                   f"Share of paths meeting each target, with its {level} Wilson score "
                   f"interval.", left=2)


def shocks_section(review: Review, name: str) -> Section:
    frame = review.results[name].shock_summary()
    header = ("shock", "active (share of path-months)",
              *(str(c) for c in frame.columns[1:]))
    rows = tuple((str(shock), pct(row.iloc[0] / 100), *(pct(float(v)) for v in row.iloc[1:]))
                 for shock, row in frame.iterrows())
    return Section("shocks", _titled(review, "Shocks", name), header, rows,
                   "Every column is a percentage of paths (or of path-months): how often each "
                   "shock was active, and the share of paths in which it fired by each report "
                   "month.", name)


def sections(review: Review) -> list[Section]:
    """Every section of ``review``, in reading order."""
    from .sections_more import assumption_sections, sensitivity_sections, status_section

    out: list[Section] = []
    if len(review.results) > 1:
        out += [comparison_section(review, m) for m in review.report_months]
    for name in review.results:
        for month in review.report_months:
            out.append(percentile_section(review, name, month))
            if review.ci is not None:
                out.append(error_section(review, name, month))
            out.append(probability_section(review, name, month))
    out += [shocks_section(review, name) for name, result in review.results.items()
            if result.config.depth.shocks]
    if review.targets:
        out.append(targets_section(review))
    out += sensitivity_sections(review)
    out += assumption_sections(review)
    status = status_section(review)
    if status is not None:
        out.append(status)
    return out


def heading(review: Review) -> tuple[str, list[str]]:
    """The review's title and the lines describing its run(s)."""
    first = review.first
    sim = first.config.simulation
    if len(review.results) == 1:
        return str(first.config.source), [
            f"{first.paths:,} paths x {first.months} months, seed {first.seed}, "
            f"{sim.flows} flows, {sim.sampling} sampling{_kernel(first)}"]
    names = list(review.results)
    lines = [f"{len(names)} scenarios, {first.paths:,} paths x {first.months} months, seed "
             f"{first.seed}, common random numbers"]
    lines += [f"{name}: {r.config.source}, {r.config.simulation.flows} flows, "
              f"{r.config.simulation.sampling} sampling{_kernel(r)}"
              for name, r in review.results.items()]
    return "Risk review: " + ", ".join(names), lines


def _kernel(result: Result) -> str:
    """``, compiled kernel`` or ``, numpy kernel``, with why the compiled one did not run
    when it was the default or was asked for."""
    return f", {result.kernel.describe()}"
