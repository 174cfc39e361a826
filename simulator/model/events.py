"""Shocks: events that fire at random and scale a target for a few months.

Each month, on a path where a shock is not active, it fires with its ``probability``; it then
draws a duration (whole months, at least 1) and an impact (a multiplier) and scales its target
— acquisition volume, a stage rate, churn, or spend — for that many months, this one included.
Shocks draw from their own streams, so they fire the same way in binomial and expected flows.
"""

from __future__ import annotations

import numpy as np

from distributions.joint import SeedLike, stream

from ..config.gtm import Shock


class Shocks:
    """The shocks of one block of paths, stepped month by month."""

    def __init__(self, shocks: tuple[Shock, ...], seed: SeedLike, block: int, n: int) -> None:
        self.shocks = shocks
        self.n = n
        self._rngs = [stream(seed, "shock", s.name, block) for s in shocks]
        self._remaining = [np.zeros(n, dtype=np.int64) for _ in shocks]
        self._impact = [np.ones(n) for _ in shocks]

    def month(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Multipliers by target for this month, and each shock's activity (1.0 where
        active)."""
        multipliers: dict[str, np.ndarray] = {}
        active_by_name: dict[str, np.ndarray] = {}
        for i, shock in enumerate(self.shocks):
            rng = self._rngs[i]
            u = rng.random((3, self.n))
            fire = (self._remaining[i] == 0) & (u[0] < shock.probability)
            duration = np.maximum(np.ceil(shock.duration.ppf(u[1])), 1).astype(np.int64)
            self._remaining[i] = np.where(fire, duration, self._remaining[i])
            self._impact[i] = np.where(fire, shock.impact.ppf(u[2]), self._impact[i])
            active = self._remaining[i] > 0
            factor = np.where(active, self._impact[i], 1.0)
            multipliers[shock.target] = multipliers.get(shock.target, 1.0) * factor
            self._remaining[i] = self._remaining[i] - active
            active_by_name[shock.name] = active.astype(np.float64)
        return multipliers, active_by_name
