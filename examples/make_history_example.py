"""Write configs/history_example.csv: 36 months of a plausible company (figures typical
of B2B SaaS) generated from known parameters, so that `simulate calibrate` can be checked
against them.

Run from the repository root:  python examples/make_history_example.py

The true parameters (what calibration should recover, within its intervals):
visitors 4,000 in the first month, growing 2% a month, with 8% month-to-month scatter;
visitor -> lead 1.2%; lead -> MQL 80%; MQL -> SQL 25% with month-to-month spread (the rate
itself varies, sd 0.08); SQL -> opportunity 50%; opportunity -> customer 40%; monthly churn
2%; new accounts pay $1,500 a month on average (each account lognormal, sd $300); retained
MRR expands 0.5% a month; marketing $5,000 growing 2%, sales $5,000 growing 1%, other opex
$62,000, gross margin 80%.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

TRUTH = {"visitors": 4000.0, "visitor_growth": 0.02, "visitor_scatter": 0.08,
         "lead": 0.012, "mql": 0.8, "sql": 0.25, "sql_sd": 0.08, "opportunity": 0.5,
         "customer": 0.4, "churn": 0.02, "arpa": 1500.0, "arpa_sd": 300.0,
         "expansion": 0.005, "marketing": 5000.0, "marketing_growth": 0.02,
         "sales": 5000.0, "sales_growth": 0.01, "other_opex": 62000.0, "gross_margin": 0.8,
         "start_customers": 60, "start_mrr": 90000.0, "start_cash": 400000.0}


def history(months: int = 36, seed: int = 2026) -> list[dict[str, object]]:
    """The rows of the example history."""
    rng = np.random.default_rng(seed)
    t = TRUTH
    customers, mrr, cash = t["start_customers"], t["start_mrr"], t["start_cash"]
    sigma = np.sqrt(np.log1p((t["arpa_sd"] / t["arpa"]) ** 2))
    mu = np.log(t["arpa"]) - sigma**2 / 2
    sql_kappa = t["sql"] * (1 - t["sql"]) / t["sql_sd"] ** 2 - 1
    rows = []
    for m in range(1, months + 1):
        level = t["visitors"] * (1 + t["visitor_growth"]) ** (m - 1)
        visitors = int(rng.poisson(level * rng.lognormal(-t["visitor_scatter"] ** 2 / 2,
                                                          t["visitor_scatter"])))
        lead = int(rng.binomial(visitors, t["lead"]))
        mql = int(rng.binomial(lead, t["mql"]))
        sql = int(rng.binomial(mql, rng.beta(t["sql"] * sql_kappa,
                                             (1 - t["sql"]) * sql_kappa)))
        opportunity = int(rng.binomial(sql, t["opportunity"]))
        new = int(rng.binomial(opportunity, t["customer"]))
        churned = int(rng.binomial(customers, t["churn"]))
        kept = mrr * (1 - churned / customers) if customers else 0.0
        mrr = kept * (1 + t["expansion"]) + float(rng.lognormal(mu, sigma, new).sum())
        customers = customers - churned + new
        marketing = t["marketing"] * (1 + t["marketing_growth"]) ** (m - 1)
        sales = t["sales"] * (1 + t["sales_growth"]) ** (m - 1)
        cash += mrr * t["gross_margin"] - marketing - sales - t["other_opex"]
        year, month = divmod(2023 * 12 + m - 1, 12)
        rows.append({"month": f"{year}-{month + 1:02d}", "visitors": visitors, "lead": lead,
                     "mql": mql, "sql": sql, "opportunity": opportunity, "customer": new,
                     "churned": churned, "customers": customers, "mrr": round(mrr, 2),
                     "marketing": round(marketing, 2), "sales": round(sales, 2),
                     "cash": round(cash, 2)})
    return rows


def main(path: str = "configs/history_example.csv") -> None:
    rows = history()
    with Path(path).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(*sys.argv[1:])
