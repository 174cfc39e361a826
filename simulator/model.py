"""The monthly step of SPEC section 4, vectorised over paths (a Python loop over months only).

Random flows (Poisson visitors, binomial stage conversions and churn) come from a
:class:`Flows` object: :class:`BinomialFlows` draws them from named streams, and
:class:`ExpectedFlows` replaces every draw by its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distributions.joint import SeedLike, stream

from .params import Parameters, Value


class Flows:
    """How counts move between stages: drawn (binomial) or expected."""

    integer_counts = False

    def arrivals(self, mean: np.ndarray, rate: Value) -> tuple[np.ndarray, np.ndarray]:
        """Visitors in a month with the given mean, and how many of them pass the first
        stage with probability ``rate``."""
        raise NotImplementedError

    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        """How many of ``count`` units pass a step with probability ``rate``."""
        raise NotImplementedError


class ExpectedFlows(Flows):
    """Every draw replaced by its expectation (real-valued counts)."""

    def arrivals(self, mean: np.ndarray, rate: Value) -> tuple[np.ndarray, np.ndarray]:
        return mean, mean * rate

    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        return count * rate


class BinomialFlows(Flows):
    """Poisson arrivals and binomial thinning, each step from its own named stream.

    Arrivals use Poisson splitting, an exact identity: if visitors ~ Poisson(m) and each
    passes the first stage with probability r, the passing count ~ Poisson(m r) and the rest
    ~ Poisson(m (1 - r)) are independent. Drawing the two Poissons gives exactly the joint
    law of (visitors, first stage) of SPEC section 4 and is cheaper than a binomial on
    thousands of visitors. Counts stay int64 during the month loop.
    """

    integer_counts = True

    def __init__(self, seed: SeedLike, block: int) -> None:
        self._seed = seed
        self._block = block
        self._streams: dict[str, np.random.Generator] = {}

    def _rng(self, key: str) -> np.random.Generator:
        if key not in self._streams:
            self._streams[key] = stream(self._seed, "flow", key, self._block)
        return self._streams[key]

    def arrivals(self, mean: np.ndarray, rate: Value) -> tuple[np.ndarray, np.ndarray]:
        passed = self._rng("first stage").poisson(mean * rate)
        return passed + self._rng("visitors").poisson(mean * (1.0 - rate)), passed

    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        return self._rng(key).binomial(count, rate)


@dataclass(frozen=True)
class ModelShape:
    """What the monthly step needs besides the drawn parameters."""

    stages: tuple[str, ...]
    months: int
    arpa_mean: float  # start.mrr defaults to start.customers * arpa_mean
    mrr_given: bool


def _factor(p: Parameters, growth: str, month: int, previous: Value) -> Value:
    """The compounded growth factor of month ``month``: (1+g)^(month-1) for a growth drawn
    once per path, the running product of (1+g_t) for one redrawn every month."""
    g = p.whole(growth)
    if isinstance(g, np.ndarray) and g.ndim == 2:
        return previous * (1.0 + g[:, month - 1]) if month > 1 else np.ones(p.n)
    return (1.0 + g) ** (month - 1)


def _column(value: Value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


def flow_names(stages: tuple[str, ...]) -> tuple[str, ...]:
    """The arrays :func:`simulate` fills."""
    return ("visitors", *stages, "churned", "customers", "mrr", "sm_spend", "cash")


def simulate(shape: ModelShape, p: Parameters, flows: Flows,
             out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Run the month loop for one block of paths.

    Fills (and returns) arrays of shape (n, months) for visitors, each stage, churned,
    customers, mrr, sm_spend and cash (new customers are the last stage's count); ``out``
    may hold preallocated arrays (or views) to write into.
    """
    n, months = p.n, shape.months
    if out is None:
        out = {name: np.empty((n, months)) for name in flow_names(shape.stages)}
    customers: np.ndarray = _column(p.whole("start.customers"), n)
    if flows.integer_counts:
        customers = np.rint(customers).astype(np.int64)
    if shape.mrr_given:
        mrr = _column(p.whole("start.mrr"), n)
    else:
        mrr = customers * shape.arpa_mean
    cash = _column(p.whole("start.cash"), n)
    factors: dict[str, Value] = {}
    for t in range(1, months + 1):
        for g in ("acquisition.visitor_growth", "costs.marketing_growth", "costs.sales_growth",
                  "costs.other_opex_growth"):
            factors[g] = _factor(p, g, t, factors.get(g, 1.0))
        first, *rest = shape.stages
        visitors, count = flows.arrivals(
            _column(p.at("acquisition.visitors", t) * factors["acquisition.visitor_growth"], n),
            p.at(f"funnel.{first}.rate", t))
        out["visitors"][:, t - 1] = visitors
        out[first][:, t - 1] = count
        for stage in rest:
            count = flows.thin(stage, count, p.at(f"funnel.{stage}.rate", t))
            out[stage][:, t - 1] = count
        churned = flows.thin("churn", customers, p.at("retention.churn", t))
        churned_share = np.divide(churned, customers, out=np.zeros(n), where=customers > 0)
        retained = np.where(customers > 0, 1.0 - churned_share, 0.0)
        customers = customers - churned + count
        mrr = mrr * retained * (1.0 + p.at("revenue.expansion", t)) \
            + count * p.at("revenue.arpa", t)
        sm_spend = _column(p.at("costs.marketing", t) * factors["costs.marketing_growth"]
                           + p.at("costs.sales", t) * factors["costs.sales_growth"], n)
        opex = p.at("costs.other_opex", t) * factors["costs.other_opex_growth"]
        cash = cash + mrr * p.at("revenue.gross_margin", t) - sm_spend - opex
        out["churned"][:, t - 1] = churned
        out["customers"][:, t - 1] = customers
        out["mrr"][:, t - 1] = mrr
        out["sm_spend"][:, t - 1] = sm_spend
        out["cash"][:, t - 1] = cash
    return out
