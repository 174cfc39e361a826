"""Flags every command reads the same way: integers, lists, the overrides of ``--set``,
``--scale`` and the dedicated flags, and the seed (drawn and announced when not given).

>>> int_flag("12", "--months", 1), list_flag("5,50,95", "--percentiles", float)
(12, [5.0, 50.0, 95.0])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from ..config.core import Config
from ..config.errors import ConfigError
from ..config.overrides import Override, parse_scale, parse_set
from ..engine.runner import draw_seed

Command = TypeVar("Command", bound=Callable[..., object])


def int_flag(text: str | None, flag: str, low: int) -> int | None:
    """``--flag N``: an integer >= ``low``, or None when the flag is not given."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConfigError("", f"must be an integer >= {low} (got {text!r})", flag) from None
    if value < low:
        raise ConfigError("", f"must be >= {low} (got {value})", flag)
    return value



def required_int(text: str | None, flag: str, low: int) -> int:
    """``--flag N`` that must be given: an integer >= ``low``."""
    value = int_flag(text, flag, low)
    if value is None:
        raise ConfigError("", f"is required (an integer >= {low})", flag)
    return value


def list_flag(text: str | None, flag: str, kind: type) -> list[float] | list[int] | None:
    """``--flag 5,50,95``: comma-separated numbers (or integers), or None."""
    if text is None:
        return None
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise ConfigError("", f"must be comma-separated {what} such as "
                              f"{'12,24' if kind is int else '5,50,95'} (got {text!r})",
                          flag) from None



def overrides_from(sets: tuple[str, ...], paths: str | None, months: str | None,
                   seed: str | None, percentiles: str | None, at: str | None,
                   scales: tuple[str, ...] = ()) -> list[Override]:
    """The overrides a command's flags make: ``--set``, ``--scale`` and the dedicated flags
    (which win over ``--set`` and over the file)."""
    out = [parse_set(s) for s in sets] + [parse_scale(s) for s in scales]
    flags = [("simulation.paths", int_flag(paths, "--paths", 1), "--paths"),
             ("simulation.months", int_flag(months, "--months", 1), "--months"),
             ("simulation.seed", int_flag(seed, "--seed", 0), "--seed"),
             ("simulation.percentiles", list_flag(percentiles, "--percentiles", float),
              "--percentiles"),
             ("simulation.report_months", list_flag(at, "--at", int), "--at")]
    out += [Override(key, value, label) for key, value, label in flags if value is not None]
    return out



def seed_of(config: Config) -> int:
    """The config's seed, or one drawn now and announced on stderr so the run can be
    repeated (the library draws silently; the command line tells)."""
    if config.simulation.seed is not None:
        return config.simulation.seed
    seed = draw_seed()
    print(f"seed: {seed} (drawn; pass --seed {seed} to repeat this run)", file=sys.stderr)
    return seed


def run_options(formats: tuple[str, ...]) -> Callable[[Command], Command]:
    """The options of a command that runs a config and prints one answer (solve, allocate):
    ``--paths``, ``--seed``, ``--set``, ``--format`` (one of ``formats``) and ``--output``."""
    options = (
        click.option("--paths", metavar="N", help="Monte Carlo paths (overrides the config)."),
        click.option("--seed", metavar="N", help="Random seed."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                     help="Set a config value first (TOML literal). Repeatable."),
        click.option("--format", "fmt", type=click.Choice(formats), default="table",
                     help="Output format (default: table)."),
        click.option("--output", metavar="FILE", help="Write to FILE instead of printing."))

    def decorate(command: Command) -> Command:
        for option in reversed(options):  # as if written in this order above the command
            command = option(command)
        return command

    return decorate
