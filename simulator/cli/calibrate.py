"""``simulate calibrate [HISTORY.csv] [--cohorts COHORTS.csv] --config BASE.toml --output
OUT.toml``: a config whose inputs come from the company's own history and cohorts, a table of
base ranges vs data ranges, and the fitted retention curve next to the observed one."""

from __future__ import annotations

import sys

import click
import numpy as np

from ..config.core import Config, load_config
from ..config.errors import ConfigError
from ..history.calibrate import Calibration, calibration
from ..history.sbg_calibrate import curve_table
from ..history.toml_out import dumps
from ..review.io import atomic_write, check_writable

_Q = (0.05, 0.5, 0.95)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    if x != 0 and abs(x) < 0.1:
        return f"{x:.4f}"
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _range(config: Config, name: str) -> list[str]:
    inp = config.inputs.get(name)
    if inp is None:
        return ["-"] * 3
    return [_fmt(float(v)) for v in np.atleast_1d(inp.dist.ppf(np.array(_Q)))]


def comparison(cal: Calibration) -> str:
    """The side-by-side table: each calibrated input's P5 / P50 / P95 in the base config and
    from the data (``/month``: a month's value of an input redrawn every month)."""
    new = load_config(cal.config)
    rows = [["input", "base p5", "base p50", "base p95", "data p5", "data p50", "data p95",
             "drawn"]]
    for name in cal.calibrated:
        if name.startswith("start.") or name.startswith("costs."):
            continue
        rows.append([name, *_range(cal.base, name), *_range(new, name),
                     "per month" if new.inputs[name].vary == "month" else "per path"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, 7) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    state = [f"{n} = {_fmt(float(new.inputs[n].dist.mean()))}" for n in cal.calibrated
             if n.startswith(("start.", "costs."))]
    out = ["Base config's range vs range from your data (P5 / P50 / P95):", *lines]
    if state:
        out.append("Set from the last months: " + ", ".join(state))
    if cal.fit is not None:
        out.append(f"Set from the cohorts: retention.model = \"sbg\", start.customer_age = "
                   f"{new.depth.retention.customer_age}")
    out.append(f"Kept from the base config: {', '.join(cal.kept) or 'nothing'}")
    out.extend(f"Not used: {u}" for u in cal.unused)
    out.extend(cal.notes)
    if cal.fit is not None:
        out.append(curve_table(cal.fit, cal.base).rstrip("\n"))
    return "\n".join(out) + "\n"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("history", metavar="[HISTORY.csv]", required=False)
@click.option("--cohorts", metavar="COHORTS.csv", help="Cohort retention table (cohort, age, "
                                                       "active): fits sBG retention.")
@click.option("--config", "base", required=True, metavar="BASE.toml",
              help="The base config: its stages, and every input the data cannot inform.")
@click.option("--output", metavar="OUT.toml",
              help="Write the calibrated config here (default: print it to stdout and the "
                   "comparison table to stderr).")
def calibrate_command(history: str | None, cohorts: str | None, base: str,
                      output: str | None) -> None:
    """Calibrate the inputs of BASE.toml from HISTORY.csv (one row a month) and start the
    forecast from its last month; with --cohorts, retention is the sBG model fitted to the
    cohorts (then the history's churn counts are not used for it). Give HISTORY.csv,
    --cohorts or both."""
    if history is None and cohorts is None:
        raise ConfigError("", "give a HISTORY.csv, --cohorts COHORTS.csv, or both",
                          "simulate calibrate")
    if output is not None:
        check_writable(output)
        if not output.endswith(".toml"):
            raise ConfigError("", f"must be a .toml file (got {output!r})", "--output")
    cal = calibration(history, base, cohorts)
    text = dumps(cal.config, comments=cal.comments, header=cal.header())
    load_config(cal.config)  # the written config must run
    table = comparison(cal)
    if output is None:
        click.echo(text, nl=False)
        print(table, file=sys.stderr, end="")
    else:
        atomic_write(output, text)
        click.echo(table, nl=False)
        click.echo(f"wrote {output}")
