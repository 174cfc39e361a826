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

from ..config.gtm import ACQUISITION, Channel, Depth, SalesTeam, Segment
from .flows import Flows
from .params import Parameters, Value


@dataclass
class MonthVolume:
    """What acquisition produced in a month (arrays of shape (n,))."""

    visitors: np.ndarray
    stages: list[np.ndarray]
    channel_new: dict[str, np.ndarray] = field(default_factory=dict)
    channel_spend: dict[str, np.ndarray] = field(default_factory=dict)
    team_spend: np.ndarray | float = 0.0
    not_converted: dict[int, np.ndarray] = field(default_factory=dict)  # by stage
    segment_closed: dict[str, np.ndarray] = field(default_factory=dict)  # by segment


def compounded(p: Parameters, growth: str, month: int, previous: Value) -> Value:
    """The compounded growth factor of month ``month``: (1+g)^(month-1) for a growth drawn
    once per path, the running product of (1+g_t) for one redrawn every month."""
    g = p.whole(growth)
    if isinstance(g, np.ndarray) and g.ndim == 2:
        return previous * (1.0 + g[:, month - 1]) if month > 1 else np.ones(p.n)
    return (1.0 + g) ** (month - 1)


def column(value: Value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


class SalesCapacity:
    """Reps work the units arriving at one stage; the rest wait, first in line next month.

    Effective reps in month t: the starting reps plus each month's hires, a hire of month h
    counting (t - h + 1) / ramp_months of a rep until ramped; capacity is
    ``opportunities_per_rep`` per effective rep (whole units under binomial flows). Headcount
    (starting reps plus hires so far) times ``cost_per_rep`` is sales spend.
    """

    def __init__(self, team: SalesTeam, p: Parameters, integer: bool, channels: int) -> None:
        self.team = team
        self.p = p
        self.integer = integer
        self.backlog: list[np.ndarray | float] = [0 if integer else 0.0] * channels

    def _ramped_hires(self, month: int) -> float:
        ramp = self.team.ramp_months
        if month <= ramp:
            return month * (month + 1) / (2 * ramp)
        return (ramp + 1) / 2 + month - ramp

    def spend(self, month: int) -> np.ndarray:
        p = self.p
        heads = p.at("sales_team.reps", month) + p.at("sales_team.hires_per_month", month) * month
        return column(heads * p.at("sales_team.cost_per_rep", month), p.n)

    def work(self, month: int, arrivals: list[np.ndarray], flows: Flows) -> list[np.ndarray]:
        """Units worked this month per channel (the rest join the backlog)."""
        p = self.p
        reps = p.at("sales_team.reps", month) \
            + p.at("sales_team.hires_per_month", month) * self._ramped_hires(month)
        capacity = column(reps * p.at("sales_team.opportunities_per_rep", month), p.n)
        queues = [a + b for a, b in zip(arrivals, self.backlog, strict=True)]
        total = sum(queues, np.zeros(p.n))
        if self.integer:
            capacity = np.floor(capacity).astype(np.int64)
        worked = np.minimum(total, capacity)
        taken = flows.allocate("sales capacity", queues, worked)
        self.backlog = [q - t for q, t in zip(queues, taken, strict=True)]
        return taken


@dataclass
class _Flow:
    """One channel's units at a stage this month."""

    channel: Channel
    key: str
    rates: list[Value]
    stage: int
    count: np.ndarray
    ahead: list[np.ndarray] = field(default_factory=list)  # counts already drawn for the
    # next stages (Poisson splitting), taken in order instead of thinning


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
        self.pools = {c.name: column(p.whole(c.input("contacts")), p.n)
                      for c in depth.channels if c.kind == "nurture"}
        if integer:
            self.pools = {k: np.rint(v).astype(np.int64) for k, v in self.pools.items()}
        self.team = SalesCapacity(depth.sales_team, p, integer, len(depth.channels)) \
            if depth.sales_team else None
        self.close_rates = {s.name: s.close_rate for s in depth.segments if s.close_rate}
        self.shares = np.array([float(p.at(s.share, 1)) for s in depth.segments])
        # Volume that arrives as a Poisson count and converts within the month, with nothing
        # else joining or holding it, reaches every stage by Poisson splitting at once.
        self.cascading = not (self.pmfs or self.pipeline or self.pools or self.team
                              or self.close_rates)

    def _close_by_segment(self, flow: _Flow, count: np.ndarray, month: int,
                          result: MonthVolume) -> np.ndarray:
        """Segments with their own close rate: split the units entering the last stage by
        share, and close each part at its segment's rate."""
        parts = self.flows.split(flow.key + "segment share", count, self.shares)
        converted = np.zeros_like(count)
        for (name, rate), part in zip(self.close_rates.items(), parts, strict=True):
            closed = self.flows.thin(f"{flow.key}{name}:close", part, self.p.at(rate, month))
            result.segment_closed[name] = result.segment_closed.get(name, 0) + closed
            converted = converted + closed
        return converted

    def _growth(self, name: str, month: int) -> Value:
        self.factors[name] = compounded(self.p, name, month, self.factors.get(name, 1.0))
        return self.factors[name]

    def _volume(self, channel: Channel, month: int, season: float, acquisition: Value,
                spend_shock: Value) -> tuple[np.ndarray, np.ndarray | None]:
        p, n = self.p, self.p.n
        if channel.kind == "visitors":
            mean = p.at("acquisition.visitors", month) \
                * self._growth("acquisition.visitor_growth", month)
            return column(mean * season * acquisition, n), None
        if channel.kind == "volume":
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

    def _nurture(self, channel: Channel, key: str, month: int) -> np.ndarray:
        """Leads from the contact database: each contact, emailed ``sends`` times, becomes a
        lead with probability 1 - (1 - click_rate * click_to_lead) ** sends; then
        ``unsubscribe`` of the rest leave."""
        p = self.p
        pool = self.pools[channel.name]
        chance = 1.0 - (1.0 - p.at(channel.input("click_rate"), month)
                        * p.at(channel.input("click_to_lead"), month)) \
            ** p.at(channel.input("sends"), month)
        leads = self.flows.thin(key + "nurture", pool, chance)
        gone = self.flows.thin(key + "unsubscribe", pool - leads,
                               p.at(channel.input("unsubscribe"), month))
        self.pools[channel.name] = pool - leads - gone
        return leads

    def _arrive(self, channel: Channel, month: int, season: float,
                shocks: dict[str, np.ndarray], result: MonthVolume, upper: bool) -> _Flow:
        key = "" if channel.name == ACQUISITION else f"{channel.name}:"
        rates = [self.p.at(r, month) * shocks.get(f"funnel.{s}.rate", 1.0)
                 for r, s in zip(channel.rates, self.stages, strict=True)]
        rates = [np.minimum(r, 1.0) if isinstance(r, np.ndarray) else min(r, 1.0)
                 for r in rates]
        if channel.kind == "nurture":
            flow = _Flow(channel, key, rates, channel.enters,
                         self._nurture(channel, key, month))
        else:
            mean, spend = self._volume(channel, month, season, shocks.get("acquisition", 1.0),
                                       shocks.get("spend", 1.0))
            if spend is not None:
                result.channel_spend[channel.name] = spend
            if self.cascading:
                first = channel.enters + 1  # the first stage a conversion reaches
                counts = self.flows.cascade(key, mean, rates[first:], self.stages[first:],
                                            month, upper)
                if channel.enters < 0:
                    result.visitors += counts.pop(0)
                flow = _Flow(channel, key, rates, max(channel.enters, 0), counts[0], counts[1:])
            elif channel.enters < 0:
                visitors, count = self.flows.arrivals(mean, rates[0], key)
                result.visitors += visitors
                flow = _Flow(channel, key, rates, 0, self._lagged(channel, 0, count, month))
            else:
                flow = _Flow(channel, key, rates, channel.enters,
                             self.flows.arrive(key + self.stages[channel.enters], mean))
        result.stages[flow.stage] += flow.count
        return flow

    def _advance(self, flow: _Flow, until: int, month: int, first: bool,
                 result: MonthVolume) -> None:
        """Convert ``flow`` stage by stage up to stage ``until``."""
        while flow.stage < until:
            count = flow.count
            if first and month == 1 and flow.stage in self.pipeline:
                count = count + self.pipeline[flow.stage]
            if flow.ahead:
                converted = flow.ahead.pop(0)
            elif flow.stage + 1 == len(self.stages) - 1 and self.close_rates:
                converted = self._close_by_segment(flow, count, month, result)
            else:
                converted = self.flows.thin(flow.key + self.stages[flow.stage + 1], count,
                                            flow.rates[flow.stage + 1])
            if flow.channel.kind == "nurture" or self.pools:
                result.not_converted[flow.stage] = result.not_converted.get(
                    flow.stage, 0) + (count - converted)
            flow.stage += 1
            flow.count = self._lagged(flow.channel, flow.stage, converted, month)
            result.stages[flow.stage] += flow.count

    def month(self, month: int, season: float, shocks: dict[str, np.ndarray],
              upper: bool = True) -> MonthVolume:
        """Arrivals and conversions of every channel in ``month``; without ``upper`` the
        counts above the last stage are not needed (they may be left at 0)."""
        n, last = self.p.n, len(self.stages) - 1
        zero = np.zeros(n, dtype=np.int64 if self.integer else np.float64)
        result = MonthVolume(zero.copy(), [zero.copy() for _ in self.stages])
        flows = [self._arrive(c, month, season, shocks, result, upper)
                 for c in self.depth.channels]
        held = self.team.team.stage if self.team else last
        for i, flow in enumerate(flows):
            self._advance(flow, max(held, flow.stage), month, i == 0, result)
        if self.team:
            at_stage = [f.stage == held for f in flows]
            worked = self.team.work(month, [f.count if here else zero for f, here in
                                            zip(flows, at_stage, strict=True)], self.flows)
            for flow, here, count in zip(flows, at_stage, worked, strict=True):
                if here:
                    flow.count = count
            result.team_spend = self.team.spend(month)
        for i, flow in enumerate(flows):
            self._advance(flow, last, month, i == 0, result)
            result.channel_new[flow.channel.name] = flow.count
        for name, pool in self.pools.items():
            channel = next(c for c in self.depth.channels if c.name == name)
            returning = result.not_converted.get(channel.enters, 0)
            self.pools[name] = pool + returning
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


class Onboarding:
    """Turns the month's closed deals into each segment's new customers: split by share
    (unless the segments closed their own deals), then delayed by the segment's lag."""

    def __init__(self, segments: tuple[Segment, ...], flows: Flows, n: int, months: int,
                 integer: bool) -> None:
        self.segments = segments
        self.flows = flows
        dtype = np.int64 if integer else np.float64
        self.buffers = {s.name: np.zeros((n, months + len(s.lag)), dtype=dtype)
                        for s in segments if s.lag is not None}

    def month(self, month: int, volume: MonthVolume, p: Parameters) -> list[np.ndarray]:
        closed = volume.stages[-1]
        if not self.segments:
            return [closed]
        if volume.segment_closed:
            parts = [volume.segment_closed[s.name] for s in self.segments]
        else:
            shares = np.array([float(p.at(s.share, month)) for s in self.segments])
            parts = self.flows.split("segments", closed, shares)
        out = []
        for segment, part in zip(self.segments, parts, strict=True):
            if segment.lag is None:
                out.append(part)
                continue
            pmf = np.asarray(segment.lag)
            buffer = self.buffers[segment.name]
            delayed = self.flows.delay(f"{segment.name}:onboarding", part, pmf)
            buffer[:, month - 1: month - 1 + len(pmf)] += delayed
            out.append(buffer[:, month - 1].copy())
        return out

