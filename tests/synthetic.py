"""Synthetic company histories from known parameters (SPEC section 4's model, vectorised over
companies), for the tests of calibration and backtests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.history.data import History

STAGES = ("lead", "opportunity", "customer")
BASE = {
    "simulation": {"months": 12, "paths": 200, "seed": 1},
    "start": {"customers": 50, "cash": 0},
    "acquisition": {"visitors": 3000, "visitor_growth": 0.01},
    "funnel": [{"stage": "lead", "rate": {"dist": "beta", "mean": 0.01, "sd": 0.003}},
               {"stage": "opportunity", "rate": {"dist": "beta", "mean": 0.3, "sd": 0.1}},
               {"stage": "customer", "rate": {"dist": "beta", "mean": 0.4, "sd": 0.1}}],
    "revenue": {"arpa": {"dist": "lognormal", "mean": 1000, "sd": 300}, "expansion": 0.0},
    "retention": {"churn": {"dist": "beta", "mean": 0.02, "sd": 0.01}},
}


@dataclass(frozen=True)
class Truth:
    """True parameters, one value per company."""

    visitors: np.ndarray
    growth: np.ndarray
    rates: dict[str, np.ndarray]  # stage -> rate, and "churn"
    arpa: np.ndarray
    expansion: np.ndarray
    customers: np.ndarray


def draw_truth(n: int, rng: np.random.Generator) -> Truth:
    """Plausible companies: thousands of visitors, a 0.5-3% lead rate, a few customers a
    month, 1-5% monthly churn."""
    rates = {"lead": rng.uniform(0.005, 0.03, n), "opportunity": rng.uniform(0.1, 0.5, n),
             "customer": rng.uniform(0.2, 0.6, n), "churn": rng.uniform(0.01, 0.05, n)}
    return Truth(rng.uniform(1500, 5000, n), rng.normal(0.01, 0.01, n), rates,
                 rng.uniform(500, 3000, n), rng.normal(0.003, 0.002, n),
                 rng.integers(20, 200, n))


def histories(truth: Truth, months: int, rng: np.random.Generator, *, month_cv: float = 0.0,
              drop_after: int | None = None, drop: float = 0.4,
              scatter: float = 0.0) -> list[History]:
    """One history per company. ``month_cv`` > 0 redraws each stage rate every month from a
    beta with that coefficient of variation (overdispersion); ``drop_after`` cuts traffic by
    ``drop`` from the month after it (a regime change); ``scatter`` > 0 multiplies each
    month's traffic by an independent lognormal with that sd of its log."""
    n = len(truth.visitors)
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("visitors", *STAGES, "churned",
                                                           "customers", "mrr")}
    customers = truth.customers.astype(np.int64)
    mrr = customers * truth.arpa
    for t in range(1, months + 1):
        level = truth.visitors * (1 + truth.growth) ** (t - 1)
        if drop_after is not None and t > drop_after:
            level = level * (1 - drop)
        if scatter > 0:
            level = level * rng.lognormal(-scatter**2 / 2, scatter, n)
        count = rng.poisson(level)
        cols["visitors"].append(count)
        for stage in STAGES:
            p = truth.rates[stage]
            if month_cv > 0:
                kappa = np.maximum((1 - p) / (p * month_cv**2) - 1, 0.5)
                p = rng.beta(p * kappa, (1 - p) * kappa)
            count = rng.binomial(count, p)
            cols[stage].append(count)
        churned = rng.binomial(customers, truth.rates["churn"])
        kept = np.where(customers > 0, mrr * (1 - churned / np.maximum(customers, 1)), 0.0)
        new = count
        # each new account pays arpa on average, with 20% spread between accounts
        paid = new * truth.arpa * (1 + 0.2 * rng.standard_normal(n) / np.sqrt(np.maximum(new, 1)))
        mrr = kept * (1 + truth.expansion) + np.maximum(paid, 0.0)
        customers = customers - churned + new
        cols["churned"].append(churned)
        cols["customers"].append(customers)
        cols["mrr"].append(mrr)
    labels = tuple(str(m) for m in range(1, months + 1))
    stacked = {k: np.column_stack(v) for k, v in cols.items()}
    return [History(f"company {i}", labels, {k: v[i] for k, v in stacked.items()}, STAGES)
            for i in range(n)]


#: Companies drawn by the engine itself: each path is a company, its per-path draws are
#: the company's true inputs and its trajectories are the company's history.
ENGINE_COMPANIES = {
    # the NumPy kernel's paths: the data the coverage was measured on (the compiled kernel
    # draws the same law, tests/test_kernel.py, but other numbers)
    "simulation": {"months": 24, "paths": 200, "seed": 7, "kernel": "numpy"},
    "start": {"customers": {"dist": "uniform", "low": 20, "high": 200}},
    "acquisition": {"visitors": {"dist": "uniform", "low": 1500, "high": 5000},
                    "visitor_growth": {"dist": "normal", "mean": 0.01, "sd": 0.01}},
    "funnel": [{"stage": "lead", "rate": {"dist": "uniform", "low": 0.005, "high": 0.03}},
               {"stage": "opportunity", "rate": {"dist": "uniform", "low": 0.1, "high": 0.5}},
               {"stage": "customer", "rate": {"dist": "uniform", "low": 0.2, "high": 0.6}}],
    "revenue": {"arpa": {"dist": "uniform", "low": 500, "high": 3000}},
    "retention": {"churn": {"dist": "uniform", "low": 0.01, "high": 0.05}},
}


def engine_histories(config: dict) -> tuple[list[History], dict[str, np.ndarray]]:
    """Run ``config`` and read each path as a company: its history and its true inputs."""
    import simulator

    result = simulator.run(simulator.load_config(config))
    months = result["visitors"].shape[1]
    counts = ("visitors", *STAGES, "churned", "customers")
    arrays = {c: np.asarray(result[c]).astype(np.int64) for c in counts}
    arrays["mrr"] = np.asarray(result["mrr"], dtype=float)
    labels = tuple(str(m) for m in range(1, months + 1))
    companies = [History(f"path {i}", labels, {c: v[i] for c, v in arrays.items()}, STAGES)
                 for i in range(result["visitors"].shape[0])]
    truth = {k: np.broadcast_to(v, (len(companies),))
             for k, v in result.params.values.items()}
    return companies, truth
