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


Columns = tuple[int, ...] | None  # 0-based months to compute at; None: every month


def trailing_sum(x: np.ndarray, window: int, cols: Columns = None) -> np.ndarray:
    """Sum over the last ``window`` months (fewer at the start), along axis 1; at the
    months ``cols`` only when given (the same additions in the same order)."""
    if cols is not None:
        at = np.asarray(cols)
        out = x[:, at]
        for lag in range(1, min(window, x.shape[1])):
            inside = at >= lag
            out[:, inside] += x[:, at[inside] - lag]
        return out
    out = x.copy()
    for lag in range(1, min(window, x.shape[1])):
        out[:, lag:] += x[:, :-lag]
    return out


def _grid(value: Value, shape: tuple[int, int], cols: Columns = None) -> np.ndarray:
    """Broadcast a scalar, a (paths,) or a (paths, months) value to ``shape`` (the months
    ``cols`` of it when given)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim == 2 and cols is not None:
        array = array[:, np.asarray(cols)]
    if cols is not None:
        shape = (shape[0], len(cols))
    return np.broadcast_to(array, shape)


def cac(sm_spend: np.ndarray, new_customers: np.ndarray, window: int,
        cols: Columns = None) -> np.ndarray:
    """Trailing-window S&M spend divided by customers won in the same window."""
    spend = trailing_sum(sm_spend, window, cols)
    won = trailing_sum(new_customers, window, cols)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(won > 0, spend / np.where(won > 0, won, 1.0), INF)


def unit_economics(sm_spend: np.ndarray, new_customers: np.ndarray, arpa: Value,
                   gross_margin: Value, churn: Value, window: int, cols: Columns = None
                   ) -> dict[str, np.ndarray]:
    """``cac``, ``cac_payback_months``, ``ltv`` and ``ltv_to_cac``, each (paths, months)
    (or (paths, len(cols)))."""
    shape = sm_spend.shape
    cost = cac(sm_spend, new_customers, window, cols)
    margin = _grid(arpa, shape, cols) * _grid(gross_margin, shape, cols)
    churn_rate = _grid(churn, shape, cols)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        payback = np.where(margin > 0, cost / np.where(margin > 0, margin, 1.0), INF)
        ltv = np.where(churn_rate > 0, margin / np.where(churn_rate > 0, churn_rate, 1.0), INF)
        ratio = np.where(np.isinf(cost) | (ltv == 0), 0.0, ltv / cost)
    return {"cac": cost, "cac_payback_months": payback, "ltv": ltv, "ltv_to_cac": ratio}


def runway_months(cash: np.ndarray) -> np.ndarray:
    """Months from each month until cash is first below 0 (0 if it already is; inf if it
    never is within the horizon)."""
    paths, months = cash.shape
    out = np.full(cash.shape, INF)
    next_negative = np.full(paths, INF)
    for t in range(months - 1, -1, -1):
        next_negative = np.where(cash[:, t] < 0, float(t), next_negative)
        out[:, t] = next_negative - t
    return out


def burn_multiple(cash: np.ndarray, mrr: np.ndarray, start_cash: np.ndarray,
                  start_mrr: np.ndarray, window: int, cols: Columns = None) -> np.ndarray:
    """Net burn over the trailing window divided by net new ARR over it: 0 when the window
    burned no cash, inf when it burned cash and added no ARR."""
    cash_before = np.column_stack([start_cash, cash[:, :-1]])
    arr_before = 12.0 * np.column_stack([start_mrr, mrr[:, :-1]])
    burn = trailing_sum(cash_before - cash, window, cols)
    added = trailing_sum(12.0 * mrr - arr_before, window, cols)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = burn / np.where(added > 0, added, 1.0)
    return np.where(burn <= 0, 0.0, np.where(added > 0, ratio, INF))


def retention_factors(customers: np.ndarray, churned: np.ndarray, start_customers: np.ndarray,
                      expansion: Value) -> np.ndarray:
    """Each month's factor on retained MRR: (1 - churned / customers before) * (1 + expansion)
    (0 when there were no customers)."""
    before = np.column_stack([start_customers, customers[:, :-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(before > 0, 1.0 - churned / np.where(before > 0, before, 1.0), 0.0)
    return kept * (1.0 + _grid(expansion, customers.shape))


def nrr(factors: np.ndarray, window: int = 12, cols: Columns = None) -> np.ndarray:
    """Net revenue retention over the trailing ``window`` months (fewer at the start): the
    MRR today of the accounts of ``window`` months ago, over their MRR then. Every retained
    account follows the same churn and expansion factors, so it is their product."""
    logs = np.log(np.maximum(factors, 1e-300))
    total = trailing_sum(logs, window, cols)
    emptied = trailing_sum((factors == 0).astype(np.float64), window, cols) > 0
    return np.where(emptied, 0.0, np.exp(total))


def cohort_payback_months(new: np.ndarray, arpa: Value, gross_margin: Value,
                          sm_spend: np.ndarray, factors: np.ndarray, later: Value,
                          months_wanted: tuple[int, ...] | None = None) -> np.ndarray:
    """Months until the cohort won in each month returns, in gross profit, that month's S&M
    spend: its MRR starts at new * arpa and then follows the month-by-month retention
    factors; after the horizon it keeps the factor ``later`` (the path's (1 - churn) *
    (1 + expansion)). Counted from the cohort's own month (1 = paid back in its first
    month); inf when it never pays back or no customer was won (0 with no spend).
    ``months_wanted`` (1-based) limits the work to those cohorts; the others are inf."""
    paths, months = new.shape
    margin = _grid(arpa, new.shape) * _grid(gross_margin, new.shape)
    # A factor of 0 (no customers left to carry MRR) ends every older cohort: it is kept out
    # of the running level F (replaced by 1) and ends the search for cohorts before it.
    dead = factors <= 0
    level = np.cumprod(np.where(dead, 1.0, factors), axis=1)  # F(t), MRR multiplier
    ends = np.full(new.shape, months)
    next_dead = np.full(paths, months)
    for t in range(months - 1, -1, -1):
        ends[:, t] = next_dead
        next_dead = np.where(dead[:, t], t, next_dead)
    cum = np.cumsum(level, axis=1)
    before = np.column_stack([np.zeros(paths), cum[:, :-1]])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        per_unit = new * margin / np.where(level > 0, level, 1.0)  # GP(j) = per_unit * F(j)
        needed = before + sm_spend / np.where(per_unit > 0, per_unit, 1.0)
    # only the cohorts asked for that won customers need a search
    candidate = per_unit > 0
    if months_wanted is not None:
        asked = np.zeros(months, dtype=bool)
        asked[np.asarray(months_wanted) - 1] = True
        candidate &= asked
    flat = np.flatnonzero(candidate)
    rows, cols = np.divmod(flat, months)
    need, end = needed.ravel()[flat], ends.ravel()[flat]
    lo = cols + _first_reaching(cum.ravel(), flat, months - cols, need)
    out = np.full(new.shape, INF)
    inside = lo < end
    out[rows[inside], cols[inside]] = lo[inside] - cols[inside] + 1.0
    later_rows = np.broadcast_to(np.asarray(later, dtype=np.float64), (paths,))
    rest = ~inside & (end == months)  # not paid back yet, and the cohort lives on
    r, c = rows[rest], cols[rest]
    out[r, c] = months - c + _months_after_horizon(need[rest] - cum[r, -1], level[r, -1],
                                                   later_rows[r])
    zero_spend = sm_spend <= 0
    if months_wanted is not None:
        zero_spend &= asked
    out[zero_spend] = np.where(new[zero_spend] > 0, 0.0, INF)
    return out


def _first_reaching(values: np.ndarray, start: np.ndarray, span: np.ndarray,
                    need: np.ndarray) -> np.ndarray:
    """For each item, the first offset k < ``span`` with ``values[start + k] >= need``
    (``values`` non-decreasing over each item's span), or ``span`` if there is none.

    A branchless binary search: every step halves the span of all items at once."""
    below = np.full(len(start), -1)  # the last offset known to fall short
    step = 1 << max(int(span.max(initial=1)).bit_length() - 1, 0)
    while step:
        probe = below + step
        short = probe < span
        short &= values[start + np.where(short, probe, 0)] < need
        below = np.where(short, probe, below)
        step >>= 1
    return below + 1


def _months_after_horizon(remaining: np.ndarray, last: np.ndarray, factor: Value
                          ) -> np.ndarray:
    """Smallest K >= 1 with sum_{k=1..K} last * factor**k >= remaining (inf if never)."""
    f = np.broadcast_to(np.asarray(factor, dtype=np.float64), remaining.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        geometric = np.log1p(remaining * (f - 1.0) / (last * f)) / np.log(f)
        linear = remaining / last  # f == 1
        k = np.where(np.isclose(f, 1.0), linear, geometric)
        reachable = (last > 0) & (f > 0) & ((f >= 1.0) | (last * f / (1.0 - f) >= remaining))
    return np.where(reachable, np.maximum(np.ceil(k - 1e-9), 1.0), INF)
