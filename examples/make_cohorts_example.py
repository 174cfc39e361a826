"""Write ``configs/cohorts_example.csv``: a cohort retention table drawn from known sBG
parameters, for the docs and for trying ``fit_sbg`` / ``simulate calibrate --cohorts``.

A company that wins about 40 customers a month: 36 monthly cohorts (2023-01 to 2025-12),
observed up to 2025-12, so the oldest cohort shows 35 months of retention and the newest
only its size (right-censored). Each customer's monthly churn probability is drawn from
Beta(ALPHA, BETA) when they join (the shifted-beta-geometric model).

Run from anywhere: ``python examples/make_cohorts_example.py [OUT.csv]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ALPHA, BETA = 1.5, 20.0  # first-month churn 7%, 2.7% by month 24; expected life 41 months
COHORTS = 36
MEAN_SIZE = 40
SEED = 20240101


def cohorts_table(alpha: float = ALPHA, beta: float = BETA, cohorts: int = COHORTS,
                  mean_size: float = MEAN_SIZE, seed: int = SEED) -> pd.DataFrame:
    """Long table (cohort, age, active) of ``cohorts`` monthly cohorts, the last observed at
    age 0 only."""
    rng = np.random.default_rng(seed)
    labels = pd.period_range("2023-01", periods=cohorts, freq="M").strftime("%Y-%m")
    rows = []
    for index, label in enumerate(labels):
        churn = rng.beta(alpha, beta, rng.poisson(mean_size))
        lifetime = rng.geometric(churn)  # the age (months) at which each customer churns
        for age in range(cohorts - index):
            rows.append((label, age, int(np.sum(lifetime > age))))
    return pd.DataFrame(rows, columns=["cohort", "age", "active"])


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "configs" / \
        "cohorts_example.csv"
    cohorts_table().to_csv(out, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
