"""``simulate CONFIG [CONFIG ...]``: a thin command line over the Python API.

Every bad flag or config value ends in one line on stderr, ``error: SOURCE: key: reason``,
and exit status 2; nothing is written then. ``simulate fit FILE.csv --column NAME`` fits
distributions to a column of history (see :mod:`simulator.cli.fit`).
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..config.core import Config, attributed, load_config
from ..config.errors import ConfigError
from ..config.overrides import Override, parse_set
from ..engine import kernels
from ..engine.progress import ProgressBar
from ..engine.results import Result
from ..engine.runner import draw_seed, run
from ..engine.storage import parse_size, plan
from ..review import outputs, report
from ..review.analysis import Target, parse_metric_at
from ..review.contents import Review
from ..review.convergence import Step, run_to_precision
from ..review.io import atomic_write


def _int_flag(text: str | None, flag: str, low: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConfigError("", f"must be an integer >= {low} (got {text!r})", flag) from None
    if value < low:
        raise ConfigError("", f"must be >= {low} (got {value})", flag)
    return value


def _list_flag(text: str | None, flag: str, kind: type) -> list[float] | list[int] | None:
    if text is None:
        return None
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise ConfigError("", f"must be comma-separated {what} such as "
                              f"{'12,24' if kind is int else '5,50,95'} (got {text!r})",
                          flag) from None


def _workers(text: str | None) -> int | str:
    if text is None or text == "auto":
        return text or 1
    value = _int_flag(text, "--workers", 1)
    return 1 if value is None else value


def _level(text: str | None) -> float | None:
    """``--ci 95`` (or ``95%``, or ``0.95``) -> 0.95."""
    if text is None:
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = -1.0
    level = value / 100 if value >= 1 else value
    if not 0.5 <= level < 1:
        raise ConfigError("", f"must be a confidence level such as 95 (got {text!r}; "
                              f"allowed: 50 to 99.99)", "--ci")
    return level


def _output_format(output: str | None, fmt: str | None) -> str:
    if output is None:
        return fmt or "table"
    kind = outputs.output_kind(output)
    if fmt is not None and fmt != kind:
        raise ConfigError("", f"{fmt!r} conflicts with --output {output!r} ({kind})", "--format")
    return kind


def _overrides(sets: tuple[str, ...], paths: str | None, months: str | None,
               seed: str | None, percentiles: str | None, at: str | None) -> list[Override]:
    out = [parse_set(s) for s in sets]
    flags = [("simulation.paths", _int_flag(paths, "--paths", 1), "--paths"),
             ("simulation.months", _int_flag(months, "--months", 1), "--months"),
             ("simulation.seed", _int_flag(seed, "--seed", 0), "--seed"),
             ("simulation.percentiles", _list_flag(percentiles, "--percentiles", float),
              "--percentiles"),
             ("simulation.report_months", _list_flag(at, "--at", int), "--at")]
    out += [Override(key, value, label) for key, value, label in flags if value is not None]
    return out


def _check_full(config: Config, budget: int | None, paths: int) -> None:
    if plan(config, paths, (), budget).reduced:
        raise ConfigError("", f"writing every trajectory of {paths:,} paths x "
                              f"{config.simulation.months} months needs more than the memory "
                              f"budget (raise --memory or lower --paths)", "--paths-out")


def _scenario_names(paths: tuple[str, ...]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    return stems if len(set(stems)) == len(stems) else list(paths)


def _check_horizons(configs: list[Config]) -> None:
    last = max(configs[0].simulation.report_months)
    for cfg in configs[1:]:
        if cfg.simulation.months < last:
            raise ConfigError("simulation.months", f"is {cfg.simulation.months}, shorter than "
                                                   f"the report month {last} of the first "
                                                   f"scenario", cfg.source)


def _precision(text: str | None) -> float | None:
    """``--precision 1%`` (or ``0.01``) -> 0.01."""
    if text is None:
        return None
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise ConfigError("", f"must be a relative precision such as 1% (got {text!r})",
                          "--precision")
    return value


@dataclass(frozen=True)
class Execution:
    """How the runs execute: processes or a Dask cluster, and the memory budget."""

    workers: int | str = 1
    client: Any = None
    memory: int | None = None
    keep_months: tuple[int, ...] = ()

    def options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`simulator.run`."""
        return {"workers": self.workers, "client": self.client, "memory": self.memory,
                "keep_months": self.keep_months}


def _client(address: str | None) -> Any:
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("", "needs dask: pip install 'funnel-montecarlo[dask]'",
                          "--scheduler") from None
    try:
        return Client(address, timeout=10)
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError("", f"cannot reach the scheduler at {address!r} ({err})",
                          "--scheduler") from None


def _run_all(configs: list[Config], names: list[str], how: Execution, quiet: bool,
             overrides: list[Override], precision: float | None, max_paths: int
             ) -> tuple[dict[str, Result], list[Step] | None]:
    """Run every scenario with common random numbers: one seed and path count for all.

    With ``precision`` the first scenario runs until it converges, and the others use the
    paths it needed."""
    first = configs[0].simulation
    seed = first.seed if first.seed is not None else draw_seed()
    paths = first.paths
    results: dict[str, Result] = {}
    history = None
    for name, cfg in zip(names, configs, strict=True):
        bar = ProgressBar(f"{name}:", enabled=not quiet)
        try:
            if precision is not None and history is None:
                result, history = run_to_precision(cfg, precision, max_paths, seed, bar,
                                                   **how.options())
                paths = result.paths
            else:
                result = run(cfg, paths=paths, seed=seed, progress=bar, **how.options())
        except ConfigError as err:
            raise attributed(err, cfg.source, overrides) from None
        finally:
            bar.close()
        results[name] = result
    return results, history


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("configs", metavar="CONFIG...", nargs=-1, required=True)
@click.option("--paths", metavar="N", help="Monte Carlo paths (overrides the config).")
@click.option("--months", metavar="N", help="Horizon in months.")
@click.option("--seed", metavar="N", help="Random seed; the same seed gives identical numbers.")
@click.option("--percentiles", metavar="LIST", help="Percentiles to report, e.g. 5,50,95.")
@click.option("--at", metavar="LIST", help="Report months, e.g. 12,24.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set a config value (TOML literal), e.g. funnel.sql.rate=0.25. Repeatable.")
@click.option("--output", metavar="FILE",
              help="Write to FILE (.csv, .json, .md, .txt, .parquet, .html) instead of "
                   "printing.")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default=None,
              help="Output format (default: table).")
@click.option("--workers", metavar="N", help="Processes to run blocks of paths on (or 'auto').")
@click.option("--ci", metavar="LEVEL", help="Show the Monte Carlo error: order-statistic "
                                            "intervals of percentiles, e.g. --ci 95.")
@click.option("--target", "targets", multiple=True, metavar="METRIC@MONTH OP X",
              help="Probability of a target, e.g. 'arr@24>=1000000'. Repeatable.")
@click.option("--sensitivity", metavar="METRIC@MONTH",
              help="Tornado table of every uncertain input, e.g. cac_payback_months@12.")
@click.option("--precision", metavar="PCT", help="Double the paths until P10/P50/P90 of the "
                                                  "headline metrics are this precise, e.g. 1%.")
@click.option("--max-paths", metavar="N", help="Cap for --precision (default 1,000,000).")
@click.option("--plot", metavar="FILE.png", help="Fan charts, histograms, tornado (matplotlib).")
@click.option("--report", "report_file", metavar="FILE.html",
              help="Self-contained HTML risk-review report.")
@click.option("--paths-out", metavar="FILE", help="Every path's trajectories (.parquet, .csv).")
@click.option("--memory", metavar="SIZE", help="Memory for trajectories (default 1GiB); a "
                                               "bigger run keeps only what is reported.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run the blocks on a Dask cluster.")
@click.option("--kernel", type=click.Choice(["numpy", "compiled"]), default=None,
              help="Month loop: compiled (numba, the default when installed) or numpy.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def simulate(configs: tuple[str, ...], paths: str | None, months: str | None,
             seed: str | None, percentiles: str | None, at: str | None,
             sets: tuple[str, ...], output: str | None, fmt: str | None,
             workers: str | None, ci: str | None, targets: tuple[str, ...],
             sensitivity: str | None, precision: str | None, max_paths: str | None,
             plot: str | None, report_file: str | None, paths_out: str | None,
             memory: str | None, scheduler: str | None, kernel: str | None,
             quiet: bool) -> None:
    """Run the Monte Carlo model in CONFIG (a TOML file) and print percentile tables.

    Several CONFIGs are run as scenarios side by side with common random numbers.
    To fit a distribution to history instead: simulate fit HISTORY.csv --column NAME.
    """
    overrides = _overrides(sets, paths, months, seed, percentiles, at)
    if kernel is not None:
        overrides.append(Override("simulation.kernel", kernel, "--kernel"))
    n_workers = _workers(workers)
    level = _level(ci)
    kind = _output_format(output, fmt)
    loaded = kernels.common([load_config(path, overrides) for path in configs])
    _check_horizons(loaded)
    metrics = loaded[0].metrics
    horizon = min(cfg.simulation.months for cfg in loaded)
    asked = tuple(Target.parse(t, metrics, horizon) for t in targets)
    tornado = parse_metric_at(sensitivity, metrics, horizon) if sensitivity else None
    target = _precision(precision)
    cap = _int_flag(max_paths, "--max-paths", 1) or 1_000_000
    outputs.check_target(output, "--output", tuple(outputs.EXTENSIONS))
    outputs.check_target(plot, "--plot", (".png",))
    outputs.check_target(report_file, "--report", (".html", ".htm"))
    outputs.check_target(paths_out, "--paths-out", outputs.PATHS_EXTENSIONS)
    budget = parse_size(memory) if memory is not None else None
    keep = tuple(t.month for t in asked) + ((tornado[1],) if tornado else ())
    if paths_out is not None:
        _check_full(loaded[0], budget, cap if target else loaded[0].simulation.paths)
    how = Execution(n_workers, _client(scheduler), budget, keep)
    try:
        results, history = _run_all(loaded, _scenario_names(configs), how, quiet,
                                    overrides, target, cap)
    finally:
        if how.client is not None:
            how.client.close()
    review = Review(results, asked, level, tornado)
    rendered = outputs.render(review, kind, history, target)
    if plot is not None:
        atomic_write(plot, outputs.chart_png(review, history, target))
    if report_file is not None:
        atomic_write(report_file, outputs.report_html(review, history, target))
    if paths_out is not None:
        outputs.write_paths(results, paths_out)
    if history:
        last = history[-1]
        print(f"precision: {last.paths:,} paths, worst relative half-width {last.worst:.2%} "
              f"({last.where}; target {target:.2%})", file=sys.stderr)
    if output is None:
        click.echo(rendered, nl=False)
    else:
        atomic_write(output, rendered)


def _fail(message: str, status: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


#: Subcommands by name: (module of this package, its click command). A subcommand's name
#: takes precedence over a config file of the same name (write ``./fit`` for such a file);
#: each module is imported only when its command runs.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "fit": (".fit", "fit_command"),
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``simulate`` console script.

    SIGTERM is handled like Ctrl-C: the run stops, any temporary file is removed, and the
    command exits with status 130 and one line on stderr.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    args = sys.argv[1:] if argv is None else argv
    command, name = simulate, "simulate"
    if args and args[0] in SUBCOMMANDS:
        module, attribute = SUBCOMMANDS[args[0]]
        command = getattr(importlib.import_module(module, __package__), attribute)
        name, args = f"simulate {args[0]}", args[1:]
    try:
        command.main(args=args, prog_name=name, standalone_mode=False)
    except ConfigError as err:
        _fail(err.line())
    except click.exceptions.NoSuchOption as err:
        _fail(f"{err.option_name}: unknown option" +
              (f" (did you mean {err.possibilities[0]}?)" if err.possibilities else ""))
    except click.UsageError as err:
        _fail(err.format_message().replace("\n", " "))
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail("interrupted; nothing was written", 130)
    except BrokenPipeError:
        sys.exit(1)
