"""The customer book: customers, churn and MRR, for the whole company or per segment.

A book holds its active customers (with early-life churn, the young ones in age buckets),
churns them each month, adds the month's new customers and carries MRR as docs/model.md
says: ``mrr(t) = mrr(t-1) * (1 - churned/customers(t-1)) * (1 + expansion) + new * arpa``.
"""

from __future__ import annotations

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


class Book:
    """Customers and MRR of one book, stepped month by month."""

    def __init__(self, inputs: BookInputs, customers: np.ndarray, mrr: np.ndarray,
                 early_months: int) -> None:
        self.inputs = inputs
        self.mature = customers
        self.young = np.zeros((len(customers), early_months), dtype=customers.dtype)
        self.mrr = mrr

    @property
    def customers(self) -> np.ndarray:
        return self.mature + self.young.sum(axis=1) if self.young.shape[1] else self.mature

    def _churn(self, flows: Flows, churn: Value, early_churn: Value, new: np.ndarray
               ) -> np.ndarray:
        """Churn this month's customers and add the new ones; returns the churned count."""
        churned = flows.thin(self.inputs.key + "churn", self.mature, churn)
        self.mature = self.mature - churned
        if self.young.shape[1]:
            rate = early_churn[:, None] if isinstance(early_churn, np.ndarray) else early_churn
            young_churned = flows.thin(self.inputs.key + "early churn", self.young, rate)
            churned = churned + young_churned.sum(axis=1)
            self.young = self.young - young_churned
            self.mature = self.mature + self.young[:, -1]
            self.young[:, 1:] = self.young[:, :-1].copy()
            self.young[:, 0] = new
        else:
            self.mature = self.mature + new
        return churned

    def month(self, p: Parameters, t: int, flows: Flows, churn_factor: Value,
              early_churn: Value, new: np.ndarray) -> np.ndarray:
        """Step the book through month ``t``; returns the churned count."""
        churn = p.at(self.inputs.churn, t)
        if not (isinstance(churn_factor, float) and churn_factor == 1.0):
            churn = np.minimum(churn * churn_factor, 1.0)
        before = self.customers
        churned = self._churn(flows, churn, early_churn, new)
        share = np.divide(churned, before, out=np.zeros(len(before)), where=before > 0)
        retained = np.where(before > 0, 1.0 - share, 0.0)
        self.mrr = self.mrr * retained * (1.0 + p.at(self.inputs.expansion, t)) \
            + new * p.at(self.inputs.arpa, t)
        return churned
