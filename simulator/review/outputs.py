"""Writing a review to files: tables by extension, every path's trajectories, charts, and
the HTML report. Every file goes through :func:`simulator.review.io.atomic_write`."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.errors import ConfigError
from ..engine.results import Result
from ..engine.runner import plan_line
from . import report
from .contents import Review
from .io import atomic_write, check_writable, require

#: --output extensions: the text formats of :mod:`simulator.review.report` plus parquet and html.
EXTENSIONS = {**report.EXTENSIONS, ".parquet": "parquet", ".html": "html", ".htm": "html"}
PATHS_EXTENSIONS = (".parquet", ".csv")


def _suffix(path: str, allowed: tuple[str, ...], flag: str) -> str:
    """The path's extension, if it is one of ``allowed``."""
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise ConfigError("", f"unknown extension {suffix or '(none)'!r} (allowed: "
                              f"{', '.join(allowed)})", flag)
    return suffix


def output_kind(path: str, flag: str = "--output") -> str:
    """The format an output path asks for, from its extension."""
    return EXTENSIONS[_suffix(path, tuple(EXTENSIONS), flag)]


def check_target(path: str | None, flag: str, allowed: tuple[str, ...]) -> None:
    """Fail before the run when an output cannot be written or has the wrong extension."""
    if path is None:
        return
    suffix = _suffix(path, allowed, flag)
    if suffix == ".parquet":
        require("pyarrow", "parquet", "parquet files", flag)
    if suffix == ".png":
        require("matplotlib", "plot", "charts", flag)
    check_writable(path, flag)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def plans(review: Review) -> dict[str, dict[str, np.ndarray]]:
    """The expected-flows plan line of each scenario."""
    return {name: plan_line(result.config) for name, result in review.results.items()}


def chart_png(review: Review) -> bytes:
    """The charts of ``review`` as one PNG (needs matplotlib)."""
    from .charts import render_png

    return render_png(review, plans(review))


def render(review: Review, kind: str, png: bytes | None = None) -> str | bytes:
    """The review in ``kind``: a text format, ``parquet`` (the tidy frame) or ``html``
    (with the charts ``png`` when given)."""
    if kind == "parquet":
        return _parquet(review.tidy())
    if kind == "html":
        return report_html(review, png)
    return report.render(review, kind)


def charts_if_possible(review: Review) -> bytes | None:
    """The charts, or None without matplotlib (the report then says it has no charts)."""
    try:
        return chart_png(review)
    except ConfigError:
        return None


def report_html(review: Review, png: bytes | None = None) -> str:
    """The HTML risk-review report; ``png``: the charts, rendered once by the caller (when
    None they are rendered here, if matplotlib is installed)."""
    from .render_html import render_html

    return render_html(review, png if png is not None else charts_if_possible(review))


INPUT_PREFIX = "input:"


def drawn_inputs(result: Result) -> dict[str, np.ndarray]:
    """Each uncertain input's draws, one value per path and month (a per-path draw repeated
    over the months), keyed ``input:<dotted name>``; constants are left out."""
    n, months = result.paths, result.months
    out = {}
    for name, inp in result.config.inputs.items():
        if inp.dist.is_constant:
            continue
        value = np.asarray(result.params.whole(name), dtype=np.float64)
        if value.ndim == 1:
            value = np.repeat(value, months).reshape(n, months)
        out[INPUT_PREFIX + name] = np.broadcast_to(value, (n, months)).ravel()
    return out


def trajectories(results: Mapping[str, Result]) -> pd.DataFrame:
    """Every path's trajectory of every metric, then the inputs it drew: columns scenario,
    path, month, metrics..., ``input:<name>``... (so research code can regress outputs on
    inputs)."""
    frames = []
    for name, result in results.items():
        n, months = result.paths, result.months
        data: dict[str, object] = {
            "scenario": np.repeat(name, n * months),
            "path": np.repeat(np.arange(n), months),
            "month": np.tile(np.arange(1, months + 1), n),
        }
        data.update({metric: result[metric].ravel() for metric in result.metrics})
        data.update(drawn_inputs(result))
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def paths_file(results: Mapping[str, Result], path: str) -> str | bytes:
    """``--paths-out``: the contents of the trajectories file, parquet or csv by extension."""
    frame = trajectories(results)
    if path.lower().endswith(".parquet"):
        return _parquet(frame)
    return frame.to_csv(index=False, lineterminator="\n")


def write_paths(results: Mapping[str, Result], path: str) -> None:
    """Write :func:`paths_file` to ``path`` atomically."""
    atomic_write(path, paths_file(results, path))
