"""Bayesian conversion and churn rates from monthly (reached, converted) pairs.

Model: month t's rate p_t ~ Beta with mean ``mu`` and month-to-month coefficient of variation
``cv`` (a beta-binomial; ``cv = 0`` is a plain binomial), converted_t ~ Binomial(reached_t,
p_t). Prior: ``mu`` ~ Beta(1/2, 1/2) (Jeffreys), ``cv`` ~ Exponential(mean 0.25), a weak prior
that shrinks toward "no extra month-to-month spread". The posterior is computed on a grid.

Whether the months vary more than binomial noise explains is tested with the classical
dispersion statistic (chi-square with T - 1 degrees of freedom). If they do (p < 0.05), the
rate is written ``vary = "month"``: a beta whose mean and variance are those of the posterior
predictive of one month's rate (parameter uncertainty plus month-to-month spread), with a
``persistence`` chosen so that the average rate over the forecast horizon has the variance
the posterior implies (parameter uncertainty does not average out, monthly spread does).
Otherwise the rate is drawn once per path from a beta matching the posterior of ``mu``.

>>> f = fit_rate([8], [3], horizon=12)          # 3 customers from 8 opportunities
>>> round(f.mean, 2), round(f.low, 2), round(f.high, 2)
(0.4, 0.14, 0.72)
>>> f.spec["dist"], f.spec.get("vary", "path")
('beta', 'path')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

PRIOR_MU = (0.5, 0.5)
PRIOR_CV_MEAN = 0.25
DISPERSION_LEVEL = 0.05
_MU_POINTS = 61
_CV_POINTS = 24
MAX_PERSISTENCE = 0.98


@dataclass(frozen=True)
class RateFit:
    """The posterior of a rate and the config spec that expresses it."""

    months: int  # months with reached > 0
    trials: int
    successes: int
    mean: float  # posterior mean of the long-run rate mu
    low: float  # 5% and 95% posterior quantiles of mu
    high: float
    sd: float  # posterior sd of mu
    month_sd: float  # posterior mean of the month-to-month sd of the rate
    dispersion_p: float  # p-value of the binomial dispersion test (1.0 when untestable)
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def overdispersed(self) -> bool:
        return self.dispersion_p < DISPERSION_LEVEL

    def evidence(self, what: str) -> str:
        """A one-line comment: the data and the posterior."""
        text = (f"{what}: {self.successes:,} of {self.trials:,} over {self.months} months; "
                f"rate {self.mean:.4g} (90% interval {self.low:.4g} to {self.high:.4g})")
        if self.overdispersed:
            return text + (f"; months vary more than chance (dispersion p = "
                           f"{self.dispersion_p:.2g}, month-to-month sd {self.month_sd:.3g})")
        return text + (f"; month-to-month spread is binomial (dispersion p = "
                       f"{self.dispersion_p:.2g})")


def dispersion_p(trials: np.ndarray, successes: np.ndarray) -> float:
    """p-value of the chi-square dispersion test of a common binomial rate."""
    if len(trials) < 2 or trials.sum() == 0:
        return 1.0
    p = successes.sum() / trials.sum()
    if p <= 0.0 or p >= 1.0:
        return 1.0
    x2 = float(np.sum((successes - trials * p) ** 2 / (trials * p * (1 - p))))
    return float(stats.chi2.sf(x2, len(trials) - 1))


def average_variance_ratio(r: float, horizon: int) -> float:
    """Var of the mean of ``horizon`` AR(1) values with lag-1 correlation ``r``, over the
    variance of one value."""
    k = np.arange(1, horizon)
    return float((horizon + 2.0 * np.sum((horizon - k) * r**k)) / horizon**2)


def persistence_for(parameter_var: float, month_var: float, horizon: int) -> float:
    """The AR(1) persistence whose ``horizon``-month average has the variance of a constant
    (``parameter_var``) plus independent monthly noise (``month_var``)."""
    total = parameter_var + month_var
    if horizon <= 1 or total <= 0.0 or parameter_var <= 0.0:
        return 0.0
    target = (parameter_var + month_var / horizon) / total
    if average_variance_ratio(MAX_PERSISTENCE, horizon) <= target:
        return MAX_PERSISTENCE
    root = optimize.brentq(lambda r: average_variance_ratio(r, horizon) - target,
                           0.0, MAX_PERSISTENCE, xtol=1e-6)
    return float(root)


def _grid(trials: np.ndarray, successes: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """Posterior weights on a (mu, cv) grid; returns (mu, cv, weights[mu, cv])."""
    a, b = PRIOR_MU
    k, n = successes.sum(), trials.sum()
    center = np.log((a + k) / (b + n - k))
    se_binomial = np.sqrt(1.0 / (a + k) + 1.0 / (b + n - k))
    monthly = np.log((successes + 0.5) / (trials - successes + 0.5))
    se_months = np.std(monthly, ddof=1) / np.sqrt(len(trials)) if len(trials) > 1 else 0.0
    half = 7.0 * max(se_binomial, se_months) + 0.05
    mu = special.expit(center + np.linspace(-half, half, _MU_POINTS))
    cv = stats.expon.ppf((np.arange(_CV_POINTS) + 0.5) / _CV_POINTS, scale=PRIOR_CV_MEAN)
    m, c = mu[:, None, None], cv[None, :, None]
    kappa = np.clip((1.0 - m) / (m * c**2) - 1.0, 1e-3, 1e8)
    alpha, beta = m * kappa, (1.0 - m) * kappa
    x, t = successes[None, None, :], trials[None, None, :]
    gln = special.gammaln
    per_month = gln(x + alpha) + gln(t - x + beta) - gln(t + kappa)
    loglik = per_month.sum(axis=2) + len(trials) * (gln(kappa) - gln(alpha) - gln(beta))[..., 0]
    valid = (1.0 - m[..., 0]) / (m[..., 0] * c[..., 0] ** 2) > 1.0 + 1e-3
    # Jeffreys prior on mu, times d mu / d logit(mu) for the logit-spaced grid
    logprior = (a * np.log(mu) + b * np.log1p(-mu))[:, None]
    logpost = np.where(valid, loglik + logprior, -np.inf)
    weights = np.exp(logpost - logpost.max())
    return mu, cv, weights / weights.sum()


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    cdf = np.cumsum(weights) - 0.5 * weights
    return float(np.interp(q, cdf, values))


def fit_rate(trials: Sequence[int] | np.ndarray, successes: Sequence[int] | np.ndarray, *,
             horizon: int) -> RateFit:
    """The posterior of a rate from monthly ``trials`` (reached) and ``successes``
    (converted), and the config spec for a forecast of ``horizon`` months."""
    n_all = np.asarray(trials, dtype=np.float64)
    k_all = np.asarray(successes, dtype=np.float64)
    keep = n_all > 0
    n, k = n_all[keep], k_all[keep]
    if n.size == 0:
        raise ValueError("no month with anything to convert")
    mu, cv, w = _grid(n, k)
    w_mu = w.sum(axis=1)
    mean = float(np.sum(w_mu * mu))
    var_mu = float(np.sum(w_mu * (mu - mean) ** 2))
    m, c = mu[:, None], cv[None, :]
    month_var = float(np.sum(w * np.minimum(c**2 * m**2, m * (1.0 - m))))
    p_value = dispersion_p(n, k)
    fit = RateFit(int(n.size), int(n.sum()), int(k.sum()), mean,
                  _quantile(mu, w_mu, 0.05), _quantile(mu, w_mu, 0.95), var_mu**0.5,
                  month_var**0.5, p_value)
    if fit.overdispersed:
        spec = beta_spec(mean, var_mu + month_var)
        r = persistence_for(var_mu, month_var, horizon)
        spec.update({"vary": "month"} | ({"persistence": round(r, 3)} if r > 0 else {}))
    else:
        spec = beta_spec(mean, var_mu)
    return RateFit(**{**fit.__dict__, "spec": spec})


def beta_spec(mean: float, variance: float) -> dict[str, Any]:
    """``{dist = "beta", alpha, beta}`` with this mean and variance (capped to a valid beta)."""
    variance = min(variance, 0.99 * mean * (1.0 - mean))
    kappa = mean * (1.0 - mean) / variance - 1.0
    return {"dist": "beta", "alpha": float(f"{mean * kappa:.6g}"),
            "beta": float(f"{(1.0 - mean) * kappa:.6g}")}
