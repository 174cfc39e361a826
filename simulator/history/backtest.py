"""Rolling-origin backtests: calibrate on the months up to a cut, simulate forward from the
state at the cut, and score the held-out months against a naive baseline.

The baseline carries the last 3 months' average forward with Poisson noise (MRR: the noise
of the customer count, ``mrr * Poisson(c) / c``; a point forecast when customers are not
tracked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config.core import load_config
from ..config.errors import ConfigError
from ..engine.runner import run
from . import scores
from .calibrate import calibrate_history, load_base
from .data import History, read_history

BASELINE_MONTHS = 3
COLUMNS = ["metric", "horizon", "coverage_80", "coverage_90", "crps", "baseline_crps", "n"]


@dataclass(frozen=True)
class Backtest:
    """Every scored forecast (one row per cut, metric and horizon) and its summary."""

    scores: pd.DataFrame  # cut, metric, horizon, actual, p10, p50, p90, pit, coverage_*, crps
    fans: dict[int, dict[str, np.ndarray]]  # cut -> metric -> (paths, horizon) samples

    def summary(self) -> pd.DataFrame:
        """Per metric and horizon: mean coverage of P10-P90 and P5-P95, mean CRPS of the
        forecast and of the baseline, and the number of cuts scored."""
        grouped = self.scores.groupby(["metric", "horizon"], sort=False)
        out = grouped.agg(coverage_80=("coverage_80", "mean"),
                          coverage_90=("coverage_90", "mean"), crps=("crps", "mean"),
                          baseline_crps=("baseline_crps", "mean"),
                          n=("crps", "size")).reset_index()
        return out[COLUMNS]


def metric_columns(h: History) -> dict[str, str]:
    """Metric name -> history column, for the tracked ones (the last stage is
    ``new_customers``)."""
    pairs = {"visitors": "visitors", **{s: s for s in h.stages[:-1]},
             "new_customers": h.stages[-1], "churned": "churned", "customers": "customers",
             "mrr": "mrr"}
    return {m: c for m, c in pairs.items() if h.has(c)}


def _baseline(h: History, column: str, cut: int, paths: int, horizon: int,
              rng: np.random.Generator) -> np.ndarray:
    recent = h.counts(column)[cut - BASELINE_MONTHS:cut].astype(float)
    level = float(recent.mean())
    if column == "mrr":
        if not h.has("customers"):
            return np.full((paths, horizon), level)
        c = float(h.counts("customers")[cut - BASELINE_MONTHS:cut].mean())
        if c <= 0:
            return np.full((paths, horizon), level)
        return level * rng.poisson(c, (paths, horizon)) / c
    return rng.poisson(level, (paths, horizon)).astype(float)


def _forecast(h: History, raw: dict[str, Any], base: Any, cut: int, horizon: int, paths: int,
              seed: int) -> dict[str, np.ndarray]:
    cal = calibrate_history(h.head(cut), raw, base, horizon=horizon)
    config = dict(cal.config)
    # counts are scored against their forecast distribution: always random (binomial) flows
    config["simulation"] = {**config.get("simulation", {}), "months": horizon, "paths": paths,
                            "seed": seed, "report_months": [horizon], "flows": "binomial"}
    result = run(load_config(config))
    return {m: np.asarray(result[m], dtype=float) for m in metric_columns(h)}


def run_backtest(history: History, raw: dict[str, Any], base: Any, *, train: int,
                 horizon: int, step: int = 1, paths: int = 1000, seed: int = 0) -> Backtest:
    """Backtest a validated history against a base config (see :func:`backtest`)."""
    if not 3 <= train < history.months:
        raise ConfigError("", f"must be at least 3 and less than the {history.months} months "
                              f"of history (got {train})", "--train")
    rows: list[pd.DataFrame] = []
    fans: dict[int, dict[str, np.ndarray]] = {}
    columns = metric_columns(history)
    for cut in range(train, history.months, step):
        h = min(horizon, history.months - cut)
        cut_seed = int(np.random.SeedSequence([seed, cut]).generate_state(1)[0])
        fan = _forecast(history, raw, base, cut, h, paths, cut_seed)
        fans[cut] = fan
        rng = np.random.default_rng([seed, cut, 1])
        for metric, column in columns.items():
            samples = fan[metric]
            actual = history.counts(column)[cut:cut + h].astype(float)
            naive = _baseline(history, column, cut, paths, h, rng)
            q = np.quantile(samples, [0.1, 0.5, 0.9], axis=0)
            rows.append(pd.DataFrame({
                "cut": cut, "metric": metric, "horizon": np.arange(1, h + 1), "actual": actual,
                "p10": q[0], "p50": q[1], "p90": q[2], "pit": scores.pit(samples, actual),
                "coverage_80": scores.coverage(samples, actual, 0.8),
                "coverage_90": scores.coverage(samples, actual, 0.9),
                "crps": scores.crps(samples, actual),
                "baseline_crps": scores.crps(naive, actual)}))
    return Backtest(pd.concat(rows, ignore_index=True), fans)


def backtest(history: str | Path | pd.DataFrame, base: str | Path | Mapping[str, Any], *,
             train: int, horizon: int, step: int = 1, paths: int = 1000,
             seed: int = 0) -> pd.DataFrame:
    """Rolling-origin backtest of calibrated forecasts.

    For each cut N = ``train``, ``train + step``, ... before the last month: calibrate on
    months 1..N, simulate ``horizon`` months from the state at N (``paths`` paths) and score
    months N+1..N+horizon that the history holds.

    Returns
    -------
    pandas.DataFrame
        One row per metric and horizon: ``metric``, ``horizon``, ``coverage_80`` (share of
        actuals inside P10-P90), ``coverage_90`` (P5-P95), ``crps``, ``baseline_crps``, ``n``.
    """
    for flag, value, low in (("--horizon", horizon, 1), ("--step", step, 1),
                             ("--paths", paths, 1)):
        if value < low:
            raise ConfigError("", f"must be >= {low} (got {value})", flag)
    raw, config = load_base(base)
    h = read_history(history, config.stages, channels=config.channel_names)
    return run_backtest(h, raw, config, train=train, horizon=horizon, step=step, paths=paths,
                        seed=seed).summary()
