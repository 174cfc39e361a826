"""Use ``distributions.sample_joint`` in a model of your own: work backwards from a goal.

The "seven numbers" method works backwards from a goal: how many website visitors a month
does it take to have 200 customers at month 24? With constant monthly rates the expected
customer count has a closed form,

    customers(T) = N0 (1 - c)^T + V r (1 - (1 - c)^T) / c,

with N0 customers today, V visitors a month, r the visitor-to-customer rate (the product of
the stage rates) and c the monthly churn, so the visitors needed are

    V = (goal - N0 (1 - c)^T) c / (r (1 - (1 - c)^T)).

The rates are uncertain, so V is too: the script draws the rates jointly (Latin hypercube,
a weak close rate going with higher churn), computes V on every draw, and reports its
percentiles. Nothing here uses the simulator: the sampler stands on its own.

    python examples/own_model.py [OUT_DIR]

writes ``visitors_needed.csv`` (the draws and the answer) and ``visitors_needed.png`` to
OUT_DIR (default: the ``EXAMPLES_OUT`` environment variable, else a new temporary directory).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # a script: write files, open no window
import matplotlib.pyplot as plt  # noqa: E402

from distributions import sample_joint  # noqa: E402

GOAL = 200          # customers at month T
T = 24              # months
START = 60          # customers today
N = 4096            # draws

# The funnel of configs/base.toml, written as the sampler's specs.
SPECS = {
    "lead": {"dist": "beta", "mean": 0.0075, "sd": 0.0015},
    "mql": {"dist": "pert", "low": 0.7, "mode": 0.8, "high": 0.9},
    "sql": {"dist": "beta", "mean": 0.2, "sd": 0.04},
    "opportunity": {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
    "close": {"dist": "beta", "p5": 0.28, "p95": 0.52},
    "churn": {"dist": "beta", "mean": 0.012, "sd": 0.004},
}
CORRELATIONS = {("close", "churn"): -0.3}


def output_dir(argv: list[str]) -> Path:
    """OUT_DIR from the command line, else $EXAMPLES_OUT, else a new temporary directory."""
    chosen = argv[1] if len(argv) > 1 else os.environ.get("EXAMPLES_OUT")
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="own_model-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def customers_at(visitors: np.ndarray, rate: np.ndarray, churn: np.ndarray) -> np.ndarray:
    """Expected customers at month T with constant monthly visitors, rates and churn."""
    kept = (1 - churn) ** T
    return START * kept + visitors * rate * (1 - kept) / churn


def visitors_needed(draws: pd.DataFrame) -> pd.DataFrame:
    rate = draws[["lead", "mql", "sql", "opportunity", "close"]].prod(axis=1)
    kept = (1 - draws["churn"]) ** T
    needed = (GOAL - START * kept) * draws["churn"] / (rate * (1 - kept))
    return draws.assign(rate=rate, visitors_needed=needed)


def main(argv: list[str]) -> pd.DataFrame:
    out = output_dir(argv)
    draws = sample_joint(SPECS, n=N, seed=2026, method="lhs", correlations=CORRELATIONS)
    frame = visitors_needed(draws)
    frame.to_csv(out / "visitors_needed.csv", index=False)
    needed = frame["visitors_needed"]
    p10, p50, p90 = np.percentile(needed, [10, 50, 90])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(needed, bins=80, range=(0, float(np.percentile(needed, 99))), color="#0072B2")
    for value, label in ((p10, "P10"), (p50, "P50"), (p90, "P90")):
        ax.axvline(value, color="black", linestyle="--", linewidth=1)
        ax.text(value, ax.get_ylim()[1] * 0.95, f" {label}", fontsize=8)
    ax.set_xlabel(f"visitors a month for {GOAL} customers at month {T}")
    ax.set_ylabel("draws")
    fig.tight_layout()
    fig.savefig(out / "visitors_needed.png", dpi=100)
    plt.close(fig)
    print(f"Visitors a month needed for {GOAL} customers at month {T} (from {START} today):")
    print(f"  P10 {p10:,.0f}   P50 {p50:,.0f}   P90 {p90:,.0f}")
    print("  (with the P90 visitors the expected count reaches the goal in 90% of the rate")
    print("  draws; for the count noise on top, simulate with --target)")
    print(f"wrote {out / 'visitors_needed.csv'} and {out / 'visitors_needed.png'}")
    return frame


if __name__ == "__main__":
    main(sys.argv)
