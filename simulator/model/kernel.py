"""The compiled kernel: SPEC section 4's month loop and its derived metrics, compiled.

A block's paths go through their months in chunks of :data:`CHUNK` paths: for each month,
one pass computes every path's means, the exact samplers of :mod:`.samplers` draw the
chunk's counts at once (vectorised across paths), and a pass updates customers, MRR and
cash and writes the stored flows; after the last month the unit economics of each path come
from its own rows (:mod:`.kernel_economics`) while they are still in cache. No (paths,
months) temporary is made besides the stored outputs.

It covers the core model (one ``[acquisition]`` channel, any number of stages, binomial or
expected flows, inputs drawn per path or per month, seasonality);
:func:`simulator.engine.kernels.unsupported` names the first feature of a config it does not
cover, and such a run uses the NumPy kernel. Its numbers are not the NumPy kernel's for the
same seed (other generator and samplers), but they have the same law. Every draw has its
own counter (path, month, stream), so the numbers do not depend on the number of workers,
a path's first months do not depend on the horizon, and a run that keeps only some months of
the upper funnel draws it only there, with the numbers of a run that keeps everything.
"""

from __future__ import annotations

import threading

import numpy as np

from .binomial_samplers import binomial_lanes, log_q
from .flows import MAX_COUNT, too_many
from .kernel_economics import (
    ACTIVE,
    ARPA,
    BALANCE,
    CASH,
    CHURN,
    CHURN_RATE,
    CUSTOMERS,
    EXPANSION,
    FACTOR,
    INPUTS,
    LOST,
    MARGIN,
    MARKETING,
    MARKETING_GROWTH,
    MRR,
    NEW,
    OPEX,
    OPEX_GROWTH,
    RATES,
    REVENUE,
    ROWS,
    SALES,
    SALES_GROWTH,
    SPEND,
    UNIT_MARGIN,
    VISITOR_GROWTH,
    VISITORS,
    chunk_economics,
)
from .params import Parameters
from .samplers import inline, jit, poisson_lanes, seed_state
from .step import ModelShape

#: paths walked through their months together: the lanes of the samplers
CHUNK = 128
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
    if n >= 2**24:  # the uniforms' counters hold the path in 24 bits
        raise ValueError(f"the compiled kernel takes blocks of fewer than 2^24 paths (got {n})")
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
    k0, k1 = state[0], state[1]
    lanes = min(CHUNK, n)
    customers, mrr, cash = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    opening = np.empty((3, lanes))  # customers, MRR and cash at the start
    growth = np.empty((4, lanes))  # visitors, marketing, sales, other opex: compounded
    visitors, new_mean, new = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    churn, churn_before, log_qs = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    at_risk, churned = np.empty(lanes), np.empty(lanes)
    stop_means, stops = np.zeros((stages, lanes)), np.zeros((stages, lanes))
    vals = np.empty((per_path.shape[1], lanes))  # the chunk's inputs in the current month
    rows = np.empty((ROWS, months, lanes))  # the chunk's flows, lane-major (kernel_economics)
    later = np.empty(lanes)  # the lanes' retention factor after the horizon
    level, cum = np.empty((months, lanes)), np.empty((months, lanes))
    dead = np.empty((months + 1, lanes), dtype=np.int64)
    scratch = np.empty((7, lanes))
    staged = np.empty((cac.shape[1], 8, lanes))  # the chunk's metrics at the kept months
    for first in range(0, n, lanes):
        m = min(lanes, n - first)
        for j in range(m):
            i = first + j
            start = per_path[i, CUSTOMERS]
            if integer:
                start = float(np.rint(start))
            customers[j] = opening[0, j] = start
            mrr[j] = opening[1, j] = per_path[i, MRR] if mrr_given else start * arpa_mean
            cash[j] = opening[2, j] = per_path[i, CASH]
            growth[:, j] = 1.0
            churn_before[j] = -1.0  # the churn rate whose log(1 - rate) is at hand
            log_qs[j] = 0.0
            vals[:, j] = per_path[i]
        for t in range(months):
            column = slot[t]
            draw_upper = integer and column >= 0
            for w in range(varying.size):  # the inputs drawn per month: this month's
                for j in range(m):
                    vals[varying[w], j] = monthly[w, first + j, t]
            # the month's means, lane by lane (Poisson splitting: the units stopping
            # short of each stage, then those reaching the last, are independent Poisson
            # counts; the former only matter in the months whose upper funnel is kept)
            for j in range(m):
                i = first + j
                if t > 0:  # growth compounds month by month
                    growth[0, j] *= 1.0 + vals[VISITOR_GROWTH, j]
                    growth[1, j] *= 1.0 + vals[MARKETING_GROWTH, j]
                    growth[2, j] *= 1.0 + vals[SALES_GROWTH, j]
                    growth[3, j] *= 1.0 + vals[OPEX_GROWTH, j]
                reach = vals[VISITORS, j] * growth[0, j] * season[t]
                if integer and not (reach <= MAX_COUNT and customers[j] <= MAX_COUNT):
                    return True, reach if not reach <= MAX_COUNT else customers[j]  # NaN too
                visitors[j] = reach
                for k in range(stages):
                    rate = min(vals[RATES + k, j], 1.0)
                    if draw_upper:
                        stop_means[k, j] = reach * (1.0 - rate)
                    reach = reach * rate
                    if not integer:
                        stops[k, j] = reach  # expected flows: the count reaching stage k
                new_mean[j] = reach
                rate = vals[CHURN, j]
                churn[j] = min(rate * season[t], 1.0) if season_churn else rate
                if integer and churn[j] != churn_before[j]:
                    churn_before[j] = churn[j]
                    log_qs[j] = log_q(churn[j])
                at_risk[j] = float(int(customers[j]))
            if integer:  # the draws, every lane at once
                if draw_upper:
                    for k in range(stages):
                        poisson_lanes(stop_means[k, :m], stops[k, :m], k0, k1, first, t, k)
                poisson_lanes(new_mean[:m], new[:m], k0, k1, first, t, stages)
                binomial_lanes(at_risk[:m], churn[:m], log_qs[:m], churned[:m], k0, k1,
                               first, t, stages + 1)
            for j in range(m):
                i = first + j
                won = new[j] if integer else new_mean[j]
                lost = churned[j] if integer else customers[j] * churn[j]
                before = customers[j]
                customers[j] = before - lost + won
                retained = 1.0 - lost / before if before > 0 else 0.0
                expansion = 1.0 + vals[EXPANSION, j]
                mrr[j] = mrr[j] * retained * expansion + won * vals[ARPA, j]
                spend = vals[MARKETING, j] * growth[1, j] + vals[SALES, j] * growth[2, j]
                cash[j] = cash[j] + mrr[j] * vals[MARGIN, j] \
                    - spend - vals[OPEX, j] * growth[3, j]
                rows[NEW, t, j] = won
                rows[LOST, t, j] = lost
                rows[ACTIVE, t, j] = customers[j]
                rows[REVENUE, t, j] = mrr[j]
                rows[SPEND, t, j] = spend
                rows[BALANCE, t, j] = cash[j]
                rows[FACTOR, t, j] = retained * expansion
                rows[UNIT_MARGIN, t, j] = vals[ARPA, j] * vals[MARGIN, j]
                rows[CHURN_RATE, t, j] = vals[CHURN, j]
                if t == months - 1:
                    later[j] = (1.0 - vals[CHURN, j]) * expansion
                if column >= 0:
                    if integer:
                        count = won
                        for k in range(stages - 1, 0, -1):
                            count += stops[k, j]
                            upper[k, i, column] = count
                        upper[0, i, column] = count + stops[0, j]
                    else:
                        upper[0, i, column] = visitors[j]
                        for k in range(stages - 1):
                            upper[k + 1, i, column] = stops[k, j]
        chunk_economics(rows, m, months, window, slot, opening, later, level, cum, dead,
                        scratch, staged)
        # the chunk's rows into the block's (paths, months) arrays, one array at a time (the
        # lines of its lane-major rows stay in cache from one path to the next)
        _unstage(rows[NEW], first, m, last)
        _unstage(rows[LOST], first, m, churned_out)
        _unstage(rows[ACTIVE], first, m, customers_out)
        _unstage(rows[REVENUE], first, m, mrr_out)
        _unstage(rows[SPEND], first, m, spend_out)
        _unstage(rows[BALANCE], first, m, cash_out)
        for k, metric in enumerate((cac, payback, ltv, ratio, runway, burn, nrr, cohort)):
            _unstage(staged[:, k], first, m, metric)
    return False, 0.0


@inline
def _unstage(lane_major, first, m, out):
    """A chunk's ``(months, lanes)`` rows into rows ``first`` to ``first + m`` of ``out``."""
    for j in range(m):
        row = out[first + j]
        for t in range(row.size):
            row[t] = lane_major[t, j]
