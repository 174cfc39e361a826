"""The compiled kernel: SPEC section 4's month loop and its derived metrics, fused per path.

One compiled loop walks each path of a block through all its months with the state
(customers, MRR, cash, growth factors) in registers, draws the flows with the exact samplers
of :mod:`.samplers` from the path's own xoshiro256** stream keyed by (seed, block, path),
writes the stored flows straight into the block's arrays and then derives the unit economics
of the path from its own rows (:mod:`.kernel_economics`) while they are still in cache. No
(paths, months) temporary is made besides the stored outputs.

It covers the core model (one ``[acquisition]`` channel, any number of stages, binomial or
expected flows, inputs drawn per path or per month, seasonality);
:func:`simulator.engine.kernels.unsupported` names the first feature of a config it does not
cover, and such a run uses the NumPy kernel. Its
numbers are not the NumPy kernel's for the same seed (different generator and samplers),
but they have the same law; they do not depend on the number of workers, and a path's first
months do not depend on the horizon (a path draws its months in order from its own stream).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .flows import MAX_COUNT, too_many
from .kernel_economics import (
    ARPA,
    CASH,
    CHURN,
    CUSTOMERS,
    EXPANSION,
    INPUTS,
    MARGIN,
    MARKETING,
    MARKETING_GROWTH,
    MRR,
    OPEX,
    OPEX_GROWTH,
    RATES,
    SALES,
    SALES_GROWTH,
    VISITOR_GROWTH,
    VISITORS,
    month_inputs,
    path_economics,
)
from .params import Parameters
from .samplers import (
    binomial_first,
    binomial_given,
    jit,
    poisson_first,
    poisson_given,
    seed_month,
    seed_path,
    seed_state,
)
from .step import ModelShape

ECONOMICS = ("cac", "cac_payback_months", "ltv", "ltv_to_cac", "runway_months",
             "burn_multiple", "nrr", "cohort_payback_months")


def _pack(shape: ModelShape, p: Parameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parameter matrix (paths, inputs), the month-varying inputs (k, paths, months) and
    the column of each of those in the former."""
    names = (*INPUTS, *(f"funnel.{s}.rate" for s in shape.stages))
    per_path = np.zeros((p.n, len(names)))
    monthly: list[np.ndarray] = []
    varying: list[int] = []
    for k, name in enumerate(names):
        value = p.values.get(name, 0.0)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            varying.append(k)
            monthly.append(value)
        else:
            per_path[:, k] = value
    stacked = np.stack(monthly) if monthly else np.zeros((1, 1, 1))
    return (per_path, np.ascontiguousarray(stacked, dtype=np.float64),
            np.array(varying, dtype=np.int64))


def simulate_block(shape: ModelShape, p: Parameters, expected: bool, window: int, seed: int,
                   block: int, out: dict[str, np.ndarray] | None = None,
                   only_at: tuple[int, ...] | None = None) -> dict[str, np.ndarray]:
    """The flows and derived metrics of one block (the arrays :func:`run_block` returns).

    ``out`` may hold arrays (or views) to write into. With ``only_at`` (1-based months) the
    upper funnel and the derived metrics are kept at those months only, as the NumPy kernel
    keeps them, and the upper funnel is drawn only there: its draws come from streams
    addressed by (path, month), so the kept months have the numbers of a run that keeps
    everything.
    """
    n, months, stages = p.n, shape.months, shape.stages
    slot = np.full(months, -1, dtype=np.int64)
    kept = only_at if only_at else tuple(range(1, months + 1))
    for i, m in enumerate(kept):
        slot[m - 1] = i
    width = len(kept)
    upper_names = ("visitors", *stages[:-1])
    full = (stages[-1], "churned", "customers", "mrr", "sm_spend", "cash")
    if out is None:
        out = {}
    for name in full:
        out.setdefault(name, np.empty((n, months)))
    for name in ECONOMICS:
        out.setdefault(name, np.empty((n, width)))
    upper = _scratch((len(upper_names), n, width))
    season = np.ones(months)
    seasonality = shape.depth.seasonality
    if seasonality is not None:
        season = np.array([seasonality.factor(t) for t in range(1, months + 1)])
    per_path, monthly, varying = _pack(shape, p)
    state = seed_state(seed, block)
    too_big, top = _block(per_path, monthly, varying, len(stages), months, window, not expected,
           shape.mrr_given, shape.arpa_mean, season,
           seasonality is not None and seasonality.churn, state, slot, upper,
           *(_c(out[name]) for name in full), *(_c(out[name]) for name in ECONOMICS))
    if too_big:
        raise too_many(top)
    for k, name in enumerate(upper_names):
        if name in out:
            out[name][...] = upper[k]
        else:
            out[name] = upper[k].copy()
    return out


_LOCAL = threading.local()


def _scratch(shape: tuple[int, int, int]) -> np.ndarray:
    """A scratch array of ``shape`` for this thread, kept from block to block: a fresh one
    per block would cost its page faults every time (about as much as the draws it holds)."""
    buffer: np.ndarray | None = getattr(_LOCAL, "upper", None)
    if buffer is None or buffer.shape != shape:
        buffer = np.empty(shape)
        _LOCAL.upper = buffer
    return buffer


def _c(array: np.ndarray) -> np.ndarray:
    """``array`` itself when its rows are contiguous (the kernel writes into it in place)."""
    if not array.flags.c_contiguous:
        raise ValueError("the compiled kernel writes into C-contiguous arrays only")
    return array


@jit
def _block(per_path, monthly, varying, stages, months, window, integer,
           mrr_given, arpa_mean, season, season_churn, state, slot, upper, last, churned_out,
           customers_out, mrr_out, spend_out, cash_out, cac, payback, ltv, ratio, runway,
           burn, nrr, cohort):
    n = per_path.shape[0]
    key, upper_key = state[0], state[1]
    upper_state = np.empty(4, dtype=np.uint64)  # the month's stream of the upper funnel
    stops = np.zeros(stages)
    stop_means = np.zeros(stages)
    stop_firsts = np.zeros(stages)
    scratch = np.empty((4, months))
    v = np.empty(per_path.shape[1])  # the path's inputs in the current month
    for i in range(n):
        seed_path(state, key, i)
        v[:] = per_path[i]
        customers = v[CUSTOMERS]
        if integer:
            customers = float(np.rint(customers))
        start_customers = customers
        mrr = v[MRR] if mrr_given else customers * arpa_mean
        start_mrr = mrr
        cash = v[CASH]
        start_cash = cash
        f_visitors = f_marketing = f_sales = f_opex = 1.0
        churn_before = -1.0  # the churn rate whose log(1 - rate) is at hand
        log_q = 0.0
        for t in range(months):
            month_inputs(v, monthly, varying, i, t)
            if t > 0:  # growth compounds month by month
                f_visitors *= 1.0 + v[VISITOR_GROWTH]
                f_marketing *= 1.0 + v[MARKETING_GROWTH]
                f_sales *= 1.0 + v[SALES_GROWTH]
                f_opex *= 1.0 + v[OPEX_GROWTH]
            reach = v[VISITORS] * f_visitors * season[t]
            if integer and not (reach <= MAX_COUNT and customers <= MAX_COUNT):
                return True, reach if not reach <= MAX_COUNT else customers  # NaN too
            # Poisson splitting: the units stopping short of each stage, then those
            # reaching the last, are independent Poisson counts; the former only matter in
            # the months whose upper funnel is kept, and come from the month's own stream
            column = slot[t]
            if integer and column >= 0:
                seed_month(upper_state, upper_key, i, t)
            mean = reach
            draw_upper = integer and column >= 0
            for k in range(stages):
                rate = min(v[RATES + k], 1.0)
                if draw_upper:
                    stop_means[k] = reach * (1.0 - rate)
                    stop_firsts[k] = poisson_first(stop_means[k])
                reach = reach * rate
                if not integer:
                    stops[k] = reach  # expected flows: the count reaching stage k
            churn = v[CHURN]
            if season_churn:
                churn = min(churn * season[t], 1.0)
            before = customers
            if integer:
                if churn != churn_before:
                    churn_before = churn
                    log_q = math.log1p(-min(churn, 1.0 - churn)) if 0.0 < churn < 1.0 else 0.0
                # every exponential of the month first, then the draws (see poisson_first)
                at_risk = int(customers)
                new_first = poisson_first(reach)
                churn_first = binomial_first(at_risk, churn, log_q)
                if draw_upper:
                    for k in range(stages):
                        stops[k] = poisson_given(upper_state, stop_means[k], stop_firsts[k])
                new = float(poisson_given(state, reach, new_first))
                churned = float(binomial_given(state, at_risk, churn, churn_first))
            else:
                new = reach
                churned = customers * churn
            if column >= 0:
                if integer:
                    count = new
                    for k in range(stages - 1, 0, -1):
                        count += stops[k]
                        upper[k, i, column] = count
                    upper[0, i, column] = count + stops[0]
                else:
                    upper[0, i, column] = mean
                    for k in range(stages - 1):
                        upper[k + 1, i, column] = stops[k]
            customers = customers - churned + new
            retained = 1.0 - churned / before if before > 0 else 0.0
            mrr = mrr * retained * (1.0 + v[EXPANSION]) + new * v[ARPA]
            spend = v[MARKETING] * f_marketing + v[SALES] * f_sales
            cash = cash + mrr * v[MARGIN] - spend - v[OPEX] * f_opex
            last[i, t] = new
            churned_out[i, t] = churned
            customers_out[i, t] = customers
            mrr_out[i, t] = mrr
            spend_out[i, t] = spend
            cash_out[i, t] = cash
        path_economics(v, monthly, varying, i, months, window, slot,
                       start_customers, start_mrr, start_cash, last[i], churned_out[i],
                       customers_out[i], mrr_out[i], spend_out[i], cash_out[i], scratch,
                       cac[i], payback[i], ltv[i], ratio[i], runway[i], burn[i], nrr[i],
                       cohort[i])
    return False, 0.0
