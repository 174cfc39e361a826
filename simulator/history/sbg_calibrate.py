"""``--cohorts``: the sBG retention fitted to a cohorts table, written into a calibrated config.

The ``[retention]`` section becomes ``model = "sbg"`` with alpha and beta from the fit (with
their uncertainty and their correlation), correlations naming ``retention.churn`` are dropped
(re-aiming them at alpha would fight alpha and beta's strong correlation; see
:meth:`SbgFit.apply <simulator.history.cohorts.SbgFit.apply>`) and ``[start] customer_age``
is the cohorts' book age. Base configs whose retention cannot be sBG (``[[segments]]``,
early churn) are refused with one line naming ``--cohorts``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.core import Config
from ..config.errors import ConfigError
from ..model.sbg import survival
from .builder import Builder
from .cohorts import SbgFit, fit_sbg

#: Inputs that sBG retention removes from a config.
GONE = ("retention.churn", "retention.early_churn")


def check_base(base: Config) -> None:
    """Refuse a base config whose retention cannot be sBG, in one line naming --cohorts."""
    if base.segment_names:
        raise ConfigError("", f"the base config {base.source} has [[segments]], which do not "
                              f"go with the sBG retention that the cohorts fit (segments churn "
                              f"at their own flat churn): calibrate without --cohorts, or "
                              f"remove the segments", "--cohorts")
    if "retention.early_churn" in base.inputs:
        raise ConfigError("", f"the base config {base.source} has retention.early_churn and "
                              f"early_months, which do not go with the sBG retention that the "
                              f"cohorts fit (its churn already falls with age): calibrate "
                              f"without --cohorts, or remove early_churn and early_months",
                          "--cohorts")


def fit_cohorts(cohorts: str | Path | pd.DataFrame) -> tuple[SbgFit, str]:
    """The sBG fit of a cohorts table and the name of its source."""
    source = "<cohorts>" if isinstance(cohorts, pd.DataFrame) else str(cohorts)
    try:
        return fit_sbg(cohorts), source
    except ConfigError as err:
        raise (err if err.source else err.with_source(source)) from None


def apply_cohorts(b: Builder, fit: SbgFit) -> None:
    """Replace the retention of ``b.raw`` by the fit, with evidence comments and notes."""
    dropped = [" ~ ".join(map(str, c.get("between", ())))
               for c in b.raw.get("correlations", [])
               if isinstance(c, Mapping) and set(GONE) & set(c.get("between", ()))]
    b.raw = fit.apply(b.raw)
    ci = fit.intervals()
    spec = fit.correlation_spec()
    for name in ("alpha", "beta"):
        value, (low, high) = getattr(fit, name), ci[name]
        written = b.raw["retention"][name]
        how = (f"lognormal: median the estimate, sigma the standard error of its log); rank "
               f"correlation of alpha and beta {spec['rho']} (see [[correlations]])"
               if isinstance(written, Mapping) else
               "written as a constant: the fit gives no finite standard error)")
        b.set(f"retention.{name}", written,
              f"{name}: maximum likelihood {value:.4g}, {fit.level * 100:g}% interval "
              f"{low:.4g} to {high:.4g} ({how}")
    b.comments["[retention]"] = fit.describe() + (
        ". The fit ran to the edge of its range: the cohorts do not show customers "
        "differing, a flat churn describes them as well" if fit.at_bound else "")
    b.comments["start.customer_age"] = (
        "age in months of today's customers under sBG: the median age of the customers "
        "active at their cohort's last observed age (the cohorts' book age)")
    if dropped:
        b.notes.append(f"Dropped the base config's correlations naming churn "
                       f"({'; '.join(dropped)}): sBG retention has alpha and beta instead, "
                       f"and re-aiming them at alpha would fight the strong alpha-beta "
                       f"correlation (docs/retention-sbg.md).")
    fitted, written = ratio_sd(fit)
    if written > 2.0 * fitted + 0.05:
        b.notes.append(f"retention: the cohorts barely show churn falling with age, so alpha "
                       f"and beta are poorly determined apart from their ratio (correlation "
                       f"of their log estimates {fit.correlation_log:.6f}); [[correlations]] "
                       f"caps it at 0.99, so in the simulation log(alpha / beta) has sd "
                       f"{written:.3g} where the fit says {fitted:.3g}: first-month churn is "
                       f"far more uncertain than the data. Consider the flat churn from the "
                       f"history (calibrate without --cohorts).")
    if fit.at_bound:
        b.notes.append("retention: the sBG fit ran to the edge of its range: the cohorts do "
                       "not show churn falling with age (a flat churn fits them as well)")


def ratio_sd(fit: SbgFit) -> tuple[float, float]:
    """The sd of log(alpha / beta) by the fit, and in the written config (alpha and beta's
    correlation as :meth:`SbgFit.correlation_spec` writes it, capped at 0.99): about equal
    unless the estimates are almost perfectly correlated."""
    sa, sb = fit.se_log
    if not (math.isfinite(sa) and math.isfinite(sb)) or sa * sb == 0:
        return 0.0, 0.0
    written = 2.0 * math.sin(math.pi * fit.correlation_spec()["rho"] / 6.0)  # rank -> Pearson

    def sd(r: float) -> float:
        return math.sqrt(max(sa * sa + sb * sb - 2.0 * r * sa * sb, 0.0))

    return sd(fit.correlation_log), sd(written)


def curve_ages(fit: SbgFit) -> list[int]:
    """The ages of the printed retention curve: 1, 3, 6, 12, 24 within the data, the oldest
    observed age, and 12 and 24 months beyond it."""
    top = fit.max_age
    return sorted({a for a in (1, 3, 6, 12, 24) if a < top} | {top, top + 12, top + 24})


def base_survival(base: Config, ages: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The base config's retention at its median inputs (the share of a new cohort active
    at each age) and a label, when its retention is flat churn or sBG without early churn."""
    def median(name: str) -> float | None:
        inp = base.inputs.get(name)
        return None if inp is None else float(np.atleast_1d(inp.dist.ppf(np.array([0.5])))[0])

    if "retention.early_churn" in base.inputs or base.segment_names:
        return None
    if base.depth.retention.model == "sbg":
        alpha, beta = median("retention.alpha"), median("retention.beta")
        if alpha is None or beta is None:
            return None
        return survival(alpha, beta, ages), f"base (sBG {alpha:.3g}, {beta:.3g})"
    churn = median("retention.churn")
    if churn is None:
        return None
    return (1.0 - churn) ** ages, f"base (churn {churn:.2%})"


def curve_table(fit: SbgFit, base: Config | None = None) -> str:
    """The fitted retention curve next to the observed one, and the projection beyond the
    data: share of a cohort active at each age; with ``base``, the base config's retention
    at its median inputs too."""
    ages = curve_ages(fit)
    curve = fit.curve(ages[-1]).set_index("age").loc[ages]
    pct = f"{fit.level * 100:g}%"
    reference = None if base is None else base_survival(base, np.array(ages, dtype=float))
    header = ["age", "cohorts", "observed", "fitted", f"{pct} band"]
    rows = [[*header, *([reference[1]] if reference else []), ""]]
    for i, (age, row) in enumerate(curve.iterrows()):
        observed = "-" if np.isnan(row["observed"]) else f"{row['observed']:.1%}"
        band = "-" if np.isnan(row["low"]) else f"{row['low']:.1%}-{row['high']:.1%}"
        extra = [f"{reference[0][i]:.1%}"] if reference else []
        rows.append([str(age), str(row["cohorts"]), observed, f"{row['fitted']:.1%}", band,
                     *extra, "projected" if row["projected"] else ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    return "\n".join([f"Retention from the cohorts (share of a cohort active at each age; "
                      f"sBG alpha {fit.alpha:.3g}, beta {fit.beta:.3g}):", *lines]) + "\n"
