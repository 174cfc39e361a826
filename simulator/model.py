"""The monthly step of SPEC section 4, vectorised over paths (a Python loop over months only).

Random flows (Poisson visitors, binomial stage conversions and churn) come from a
:class:`Flows` object: :class:`BinomialFlows` draws them from named streams, and
:class:`ExpectedFlows` replaces every draw by its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import Shocks
from .flows import Flows
from .funnel import Acquisition, column, compounded
from .gtm import Depth
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


def flow_names(shape: ModelShape) -> tuple[str, ...]:
    """The arrays :func:`simulate` fills."""
    per_channel = tuple(f"{c}.{m}" for c in shape.channels for m in ("new_customers", "spend"))
    shocks = tuple(f"shock:{s.name}" for s in shape.depth.shocks)
    return ("visitors", *shape.stages, "churned", "customers", "mrr", "sm_spend", "cash",
            *per_channel, *shocks)


class Retention:
    """Customers and their churn; with early-life churn, customers younger than
    ``early_months`` sit in age buckets and churn at ``retention.early_churn``."""

    def __init__(self, customers: np.ndarray, early_months: int) -> None:
        self.mature = customers
        self.young = np.zeros((len(customers), early_months), dtype=customers.dtype)

    @property
    def customers(self) -> np.ndarray:
        return self.mature + self.young.sum(axis=1) if self.young.shape[1] else self.mature

    def month(self, flows: Flows, churn: Value, early_churn: Value, new: np.ndarray
              ) -> np.ndarray:
        """Churn this month's customers, add the new ones; returns the churned count."""
        churned = flows.thin("churn", self.mature, churn)
        self.mature = self.mature - churned
        if self.young.shape[1]:
            rate = early_churn[:, None] if isinstance(early_churn, np.ndarray) else early_churn
            young_churned = flows.thin("early churn", self.young, rate)
            churned = churned + young_churned.sum(axis=1)
            self.young = self.young - young_churned
            self.mature = self.mature + self.young[:, -1]
            self.young[:, 1:] = self.young[:, :-1].copy()
            self.young[:, 0] = new
        else:
            self.mature = self.mature + new
        return churned


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


def simulate(shape: ModelShape, p: Parameters, flows: Flows, events: Shocks | None = None,
             out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Run the month loop for one block of paths.

    Fills (and returns) arrays of shape (n, months) for visitors, each stage, churned,
    customers, mrr, sm_spend and cash (new customers are the last stage's count), per-channel
    new customers and spend, and each shock's activity; ``out`` may hold preallocated arrays
    (or views) to write into.
    """
    n, months, depth = p.n, shape.months, shape.depth
    if out is None:
        out = {name: np.empty((n, months)) for name in flow_names(shape)}
    customers, mrr, cash = initial_state(shape, p, flows.integer_counts)
    retention = Retention(customers, depth.early_months)
    acquisition = Acquisition(depth, shape.stages, p, flows, months, flows.integer_counts)
    early = "retention.early_churn" if depth.early_months else None
    factors: dict[str, Value] = {}
    for t in range(1, months + 1):
        for g in ("costs.marketing_growth", "costs.sales_growth", "costs.other_opex_growth"):
            factors[g] = compounded(p, g, t, factors.get(g, 1.0))
        shocks, active = events.month() if events is not None else ({}, {})
        season = depth.seasonality.factor(t) if depth.seasonality else 1.0
        volume = acquisition.month(t, season, shocks)
        out["visitors"][:, t - 1] = volume.visitors
        for stage, count in zip(shape.stages, volume.stages, strict=True):
            out[stage][:, t - 1] = count
        new = volume.stages[-1]
        churn = p.at("retention.churn", t) * shocks.get("churn", 1.0)
        if depth.seasonality and depth.seasonality.churn:
            churn = churn * season
        customers = retention.customers
        churned = retention.month(flows, np.minimum(churn, 1.0) if shocks or season != 1.0
                                  else churn, p.at(early, t) if early else 0.0, new)
        churned_share = np.divide(churned, customers, out=np.zeros(n), where=customers > 0)
        retained = np.where(customers > 0, 1.0 - churned_share, 0.0)
        customers = retention.customers
        mrr = mrr * retained * (1.0 + p.at("revenue.expansion", t)) \
            + new * p.at("revenue.arpa", t)
        sm_spend = column((p.at("costs.marketing", t) * factors["costs.marketing_growth"])
                          * shocks.get("spend", 1.0)
                          + p.at("costs.sales", t) * factors["costs.sales_growth"], n)
        for spend in volume.channel_spend.values():
            sm_spend = sm_spend + spend
        opex = p.at("costs.other_opex", t) * factors["costs.other_opex_growth"]
        cash = cash + mrr * p.at("revenue.gross_margin", t) - sm_spend - opex
        out["churned"][:, t - 1] = churned
        out["customers"][:, t - 1] = customers
        out["mrr"][:, t - 1] = mrr
        out["sm_spend"][:, t - 1] = sm_spend
        out["cash"][:, t - 1] = cash
        for name in shape.channels:
            out[f"{name}.new_customers"][:, t - 1] = volume.channel_new[name]
            out[f"{name}.spend"][:, t - 1] = volume.channel_spend.get(name, 0.0)
        for name, values in active.items():
            out[f"shock:{name}"][:, t - 1] = values
    return out
