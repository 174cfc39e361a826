"""The derived metrics of a chunk of paths, compiled: what :func:`.economics.block_economics`
computes for the core model (no channels or segments).

The kernel keeps a chunk's rows lane-major, ``(months, lanes)``: month ``t`` of every path
of the chunk side by side. Each metric is then a loop over the lanes of one month, which
LLVM vectorises (loops touching a few arrays each, selects instead of branches), as the
samplers are.

The formulas, edge cases and order of additions are those of :mod:`.metrics`; NRR is the
product of the retention factors over its window where :func:`.metrics.nrr` takes the
exponential of the sum of their logarithms (the same number to about 1e-15 relative, and no
logarithm per path-month).
"""

from __future__ import annotations

import math

import numpy as np

from .samplers import inline, jit

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
#: The kernel's lane-major rows of a chunk, ``rows[ROW, month, lane]``: the flows it stores,
#: and what the metrics read of each month's inputs (ARPA times gross margin, churn) and
#: retention (the factor (1 - churned share) * (1 + expansion) of MRR kept).
NEW, LOST, ACTIVE, REVENUE, SPEND, BALANCE, FACTOR, UNIT_MARGIN, CHURN_RATE = range(9)
ROWS = 9
#: the derived metrics, in the order of the kernel's staged outputs
CAC, PAYBACK, LTV, LTV_TO_CAC, RUNWAY, BURN, NRR, COHORT = range(8)
INF = math.inf


@inline
def months_after_horizon(remaining: float, last: float, factor: float,
                         log_factor: float) -> float:
    """Smallest K >= 1 with sum_{k=1..K} last * factor**k >= remaining (inf if never);
    ``log_factor`` is ``log(factor)``."""
    if not (last > 0 and factor > 0 and (factor >= 1.0 or last * factor / (1.0 - factor)
                                         >= remaining)):
        return INF
    if abs(factor - 1.0) <= 1e-8 + 1e-5:  # numpy.isclose(factor, 1.0)
        k = remaining / last
    else:
        k = math.log1p(remaining * (factor - 1.0) / (last * factor)) / log_factor
    return max(math.ceil(k - 1e-9), 1.0)


@inline
def _retention(rows, m, months, level, cum, dead):
    """The running level F of each lane (its retention factors, a factor of 0 counted as 1),
    the running sum of F, and the first month at or after each one whose factor is 0."""
    for j in range(m):
        f = rows[FACTOR, 0, j]
        level[0, j] = 1.0 if f <= 0 else f
    for t in range(1, months):
        for j in range(m):
            f = rows[FACTOR, t, j]
            level[t, j] = level[t - 1, j] * (1.0 if f <= 0 else f)
    for j in range(m):
        cum[0, j] = level[0, j]
    for t in range(1, months):
        for j in range(m):
            cum[t, j] = level[t, j] + cum[t - 1, j]
    for j in range(m):
        dead[months, j] = months
    for t in range(months - 1, -1, -1):
        for j in range(m):
            dead[t, j] = t if rows[FACTOR, t, j] <= 0 else dead[t + 1, j]


@inline
def _cohort(rows, m, months, t, level, cum, dead, later, log_later, per_unit, needed, base,
            out):
    """Months until the cohort won in month ``t`` pays back its month's S&M spend, every
    lane; ``per_unit``, ``needed`` and ``base`` are the lanes' scratch."""
    for j in range(m):
        spend, new = rows[SPEND, t, j], rows[NEW, t, j]
        lv = level[t, j]
        per_unit[j] = new * rows[UNIT_MARGIN, t, j] / (lv if lv > 0 else 1.0)
        before = cum[t - 1, j] if t > 0 else 0.0
        needed[j] = before + spend / per_unit[j]
    # the first month from t on whose running sum reaches ``needed``: t plus the number of
    # months from t on whose sum is below it (the sums only grow), counted month by month
    # for every lane at once: about months / 16 cycles a path-month, and no data-dependent
    # memory access (a binary search per lane costs several times more)
    for j in range(m):
        base[j] = t
    for s in range(t, months):
        for j in range(m):
            base[j] += 1 if cum[s, j] < needed[j] else 0
    for j in range(m):  # NaN: paid back after the horizon, if ever (below)
        spend, new = rows[SPEND, t, j], rows[NEW, t, j]
        lo, end = base[j], dead[t + 1, j]
        later_on = math.nan if end == months else INF
        value = float(lo - t + 1) if lo < end else later_on
        value = INF if not per_unit[j] > 0 else value
        out[j] = (0.0 if new > 0 else INF) if spend <= 0 else value
    for j in range(m):
        if math.isnan(out[j]):
            out[j] = months - t + months_after_horizon(
                needed[j] - cum[months - 1, j], level[months - 1, j], later[j], log_later[j])


@jit
def chunk_economics(rows, m, months, window, slot, opening, later, level, cum, dead, lanes,
                    staged):
    """CAC, payback, LTV, LTV:CAC, runway, burn multiple, NRR and cohort payback of the
    chunk's ``m`` lanes from its lane-major ``rows``, at the months whose ``slot`` is >= 0,
    into ``staged[slot, metric, lane]``. ``opening`` holds the lanes' customers, MRR and
    cash at the start, ``later`` their retention factor after the horizon; ``level``,
    ``cum``, ``dead`` (months + 1 rows, integers) and ``lanes`` are scratch."""
    _retention(rows, m, months, level, cum, dead)
    following, spent, won, kept = lanes[0], lanes[1], lanes[2], lanes[3]
    needed, log_later, per_unit = lanes[4], lanes[5], lanes[6]
    base = np.empty(m, dtype=np.int64)
    for j in range(m):
        log_later[j] = math.log(later[j]) if later[j] > 0 else 0.0
    for j in range(m):
        following[j] = INF  # the first month from t on with cash below 0
    lags = min(window, months)
    for t in range(months - 1, -1, -1):
        for j in range(m):
            following[j] = t if rows[BALANCE, t, j] < 0 else following[j]
        column = slot[t]
        if column < 0:
            continue
        out = staged[column]
        for j in range(m):
            out[RUNWAY, j] = following[j] - t
        for j in range(m):
            spent[j] = rows[SPEND, t, j]
        for j in range(m):
            won[j] = rows[NEW, t, j]
        for lag in range(1, min(lags, t + 1)):
            for j in range(m):
                spent[j] += rows[SPEND, t - lag, j]
            for j in range(m):
                won[j] += rows[NEW, t - lag, j]
        for j in range(m):
            cost = spent[j] / won[j]
            out[CAC, j] = cost if won[j] > 0 else INF
        for j in range(m):
            cost, margin = out[CAC, j], rows[UNIT_MARGIN, t, j]
            out[PAYBACK, j] = cost / margin if margin > 0 else INF
        for j in range(m):
            margin, churn = rows[UNIT_MARGIN, t, j], rows[CHURN_RATE, t, j]
            out[LTV, j] = margin / churn if churn > 0 else INF
        for j in range(m):
            cost, value = out[CAC, j], out[LTV, j]
            out[LTV_TO_CAC, j] = 0.0 if (abs(cost) == INF or value == 0) else value / cost
        first = max(t - window + 1, 0)
        prior = max(first - 1, 0)
        cash_before = opening[2, :m] if first == 0 else rows[BALANCE, prior, :m]
        mrr_before = opening[1, :m] if first == 0 else rows[REVENUE, prior, :m]
        for j in range(m):
            burned = cash_before[j] - rows[BALANCE, t, j]
            added = 12.0 * rows[REVENUE, t, j] - 12.0 * mrr_before[j]
            multiple = burned / added if added > 0 else INF
            out[BURN, j] = 0.0 if burned <= 0 else multiple
        # NRR: the product of the window's factors, factor[t] first, times factor[t - 1],
        # ...; undefined (0/0) where the window starts with no customers, as metrics.nrr
        for j in range(m):
            kept[j] = rows[FACTOR, t, j]
        for lag in range(1, min(NRR_WINDOW, t + 1)):
            for j in range(m):
                kept[j] *= rows[FACTOR, t - lag, j]
        start = max(t - NRR_WINDOW + 1, 0)
        book = opening[0, :m] if start == 0 else rows[ACTIVE, start - 1, :m]
        for j in range(m):
            product = kept[j] if kept[j] > 0 else 0.0
            out[NRR, j] = math.nan if book[j] == 0 else product
        _cohort(rows, m, months, t, level, cum, dead, later, log_later, per_unit, needed,
                base, out[COHORT])
