"""The core model of docs/model.md (binomial flows) written the obvious way with plain NumPy.

Per-path inputs are drawn with scipy (:mod:`reference`), then one Python loop runs over the
months with vectorised NumPy draws across paths: ``rng.poisson`` for visitors, one
``rng.binomial`` per funnel stage, one for churn; MRR, cash and spend are updated in place and
every metric's (paths, months) trajectory is kept, like the engine keeps them. CAC and the
ratios built on it are computed after the loop from trailing-window sums.
"""

from __future__ import annotations

import numpy as np

from reference import Model, Value, draw

FLOWS = ("visitors", "churned", "customers", "mrr", "sm_spend", "cash")


def _growth(value: Value, t: int) -> Value:
    """The compounded factor (1 + g)^(t-1) of month ``t``."""
    return (1.0 + np.asarray(value)) ** (t - 1)


def _trailing(x: np.ndarray, window: int) -> np.ndarray:
    """Sum of the last ``window`` months along axis 1 (fewer at the start)."""
    total = np.cumsum(x, axis=1)
    total[:, window:] -= total[:, :-window].copy()
    return total


def unit_economics(p: dict[str, Value], sm_spend: np.ndarray, won: np.ndarray,
                   window: int) -> dict[str, np.ndarray]:
    """CAC, CAC payback, LTV and LTV:CAC per path and month (docs/model.md, steps 6-7)."""
    spend_w, won_w = _trailing(sm_spend, window), _trailing(won, window)
    shape = sm_spend.shape
    margin = np.broadcast_to(np.asarray(p["revenue.arpa"] * p["revenue.gross_margin"]),
                             (shape[0],))[:, None]
    churn = np.broadcast_to(np.asarray(p["retention.churn"]), (shape[0],))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        cac = np.where(won_w > 0, spend_w / won_w, np.inf)
        payback = np.where(margin > 0, cac / margin, np.inf)
        ltv = np.broadcast_to(np.where(churn > 0, margin / churn, np.inf), shape).copy()
        ratio = np.where(np.isinf(cac) | (ltv == 0), 0.0, ltv / cac)
    return {"cac": cac, "cac_payback_months": payback, "ltv": ltv, "ltv_to_cac": ratio}


def simulate(model: Model, paths: int, seed: int) -> dict[str, np.ndarray]:
    """Every metric of the model as a (paths, months) array; ``seed`` drives one Generator."""
    rng = np.random.default_rng(seed)
    p = draw(model, paths, rng)
    months = model.months
    out = {name: np.empty((paths, months)) for name in (*FLOWS, *model.stages)}
    customers = np.rint(np.full(paths, 0.0) + p["start.customers"]).astype(np.int64)
    mrr = np.full(paths, 0.0) + p["start.mrr"]
    cash = np.full(paths, 0.0) + p["start.cash"]
    for t in range(1, months + 1):
        count = rng.poisson(p["acquisition.visitors"]
                            * _growth(p["acquisition.visitor_growth"], t), size=paths)
        out["visitors"][:, t - 1] = count
        for stage in model.stages:
            count = rng.binomial(count, p[f"funnel.{stage}.rate"])
            out[stage][:, t - 1] = count
        churned = rng.binomial(customers, p["retention.churn"])
        retained = np.where(customers > 0, 1.0 - churned / np.maximum(customers, 1), 0.0)
        customers = customers - churned + count
        mrr = mrr * retained * (1.0 + p["revenue.expansion"]) + count * p["revenue.arpa"]
        sm_spend = (p["costs.marketing"] * _growth(p["costs.marketing_growth"], t)
                    + p["costs.sales"] * _growth(p["costs.sales_growth"], t))
        opex = p["costs.other_opex"] * _growth(p["costs.other_opex_growth"], t)
        cash = cash + mrr * p["revenue.gross_margin"] - sm_spend - opex
        out["churned"][:, t - 1] = churned
        out["customers"][:, t - 1] = customers
        out["mrr"][:, t - 1] = mrr
        out["sm_spend"][:, t - 1] = sm_spend
        out["cash"][:, t - 1] = cash
    out.update(unit_economics(p, out["sm_spend"], out[model.stages[-1]], model.cac_window))
    return out
