"""The monthly step of docs/model.md, vectorised over paths (a Python loop over months only).

Random flows (Poisson visitors, binomial stage conversions and churn) come from a
:class:`Flows` object: :class:`BinomialFlows` draws them from named streams, and
:class:`ExpectedFlows` replaces every draw by its expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..config import schema
from ..config.gtm import Depth
from .book import Book, BookInputs, CustomerBase, FlatChurn
from .events import Shocks
from .flows import Flows
from .funnel import Acquisition, MonthVolume, Onboarding, column, compounded
from .params import Parameters, Value
from .sbg import SbgChurn


@dataclass(frozen=True)
class ModelShape:
    """What the monthly step needs besides the drawn parameters."""

    stages: tuple[str, ...]
    months: int
    arpa_mean: float  # start.mrr defaults to start.customers * arpa_mean
    mrr_given: bool
    depth: Depth
    channels: tuple[str, ...] = ()  # channels whose metrics are reported
    shocks: bool = True  # False for the plan line: no random events
    segment_arpa_means: tuple[float, ...] = ()


def flow_names(shape: ModelShape) -> tuple[str, ...]:
    """The arrays :func:`simulate` fills."""
    return schema.flow_names(shape.stages, shape.channels,
                             tuple(s.name for s in shape.depth.segments),
                             tuple(s.name for s in shape.depth.shocks))


def initial_state(shape: ModelShape, p: Parameters, integer: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers, MRR and cash at month 0 (customers rounded under binomial flows; MRR
    defaults to customers times the mean ARPA)."""
    customers: np.ndarray = column(p.whole("start.customers"), p.n)
    if integer:
        customers = np.rint(customers).astype(np.int64)
    if shape.mrr_given:
        mrr = column(p.whole("start.mrr"), p.n)
    else:
        mrr = customers * shape.arpa_mean
    return customers, mrr, column(p.whole("start.cash"), p.n)


def _books(shape: ModelShape, p: Parameters, flows: Flows, customers: np.ndarray,
           mrr: np.ndarray) -> list[Book]:
    """One book for the company, or one per segment (start customers split by share, start
    MRR in proportion to customers times each segment's mean ARPA)."""
    segments = shape.depth.segments
    if not segments:
        inputs = BookInputs("revenue.arpa", "retention.churn", "revenue.expansion")
        return [Book(inputs, _customer_base(shape, inputs, customers), mrr)]
    shares = [float(p.at(s.share, 1)) for s in segments]
    split = flows.split("segments start", customers, np.asarray(shares))
    weights = [c * m for c, m in zip(split, shape.segment_arpa_means, strict=True)]
    total = sum(weights, np.zeros(p.n))
    books = []
    for segment, count, weight in zip(segments, split, weights, strict=True):
        share_of_mrr = np.divide(weight, total, out=np.zeros(p.n), where=total > 0)
        inputs = BookInputs(segment.arpa, segment.churn, segment.expansion, f"{segment.name}:")
        books.append(Book(inputs, _customer_base(shape, inputs, count), mrr * share_of_mrr))
    return books


def _customer_base(shape: ModelShape, inputs: BookInputs, customers: np.ndarray
                   ) -> CustomerBase:
    """A book's customers under the config's churn model: flat churn (with early-life churn
    when configured) or sBG (segments are not combined with sBG; the config refuses it)."""
    depth = shape.depth
    if depth.retention.model == "sbg":
        return SbgChurn(customers, shape.months, depth.retention.customer_age, inputs.key)
    early = "retention.early_churn" if depth.early_months else None
    return FlatChurn(customers, inputs.churn, inputs.key, early, depth.early_months)


def simulate(shape: ModelShape, p: Parameters, flows: Flows, events: Shocks | None = None,
             out: dict[str, np.ndarray] | None = None, funnel_months: tuple[int, ...] = ()
             ) -> dict[str, np.ndarray]:
    """Run the month loop for one block of paths.

    Fills (and returns) arrays of shape (n, months) for visitors, each stage, churned,
    customers, mrr, sm_spend and cash, per-channel new customers and spend, per-segment new
    customers, customers and MRR, and each shock's activity; ``out`` may hold preallocated
    arrays (or views) to write into. With ``funnel_months`` (1-based) visitors and every
    stage but the last (which no derived metric reads) are kept at those months only, shape
    (n, len(funnel_months)).
    """
    n, months, depth = p.n, shape.months, shape.depth
    upper = ("visitors", *shape.stages[:-1])
    slot = {m: i for i, m in enumerate(funnel_months)} if funnel_months else \
        {m: m - 1 for m in range(1, months + 1)}
    if out is None:
        out = {name: np.empty((n, len(slot) if name in upper else months))
               for name in flow_names(shape)}
    customers, mrr, cash = initial_state(shape, p, flows.integer_counts)
    books = _books(shape, p, flows, customers, mrr)
    acquisition = Acquisition(depth, shape.stages, p, flows, months, flows.integer_counts)
    onboarding = Onboarding(depth.segments, flows, n, months, flows.integer_counts)
    costs = Costs(p)
    for t in range(1, months + 1):
        costs.advance(t)
        shocks, active = events.month() if events is not None else ({}, {})
        season = depth.seasonality.factor(t) if depth.seasonality else 1.0
        volume = acquisition.month(t, season, shocks, upper=t in slot)
        news = onboarding.month(t, volume, p)
        churn_factor: Value = shocks.get("churn", 1.0)
        if depth.seasonality and depth.seasonality.churn:
            churn_factor = churn_factor * season
        churned = sum(book.month(p, t, flows, churn_factor, new)
                      for book, new in zip(books, news, strict=True))
        sm_spend = costs.sm_spend(t, shocks, volume, n)
        total_mrr = sum(book.mrr for book in books)
        cash = cash + total_mrr * p.at("revenue.gross_margin", t) - sm_spend - costs.opex(t)
        record = Month(t, volume, news, books, churned, total_mrr, sm_spend, cash, active)
        record.write(out, shape, slot)
    return out


class Costs:
    """The month's spend: marketing and sales (with their growth, the spend shock, the sales
    team and the paid channels) and other opex, each growth compounded month by month."""

    GROWTH = ("costs.marketing_growth", "costs.sales_growth", "costs.other_opex_growth")

    def __init__(self, p: Parameters) -> None:
        self.p = p
        self.factors: dict[str, Value] = {}

    def advance(self, t: int) -> None:
        """Compound every growth rate into month ``t``."""
        for g in self.GROWTH:
            self.factors[g] = compounded(self.p, g, t, self.factors.get(g, 1.0))

    def sm_spend(self, t: int, shocks: Mapping[str, Value], volume: MonthVolume, n: int
                 ) -> np.ndarray:
        """Sales and marketing spend in month ``t``, shape (n,)."""
        p, f = self.p, self.factors
        spend = column((p.at("costs.marketing", t) * f["costs.marketing_growth"])
                       * shocks.get("spend", 1.0)
                       + p.at("costs.sales", t) * f["costs.sales_growth"], n)
        spend = spend + volume.team_spend
        for channel in volume.channel_spend.values():
            spend = spend + channel
        return spend

    def opex(self, t: int) -> Value:
        """Other operating expenses in month ``t``."""
        return self.p.at("costs.other_opex", t) * self.factors["costs.other_opex_growth"]


@dataclass(frozen=True)
class Month:
    """What one month of the loop produced, and how it is written into the block's arrays."""

    t: int
    volume: MonthVolume
    news: list[np.ndarray]
    books: list[Book]
    churned: np.ndarray | float
    mrr: np.ndarray | float
    sm_spend: np.ndarray
    cash: np.ndarray
    active: dict[str, np.ndarray]

    def write(self, out: dict[str, np.ndarray], shape: ModelShape, slot: dict[int, int]
              ) -> None:
        """Store the month in ``out``: visitors and the upper stages at their slot (when
        kept), everything else in column t-1."""
        t, volume, books, news, col = self.t, self.volume, self.books, self.news, self.t - 1
        if t in slot:
            out["visitors"][:, slot[t]] = volume.visitors
            for stage, count in zip(shape.stages[:-1], volume.stages, strict=False):
                out[stage][:, slot[t]] = count
        out[shape.stages[-1]][:, col] = volume.stages[-1]
        out["churned"][:, col] = self.churned
        out["customers"][:, col] = sum(book.customers for book in books)
        out["mrr"][:, col] = self.mrr
        out["sm_spend"][:, col] = self.sm_spend
        out["cash"][:, col] = self.cash
        if shape.depth.segments:
            out["new_customers"][:, col] = sum(news)
        for name in shape.channels:
            out[f"{name}.new_customers"][:, col] = volume.channel_new[name]
            out[f"{name}.spend"][:, col] = volume.channel_spend.get(name, 0.0)
        # without segments there is one book for the company and no segment metrics
        for segment, book, new in zip(shape.depth.segments, books, news, strict=False):
            out[f"{segment.name}.new_customers"][:, col] = new
            out[f"{segment.name}.customers"][:, col] = book.customers
            out[f"{segment.name}.mrr"][:, col] = book.mrr
        for name, values in self.active.items():
            out[f"shock:{name}"][:, col] = values
