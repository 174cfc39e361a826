"""The monthly step of docs/model.md, vectorised over paths (a Python loop over months only).

Random flows (Poisson visitors, binomial stage conversions and churn) come from a
:class:`Flows` object: :class:`BinomialFlows` draws them from named streams, and
:class:`ExpectedFlows` replaces every draw by its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.gtm import Depth
from .book import Book, BookInputs
from .events import Shocks
from .flows import Flows
from .funnel import Acquisition, Onboarding, column, compounded
from .params import Parameters, Value


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
    per_channel = tuple(f"{c}.{m}" for c in shape.channels for m in ("new_customers", "spend"))
    per_segment = tuple(f"{s.name}.{m}" for s in shape.depth.segments
                        for m in ("new_customers", "customers", "mrr"))
    shocks = tuple(f"shock:{s.name}" for s in shape.depth.shocks)
    segmented = ("new_customers",) if shape.depth.segments else ()
    return ("visitors", *shape.stages, "churned", "customers", "mrr", "sm_spend", "cash",
            *segmented, *per_channel, *per_segment, *shocks)


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
    early = shape.depth.early_months
    segments = shape.depth.segments
    if not segments:
        return [Book(BookInputs("revenue.arpa", "retention.churn", "revenue.expansion"),
                     customers, mrr, early)]
    shares = [float(p.at(s.share, 1)) for s in segments]
    split = flows.split("segments start", customers, np.asarray(shares))
    weights = [c * m for c, m in zip(split, shape.segment_arpa_means, strict=True)]
    total = sum(weights, np.zeros(p.n))
    books = []
    for segment, count, weight in zip(segments, split, weights, strict=True):
        share_of_mrr = np.divide(weight, total, out=np.zeros(p.n), where=total > 0)
        books.append(Book(BookInputs(segment.arpa, segment.churn, segment.expansion,
                                     f"{segment.name}:"), count, mrr * share_of_mrr, early))
    return books


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
    early = "retention.early_churn" if depth.early_months else None
    factors: dict[str, Value] = {}
    for t in range(1, months + 1):
        for g in ("costs.marketing_growth", "costs.sales_growth", "costs.other_opex_growth"):
            factors[g] = compounded(p, g, t, factors.get(g, 1.0))
        shocks, active = events.month() if events is not None else ({}, {})
        season = depth.seasonality.factor(t) if depth.seasonality else 1.0
        volume = acquisition.month(t, season, shocks, upper=t in slot)
        if t in slot:
            out["visitors"][:, slot[t]] = volume.visitors
            for stage, count in zip(shape.stages[:-1], volume.stages, strict=False):
                out[stage][:, slot[t]] = count
        out[shape.stages[-1]][:, t - 1] = volume.stages[-1]
        churn_factor: Value = shocks.get("churn", 1.0)
        if depth.seasonality and depth.seasonality.churn:
            churn_factor = churn_factor * season
        news = onboarding.month(t, volume, p)
        churned = sum(book.month(p, t, flows, churn_factor, p.at(early, t) if early else 0.0,
                                 new) for book, new in zip(books, news, strict=True))
        total_customers = sum(book.customers for book in books)
        total_mrr = sum(book.mrr for book in books)
        sm_spend = column((p.at("costs.marketing", t) * factors["costs.marketing_growth"])
                          * shocks.get("spend", 1.0)
                          + p.at("costs.sales", t) * factors["costs.sales_growth"], n)
        sm_spend = sm_spend + volume.team_spend
        for spend in volume.channel_spend.values():
            sm_spend = sm_spend + spend
        opex = p.at("costs.other_opex", t) * factors["costs.other_opex_growth"]
        cash = cash + total_mrr * p.at("revenue.gross_margin", t) - sm_spend - opex
        out["churned"][:, t - 1] = churned
        out["customers"][:, t - 1] = total_customers
        out["mrr"][:, t - 1] = total_mrr
        out["sm_spend"][:, t - 1] = sm_spend
        out["cash"][:, t - 1] = cash
        if depth.segments:
            out["new_customers"][:, t - 1] = sum(news)
        for name in shape.channels:
            out[f"{name}.new_customers"][:, t - 1] = volume.channel_new[name]
            out[f"{name}.spend"][:, t - 1] = volume.channel_spend.get(name, 0.0)
        # without segments there is one book for the company and no segment metrics
        for segment, book, new in zip(depth.segments, books, news, strict=False):
            out[f"{segment.name}.new_customers"][:, t - 1] = new
            out[f"{segment.name}.customers"][:, t - 1] = book.customers
            out[f"{segment.name}.mrr"][:, t - 1] = book.mrr
        for name, values in active.items():
            out[f"shock:{name}"][:, t - 1] = values
    return out
