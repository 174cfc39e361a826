"""A self-contained HTML risk-review report: inline CSS, charts embedded as PNG data."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping

import numpy as np

from .contents import Review
from .report import comparison_rows, fmt, headline_rows, table_rows, unit

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; color: #1a1a1a; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
       border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .88rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f2f6fa; }
.note { color: #555; font-size: .85rem; }
.bad { color: #D55E00; font-weight: 600; } .good { color: #009E73; font-weight: 600; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def assumptions(review: Review) -> str:
    """Each uncertain input of the first scenario: its distribution and P5 / P50 / P95."""
    config = review.first.config
    rows = []
    for name, inp in config.inputs.items():
        q = inp.dist.ppf(np.array([0.05, 0.5, 0.95]))
        kind = "$" if inp.kind == "money" else "x" if inp.kind in ("rate", "growth") else "#"
        shown = [f"{v:.4g}" if kind == "x" else fmt(float(v), kind) for v in q]
        how = "per month" + (f", persistence {inp.persistence:g}" if inp.persistence else "") \
            if inp.vary == "month" else "per path"
        rows.append([name, inp.dist.describe(), how, *shown])
    return _table(["input", "distribution", "drawn", "P5", "P50", "P95"], rows)


def _percentile_tables(review: Review) -> str:
    parts = []
    name = next(iter(review.results))
    for month, table in review.tables[name].items():
        parts.append(f"<h3>Month {month}</h3>"
                     + _table(["metric", "unit", *map(str, table.columns)], table_rows(table)))
        parts.append(_table(["probability", "value"], headline_rows(review, name, month)))
    return "".join(parts)


def _comparison(review: Review) -> str:
    return "".join(f"<h3>Month {month} (P10 / P50 / P90)</h3>"
                   + _table(["metric", *review.results],
                            [[label, *cells] for label, cells in comparison_rows(review, month)])
                   for month in review.report_months)


def _targets(review: Review) -> str:
    rows = [[name, t.label, f"{p:.1%}", f"{lo:.1%} - {hi:.1%}"]
            for name, values in review.target_values.items() for t, p, lo, hi in values]
    return _table(["scenario", "target", "probability", "95% Wilson interval"], rows)


def _tornado(review: Review) -> str:
    assert review.sensitivity_of is not None
    metric, _ = review.sensitivity_of
    frame = next(iter(review.tornado.values()))
    rows = [[str(i), f"{r['spearman']:.3f}", f"{r['variance_pct']:.1f}",
             fmt(r["median_if_low"], unit(metric)), fmt(r["median_if_high"], unit(metric)),
             fmt(r["swing"], unit(metric))] for i, r in frame.iterrows()]
    return _table(["input", "Spearman", "variance %", "median, input low",
                   "median, input high", "swing"], rows)


def render_html(review: Review, chart_png: bytes | None,
                notes: Mapping[str, str] | None = None) -> str:
    """The whole report as one HTML document."""
    first = review.first
    sections = [f"<h1>Risk review: {html.escape(', '.join(review.results))}</h1>",
                f"<p class='note'>{first.paths:,} paths x {first.months} months, seed "
                f"{first.seed}, {first.config.simulation.flows} flows, "
                f"{first.config.simulation.sampling} sampling. Percentiles are over paths: "
                f"P10 is a bad year, P50 a typical one, P90 a good one.</p>"]
    for key, text in (notes or {}).items():
        sections.append(f"<p class='note'><b>{html.escape(key)}</b>: {html.escape(text)}</p>")
    if len(review.results) > 1:
        sections += ["<h2>Scenarios side by side</h2>", _comparison(review)]
    sections += ["<h2>Headline percentiles</h2>", _percentile_tables(review)]
    if review.targets:
        sections += ["<h2>Targets</h2>", _targets(review)]
    if chart_png is not None:
        data = base64.b64encode(chart_png).decode("ascii")
        sections += ["<h2>Charts</h2>",
                     f"<img alt='fan charts, histograms and tornado' "
                     f"src='data:image/png;base64,{data}'>"]
    if review.sensitivity_of is not None:
        sections += [f"<h2>Sensitivity of {html.escape(review.sensitivity_of[0])} at month "
                     f"{review.sensitivity_of[1]}</h2>", _tornado(review)]
    sections += ["<h2>Assumptions</h2>", assumptions(review)]
    body = "\n".join(sections)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Risk review: {html.escape(', '.join(review.results))}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")
