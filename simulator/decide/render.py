"""Decisions as text and a chart of the channels' response curves (their JSON is
:func:`simulator.review.report.strict_json` of ``to_dict()``)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from ..review.cells import pct
from ..review.charts import figure
from .targets import shown

if TYPE_CHECKING:
    from .allocate import Allocation
    from .solve import Solution


def solution_text(s: Solution) -> str:
    """A goal seek's answer, for the terminal."""
    level = f"{100 * s.level:g}%"
    spread = "" if s.value_p5 is None else \
        f"; P5 {shown(s.value_p5)}, P95 {shown(s.value_p95 or math.nan)}"
    (m0, p0), (m1, p1) = s.ends
    base = s.value / s.multiplier if s.multiplier else math.nan
    lines = [
        f"goal: {s.target} >= {s.goal:.0%}, varying {s.input}",
        f"  answer       {s.input} = {shown(s.value)} (mean{spread})",
        f"  multiplier   {s.multiplier:.4g}x the config's value",
        f"  {level} interval of the answer (Monte Carlo): {shown(s.value_interval[0])} to "
        f"{shown(s.value_interval[1])} ({s.multiplier_interval[0]:.4g}x to "
        f"{s.multiplier_interval[1]:.4g}x)",
        f"  probability there: {pct(s.probability)} [{pct(s.probability_interval[0])}, "
        f"{pct(s.probability_interval[1])}] (Wilson {level})",
        f"  range searched: {shown(m0 * base)} ({m0:g}x): {pct(p0)}; {shown(m1 * base)} "
        f"({m1:g}x): {pct(p1)}",
        f"{s.paths:,} paths, seed {s.seed}, {s.evaluations} runs",
    ]
    return "\n".join(lines) + "\n"


def allocation_text(a: Allocation) -> str:
    """An allocation, for the terminal: one row per channel, then the objective."""
    month = a.objective.rsplit("@", 1)[-1]
    head = ["channel", "spend now", "share", "optimal", "share", f"new (m1-{month}) p10",
            "p50", "p90", "blended CAC", "marginal CAC"]
    rows = [[c.name, shown(c.spend_current), pct(c.share_current), shown(c.spend_optimal),
             pct(c.share_optimal), *(shown(v) for v in c.new_customers_optimal),
             shown(c.blended_cac_optimal), shown(c.marginal_cac)] for c in a.channels]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    table = [" ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in [head, *rows]]
    verb = "minimise" if a.minimise else "maximise"
    level = f"{100 * a.level:g}%"
    lines = [f"allocate {shown(a.budget)} of month-1 spend to {verb} the {a.objective}", "",
             *table, "",
             f"{a.objective}: {shown(a.objective_current)} now -> "
             f"{shown(a.objective_optimal)} optimal; change {shown(a.gain)} "
             f"[{shown(a.gain_interval[0])}, {shown(a.gain_interval[1])}] ({level}, paired "
             f"over the same paths)",
             "new customers: months 1 to the objective's month, at the optimal spends; "
             "marginal CAC: extra spend per extra new customer"]
    if not a.converged:
        lines.append("warning: the search stopped before converging; the spends are the best "
                     "found")
    lines.append(f"{a.paths:,} paths, seed {a.seed}, {a.evaluations} runs")
    return "\n".join(lines) + "\n"


def curves_png(a: Allocation) -> bytes:
    """Each channel's response curve (the new customers a month its month-1 spend buys, mean
    over paths) with the current and the optimal spend marked."""
    fig = figure(7, 4.5)
    axes = fig.subplots()
    for c in a.channels:
        spends, volumes = a.curves[c.name]
        line = axes.plot(spends, volumes, label=c.name)[0]
        for spend, marker in ((c.spend_current, "o"), (c.spend_optimal, "*")):
            axes.plot([spend], [_at(spends, volumes, spend)], marker, color=line.get_color(),
                      markersize=9 if marker == "*" else 6)
    axes.set_xlabel("month-1 spend ($)")
    axes.set_ylabel("new customers a month it buys (mean over paths)")
    axes.set_title(f"response curves: o now, * optimal ({a.objective})")
    axes.legend(fontsize="small")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _at(xs: tuple[float, ...], ys: tuple[float, ...], x: float) -> float:
    import numpy as np

    return float(np.interp(x, xs, ys))
