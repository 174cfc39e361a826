"""``simulate fit HISTORY.csv --column NAME``: fit distributions to a column of history and
print the ranking with the TOML to paste into a config."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from distributions import DistributionError
from distributions.fitting import fit, ranking, read_column

from ..config.errors import ConfigError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("csv_file", metavar="HISTORY.csv")
@click.option("--column", required=True, metavar="NAME", help="The column to fit.")
@click.option("--families", metavar="LIST",
              help="Candidate families, e.g. beta,lognormal (default: all that apply).")
@click.option("--top", default=None, type=int, metavar="N", help="Show only the best N fits.")
def fit_command(csv_file: str, column: str, families: str | None, top: int | None) -> None:
    """Fit distribution families to a column of HISTORY.csv, ranked by AIC."""
    if top is not None and top < 1:
        raise ConfigError("", f"must be >= 1 (got {top})", "--top")
    if Path(csv_file).is_dir():
        raise ConfigError("", "is a directory, not a CSV file (give the history file in it, "
                              "e.g. simulate fit DIR/history.csv --column NAME)", csv_file)
    try:
        values = read_column(csv_file, column)
        chosen = [f.strip() for f in families.split(",")] if families else None
        fits = fit(values, chosen)
    except DistributionError as err:
        flag = {"column": "--column", "families": "--families"}.get(err.param, "")
        raise ConfigError(err.param if not flag else "", err.reason, flag or csv_file) from None
    if top is not None:
        fits = fits[:top]
    click.echo(f"{csv_file}: column {column!r}, {len(values)} values; ranked by AIC "
               f"(lower is better; KS p-values are optimistic: parameters were fitted)")
    click.echo(format_ranking(ranking(fits)).rstrip("\n"))


def format_ranking(frame: pd.DataFrame) -> str:
    """A plain-text table of :func:`distributions.fitting.ranking`'s frame: rank, family,
    AIC, AIC above the best, KS statistic and p-value, TOML."""

    def short(x: float, width: int) -> str:  # one decimal, or 3 significant digits if wider
        text = f"{x:.1f}"
        return f"{text if len(text) <= width else f'{x:.3g}':>{width}}"

    def pvalue(p: float) -> str:
        return f"{p:>5.3f}" if p >= 0.001 else "<.001"

    lines = [f"{'rank':>4}  {'family':<10}  {'AIC':>10}  {'dAIC':>8}  {'KS stat':>7}  "
             f"{'KS p':>5}  TOML"]
    for rank, row in zip(frame.index, frame.to_dict("records"), strict=True):
        lines.append(
            f"{int(rank):>4}  {row['family']:<10}  {short(float(row['aic']), 10)}  "
            f"{short(float(row['daic']), 8)}  {float(row['ks_stat']):>7.4f}  "
            f"{pvalue(float(row['ks_pvalue']))}  {row['toml']}"
        )
    return "\n".join(lines)
