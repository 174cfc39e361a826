"""Validation primitives shared by the config sections: types, ranges, keys, model inputs."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import distributions
from distributions import Distribution, DistributionError

from . import schema
from .errors import ConfigError, did_you_mean
from .scaled import Scale, Scaled

STAGE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Input:
    """A validated model input: a distribution and how often it is drawn."""

    name: str
    kind: str
    dist: Distribution
    vary: str = "path"  # "path": once per path; "month": redrawn every month
    persistence: float = 0.0  # lag-1 correlation of monthly draws (normal scores)
    #: what the config wrote (a number or the distribution table); None for a default
    written: Any = field(default=None, compare=False, hash=False)


def check_keys(table: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{prefix}{key}", f"unknown key ({did_you_mean(key, allowed)})")


def get_table(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, f"must be a table (got {show(value)})")
    return value


def show(value: Any) -> str:
    """A short rendering of a given value for messages."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if len(value) > 6 else repr(value)
    return repr(value)


def as_integer(value: Any, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"must be an integer >= {low} (got {show(value)})")
    if value < low:
        raise ConfigError(key, f"must be >= {low} (got {value})")
    return value


def as_number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"must be a number (got {show(value)})")
    if not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number (got {value})")
    return float(value)


def as_choice(value: Any, key: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        hint = did_you_mean(value, allowed) if isinstance(value, str) else \
            f"allowed: {', '.join(allowed)}"
        raise ConfigError(key, f"unknown value {show(value)} ({hint})")
    return value


#: Parameters of a rate's distribution that are values of the rate (written in percent by
#: mistake, they are above 1).
RATE_VALUES = re.compile(r"(value|low|mode|high|mean|p\d+)\Z")


def _check_not_percent(name: str, spec: Any) -> None:
    """A rate written in percent (``rate = 20``, ``low = 40``) is refused with the fraction
    it probably means."""
    def fraction(v: float) -> str:
        return f"{v / 100:g}"

    if isinstance(spec, int | float):
        if 1 < spec <= 100:
            raise ConfigError(name, f"is a rate in [0, 1] (got {spec:g}; rates are fractions: "
                                    f"did you mean {fraction(spec)}?)")
        return
    values = {k: v for k, v in spec.items() if RATE_VALUES.match(str(k))
              and isinstance(v, int | float) and not isinstance(v, bool)}
    if values and any(v > 1 for v in values.values()) and all(0 <= v <= 100
                                                            for v in values.values()):
        given = ", ".join(f"{k} = {v:g}" for k, v in values.items())
        spread = {k: v for k, v in spec.items() if k == "sd" and isinstance(v, int | float)}
        meant = ", ".join(f"{k} = {fraction(v)}" for k, v in {**values, **spread}.items())
        raise ConfigError(name, f"is a rate in [0, 1] (got {given}; rates are fractions: "
                                f"did you mean {meant}?)")


def validate_input(name: str, kind: str, spec: Any, base_dir: Path) -> Input:
    if isinstance(spec, Scale):  # --scale: the written input times a factor
        inner = validate_input(name, kind, spec.spec, base_dir)
        dist: Distribution = Scaled(inner.dist, spec.factor)
        try:
            _check_range(name, kind, dist)
        except ConfigError:
            top = schema.KINDS[kind][1] / inner.dist.support()[1]
            limit = f" (factors up to {top:.3g} keep it inside)" if math.isfinite(top) else ""
            raise ConfigError(name, f"must be {schema.KINDS[kind][3]}, and {spec.factor:g} x "
                                    f"{inner.dist.describe()} can fall outside it{limit}") from None
        return Input(name, kind, dist, inner.vary, inner.persistence, spec.written())
    written = spec
    vary, persistence = "path", 0.0
    if isinstance(spec, bool) or not isinstance(spec, int | float | dict):
        raise ConfigError(name, f"must be a number or a distribution table such as "
                                f"{{ dist = \"pert\", low = 1, mode = 2, high = 4 }} "
                                f"(got {show(spec)})")
    if isinstance(spec, dict):
        spec = dict(spec)
        vary = as_choice(spec.pop("vary", "path"), f"{name}.vary", ("path", "month"))
        if "persistence" in spec:
            persistence = as_number(spec.pop("persistence"), f"{name}.persistence")
            if vary != "month":
                raise ConfigError(f"{name}.persistence", "needs vary = \"month\"")
            if not 0.0 <= persistence < 1.0:
                raise ConfigError(f"{name}.persistence", f"must be in [0, 1) (got {persistence})")
    elif not math.isfinite(spec):
        raise ConfigError(name, f"must be a finite number (got {spec})")
    if kind == "rate":
        _check_not_percent(name, spec)
    try:
        dist = distributions.parse(spec, base_dir=base_dir, caller_keys=schema.INPUT_OPTIONS)
    except DistributionError as err:
        key = f"{name}.{err.param}" if err.param else name
        raise ConfigError(key, err.reason) from None
    _check_range(name, kind, dist)
    return Input(name, kind, dist, vary, persistence, written)


def _check_range(name: str, kind: str, dist: Distribution) -> None:
    """Refuse a distribution that can leave its input's range."""
    low, high, exclusive, allowed = schema.KINDS[kind]
    lo, hi = dist.support()
    if dist.is_constant:
        bad = lo < low or lo > high or (exclusive and lo <= low)
        if bad:
            raise ConfigError(name, f"must be {allowed} (got {lo:g})")
    elif math.isfinite(high):
        if lo < low or hi > high or (exclusive and lo <= low):
            raise ConfigError(name, f"must be {allowed} but {dist.describe()} can fall "
                                    f"outside it (use beta or pert, or add low/high bounds)")
    elif lo < low or (exclusive and lo <= low):
        outside = float(dist.cdf(low))
        if outside > schema.OUTSIDE_TOLERANCE:
            raise ConfigError(name, f"must be {allowed} but {dist.describe()} falls outside "
                                    f"with probability {outside:.3g} (use lognormal or gamma, "
                                    f"or add a low bound)")


