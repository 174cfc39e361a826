"""Unit economics from the simulated flows: CAC, CAC payback, LTV, LTV:CAC (SPEC section 4).

Edge cases follow the contract: CAC is infinite when the window won no customer (even with
zero spend) and 0 when spend is 0 and customers were won; payback is infinite when
arpa * gross_margin is 0; LTV is infinite when churn is 0; LTV:CAC is 0 when CAC is infinite
or LTV is 0.

>>> import numpy as np
>>> trailing_sum(np.array([[1.0, 2.0, 3.0, 4.0]]), 3)
array([[1., 3., 6., 9.]])
"""

from __future__ import annotations

import numpy as np

from .params import Value

INF = np.inf


def trailing_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` months (fewer at the start), along axis 1."""
    out = x.copy()
    for lag in range(1, min(window, x.shape[1])):
        out[:, lag:] += x[:, :-lag]
    return out


def _grid(value: Value, shape: tuple[int, int]) -> np.ndarray:
    """Broadcast a scalar, a (paths,) or a (paths, months) value to ``shape``."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    return np.broadcast_to(array, shape)


def cac(sm_spend: np.ndarray, new_customers: np.ndarray, window: int) -> np.ndarray:
    """Trailing-window S&M spend divided by customers won in the same window."""
    spend = trailing_sum(sm_spend, window)
    won = trailing_sum(new_customers, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(won > 0, spend / np.where(won > 0, won, 1.0), INF)


def unit_economics(sm_spend: np.ndarray, new_customers: np.ndarray, arpa: Value,
                   gross_margin: Value, churn: Value, window: int) -> dict[str, np.ndarray]:
    """``cac``, ``cac_payback_months``, ``ltv`` and ``ltv_to_cac``, each (paths, months)."""
    shape = sm_spend.shape
    cost = cac(sm_spend, new_customers, window)
    margin = _grid(arpa, shape) * _grid(gross_margin, shape)
    churn_rate = _grid(churn, shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        payback = np.where(margin > 0, cost / np.where(margin > 0, margin, 1.0), INF)
        ltv = np.where(churn_rate > 0, margin / np.where(churn_rate > 0, churn_rate, 1.0), INF)
        ratio = np.where(np.isinf(cost) | (ltv == 0), 0.0, ltv / cost)
    return {"cac": cost, "cac_payback_months": payback, "ltv": ltv, "ltv_to_cac": ratio}
