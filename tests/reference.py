"""An independent, per-path, pure-Python implementation of docs/model.md (expected flows).

Written from the contract, not from the engine, to serve as the oracle in tests.
"""

from __future__ import annotations

import math


def expected_path(p: dict[str, float], stages: list[str], months: int, window: int,
                  mrr0: float | None = None) -> dict[str, list[float]]:
    """One path's trajectories under flows = "expected", parameters constant over months."""
    customers = p["start.customers"]
    mrr = mrr0 if mrr0 is not None else customers * p["arpa_mean"]
    cash = p["start.cash"]
    out: dict[str, list[float]] = {k: [] for k in
                                   ["visitors", *stages, "new_customers", "churned", "customers",
                                    "mrr", "sm_spend", "cash", "cac", "cac_payback_months",
                                    "ltv", "ltv_to_cac", "cumulative_revenue"]}
    total = 0.0
    for t in range(1, months + 1):
        visitors = p["acquisition.visitors"] * (1 + p["acquisition.visitor_growth"]) ** (t - 1)
        out["visitors"].append(visitors)
        n = visitors
        for s in stages:
            n = n * p[f"funnel.{s}.rate"]
            out[s].append(n)
        churned = customers * p["retention.churn"]
        share = churned / customers if customers > 0 else None
        mrr = (mrr * (1 - share) * (1 + p["revenue.expansion"]) if share is not None else 0.0) \
            + n * p["revenue.arpa"]
        customers = customers - churned + n
        sm = p["costs.marketing"] * (1 + p["costs.marketing_growth"]) ** (t - 1) \
            + p["costs.sales"] * (1 + p["costs.sales_growth"]) ** (t - 1)
        gm = p["revenue.gross_margin"]
        opex = p["costs.other_opex"] * (1 + p["costs.other_opex_growth"]) ** (t - 1)
        cash = cash + mrr * gm - sm - opex
        total += mrr
        out["new_customers"].append(n)
        out["churned"].append(churned)
        out["customers"].append(customers)
        out["mrr"].append(mrr)
        out["sm_spend"].append(sm)
        out["cash"].append(cash)
        out["cumulative_revenue"].append(total)
        lo = max(0, t - window)
        spend = sum(out["sm_spend"][lo:t])
        won = sum(out["new_customers"][lo:t])
        cac = spend / won if won > 0 else math.inf
        margin = p["revenue.arpa"] * gm
        payback = cac / margin if margin > 0 else math.inf
        ltv = margin / p["retention.churn"] if p["retention.churn"] > 0 else math.inf
        ratio = 0.0 if math.isinf(cac) or ltv == 0 else (ltv / cac if cac > 0 else math.inf)
        out["cac"].append(cac)
        out["cac_payback_months"].append(payback)
        out["ltv"].append(ltv)
        out["ltv_to_cac"].append(ratio)
    return out
