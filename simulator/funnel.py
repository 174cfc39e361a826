"""Volume through the funnel, month by month: channels, seasonality, sales-cycle lags and the
start pipeline, for one block of paths.

Each channel brings volume in at the top (as visitors) or at a stage, and converts it onward
with its own rates (the funnel's unless overridden). A paid channel buys volume with
diminishing returns: ``volume = (spend_0 / cost_per_unit) * (spend_t / spend_0) ** elasticity``.
A lag on a stage delays the units converting into it: the count converted in month t is
spread over months t, t+1, ... by the lag's distribution (multinomially under binomial flows,
by expectation under expected flows). Units already in the funnel at month 0
(``[start] pipeline``) convert onward in month 1, through the first channel's rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .flows import Flows
from .gtm import ACQUISITION, Channel, Depth
from .params import Parameters, Value


@dataclass
class MonthVolume:
    """What acquisition produced in a month (arrays of shape (n,))."""

    visitors: np.ndarray
    stages: list[np.ndarray]
    channel_new: dict[str, np.ndarray] = field(default_factory=dict)
    channel_spend: dict[str, np.ndarray] = field(default_factory=dict)


def compounded(p: Parameters, growth: str, month: int, previous: Value) -> Value:
    """The compounded growth factor of month ``month``: (1+g)^(month-1) for a growth drawn
    once per path, the running product of (1+g_t) for one redrawn every month."""
    g = p.whole(growth)
    if isinstance(g, np.ndarray) and g.ndim == 2:
        return previous * (1.0 + g[:, month - 1]) if month > 1 else np.ones(p.n)
    return (1.0 + g) ** (month - 1)


def column(value: Value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


class Acquisition:
    """Steps every channel's volume through the stages."""

    def __init__(self, depth: Depth, stages: tuple[str, ...], p: Parameters, flows: Flows,
                 months: int, integer: bool) -> None:
        self.depth = depth
        self.stages = stages
        self.p = p
        self.flows = flows
        self.integer = integer
        self.factors: dict[str, Value] = {}
        dtype = np.int64 if integer else np.float64
        self.pmfs = {k: np.asarray(pmf) for k, pmf in depth.lags.items()}
        self.buffers = {(c.name, k): np.zeros((p.n, months + len(pmf)), dtype=dtype)
                        for c in depth.channels for k, pmf in self.pmfs.items()}
        self.pipeline = {k: np.full(p.n, np.rint(v) if integer else v, dtype=dtype)
                         for k, v in depth.pipeline.items()}

    def _growth(self, name: str, month: int) -> Value:
        self.factors[name] = compounded(self.p, name, month, self.factors.get(name, 1.0))
        return self.factors[name]

    def _volume(self, channel: Channel, month: int, season: float, acquisition: Value,
                spend_shock: Value) -> tuple[np.ndarray, np.ndarray | None]:
        p, n = self.p, self.p.n
        if channel.name == ACQUISITION:
            mean = p.at("acquisition.visitors", month) \
                * self._growth("acquisition.visitor_growth", month)
            return column(mean * season * acquisition, n), None
        if not channel.paid:
            mean = p.at(channel.input("volume"), month) \
                * self._growth(channel.input("growth"), month)
            return column(mean * season * acquisition, n), None
        base = column(p.at(channel.input("spend"), month), n)
        spend = base * self._growth(channel.input("spend_growth"), month) * spend_shock
        elasticity = p.at(channel.input("elasticity"), month)
        with np.errstate(divide="ignore", invalid="ignore"):
            bought = np.where(base > 0, base / p.at(channel.input("cost_per_unit"), month)
                              * (spend / np.where(base > 0, base, 1.0)) ** elasticity, 0.0)
        return column(bought * season * acquisition, n), spend

    def month(self, month: int, season: float, shocks: dict[str, np.ndarray]) -> MonthVolume:
        """Arrivals and conversions of every channel in ``month``."""
        n = self.p.n
        acquisition = shocks.get("acquisition", 1.0)
        spend_shock = shocks.get("spend", 1.0)
        zero = np.zeros(n, dtype=np.int64 if self.integer else np.float64)
        result = MonthVolume(zero.copy(), [zero.copy() for _ in self.stages])
        for position, channel in enumerate(self.depth.channels):
            key = "" if channel.name == ACQUISITION else f"{channel.name}:"
            mean, spend = self._volume(channel, month, season, acquisition, spend_shock)
            if spend is not None:
                result.channel_spend[channel.name] = spend
            rates = [self.p.at(r, month) * shocks.get(f"funnel.{s}.rate", 1.0)
                     for r, s in zip(channel.rates, self.stages, strict=True)]
            rates = [np.minimum(r, 1.0) if isinstance(r, np.ndarray) else min(r, 1.0)
                     for r in rates]
            if channel.enters < 0:
                visitors, count = self.flows.arrivals(mean, rates[0], key)
                result.visitors += visitors
                start = 0
                count = self._lagged(channel, 0, count, month)
            else:
                start = channel.enters
                count = self.flows.arrive(key + self.stages[start], mean)
            result.stages[start] += count
            for k in range(start + 1, len(self.stages)):
                if position == 0 and month == 1 and k - 1 in self.pipeline:
                    count = count + self.pipeline[k - 1]
                count = self.flows.thin(key + self.stages[k], count, rates[k])
                count = self._lagged(channel, k, count, month)
                result.stages[k] += count
            result.channel_new[channel.name] = count
        return result

    def _lagged(self, channel: Channel, stage: int, count: np.ndarray, month: int
                ) -> np.ndarray:
        """Units converting into ``stage`` this month, delayed by the stage's lag; returns
        the units arriving at the stage this month."""
        pmf = self.pmfs.get(stage)
        if pmf is None:
            return count
        key = ("" if channel.name == ACQUISITION else f"{channel.name}:") \
            + f"lag {self.stages[stage]}"
        buffer = self.buffers[(channel.name, stage)]
        delayed = self.flows.delay(key, count, pmf)
        buffer[:, month - 1: month - 1 + len(pmf)] += delayed
        return buffer[:, month - 1].copy()
