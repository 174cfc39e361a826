"""``simulate solve CONFIG --target 'METRIC@MONTH OP X' --probability P --vary INPUT``: the
value of one input at which the probability of a target reaches P (see
:mod:`simulator.decide.solve`).

Exit status: 0 with an answer, 1 when no value in the range reaches the probability (the
message names the probability at both ends), 2 for a bad argument or config.
"""

from __future__ import annotations

import sys

import click

from ..config.core import load_config
from ..decide.render import solution_text
from ..decide.solve import NoSolution, solve
from ..review.io import atomic_write, check_writable
from ..review.report import strict_json
from .flags import overrides_from, run_options, seed_of

FORMATS = ("table", "json")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("config", metavar="CONFIG")
@click.option("--target", required=True, metavar="'METRIC@MONTH OP X'",
              help="The goal, e.g. 'customers@24>=200'.")
@click.option("--probability", required=True, metavar="P",
              help="The probability wanted, e.g. 0.8 or 80%.")
@click.option("--vary", required=True, metavar="INPUT",
              help="The input to scale, e.g. acquisition.visitors.")
@click.option("--range", "span", metavar="LOW:HIGH",
              help="Where to search: the input's units (1000:20000) or multipliers "
                   "(0.5x:4x). Default 0x:10x.")
@run_options(FORMATS)
def solve_command(config: str, target: str, probability: str, vary: str, span: str | None,
                  paths: str | None, seed: str | None, sets: tuple[str, ...], fmt: str,
                  output: str | None) -> None:
    """Find the value of INPUT at which P(target) reaches P, e.g. the visitors needed for
    200 customers by month 24 with 80% probability."""
    cfg = load_config(config, overrides_from(sets, paths, None, seed, None, None))
    if output is not None:
        check_writable(output)
    try:
        answer = solve(cfg, target, probability, vary, within=span, seed=seed_of(cfg))
    except NoSolution as err:
        print(f"no solution: {err}", file=sys.stderr)
        sys.exit(1)
    rendered = strict_json(answer.to_dict()) if fmt == "json" else solution_text(answer)
    if output is None:
        click.echo(rendered, nl=False)
    else:
        atomic_write(output, rendered)
