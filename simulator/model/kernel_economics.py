"""The derived metrics of one path, compiled: what :func:`.economics.block_economics` computes
for the core model (no channels or segments), from the path's own rows of flows.

The formulas, edge cases and order of additions are those of :mod:`.metrics`; NRR is the
product of the retention factors over its window where :func:`.metrics.nrr` takes the
exponential of the sum of their logarithms (the same number to about 1e-15 relative, and no
logarithm per path-month).
"""

from __future__ import annotations

import math

import numpy as np

from .samplers import inline

#: The inputs the kernel reads, in the column order of its parameter matrix; the funnel
#: rates follow, one per stage.
INPUTS = ("start.customers", "start.mrr", "start.cash", "acquisition.visitors",
          "acquisition.visitor_growth", "revenue.arpa", "revenue.expansion",
          "revenue.gross_margin", "retention.churn", "costs.marketing",
          "costs.marketing_growth", "costs.sales", "costs.sales_growth", "costs.other_opex",
          "costs.other_opex_growth")
CUSTOMERS, MRR, CASH, VISITORS, VISITOR_GROWTH, ARPA, EXPANSION, MARGIN, CHURN, \
    MARKETING, MARKETING_GROWTH, SALES, SALES_GROWTH, OPEX, OPEX_GROWTH = range(15)
RATES = len(INPUTS)
NRR_WINDOW = 12
#: the rows of a path's scratch array (paths' retention factors and what follows from them)
FACTOR, LEVEL, CUM, DEAD, KEPT = range(5)
INF = math.inf


@inline
def month_inputs(v: np.ndarray, monthly: np.ndarray, varying: np.ndarray, i: int,
                 t: int) -> None:
    """Set the inputs of path ``i`` that vary by month (columns ``varying`` of ``v``) to
    their values in month ``t`` (0-based); the others stay as drawn."""
    for j in range(varying.size):
        v[varying[j]] = monthly[j, i, t]


@inline
def months_after_horizon(remaining: float, last: float, factor: float) -> float:
    """Smallest K >= 1 with sum_{k=1..K} last * factor**k >= remaining (inf if never)."""
    if not (last > 0 and factor > 0 and (factor >= 1.0 or last * factor / (1.0 - factor)
                                         >= remaining)):
        return INF
    if abs(factor - 1.0) <= 1e-8 + 1e-5:  # numpy.isclose(factor, 1.0)
        k = remaining / last
    else:
        k = math.log1p(remaining * (factor - 1.0) / (last * factor)) / math.log(factor)
    return max(math.ceil(k - 1e-9), 1.0)


@inline
def _retention(v, monthly, varying, i, months, start_customers, churned,
               customers, scratch):
    """Each month's retention factor, the running level F, its running sum and the first
    month at or after each one whose factor is 0, into the rows of ``scratch`` (row ``i``
    of ``churned`` and ``customers``)."""
    before = start_customers
    for t in range(months):
        month_inputs(v, monthly, varying, i, t)
        share = churned[i, t] / before if before > 0 else 1.0
        f = (1.0 - share) * (1.0 + v[EXPANSION])
        scratch[FACTOR, t] = f
        g = 1.0 if f <= 0 else f
        scratch[LEVEL, t] = g if t == 0 else scratch[LEVEL, t - 1] * g
        scratch[CUM, t] = scratch[LEVEL, t] + (scratch[CUM, t - 1] if t > 0 else 0.0)
        before = customers[i, t]
    following = float(months)
    for t in range(months - 1, -1, -1):
        if scratch[FACTOR, t] <= 0:
            following = float(t)
        scratch[DEAD, t] = following


@inline
def _cohort(months, i, j, margin, new, spend, scratch, later):
    """Months until the cohort won in month ``j`` by path ``i`` pays back its month's S&M
    spend (``margin``: ARPA times gross margin in month ``j``)."""
    if spend[i, j] <= 0:
        return 0.0 if new[i, j] > 0 else INF
    level = scratch[LEVEL, j]
    per_unit = new[i, j] * margin / (level if level > 0 else 1.0)
    if not per_unit > 0:
        return INF
    needed = (scratch[CUM, j - 1] if j > 0 else 0.0) + spend[i, j] / per_unit
    end = int(scratch[DEAD, j + 1]) if j + 1 < months else months
    lo, length = j, months - j  # the first month from j on whose sum reaches ``needed``
    while length > 0:  # a binary search written for conditional moves
        half = length >> 1
        short = scratch[CUM, lo + half] < needed
        lo = lo + half + 1 if short else lo
        length = length - half - 1 if short else half
    if lo < end:
        return float(lo - j + 1)
    if end == months:
        return months - j + months_after_horizon(needed - scratch[CUM, months - 1],
                                                 scratch[LEVEL, months - 1], later)
    return INF


@inline
def path_economics(v, monthly, varying, i, months, window, slot,
                   start_customers, start_mrr, start_cash, new, churned, customers, mrr,
                   spend, cash, scratch, cac, payback, ltv, ratio, runway, burn, nrr,
                   cohort):
    """CAC, payback, LTV, LTV:CAC, runway, burn multiple, NRR and cohort payback of path
    ``i`` from its rows of flows, at the months whose ``slot`` is >= 0 (into that column).
    Every array is the block's (paths, months), indexed by ``i``."""
    _retention(v, monthly, varying, i, months, start_customers, churned, customers, scratch)
    # NRR's window products, every month at once (the same products in the same order as
    # one month at a time: factor[t], times factor[t - 1], ...; a loop that vectorises)
    for t in range(months):
        scratch[KEPT, t] = scratch[FACTOR, t]
    for lag in range(1, min(NRR_WINDOW, months)):
        for t in range(lag, months):
            scratch[KEPT, t] *= scratch[FACTOR, t - lag]
    lags = min(window, months)
    month_inputs(v, monthly, varying, i, months - 1)
    later = (1.0 - v[CHURN]) * (1.0 + v[EXPANSION])
    following = INF  # the first month from t on with cash below 0
    for t in range(months - 1, -1, -1):
        if cash[i, t] < 0:
            following = float(t)
        column = slot[t]
        if column < 0:
            continue
        month_inputs(v, monthly, varying, i, t)
        runway[i, column] = following - t
        spent, won = spend[i, t], new[i, t]
        for lag in range(1, min(lags, t + 1)):
            spent += spend[i, t - lag]
            won += new[i, t - lag]
        cost = spent / won if won > 0 else INF
        margin = v[ARPA] * v[MARGIN]
        churn = v[CHURN]
        value = margin / churn if churn > 0 else INF
        cac[i, column] = cost
        payback[i, column] = cost / margin if margin > 0 else INF
        ltv[i, column] = value
        ratio[i, column] = 0.0 if (math.isinf(cost) or value == 0) else value / cost
        first = max(t - window + 1, 0)
        prior = max(first - 1, 0)
        burned = (cash[i, prior] if first > 0 else start_cash) - cash[i, t]
        added = 12.0 * mrr[i, t] - 12.0 * (mrr[i, prior] if first > 0 else start_mrr)
        burn[i, column] = 0.0 if burned <= 0 else (burned / added if added > 0 else INF)
        # undefined (0/0) where the window starts with no customers, as metrics.nrr
        opening = max(t - NRR_WINDOW + 1, 0)
        book = start_customers if opening == 0 else customers[i, opening - 1]
        window_kept = scratch[KEPT, t]
        nrr[i, column] = math.nan if book == 0 else (window_kept if window_kept > 0 else 0.0)
        cohort[i, column] = _cohort(months, i, t, margin, new, spend, scratch, later)
