"""The likelihood of a cohort table under the shifted-beta-geometric model, and its maximum.

A customer seen active at age ``lo`` and gone by the cohort's next observed age ``hi``
churned in (lo, hi], with probability (S(lo) - S(hi)) / S(lo), S(a) = B(alpha, beta + a) /
B(alpha, beta); one still active at the cohort's last observed age is censored there and
contributes S(age). Everything is in (log alpha, log beta), with the analytic gradient and
Hessian (digamma and trigamma).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ..config.errors import ConfigError

#: Bounds of log alpha and log beta in the fit: beyond them the data cannot tell the sBG
#: from flat churn (alpha and beta grow together when customers do not differ).
LOG_BOUNDS = (-9.0, 11.0)


@dataclass(frozen=True)
class Counts:
    """What the likelihood needs: customers who churned between two observed ages
    (``lo`` < age <= ``hi``), and customers still active at a cohort's last observed age."""

    lo: np.ndarray
    hi: np.ndarray
    churned: np.ndarray
    age: np.ndarray
    censored: np.ndarray

    @classmethod
    def of(cls, table: pd.DataFrame) -> Counts:
        """From a checked long table (sorted by cohort and age)."""
        same = table["cohort"].to_numpy()[1:] == table["cohort"].to_numpy()[:-1]
        ages, active = table["age"].to_numpy(), table["active"].to_numpy()
        lo, hi = ages[:-1][same], ages[1:][same]
        churned = (active[:-1] - active[1:])[same]
        last = np.append(~same, True)
        pairs = pd.DataFrame({"lo": lo, "hi": hi, "n": churned}).groupby(["lo", "hi"]).sum()
        ends = pd.DataFrame({"age": ages[last], "n": active[last]}).groupby("age").sum()
        return cls(pairs.index.get_level_values(0).to_numpy(np.float64),
                   pairs.index.get_level_values(1).to_numpy(np.float64),
                   pairs["n"].to_numpy(np.float64), ends.index.to_numpy(np.float64),
                   ends["n"].to_numpy(np.float64))

    def loglik(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The log-likelihood at ``theta`` = (log alpha, log beta), its gradient and its
        Hessian (analytic, from digamma and trigamma)."""
        a, b = math.exp(theta[0]), math.exp(theta[1])
        lo, d_lo, h_lo = _log_survival(a, b, self.lo)
        hi, d_hi, h_hi = _log_survival(a, b, self.hi)
        kept, d_kept, h_kept = _log_survival(a, b, self.age)
        # churned in (lo, hi]: log(S_lo - S_hi) = log S_lo + log(1 - e^gap), gap = log S_hi/S_lo
        gap = hi - lo
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            value = lo + np.log(-np.expm1(gap))
            q = np.exp(gap) / -np.expm1(gap)  # S_hi / (S_lo - S_hi)
        d_gap = d_hi - d_lo
        grad = d_lo - q * d_gap
        hess = h_lo - q * (h_hi - h_lo) - (q * (1 + q)) * _outer(d_gap)
        n, m = self.churned, self.censored
        total = float(np.sum(n * value) + np.sum(m * kept))
        g = (grad * n).sum(axis=1) + (d_kept * m).sum(axis=1)
        h = (hess * n).sum(axis=2) + (h_kept * m).sum(axis=2)
        scale = np.array([a, b])  # d/d(log x) = x d/dx
        return total, g * scale, h * np.outer(scale, scale) + np.diag(g * scale)

    def fit(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The MLE of (log alpha, log beta) (Newton steps, damped while they do not improve
        the likelihood, inside :data:`LOG_BOUNDS`), its covariance (the inverse observed
        information; infinite variances when it is singular) and the log-likelihood."""
        if not len(self.lo):
            raise ConfigError("age", "no cohort is observed beyond age 0: nothing to fit "
                                     "(add rows for ages 1, 2, ...)")
        if not self.churned.sum():
            raise ConfigError("active", "no customer churned in the table: alpha and beta "
                                        "cannot be fitted (at least one cohort must shrink)")
        exposure = float(np.sum(self.churned * (self.hi + self.lo) / 2)
                         + np.sum(self.censored * self.age))
        churn = min(max(float(self.churned.sum()) / max(exposure, 1.0), 1e-4), 0.9)
        theta = np.array([0.0, math.log((1.0 - churn) / churn)])
        value, grad, hess = self.loglik(theta)
        damping = 1e-3
        for _ in range(200):
            scale = max(1.0, float(np.abs(hess).max()))
            step = np.linalg.solve(-hess + damping * scale * np.eye(2), grad)
            trial = np.clip(theta + step, *LOG_BOUNDS)
            new = self.loglik(trial)
            if math.isfinite(new[0]) and new[0] >= value:
                done = new[0] - value < 1e-10 * max(1.0, abs(value)) \
                    or np.abs(trial - theta).max() < 1e-10
                theta, (value, grad, hess) = trial, new
                damping = max(damping / 10, 1e-12)
                if done:
                    break
            else:
                damping *= 10
                if damping > 1e12:
                    break
        information = -hess
        if np.linalg.eigvalsh(information).min() <= 0:
            return theta, np.diag([np.inf, np.inf]), value
        return theta, np.asarray(np.linalg.inv(information)), value


def _log_survival(a: float, b: float, x: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log S(x) = betaln(a, b + x) - betaln(a, b), its gradient in (a, b), shape (2, k),
    and its Hessian, shape (2, 2, k)."""
    value = special.betaln(a, b + x) - special.betaln(a, b)
    ab, abx, bx = a + b, a + b + x, b + x
    da = special.digamma(ab) - special.digamma(abx)
    db = special.digamma(bx) - special.digamma(abx) - special.digamma(b) + special.digamma(ab)
    haa = special.polygamma(1, ab) - special.polygamma(1, abx)
    hbb = special.polygamma(1, bx) - special.polygamma(1, abx) - special.polygamma(1, b) \
        + special.polygamma(1, ab)
    return value, np.stack([da, db]), np.array([[haa, haa], [haa, hbb]])


def _outer(v: np.ndarray) -> np.ndarray:
    """Per column outer products of a (2, k) array: shape (2, 2, k)."""
    return v[:, None, :] * v[None, :, :]
