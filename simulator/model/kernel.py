"""The compiled kernel: SPEC section 4's month loop and its derived metrics, compiled.

A block's paths go through their months in chunks of :data:`CHUNK` paths: for each month,
the means of every path of the chunk (:mod:`.kernel_month`), the exact samplers of
:mod:`.samplers` drawing the chunk's counts at once, and the books (customers, MRR, spend,
cash); after the last month the chunk's derived metrics, month by month
(:mod:`.kernel_economics`). Everything is month-major (:mod:`.rows`): a month of the chunk's
paths side by side, so that every step is a loop over the paths that LLVM vectorises, and
the rows go straight into a run's storage when it gives them (:class:`.rows.Target`).

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

from .binomial_samplers import binomial_lanes
from .flows import too_many
from .kernel_economics import (
    ACTIVE,
    BALANCE,
    CASH,
    CHURN,
    CHURN_RATE,
    CUSTOMERS,
    EXPANSION,
    EXTRA,
    FACTOR,
    FLOWS,
    INPUTS,
    LOST,
    METRICS,
    MRR,
    NEW,
    REVENUE,
    SPEND,
    UNIT_MARGIN,
    chunk_economics,
)
from .kernel_month import books, means
from .params import Parameters
from .rows import Target, row_length
from .samplers import jit, poisson_lanes, seed_state
from .step import ModelShape

#: paths walked through their months together: the lanes of the samplers
CHUNK = 128
#: paths of a block simulated before their rows are copied out (rows that stay in cache)
PART = 1024
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
                   only_at: tuple[int, ...] | None = None,
                   target: Target | None = None) -> dict[str, np.ndarray]:
    """The flows and derived metrics of one block (the arrays :func:`run_block` returns).

    ``out`` may hold arrays (or views) to write into; ``target`` the month-major rows behind
    them (:class:`Target`), which the kernel then writes directly. With ``only_at`` (1-based
    months) the upper funnel and the derived metrics are kept at those months only, as the
    NumPy kernel keeps them, and the upper funnel is drawn only there: its draws come from
    streams addressed by (path, month), so the kept months have the numbers of a run that
    keeps everything.
    """
    n, months, stages = p.n, shape.months, shape.stages
    if n >= 2**24:  # the uniforms' counters hold the path in 24 bits
        raise ValueError(f"the compiled kernel takes blocks of fewer than 2^24 paths (got {n})")
    slot = np.full(months, -1, dtype=np.int64)
    kept = only_at if only_at else tuple(range(1, months + 1))
    for i, m in enumerate(kept):
        slot[m - 1] = i
    width = len(kept)
    names = (stages[-1], "churned", "customers", "mrr", "sm_spend", "cash", *ECONOMICS,
             "visitors", *stages[:-1])
    season = np.ones(months)
    seasonality = shape.depth.seasonality
    if seasonality is not None:
        season = np.array([seasonality.factor(t) for t in range(1, months + 1)])
    per_path, monthly, varying = _pack(shape, p)
    state = seed_state(seed, block)

    def run(start: int, stop: int, rows: np.ndarray, where: np.ndarray, base: int) -> None:
        own = np.ascontiguousarray(monthly[:, start:stop]) if varying.size else monthly
        too_big, top = _block(per_path[start:stop], own, varying, len(stages), months,
                              window, not expected, shape.mrr_given, shape.arpa_mean, season,
                              seasonality is not None and seasonality.churn, state, slot,
                              start, rows, where[:FLOWS], where[FLOWS:], base,
                              row_length(min(n, CHUNK)))
        if too_big:
            raise too_many(top)

    if target is not None and width == months and all(name in target.index for name in names):
        where = np.array([target.index[name] for name in names], dtype=np.int64)
        run(0, n, target.rows, where, target.start)  # straight into the run's storage
        return out if out is not None else target.views(names, n)
    # Else into rows that stay in cache (parts of the block) until they are copied out.
    part = min(n, PART)
    rows = _scratch("rows", (len(names), months, row_length(part)))
    where = np.arange(len(names), dtype=np.int64)
    out = {} if out is None else out
    for k, name in enumerate(names):
        if name not in out:
            out[name] = np.empty((n, months if k < FLOWS else width), order="F")
    for start in range(0, n, part):
        stop = min(start + part, n)
        run(start, stop, rows, where, 0)
        for k, name in enumerate(names):
            out[name][start:stop] = rows[k, :out[name].shape[1], :stop - start].T
    return out


_LOCAL = threading.local()


def _scratch(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A scratch array of ``shape`` for this thread, its memory kept from block to block: a
    fresh one per block would cost its page faults every time (about as much as the draws
    it holds)."""
    size = int(np.prod(shape))
    buffer: np.ndarray | None = getattr(_LOCAL, name, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size)
        setattr(_LOCAL, name, buffer)
    return buffer[:size].reshape(shape)


@jit
def _block(per_path, monthly, varying, stages, months, window, integer,
           mrr_given, arpa_mean, season, season_churn, state, slot, path0, rows, fw, kw,
           base, row):
    n = per_path.shape[0]
    k0, k1 = state[0], state[1]
    lanes = min(CHUNK, n)
    opening = np.empty((3, lanes))  # customers, MRR and cash at the start
    growth = np.empty((4, lanes))  # visitors, marketing, sales, other opex: compounded
    reach, arrived = np.empty(lanes), np.empty(lanes)
    churn, churn_before, log_qs = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    at_risk, retained, opex = np.empty(lanes), np.empty(lanes), np.empty(lanes)
    stop_means, stops = np.zeros((stages, lanes)), np.zeros((stages, lanes))
    vals = np.empty((per_path.shape[1], lanes))  # the chunk's inputs in the current month
    extra = np.empty((EXTRA, months, row))  # what the metrics read (kernel_economics)
    later = np.empty(lanes)  # the lanes' retention factor after the horizon
    level, cum = np.empty((months, row)), np.empty((months, row))
    dead = np.empty((months + 1, row), dtype=np.int64)
    scratch = np.empty((7, lanes))
    for f in range(0, n, lanes):
        m = min(lanes, n - f)
        c = base + f  # the chunk's first column in the rows written
        for j in range(m):
            i = f + j
            start = per_path[i, CUSTOMERS]
            if integer:
                start = float(np.rint(start))
            opening[0, j] = start
            opening[1, j] = per_path[i, MRR] if mrr_given else start * arpa_mean
            opening[2, j] = per_path[i, CASH]
            growth[:, j] = 1.0
            churn_before[j] = -1.0  # the churn rate whose log(1 - rate) is at hand
            log_qs[j] = 0.0
            vals[:, j] = per_path[i]
        for t in range(months):
            column = slot[t]
            draw_upper = integer and column >= 0
            for w in range(varying.size):  # the inputs drawn per month: this month's
                for j in range(m):
                    vals[varying[w], j] = monthly[w, f + j, t]
            # the month's rows of the chunk: a slice of each (indexed from 0, so that the
            # loops over them vectorise)
            won, lost = rows[fw[NEW], t, c:c + m], rows[fw[LOST], t, c:c + m]
            before = opening[0, :m] if t == 0 else rows[fw[ACTIVE], t - 1, c:c + m]
            mrr_before = opening[1, :m] if t == 0 else rows[fw[REVENUE], t - 1, c:c + m]
            cash_before = opening[2, :m] if t == 0 else rows[fw[BALANCE], t - 1, c:c + m]
            # the month's means (Poisson splitting: the units stopping short of each stage,
            # then those reaching the last, are independent Poisson counts; the former only
            # matter in the months whose upper funnel is kept)
            too_big, count = means(vals, growth, season[t], season_churn, t, stages, integer,
                                   draw_upper, before, reach, arrived, stop_means, stops,
                                   churn, churn_before, log_qs, at_risk, m)
            if too_big:
                return True, count
            if integer:  # the draws, every lane at once
                if draw_upper:
                    for k in range(stages):
                        poisson_lanes(stop_means[k, :m], stops[k, :m], k0, k1, path0 + f, t,
                                      k)
                poisson_lanes(reach[:m], won, k0, k1, path0 + f, t, stages)
                binomial_lanes(at_risk[:m], churn[:m], log_qs[:m], lost, k0, k1, path0 + f, t,
                               stages + 1)
            else:
                for j in range(m):
                    won[j] = reach[j]
                for j in range(m):
                    lost[j] = before[j] * churn[j]
            books(vals, growth, won, lost, retained, opex, before, mrr_before, cash_before,
                  rows[fw[ACTIVE], t, c:c + m], rows[fw[REVENUE], t, c:c + m],
                  rows[fw[SPEND], t, c:c + m], rows[fw[BALANCE], t, c:c + m],
                  extra[FACTOR, t, :m], extra[UNIT_MARGIN, t, :m], extra[CHURN_RATE, t, :m], m)
            if t == months - 1:
                expansion, rates = vals[EXPANSION], vals[CHURN]
                for j in range(m):
                    later[j] = (1.0 - rates[j]) * (1.0 + expansion[j])
            if column >= 0:  # the upper funnel: the counts reaching each stage
                if integer:
                    count_row = rows[kw[METRICS + stages - 1], column, c:c + m]
                    for j in range(m):
                        count_row[j] = won[j] + stops[stages - 1, j]
                    for k in range(stages - 2, -1, -1):
                        above, count_row = count_row, rows[kw[METRICS + k], column, c:c + m]
                        for j in range(m):
                            count_row[j] = above[j] + stops[k, j]
                else:
                    visitors = rows[kw[METRICS], column, c:c + m]
                    for j in range(m):
                        visitors[j] = arrived[j]
                    for k in range(stages - 1):
                        reached = rows[kw[METRICS + k + 1], column, c:c + m]
                        for j in range(m):
                            reached[j] = stops[k, j]
        chunk_economics(rows, fw, kw, c, extra, m, months, window, slot, opening, later,
                        level, cum, dead, scratch)
    return False, 0.0
