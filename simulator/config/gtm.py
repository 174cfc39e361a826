"""Go-to-market depth in the config: channels, sales cycles (lags), start pipeline,
seasonality, shocks and early-life churn. Everything is optional; a config without any of it
is the core model of docs/model.md, number for number.

Each numeric parameter is a model input with a dotted name (``channels.paid.spend``,
``channels.paid.rates.mql``, ``retention.early_churn``), so it can be a distribution, be
correlated, and appear in sensitivity tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import distributions
from distributions import DistributionError

from . import schema
from .errors import ConfigError, did_you_mean
from .retention import Retention
from .validate import (
    STAGE_NAME,
    Input,
    as_integer,
    as_number,
    check_keys,
    show,
    validate_input,
)

CHANNEL_KEYS = ("name", "enters", "volume", "growth", "spend", "spend_growth", "cost_per_unit",
                "elasticity", "rates", "contacts", "sends", "click_rate", "click_to_lead",
                "unsubscribe")
KIND_KEYS = {
    "volume": {"volume": ("count", None), "growth": ("growth", 0.0)},
    "paid": {"spend": ("money", None), "spend_growth": ("growth", 0.0),
             "cost_per_unit": ("positive", None), "elasticity": ("elasticity", 1.0)},
    "nurture": {"contacts": ("count", None), "sends": ("factor", 1.0),
                "click_rate": ("rate", None), "click_to_lead": ("rate", None),
                "unsubscribe": ("rate", 0.0)},
}
TEAM_KEYS = {"reps": ("count", None), "hires_per_month": ("factor", 0.0),
             "opportunities_per_rep": ("factor", None), "cost_per_rep": ("money", 0.0)}
SEGMENT_KEYS = ("name", "share", "close_rate", "arpa", "churn", "expansion", "lag", "lag_pmf")
SHOCK_KEYS = ("name", "probability", "duration", "impact", "target")
SEASONALITY_KEYS = ("multipliers", "first_month", "churn")
SHOCK_TARGETS = ("acquisition", "churn", "spend")
ACQUISITION = "acquisition"  # the channel that [acquisition] describes


@dataclass(frozen=True)
class Channel:
    """A source of volume entering the funnel at ``enters`` (-1: as visitors; else the index
    of the stage it enters at). ``kind``: "visitors" ([acquisition]), "volume", "paid" (buys
    volume with diminishing returns) or "nurture" (an emailed contact database)."""

    name: str
    enters: int
    kind: str
    rates: tuple[str, ...]  # input name of each stage's conversion rate for this channel

    @property
    def paid(self) -> bool:
        return self.kind == "paid"

    def input(self, key: str) -> str:
        return f"channels.{self.name}.{key}"


@dataclass(frozen=True)
class SalesTeam:
    """Reps work the units at stage ``stage``; capacity limits how many are worked a month,
    the rest wait in a backlog. Inputs are ``sales_team.<key>``."""

    stage: int
    ramp_months: int


@dataclass(frozen=True)
class Segment:
    """A customer segment: its share of new customers (or of the units entering the last
    stage, converted at its own ``close_rate``), and its own revenue and churn inputs."""

    name: str
    share: str  # input names
    close_rate: str | None
    arpa: str
    churn: str
    expansion: str
    lag: tuple[float, ...] | None


@dataclass(frozen=True)
class Shock:
    """An event that fires with ``probability`` a month (when not already active) and
    multiplies its target by a drawn ``impact`` for a drawn ``duration`` of months."""

    name: str
    probability: float
    duration: distributions.Distribution
    impact: distributions.Distribution
    target: str  # acquisition | churn | spend | funnel.<stage>.rate


@dataclass(frozen=True)
class Seasonality:
    multipliers: tuple[float, ...]  # calendar months January..December
    first_month: int  # calendar month of month 1
    churn: bool  # also multiply churn

    def factor(self, month: int) -> float:
        return self.multipliers[(self.first_month - 1 + month - 1) % 12]


@dataclass(frozen=True)
class Depth:
    """The optional go-to-market features of a config."""

    channels: tuple[Channel, ...]
    lags: Mapping[int, tuple[float, ...]]  # stage index -> delay pmf over months 0, 1, ...
    pipeline: Mapping[int, float]  # stage index -> units already there at month 0
    seasonality: Seasonality | None
    shocks: tuple[Shock, ...]
    early_months: int  # customers younger than this churn at retention.early_churn
    sales_team: SalesTeam | None = None
    segments: tuple[Segment, ...] = ()
    retention: Retention = Retention()  # the churn model (flat monthly churn by default)


def _name(value: Any, key: str, taken: set[str]) -> str:
    if not isinstance(value, str) or not STAGE_NAME.match(value):
        raise ConfigError(key, f"must match [a-z][a-z0-9_]* (got {show(value)})")
    if value in taken:
        raise ConfigError(key, f"{value!r} is already a stage, channel, shock or metric name")
    return value


def _stage_index(value: Any, key: str, stages: tuple[str, ...], allow_visitors: bool) -> int:
    allowed = (("visitors",) if allow_visitors else ()) + stages
    if value not in allowed:
        hint = did_you_mean(value, allowed) if isinstance(value, str) else \
            f"allowed: {', '.join(allowed)}"
        raise ConfigError(key, f"unknown stage {show(value)} ({hint})")
    return -1 if value == "visitors" else stages.index(value)


def parse_channels(raw: Any, stages: tuple[str, ...], inputs: dict[str, Input],
                   base_dir: Path, taken: set[str], has_acquisition: bool
                   ) -> tuple[Channel, ...]:
    """``[[channels]]`` (plus the channel ``[acquisition]`` describes, first)."""
    default_rates = tuple(f"funnel.{s}.rate" for s in stages)
    out = [Channel(ACQUISITION, -1, "visitors", default_rates)] if has_acquisition else []
    if raw is None:
        return tuple(out)
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ConfigError("channels", f"must be [[channels]] tables (got {show(raw)})")
    for i, entry in enumerate(raw):
        name = _name(entry.get("name"), f"channels[{i + 1}].name", taken)
        taken.add(name)
        prefix = f"channels.{name}"
        check_keys(entry, CHANNEL_KEYS, f"{prefix}.")
        kinds = [k for k, first in (("volume", "volume"), ("paid", "spend"),
                                    ("nurture", "contacts")) if first in entry]
        if len(kinds) != 1:
            raise ConfigError(prefix, "needs exactly one of volume (units a month), spend "
                                      "(paid acquisition) or contacts (a nurture database)")
        kind_name = kinds[0]
        default_entry = stages[0] if kind_name == "nurture" else "visitors"
        enters = _stage_index(entry.get("enters", default_entry), f"{prefix}.enters", stages,
                              kind_name != "nurture")
        wanted = KIND_KEYS[kind_name]
        for other, keys in KIND_KEYS.items():
            for key in keys:
                if other != kind_name and key in entry and key not in wanted:
                    raise ConfigError(f"{prefix}.{key}", f"belongs to a {other} channel, not "
                                                         f"a {kind_name} one")
        for key, (kind, default) in wanted.items():
            if key not in entry and default is None:
                raise ConfigError(f"{prefix}.{key}", "is required")
            spec = entry.get(key, default)
            inputs[f"{prefix}.{key}"] = validate_input(f"{prefix}.{key}", kind, spec, base_dir)
        rates = list(default_rates)
        overrides = entry.get("rates", {})
        if not isinstance(overrides, dict):
            raise ConfigError(f"{prefix}.rates", f"must be a table such as {{ mql = 0.7 }} "
                                                 f"(got {show(overrides)})")
        for stage, spec in overrides.items():
            index = _stage_index(stage, f"{prefix}.rates.{stage}", stages, False)
            if index <= enters:
                raise ConfigError(f"{prefix}.rates.{stage}", f"the channel enters at "
                                                             f"{entry.get('enters')!r}, after "
                                                             f"this stage")
            name_ = f"{prefix}.rates.{stage}"
            inputs[name_] = validate_input(name_, "rate", spec, base_dir)
            rates[index] = name_
        out.append(Channel(name, enters, kind_name, tuple(rates)))
    return tuple(out)


def parse_sales_team(raw: Any, stages: tuple[str, ...], inputs: dict[str, Input],
                     base_dir: Path) -> SalesTeam | None:
    """``[sales_team]``: reps, hires_per_month, ramp_months, opportunities_per_rep,
    cost_per_rep, and the ``stage`` they work (default: the stage before the last)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("sales_team", f"must be a table (got {show(raw)})")
    check_keys(raw, (*TEAM_KEYS, "ramp_months", "stage"), "sales_team.")
    if len(stages) < 2:
        raise ConfigError("sales_team", "needs at least two funnel stages (reps work the "
                                        "units of one stage into the next)")
    stage = _stage_index(raw.get("stage", stages[-2]), "sales_team.stage", stages, False)
    if stage == len(stages) - 1:
        raise ConfigError("sales_team.stage", "reps work units into the next stage; the last "
                                              "stage has none")
    for key, (kind, default) in TEAM_KEYS.items():
        if key not in raw and default is None:
            raise ConfigError(f"sales_team.{key}", "is required")
        name = f"sales_team.{key}"
        inputs[name] = validate_input(name, kind, raw.get(key, default), base_dir)
    ramp = as_integer(raw.get("ramp_months", 1), "sales_team.ramp_months", 1)
    return SalesTeam(stage, ramp)


def parse_segments(raw: Any, inputs: dict[str, Input],
                   base_dir: Path, taken: set[str], months: int) -> tuple[Segment, ...]:
    """``[[segments]]``: name, share (of new customers) or share + close_rate (of the units
    entering the last stage), and optional arpa, churn, expansion, lag / lag_pmf."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
        raise ConfigError("segments", f"must be [[segments]] tables (got {show(raw)})")
    out = []
    with_close = [("close_rate" in entry) for entry in raw]
    if any(with_close) and not all(with_close):
        raise ConfigError("segments", "give close_rate for every segment or for none")
    total = 0.0
    for i, entry in enumerate(raw):
        name = _name(entry.get("name"), f"segments[{i + 1}].name", taken)
        taken.add(name)
        prefix = f"segments.{name}"
        check_keys(entry, SEGMENT_KEYS, f"{prefix}.")
        if "share" not in entry:
            raise ConfigError(f"{prefix}.share", "is required (a share of new customers)")
        share = as_number(entry["share"], f"{prefix}.share")
        if not 0 <= share <= 1:
            raise ConfigError(f"{prefix}.share", f"must be in [0, 1] (got {share:g})")
        total += share
        inputs[f"{prefix}.share"] = validate_input(f"{prefix}.share", "rate", share, base_dir)
        names = {}
        for key, kind, default in (("arpa", "money", "revenue.arpa"),
                                   ("churn", "rate", "retention.churn"),
                                   ("expansion", "growth", "revenue.expansion"),
                                   ("close_rate", "rate", None)):
            if key in entry:
                names[key] = f"{prefix}.{key}"
                inputs[names[key]] = validate_input(names[key], kind, entry[key], base_dir)
            elif default is not None:
                if default not in inputs:
                    raise ConfigError(f"{prefix}.{key}", f"is required ({default} is not set)")
                names[key] = default
        out.append(Segment(name, f"{prefix}.share", names.get("close_rate"), names["arpa"],
                           names["churn"], names["expansion"],
                           lag_pmf(entry, prefix, months, base_dir)))
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ConfigError("segments", f"shares must sum to 1 (got {total:g})")
    return tuple(out)


def lag_pmf(entry: Mapping[str, Any], key: str, months: int, base_dir: Path
            ) -> tuple[float, ...] | None:
    """A stage's delay distribution over months 0, 1, ... (``lag`` or ``lag_pmf``)."""
    if "lag" in entry and "lag_pmf" in entry:
        raise ConfigError(f"{key}.lag", "give lag or lag_pmf, not both")
    if "lag_pmf" in entry:
        pmf = entry["lag_pmf"]
        if not isinstance(pmf, list) or not pmf:
            raise ConfigError(f"{key}.lag_pmf", f"must be probabilities for a delay of 0, 1, "
                                                f"2... months (got {show(pmf)})")
        values = [as_number(p, f"{key}.lag_pmf") for p in pmf]
        if min(values) < 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ConfigError(f"{key}.lag_pmf", f"must be >= 0 and sum to 1 (got {pmf})")
        return tuple(values)
    if "lag" not in entry:
        return None
    spec = entry["lag"]
    try:
        dist = distributions.parse(spec, base_dir=base_dir)
    except DistributionError as err:
        raise ConfigError(f"{key}.lag" + (f".{err.param}" if err.param else ""),
                          err.reason) from None
    lo, _ = dist.support()
    grid = np.arange(0, months + 1, dtype=float)
    if lo < 0 or not np.allclose(dist.ppf(np.linspace(0.01, 0.99, 99)) % 1, 0):
        raise ConfigError(f"{key}.lag", f"must be a whole number of months >= 0, such as "
                                        f"{{ dist = \"poisson\", lam = 2 }} or 3 "
                                        f"(got {dist.describe()})")
    cdf = dist.cdf(grid)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    return tuple(float(p) for p in pmf)  # mass beyond the horizon never arrives in it


def parse_pipeline(raw: Any, stages: tuple[str, ...]) -> dict[int, float]:
    """``[start] pipeline = { opportunity = 12 }``: units already at a stage at month 0."""
    if not isinstance(raw, dict):
        raise ConfigError("start.pipeline", f"must be a table such as {{ opportunity = 12 }} "
                                            f"(got {show(raw)})")
    out = {}
    for stage, value in raw.items():
        index = _stage_index(stage, f"start.pipeline.{stage}", stages, False)
        if index == len(stages) - 1:
            raise ConfigError(f"start.pipeline.{stage}", "units at the last stage are "
                                                         "customers: use start.customers")
        count = as_number(value, f"start.pipeline.{stage}")
        if count < 0:
            raise ConfigError(f"start.pipeline.{stage}", f"must be >= 0 (got {count:g})")
        out[index] = count
    return out


def parse_seasonality(raw: Any) -> Seasonality | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("seasonality", f"must be a table (got {show(raw)})")
    check_keys(raw, SEASONALITY_KEYS, "seasonality.")
    values = raw.get("multipliers")
    if not isinstance(values, list) or len(values) != 12:
        raise ConfigError("seasonality.multipliers", f"must be 12 numbers, January to December "
                                                     f"(got {show(values)})")
    multipliers = tuple(as_number(v, "seasonality.multipliers") for v in values)
    if min(multipliers) < 0:
        raise ConfigError("seasonality.multipliers", f"must be >= 0 (got {min(multipliers):g})")
    first = as_integer(raw.get("first_month", 1), "seasonality.first_month", 1)
    if first > 12:
        raise ConfigError("seasonality.first_month", f"must be a calendar month 1..12 "
                                                     f"(got {first})")
    churn = raw.get("churn", False)
    if not isinstance(churn, bool):
        raise ConfigError("seasonality.churn", f"must be true or false (got {show(churn)})")
    return Seasonality(multipliers, first, churn)


def parse_shocks(raw: Any, stages: tuple[str, ...], base_dir: Path, taken: set[str]
                 ) -> tuple[Shock, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise ConfigError("shocks", f"must be [[shocks]] tables (got {show(raw)})")
    targets = SHOCK_TARGETS + tuple(f"funnel.{s}.rate" for s in stages)
    out = []
    for i, entry in enumerate(raw):
        name = _name(entry.get("name"), f"shocks[{i + 1}].name", taken)
        taken.add(name)
        prefix = f"shocks.{name}"
        check_keys(entry, SHOCK_KEYS, f"{prefix}.")
        for key in ("probability", "duration", "impact", "target"):
            if key not in entry:
                raise ConfigError(f"{prefix}.{key}", "is required")
        probability = as_number(entry["probability"], f"{prefix}.probability")
        if not 0 <= probability <= 1:
            raise ConfigError(f"{prefix}.probability", f"must be in [0, 1] (got "
                                                       f"{probability:g})")
        duration = validate_input(f"{prefix}.duration", "positive", entry["duration"], base_dir)
        impact = validate_input(f"{prefix}.impact", "factor", entry["impact"], base_dir)
        target = entry["target"]
        if target not in targets:
            hint = did_you_mean(target, targets) if isinstance(target, str) else \
                f"allowed: {', '.join(targets)}"
            raise ConfigError(f"{prefix}.target", f"unknown target {show(target)} ({hint})")
        out.append(Shock(name, probability, duration.dist, impact.dist, target))
    return tuple(out)


def reserved_names(stages: tuple[str, ...]) -> set[str]:
    return set(stages) | set(schema.METRICS) | set(schema.DEPTH_METRICS) | {"visitors"}
