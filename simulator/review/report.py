"""Rendering a review: the text, Markdown and HTML renderers share the review's sections
(:mod:`simulator.review.sections`); CSV is its tidy frame and JSON one document of the same
shape for one or several scenarios.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from ..engine.results import HEADLINES
from .cells import fmt, unit
from .contents import Review
from .render_markdown import markdown
from .render_text import text
from .sections_more import shown_inputs, written_form

__all__ = ["EXTENSIONS", "FORMATS", "fmt", "markdown", "render", "text", "to_csv", "to_json",
           "unit"]

FORMATS = ("table", "csv", "json", "markdown")
EXTENSIONS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown",
              ".txt": "table"}


def _jsonable(value: Any) -> Any:
    """Strict JSON values: infinities as ``"inf"``, undefined values (NaN) as null, inside
    dicts, lists and tuples too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def strict_json(value: Any, indent: int = 2) -> str:
    """JSON that any parser reads: infinities as the strings "inf" / "-inf", NaN as null.

    >>> print(strict_json({"a": float("inf"), "b": [1.5, float("nan")]}), end="")
    {
      "a": "inf",
      "b": [
        1.5,
        null
      ]
    }
    """
    return json.dumps(_jsonable(value), indent=indent, allow_nan=False) + "\n"


def _frame_dict(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(i): {str(k): _jsonable(float(v)) for k, v in row.items()}
            for i, row in frame.iterrows()}


def to_json(review: Review) -> str:
    """Strict JSON (infinities written as the string ``"inf"``)."""
    scenarios: dict[str, Any] = {}
    for name, result in review.results.items():
        sim = result.config.simulation
        doc: dict[str, Any] = {
            "config": result.config.source, "seed": result.seed, "paths": result.paths,
            "months": result.months, "flows": sim.flows, "sampling": sim.sampling,
            "kernel": result.kernel.kernel,
            "percentiles": list(sim.percentiles), "report_months": list(review.report_months),
            "tables": {str(m): _frame_dict(t) for m, t in review.tables[name].items()},
            "probabilities": {str(m): row for m, row in review.headlines[name].items()},
        }
        if review.ci is not None:
            doc["intervals"] = {str(m): _frame_dict(t)
                                for m, t in review.intervals[name].items()}
            doc["confidence"] = review.ci
        if review.targets:
            doc["targets"] = [{"target": t.label, "metric": t.metric, "month": t.month,
                               "comparison": t.op, "threshold": t.threshold,
                               "probability": p, "low": lo, "high": hi,
                               "confidence": review.ci or 0.95}
                              for t, p, lo, hi in review.target_values[name]]
        if result.config.depth.shocks:
            shocks = result.shock_summary()
            shocks.iloc[:, 0] = shocks.iloc[:, 0] / 100
            doc["shocks"] = _frame_dict(shocks.rename(columns={"active %": "active_share"}))
        if review.sensitivity_of is not None:
            metric, month = review.sensitivity_of
            shares = review.shares[name]
            doc["sensitivity"] = {"metric": metric, "month": month,
                                  "inputs": _frame_dict(review.sensitivity_frame(name)),
                                  "first_order": {
                                      "level": shares.attrs["level"],
                                      "scale": shares.attrs["scale"],
                                      "unexplained": shares.attrs["unexplained"]},
                                  "reading": review.reading(name)}
        doc["assumptions"] = _assumptions(review, name)
        scenarios[name] = doc
    out: dict[str, Any] = {"scenarios": scenarios}
    out["headlines"] = {label: {"metric": metric, "comparison": op, "threshold": thr}
                        for label, metric, op, thr in HEADLINES}
    out["status"] = _status(review)
    return strict_json(out)


def _assumptions(review: Review, name: str) -> dict[str, Any]:
    import numpy as np

    config = review.results[name].config
    inputs = {}
    for key, inp in shown_inputs(config).items():
        q = inp.dist.ppf(np.array([0.05, 0.5, 0.95]))
        inputs[key] = {"written": inp.written, "as_written": written_form(inp),
                       "distribution": inp.dist.describe(), "kind": inp.kind,
                       "drawn": "per month" if inp.vary == "month" else "per path",
                       "persistence": inp.persistence,
                       **{k: _jsonable(float(v)) for k, v in zip(("p5", "p50", "p95"), q,
                                                                 strict=True)}}
    return {"inputs": inputs,
            "correlations": [{"between": [a, b], "rho": rho}
                             for (a, b), rho in config.correlations.items()]}


def _status(review: Review) -> dict[str, Any]:
    unconverged = [review.precision_warning] if review.precision_warning else []
    status: dict[str, Any] = {"converged": review.converged,
                              "warnings": [*unconverged, *review.warnings]}
    if review.history:
        last = review.history[-1]
        status["precision"] = {"target": review.precision, "paths": last.paths,
                               "worst": _jsonable(last.worst), "where": last.where,
                               "rounds": [{"paths": s.paths, "worst": _jsonable(s.worst)}
                                          for s in review.history]}
    return status


def to_csv(review: Review) -> str:
    """The tidy long frame (scenario, section, metric, input, month, statistic, value) as
    CSV: every section of the review, one number a row."""
    return str(review.tidy().to_csv(index=False, lineterminator="\n"))


RENDERERS = {"table": text, "csv": to_csv, "json": to_json, "markdown": markdown}


def render(review: Review, kind: str) -> str:
    """Render ``review`` in one of :data:`FORMATS`."""
    return RENDERERS[kind](review)
