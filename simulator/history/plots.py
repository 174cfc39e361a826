"""The backtest chart (matplotlib, the ``plot`` extra): each cut's P10-P90 fan over the
actuals, per metric, and a histogram of the PIT values (flat when the ranges are honest)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ..review.charts import PALETTE, figure
from .backtest import Backtest, metric_columns
from .data import History

SHOWN = ("visitors", "new_customers", "customers", "mrr")


def backtest_png(bt: Backtest, history: History) -> bytes:
    """PNG bytes: one panel per shown metric (history line, each cut's P10-P50-P90 fan) and a
    PIT histogram of every scored forecast."""
    metrics = [m for m in SHOWN if m in metric_columns(history)]
    columns = metric_columns(history)
    fig = figure(9, 2.6 * (len(metrics) + 1))
    axes = fig.subplots(len(metrics) + 1, 1)
    x = np.arange(1, history.months + 1)
    for ax, metric in zip(axes, metrics, strict=False):
        ax.plot(x, history.counts(columns[metric]), color="black", lw=1.2, label="actual")
        for i, (cut, fans) in enumerate(sorted(bt.fans.items())):
            samples = fans[metric]
            months = cut + np.arange(1, samples.shape[1] + 1)
            q = np.quantile(samples, [0.1, 0.5, 0.9], axis=0)
            colour = PALETTE[i % len(PALETTE)]
            ax.fill_between(months, q[0], q[2], color=colour, alpha=0.18, lw=0)
            ax.plot(months, q[1], color=colour, lw=0.8)
        ax.set_title(f"{metric}: P10-P90 forecasts from each cut over the actuals", fontsize=9)
        ax.set_xlim(1, history.months)
    pit_ax: Any = axes[-1]
    pit_ax.hist(bt.scores["pit"], bins=10, range=(0, 1), color=PALETTE[0], edgecolor="white")
    pit_ax.axhline(len(bt.scores) / 10, color="black", lw=0.8, ls="--")
    pit_ax.set_title("PIT of every scored forecast (flat = honest ranges; U = too narrow; "
                     "hump = too wide)", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
