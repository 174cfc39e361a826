"""Sweep the close rate and plot P(CAC payback <= 12 months) against it.

The question behind it: how good must the close rate be before CAC payback is healthy in most
futures? Every point of the sweep runs the base config with the same seed (common random
numbers), so the curve is smooth and the differences between points come from the close rate,
not from noise.

    python examples/close_rate_sweep.py [OUT_DIR]

writes ``close_rate_sweep.csv`` and ``close_rate_sweep.png`` to OUT_DIR (default: the
``EXAMPLES_OUT`` environment variable, else a new temporary directory) and prints the table.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script: write files, open no window
import matplotlib.pyplot as plt  # noqa: E402

import simulator  # noqa: E402
from simulator.config.overrides import Override  # noqa: E402

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "base.toml"
CLOSE_RATES = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
MONTH = 12
PATHS = 2000
SEED = 2026


def output_dir(argv: list[str]) -> Path:
    """OUT_DIR from the command line, else $EXAMPLES_OUT, else a new temporary directory."""
    chosen = argv[1] if len(argv) > 1 else os.environ.get("EXAMPLES_OUT")
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="close_rate_sweep-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sweep(rates: list[float] = CLOSE_RATES) -> list[dict[str, float]]:
    """P(cac_payback_months <= 12) and median payback at MONTH for each constant close rate."""
    rows = []
    for rate in rates:
        config = simulator.load_config(CONFIG, overrides=[
            Override("funnel.customer.rate", rate),       # a constant instead of the range
            Override("simulation.months", MONTH),          # nothing after MONTH is needed
            Override("simulation.report_months", [MONTH]),
        ])
        result = simulator.run(config, paths=PATHS, seed=SEED)   # same seed: common random numbers
        payback = result.percentile_table(MONTH, [50]).loc["cac_payback_months", "p50"]
        rows.append({"close_rate": rate,
                     "p_payback_12": result.probability("cac_payback_months", "<=", 12, MONTH),
                     "median_payback": float(payback)})
    return rows


def plot(rows: list[dict[str, float]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["close_rate"] for r in rows], [r["p_payback_12"] for r in rows], marker="o")
    ax.axhline(0.8, color="grey", linestyle="--", linewidth=1, label="80% of futures")
    ax.set_xlabel("close rate (opportunity -> customer)")
    ax.set_ylabel(f"P(CAC payback <= 12 months) at month {MONTH}")
    ax.set_ylim(0, 1)
    ax.set_title(f"configs/base.toml, {PATHS:,} paths per point, seed {SEED}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> list[dict[str, float]]:
    out = output_dir(argv)
    rows = sweep()
    with open(out / "close_rate_sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "close_rate_sweep.png")
    print("close rate  P(payback <= 12)  median payback (months)")
    for r in rows:
        print(f"{r['close_rate']:10.0%}  {r['p_payback_12']:16.1%}  {r['median_payback']:23.1f}")
    print(f"wrote {out / 'close_rate_sweep.csv'} and {out / 'close_rate_sweep.png'}")
    return rows


if __name__ == "__main__":
    main(sys.argv)
