"""The core model of docs/model.md (binomial flows) as a pure-Python double loop: paths x months.

This is how a spreadsheet model is usually ported by hand, and how per-case Monte Carlo
tools (monaco, and @RISK / Crystal Ball recalculating a workbook) evaluate a model: one
path at a time, one month at a time, with scalar arithmetic. Python 3.11's :mod:`random`
has no Poisson or binomial sampler, so the scalar draws come from a NumPy ``Generator``
(``rng.poisson(lam)``, ``rng.binomial(n, p)`` called with Python scalars). The per-path
inputs are drawn up front with scipy (:mod:`reference`, same as the plain NumPy version) and
read back as Python floats path by path; the month loop is plain Python.
"""

from __future__ import annotations

import math

import numpy as np

from reference import Model, draw

METRICS = ("visitors", "churned", "customers", "mrr", "sm_spend", "cash", "cac",
           "cac_payback_months", "ltv", "ltv_to_cac")


def _cac(spend: list[float], won: list[int], window: int) -> float:
    total_won = sum(won[-window:])
    if total_won == 0:
        return math.inf
    return sum(spend[-window:]) / total_won


def _economics(row: dict[str, list[float]], p: dict[str, float], cac: float) -> None:
    margin = p["revenue.arpa"] * p["revenue.gross_margin"]
    churn = p["retention.churn"]
    ltv = margin / churn if churn > 0 else math.inf
    row["cac"].append(cac)
    row["cac_payback_months"].append(cac / margin if margin > 0 else math.inf)
    row["ltv"].append(ltv)
    row["ltv_to_cac"].append(0.0 if math.isinf(cac) or ltv == 0 else ltv / cac)


def simulate_path(model: Model, p: dict[str, float], rng: np.random.Generator
                  ) -> dict[str, list[float]]:
    """One path's trajectories, month by month; ``p`` holds this path's inputs."""
    row: dict[str, list[float]] = {name: [] for name in (*METRICS, *model.stages)}
    rates = [p[f"funnel.{stage}.rate"] for stage in model.stages]
    customers = round(p["start.customers"])
    mrr, cash = p["start.mrr"], p["start.cash"]
    spends: list[float] = []
    wins: list[int] = []
    for t in range(model.months):
        count = int(rng.poisson(p["acquisition.visitors"]
                                * (1 + p["acquisition.visitor_growth"]) ** t))
        row["visitors"].append(count)
        for stage, rate in zip(model.stages, rates, strict=True):
            count = int(rng.binomial(count, rate))
            row[stage].append(count)
        churned = int(rng.binomial(customers, p["retention.churn"])) if customers > 0 else 0
        retained = 1.0 - churned / customers if customers > 0 else 0.0
        customers = customers - churned + count
        mrr = mrr * retained * (1 + p["revenue.expansion"]) + count * p["revenue.arpa"]
        sm_spend = (p["costs.marketing"] * (1 + p["costs.marketing_growth"]) ** t
                    + p["costs.sales"] * (1 + p["costs.sales_growth"]) ** t)
        opex = p["costs.other_opex"] * (1 + p["costs.other_opex_growth"]) ** t
        cash = cash + mrr * p["revenue.gross_margin"] - sm_spend - opex
        spends.append(sm_spend)
        wins.append(count)
        for name, value in (("churned", churned), ("customers", customers), ("mrr", mrr),
                            ("sm_spend", sm_spend), ("cash", cash)):
            row[name].append(value)
        _economics(row, p, _cac(spends, wins, model.cac_window))
    return row


def path_inputs(values: dict[str, float | np.ndarray], index: int) -> dict[str, float]:
    """Path ``index``'s inputs as Python floats."""
    return {name: float(v[index]) if isinstance(v, np.ndarray) else float(v)
            for name, v in values.items()}


def simulate(model: Model, paths: int, seed: int) -> dict[str, np.ndarray]:
    """Every metric as a (paths, months) array, built path by path."""
    rng = np.random.default_rng(seed)
    values = draw(model, paths, rng)
    rows = [simulate_path(model, path_inputs(values, i), rng) for i in range(paths)]
    return {name: np.array([row[name] for row in rows], dtype=np.float64) for name in rows[0]}
