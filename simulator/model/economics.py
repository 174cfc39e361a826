"""A block's derived metrics: unit economics (docs/model.md, steps 6-7) and the model-depth
metrics, from its flows and drawn inputs."""

from __future__ import annotations

import numpy as np

from .metrics import (
    burn_multiple,
    cac,
    cohort_payback_months,
    nrr,
    retention_factors,
    runway_months,
    unit_economics,
)
from .params import Parameters, Value
from .sbg import equivalent_churn
from .step import ModelShape, initial_state


def _blended(shape: ModelShape, p: Parameters) -> tuple[Value, Value]:
    """ARPA and churn for the unit economics: the inputs themselves, or with segments the
    share-weighted ARPA and the churn that makes arpa * margin / churn the share-weighted
    LTV of the segments (0 when a segment with a share never churns: LTV is infinite).
    Under sBG the churn is the flat churn with the same expected lifetime,
    (alpha - 1) / (alpha + beta - 1) (0 when alpha <= 1: the expected lifetime is infinite)."""
    segments = shape.depth.segments
    if shape.depth.retention.model == "sbg":  # segments are refused with sBG
        return p.whole("revenue.arpa"), equivalent_churn(p.whole("retention.alpha"),
                                                         p.whole("retention.beta"))
    if not segments:
        return p.whole("revenue.arpa"), p.whole("retention.churn")
    arpa: Value = 0.0
    lifetime: Value = 0.0
    for s in segments:
        share, value = p.whole(s.share), p.whole(s.arpa)
        churn = np.asarray(p.whole(s.churn), dtype=np.float64)  # numpy: x / 0 is inf, not
        arpa = arpa + share * value                              # a ZeroDivisionError
        with np.errstate(divide="ignore", invalid="ignore"):
            lifetime = lifetime + np.where(share * value > 0, share * value / churn, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        churn_equivalent = np.where(np.isinf(lifetime), 0.0,
                                    np.divide(arpa, lifetime, out=np.ones_like(
                                        np.asarray(lifetime, dtype=float)),
                                              where=np.asarray(lifetime) > 0))
    return arpa, churn_equivalent


def _last_month(value: Value) -> Value:
    """A per-path value in the last month (month-varying inputs are (paths, months))."""
    array = np.asarray(value, dtype=np.float64)
    return array[:, -1] if array.ndim == 2 else array


def block_economics(shape: ModelShape, p: Parameters, out: dict[str, np.ndarray], window: int,
                    integer: bool, only_at: tuple[int, ...] | None = None
                    ) -> dict[str, np.ndarray]:
    """The metrics derived from a block's flows (docs/model.md, steps 6-7, and the rest).

    With ``only_at`` (1-based months) every metric is computed at those months only, each of
    shape (paths, len(only_at)), with the same values as the full computation there.
    """
    cols = tuple(m - 1 for m in only_at) if only_at is not None else None
    new = out["new_customers"] if shape.depth.segments else out[shape.stages[-1]]
    arpa, churn = _blended(shape, p)
    margin = p.whole("revenue.gross_margin")
    derived = unit_economics(out["sm_spend"], new, arpa, margin, churn, window, cols)
    for channel in shape.channels:
        derived[f"{channel}.cac"] = cac(out[f"{channel}.spend"], out[f"{channel}.new_customers"],
                                        window, cols)
    customers, mrr, cash = initial_state(shape, p, integer)
    factors = retention_factors(out["customers"], out["churned"], customers,
                                p.whole("revenue.expansion"))
    derived["runway_months"] = runway_months(out["cash"], cols)
    derived["burn_multiple"] = burn_multiple(out["cash"], out["mrr"], cash, mrr, window, cols)
    before = np.column_stack([np.broadcast_to(customers, (len(factors),)),
                              out["customers"][:, :-1]])
    derived["nrr"] = nrr(factors, cols=cols, empty=before == 0)
    later = (1.0 - _last_month(churn)) * (1.0 + _last_month(p.whole("revenue.expansion")))
    derived["cohort_payback_months"] = cohort_payback_months(new, arpa, margin,
                                                             out["sm_spend"], factors, later,
                                                             cols)
    return derived
