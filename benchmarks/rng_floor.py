"""The RNG floor: only the random draws the engine consumes, vectorised over paths.

Per path-month the engine draws the funnel by Poisson splitting (one Poisson for the units
stopping short of each stage and one for those reaching the last: stages + 1 Poissons, an
exact identity for docs/model.md's Poisson visitors and binomial stages) and one binomial
for churn. This draws exactly those with NumPy, with realistic parameters: each path's own
inputs (drawn beforehand, outside the timing, by :mod:`reference`), churn thinning a customer
count that is kept up to date (one subtraction and one addition per month: the binomial
needs a real ``n``). Nothing is stored, no MRR, cash or CAC is computed: no implementation
that draws these numbers with NumPy's generator can be faster than this.
"""

from __future__ import annotations

import numpy as np

from reference import Value


def draw_flows(p: dict[str, Value], stages: tuple[str, ...], paths: int, months: int,
               rng: np.random.Generator) -> int:
    """Draw every path-month's flows; returns the total of the last month's customers (so
    that the work cannot be optimised away and the result can be eyeballed)."""
    customers = np.rint(np.full(paths, 0.0) + p["start.customers"]).astype(np.int64)
    visitors = p["acquisition.visitors"]
    growth = 1.0 + np.asarray(p["acquisition.visitor_growth"])
    rates = [p[f"funnel.{stage}.rate"] for stage in stages]
    churn = p["retention.churn"]
    for t in range(months):
        reach = visitors * growth**t * np.ones(paths)
        for rate in rates:
            rng.poisson(reach * (1.0 - rate))  # the units stopping short of this stage
            reach = reach * rate
        customers += rng.poisson(reach) - rng.binomial(customers, churn)
    return int(customers.sum())
