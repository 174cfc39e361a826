"""``simulate backtest HISTORY.csv --config BASE.toml --train N --horizon H``: score the
engine's own past forecasts (calibrated on the months up to each cut) against what happened."""

from __future__ import annotations

import sys
from typing import Any

import click
import pandas as pd

from ..config.errors import ConfigError
from ..history.backtest import Backtest, run_backtest
from ..history.calibrate import load_base
from ..history.data import read_history
from ..review.io import atomic_write, check_writable
from ..review.outputs import check_target
from ..review.report import strict_json
from .flags import int_flag, required_int

FORMATS = ("table", "csv", "json")


def _score(x: float) -> str:
    """A CRPS for the table: four significant digits, thousands separated, never 1e+04."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """The summary as JSON-ready rows (plain ints and floats)."""
    out = []
    for record in summary.to_dict("records"):
        out.append({"metric": str(record["metric"]), "horizon": int(record["horizon"]),
                    **{k: float(record[k]) for k in ("coverage_80", "coverage_90", "crps",
                                                      "baseline_crps")},
                    "n": int(record["n"])})
    return out


def table(summary: pd.DataFrame, bt: Backtest, title: str) -> str:
    """The backtest as text: coverage of P10-P90 and P5-P95 (aim: 80% and 90%), CRPS of the
    forecast and of the naive baseline, and the skill 1 - CRPS / baseline CRPS."""
    cuts = sorted(bt.fans)
    lines = [title, f"{len(cuts)} cut(s) at months {cuts[0]}..{cuts[-1]}; "
                    f"coverage should be near 80% (P10-P90) and 90% (P5-P95); "
                    f"skill > 0 beats the naive baseline",
             f"{'metric':<16}{'h':>3}{'P10-P90':>9}{'P5-P95':>8}{'CRPS':>12}{'baseline':>12}"
             f"{'skill':>8}{'n':>5}"]
    for row in rows(summary):
        crps, base = row["crps"], row["baseline_crps"]
        skill = 1.0 - crps / base if base > 0 else float("nan")
        lines.append(f"{row['metric']:<16}{row['horizon']:>3}{row['coverage_80']:>9.0%}"
                     f"{row['coverage_90']:>8.0%}{_score(crps):>12}{_score(base):>12}"
                     f"{skill:>+8.0%}{row['n']:>5}")
    return "\n".join(lines) + "\n"


def render(summary: pd.DataFrame, kind: str, bt: Backtest, title: str) -> str:
    if kind == "csv":
        return str(summary.to_csv(index=False, float_format="%.6g"))
    if kind == "json":
        return strict_json(rows(summary), indent=1)
    return table(summary, bt, title)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("history", metavar="HISTORY.csv")
@click.option("--config", "base", required=True, metavar="BASE.toml",
              help="The base config calibrated at each cut.")
@click.option("--train", metavar="N", help="First cut: calibrate on months 1..N.")
@click.option("--horizon", metavar="H", help="Months forecast from each cut.")
@click.option("--step", metavar="K", help="Months between cuts (default 1).")
@click.option("--paths", metavar="P", help="Paths per forecast (default 1000).")
@click.option("--seed", metavar="S", help="Random seed (default 0).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: table; with --output, from its extension).")
@click.option("--output", metavar="FILE", help="Write to FILE (.txt, .csv, .json).")
@click.option("--plot", metavar="FILE.png", help="Forecast fans over the actuals and a PIT "
                                                 "histogram (matplotlib).")
def backtest_command(history: str, base: str, train: str | None, horizon: str | None,
                     step: str | None, paths: str | None, seed: str | None, fmt: str | None,
                     output: str | None, plot: str | None) -> None:
    """Rolling-origin backtest: calibrate on the months up to each cut, simulate forward from
    the state at the cut, and score the held-out months."""
    n_train = required_int(train, "--train", 3)
    n_horizon = required_int(horizon, "--horizon", 1)
    n_step = int_flag(step, "--step", 1) or 1
    n_paths = int_flag(paths, "--paths", 1) or 1000
    n_seed = int_flag(seed, "--seed", 0) or 0
    kind = fmt or "table"
    if output is not None:
        check_target(output, "--output", (".txt", ".csv", ".json"))
        by_ext = {"txt": "table", "csv": "csv", "json": "json"}[output.rsplit(".", 1)[-1].lower()]
        if fmt is not None and fmt != by_ext:
            raise ConfigError("", f"{fmt!r} conflicts with --output {output!r}", "--format")
        kind = by_ext
        check_writable(output)
    if plot is not None:
        check_target(plot, "--plot", (".png",))
    raw, config = load_base(base)
    h = read_history(history, config.stages, channels=config.channel_names)
    bt = run_backtest(h, raw, config, train=n_train, horizon=n_horizon, step=n_step,
                      paths=n_paths, seed=n_seed)
    title = (f"Backtest of {base} on {history}: calibrated at each cut, {n_paths:,} paths, "
             f"horizon 1-{n_horizon}")
    text = render(bt.summary(), kind, bt, title)
    if plot is not None:
        from ..history.plots import backtest_png

        atomic_write(plot, backtest_png(bt, h))
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
        print(f"wrote {output}", file=sys.stderr)
