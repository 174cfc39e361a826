"""The customer book: customers, churn and MRR, for the whole company or per segment.

A book holds its active customers in a :class:`CustomerBase` that churns them each month
(flat churn here, with early-life churn keeping the young ones in age buckets; the
shifted-beta-geometric model in :mod:`simulator.model.sbg`), adds the month's new
customers and carries MRR as docs/model.md says:
``mrr(t) = mrr(t-1) * (1 - churned/customers(t-1)) * (1 + expansion) + new * arpa``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .flows import Flows
from .params import Parameters, Value


@dataclass(frozen=True)
class BookInputs:
    """Input names of a book and the prefix of its streams ("" for the whole company)."""

    arpa: str
    churn: str
    expansion: str
    key: str = ""


class CustomerBase(ABC):
    """A book's active customers, and how they churn."""

    @property
    @abstractmethod
    def customers(self) -> np.ndarray:
        """Active customers per path, shape (n,)."""

    @abstractmethod
    def churn(self, p: Parameters, t: int, flows: Flows, churn_factor: Value,
              new: np.ndarray) -> np.ndarray:
        """Churn the customers in month ``t`` (their churn probabilities times
        ``churn_factor``, at most 1) and add the ``new`` ones; returns the churned count."""


class FlatChurn(CustomerBase):
    """Every customer churns at ``churn`` a month; with early-life churn those younger than
    ``early_months`` churn at ``early`` instead, kept in age buckets until they mature."""

    def __init__(self, customers: np.ndarray, churn: str, key: str, early: str | None,
                 early_months: int) -> None:
        self.mature = customers
        self.young = np.zeros((len(customers), early_months), dtype=customers.dtype)
        self.churn_input = churn
        self.early_input = early if early_months else None
        self.key = key

    @property
    def customers(self) -> np.ndarray:
        return self.mature + self.young.sum(axis=1) if self.young.shape[1] else self.mature

    def churn(self, p: Parameters, t: int, flows: Flows, churn_factor: Value,
              new: np.ndarray) -> np.ndarray:
        churn = p.at(self.churn_input, t)
        if not (isinstance(churn_factor, float) and churn_factor == 1.0):
            churn = np.minimum(churn * churn_factor, 1.0)
        churned = flows.thin(self.key + "churn", self.mature, churn)
        self.mature = self.mature - churned
        if self.young.shape[1]:
            early = p.at(self.early_input, t) if self.early_input else 0.0
            rate = early[:, None] if isinstance(early, np.ndarray) else early
            young_churned = flows.thin(self.key + "early churn", self.young, rate)
            churned = churned + young_churned.sum(axis=1)
            self.young = self.young - young_churned
            self.mature = self.mature + self.young[:, -1]
            self.young[:, 1:] = self.young[:, :-1].copy()
            self.young[:, 0] = new
        else:
            self.mature = self.mature + new
        return churned


class Book:
    """Customers and MRR of one book, stepped month by month."""

    def __init__(self, inputs: BookInputs, base: CustomerBase, mrr: np.ndarray) -> None:
        self.inputs = inputs
        self.base = base
        self.mrr = mrr

    @property
    def customers(self) -> np.ndarray:
        return self.base.customers

    def month(self, p: Parameters, t: int, flows: Flows, churn_factor: Value,
              new: np.ndarray) -> np.ndarray:
        """Step the book through month ``t``; returns the churned count."""
        before = self.customers
        churned = self.base.churn(p, t, flows, churn_factor, new)
        share = np.divide(churned, before, out=np.zeros(len(before)), where=before > 0)
        retained = np.where(before > 0, 1.0 - share, 0.0)
        self.mrr = self.mrr * retained * (1.0 + p.at(self.inputs.expansion, t)) \
            + new * p.at(self.inputs.arpa, t)
        return churned
