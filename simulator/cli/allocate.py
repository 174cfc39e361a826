"""``simulate allocate CONFIG --budget B --objective METRIC@MONTH``: the month-1 spend of each
paid channel that optimises the objective (see :mod:`simulator.decide.allocate`)."""

from __future__ import annotations

import click

from ..config.core import load_config
from ..decide.allocate import allocate
from ..decide.render import allocation_text, curves_png
from ..review import outputs
from ..review.io import atomic_write, check_writable
from ..review.report import strict_json
from .flags import overrides_from, run_options, seed_of

FORMATS = ("table", "json")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("config", metavar="CONFIG")
@click.option("--budget", required=True, metavar="B",
              help="Total month-1 spend of the channels allocated, in dollars.")
@click.option("--objective", required=True, metavar="METRIC@MONTH",
              help="What to optimise, e.g. customers@12 (CAC, payback... are minimised).")
@click.option("--channels", metavar="a,b,...", help="Paid channels to allocate among "
                                                    "(default: all).")
@click.option("--statistic", default="mean", metavar="mean|p10|p50",
              help="Statistic over paths to optimise (p10: the bad case). Default mean.")
@click.option("--bound", "bounds", multiple=True, metavar="NAME=LOW:HIGH",
              help="A channel's month-1 spend range in dollars. Repeatable.")
@run_options(FORMATS)
@click.option("--plot", metavar="FILE.png", help="Each channel's response curve, now and "
                                                 "optimal marked (matplotlib).")
def allocate_command(config: str, budget: str, objective: str, channels: str | None,
                     statistic: str, bounds: tuple[str, ...], paths: str | None,
                     seed: str | None, sets: tuple[str, ...], fmt: str, output: str | None,
                     plot: str | None) -> None:
    """Split a month-1 budget across the paid channels of CONFIG to optimise an objective."""
    cfg = load_config(config, overrides_from(sets, paths, None, seed, None, None))
    outputs.check_target(plot, "--plot", (".png",))
    if output is not None:
        check_writable(output)
    chosen = channels.split(",") if channels is not None else None
    plan = allocate(cfg, budget, objective, channels=chosen, statistic=statistic,
                    bounds=list(bounds), seed=seed_of(cfg))
    rendered = strict_json(plan.to_dict()) if fmt == "json" else allocation_text(plan)
    if plot is not None:
        atomic_write(plot, curves_png(plan))
    if output is None:
        click.echo(rendered, nl=False)
    else:
        atomic_write(output, rendered)
