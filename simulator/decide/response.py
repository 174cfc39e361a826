"""A paid channel's response curve: the volume a month-1 spend buys.

The config gives one point on the curve, the channel's ``spend`` and ``cost_per_unit``, and
its ``elasticity``; at another month-1 spend ``s`` the channel buys
``(spend / cost_per_unit) * (s / spend) ** elasticity`` units in month 1, and keeps its own
``spend_growth`` after that (the model applies the elasticity to the growth as before). The
model reads a channel's month-1 volume as ``spend / cost_per_unit``, so putting the channel
at ``s`` sets its spend to ``s`` and its cost per unit to ``cost_per_unit * (s / spend) **
(1 - elasticity)``, path by path (each path has its own drawn point and elasticity).

>>> curve = Response("paid", spend=1000.0, cost=2.0, elasticity=0.5)
>>> float(curve.volume(4000.0))  # four times the spend, twice the volume
1000.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.errors import ConfigError
from ..config.gtm import Channel
from ..model.params import Value
from .evaluate import Evaluator


@dataclass(frozen=True)
class Response:
    """The response of channel ``name``: its configured month-1 ``spend``, ``cost`` per unit
    and ``elasticity`` (numbers, or one per path)."""

    name: str
    spend: Value
    cost: Value
    elasticity: Value
    conversion: Value = 1.0  # the share of the volume that becomes customers (its rates)

    @classmethod
    def of(cls, channel: Channel, ev: Evaluator) -> Response:
        """The channel's curve with the evaluator's drawn inputs."""
        spend = ev.value(channel.input("spend"))
        if np.any(np.asarray(spend) <= 0):
            raise ConfigError("", f"{channel.name} has a month-1 spend of 0 in the config: its "
                                  f"response curve needs a point with spend > 0 (set one with "
                                  f"--set channels.{channel.name}.spend=...)", "--channels")
        for key in ("spend", "cost_per_unit", "elasticity"):
            if np.ndim(ev.value(channel.input(key))) == 2:
                raise ConfigError("", f"channels.{channel.name}.{key} varies by month; an "
                                      f"allocation needs it drawn once per path", "--channels")
        conversion: Value = 1.0
        for rate in channel.rates[channel.enters + 1:]:
            conversion = conversion * np.asarray(ev.value(rate))
        return cls(channel.name, spend, ev.value(channel.input("cost_per_unit")),
                   ev.value(channel.input("elasticity")), conversion)

    def volume(self, s: float) -> np.ndarray:
        """Units bought in month 1 at month-1 spend ``s``, per path (before seasonality and
        shocks)."""
        return np.asarray(self.spend / self.cost * (s / self.spend) ** self.elasticity)

    def changes(self, s: float) -> dict[str, Value]:
        """The inputs that put the channel at month-1 spend ``s``."""
        if s <= 0:
            return {f"channels.{self.name}.spend": 0.0}
        cost = self.cost * (s / self.spend) ** (1.0 - self.elasticity)
        return {f"channels.{self.name}.spend": s, f"channels.{self.name}.cost_per_unit": cost}

    def scaled(self, factor: Value, spend: Value) -> dict[str, Value]:
        """The inputs that move every path along its curve to ``factor`` times its month-1
        spend (``factor``: a number or one per path; ``spend``: those spends already scaled and
        clamped)."""
        power = 1.0 - np.asarray(self.elasticity)
        cost = self.cost * np.asarray(factor, dtype=np.float64) ** power
        return {f"channels.{self.name}.spend": spend,
                f"channels.{self.name}.cost_per_unit": cost}

    def customers(self, s: float) -> np.ndarray:
        """New customers a month that volume becomes, per path (month 1, before lags,
        seasonality, shocks and sales capacity)."""
        return np.asarray(self.volume(s) * self.conversion)

    @property
    def current(self) -> float:
        """The configured month-1 spend (its mean when drawn)."""
        return float(np.mean(self.spend))
