"""The benchmark model's inputs, read from bench.toml independently of the engine.

The comparison rows (plain NumPy, per-path loop, monaco, RNG floor) must not reuse the
engine's config loader or its ``distributions`` package, or the correctness check would
only compare the engine with itself. This module reads the TOML with :mod:`tomllib` and
turns each input into a frozen :mod:`scipy.stats` distribution "the obvious way":
closed forms for lognormal, PERT and beta-from-moments, a root finder for a beta given
two quantiles. Only the families that bench.toml uses (and a few neighbours) are known.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

Frozen = Any  # scipy.stats frozen distribution (rv_frozen is not a public type)
Value = float | np.ndarray

# (section, key) of every scalar model input, with the defaults of docs/config.md.
SCALARS: dict[str, float] = {
    "start.customers": 0.0, "start.mrr": float("nan"), "start.cash": 0.0,
    "acquisition.visitor_growth": 0.0,
    "revenue.expansion": 0.0, "revenue.gross_margin": 1.0,
    "costs.marketing": 0.0, "costs.marketing_growth": 0.0,
    "costs.sales": 0.0, "costs.sales_growth": 0.0,
    "costs.other_opex": 0.0, "costs.other_opex_growth": 0.0,
}
REQUIRED = ("acquisition.visitors", "revenue.arpa", "retention.churn")


@dataclass(frozen=True)
class Model:
    """Everything the reimplementations need: inputs by dotted name, stages, horizon."""

    inputs: dict[str, float | Frozen]  # a float is a constant
    stages: tuple[str, ...]
    months: int
    cac_window: int


def _quantile_pair(spec: dict[str, Any]) -> tuple[float, float, float, float] | None:
    keys = sorted((int(k[1:]), k) for k in spec if k[:1] == "p" and k[1:].isdigit())
    if len(keys) != 2:
        return None
    (q1, k1), (q2, k2) = keys
    return q1 / 100, float(spec[k1]), q2 / 100, float(spec[k2])


def _lognormal(spec: dict[str, Any]) -> Frozen:
    pair = _quantile_pair(spec)
    if pair is not None:
        q1, x1, q2, x2 = pair
        z1, z2 = stats.norm.ppf(q1), stats.norm.ppf(q2)
        sigma = (np.log(x2) - np.log(x1)) / (z2 - z1)
        mu = np.log(x1) - sigma * z1
    elif "mean" in spec:
        mean, sd = float(spec["mean"]), float(spec["sd"])
        sigma = np.sqrt(np.log1p((sd / mean) ** 2))
        mu = np.log(mean) - sigma**2 / 2
    else:
        mu, sigma = float(spec["mu"]), float(spec["sigma"])
    return stats.lognorm(s=sigma, scale=np.exp(mu))


def _beta_from_quantiles(q1: float, x1: float, q2: float, x2: float) -> tuple[float, float]:
    def gap(log_ab: np.ndarray) -> list[float]:
        a, b = np.exp(log_ab)
        return [stats.beta.ppf(q1, a, b) - x1, stats.beta.ppf(q2, a, b) - x2]

    mid = (x1 + x2) / 2
    sd = (x2 - x1) / (stats.norm.ppf(q2) - stats.norm.ppf(q1))
    k = mid * (1 - mid) / sd**2 - 1
    solution = optimize.root(gap, np.log([mid * k, (1 - mid) * k]), tol=1e-12)
    a, b = np.exp(solution.x)
    return float(a), float(b)


def _beta(spec: dict[str, Any]) -> Frozen:
    pair = _quantile_pair(spec)
    if pair is not None:
        a, b = _beta_from_quantiles(*pair)
    elif "mean" in spec:
        mean, sd = float(spec["mean"]), float(spec["sd"])
        k = mean * (1 - mean) / sd**2 - 1
        a, b = mean * k, (1 - mean) * k
    else:
        a, b = float(spec["alpha"]), float(spec["beta"])
    return stats.beta(a=a, b=b)


def _pert(spec: dict[str, Any]) -> Frozen:
    low, mode, high = float(spec["low"]), float(spec["mode"]), float(spec["high"])
    lam = float(spec.get("lambda", 4.0))
    a = 1 + lam * (mode - low) / (high - low)
    b = 1 + lam * (high - mode) / (high - low)
    return stats.beta(a=a, b=b, loc=low, scale=high - low)


def to_scipy(spec: float | dict[str, Any]) -> float | Frozen:
    """A plain number stays a float; ``{dist = ...}`` becomes a frozen scipy distribution."""
    if not isinstance(spec, dict):
        return float(spec)
    kind = spec["dist"]
    if kind == "constant":
        return float(spec["value"])
    if kind == "normal":
        return stats.norm(loc=float(spec["mean"]), scale=float(spec["sd"]))
    if kind == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        return stats.uniform(loc=low, scale=high - low)
    builders = {"lognormal": _lognormal, "beta": _beta, "pert": _pert}
    if kind not in builders:
        raise ValueError(f"benchmarks/reference.py does not know dist = {kind!r}")
    return builders[kind](spec)


def _lookup(doc: dict[str, Any], dotted: str) -> Any:
    section, key = dotted.split(".")
    return doc.get(section, {}).get(key)


def load(path: str | Path, months: int | None = None) -> Model:
    """Read ``path`` (a config in the TOML format of docs/config.md) into a :class:`Model`."""
    with open(path, "rb") as handle:
        doc = tomllib.load(handle)
    inputs: dict[str, float | Frozen] = {}
    for name in (*SCALARS, *REQUIRED):
        spec = _lookup(doc, name)
        inputs[name] = SCALARS[name] if spec is None else to_scipy(spec)
    stages = tuple(stage["stage"] for stage in doc["funnel"])
    for stage in doc["funnel"]:
        inputs[f"funnel.{stage['stage']}.rate"] = to_scipy(stage["rate"])
    if isinstance(inputs["start.mrr"], float) and np.isnan(inputs["start.mrr"]):
        arpa = inputs["revenue.arpa"]
        arpa_mean = arpa if isinstance(arpa, float) else float(arpa.mean())
        inputs["start.mrr"] = float(inputs["start.customers"]) * arpa_mean
    horizon = int(doc.get("simulation", {}).get("months", 36)) if months is None else months
    window = int(doc.get("metrics", {}).get("cac_window", 3))
    return Model(inputs, stages, horizon, window)


def draw(model: Model, paths: int, rng: np.random.Generator) -> dict[str, Value]:
    """Every input for ``paths`` paths: a float for a constant, else a (paths,) array."""
    values: dict[str, Value] = {}
    for name, dist in model.inputs.items():
        if isinstance(dist, float):
            values[name] = dist
        else:
            values[name] = np.asarray(dist.rvs(size=paths, random_state=rng), dtype=np.float64)
    return values


def mean_of(model: Model, name: str) -> float:
    """The mean of an input (its value for a constant)."""
    dist = model.inputs[name]
    return dist if isinstance(dist, float) else float(dist.mean())
