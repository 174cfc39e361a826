"""What a decision asks for, parsed and checked: the input to vary and its range, the
probability wanted, the objective of an allocation and its statistic, channel bounds.

Every bad value is a :class:`~simulator.ConfigError` naming the flag it came from.

>>> Span.parse("0.5x:3x").multipliers(2000.0)
(0.5, 3.0)
>>> Span.parse("1000:6000").multipliers(2000.0)
(0.5, 3.0)
>>> parse_probability("80%")
0.8
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config.core import Config
from ..config.errors import ConfigError, did_you_mean
from ..config.validate import Input
from ..engine.results import path_mean, percentiles
from ..review.analysis import Target, check_metric_at

NUMBER = r"[-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
#: METRIC@MONTH, the metric possibly a channel's or a segment's (``paid_search.cac@12``)
METRIC_AT = re.compile(r"\s*([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?)\s*@\s*(\d+)\s*")
SPAN = re.compile(rf"\s*({NUMBER})(x?)\s*:\s*({NUMBER})(x?)\s*\Z")
STATISTIC = re.compile(r"(mean|p(\d{1,2}(?:\.\d+)?))\Z")
#: Metrics where less is better: an allocation minimises them.
LOWER_IS_BETTER = frozenset({"churned", "sm_spend", "cac", "cac_payback_months",
                             "burn_multiple", "cohort_payback_months"})
#: Percentile points on either side of a percentile that a search averages over.
BAND = 2.0
#: The multipliers searched when no range is given (rates: up to a mean of 1).
DEFAULT_MULTIPLIERS = (0.0, 10.0)


def shown(value: float) -> str:
    """A number for messages and tables: 24,680 / 0.0123 / 1.5."""
    if math.isfinite(value) and abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _number(text: str) -> float:
    return float(text.replace("_", "").replace(",", ""))


def parse_target(text: str, config: Config, flag: str = "--target") -> Target:
    """``METRIC@MONTH OP X``, e.g. ``customers@24>=200`` or ``paid_search.cac@12<=900``, read
    as a risk review's ``--target`` is (thresholds as tables print them: 1.2M, 1,200,000),
    at one month: a goal is met at its month, not at some month up to it."""
    target = Target.parse(text, config.metrics, config.simulation.months, flag)
    if target.by:
        raise ConfigError("", f"a goal is met at one month: METRIC@MONTH OP NUMBER such as "
                              f"customers@24>=200 (got {text!r})", flag)
    return target


def parse_probability(value: str | float, flag: str = "--probability") -> float:
    """``0.8`` or ``80%`` -> 0.8; must lie strictly between 0 and 1."""
    try:
        number = _number(value.rstrip("%")) if isinstance(value, str) else float(value)
    except ValueError:
        number = math.nan
    if isinstance(value, str) and value.strip().endswith("%"):
        number /= 100
    if not 0 < number < 1:
        raise ConfigError("", f"must be a probability between 0 and 1 such as 0.8 or 80% "
                              f"(got {value!r})", flag)
    return number


@dataclass(frozen=True)
class Span:
    """``LOW:HIGH`` in the input's units, or ``LOWx:HIGHx`` as multipliers of it."""

    low: float
    high: float
    relative: bool

    @classmethod
    def parse(cls, text: str, flag: str = "--range") -> Span:
        match = SPAN.match(text)
        if not match or bool(match.group(2)) != bool(match.group(4)):
            raise ConfigError("", f"expected LOW:HIGH in the input's units (1000:20000) or as "
                                  f"multipliers (0.5x:4x) (got {text!r})", flag)
        low, high = _number(match.group(1)), _number(match.group(3))
        if not low < high:
            raise ConfigError("", f"LOW must be below HIGH (got {text!r})", flag)
        if match.group(2) and low < 0:
            raise ConfigError("", f"multipliers must be >= 0 (got {text!r})", flag)
        return cls(low, high, bool(match.group(2)))

    def multipliers(self, mean: float, flag: str = "--range") -> tuple[float, float]:
        """The span as multipliers of an input whose mean is ``mean``."""
        if self.relative:
            return self.low, self.high
        ends = sorted((self.low / mean, self.high / mean))
        if ends[0] < 0:
            raise ConfigError("", f"{self.low:g}:{self.high:g} would change the sign of the "
                                  f"input (mean {mean:g}); a multiplier is >= 0", flag)
        return ends[0], ends[1]


def varied_input(config: Config, name: str, flag: str = "--vary") -> Input:
    """The input a goal seek varies: any model input whose mean is not 0."""
    inputs = config.inputs
    if name not in inputs:
        raise ConfigError("", f"unknown input {name!r} ({did_you_mean(name, sorted(inputs))})",
                          flag)
    if name.startswith("segments.") and name.endswith(".share"):
        raise ConfigError("", f"{name} is a share of new customers (the shares sum to 1); "
                              f"vary another input", flag)
    inp = inputs[name]
    if float(inp.dist.mean()) == 0.0:
        raise ConfigError("", f"{name} is 0 in this config: a multiplier cannot change it "
                              f"(set a value with --set first)", flag)
    return inp


def default_multipliers(inp: Input) -> tuple[float, float]:
    """The search range when none is given: 0x to 10x, and for a rate at most the
    multiplier that brings its mean to 1."""
    low, high = DEFAULT_MULTIPLIERS
    if inp.kind == "rate":
        high = min(high, 1.0 / float(inp.dist.mean()))
    return low, high


@dataclass(frozen=True)
class Objective:
    """What an allocation optimises: a statistic of ``metric`` at ``month`` over paths."""

    metric: str
    month: int
    statistic: str = "mean"

    @classmethod
    def parse(cls, text: str, statistic: str, config: Config) -> Objective:
        match = re.compile(METRIC_AT.pattern + r"\Z").match(text)
        if not match:
            raise ConfigError("", f"expected METRIC@MONTH such as customers@12 (got {text!r})",
                              "--objective")
        metric, month = match.group(1), int(match.group(2))
        check_metric_at(metric, month, config.metrics, config.simulation.months, "--objective")
        match = STATISTIC.match(statistic.strip())
        if not match or (match.group(2) and not 0 < float(match.group(2)) < 100):
            raise ConfigError("", f"must be mean or a percentile such as p10, p50 "
                                  f"(got {statistic!r})", "--statistic")
        return cls(metric, month, statistic.strip())

    @property
    def minimise(self) -> bool:
        """True for metrics where less is better (CAC, payback, churn...)."""
        return self.metric.rsplit(".", 1)[-1] in LOWER_IS_BETTER

    @property
    def label(self) -> str:
        return f"{self.statistic} of {self.metric}@{self.month}"

    def of(self, values: np.ndarray) -> float:
        """The statistic over paths."""
        if self.statistic == "mean":
            return path_mean(values)
        return float(percentiles(values, [float(self.statistic[1:])])[0])

    def smoothed(self, values: np.ndarray) -> float:
        """The statistic for a search: a percentile as the mean of the paths within
        +-2 points of it (each path entering or leaving the band moves it a little, where a
        single order statistic jumps from path to path); the mean as it is."""
        if self.statistic == "mean":
            return path_mean(values)
        q, n = float(self.statistic[1:]), len(values)
        low = int(np.clip(np.floor((q - BAND) / 100 * (n - 1)), 0, n - 1))
        high = int(np.clip(np.ceil((q + BAND) / 100 * (n - 1)), low, n - 1))
        band = np.partition(values, (low, high))[low: high + 1] if high > low else \
            np.partition(values, low)[low: low + 1]
        return path_mean(band)


def parse_budget(value: str | float, flag: str = "--budget") -> float:
    """A month-1 budget in dollars, >= 0."""
    try:
        number = _number(value) if isinstance(value, str) else float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise ConfigError("", f"must be a number of dollars >= 0 such as 60000 "
                              f"(got {value!r})", flag)
    return number


def paid_channels(config: Config, names: Sequence[str] | None,
                  flag: str = "--channels") -> tuple[str, ...]:
    """The paid channels to allocate among (default: every paid channel)."""
    paid = tuple(c.name for c in config.depth.channels if c.paid)
    if not paid:
        raise ConfigError("channels", "no paid channel ([[channels]] with spend, "
                                      "cost_per_unit and elasticity) to allocate a budget to",
                          config.source)
    if names is None:
        return paid
    chosen = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in chosen:
        if name not in paid:
            raise ConfigError("", f"{name!r} is not a paid channel ({did_you_mean(name, paid)})",
                              flag)
    if not chosen:
        raise ConfigError("", "name at least one paid channel", flag)
    return chosen


def parse_bound(text: str, channels: Sequence[str], flag: str = "--bound"
                ) -> tuple[str, float, float]:
    """``name=LOW:HIGH``: a channel's month-1 spend between LOW and HIGH dollars."""
    name, sep, span = text.partition("=")
    name = name.strip()
    if not sep:
        raise ConfigError("", f"expected name=LOW:HIGH such as paid_search=5000:40000 "
                              f"(got {text!r})", flag)
    if name not in channels:
        raise ConfigError("", f"{name!r} is not among the channels allocated "
                              f"({did_you_mean(name, channels)})", flag)
    parsed = Span.parse(span, flag)
    if parsed.relative or parsed.low < 0:
        raise ConfigError("", f"bounds are dollars >= 0 (got {text!r})", flag)
    return name, parsed.low, parsed.high
