"""Rendering a review: readable terminal tables, CSV, JSON and Markdown.

>>> fmt(1234567.0, "$"), fmt(8421.0, "$"), fmt(12.345, "mo"), fmt(float("inf"), "mo")
('1.23M', '8,421', '12.3', 'inf')
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..config import schema
from ..engine.results import HEADLINES, percentile_label, percentiles
from .contents import COMPARED, COMPARED_PERCENTILES, Review

FORMATS = ("table", "csv", "json", "markdown")
EXTENSIONS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown",
              ".txt": "table"}
UNIT_NAMES = {"#": "count", "$": "$", "mo": "months", "x": "ratio"}


def unit(metric: str) -> str:
    """The unit of a metric (stage counts are counts)."""
    return schema.unit_of(metric)


def _scaled(value: float) -> str:
    magnitude = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            scaled = magnitude / size
            decimals = 2 if scaled < 9.995 else 1 if scaled < 99.95 else 0
            return f"{value / size:,.{decimals}f}{suffix}"
    return f"{value:,.0f}"


def fmt(value: float, kind: str) -> str:
    """A value rounded for reading: thousands separators, k/M/B above 100,000 (money above
    10,000), one decimal for months, two for ratios."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "mo":
        return f"{value:,.1f}"
    if kind == "x":
        return f"{value:,.2f}"
    magnitude = abs(value)
    if kind == "$":
        return _scaled(value) if magnitude >= 10_000 else f"{value:,.0f}"
    if magnitude >= 100_000:
        return _scaled(value)
    if magnitude < 100 and value != round(value):
        return f"{value:,.1f}" if magnitude >= 1 else f"{value:.3g}"
    return f"{value:,.0f}"


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _headline_label(label: str, month: int) -> str:
    return label.replace("by then", f"by month {month}")


def _table_lines(table: pd.DataFrame,
                 cell: Callable[[float, str], str] = fmt) -> list[str]:
    """A percentile table as aligned lines: metric, unit, one column per statistic."""
    columns = list(table.columns)
    label = max(20, *(len(str(m)) + 1 for m in table.index))
    width = max(8 if label <= 22 else 7, *(len(c) for c in columns))  # fit 100 columns
    lines = [f"{'metric':<{label}}{'unit':>6}" + "".join(f"{c:>{width + 1}}" for c in columns)]
    for metric, row in table.iterrows():
        kind = unit(str(metric))
        cells = "".join(f"{cell(float(v), kind):>{width + 1}}" for v in row)
        lines.append(f"{metric!s:<{label}}{UNIT_NAMES[kind]:>6}{cells}")
    return lines


def _error_table(review: Review, name: str, month: int) -> pd.DataFrame:
    """Half-widths of the percentile intervals (the larger side) and the mean's standard
    error, one row per metric."""
    full = review.intervals[name][month]
    qs = review.results[name].config.simulation.percentiles
    out = pd.DataFrame(index=full.index)
    for q in qs:
        label = percentile_label(q)
        estimate = full[label].to_numpy()
        above = _gap(full[f"{label}_high"].to_numpy(), estimate)
        below = _gap(estimate, full[f"{label}_low"].to_numpy())
        out[label] = np.maximum(above, below)
    out["mean"] = full["mean_se"]
    return out


def _gap(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``high - low``, 0 where both are the same (also both infinite)."""
    with np.errstate(invalid="ignore"):
        return np.where(high == low, 0.0, np.abs(high - low))


def _plus_minus(value: float, kind: str) -> str:
    return "±" + fmt(value, kind) if not math.isnan(value) else "n/a"


def _single_text(review: Review) -> list[str]:
    name, result = next(iter(review.results.items()))
    sim = result.config.simulation
    lines = [str(result.config.source),
             f"{result.paths:,} paths x {result.months} months, seed {result.seed}, "
             f"{sim.flows} flows, {sim.sampling} sampling, {result.kernel.describe()}"]
    for month, table in review.tables[name].items():
        lines += ["", f"Month {month}", *_table_lines(table)]
        if review.ci is not None:
            level = f"{100 * review.ci:g}%"
            lines += ["", f"Monte Carlo error at month {month}: half-width of the {level} "
                          f"interval of each percentile; standard error of the mean",
                      *_table_lines(_error_table(review, name, month), _plus_minus)]
        lines.append("")
        for label, p in review.headlines[name][month].items():
            lines.append(f"  {_headline_label(label, month):<34}{_pct(p):>7}")
    return lines


def comparison_rows(review: Review, month: int) -> list[tuple[str, list[str]]]:
    """Scenarios side by side at ``month``: P10 / P50 / P90 of the compared metrics, then
    the headline probabilities; one formatted cell per scenario."""
    rows: list[tuple[str, list[str]]] = []
    for metric in COMPARED:
        kind = unit(metric)
        cells = []
        for result in review.results.values():
            values = percentiles(result.at(metric, month), COMPARED_PERCENTILES)
            cells.append(" / ".join(fmt(float(v), kind) for v in values))
        rows.append((metric, cells))
    for label, *_ in HEADLINES:
        rows.append((_headline_label(label, month),
                     [_pct(review.headlines[n][month][label]) for n in review.results]))
    return rows


def _comparison_text(review: Review) -> list[str]:
    names = list(review.results)
    first = review.first
    lines = [f"{len(names)} scenarios, {first.paths:,} paths x {first.months} months, seed "
             f"{first.seed}, common random numbers, {first.kernel.kernel} kernel",
             "cells are P10 / P50 / P90"]
    for month in review.report_months:
        rows = [("metric", names), *comparison_rows(review, month)]
        width = max(len(c) for _, cells in rows for c in cells) + 3
        lines += ["", f"Month {month}"]
        lines += [f"{label:<31}" + "".join(f"{c:>{width}}" for c in cells)
                  for label, cells in rows]
    return lines


def _targets_text(review: Review) -> list[str]:
    if not review.targets:
        return []
    level = f"{100 * (review.ci or 0.95):g}%"
    lines = ["", f"Targets (probability, {level} Wilson interval)"]
    labels = {name: [(f"{name}: " if len(review.results) > 1 else "") + t.label
                     for t, *_ in values] for name, values in review.target_values.items()}
    width = max(len(label) for names in labels.values() for label in names) + 2
    for name, values in review.target_values.items():
        for label, (_, p, low, high) in zip(labels[name], values, strict=True):
            lines.append(f"  {label:<{width}}{_pct(p):>7}  [{_pct(low)}, {_pct(high)}]")
    return lines


def _tornado_text(review: Review) -> list[str]:
    if review.sensitivity_of is None:
        return []
    metric, month = review.sensitivity_of
    kind = unit(metric)
    lines = []
    for name, frame in review.tornado.items():
        title = f"Sensitivity of {metric} at month {month}"
        lines += ["", title + (f" ({name})" if len(review.results) > 1 else ""),
                  f"{'input':<30}{'spearman':>9}{'var %':>7}{'median lo':>11}"
                  f"{'median hi':>11}{'swing':>10}  bar"]
        for inp, row in frame.iterrows():
            bar = "#" * int(round(20 * abs(row["spearman"])))
            lines.append(f"{inp!s:<30}{row['spearman']:>9.3f}{row['variance_pct']:>7.1f}"
                         f"{fmt(row['median_if_low'], kind):>11}"
                         f"{fmt(row['median_if_high'], kind):>11}"
                         f"{fmt(row['swing'], kind):>10}  {bar}")
    return lines


def _shocks_text(review: Review) -> list[str]:
    lines = []
    for name, result in review.results.items():
        if not result.config.depth.shocks:
            continue
        frame = result.shock_summary()
        title = "Shocks" + (f" ({name})" if len(review.results) > 1 else "")
        header = "".join(f"{c:>18}" for c in frame.columns)
        lines += ["", title, f"{'shock':<20}{header}"]
        for shock, row in frame.iterrows():
            cells = [f"{row.iloc[0]:.1f}%"] + [f"{100 * v:.1f}%" for v in row.iloc[1:]]
            lines.append(f"{shock!s:<20}" + "".join(f"{c:>18}" for c in cells))
    return lines


def text(review: Review) -> str:
    """Terminal tables; fits in 100 columns with the default seven percentiles."""
    body = _single_text(review) if len(review.results) == 1 else _comparison_text(review)
    extra = _shocks_text(review) + _targets_text(review) + _tornado_text(review)
    return "\n".join(body + extra) + "\n"


def table_rows(table: pd.DataFrame) -> list[list[str]]:
    """A percentile table as formatted rows: metric, unit, then one cell per column."""
    return [[str(metric), UNIT_NAMES[unit(str(metric))],
             *(fmt(float(v), unit(str(metric))) for v in row)]
            for metric, row in table.iterrows()]


def headline_rows(review: Review, name: str, month: int) -> list[list[str]]:
    """The headline probabilities of scenario ``name`` at ``month``, formatted."""
    return [[_headline_label(label, month), _pct(p)]
            for label, p in review.headlines[name][month].items()]


def markdown(review: Review) -> str:
    """The percentile tables, probabilities and targets as Markdown."""
    parts: list[str] = []
    for name, by_month in review.tables.items():
        result = review.results[name]
        parts += [f"# {result.config.source}", "",
                  f"{result.paths:,} paths x {result.months} months, seed {result.seed}."]
        for month, table in by_month.items():
            header = ["metric", "unit", *table.columns]
            parts += ["", f"## Month {month}", "", "| " + " | ".join(header) + " |",
                      "|" + "---|" * 2 + "---:|" * len(table.columns)]
            parts += ["| " + " | ".join(cells) + " |" for cells in table_rows(table)]
            parts += ["", "| probability | value |", "|---|---:|"]
            parts += [f"| {label} | {p} |" for label, p in headline_rows(review, name, month)]
        if review.targets:
            parts += ["", "| target | probability | interval |", "|---|---:|---|"]
            for target, p, low, high in review.target_values[name]:
                parts.append(f"| {target.label} | {_pct(p)} | {_pct(low)} - {_pct(high)} |")
        parts.append("")
    return "\n".join(parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
    return value


def _frame_dict(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(i): {str(k): _jsonable(float(v)) for k, v in row.items()}
            for i, row in frame.iterrows()}


def to_json(review: Review) -> str:
    """Strict JSON (infinities written as the string ``"inf"``)."""
    scenarios: dict[str, Any] = {}
    for name, result in review.results.items():
        sim = result.config.simulation
        doc: dict[str, Any] = {
            "config": result.config.source, "seed": result.seed, "paths": result.paths,
            "months": result.months, "flows": sim.flows, "sampling": sim.sampling,
            "kernel": result.kernel.kernel,
            "percentiles": list(sim.percentiles), "report_months": list(review.report_months),
            "tables": {str(m): _frame_dict(t) for m, t in review.tables[name].items()},
            "probabilities": {str(m): row for m, row in review.headlines[name].items()},
        }
        if review.ci is not None:
            doc["intervals"] = {str(m): _frame_dict(t)
                                for m, t in review.intervals[name].items()}
            doc["confidence"] = review.ci
        if review.targets:
            doc["targets"] = [{"target": t.label, "metric": t.metric, "month": t.month,
                               "comparison": t.op, "threshold": t.threshold,
                               "probability": p, "low": lo, "high": hi}
                              for t, p, lo, hi in review.target_values[name]]
        if result.config.depth.shocks:
            doc["shocks"] = _frame_dict(result.shock_summary())
        if review.sensitivity_of is not None:
            metric, month = review.sensitivity_of
            doc["sensitivity"] = {"metric": metric, "month": month,
                                  "inputs": _frame_dict(review.tornado[name])}
        scenarios[name] = doc
    out = next(iter(scenarios.values())) if len(scenarios) == 1 else {"scenarios": scenarios}
    out["headlines"] = {label: {"metric": metric, "comparison": op, "threshold": thr}
                        for label, metric, op, thr in HEADLINES}
    return json.dumps(out, indent=2, allow_nan=False) + "\n"


def to_csv(review: Review) -> str:
    """The tidy long frame (scenario, metric, month, statistic, value) as CSV."""
    return str(review.tidy().to_csv(index=False, lineterminator="\n"))


RENDERERS = {"table": text, "csv": to_csv, "json": to_json, "markdown": markdown}


def render(review: Review, kind: str) -> str:
    """Render ``review`` in one of :data:`FORMATS`."""
    return RENDERERS[kind](review)
