"""Visitors' level and growth, ARPA and expansion from history, by least squares.

Visitors: ordinary least squares of log(visitors) on month. The level of the first forecast
month (the month after the history) and the monthly growth carry their standard errors,
widened by Student's t (few months give wide ranges). Month-to-month scatter beyond Poisson
noise (tested with the Poisson dispersion statistic) becomes a lognormal redrawn every month,
with a persistence chosen like the rates' (see :mod:`simulator.history.rates`); such a level
cannot be correlated with the growth, so the growth's sd is widened until the log level of
the horizon's month has the variance the (positively) correlated estimates imply.

Revenue: each month's MRR change is ``mrr(t) - kept(t) = expansion * kept(t) + arpa *
new(t)``, where ``kept(t) = mrr(t-1) * (1 - churned(t) / customers(t-1))`` is the MRR of the
retained accounts (the MRR step of the model, docs/model.md); least squares gives ARPA and
expansion with their standard errors. With only MRR and customers, ARPA is the average MRR per
customer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .rates import DISPERSION_LEVEL, persistence_for

Z95 = float(stats.norm.ppf(0.95))
#: Beyond these a history cannot pin a volume down (a factor e per sd; 25% a month).
MAX_LOG_SD = 1.0
MAX_GROWTH_SD = 0.25


def _t_widening(df: int) -> float:
    """How much wider a t interval (90%) is than a normal one with ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.95, df)) / Z95 if df > 0 else 10.0


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


def _growth_spec(mean: float, sd: float) -> dict[str, Any]:
    """A normal for a growth rate; truncated at -0.95 when a few months leave it so wide that
    it could reach -100% (a growth must stay above -1)."""
    spec: dict[str, Any] = {"dist": "normal", "mean": _sig(mean), "sd": _sig(sd)}
    if mean - 8.0 * sd <= -0.95:
        spec["low"] = -0.95
    return spec


@dataclass(frozen=True)
class VisitorFit:
    """Visitors of the first forecast month (lognormal) and their monthly growth (normal)."""

    months: int
    log_level: float
    level_se: float
    growth: float
    growth_se: float
    month_sigma: float  # lognormal scatter beyond Poisson noise
    dispersion_p: float
    correlation: float  # between the level and growth estimates
    visitors: dict[str, Any]
    visitor_growth: dict[str, Any]

    @property
    def overdispersed(self) -> bool:
        return self.dispersion_p < DISPERSION_LEVEL

    @property
    def erratic(self) -> str:
        """Why the history cannot pin the volume down ("" when it can)."""
        sigma = math.hypot(self.level_se, self.month_sigma)
        if sigma > MAX_LOG_SD or self.growth_se > MAX_GROWTH_SD:
            return (f"too few or too erratic months to estimate a trend (log-scale sd "
                    f"{sigma:.2g}, growth sd {self.growth_se:.2g})")
        return ""

    def evidence(self) -> tuple[str, str]:
        """Comments for ``visitors`` and ``visitor_growth``."""
        lo = math.exp(self.log_level - Z95 * self.level_se)
        hi = math.exp(self.log_level + Z95 * self.level_se)
        first = (f"visitors: log-linear fit over {self.months} months; next month's level "
                 f"{math.exp(self.log_level):,.0f} (90% interval {lo:,.0f} to {hi:,.0f})")
        first += (f"; months scatter beyond Poisson noise (dispersion p = "
                  f"{self.dispersion_p:.2g}, sd {self.month_sigma:.2f} on the log scale)"
                  if self.overdispersed else
                  f"; scatter is Poisson (dispersion p = {self.dispersion_p:.2g})")
        g_lo, g_hi = self.growth - Z95 * self.growth_se, self.growth + Z95 * self.growth_se
        second = (f"visitor_growth: {self.growth:+.2%} a month (90% interval {g_lo:+.2%} to "
                  f"{g_hi:+.2%})")
        drawn_sd = float(self.visitor_growth["sd"])
        if drawn_sd > 1.0001 * self.growth_se:
            second += (f"; drawn with sd {drawn_sd:.3g} instead of {self.growth_se:.3g} to "
                       f"carry the level-growth correlation (rho {self.correlation:.2f}) to "
                       f"the horizon, as the month-varying level cannot be correlated")
        return first, second


def fit_visitors(visitors: np.ndarray, *, horizon: int,
                 season: np.ndarray | None = None) -> VisitorFit:
    """Level and growth of ``visitors`` (one count a month), for a ``horizon``-month forecast.
    ``season`` (a multiplier per month of the history) is divided out first: the level and
    growth are then those of the deseasonalised volume, as the config's seasonality expects."""
    v = np.asarray(visitors, dtype=np.float64)
    months = len(v)
    factor = np.ones(months) if season is None else np.maximum(np.asarray(season, float), 1e-9)
    t = np.arange(1, months + 1, dtype=np.float64)
    y = np.log((v + 0.5) / factor)
    t_bar = t.mean()
    sxx = float(np.sum((t - t_bar) ** 2))
    slope = float(np.sum((t - t_bar) * (y - y.mean())) / sxx)
    intercept = float(y.mean())
    resid = y - intercept - slope * (t - t_bar)
    df = months - 2
    s2 = float(np.sum(resid**2) / df) if df > 0 else float(np.var(y, ddof=1))
    widen = _t_widening(df)
    x_next = months + 1 - t_bar
    slope_se = math.sqrt(s2 / sxx) * widen
    level_se = math.sqrt(s2 / months + x_next**2 * s2 / sxx) * widen
    cov = x_next * s2 / sxx * widen**2
    correlation = cov / (level_se * slope_se) if level_se > 0 and slope_se > 0 else 0.0
    fitted = np.exp(intercept + slope * (t - t_bar)) * factor
    x2 = float(np.sum((v - fitted) ** 2 / np.maximum(fitted, 1e-9)))
    p_value = float(stats.chi2.sf(x2, df)) if df > 0 else 1.0
    poisson_var = 1.0 / max(float(v.mean()), 1.0)
    month_var = max(s2 - poisson_var, 0.0) if p_value < DISPERSION_LEVEL else 0.0
    log_level = intercept + slope * x_next
    growth = math.exp(slope) - 1.0
    growth_sd = slope_se
    if month_var > 0 and horizon > 1:
        # A level redrawn every month cannot be correlated with the growth: widen the growth
        # so that month `horizon`'s log level has the variance the correlated estimates give.
        growth_sd = math.sqrt(slope_se**2 + 2.0 * cov / (horizon - 1))
    growth_spec = _growth_spec(growth, max(growth_sd * math.exp(slope), 1e-9))
    if month_var > 0:
        sigma = math.sqrt(level_se**2 + month_var)
        r = persistence_for(level_se**2, month_var, horizon)
        spec: dict[str, Any] = {"dist": "lognormal", "mu": _sig(log_level),
                                "sigma": _sig(sigma), "vary": "month"}
        if r > 0:
            spec["persistence"] = round(r, 3)
    else:
        spec = {"dist": "lognormal", "mu": _sig(log_level), "sigma": _sig(max(level_se, 1e-9))}
    return VisitorFit(months, float(log_level), level_se, growth, slope_se * math.exp(slope),
                      math.sqrt(month_var), p_value, float(correlation), spec, growth_spec)


@dataclass(frozen=True)
class RevenueFit:
    """ARPA of new accounts and (when the data allows it) monthly expansion."""

    months: int
    arpa: float
    arpa_se: float
    expansion: float | None
    expansion_se: float
    method: str

    def arpa_spec(self) -> float | dict[str, Any]:
        if self.arpa_se <= 0:
            return _sig(self.arpa)
        return {"dist": "lognormal", "mean": _sig(self.arpa), "sd": _sig(self.arpa_se)}

    def expansion_spec(self) -> float | dict[str, Any]:
        assert self.expansion is not None
        if self.expansion_se <= 0:
            return _sig(self.expansion)
        return _growth_spec(self.expansion, self.expansion_se)

    def evidence(self) -> tuple[str, str]:
        """Comments for ``arpa`` and ``expansion``."""
        def interval(x: float, se: float, fmt: str) -> str:
            return f"{x:{fmt}} (90% interval {x - Z95 * se:{fmt}} to {x + Z95 * se:{fmt}})"
        first = (f"arpa: {self.method} over {self.months} months; "
                 f"{interval(self.arpa, self.arpa_se, ',.0f')}")
        second = ""
        if self.expansion is not None:
            second = (f"expansion: MRR change of retained accounts over {self.months} months; "
                      f"{interval(self.expansion, self.expansion_se, '+.3%')} a month")
        return first, second


def fit_revenue(mrr: np.ndarray, customers: np.ndarray, churned: np.ndarray | None,
                new: np.ndarray | None) -> RevenueFit | None:
    """ARPA and expansion from monthly MRR, customers and (if tracked) churned and new
    customers; None when the data cannot tell."""
    mrr = np.asarray(mrr, dtype=np.float64)
    customers = np.asarray(customers, dtype=np.float64)
    if churned is not None and new is not None:
        prev_c, prev_m = customers[:-1], mrr[:-1]
        ok = prev_c > 0
        kept = np.where(ok, prev_m * (1.0 - np.asarray(churned[1:], float)
                                      / np.where(ok, prev_c, 1.0)), 0.0)
        y = mrr[1:] - kept
        x = np.column_stack([kept, np.asarray(new[1:], float)])
        rows = len(y)
        if rows >= 3 and np.linalg.matrix_rank(x) == 2 and x[:, 1].sum() > 0:
            coef, *_ = np.linalg.lstsq(x, y, rcond=None)
            resid = y - x @ coef
            df = rows - 2
            s2 = float(resid @ resid) / df if df > 0 else 0.0
            cov = s2 * np.linalg.inv(x.T @ x) * _t_widening(df) ** 2
            if coef[1] > 0 and coef[0] > -1:
                return RevenueFit(rows, float(coef[1]), math.sqrt(max(cov[1, 1], 0.0)),
                                  float(coef[0]), math.sqrt(max(cov[0, 0], 0.0)),
                                  "least squares of the MRR change on retained MRR and new "
                                  "customers")
    ok = customers > 0
    if not ok.any():
        return None
    per = mrr[ok] / customers[ok]
    se = float(np.std(per, ddof=1) / math.sqrt(per.size)) if per.size > 1 else 0.0
    return RevenueFit(int(per.size), float(per.mean()), se * _t_widening(per.size - 1),
                      None, 0.0, "MRR per customer")
