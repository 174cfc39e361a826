"""Charts (matplotlib, the ``plot`` extra): fan charts, histograms, tornado, convergence.

Colours are the Okabe-Ito palette, safe for colour-blind readers. Every scenario gets its own
labelled histograms and tornado; histograms at different months and of different scenarios
share their bins and show shares of paths, so their heights compare. CAC payback is drawn
where it is finite, with the share of paths whose payback is infinite on its own axis (no band
is glued to an arbitrary cap).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.results import percentiles
from .cells import label
from .io import require

if TYPE_CHECKING:
    from .contents import Review

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
FANS = ("customers", "mrr", "cash")
HISTOGRAMS = ("customers", "mrr")
Panel = Callable[[Any], None]


def figure(width: float, height: float) -> Any:
    """A matplotlib Figure that is not managed by pyplot (no backend is switched for
    notebook users; ``savefig`` renders with Agg)."""
    require("matplotlib", "plot", "charts", "--plot")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _money(axis: Any) -> None:
    """Money ticks on ``axis`` (``ax.xaxis`` or ``ax.yaxis``): $250k, $1.5M."""
    from matplotlib.ticker import FuncFormatter

    def short(value: float, _: object) -> str:
        sign = "-" if value < 0 else ""
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{sign}${abs(value) / size:g}{suffix}"
        return f"{sign}${abs(value):g}"

    axis.set_major_formatter(FuncFormatter(short))


def _title(metric: str) -> str:
    """``CAC payback (months) [cac_payback_months]``: words, then the code name."""
    return f"{label(metric)}  [{metric}]"


def _is_money(metric: str) -> bool:
    return label(metric).endswith("($)")


def _bands(values: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    return np.array([percentiles(values[:, t], qs) for t in range(values.shape[1])]).T


def fan_chart(ax: Any, review: Review, metric: str,
              plans: Mapping[str, Mapping[str, np.ndarray]]) -> None:
    """P5-P95 (one scenario) and P25-P75 bands, the median and the plan line."""
    single = len(review.results) == 1
    for i, (name, result) in enumerate(review.results.items()):
        colour = PALETTE[i % len(PALETTE)]
        months = np.arange(1, result.months + 1)
        p5, p25, p50, p75, p95 = _bands(result.trajectories(metric), (5, 25, 50, 75, 95))
        tag = "" if single else f"{name} "
        if single:
            ax.fill_between(months, p5, p95, color=colour, alpha=0.18, lw=0, label="P5-P95")
        ax.fill_between(months, p25, p75, color=colour, alpha=0.35, lw=0,
                        label=f"{tag}P25-P75")
        ax.plot(months, p50, color=colour, lw=2, label=f"{tag}median")
        ax.plot(months, plans[name][metric], color=PALETTE[3] if single else colour, lw=1.5,
                ls="--", label=f"{tag}plan line")
    ax.set_title(_title(metric), fontsize=10)
    ax.set_xlabel("month")
    ax.set_ylabel(label(metric).split(" (")[1].rstrip(")") if not _is_money(metric)
                  else "$ (month-end)" if metric == "cash" else "$ per month")
    if _is_money(metric):
        _money(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", framealpha=0.6)


def payback_chart(ax: Any, review: Review) -> None:
    """CAC payback where it is finite (P25, median, P75 lines), and on a second axis the
    share of paths with an infinite payback (no customer won in the CAC window)."""
    metric = "cac_payback_months"
    share_ax = ax.twinx()
    tops = [24.0]
    for i, (name, result) in enumerate(review.results.items()):
        colour = PALETTE[i % len(PALETTE)]
        values = result.trajectories(metric)
        months = np.arange(1, result.months + 1)
        p25, p50, p75 = _bands(values, (25, 50, 75))
        finite = [np.where(np.isfinite(b), b, np.nan) for b in (p25, p50, p75)]
        tag = f"{name} " if len(review.results) > 1 else ""
        ax.fill_between(months, finite[0], finite[2], color=colour, alpha=0.25, lw=0,
                        label=f"{tag}P25-P75 (where finite)")
        ax.plot(months, finite[1], color=colour, lw=2, label=f"{tag}median (where finite)")
        ax.plot(months, finite[0], color=colour, lw=0.9, label=f"{tag}P25 (where finite)")
        share_ax.plot(months, 100 * np.mean(np.isinf(values), axis=0), color=colour, lw=1.3,
                      ls=":", label=f"{tag}% of paths with infinite payback")
        tops += [float(np.nanmax(f)) for f in finite if np.isfinite(f).any()]
    ax.axhline(12, color="grey", lw=0.8, ls="--")
    ax.set_ylim(0, min(max(tops) * 1.1, 120))
    share_ax.set_ylim(0, 100)
    share_ax.set_ylabel("% of paths with infinite payback (dotted)")
    ax.set_title(_title(metric) + "; 12-month line dashed", fontsize=10)
    ax.set_xlabel("month")
    ax.set_ylabel("months")
    ax.grid(alpha=0.3)
    lines = ax.get_legend_handles_labels()
    more = share_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, ncol=2,
              loc="upper center", bbox_to_anchor=(0.5, -0.14))


def shared_bins(review: Review, metric: str) -> np.ndarray:
    """Bins shared by every scenario and report month: unit bins for small counts, else 60
    equal bins over the pooled P0.1-P99.9 range (paths beyond it are not drawn; the legend
    gives their share)."""
    pooled = np.concatenate([r.at(metric, m) for r in review.results.values()
                             for m in review.report_months])
    finite = pooled[np.isfinite(pooled)]
    if len(finite) == 0:
        return np.array([0.0, 1.0])
    if np.array_equal(finite, np.rint(finite)) and np.ptp(finite) < 200:
        return np.arange(finite.min() - 0.5, finite.max() + 1.5)
    low, high = np.percentile(finite, [0.1, 99.9])
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, 61)


def _share(p: float) -> str:
    """A share of paths for a legend: ``<0.1%`` rather than a misleading ``0.0%``."""
    return "<0.1%" if 0 < p < 0.001 else f"{p:.1%}"


def histogram(ax: Any, review: Review, name: str, metric: str, bins: np.ndarray) -> None:
    """Distribution of ``metric`` at each report month in scenario ``name``, as shares of
    paths in bins shared with the other months and scenarios."""
    result = review.results[name]
    for i, month in enumerate(review.report_months):
        values = result.at(metric, month)
        inside = values[(values >= bins[0]) & (values <= bins[-1])]
        infinite = float(np.mean(np.isinf(values)))
        beyond = 1 - len(inside) / len(values) - infinite
        notes = [f"{_share(infinite)} inf"] if infinite else []
        notes += [f"{_share(beyond)} beyond the axis"] if beyond > 0 else []
        ax.hist(inside, bins=bins, weights=np.full(len(inside), 100 / len(values)),
                histtype="step", lw=1.8, color=PALETTE[i % len(PALETTE)],
                label=f"month {month}" + (f" ({', '.join(notes)})" if notes else ""))
    scenario = f": {name}" if len(review.results) > 1 else ""
    ax.set_title(f"{_title(metric)} at report months{scenario}", fontsize=10)
    ax.set_xlabel(label(metric))
    ax.set_ylabel("% of paths per bin")
    if _is_money(metric):
        _money(ax.xaxis)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def tornado(ax: Any, review: Review, name: str) -> None:
    """Spearman rank correlation of each input with the output, largest on top."""
    assert review.sensitivity_of is not None
    metric, month = review.sensitivity_of
    frame = review.tornado[name].iloc[:12]
    scenario = f": {name}" if len(review.results) > 1 else ""
    ax.set_title(f"What drives {label(metric)} at month {month}{scenario}", fontsize=10)
    if frame.empty:
        ax.text(0.5, 0.5, "every input is a constant:\nnothing to rank", ha="center",
                va="center", transform=ax.transAxes)
        ax.axis("off")
        return
    rho = frame["spearman"].to_numpy()[::-1]
    names = [str(n) for n in frame.index][::-1]
    colours = [PALETTE[0] if r >= 0 else PALETTE[3] for r in rho]
    ax.barh(names, rho, color=colours)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("Spearman rank correlation with the output")
    ax.grid(alpha=0.3, axis="x")


def convergence(ax: Any, review: Review) -> None:
    """Worst relative half-width of P10/P50/P90 against paths, every round; an infinite
    half-width is drawn as a triangle at the top edge labelled inf."""
    history, precision = review.history, review.precision or 0.0
    paths = np.array([s.paths for s in history], dtype=float)
    worst = np.array([100 * s.worst for s in history])
    finite = np.isfinite(worst)
    ax.plot(paths[finite], worst[finite], marker="o", color=PALETTE[0], label="worst half-width")
    top = max([100 * precision * 2, *worst[finite]]) * 1.15
    ax.set_ylim(0, top)
    if (~finite).any():
        ax.plot(paths[~finite], np.full((~finite).sum(), top * 0.97), marker="^", ls="none",
                color=PALETTE[3], clip_on=False, label="infinite half-width")
        for x in paths[~finite]:
            ax.annotate("inf", (x, top * 0.97), textcoords="offset points", xytext=(0, -12),
                        ha="center", fontsize=8, color=PALETTE[3])
    ax.axhline(100 * precision, color=PALETTE[3], ls="--", label=f"target {precision:.2%}")
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(paths, [f"{int(p):,}" for p in paths], fontsize=7, rotation=30)
    ax.xaxis.set_minor_formatter(NullFormatter())
    state = "reached" if review.converged else "NOT reached (stopped at --max-paths)"
    ax.set_title(f"Convergence: target {state}", fontsize=10)
    ax.set_xlabel("paths")
    ax.set_ylabel("worst relative half-width (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def panels(review: Review, plans: Mapping[str, Mapping[str, np.ndarray]]) -> list[Panel]:
    """Every chart of the review, in reading order."""
    out: list[Panel] = [partial(fan_chart, review=review, metric=m, plans=plans)
                        for m in FANS]
    out.append(partial(payback_chart, review=review))
    bins = {m: shared_bins(review, m) for m in HISTOGRAMS}
    out += [partial(histogram, review=review, name=n, metric=m, bins=bins[m])
            for n in review.results for m in HISTOGRAMS]
    if review.sensitivity_of is not None:
        out += [partial(tornado, review=review, name=n) for n in review.results]
    if review.history:
        out.append(partial(convergence, review=review))
    return out


def render_png(review: Review, plans: Mapping[str, Mapping[str, np.ndarray]]) -> bytes:
    """One PNG of every panel, two a row."""
    drawn = panels(review, plans)
    rows = math.ceil(len(drawn) / 2)
    fig = figure(13, 4.4 * rows)
    axes = fig.subplots(rows, 2, squeeze=False)
    for ax, panel in zip(axes.ravel(), drawn, strict=False):
        panel(ax)
    for ax in axes.ravel()[len(drawn):]:
        ax.axis("off")
    first = review.first
    fig.suptitle(", ".join(review.results) + f": {first.paths:,} paths x {first.months} "
                 f"months, seed {first.seed}. Plan line: the deterministic path of expected "
                 f"flows at the input means", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (4.4 * rows)))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
