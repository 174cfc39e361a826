"""A self-contained HTML risk-review report: inline CSS, charts embedded as PNG data. The
sections are the review's (:mod:`simulator.review.sections`); this module only lays them out."""

from __future__ import annotations

import base64
import html
import re
from typing import TYPE_CHECKING

from .cells import label
from .sections import Section, heading

if TYPE_CHECKING:
    from .contents import Review

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; color: #1a1a1a; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
       border-bottom: 2px solid #0072B2; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
table { border-collapse: collapse; margin: .6rem 0 .4rem; font-size: .88rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: right; }
th.l, td.l { text-align: left; }
thead th { background: #f2f6fa; }
td code { color: #777; font-size: .78rem; margin-left: .4rem; }
td.diff { background: #FFF1CC; font-weight: 600; }
.reading { font-weight: 600; max-width: 60rem; margin: .3rem 0; }
.note { color: #555; font-size: .85rem; max-width: 60rem; }
.warn { color: #D55E00; font-weight: 600; }
img { max-width: 100%; border: 1px solid #eee; }
"""
METRIC = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?\Z")


def _group(section: Section, several: bool) -> str:
    """The h2 a section is shown under."""
    by = f": {section.scenario}" if several and section.scenario else ""
    if section.key == "comparison":
        return "Scenarios side by side"
    if section.key in ("percentiles", "error", "probabilities"):
        return "Headline percentiles" + by
    if section.key in ("assumptions", "correlations"):
        return "Assumptions" + by
    if section.key == "sensitivity":
        return section.title.split(" (")[0]
    return {"targets": "Targets", "shocks": "Shocks", "status": "Run status"}[section.key]


class HtmlRenderer:
    """HTML tables under h2 groups (one per scenario for per-scenario sections)."""

    def cell(self, section: Section, r: int, c: int, text: str) -> str:
        align = " class='l'" if section.is_left(c) else ""
        if (r, c) in section.marked:
            align = f" class='{'l ' if section.is_left(c) else ''}diff'"
        shown = html.escape(text)
        if c == 0 and section.metric_rows and METRIC.match(text):
            shown = f"{html.escape(label(text))}<code>{shown}</code>"
        return f"<td{align}>{shown}</td>"

    def table(self, section: Section) -> str:
        head = "".join(f"<th{' class=l' if section.is_left(c) else ''}>{html.escape(h)}</th>"
                       for c, h in enumerate(section.header))
        body = "".join("<tr>" + "".join(self.cell(section, r, c, text)
                                        for c, text in enumerate(row)) + "</tr>"
                       for r, row in enumerate(section.rows))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def section(self, section: Section) -> str:
        css = "note warn" if section.key == "status" else "note"
        note = f"<p class='{css}'>{html.escape(section.note)}</p>" if section.note else ""
        reading = (f"<p class='reading'>{html.escape(section.reading)}</p>"
                   if section.reading else "")
        return f"<h3>{html.escape(section.title)}</h3>{self.table(section)}{reading}{note}"

    def document(self, review: Review, chart_png: bytes | None) -> str:
        title, info = heading(review)
        several = len(review.results) > 1
        parts = [f"<h1>{html.escape(title)}</h1>",
                 *(f"<p class='note'>{html.escape(line)}</p>" for line in info),
                 "<p class='note'>Percentiles are over paths: P10 is a bad year, P50 a typical "
                 "one, P90 a good one. Money is in the config's currency ($).</p>"]
        group = None
        charted = chart_png is None
        for section in review.sections:
            if not charted and section.key in ("sensitivity", "assumptions", "status"):
                parts += self.charts(chart_png)
                charted, group = True, "Charts"
            now = _group(section, several)
            if now != group:
                parts.append(f"<h2>{html.escape(now)}</h2>")
                group = now
            parts.append(self.section(section))
        if not charted:
            parts += self.charts(chart_png)
        body = "\n".join(parts)
        return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>{html.escape(title)}</title>"
                f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")

    def charts(self, png: bytes | None) -> list[str]:
        if png is None:
            return []
        data = base64.b64encode(png).decode("ascii")
        return ["<h2>Charts</h2>",
                f"<img alt='fan charts, histograms, tornado and convergence of every "
                f"scenario' src='data:image/png;base64,{data}'>"]


def render_html(review: Review, chart_png: bytes | None) -> str:
    """The whole report as one HTML document."""
    return HtmlRenderer().document(review, chart_png)
