"""Benchmark: this engine against plain NumPy, a per-path Python loop, monaco and the RNG floor.

Run from the repository root:

    python benchmarks/run.py            # the default sizes, about a minute on 2 cores
    python benchmarks/run.py --quick    # small sizes: a smoke test of a few seconds
    python benchmarks/run.py --big      # also the peak memory of 1,000,000 paths x 120 months

Every row simulates benchmarks/bench.toml (the core model of docs/model.md, five stages,
binomial flows, 36 months) in this process, on this machine, in the same run. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy
import simulator
from simulator.engine import runner as engine

import memory
import monaco_model
import per_path
import plain_numpy
import reference
import rng_floor

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "bench.toml"
SEED = 2026
FLAG_Z = 4.0  # |z| at or above this flags a disagreement in the sanity block
Metrics = dict[str, np.ndarray]  # final-month samples by metric name
T = TypeVar("T")


@dataclass
class Row:
    """One line of the table."""

    name: str
    paths: int
    months: int
    seconds: float | None  # None: not run
    repeats: int = 1
    note: str = ""
    cpu: float | None = None  # CPU seconds (this process and its workers) of the best repeat

    @property
    def rate(self) -> float | None:
        """Path-months per second."""
        if self.seconds is None or self.seconds <= 0:
            return None
        return self.paths * self.months / self.seconds

    @property
    def cpu_rate(self) -> float | None:
        """Path-months per CPU second (steadier than the wall clock on a shared machine)."""
        if self.cpu is None or self.cpu <= 0:
            return None
        return self.paths * self.months / self.cpu


@dataclass
class Sizes:
    """How big each row runs."""

    paths: int
    per_path: int
    monaco: int
    repeat: int
    warmup: int


@dataclass
class Bench:
    """What a run collects: rows for the table, final-month samples for the sanity block."""

    rows: list[Row] = field(default_factory=list)
    samples: dict[str, Metrics] = field(default_factory=dict)


_LAST_CPU: list[float] = [0.0]  # CPU seconds of the fastest repeat of the last best_of


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def best_of(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The fastest of ``repeat`` timed calls (perf_counter), and the first call's value; the
    CPU seconds of the fastest call are left in ``_LAST_CPU``."""
    times: list[float] = []
    cpus: list[float] = []
    values: list[T] = []
    for _ in range(repeat):
        gc.collect()
        cpu = _cpu_seconds()
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu)
        if not values:
            values.append(value)
        del value
    _LAST_CPU[0] = cpus[times.index(min(times))]
    return min(times), values[0]


def add(bench: Bench, row: Row) -> None:
    """Append a row; a timed one gets the CPU seconds of its best repeat."""
    if row.seconds is not None:
        row.cpu = _LAST_CPU[0]
    bench.rows.append(row)


def final_month(trajectories: Metrics, month: int) -> Metrics:
    """Customers and MRR in ``month`` (1-based) from full (paths, months) trajectories."""
    return {name: np.array(trajectories[name][:, month - 1]) for name in ("customers", "mrr")}


def _blocks_note(paths: int, workers: int) -> str:
    """How the engine splits the run (it simulates fixed-size blocks of paths)."""
    block = getattr(engine, "BLOCK_PATHS", None)
    if not isinstance(block, int):
        return ""
    blocks = -(-paths // block)
    if workers > 1 and blocks < 2:
        return f"{blocks} block of {block:,} paths: runs in-process, no pool"
    return f"{blocks} blocks of <= {block:,} paths" if workers > 1 else ""


def _kernel_config(kernel: str) -> simulator.Config:
    """bench.toml on the given kernel ("numpy" or "compiled")."""
    doc = tomllib.loads(CONFIG.read_text())
    doc["simulation"]["kernel"] = kernel
    return simulator.load_config(doc)


def engine_row(bench: Bench, sizes: Sizes, workers: int, kernel: str = "numpy") -> None:
    """``simulator.run(config, paths=N, workers=...)`` on bench.toml, on ``kernel``."""
    config = _kernel_config(kernel)
    months = config.simulation.months
    warm = simulator.run(config, paths=sizes.warmup, seed=SEED, workers=workers)
    if warm.kernel.kernel != kernel:  # the compiled kernel without numba
        add(bench, Row(f"this engine, {kernel} kernel, workers={workers}", sizes.paths,
                              months, None, note=warm.kernel.note[:60]))
        return

    def once() -> Metrics:
        result = simulator.run(config, paths=sizes.paths, seed=SEED, workers=workers)
        return {name: np.array(result.at(name, months)) for name in ("customers", "mrr")}

    seconds, value = best_of(once, sizes.repeat)
    label = f"this engine, {kernel} kernel, workers={workers}"
    add(bench, Row(label, sizes.paths, months, seconds, sizes.repeat,
                          note=_blocks_note(sizes.paths, workers)))
    if workers == 1:
        bench.samples[f"engine, {kernel}"] = value


def kernel_loop_row(bench: Bench, sizes: Sizes) -> None:
    """The compiled kernel's loop alone (flows and derived metrics of every block into
    preallocated arrays): no input draws, no storage, no process."""
    config = _kernel_config("compiled")
    name = "compiled kernel loop only (no inputs, storage)"
    months = config.simulation.months
    try:
        from simulator.engine.runner import stored_names
        from simulator.engine.storage import Plan, Storage
        from simulator.model.kernel import simulate_block
        from simulator.model.params import draw_uniforms
        from simulator.model.samplers import AVAILABLE
    except ImportError:
        AVAILABLE = False
    if not AVAILABLE:
        add(bench, Row(name, sizes.paths, months, None, note="numba not installed"))
        return
    shape = engine.model_shape(config)
    block = getattr(engine, "BLOCK_PATHS", 4096)
    params = draw_uniforms(config, sizes.paths, SEED).parameters()
    starts = range(0, sizes.paths, block)
    blocks = [params.block(start, min(start + block, sizes.paths)) for start in starts]
    # the month-major rows a run's storage gives the kernel, allocated and touched first
    storage = Storage(Plan(None, 0), stored_names(shape), sizes.paths, months)
    targets = [storage.target(start) for start in starts]
    for p, target in zip(blocks, targets, strict=True):  # warm-up (and first touch)
        simulate_block(shape, p, False, config.cac_window, SEED, 0, target=target)

    def once() -> None:
        for index, (p, target) in enumerate(zip(blocks, targets, strict=True)):
            simulate_block(shape, p, False, config.cac_window, SEED, index, target=target)

    seconds, _ = best_of(once, sizes.repeat)
    add(bench, Row(name, sizes.paths, months, seconds, sizes.repeat,
                          note="flows + derived metrics, in place"))


def plain_row(bench: Bench, model: reference.Model, sizes: Sizes) -> None:
    """The obvious vectorised NumPy implementation (benchmarks/plain_numpy.py)."""
    plain_numpy.simulate(model, sizes.warmup, SEED + 1)
    seconds, value = best_of(
        lambda: final_month(plain_numpy.simulate(model, sizes.paths, SEED + 1), model.months),
        sizes.repeat)
    add(bench, Row("plain NumPy (month loop, vectorised draws)", sizes.paths,
                          model.months, seconds, sizes.repeat))
    bench.samples["plain NumPy"] = value


def per_path_row(bench: Bench, model: reference.Model, sizes: Sizes) -> None:
    """The pure-Python double loop (benchmarks/per_path.py), timed once."""
    per_path.simulate(model, 5, SEED + 2)
    seconds, value = best_of(
        lambda: final_month(per_path.simulate(model, sizes.per_path, SEED + 2), model.months),
        1)
    add(bench, Row("per-path Python loop (scalar draws)", sizes.per_path,
                          model.months, seconds))
    bench.samples["per-path loop"] = value


def monaco_row(bench: Bench, model: reference.Model, sizes: Sizes) -> None:
    """monaco's Sim running the per-path model case by case, if monaco is installed."""
    name = "monaco (Sim, per-case functions)"
    if not monaco_model.available():
        add(bench, Row(name, sizes.monaco, model.months, None,
                              note="not installed (pip install monaco)"))
        return
    try:
        monaco_model.simulate(model, 4, SEED + 3)  # imports monaco and matplotlib
        seconds, value = best_of(lambda: monaco_model.simulate(model, sizes.monaco, SEED + 3), 1)
    except Exception as error:  # any failure of the third-party tool becomes its row's note
        add(bench, Row(name, sizes.monaco, model.months, None,
                              note=f"failed: {type(error).__name__}: {error}"[:60]))
        return
    import monaco

    add(bench, Row(f"monaco {monaco.__version__} (Sim, per-case functions)",
                          sizes.monaco, model.months, seconds))
    bench.samples["monaco"] = value


def floor_row(bench: Bench, model: reference.Model, sizes: Sizes) -> None:
    """Only the draws (benchmarks/rng_floor.py); inputs drawn before the clock starts."""
    rng = np.random.default_rng(SEED + 4)
    warm = reference.draw(model, sizes.warmup, rng)
    rng_floor.draw_flows(warm, model.stages, sizes.warmup, model.months, rng)
    inputs = reference.draw(model, sizes.paths, rng)
    seconds, _ = best_of(
        lambda: rng_floor.draw_flows(inputs, model.stages, sizes.paths, model.months, rng),
        sizes.repeat)
    add(bench, Row("RNG floor (the draws only, vectorised)", sizes.paths, model.months,
                          seconds, sizes.repeat,
                          note="1 Poisson/stage + 1 + churn binomial"))


def machine() -> str:
    """CPU model, cores, Python and library versions."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"machine: {cpu}, {cores} cores, {ram:.0f} GiB RAM, {platform.system()} "
            f"{platform.machine()} | Python {platform.python_version()}, numpy "
            f"{np.__version__}, scipy {scipy.__version__}")


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f}"


def table(rows: list[Row]) -> str:
    """The rows side by side; the ratio column divides by the engine's rate (numpy kernel,
    workers=1)."""
    engine, engine_cpu = rows[0].rate, rows[0].cpu_rate
    head = (f"{'implementation':<46} {'paths':>9} {'months':>6} {'repeats':>7} "
            f"{'seconds':>8} {'path-months/s':>13} {'vs engine':>9} {'cpu s':>7} "
            f"{'vs (cpu)':>8}  note")
    lines = [head, "-" * len(head)]
    for row in rows:
        rate = row.rate
        ratio = f"{rate / engine:.2f}x" if rate is not None and engine else "-"
        seconds = f"{row.seconds:.3f}" if row.seconds is not None else "-"
        cpu = f"{row.cpu:.3f}" if row.cpu is not None else "-"
        cpu_ratio = (f"{row.cpu_rate / engine_cpu:.2f}x" if row.cpu_rate is not None
                     and engine_cpu else "-")
        lines.append(f"{row.name:<46} {row.paths:>9,} {row.months:>6} {row.repeats:>7} "
                     f"{seconds:>8} {_rate(rate):>13} {ratio:>9} {cpu:>7} {cpu_ratio:>8}  "
                     f"{row.note}".rstrip())
    return "\n".join(lines)


def goals(rows: list[Row]) -> str:
    """The compiled kernel (workers=1) against plain NumPy and the RNG floor (issue 14 asks
    for at least 3x and 2x), by wall clock and by CPU time."""
    by_name = {row.name: row for row in rows}
    compiled = by_name.get("this engine, compiled kernel, workers=1")
    if compiled is None or compiled.rate is None:
        return "compiled kernel: not run (numba not installed)"
    lines = []
    for clock, rate in (("wall", lambda r: r.rate), ("cpu", lambda r: r.cpu_rate)):
        parts = []
        for label, name, goal in (
                ("plain NumPy", "plain NumPy (month loop, vectorised draws)", 3.0),
                ("RNG floor", "RNG floor (the draws only, vectorised)", 2.0),
                ("numpy kernel", "this engine, numpy kernel, workers=1", None)):
            other = by_name.get(name)
            mine, theirs = rate(compiled), rate(other) if other is not None else None
            if mine and theirs:
                met = "met" if goal is not None and mine / theirs >= goal else "NOT met"
                verdict = "" if goal is None else f" (goal >= {goal:g}x: {met})"
                parts.append(f"{mine / theirs:.2f}x {label}{verdict}")
        lines.append(f"compiled kernel, workers=1, by {clock} time: " + "; ".join(parts))
    return "\n".join(lines)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    n = values.size
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0


def sanity(samples: dict[str, Metrics], month: int) -> str:
    """Mean +- standard error of customers and MRR at ``month`` for every implementation,
    and the gap to the engine in combined standard errors (z)."""
    lines = [f"sanity: month {month} means +- standard error (independent random streams; "
             f"|z| < 3 expected)",
             f"{'implementation':<16} {'paths':>9} {'customers':>22} {'z':>7} "
             f"{'mrr':>26} {'z':>7}"]
    base = samples.get("engine, numpy")
    flagged: list[str] = []
    for name, metrics in samples.items():
        cells = []
        for metric in ("customers", "mrr"):
            mean, se = _mean_se(metrics[metric])
            z = "-"
            if base is not None and name != "engine, numpy":
                base_mean, base_se = _mean_se(base[metric])
                gap = (mean - base_mean) / np.hypot(se, base_se)
                z = f"{gap:+.2f}" + ("!" if abs(gap) >= FLAG_Z else "")
                if abs(gap) >= FLAG_Z:
                    flagged.append(f"{name} {metric}")
            width = 22 if metric == "customers" else 26
            cells.append(f"{f'{mean:,.2f} +- {se:,.2f}':>{width}} {z:>7}")
        lines.append(f"{name:<16} {metrics['customers'].size:>9,} {cells[0]} {cells[1]}")
    if flagged:
        lines.append(f"DISAGREE (|z| >= {FLAG_Z:g}): " + ", ".join(flagged))
    else:
        lines.append(f"agree: every |z| < {FLAG_Z:g}")
    return "\n".join(lines)


def _gib(nbytes: float | None) -> str:
    return "-" if nbytes is None else f"{nbytes / 2**30:.2f} GiB"


def memory_block(big: bool, paths: int, months: int) -> str:
    """The engine's estimate for the big run, and (with --big) its measured peak RSS."""
    config = memory.load_config(CONFIG, months)
    guess = memory.estimate(config, paths)
    verdict = (f"refused: {guess.refused}" if guess.refused
               else f"accepted ({guess.storage} storage)")
    lines = [f"memory: simulator.run, {paths:,} paths x {months} months, workers=1",
             f"  estimate: {_gib(guess.nbytes)} from {guess.source}; {verdict}"]
    if not big:
        lines.append("  peak RSS: not measured (pass --big; it runs in a subprocess)")
        return "\n".join(lines)
    report = memory.measure(CONFIG, paths, months)
    if "error" in report:
        lines.append(f"  peak RSS: the run failed: {report['error']}")
    elif "refused" in report:
        lines.append(f"  peak RSS: the engine refused the run: {report['refused']}")
    else:
        storage = "reduced" if report["reduced"] else "full"
        rate = paths * months / report["seconds"]
        lines.append(f"  peak RSS: {_gib(report['peak'])} (interpreter and imports "
                     f"{_gib(report['baseline'])}); {report['seconds']:.1f} s, "
                     f"{_rate(rate)} path-months/s, {storage} storage")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--paths", type=int, default=None,
                        help="paths for the vectorised rows (default 100000; --quick 5000)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed repeats of the fast rows, best kept (default 3; --quick 1)")
    parser.add_argument("--big", action="store_true",
                        help="measure the peak RSS of 1,000,000 paths x 120 months")
    parser.add_argument("--big-paths", type=int, default=1_000_000,
                        help="paths of the --big run (default 1000000)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: a smoke test that finishes in seconds")
    return parser.parse_args(argv)


def sizes_for(args: argparse.Namespace) -> Sizes:
    if args.quick:
        sizes = Sizes(paths=5_000, per_path=100, monaco=20, repeat=1, warmup=200)
    else:
        sizes = Sizes(paths=100_000, per_path=1_000, monaco=200, repeat=3, warmup=2_000)
    if args.paths is not None:
        sizes.paths = max(1, args.paths)
    if args.repeat is not None:
        sizes.repeat = max(1, args.repeat)
    sizes.warmup = min(sizes.warmup, sizes.paths)
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = sizes_for(args)
    print(machine(), flush=True)
    model = reference.load(CONFIG)
    bench = Bench()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("engine, numpy kernel, workers=1", lambda: engine_row(bench, sizes, 1)),
        ("engine, numpy kernel, workers=2", lambda: engine_row(bench, sizes, 2)),
        ("engine, compiled kernel, workers=1", lambda: engine_row(bench, sizes, 1, "compiled")),
        ("engine, compiled kernel, workers=2", lambda: engine_row(bench, sizes, 2, "compiled")),
        ("compiled kernel loop", lambda: kernel_loop_row(bench, sizes)),
        ("plain NumPy", lambda: plain_row(bench, model, sizes)),
        ("per-path loop", lambda: per_path_row(bench, model, sizes)),
        ("monaco", lambda: monaco_row(bench, model, sizes)),
        ("RNG floor", lambda: floor_row(bench, model, sizes)),
    ]
    for label, step in steps:
        print(f"  timing {label} ...", file=sys.stderr, flush=True)
        step()
    print(f"config: {CONFIG.relative_to(HERE.parent)} ({len(model.stages)} stages, binomial "
          f"flows, {model.months} months); best of {sizes.repeat} after a warm-up run; "
          f"slow rows timed once")
    print(table(bench.rows))
    print()
    print(goals(bench.rows))
    print()
    print(sanity(bench.samples, model.months))
    print()
    print(memory_block(args.big, args.big_paths, 120))
    return 0


if __name__ == "__main__":
    sys.exit(main())
