"""Plain-text formatting of a fit ranking, kept only for the deprecated ``fit_table``.

The command line (``simulate fit``) is to hold :func:`format_ranking` itself; once it does,
this module and :func:`distributions.fitting.fit_table` go.
"""

from __future__ import annotations

from typing import Any


def format_ranking(frame: Any) -> str:
    """A plain-text table of :func:`distributions.fitting.ranking`'s frame: rank, family,
    AIC, AIC above the best, KS statistic and p-value, TOML."""

    def short(x: float, width: int) -> str:  # one decimal, or 3 significant digits if wider
        text = f"{x:.1f}"
        return f"{text if len(text) <= width else f'{x:.3g}':>{width}}"

    def pvalue(p: float) -> str:
        return f"{p:>5.3f}" if p >= 0.001 else "<.001"

    lines = [f"{'rank':>4}  {'family':<10}  {'AIC':>10}  {'dAIC':>8}  {'KS stat':>7}  "
             f"{'KS p':>5}  TOML"]
    for rank, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        lines.append(
            f"{int(rank):>4}  {row.family:<10}  {short(float(row.aic), 10)}  "
            f"{short(float(row.daic), 8)}  {float(row.ks_stat):>7.4f}  "
            f"{pvalue(float(row.ks_pvalue))}  {row.toml}"
        )
    return "\n".join(lines)
