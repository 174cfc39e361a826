"""``simulate CONFIG [CONFIG ...]``: a thin command line over the Python API.

Every bad flag or config value ends in one line on stderr, ``error: SOURCE: key: reason``,
and exit status 2; nothing is written then. An output that cannot be written (a full disk,
a file-size limit) is also one ``error:`` line naming the file, status 2, and no file at all.
A run that fails for an outside reason (a block whose worker process died twice, a Dask
scheduler gone) is one ``error:`` line and status 1; an interrupted one (SIGINT, SIGTERM)
status 130. ``simulate fit FILE.csv --column NAME`` fits distributions to a column of history
(see :mod:`simulator.cli.fit`).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from ..config.core import Config, attributed, load_config
from ..config.errors import ConfigError
from ..config.overrides import Override
from ..engine import kernels
from ..engine.execution import SCHEDULER_TIMEOUT, Execution
from ..engine.faults import RunError
from ..engine.progress import ProgressBar
from ..engine.results import Result
from ..engine.runner import run
from ..engine.storage import parse_size, plan
from ..review import outputs, report
from ..review.analysis import Target, parse_metric_at
from ..review.cells import pct
from ..review.contents import Review
from ..review.convergence import Step, run_to_precision
from ..review.io import OutputError, OutputFiles
from .flags import int_flag, overrides_from, seed_of
from .scenarios import parse_scenario


def _workers(text: str | None) -> int | str:
    if text is None or text == "auto":
        return text or 1
    value = int_flag(text, "--workers", 1)
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



def _check_full(config: Config, budget: int | None, paths: int, flag: str = "--paths-out",
                what: str = "writing every trajectory of") -> None:
    if plan(config, paths, (), budget).reduced:
        raise ConfigError("", f"{what} {paths:,} paths x {config.simulation.months} months "
                              f"needs more than the memory budget (raise --memory or lower "
                              f"--paths)", flag)


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
        hint = f"; did you mean {text}%?" if not text.endswith("%") and 1 <= value < 100 else ""
        raise ConfigError("", f"must be a relative precision such as 1% (got {text!r}{hint})",
                          "--precision")
    return value


def _timeout(text: str | None) -> float:
    """``--scheduler-timeout SECONDS`` (default 30)."""
    if text is None:
        return SCHEDULER_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e6:
        raise ConfigError("", f"must be a number of seconds > 0 (got {text!r})",
                          "--scheduler-timeout")
    return value


def _client(address: str | None, timeout: float) -> Any:
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("", "needs dask: pip install 'funnel-montecarlo[dask]'",
                          "--scheduler") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError("", f"cannot reach the scheduler at {address!r} ({err})",
                          "--scheduler") from None
    # a lost scheduler is reported as one error line; the client's own reconnection
    # attempts would log tracebacks on top of it
    logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
    return client



def _load_kernel(config: Config, quiet: bool) -> None:
    """Load the compiled kernel when ``config`` runs on it, saying on a terminal what the
    wait is for when it is long (the first run on a machine compiles it)."""
    note = threading.Timer(1.5, lambda: print(
        "loading the compiled kernel (compiled on the first run on this machine, about 20 s; "
        "cached after that)", file=sys.stderr, flush=True))
    if not quiet and sys.stderr.isatty():
        note.start()
    try:
        kernels.warm_up(config)
    finally:
        note.cancel()


def _run_all(configs: list[Config], names: list[str], how: Execution, keep: tuple[int, ...],
             quiet: bool, overrides: list[Override], precision: float | None, max_paths: int
             ) -> tuple[dict[str, Result], list[Step] | None]:
    """Run every scenario with common random numbers: one seed and path count for all.

    With ``precision`` the first scenario runs until it converges, and the others use the
    paths it needed."""
    first = configs[0].simulation
    seed = seed_of(configs[0])
    paths = first.paths
    results: dict[str, Result] = {}
    history = None
    _load_kernel(configs[0], quiet)
    for name, cfg in zip(names, configs, strict=True):
        bar = ProgressBar(f"{name}:", enabled=not quiet)
        try:
            if precision is not None and history is None:
                result, history = run_to_precision(cfg, precision, max_paths, seed,
                                                   execution=how, progress=bar,
                                                   keep_months=keep)
                paths = result.paths
            else:
                result = run(cfg, paths=paths, seed=seed, execution=how, progress=bar,
                             keep_months=keep)
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
@click.option("--scale", "scales", multiple=True, metavar="KEY=FACTOR",
              help="Multiply an input (a number or a distribution) by FACTOR, e.g. "
                   "funnel.customer.rate=0.7. Repeatable.")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME:KEY=VALUE,...",
              help="Add a scenario: the first config with overrides (KEY=VALUE sets, "
                   "KEY*=FACTOR scales), side by side with common random numbers. Repeatable.")
@click.option("--output", metavar="FILE",
              help="Write to FILE (.csv, .json, .md, .txt, .parquet, .html) instead of "
                   "printing.")
@click.option("--format", "fmt", type=click.Choice(report.FORMATS), default=None,
              help="Output format (default: table).")
@click.option("--workers", metavar="N", help="Processes to run blocks of paths on (or 'auto').")
@click.option("--ci", metavar="LEVEL", help="Show the Monte Carlo error: order-statistic "
                                            "intervals of percentiles, e.g. --ci 95.")
@click.option("--target", "targets", multiple=True, metavar="METRIC@MONTH OP X",
              help="Probability of a target with its Wilson interval, e.g. 'arr@24>=1.2M', "
                   "or in some month up to 24: 'customers@<=24>=200'. Repeatable.")
@click.option("--sensitivity", metavar="METRIC@MONTH",
              help="Tornado table of every uncertain input, e.g. cac_payback_months@12.")
@click.option("--precision", metavar="PCT", help="Double the paths until P10/P50/P90 of the "
                                                  "headline metrics are this precise, e.g. 1%.")
@click.option("--max-paths", metavar="N", help="Cap for --precision (default 1,000,000).")
@click.option("--plot", metavar="FILE.png", help="Fan charts, histograms and tornado of every "
                                                  "scenario (the plot extra: matplotlib).")
@click.option("--report", "report_file", metavar="FILE.html",
              help="Self-contained HTML risk-review report.")
@click.option("--paths-out", metavar="FILE", help="Every path's trajectories and drawn "
                                                   "inputs (.parquet, .csv).")
@click.option("--memory", metavar="SIZE", help="Memory for trajectories (default 1GiB); a "
                                               "bigger run keeps only what is reported.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run the blocks on a Dask cluster.")
@click.option("--scheduler-timeout", metavar="SECONDS",
              help="Stop when the Dask scheduler is silent this long (default 30).")
@click.option("--kernel", type=click.Choice(["numpy", "compiled"]), default=None,
              help="Month loop: compiled (numba, the fast extra; the default where installed) "
                   "or numpy.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def simulate(configs: tuple[str, ...], paths: str | None, months: str | None,
             seed: str | None, percentiles: str | None, at: str | None,
             sets: tuple[str, ...], scales: tuple[str, ...], scenarios: tuple[str, ...],
             output: str | None, fmt: str | None,
             workers: str | None, ci: str | None, targets: tuple[str, ...],
             sensitivity: str | None, precision: str | None, max_paths: str | None,
             plot: str | None, report_file: str | None, paths_out: str | None,
             memory: str | None, scheduler: str | None, scheduler_timeout: str | None,
             kernel: str | None,
             quiet: bool) -> None:
    """Run the Monte Carlo model in CONFIG (a TOML file) and print percentile tables.

    Several CONFIGs are run as scenarios side by side with common random numbers.
    To fit a distribution to history instead: simulate fit HISTORY.csv --column NAME.
    """
    overrides = overrides_from(sets, paths, months, seed, percentiles, at, scales)
    if kernel is not None:
        overrides.append(Override("simulation.kernel", kernel, "--kernel"))
    n_workers = _workers(workers)
    level = _level(ci)
    kind = _output_format(output, fmt)
    names = _scenario_names(configs)
    loaded = [load_config(path, overrides) for path in configs]
    for text in scenarios:
        name, extra = parse_scenario(text)
        if name in names:
            raise ConfigError("", f"scenario name {name!r} is taken (scenarios: "
                                  f"{', '.join(names)})", "--scenario")
        names.append(name)
        scenario = load_config(configs[0], [*overrides, *extra])
        # every header and file names what the scenario changed
        changes = text.split(":", 1)[1].strip()
        loaded.append(dataclasses.replace(scenario, source=f"{scenario.source} with {changes}"))
    loaded, moved = kernels.shared(loaded)  # one kernel for all: common random numbers
    _check_horizons(loaded)
    metrics = loaded[0].metrics
    horizon = min(cfg.simulation.months for cfg in loaded)
    asked = tuple(Target.parse(t, metrics, horizon) for t in targets)
    tornado = parse_metric_at(sensitivity, metrics, horizon) if sensitivity else None
    target = _precision(precision)
    cap = int_flag(max_paths, "--max-paths", 1) or 1_000_000
    outputs.check_target(output, "--output", tuple(outputs.EXTENSIONS))
    outputs.check_target(plot, "--plot", (".png",))
    outputs.check_target(report_file, "--report", (".html", ".htm"))
    outputs.check_target(paths_out, "--paths-out", outputs.PATHS_EXTENSIONS)
    budget = parse_size(memory) if memory is not None else None
    keep = tuple(t.month for t in asked) + ((tornado[1],) if tornado else ())
    if paths_out is not None:
        _check_full(loaded[0], budget, cap if target else loaded[0].simulation.paths)
    if any(t.by for t in asked):  # "in some month up to m" reads every month of every path
        _check_full(loaded[0], budget, cap if target else loaded[0].simulation.paths,
                    "--target", "a METRIC@<=MONTH target reads every month, and keeping "
                                "every month of")
    timeout = _timeout(scheduler_timeout)
    how = Execution(n_workers, budget, _client(scheduler, timeout), timeout)
    try:
        results, history = _run_all(loaded, names, how, keep, quiet, overrides, target, cap)
    finally:
        if how.client is not None:
            how.client.close(timeout=timeout)
    for result, why in zip(results.values(), moved, strict=True):
        if why and result.kernel.kernel == "numpy":  # why it is not on the compiled kernel
            result.kernel = kernels.KernelChoice("numpy", why)
    review = Review(results, asked, level, tornado, tuple(history or ()), target)
    png = None
    if plot is not None or report_file is not None or kind == "html":
        png = outputs.chart_png(review) if plot is not None else \
            outputs.charts_if_possible(review)  # rendered once for the PNG and the report
    rendered = outputs.render(review, kind, png)
    with OutputFiles() as files:  # every file whole, or none of them
        if plot is not None and png is not None:
            files.stage(plot, png)
        if report_file is not None:
            files.stage(report_file, outputs.report_html(review, png))
        if paths_out is not None:
            files.stage(paths_out, outputs.paths_file(results, paths_out))
        if output is not None:
            files.stage(output, rendered)
    _status_lines(review)
    if output is None:
        click.echo(rendered, nl=False)


def _status_lines(review: Review) -> None:
    """The run's status on stderr: where --precision ended, and warnings."""
    if review.history:
        last, target = review.history[-1], review.precision or 0.0
        if review.converged:
            print(f"precision: {last.paths:,} paths, worst relative half-width "
                  f"{pct(last.worst, 2)} ({last.where}; target {target:.2%})", file=sys.stderr)
        else:
            print(f"warning: {review.precision_warning}", file=sys.stderr)
    for line in review.warnings:
        print(f"warning: {line}", file=sys.stderr)


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
    "calibrate": (".calibrate", "calibrate_command"),
    "backtest": (".backtest", "backtest_command"),
    "solve": (".solve", "solve_command"),
    "allocate": (".allocate", "allocate_command"),
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
    except OutputError as err:
        _fail(str(err))
    except RunError as err:
        _fail(f"{err}; nothing was written", 1)
    except MemoryError:
        _fail("out of memory: lower --memory, --paths or --months, or use fewer --workers; "
              "nothing was written", 1)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail("interrupted; nothing was written", 130)
    except BrokenPipeError:
        sys.exit(1)
