"""Unit economics from the simulated flows: CAC, CAC payback, LTV, LTV:CAC (docs/model.md).

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


def along_months(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    """``ufunc.accumulate(x, axis=1)`` (a running sum, product, minimum... over months),
    computed a month at a time: the same operations in the same order, so the same bits,
    and about 3x faster than NumPy's accumulate along a short last axis."""
    out = np.array(x, dtype=np.float64)
    for t in range(1, out.shape[1]):
        ufunc(out[:, t - 1], out[:, t], out=out[:, t])
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


def runway_months(cash: np.ndarray, cols: Columns = None) -> np.ndarray:
    """Months from each month until cash is first below 0 (0 if it already is; inf if it
    never is within the horizon); at the months ``cols`` only when given."""
    paths, months = cash.shape
    out = np.full(cash.shape, INF)
    next_negative = np.full(paths, INF)
    for t in range(months - 1, -1, -1):
        next_negative = np.where(cash[:, t] < 0, float(t), next_negative)
        out[:, t] = next_negative - t
    return out if cols is None else out[:, np.asarray(cols)]


def burn_multiple(cash: np.ndarray, mrr: np.ndarray, start_cash: np.ndarray,
                  start_mrr: np.ndarray, window: int, cols: Columns = None) -> np.ndarray:
    """Net burn over the trailing window divided by net new ARR over it: 0 when the window
    burned no cash, inf when it burned cash and added no ARR.

    Both sums telescope: the burn is the cash before the window's first month less the cash
    at its end, and the net new ARR likewise."""
    at = np.arange(cash.shape[1]) if cols is None else np.asarray(cols)
    first = np.maximum(at - window + 1, 0)  # the window's first month (fewer at the start)
    opening = first > 0
    prior = np.maximum(first - 1, 0)
    start_cash = np.asarray(start_cash, dtype=np.float64)[:, None]
    start_mrr = np.asarray(start_mrr, dtype=np.float64)[:, None]
    burn = np.where(opening, cash[:, prior], start_cash) - cash[:, at]
    added = 12.0 * mrr[:, at] - 12.0 * np.where(opening, mrr[:, prior], start_mrr)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = burn / np.where(added > 0, added, 1.0)
    return np.where(burn <= 0, 0.0, np.where(added > 0, ratio, INF))


def retention_factors(customers: np.ndarray, churned: np.ndarray, start_customers: np.ndarray,
                      expansion: Value) -> np.ndarray:
    """Each month's factor on retained MRR: (1 - churned / customers before) * (1 + expansion)
    (0 when there were no customers)."""
    share = np.ones(customers.shape)  # churned / customers before; 1 when there were none
    start = np.asarray(start_customers, dtype=np.float64)
    np.divide(churned[:, 0], start, out=share[:, 0], where=start > 0)
    np.divide(churned[:, 1:], customers[:, :-1], out=share[:, 1:], where=customers[:, :-1] > 0)
    kept = np.subtract(1.0, share, out=share)
    growth = np.asarray(expansion, dtype=np.float64)
    return np.multiply(kept, 1.0 + (growth[:, None] if growth.ndim == 1 else growth), out=kept)


def nrr(factors: np.ndarray, window: int = 12, cols: Columns = None,
        empty: np.ndarray | None = None) -> np.ndarray:
    """Net revenue retention over the trailing ``window`` months (fewer at the start): the
    MRR today of the accounts of ``window`` months ago, over their MRR then. Every retained
    account follows the same churn and expansion factors, so it is their product.
    ``empty[:, j]``: True where the book had no customers before month j + 1; NRR is then
    undefined (NaN, 0/0) in the months whose window starts there."""
    if cols is None:
        logs = np.log(np.maximum(factors, 1e-300))
        gone = trailing_sum((factors == 0).astype(np.float64), window)
        out = np.where(gone > 0, 0.0, np.exp(trailing_sum(logs, window)))
        return _undefined_without_book(out, empty, np.arange(factors.shape[1]), window)
    at = np.asarray(cols)
    lags = range(min(window, factors.shape[1]))
    # only the months inside the windows asked for, and where each lag of ``at`` is in them
    used = np.unique(np.concatenate([at[at >= lag] - lag for lag in lags]))
    part = factors[:, used]
    logs = np.log(np.maximum(part, 1e-300))
    gone = (part == 0).astype(np.float64)
    total = np.zeros((factors.shape[0], len(at)))
    emptied = np.zeros_like(total)
    for lag in lags:  # the same additions in the same order as trailing_sum
        inside = at >= lag
        where = np.searchsorted(used, at[inside] - lag)
        total[:, inside] += logs[:, where]
        emptied[:, inside] += gone[:, where]
    return _undefined_without_book(np.where(emptied > 0, 0.0, np.exp(total)), empty, at,
                                   window)


def _undefined_without_book(out: np.ndarray, empty: np.ndarray | None, at: np.ndarray,
                            window: int) -> np.ndarray:
    """NaN where the window of the months ``at`` (0-based) starts with an empty book."""
    if empty is None:
        return out
    start = np.maximum(at - window + 1, 0)
    return np.where(empty[:, start], np.nan, out)


def cohort_payback_months(new: np.ndarray, arpa: Value, gross_margin: Value,
                          sm_spend: np.ndarray, factors: np.ndarray, later: Value,
                          cols: Columns = None) -> np.ndarray:
    """Months until the cohort won in each month returns, in gross profit, that month's S&M
    spend: its MRR starts at new * arpa and then follows the month-by-month retention
    factors; after the horizon it keeps the factor ``later`` (the path's (1 - churn) *
    (1 + expansion)). Counted from the cohort's own month (1 = paid back in its first
    month); inf when it never pays back or no customer was won (0 with no spend). Of the
    cohorts won in the months ``cols`` (0-based) only when given: shape (paths, len(cols))."""
    paths, months = new.shape
    at = np.arange(months) if cols is None else np.asarray(cols, dtype=np.intp)
    # A factor of 0 (no customers left to carry MRR) ends every older cohort: it is kept out
    # of the running level F (replaced by 1) and ends the search for cohorts before it.
    dead = factors <= 0
    level = along_months(np.multiply, np.where(dead, 1.0, factors))  # F(t), MRR multiplier
    cum = along_months(np.add, level)
    if cols is None:  # the running sum before each month
        before = np.column_stack([np.zeros(paths), cum[:, :-1]])
    else:
        before = np.where(at > 0, cum[:, np.maximum(at - 1, 0)], 0.0)
    new_at, level_at, spend_at = ((new, level, sm_spend) if cols is None
                                  else (new[:, at], level[:, at], sm_spend[:, at]))
    margin = _grid(arpa, new.shape, cols) * _grid(gross_margin, new.shape, cols)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        per_unit = new_at * margin / np.where(level_at > 0, level_at, 1.0)  # GP(j) = per_unit F(j)
        needed = before + spend_at / np.where(per_unit > 0, per_unit, 1.0)
    # only the cohorts that won customers need a search
    flat = np.flatnonzero(per_unit > 0)
    rows, which = np.divmod(flat, len(at))
    start = at[which]
    need = needed.ravel()[flat]
    end = _next_dead(dead, rows, start)
    lo = start + _first_reaching(cum.ravel(), rows * months + start, months - start, need)
    out = np.full(per_unit.shape, INF)
    inside = lo < end
    out[rows[inside], which[inside]] = lo[inside] - start[inside] + 1.0
    later_rows = np.broadcast_to(np.asarray(later, dtype=np.float64), (paths,))
    rest = ~inside & (end == months)  # not paid back yet, and the cohort lives on
    r = rows[rest]
    out[r, which[rest]] = months - start[rest] + _months_after_horizon(
        need[rest] - cum[r, -1], level[r, -1], later_rows[r])
    zero_spend = spend_at <= 0
    out[zero_spend] = np.where(new_at[zero_spend] > 0, 0.0, INF)
    return out


def _next_dead(dead: np.ndarray, rows: np.ndarray, start: np.ndarray) -> np.ndarray:
    """For each (row, start), the first month after ``start`` whose factor is dead, or the
    horizon if none is; only the (rare) paths with a dead month are searched."""
    months = dead.shape[1]
    end = np.full(len(rows), months)
    paths = np.flatnonzero(dead.any(axis=1))
    if len(paths) == 0:
        return end
    # the first dead month at or after each month, for the paths that have one
    first = np.where(dead[paths], np.arange(months), months)
    first = np.minimum.accumulate(first[:, ::-1], axis=1)[:, ::-1]
    first = np.column_stack([first, np.full(len(paths), months)])
    slot = np.full(dead.shape[0], -1)
    slot[paths] = np.arange(len(paths))
    hit = slot[rows] >= 0
    end[hit] = first[slot[rows[hit]], start[hit] + 1]
    return end


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
