"""One month of a chunk of paths in the compiled kernel, a lane per path: the month's means
before the draws, and the books (customers, MRR, spend, cash) after them.

Every step is a loop over the lanes that reads a few arrays and writes one or two: LLVM
vectorises such a loop (its checks that the arrays do not overlap stay under its
threshold), not one that touches a dozen arrays at once. Each expression is the NumPy
kernel's, operation for operation (:mod:`.step`), so the numbers do not depend on how the
loops are split.
"""

from __future__ import annotations

from .binomial_samplers import log_q
from .flows import MAX_COUNT
from .kernel_economics import (
    ARPA,
    CHURN,
    EXPANSION,
    MARGIN,
    MARKETING,
    MARKETING_GROWTH,
    OPEX,
    OPEX_GROWTH,
    RATES,
    SALES,
    SALES_GROWTH,
    VISITOR_GROWTH,
    VISITORS,
)
from .samplers import inline


@inline
def _compound(level, rate, m):
    for j in range(m):
        level[j] *= 1.0 + rate[j]


@inline
def means(vals, growth, season, season_churn, t, stages, integer, draw_upper, active, reach,
          arrived, stop_means, stops, churn, churn_before, log_qs, at_risk, m):
    """The month's Poisson means: ``stop_means[k]`` of the units stopping short of stage k
    (when ``draw_upper``), ``reach`` of those reaching the last stage (and, for expected
    flows, ``arrived`` visitors and ``stops[k]`` reaching stage k); the churn rates and the
    customers at risk.
    Returns (True, the count) when a count is too large to draw (NaN too), else (False, 0).
    ``active`` holds the customers at the start of the month."""
    if t > 0:  # growth compounds month by month
        _compound(growth[0], vals[VISITOR_GROWTH], m)
        _compound(growth[1], vals[MARKETING_GROWTH], m)
        _compound(growth[2], vals[SALES_GROWTH], m)
        _compound(growth[3], vals[OPEX_GROWTH], m)
    visitors, grown = vals[VISITORS], growth[0]
    for j in range(m):
        reach[j] = visitors[j] * grown[j] * season
    if integer:
        fits = True
        for j in range(m):
            fits &= (reach[j] <= MAX_COUNT) & (active[j] <= MAX_COUNT)
        if not fits:  # the first lane that does not (as the NumPy kernel reports it)
            for j in range(m):
                if not reach[j] <= MAX_COUNT:
                    return True, reach[j]
                if not active[j] <= MAX_COUNT:
                    return True, active[j]
    else:
        for j in range(m):
            arrived[j] = reach[j]
    for k in range(stages):
        rates = vals[RATES + k]
        if draw_upper:
            short = stop_means[k]
            for j in range(m):
                short[j] = reach[j] * (1.0 - min(rates[j], 1.0))
        for j in range(m):
            reach[j] = reach[j] * min(rates[j], 1.0)
        if not integer:  # expected flows: the count reaching stage k
            reached = stops[k]
            for j in range(m):
                reached[j] = reach[j]
    rates = vals[CHURN]
    if season_churn:
        for j in range(m):
            churn[j] = min(rates[j] * season, 1.0)
    else:
        for j in range(m):
            churn[j] = rates[j]
    if integer:
        same = True
        for j in range(m):
            same &= churn[j] == churn_before[j]
        if not same:  # log(1 - churn) for the binomial sampler, when churn changed
            for j in range(m):
                if churn[j] != churn_before[j]:
                    churn_before[j] = churn[j]
                    log_qs[j] = log_q(churn[j])
        for j in range(m):
            at_risk[j] = float(int(active[j]))
    return False, 0.0


@inline
def books(vals, growth, won, lost, retained, opex, before, mrr_before, cash_before, active,
          mrr, spend, cash, factor, unit_margin, churn_rate, m):
    """Customers, MRR, S&M spend and cash at the end of the month from the month's ``won``
    and ``lost`` customers and the values ``before`` it; and what the derived metrics read
    (the retention ``factor``, ARPA times gross margin, churn). ``retained`` and ``opex``
    are scratch."""
    for j in range(m):
        b = before[j]
        retained[j] = 1.0 - lost[j] / b if b > 0 else 0.0
    for j in range(m):
        active[j] = before[j] - lost[j] + won[j]
    expansion = vals[EXPANSION]
    for j in range(m):
        factor[j] = retained[j] * (1.0 + expansion[j])
    for j in range(m):
        mrr[j] = mrr_before[j] * retained[j] * (1.0 + expansion[j])
    arpa = vals[ARPA]
    for j in range(m):
        mrr[j] = mrr[j] + won[j] * arpa[j]
    marketing, sales = vals[MARKETING], vals[SALES]
    marketing_growth, sales_growth = growth[1], growth[2]
    for j in range(m):
        spend[j] = marketing[j] * marketing_growth[j] + sales[j] * sales_growth[j]
    other, other_growth = vals[OPEX], growth[3]
    for j in range(m):
        opex[j] = other[j] * other_growth[j]
    margin = vals[MARGIN]
    for j in range(m):
        cash[j] = cash_before[j] + mrr[j] * margin[j] - spend[j] - opex[j]
    for j in range(m):
        unit_margin[j] = arpa[j] * margin[j]
    rates = vals[CHURN]
    for j in range(m):
        churn_rate[j] = rates[j]
