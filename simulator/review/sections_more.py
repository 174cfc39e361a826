"""Sections about the inputs: sensitivity (tornado), assumptions as written, correlations,
and the run's status (convergence, warnings)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .cells import NOT_DEFINED, fmt, pct, unit
from .sections import Section, _titled

if TYPE_CHECKING:
    from ..config.core import Config
    from ..config.validate import Input
    from .contents import Review

CANNOT_TELL = "cannot tell"
#: Parameters that are values of the input itself (shown in its unit); the others are shapes.
VALUE_PARAMS = ("value", "low", "mode", "high", "mean", "sd")


def _swing(value: float, kind: str) -> str:
    return CANNOT_TELL if math.isnan(value) else fmt(value, kind)


def _share(value: float) -> str:
    return pct(value)


def _share_interval(low: float, high: float) -> str:
    return NOT_DEFINED if math.isnan(low) else f"{pct(low)} - {pct(high)}"


def sensitivity_note(level: float) -> str:
    """What the sensitivity table's columns mean."""
    return ("spearman: rank correlation of the input's draw with the output over paths. "
            "var %: the input's share of the output's rank variance explained by all inputs "
            "(its rho^2 over the sum of rho^2; correlated inputs share credit). alone "
            "explains: the share of the output's variance the input explains on its own (its "
            "first-order Sobol index), about how much of the spread would go if it were "
            f"measured exactly; {level:.0%} interval: its bootstrap interval over the paths "
            "(Monte Carlo error). Unlike spearman it also sees effects that are not monotone; "
            "what no input explains alone is interactions and count noise (luck). median lo / "
            "hi: the output's median over the paths whose input is in its bottom / top "
            "decile; swing: hi - lo (\"cannot tell\" when both are infinite). Where the "
            "output is infinite on some paths (no customer won), spearman, var % and alone "
            "explains are of its ranks.")


def sensitivity_reading(review: Review, name: str) -> str:
    """The one-line reading under a scenario's sensitivity table: what measuring the top
    input would remove, and what no single input explains."""
    sentence = review.reading(name)
    if sentence is None:
        return ""
    shares = review.shares[name]
    flows = review.results[name].config.simulation.flows
    rest = ("interactions, and count noise: luck no measurement removes"
            if flows == "binomial" else "interactions between inputs")
    return (f"{sentence[0].upper()}{sentence[1:]}; no single input explains "
            f"{shares.attrs['unexplained']:.0%} of it ({rest}).")


def sensitivity_sections(review: Review) -> list[Section]:
    if review.sensitivity_of is None:
        return []
    metric, month = review.sensitivity_of
    kind = unit(metric)
    level = review.shares_level
    out = []
    for name in review.results:
        frame = review.sensitivity_frame(name)
        rows = tuple((str(inp), f"{r['spearman']:.3f}", f"{r['variance_pct']:.1f}",
                      _share(r["first_order_share"]),
                      _share_interval(r["first_order_low"], r["first_order_high"]),
                      fmt(r["median_if_low"], kind), fmt(r["median_if_high"], kind),
                      _swing(r["swing"], kind), "#" * int(round(20 * abs(r["spearman"]))))
                     for inp, r in frame.iterrows())
        if rows:
            note = sensitivity_note(level)
        else:
            note = ("Every input of this scenario is a constant: nothing is uncertain, so "
                    "there is nothing to rank.")
        out.append(Section("sensitivity",
                           _titled(review, f"Sensitivity of {metric} at month {month}", name),
                           ("input", "spearman", "var %", "alone explains",
                            f"{level:.0%} interval", "median lo", "median hi", "swing", "bar"),
                           rows, note, name, month, left_columns=(8,),
                           reading=sensitivity_reading(review, name)))
    return out


def _value(value: Any, kind: str) -> str:
    """A number of an input in the input's unit: rates and growth as percentages."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind in ("rate", "growth"):
        return f"{100 * value:.3g}%"
    if kind in ("money", "count", "real"):
        return fmt(float(value), "#" if kind == "count" else "$")
    return f"{value:.3g}"


def written_form(inp: Input) -> str:
    """What the config wrote for an input, in its unit (``beta: p5 28%, p95 52%``; a
    ``--scale`` factor as ``0.7 x (...)``)."""
    return _written(inp.written, inp)


def _written(spec: Any, inp: Input) -> str:
    if isinstance(spec, Mapping) and "scale" in spec and "of" in spec:
        return f"{spec['scale']:g} x ({_written(spec['of'], inp)})"
    if not isinstance(spec, Mapping):
        return _value(spec, inp.kind)
    dist = spec.get("dist", "?")
    if dist in ("mixture", "empirical"):
        return inp.dist.describe()
    parts = []
    for key, value in spec.items():
        if key == "dist":
            continue
        is_value = key in VALUE_PARAMS or (key[:1] == "p" and key[1:].isdigit())
        parts.append(f"{key} {_value(value, inp.kind) if is_value else value}")
    return f"{dist}: " + ", ".join(parts)


def _drawn(inp: Input) -> str:
    if inp.vary != "month":
        return "per path"
    return "per month" + (f", persistence {inp.persistence:g}" if inp.persistence else "")


def shown_inputs(config: Config) -> dict[str, Input]:
    """The inputs the config writes (defaults are left out: the model uses them as
    constants, and nothing about them was asked)."""
    return {name: inp for name, inp in config.inputs.items() if inp.written is not None}


def _same(a: Input | None, b: Input) -> bool:
    return a is not None and (a.written, a.vary, a.persistence) == (b.written, b.vary,
                                                                   b.persistence)


def assumption_sections(review: Review) -> list[Section]:
    """Per scenario: each input as written with its P5 / P50 / P95, then the correlations;
    with several scenarios, what differs from the first scenario is marked."""
    import numpy as np

    first = shown_inputs(review.first.config)
    out = []
    several = len(review.results) > 1
    for i, (name, result) in enumerate(review.results.items()):
        inputs = shown_inputs(result.config)
        rows: list[tuple[str, ...]] = []
        marked: set[tuple[int, int]] = set()
        for r, (key, inp) in enumerate(inputs.items()):
            q = inp.dist.ppf(np.array([0.05, 0.5, 0.95]))
            rows.append((key, written_form(inp), _drawn(inp),
                         *(_value(float(v), inp.kind) for v in q)))
            if i > 0 and not _same(first.get(key), inp):
                marked.update((r, c) for c in range(1, 6))
        gone = [k for k in first if k not in inputs] if i > 0 else []
        note = ("Each input as the config writes it (rates and growth in percent); P5 / P50 "
                "/ P95 of its distribution. Inputs left at their defaults are not listed.")
        if several and i > 0:
            note += (f" Marked: differs from {next(iter(review.results))}." +
                     (f" Not written here: {', '.join(gone)}." if gone else ""))
        out.append(Section("assumptions", _titled(review, "Assumptions", name),
                           ("input", "as written", "drawn", "P5", "P50", "P95"), tuple(rows),
                           note, name, left=3, marked=frozenset(marked), document_only=True))
        correlations = result.config.correlations
        if correlations:
            before = review.first.config.correlations
            rows_c = tuple((a, b, f"{rho:g}") for (a, b), rho in correlations.items())
            marked_c = frozenset((r, 2) for r, (pair, rho) in enumerate(correlations.items())
                                 if i > 0 and before.get(pair) != rho)
            out.append(Section("correlations", _titled(review, "Correlations", name),
                               ("input", "with input", "rank correlation"), rows_c,
                               "Rank (Spearman) correlations between inputs' draws.", name,
                               left=2, marked=marked_c, document_only=True))
    return out


def status_section(review: Review) -> Section | None:
    """Convergence of ``--precision`` and warnings about the numbers; None when all is well."""
    rows: list[tuple[str, ...]] = []
    if review.history:
        last, target = review.history[-1], review.precision or 0.0
        where = f" ({last.where})" if last.where else ""
        if review.converged:
            rows.append(("precision", f"reached at {last.paths:,} paths: worst relative "
                                      f"half-width {pct(last.worst, 2)}{where}, target "
                                      f"{target:.2%}"))
        else:
            rows.append(("precision", f"NOT reached: stopped at --max-paths {last.paths:,} "
                                      f"with a worst relative half-width of {pct(last.worst, 2)}"
                                      f"{where}, target {target:.2%}"))
    rows += [("warning", w) for w in review.warnings]
    if not rows:
        return None
    return Section("status", "Run status", ("check", "result"), tuple(rows), left=2)
