"""The shifted-beta-geometric (sBG) churn model: customers differ, so a cohort's churn falls
with age.

Each customer's monthly churn probability ``p`` is drawn from Beta(alpha, beta) when they
join and kept. A customer in their a-th month since joining (a = 1 in the month after the
one they joined) who is still active churns with probability

    h(a) = alpha / (alpha + beta + a - 1),

and a cohort keeps the share ``S(a) = B(alpha, beta + a) / B(alpha, beta)`` of its customers
at age a. Given who is still active, each customer churns independently with probability
h(a), so binomial churn per age is exact (:class:`SbgChurn`), and expected flows give
S(a) itself.

>>> round(float(survival(1.0, 3.0, 1)), 12), round(float(hazard(1.0, 3.0, 2)), 12)
(0.75, 0.2)
>>> float(lifetime(2.0, 3.0)), float(lifetime(1.0, 3.0))
(4.0, inf)
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .book import CustomerBase
from .flows import Flows
from .params import Parameters, Value


def hazard(alpha: Value, beta: Value, age: Value) -> np.ndarray:
    """Churn probability in the ``age``-th month since joining (age >= 1)."""
    a, b = np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    denominator = a + b + np.asarray(age, dtype=np.float64) - 1.0
    return np.divide(a, denominator, out=np.ones(np.broadcast(a, denominator).shape),
                     where=denominator > 0)


def survival(alpha: Value, beta: Value, age: Value) -> np.ndarray:
    """Share of a cohort still active at ``age`` months: B(alpha, beta + age) / B(alpha, beta)."""
    a, b = np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    return np.exp(special.betaln(a, b + np.asarray(age, dtype=np.float64))
                  - special.betaln(a, b))


def lifetime(alpha: Value, beta: Value) -> np.ndarray:
    """Expected months a new customer pays, its joining month included:
    E[1/p] = (alpha + beta - 1) / (alpha - 1) for alpha > 1, infinite otherwise."""
    a, b = np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 1.0, (a + b - 1.0) / np.where(a > 1.0, a - 1.0, 1.0), np.inf)


def equivalent_churn(alpha: Value, beta: Value) -> np.ndarray:
    """The flat monthly churn with the same expected lifetime, 1 / :func:`lifetime`:
    (alpha - 1) / (alpha + beta - 1) for alpha > 1, else 0 (the lifetime is infinite)."""
    a, b = np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 1.0, (a - 1.0) / np.where(a > 1.0, a + b - 1.0, 1.0), 0.0)


class SbgChurn(CustomerBase):
    """Customers kept by the month they joined (column 0: the start customers, aged
    ``start_age`` at month 0; column j: those won in month j), each column churned at the
    sBG hazard of its age. Inputs ``<prefix>.alpha`` and ``<prefix>.beta``."""

    def __init__(self, customers: np.ndarray, months: int, start_age: int, key: str,
                 prefix: str = "retention") -> None:
        self.cohorts = np.zeros((len(customers), months + 1), dtype=customers.dtype)
        self.cohorts[:, 0] = customers
        self.start_age = start_age
        self.key = key
        self.alpha, self.beta = f"{prefix}.alpha", f"{prefix}.beta"
        self.joined = 0  # columns 0..joined hold customers

    @property
    def customers(self) -> np.ndarray:
        return self.cohorts[:, : self.joined + 1].sum(axis=1)

    def churn(self, p: Parameters, t: int, flows: Flows, churn_factor: Value,
              new: np.ndarray) -> np.ndarray:
        ages = t - np.arange(t, dtype=np.float64)  # month t of the cohorts of months 0..t-1
        ages[0] += self.start_age
        alpha, beta = (_column(p.at(name, t)) for name in (self.alpha, self.beta))
        rate = hazard(alpha, beta, ages[None, :])
        if not (isinstance(churn_factor, float) and churn_factor == 1.0):
            rate = np.minimum(rate * _column(churn_factor), 1.0)
        churned = flows.thin(self.key + "sbg churn", self.cohorts[:, :t], rate)
        self.cohorts[:, :t] -= churned
        self.cohorts[:, t] = new
        self.joined = t
        return np.asarray(churned.sum(axis=1))


def _column(value: Value) -> Value:
    """A per-path value as a column (n, 1), a scalar as it is."""
    return value[:, None] if isinstance(value, np.ndarray) else value
