"""Rendering a result: readable terminal tables, CSV, JSON and Markdown.

>>> fmt(1234567.0, "$"), fmt(8421.0, "$"), fmt(12.345, "mo"), fmt(float("inf"), "mo")
('1.23M', '8,421', '12.3', 'inf')
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from . import schema
from .results import HEADLINES, Result

FORMATS = ("table", "csv", "json", "markdown")
EXTENSIONS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown",
              ".txt": "table"}
UNIT_NAMES = {"#": "count", "$": "$", "mo": "months", "x": "ratio"}


def unit(metric: str) -> str:
    """The unit of a metric (stage counts are counts)."""
    return schema.UNITS.get(metric, "#")


def _scaled(value: float) -> str:
    magnitude = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            scaled = magnitude / size
            decimals = 2 if scaled < 10 else 1 if scaled < 100 else 0
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


def _probabilities(result: Result) -> dict[int, dict[str, float]]:
    """The headline probabilities as month -> label -> probability."""
    return result.headline_probabilities()


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def text(result: Result) -> str:
    """Terminal tables: for each report month, percentiles and mean of every metric, then the
    headline probabilities. Fits in 100 columns with the default seven percentiles."""
    sim = result.config.simulation
    lines = [f"{result.config.source}: {result.paths:,} paths x {result.months} months, "
             f"seed {result.seed}, {sim.flows} flows, {sim.sampling} sampling"]
    probabilities = _probabilities(result)
    for month, table in result.tables().items():
        columns = list(table.columns)
        width = max(8, *(len(c) for c in columns))
        lines.append("")
        lines.append(f"Month {month}")
        lines.append(f"{'metric':<20}{'unit':>7}" + "".join(f"{c:>{width + 1}}" for c in columns))
        for metric, row in table.iterrows():
            kind = unit(str(metric))
            cells = "".join(f"{fmt(float(v), kind):>{width + 1}}" for v in row)
            lines.append(f"{metric!s:<20}{UNIT_NAMES[kind]:>7}{cells}")
        lines.append("")
        for label, p in probabilities[month].items():
            shown = label.replace("by then", f"by month {month}")
            lines.append(f"  {shown:<34}{_pct(p):>7}")
    return "\n".join(lines) + "\n"


def markdown(result: Result) -> str:
    """The same tables as Markdown."""
    parts = [f"# {result.config.source}", "",
             f"{result.paths:,} paths x {result.months} months, seed {result.seed}."]
    probabilities = _probabilities(result)
    for month, table in result.tables().items():
        header = ["metric", "unit", *table.columns]
        parts += ["", f"## Month {month}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * 2 + "---:|" * len(table.columns)]
        for metric, row in table.iterrows():
            kind = unit(str(metric))
            cells = [str(metric), UNIT_NAMES[kind], *(fmt(float(v), kind) for v in row)]
            parts.append("| " + " | ".join(cells) + " |")
        parts += ["", "| probability | value |", "|---|---:|"]
        for label, p in probabilities[month].items():
            shown = label.replace("by then", f"by month {month}")
            parts.append(f"| {shown} | {_pct(p)} |")
    return "\n".join(parts) + "\n"


def _jsonable(value: float) -> float | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if math.isnan(value):
        return "nan"
    return value


def to_json(result: Result) -> str:
    """Strict JSON (infinities written as the string ``"inf"``)."""
    sim = result.config.simulation
    tables = {str(m): {str(metric): {str(k): _jsonable(float(v)) for k, v in row.items()}
                       for metric, row in table.iterrows()}
              for m, table in result.tables().items()}
    probabilities = {str(m): row for m, row in _probabilities(result).items()}
    doc: dict[str, Any] = {
        "config": result.config.source, "seed": result.seed, "paths": result.paths,
        "months": result.months, "flows": sim.flows, "sampling": sim.sampling,
        "percentiles": list(sim.percentiles), "report_months": list(result.report_months),
        "tables": tables, "probabilities": probabilities,
        "headlines": {label: {"metric": metric, "comparison": op, "threshold": thr}
                      for label, metric, op, thr in HEADLINES},
    }
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def to_csv(result: Result) -> str:
    """The tidy long frame (month, metric, statistic, value) as CSV."""
    frame: pd.DataFrame = result.tidy()
    return str(frame.to_csv(index=False, lineterminator="\n"))


RENDERERS = {"table": text, "csv": to_csv, "json": to_json, "markdown": markdown}


def render(result: Result, kind: str) -> str:
    """Render ``result`` in one of :data:`FORMATS`."""
    return RENDERERS[kind](result)
