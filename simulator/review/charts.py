"""Charts (matplotlib, the ``plot`` extra): fan charts, histograms, tornado, convergence.

Colours are the Okabe-Ito palette, safe for colour-blind readers. Infinite CAC payback is
drawn at the top of the axis (capped) and the axis label says so.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.results import percentiles
from .io import require

if TYPE_CHECKING:
    from .contents import Review
    from .convergence import Step

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
FANS = (("customers", "Customers", "accounts"), ("mrr", "MRR", "$ per month"),
        ("cash", "Cash", "$"), ("cac_payback_months", "CAC payback", "months"))
PAYBACK_CAP = 60.0


def _pyplot() -> Any:
    require("matplotlib", "plot", "charts", "--plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _money(axis: Any) -> None:
    """Money ticks on ``axis`` (``ax.xaxis`` or ``ax.yaxis``): 250k, 1.5M."""
    from matplotlib.ticker import FuncFormatter

    def short(value: float, _: object) -> str:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"

    axis.set_major_formatter(FuncFormatter(short))


def _bands(values: np.ndarray, qs: tuple[float, ...], cap: float | None) -> np.ndarray:
    out = np.array([percentiles(values[:, t], qs) for t in range(values.shape[1])]).T
    return np.minimum(out, cap) if cap is not None else out


def fan_chart(ax: Any, review: Review, metric: str, title: str, unit: str,
              plans: Mapping[str, Mapping[str, np.ndarray]]) -> None:
    """P5-P95 and P25-P75 bands, the median and the plan line, month by month."""
    cap = PAYBACK_CAP if metric == "cac_payback_months" else None
    single = len(review.results) == 1
    for i, (name, result) in enumerate(review.results.items()):
        colour = PALETTE[i % len(PALETTE)]
        months = np.arange(1, result.months + 1)
        p5, p25, p50, p75, p95 = _bands(result.trajectories(metric), (5, 25, 50, 75, 95), cap)
        if single:
            ax.fill_between(months, p5, p95, color=colour, alpha=0.18, lw=0, label="P5-P95")
        ax.fill_between(months, p25, p75, color=colour, alpha=0.35, lw=0,
                        label="P25-P75" if single else f"{name} P25-P75")
        ax.plot(months, p50, color=colour, lw=2, label="median" if single else f"{name} median")
        plan = plans[name][metric]
        plan = np.minimum(plan, cap) if cap is not None else plan
        ax.plot(months, plan, color=colour if not single else PALETTE[3], lw=1.5, ls="--",
                label="plan (expected flows at input means)" if single else f"{name} plan")
    ax.set_title(title)
    ax.set_xlabel("month")
    ax.set_ylabel(unit + (f" (inf drawn at {PAYBACK_CAP:g})" if cap else ""))
    if unit.startswith("$"):
        _money(ax.yaxis)
    ax.grid(alpha=0.3)


def histogram(ax: Any, review: Review, metric: str, unit: str) -> None:
    """Distribution of ``metric`` at each report month (first scenario)."""
    result = review.first
    for i, month in enumerate(review.report_months):
        values = result.at(metric, month)
        finite = values[np.isfinite(values)]
        integers = len(finite) > 0 and np.array_equal(finite, np.rint(finite))
        span = np.ptp(finite) if len(finite) else 0.0
        bins: Any = np.arange(finite.min() - 0.5, finite.max() + 1.5) \
            if integers and span < 200 else 50
        ax.hist(finite, bins=bins, histtype="step", lw=1.8, color=PALETTE[i % len(PALETTE)],
                label=f"month {month}" + (f" ({np.mean(~np.isfinite(values)):.0%} inf)"
                                          if len(finite) < len(values) else ""))
    ax.set_title(f"{metric} at report months")
    ax.set_xlabel(unit)
    ax.set_ylabel("paths")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def tornado(ax: Any, review: Review) -> None:
    """Spearman rank correlation of each input with the output, largest on top."""
    assert review.sensitivity_of is not None
    metric, month = review.sensitivity_of
    frame = next(iter(review.tornado.values())).iloc[:12]
    rho = frame["spearman"].to_numpy()[::-1]
    names = [str(n) for n in frame.index][::-1]
    colours = [PALETTE[0] if r >= 0 else PALETTE[3] for r in rho]
    ax.barh(names, rho, color=colours)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_title(f"What drives {metric} at month {month}")
    ax.set_xlabel("Spearman rank correlation with the output")
    ax.grid(alpha=0.3, axis="x")


def convergence(ax: Any, history: list[Step], precision: float) -> None:
    """Worst relative half-width of P10/P50/P90 against paths."""
    paths = [s.paths for s in history]
    worst = [100 * s.worst if math.isfinite(s.worst) else np.nan for s in history]
    ax.plot(paths, worst, marker="o", color=PALETTE[0])
    ax.axhline(100 * precision, color=PALETTE[3], ls="--", label="target")
    ax.set_xscale("log")
    ax.set_title("Convergence")
    ax.set_xlabel("paths")
    ax.set_ylabel("worst relative half-width (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def render_png(review: Review, plans: Mapping[str, Mapping[str, np.ndarray]],
               history: list[Step] | None = None, precision: float | None = None) -> bytes:
    """One PNG: the four fan charts, histograms, and the tornado / convergence when asked."""
    plt = _pyplot()
    extra = [p for p in ("tornado" if review.sensitivity_of else "",
                         "convergence" if history else "") if p]
    rows = 3 + (1 if extra else 0)
    fig, axes = plt.subplots(rows, 2, figsize=(13, 4.2 * rows), squeeze=False)
    for ax, (metric, title, unit) in zip(axes[:2].ravel(), FANS, strict=True):
        fan_chart(ax, review, metric, title, unit, plans)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    histogram(axes[2, 0], review, "customers", "accounts")
    histogram(axes[2, 1], review, "mrr", "$ per month")
    _money(axes[2, 1].xaxis)
    if extra:
        if "tornado" in extra:
            tornado(axes[3, 0], review)
        if history and precision is not None:
            convergence(axes[3, 1] if "tornado" in extra else axes[3, 0], history, precision)
        for ax in axes[3, len(extra):]:
            ax.axis("off")
    fig.suptitle(", ".join(review.results) + f": {review.first.paths:,} paths", fontsize=13)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
