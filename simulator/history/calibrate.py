"""Calibrate a base config from a company's history (rates, visitors, revenue, spend, start)
and from its cohorts (sBG retention).

Every input the history can inform is replaced by its posterior (see :mod:`.rates` and
:mod:`.levels`); with cohorts, retention is the sBG fit (see :mod:`.sbg_calibrate`); the rest
is kept from the base config, and the result says which is which.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config.core import Config, load_config, read_toml
from ..config.errors import ConfigError
from ..config.gtm import ACQUISITION
from .builder import Builder
from .channels import calibrate_channels
from .cohorts import SbgFit
from .data import History, read_history
from .levels import fit_revenue, fit_visitors
from .rates import fit_rate
from .sbg_calibrate import GONE, apply_cohorts, check_base, fit_cohorts

SPEND_MONTHS = 3


@dataclass(frozen=True)
class Calibration:
    """A calibrated config (the plain dict the TOML holds) and its evidence."""

    config: dict[str, Any]
    comments: dict[str, str]  # dotted key -> evidence
    calibrated: tuple[str, ...]  # dotted input names set from the history
    kept: tuple[str, ...]  # model inputs kept from the base config
    notes: tuple[str, ...]
    base: Config
    history: History | None
    fit: SbgFit | None = None  # the sBG fit of the cohorts, when given
    cohorts_source: str = ""
    unused: tuple[str, ...] = ()  # data given but not used, and why

    def header(self) -> str:
        """The comment at the top of the written TOML."""
        sources, evidence = [], []
        if self.history is not None:
            h = self.history
            sources.append(f"{h.source} ({h.months} months, {h.labels[0]} to "
                           f"{h.labels[-1]})")
            evidence.append("from the history: months used, counts, posterior mean and 90% "
                            "interval")
        if self.fit is not None:
            sources.append(f"the cohorts in {self.cohorts_source} ({self.fit.cohorts} "
                           f"cohorts, ages 0-{self.fit.max_age})")
            evidence.append("from the cohorts: cohorts, customers, ages, maximum likelihood "
                            "estimates and 90% intervals")
        lines = [f"Calibrated by `simulate calibrate` from {' and '.join(sources)} on top of "
                 f"{self.base.source}.",
                 f"Each calibrated input carries its evidence ({'; '.join(evidence)}).",
                 f"Calibrated: {', '.join(self.calibrated) or 'nothing'}.",
                 f"Kept from the base config: {', '.join(self.kept) or 'nothing'}."]
        lines += [f"Not used: {u}." for u in self.unused]
        return "\n".join([*lines, *self.notes])


def load_base(base: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], Config]:
    """The base config as its raw dict and validated. The ``file`` of an empirical
    distribution is made absolute, so the calibrated config runs from any directory."""
    if isinstance(base, Mapping):
        return copy.deepcopy(dict(base)), load_config(base)
    path = Path(base)
    config = load_config(path)
    return _absolute_files(read_toml(path), path.parent.resolve()), config


def _absolute_files(value: Any, directory: Path) -> Any:
    if isinstance(value, dict):
        out = {k: _absolute_files(v, directory) for k, v in value.items()}
        if isinstance(out.get("file"), str) and "dist" in out:
            out["file"] = str(directory / out["file"])
        return out
    if isinstance(value, list):
        return [_absolute_files(v, directory) for v in value]
    return value


def mixed_counts(base: Config) -> dict[int, str]:
    """Funnel positions (-1: visitors) whose history totals mix in [[channels]] that enter
    there or convert at their own rate, so the total cannot calibrate the shared input."""
    mixed: dict[int, str] = {}
    for channel in base.depth.channels:
        if channel.name == ACQUISITION:
            continue
        mixed.setdefault(channel.enters, f"channel {channel.name!r} enters there")
        for k, rate in enumerate(channel.rates):
            if k > channel.enters and rate != f"funnel.{base.stages[k]}.rate":
                mixed.setdefault(k, f"channel {channel.name!r} converts at its own rate")
    return mixed


def _rates(b: Builder, h: History, base: Config, horizon: int, churn: bool = True) -> None:
    previous = "visitors"
    mixed = mixed_counts(base)
    for i, stage in enumerate(base.stages):
        name = f"funnel.{stage}.rate"
        if i in mixed and h.has(stage):
            b.notes.append(f"{name}: kept from the base config: the history's {stage} total "
                           f"mixes channels ({mixed[i]})")
        elif h.has(stage) and h.has(previous):
            trials, converted = h.counts(previous), h.counts(stage)
            if trials.sum() > 0:
                fit = fit_rate(trials, converted, horizon=horizon)
                b.set(name, fit.spec, fit.evidence(f"{previous} -> {stage}"))
            else:
                b.notes.append(f"{name}: no {previous} in the history; kept from the base")
            if i in base.depth.lags:
                b.notes.append(f"{name}: the base config has a lag on this stage; the history "
                               f"rate assumes conversion within the month")
        previous = stage
    if not churn:
        return
    retention = b.raw.get("retention", {})
    if isinstance(retention, Mapping) and retention.get("model", "churn") != "churn":
        b.notes.append(f"retention: the base config uses model = {retention['model']!r}; "
                       f"monthly churn from the history is not used (cohorts fit it)")
    elif h.has("churned") and h.has("customers"):
        customers, churned = h.counts("customers")[:-1], h.counts("churned")[1:]
        if customers.sum() > 0:
            fit = fit_rate(customers, churned, horizon=horizon)
            b.set("retention.churn", fit.spec,
                  fit.evidence("churned of the previous month's customers"))


def season(b: Builder, h: History, base: Config) -> np.ndarray | None:
    """The base's seasonal multiplier of each history month (None without seasonality), and
    the forecast aligned to the calendar: ``first_month`` becomes the month after the
    history's last (with ``YYYY-MM`` months; numbered months keep the base's)."""
    seasonality = base.depth.seasonality
    if seasonality is None:
        return None
    calendar = calendar_months(h)
    if calendar is None:
        b.notes.append("seasonality: the history's months are numbered, not YYYY-MM, so its "
                       "volumes are fitted without removing the seasonality, and "
                       "seasonality.first_month is the base config's")
        return None
    first = calendar[-1] % 12 + 1
    b.raw["seasonality"]["first_month"] = first
    b.comments["seasonality.first_month"] = (f"the month after the history's last "
                                             f"({h.labels[-1]}); history volumes were "
                                             f"deseasonalised with these multipliers")
    return np.array([seasonality.multipliers[m - 1] for m in calendar])


def calendar_months(h: History) -> list[int] | None:
    """The calendar month (1..12) of each history month, when months are ``YYYY-MM``."""
    if not all(len(label) == 7 and label[4] == "-" for label in h.labels):
        return None
    return [int(label[5:]) for label in h.labels]


def _acquisition(b: Builder, h: History, base: Config, horizon: int,
                 factors: np.ndarray | None) -> None:
    if not h.has("visitors") or "acquisition.visitors" not in base.inputs:
        return
    mixed = mixed_counts(base)
    if -1 in mixed:
        b.notes.append(f"acquisition.visitors: kept from the base config: the history's "
                       f"visitors total mixes channels ({mixed[-1]})")
        return
    fit = fit_visitors(h.counts("visitors"), horizon=horizon, season=factors)
    if fit.erratic:
        b.notes.append(f"acquisition.visitors: {fit.erratic}; kept from the base config")
        return
    first, second = fit.evidence()
    b.set("acquisition.visitors", fit.visitors, first)
    b.set("acquisition.visitor_growth", fit.visitor_growth, second)
    if fit.visitors.get("vary", "path") == "path" and abs(fit.correlation) > 0.01:
        # rank correlation of two normals with Pearson correlation r
        rho = 6.0 / np.pi * float(np.arcsin(fit.correlation / 2.0))
        b.raw.setdefault("correlations", []).append(
            {"between": ["acquisition.visitors", "acquisition.visitor_growth"],
             "rho": round(min(max(rho, -0.99), 0.99), 3)})
        b.comments["acquisition.visitor_growth"] += (
            f"; correlated with the level (rho {rho:.2f}, see [[correlations]])")


def _revenue(b: Builder, h: History, base: Config) -> None:
    if not (h.has("mrr") and h.has("customers")):
        return
    last = base.stages[-1]
    fit = fit_revenue(h.counts("mrr"), h.counts("customers"),
                      h.counts("churned") if h.has("churned") else None,
                      h.counts(last) if h.has(last) else None)
    if fit is None:
        b.notes.append("revenue.arpa: no month with customers; kept from the base")
        return
    first, second = fit.evidence()
    b.set("revenue.arpa", fit.arpa_spec(), first)
    if fit.expansion is not None:
        b.set("revenue.expansion", fit.expansion_spec(), second)


def _state(b: Builder, h: History) -> None:
    last = h.labels[-1]
    start = b.raw.setdefault("start", {})
    if h.has("customers"):
        b.set("start.customers", int(h.counts("customers")[-1]), f"customers at {last}")
        if h.has("mrr"):
            b.set("start.mrr", float(h.counts("mrr")[-1]), f"MRR at {last}")
        elif "mrr" in start:
            del start["mrr"]
            b.notes.append("start.mrr: dropped (customers come from the history, MRR is not "
                           "tracked): it defaults to customers x mean ARPA")
    if h.has("cash"):
        b.set("start.cash", float(h.counts("cash")[-1]), f"cash at {last}")
    for key in ("marketing", "sales"):
        if h.has(key):
            recent = h.counts(key)[-SPEND_MONTHS:]
            b.set(f"costs.{key}", float(f"{recent.mean():.6g}"),
                  f"{key} spend: average of the last {len(recent)} months (the plan from "
                  f"here; {key}_growth is the base config's)")


def _correlations(b: Builder, leave: tuple[str, ...] = ()) -> None:
    """Drop the base's correlations of calibrated inputs (but those naming ``leave``)."""
    kept, dropped = [], []
    touched = set(b.calibrated)
    for entry in b.raw.get("correlations", []):
        pair = entry.get("between", [])
        if pair == ["acquisition.visitors", "acquisition.visitor_growth"] or \
                not touched.intersection(pair) or set(leave).intersection(pair):
            kept.append(entry)
        else:
            dropped.append(" ~ ".join(pair))
    if dropped:
        b.notes.append(f"Dropped the base config's correlations of calibrated inputs "
                       f"({'; '.join(dropped)}): the history estimates them separately.")
    if kept:
        b.raw["correlations"] = kept
    else:
        b.raw.pop("correlations", None)


def calibrate_history(history: History | None, base_raw: dict[str, Any], base: Config, *,
                      horizon: int | None = None, fit: SbgFit | None = None,
                      cohorts_source: str = "") -> Calibration:
    """Calibrate ``base`` (raw dict and validated) from a validated ``history`` and/or the
    sBG ``fit`` of cohorts (at least one). With both, retention comes from the cohorts and
    the history's churn counts are not used for it.

    ``horizon`` (default: the base's months) is the forecast length the persistence of
    month-varying inputs is matched to.
    """
    if history is None and fit is None:
        raise ConfigError("", "needs a history, cohorts or both (both are None)", "calibrate")
    b = Builder(copy.deepcopy(base_raw))
    months = horizon or base.simulation.months
    unused: list[str] = []
    factors = None
    if history is not None:
        _rates(b, history, base, months, churn=fit is None)
        factors = season(b, history, base)
        _acquisition(b, history, base, months, factors)
        _revenue(b, history, base)
        _state(b, history)
        if fit is not None and history.has("churned"):
            also = "; they still separate the retained accounts' MRR for ARPA and " \
                   "expansion" if "revenue.expansion" in b.calibrated else ""
            unused.append(f"the history's churned counts, for retention (sBG alpha and beta "
                          f"come from the cohorts{also})")
    _correlations(b, leave=GONE if fit is not None else ())  # sBG drops those with its note
    if base.segment_names:
        b.notes.append("[[segments]] inputs are kept from the base config; a segment's own "
                       "close_rate, arpa or churn takes the place of the calibrated one.")
    if history is not None and base.channel_names:
        calibrate_channels(b, history, base, months, factors)
    if fit is not None:
        apply_cohorts(b, fit)
    now = base_raw_names(b.raw)
    kept = tuple(n for n in base.inputs if n in base_raw_names(base_raw) and n in now
                 and n not in b.calibrated)
    return Calibration(b.raw, b.comments, tuple(b.calibrated), kept, tuple(b.notes), base,
                       history, fit, cohorts_source, tuple(unused))


def base_raw_names(raw: Mapping[str, Any]) -> set[str]:
    """Dotted names of the inputs written in a raw config."""
    names = {f"funnel.{e.get('stage')}.rate" for e in raw.get("funnel", [])
             if isinstance(e, Mapping)}
    for section in ("start", "acquisition", "revenue", "retention", "costs"):
        table = raw.get(section, {})
        if isinstance(table, Mapping):
            names.update(f"{section}.{k}" for k in table)
    return names


def calibrate(history: str | Path | pd.DataFrame | None, base: str | Path | Mapping[str, Any],
              cohorts: str | Path | pd.DataFrame | None = None) -> dict[str, Any]:
    """The calibrated config, as the plain dict the TOML holds.

    Parameters
    ----------
    history
        The history CSV (a path) or a DataFrame with its columns (see
        :mod:`simulator.history.data`); None to calibrate from ``cohorts`` alone.
    base
        The base config: a TOML path or a dict.
    cohorts
        A cohorts table (a CSV path or a DataFrame with columns ``cohort``, ``age``,
        ``active``): ``[retention]`` becomes ``model = "sbg"`` with alpha and beta fitted to
        it (docs/retention-sbg.md), and the history's churn counts are not used for it.

    Raises
    ------
    ConfigError
        For bad history or cohorts data (``FILE: row N: column: what is wrong``), a bad base
        config, a base config that cannot take sBG retention (``[[segments]]``, early churn)
        with cohorts, or neither history nor cohorts.
    """
    return calibration(history, base, cohorts).config


def calibration(history: str | Path | pd.DataFrame | None,
                base: str | Path | Mapping[str, Any],
                cohorts: str | Path | pd.DataFrame | None = None, *,
                horizon: int | None = None) -> Calibration:
    """Like :func:`calibrate`, with the evidence (comments, calibrated and kept inputs)."""
    if history is None and cohorts is None:
        raise ConfigError("", "needs a history, cohorts or both (both are None)", "calibrate")
    raw, config = load_base(base)
    fit, source = None, ""
    if cohorts is not None:
        check_base(config)
        fit, source = fit_cohorts(cohorts)
    h = None if history is None else read_history(history, config.stages,
                                                  channels=config.channel_names)
    return calibrate_history(h, raw, config, horizon=horizon, fit=fit, cohorts_source=source)
