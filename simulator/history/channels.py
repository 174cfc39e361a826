"""Per-channel inputs from the history's ``<channel>.<stage>`` and ``<channel>.spend``
columns: a channel's own conversion rates, a paid channel's spend, a volume channel's volume
and growth. Nurture channels (contacts, sends, clicks) are kept from the base config.
"""

from __future__ import annotations

import numpy as np

from ..config.core import Config
from ..config.gtm import ACQUISITION, Channel
from .builder import Builder
from .data import History
from .levels import fit_visitors
from .rates import fit_rate

SPEND_MONTHS = 3


def _own_rates(b: Builder, h: History, base: Config, channel: Channel, horizon: int) -> None:
    stages = base.stages
    for k, rate in enumerate(channel.rates):
        if k <= channel.enters or rate == f"funnel.{stages[k]}.rate":
            continue  # before the channel enters, or the shared rate
        if k == 0:
            b.notes.append(f"{rate}: kept from the base config (the history has no per-channel "
                           f"visitors column)")
            continue
        before, after = f"{channel.name}.{stages[k - 1]}", f"{channel.name}.{stages[k]}"
        if h.has(before) and h.has(after) and h.counts(before).sum() > 0:
            fit = fit_rate(h.counts(before), h.counts(after), horizon=horizon)
            b.set(rate, fit.spec, fit.evidence(f"{before} -> {after}"))


def _volume(b: Builder, h: History, base: Config, channel: Channel, horizon: int,
            season: np.ndarray | None) -> None:
    column = f"{channel.name}.{base.stages[channel.enters]}"
    if channel.enters < 0 or not h.has(column):
        return
    fit = fit_visitors(h.counts(column), horizon=horizon, season=season)
    if fit.erratic:
        b.notes.append(f"{channel.input('volume')}: {fit.erratic}; kept from the base config")
        return
    first, second = fit.evidence()
    b.set(channel.input("volume"), fit.visitors, first.replace("visitors:", f"{column}:", 1))
    b.set(channel.input("growth"), fit.visitor_growth,
          second.replace("visitor_growth:", f"{column} growth:", 1))


def calibrate_channels(b: Builder, h: History, base: Config, horizon: int,
                       season: np.ndarray | None = None) -> None:
    """Calibrate each ``[[channels]]`` entry from its tracked columns (volumes divided by the
    ``season`` multiplier of each history month first)."""
    for channel in base.depth.channels:
        if channel.name == ACQUISITION:
            continue
        _own_rates(b, h, base, channel, horizon)
        spend = f"{channel.name}.spend"
        if channel.kind == "paid" and h.has(spend):
            recent = h.counts(spend)[-SPEND_MONTHS:]
            b.set(channel.input("spend"), float(f"{recent.mean():.6g}"),
                  f"{spend}: average of the last {len(recent)} months (the plan from here; "
                  f"spend_growth is the base config's)")
        if channel.kind == "volume":
            _volume(b, h, base, channel, horizon, season)
        if channel.kind == "nurture":
            b.notes.append(f"channels.{channel.name}: a nurture channel; its inputs are kept "
                           f"from the base config")
