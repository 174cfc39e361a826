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
#: The kernel's month-major flows, ``rows[fw[FLOW], month, path]`` (``fw`` maps them to
#: the rows of the array the kernel writes)
NEW, LOST, ACTIVE, REVENUE, SPEND, BALANCE = range(6)
FLOWS = 6
#: What the metrics read of a chunk's inputs and retention, ``extra[ROW, month, lane]``: the
#: factor (1 - churned share) * (1 + expansion) of MRR kept, ARPA times gross margin, churn
FACTOR, UNIT_MARGIN, CHURN_RATE = range(3)
EXTRA = 3
#: the derived metrics, ``rows[kw[METRIC], kept month, path]`` (the upper funnel follows)
CAC, PAYBACK, LTV, LTV_TO_CAC, RUNWAY, BURN, NRR, COHORT = range(8)
METRICS = 8
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
def _retention(extra, m, months, level, cum, dead):
    """The running level F of each lane (its retention factors, a factor of 0 counted as 1),
    the running sum of F, and the first month at or after each one whose factor is 0."""
    for j in range(m):
        f = extra[FACTOR, 0, j]
        level[0, j] = 1.0 if f <= 0 else f
    for t in range(1, months):
        for j in range(m):
            f = extra[FACTOR, t, j]
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
            dead[t, j] = t if extra[FACTOR, t, j] <= 0 else dead[t + 1, j]


@inline
def _cohort(spend, new, extra, m, months, t, level, cum, dead, later, log_later, per_unit,
            needed, base, out):
    """Months until the cohort won in month ``t`` pays back its month's S&M spend (``spend``,
    for its ``new`` customers), every lane, into ``out``; ``per_unit``, ``needed`` and
    ``base`` are the lanes' scratch."""
    for j in range(m):
        lv = level[t, j]
        per_unit[j] = new[j] * extra[UNIT_MARGIN, t, j] / (lv if lv > 0 else 1.0)
        before = cum[t - 1, j] if t > 0 else 0.0
        needed[j] = before + spend[j] / per_unit[j]
    # the first month from t on whose running sum reaches ``needed``: t plus the number of
    # months from t on whose sum is below it (the sums only grow), counted month by month
    # for every lane at once, with no data-dependent memory access (a binary search per
    # lane made the derived metrics 2x slower)
    for j in range(m):
        base[j] = t
    s = t
    while s + 4 <= months:  # four months a pass: fewer trips through ``base``
        a, b, c, d = cum[s], cum[s + 1], cum[s + 2], cum[s + 3]
        for j in range(m):
            x = needed[j]
            base[j] += ((1 if a[j] < x else 0) + (1 if b[j] < x else 0)
                        + (1 if c[j] < x else 0) + (1 if d[j] < x else 0))
        s += 4
    for last in range(s, months):
        row = cum[last]
        for j in range(m):
            base[j] += 1 if row[j] < needed[j] else 0
    for j in range(m):  # NaN: paid back after the horizon, if ever (below)
        lo, end = base[j], dead[t + 1, j]
        later_on = math.nan if end == months else INF
        value = float(lo - t + 1) if lo < end else later_on
        value = INF if not per_unit[j] > 0 else value
        out[j] = (0.0 if new[j] > 0 else INF) if spend[j] <= 0 else value
    count = 0  # the lanes marked NaN, listed without a branch (it would be mispredicted)
    for j in range(m):
        base[count] = j
        count += 1 if math.isnan(out[j]) else 0
    for n in range(count):
        j = base[n]
        out[j] = months - t + months_after_horizon(
            needed[j] - cum[months - 1, j], level[months - 1, j], later[j], log_later[j])


@jit
def chunk_economics(rows, fw, kw, f, extra, m, months, window, slot, opening, later, level,
                    cum, dead, lanes):
    """CAC, payback, LTV, LTV:CAC, runway, burn multiple, NRR and cohort payback of the
    chunk of ``m`` paths from column ``f`` on, at the months whose ``slot`` is >= 0, into
    ``rows[kw[metric], slot, path]``, from the month-major ``rows[fw[flow], month, path]``
    and the chunk's ``extra`` rows. ``opening`` holds the chunk's customers, MRR and cash
    at the start, ``later`` their retention factor after the horizon; ``level``, ``cum``,
    ``dead`` (months + 1 rows, integers) and ``lanes`` are scratch.

    The chunk's part of a row is taken as a slice, ``rows[k, t, f:f + m]``: indexed as
    ``rows[k, t, f + j]`` instead, numba guards the index against negative values and the
    loops no longer vectorise (4x slower)."""
    _retention(extra, m, months, level, cum, dead)
    following, spent, won, product = lanes[0], lanes[1], lanes[2], lanes[3]
    needed, log_later, per_unit = lanes[4], lanes[5], lanes[6]
    base = np.empty(m, dtype=np.int64)
    for j in range(m):
        log_later[j] = math.log(later[j]) if later[j] > 0 else 0.0
    for j in range(m):
        following[j] = INF  # the first month from t on with cash below 0
    for t in range(months - 1, -1, -1):
        cash = rows[fw[BALANCE], t, f:f + m]
        for j in range(m):
            following[j] = t if cash[j] < 0 else following[j]
        c = slot[t]
        if c < 0:
            continue
        spend, new, mrr = rows[fw[SPEND], t, f:f + m], rows[fw[NEW], t, f:f + m], \
            rows[fw[REVENUE], t, f:f + m]
        cac, payback, ltv = rows[kw[CAC], c, f:f + m], rows[kw[PAYBACK], c, f:f + m], \
            rows[kw[LTV], c, f:f + m]
        runway = rows[kw[RUNWAY], c, f:f + m]
        for j in range(m):
            runway[j] = following[j] - t
        for j in range(m):
            spent[j] = spend[j]
        for j in range(m):
            won[j] = new[j]
        for lag in range(1, min(window, t + 1)):
            earlier = rows[fw[SPEND], t - lag, f:f + m]
            for j in range(m):
                spent[j] += earlier[j]
            earlier = rows[fw[NEW], t - lag, f:f + m]
            for j in range(m):
                won[j] += earlier[j]
        for j in range(m):
            cost = spent[j] / won[j]
            cac[j] = cost if won[j] > 0 else INF
        for j in range(m):
            margin = extra[UNIT_MARGIN, t, j]
            payback[j] = cac[j] / margin if margin > 0 else INF
        for j in range(m):
            margin, churn = extra[UNIT_MARGIN, t, j], extra[CHURN_RATE, t, j]
            ltv[j] = margin / churn if churn > 0 else INF
        ratio = rows[kw[LTV_TO_CAC], c, f:f + m]
        for j in range(m):
            ratio[j] = 0.0 if (abs(cac[j]) == INF or ltv[j] == 0) else ltv[j] / cac[j]
        first = max(t - window + 1, 0)
        prior = max(first - 1, 0)
        cash_before = opening[2, :m] if first == 0 else rows[fw[BALANCE], prior, f:f + m]
        mrr_before = opening[1, :m] if first == 0 else rows[fw[REVENUE], prior, f:f + m]
        burn = rows[kw[BURN], c, f:f + m]
        for j in range(m):
            burned = cash_before[j] - cash[j]
            added = 12.0 * mrr[j] - 12.0 * mrr_before[j]
            multiple = burned / added if added > 0 else INF
            burn[j] = 0.0 if burned <= 0 else multiple
        # NRR: the product of the window's factors, factor[t] first, times factor[t - 1],
        # ...; undefined (0/0) where the window starts with no customers, as metrics.nrr
        for j in range(m):
            product[j] = extra[FACTOR, t, j]
        for lag in range(1, min(NRR_WINDOW, t + 1)):
            for j in range(m):
                product[j] *= extra[FACTOR, t - lag, j]
        start = max(t - NRR_WINDOW + 1, 0)
        book = opening[0, :m] if start == 0 else rows[fw[ACTIVE], start - 1, f:f + m]
        nrr = rows[kw[NRR], c, f:f + m]
        for j in range(m):
            value = product[j] if product[j] > 0 else 0.0
            nrr[j] = math.nan if book[j] == 0 else value
        _cohort(spend, new, extra, m, months, t, level, cum, dead, later, log_later, per_unit,
                needed, base, rows[kw[COHORT], c, f:f + m])
