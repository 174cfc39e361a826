"""The config contract: read TOML (or a dict), validate every key, return frozen typed objects.

>>> cfg = load_config({"acquisition": {"visitors": 2000},
...                    "funnel": [{"stage": "lead", "rate": 0.01}],
...                    "revenue": {"arpa": 1500}, "retention": {"churn": 0.02}})
>>> cfg.stages, cfg.simulation.months, cfg.simulation.report_months
(('lead',), 36, (12, 24, 36))
>>> load_config({"simulation": {"pahts": 10}})
Traceback (most recent call last):
...
simulator.ConfigError: <dict>: simulation.pahts: unknown key (did you mean 'paths'? ...
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import distributions
from distributions import DistributionError

from . import gtm, schema
from .errors import ConfigError, did_you_mean
from .gtm import ACQUISITION, Depth
from .overrides import Override, apply_overrides, attribute
from .retention import Retention, parse_retention
from .validate import (
    STAGE_NAME,
    Input,
    as_choice,
    as_integer,
    as_number,
    check_keys,
    get_table,
    show,
    validate_input,
)


@dataclass(frozen=True)
class Simulation:
    """The ``[simulation]`` table."""

    months: int
    paths: int
    seed: int | None
    percentiles: tuple[float, ...]
    report_months: tuple[int, ...]
    sampling: str
    flows: str
    kernel: str | None = None  # "numpy" | "compiled"; None: compiled where numba is installed


@dataclass(frozen=True)
class Config:
    """A validated config. ``inputs`` maps every dotted input name to its :class:`Input`
    (defaults included; ``start.mrr`` only when written)."""

    source: str
    simulation: Simulation
    stages: tuple[str, ...]
    inputs: Mapping[str, Input]
    cac_window: int
    correlations: Mapping[tuple[str, str], float]
    depth: Depth

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Channels of ``[[channels]]`` (and the one ``[acquisition]`` describes, when there
        are ``[[channels]]`` too): their metrics are reported."""
        channels = self.depth.channels
        return tuple(c.name for c in channels) if any(c.name != ACQUISITION
                                                      for c in channels) else ()

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.depth.segments)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric name of a run of this config, in table order."""
        return schema.metric_names(self.stages, self.channel_names, self.segment_names)


def load_config(path_or_dict: str | Path | Mapping[str, Any],
                overrides: Sequence[Override] = ()) -> Config:
    """Read and validate a config from a TOML file path or a dict.

    Parameters
    ----------
    path_or_dict
        A path to a TOML file, or the already-parsed mapping.
    overrides
        Values set on top of the file (``--set`` and the dedicated CLI flags); an error in an
        overridden key is attributed to its flag.

    Raises
    ------
    ConfigError
        For the first problem found, naming the dotted key.
    """
    if isinstance(path_or_dict, Mapping):
        source, base_dir, raw = "<dict>", Path.cwd(), copy.deepcopy(dict(path_or_dict))
    else:
        path = Path(path_or_dict)
        source, base_dir = str(path), path.parent
        raw = read_toml(path)
    try:
        raw = apply_overrides(raw, overrides)
        return _validate(raw, source, base_dir)
    except ConfigError as err:
        raise attributed(err, source, overrides) from None


def attributed(err: ConfigError, source: str, overrides: Sequence[Override]) -> ConfigError:
    """``err`` with its source: the flag that set its key, else the config ``source``."""
    if err.source:
        return err
    return err.with_source(attribute(err.key, overrides) or source)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; unreadable files and syntax errors become a :class:`ConfigError`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        reason = f"cannot read the config ({err.strerror or err})"
        raise ConfigError("", reason, str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("", "the config is not UTF-8 text", str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"invalid TOML: {err}", str(path)) from None


def _validate(raw: dict[str, Any], source: str, base_dir: Path) -> Config:
    check_keys(raw, schema.SECTIONS, "")
    simulation = _simulation(get_table(raw, "simulation"))
    stages, stage_specs = _funnel(raw.get("funnel"))
    written: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    for section in ("start", "acquisition", "revenue", "retention", "costs"):
        table = get_table(raw, section)
        names = [d.name.split(".")[1] for d in schema.section_inputs(section)]
        check_keys(table, names + list(schema.PLAIN_KEYS.get(section, ())), f"{section}.")
        for key, value in table.items():
            target = plain if key in schema.PLAIN_KEYS.get(section, ()) else written
            target[f"{section}.{key}"] = value
    has_channels = raw.get("channels") is not None
    retention = parse_retention(raw, plain, written)
    for required in schema.REQUIRED_INPUTS:
        optional = required == "acquisition.visitors" and has_channels and "acquisition" not in raw
        optional = optional or (required == "retention.churn" and retention.model != "churn")
        if required not in written and not optional:
            raise ConfigError(required, "is required (a number or a distribution table)")
    inputs: dict[str, Input] = {}
    for d in schema.INPUTS:
        if d.name in written:
            inputs[d.name] = validate_input(d.name, d.kind, written[d.name], base_dir)
        elif d.default is not None:
            inputs[d.name] = Input(d.name, d.kind, distributions.parse(d.default))
    for stage, spec in zip(stages, stage_specs, strict=True):
        name = f"funnel.{stage}.rate"
        inputs[name] = validate_input(name, "rate", spec, base_dir)
    _check_start(inputs)
    depth = _depth(raw, plain, stages, inputs, base_dir, simulation.months, retention)
    metrics = get_table(raw, "metrics")
    check_keys(metrics, schema.METRICS_KEYS, "metrics.")
    cac_window = as_integer(metrics.get("cac_window", 3), "metrics.cac_window", 1)
    correlations = _correlations(raw.get("correlations", []), inputs)
    return Config(source, simulation, stages, MappingProxyType(inputs), cac_window,
                  MappingProxyType(correlations), depth)


def _depth(raw: dict[str, Any], plain: dict[str, Any], stages: tuple[str, ...],
           inputs: dict[str, Input], base_dir: Path, months: int, retention: Retention
           ) -> Depth:
    """The optional go-to-market features (see :mod:`simulator.config.gtm`)."""
    taken = gtm.reserved_names(stages)
    channels = gtm.parse_channels(raw.get("channels"), stages, inputs, base_dir, taken,
                                  "acquisition.visitors" in inputs)
    lags = {}
    for i, entry in enumerate(raw["funnel"]):
        pmf = gtm.lag_pmf(entry, f"funnel.{stages[i]}", months, base_dir)
        if pmf is not None and (len(pmf) > 1 and any(pmf[1:])):
            lags[i] = pmf
    pipeline = gtm.parse_pipeline(plain.get("start.pipeline", {}), stages)
    early = plain.get("retention.early_months")
    if (early is None) != ("retention.early_churn" not in inputs):
        raise ConfigError("retention.early_months" if early is None else
                          "retention.early_churn", "early_churn and early_months go together")
    early_months = 0 if early is None else as_integer(early, "retention.early_months", 1)
    segments = gtm.parse_segments(raw.get("segments"), inputs, base_dir, taken, months)
    if any(s.close_rate for s in segments) and len(stages) - 1 in lags:
        raise ConfigError(f"funnel.{stages[-1]}.lag", "with segments closing at their own "
                                                      "close_rate, give the sales cycle as a "
                                                      "segment lag")
    return Depth(channels, lags, pipeline,
                 gtm.parse_seasonality(raw.get("seasonality")),
                 gtm.parse_shocks(raw.get("shocks"), stages, base_dir, taken), early_months,
                 gtm.parse_sales_team(raw.get("sales_team"), stages, inputs, base_dir),
                 segments, retention)


def _simulation(table: dict[str, Any]) -> Simulation:
    check_keys(table, schema.SIMULATION_KEYS, "simulation.")
    months = as_integer(table.get("months", 36), "simulation.months", 1)
    paths = as_integer(table.get("paths", 10000), "simulation.paths", 1)
    seed = table.get("seed")
    if seed is not None:
        seed = as_integer(seed, "simulation.seed", 0)
    percentiles = _percentiles(table.get("percentiles", list(schema.DEFAULT_PERCENTILES)))
    if "report_months" in table:
        report = _report_months(table["report_months"], months)
    else:
        report = tuple(sorted({m for m in schema.DEFAULT_REPORT_MONTHS if m < months} | {months}))
    sampling = as_choice(table.get("sampling", "random"), "simulation.sampling", schema.SAMPLING)
    flows = as_choice(table.get("flows", "binomial"), "simulation.flows", schema.FLOWS)
    kernel = table.get("kernel")
    if kernel is not None:
        kernel = as_choice(kernel, "simulation.kernel", schema.KERNELS)
    return Simulation(months, paths, seed, percentiles, report, sampling, flows, kernel)


def _percentiles(value: Any) -> tuple[float, ...]:
    key = "simulation.percentiles"
    if not isinstance(value, list) or not value:
        raise ConfigError(key, f"must be a non-empty array of numbers in (0, 100) "
                               f"(got {show(value)})")
    out = set()
    for item in value:
        number = as_number(item, key)
        if not 0.0 < number < 100.0:
            raise ConfigError(key, f"each percentile must be in (0, 100) (got {item})")
        out.add(number)
    return tuple(sorted(out))


def _report_months(value: Any, months: int) -> tuple[int, ...]:
    key = "simulation.report_months"
    if not isinstance(value, list) or not value:
        raise ConfigError(key, f"must be a non-empty array of months (got {show(value)})")
    out = set()
    for item in value:
        month = as_integer(item, key, 1)
        if month > months:
            within = [m for m in sorted({int(v) for v in value if isinstance(v, int)})
                      if 1 <= m <= months] or [months]
            shown = ",".join(map(str, within))
            raise ConfigError(key, f"month {month} is beyond the horizon "
                                   f"(simulation.months = {months}; report months within it: "
                                   f"--at {shown} or report_months = [{shown.replace(',', ', ')}])")
        out.add(month)
    return tuple(sorted(out))


def _funnel(value: Any) -> tuple[tuple[str, ...], list[Any]]:
    if value is None:
        raise ConfigError("funnel", "is required: at least one [[funnel]] stage with stage "
                                    "and rate")
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ConfigError("funnel", f"must be one or more [[funnel]] tables (got {show(value)})")
    stages: list[str] = []
    specs: list[Any] = []
    reserved = set(schema.METRICS)
    for i, entry in enumerate(value):
        name = entry.get("stage")
        label = f"funnel.{name}" if isinstance(name, str) and STAGE_NAME.match(name) \
            else f"funnel[{i + 1}]"
        check_keys(entry, schema.FUNNEL_KEYS, f"{label}.")
        if name is None:
            raise ConfigError(f"{label}.stage", "is required (a name like \"sql\")")
        if not isinstance(name, str) or not STAGE_NAME.match(name):
            raise ConfigError(f"{label}.stage", f"must match [a-z][a-z0-9_]* (got {show(name)})")
        if name in reserved:
            raise ConfigError(f"{label}.stage", f"{name!r} is a metric name; choose another "
                                                f"stage name")
        if name in stages:
            raise ConfigError(f"{label}.stage", f"duplicate stage name {name!r}")
        if "rate" not in entry:
            raise ConfigError(f"{label}.rate", "is required (a number or a distribution table)")
        stages.append(name)
        specs.append(entry["rate"])
    return tuple(stages), specs


def _check_start(inputs: Mapping[str, Input]) -> None:
    mrr = inputs.get("start.mrr")
    customers = inputs["start.customers"].dist
    if mrr is not None and customers.is_constant and customers.mean() == 0.0 \
            and mrr.dist.support()[1] > 0.0:
        raise ConfigError("start.mrr", "must be 0 when start.customers is 0 (there is no "
                                       "account to earn it)")


def _correlations(value: Any, inputs: Mapping[str, Input]) -> dict[tuple[str, str], float]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError("correlations", f"must be [[correlations]] tables (got {show(value)})")
    out: dict[tuple[str, str], float] = {}
    names = sorted(inputs)
    for i, entry in enumerate(value):
        key = f"correlations[{i + 1}]"
        check_keys(entry, schema.CORRELATION_KEYS, f"{key}.")
        between = entry.get("between")
        if not isinstance(between, list) or len(between) != 2 \
                or not all(isinstance(b, str) for b in between):
            raise ConfigError(f"{key}.between", f"must be two input names such as "
                                                f"[\"funnel.sql.rate\", \"retention.churn\"] "
                                                f"(got {show(between)})")
        for name in between:
            if name not in inputs:
                raise ConfigError(f"{key}.between", f"unknown input {name!r} "
                                                    f"({did_you_mean(name, names)})")
            if inputs[name].vary != "path":
                raise ConfigError(f"{key}.between", f"{name!r} varies by month; correlations "
                                                    f"apply to inputs drawn once per path")
        a, b = between
        if a == b:
            raise ConfigError(f"{key}.between", f"an input cannot be correlated with itself "
                                                f"(got {a!r} twice)")
        if "rho" not in entry:
            raise ConfigError(f"{key}.rho", "is required (a rank correlation in (-1, 1))")
        rho = as_number(entry["rho"], f"{key}.rho")
        if not -1.0 < rho < 1.0:
            raise ConfigError(f"{key}.rho", f"must be in (-1, 1) (got {rho:g})")
        pair = (min(a, b), max(a, b))
        if pair in out:
            raise ConfigError(f"{key}.between", f"the pair {a!r}, {b!r} is correlated twice")
        out[pair] = rho
    if out:
        involved = sorted({n for pair in out for n in pair})
        try:
            distributions.joint.correlation_matrix(involved, out)
        except DistributionError as err:
            raise ConfigError("correlations", err.reason) from None
    return out
