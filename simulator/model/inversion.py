"""Counts drawn by inversion: each count a monotone function of its mean for a fixed uniform.

:class:`InversionFlows` draws the same laws as :class:`~simulator.model.flows.BinomialFlows`
(Poisson arrivals with Poisson splitting, binomial thinning, multinomial splits and delays,
hypergeometric allocation), from the same named and month-addressed streams, but every count
is the inverse of its CDF at ONE uniform per path per draw (a multinomial over k cells: k - 1
uniforms, one per conditional binomial). The streams advance by the same amount whatever the
means, and a path's counts depend on its own means and uniforms only; for a fixed uniform a
Poisson count never falls when its mean rises, nor a binomial one when its n or p rise (nor
n minus it when n rises: the survivors of a churn draw). A model built from these steps is
monotone in its volumes path by path, so a goal seek over a multiplier sees a monotone step
function of it (common random numbers in the strict sense).

The draws differ from NumPy's (which use a varying number of uniforms per draw), so a run
under these flows gives other numbers than ``simulate`` with the same seed: the same law.

The inversion is exact to the CDF: the count is the least k with CDF(k) >= u, checked with
:func:`scipy.special.pdtr` / :func:`scipy.special.bdtr` from a Cornish-Fisher guess (means
below :data:`DIRECT` are searched from 0 with the pmf recursion instead, which is cheaper).
Above :data:`EXACT_LIMIT` (where float64 no longer holds every integer, and the count's
standard deviation exceeds 3e7) the count is the Cornish-Fisher quantile itself.

>>> u = np.array([0.1, 0.5, 0.9])
>>> poisson_inverse(u, np.array([3.0, 3.0, 3.0])).tolist()
[1, 3, 5]
>>> binomial_inverse(u, np.array([10, 10, 10]), 0.5).tolist()
[3, 5, 7]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from .flows import BinomialFlows
from .params import Value

#: Means below this are inverted by a direct search from 0 (the pmf recursion).
DIRECT = 12.0
#: Means or n above this get the Cornish-Fisher quantile (float64 integers stop at 2**53).
EXACT_LIMIT = 2.0**50
#: The largest n whose binomial CDF comes from :func:`scipy.special.bdtr`.
BDTR_LIMIT = 10_000
#: The largest Poisson mean whose search steps with the pmf from log-gamma functions.
PMF_LIMIT = 1e6
#: Steps of one from the guess before doubling steps and bisection take over (far tails).
STEPS = 6

_TINY = np.finfo(np.float64).tiny
_TOP = 1.0 - np.finfo(np.float64).epsneg


def _guess(u: np.ndarray, mean: np.ndarray, sd: np.ndarray, skew: np.ndarray) -> np.ndarray:
    """The Cornish-Fisher quantile with a continuity correction: about the least k with
    CDF(k) >= u."""
    z = special.ndtri(np.clip(u, _TINY, _TOP))
    w = z + (z * z - 1.0) * skew / 6.0
    return np.ceil(mean + sd * w - 0.5)


def _search(u: np.ndarray, x: np.ndarray, cdf: Any, top: np.ndarray, pmf: Any = None
            ) -> np.ndarray:
    """The least integer k in [0, top] with ``cdf(k, idx)`` >= u (CDF(top) = 1), from
    guesses ``x`` (floats) by steps of one (adding or taking off ``pmf(k, idx)`` when
    given, to 1e-12 of the CDF); those still moving after :data:`STEPS` steps (far tails)
    go on by doubling steps and bisection on the CDF."""
    x = np.clip(x, 0.0, top)
    todo = np.arange(len(u))
    at = cdf(x, todo)  # CDF(x); the steps add or take off the pmf (cheaper than the CDF)
    above = at >= u
    down, up = todo[above], todo[~above]  # down: CDF(x) >= u; up: CDF(x) < u
    for _ in range(STEPS):
        if down.size:
            down = down[x[down] > 0.0]
            lower = at[down] - pmf(x[down], down) if pmf else cdf(x[down] - 1.0, down)
            keep = lower >= u[down]
            down = down[keep]
            x[down] -= 1.0
            at[down] = lower[keep]
        if up.size:
            x[up] += 1.0
            at[up] = at[up] + pmf(x[up], up) if pmf else cdf(x[up], up)
            up = up[(at[up] < u[up]) & (x[up] < top[up])]
    if down.size or up.size:
        x[down] = _bisect(u[down], x[down], cdf, down, -1.0)
        x[up] = _bisect(u[up], x[up], cdf, up, 1.0, top[up])
    return x


def _bisect(u: np.ndarray, x: np.ndarray, cdf: Any, idx: np.ndarray, direction: float,
            top: np.ndarray | None = None) -> np.ndarray:
    """From ``x`` with CDF(x) >= u (``direction`` -1) or < u (+1): doubling steps to a
    bracket lo < k <= hi with CDF(lo) < u <= CDF(hi) (lo = -1: none below), then
    bisection; the least such k."""
    lo, hi = (x.copy(), x.copy())
    step = np.full(len(u), 1.0)
    i = np.arange(len(u))
    while i.size:  # gallop
        step[i] *= 2.0
        if direction < 0:
            probe = np.maximum(x[i] - step[i], -1.0)
            reached = (probe >= 0) & (cdf(np.maximum(probe, 0.0), idx[i]) >= u[i])
            hi[i[reached]] = probe[reached]
            lo[i[~reached]] = probe[~reached]
        else:
            assert top is not None
            probe = np.minimum(x[i] + step[i], top[i])
            reached = (probe >= top[i]) | (cdf(probe, idx[i]) >= u[i])
            lo[i[~reached]] = probe[~reached]
            hi[i[reached]] = probe[reached]
        i = i[reached] if direction < 0 else i[~reached]
    i = np.flatnonzero(hi - lo > 1.0)
    while i.size:  # bisect
        mid = np.floor((lo[i] + hi[i]) / 2.0)
        reached = cdf(mid, idx[i]) >= u[i]
        hi[i[reached]] = mid[reached]
        lo[i[~reached]] = mid[~reached]
        i = i[hi[i] - lo[i] > 1.0]
    return hi


def _direct(u: np.ndarray, pmf: np.ndarray, ratio: Any, top: np.ndarray) -> np.ndarray:
    """The least k with CDF(k) >= u, summing the pmf from 0 (``pmf`` at 0, ``ratio(k, idx)``
    = pmf(k + 1) / pmf(k)); stops where the sum no longer grows (u within rounding of 1)."""
    x = np.zeros(len(u))
    cdf = pmf.copy()
    i = np.flatnonzero((cdf < u) & (top > 0))
    while i.size:
        step = pmf[i] * ratio(x[i], i)
        x[i] += 1.0
        pmf[i] = step
        grown = cdf[i] + step
        moved = grown > cdf[i]
        cdf[i] = grown
        i = i[(grown < u[i]) & moved & (x[i] < top[i])]
    return x


def poisson_inverse(u: np.ndarray, mean: Value) -> np.ndarray:
    """Poisson(``mean``) counts by inversion at uniforms ``u`` (int64, ``u``'s shape)."""
    u = np.asarray(u, dtype=np.float64)
    lam = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape).ravel()
    flat = u.ravel()
    x = np.zeros(flat.shape)
    small = lam < DIRECT
    if small.any():
        ls, us = lam[small], flat[small]
        x[small] = _direct(us, np.exp(-ls), lambda k, i: ls[i] / (k + 1.0),
                           np.full(len(us), np.inf))
    huge = lam > EXACT_LIMIT
    if huge.any():
        lh = lam[huge]
        x[huge] = np.floor(_guess(flat[huge], lh, np.sqrt(lh), 1.0 / np.sqrt(lh)))
    rest = ~(small | huge)
    if rest.any():
        lr, ur = lam[rest], flat[rest]
        guess = _guess(ur, lr, np.sqrt(lr), 1.0 / np.sqrt(lr))
        x[rest] = _search(ur, guess, lambda k, i: special.pdtr(k, lr[i]),
                          np.full(len(ur), np.inf),
                          (lambda k, i: np.exp(special.xlogy(k, lr[i]) - lr[i]
                                               - special.gammaln(k + 1.0)))
                          if lr.max() <= PMF_LIMIT else None)
    return x.astype(np.int64).reshape(u.shape)


def _binomial_cdf(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(Binomial(n, p) <= k): :func:`scipy.special.bdtr` up to n = :data:`BDTR_LIMIT`
    (error below 1e-11 there; it drifts by 1e-3 at n = 1e7), above it the regularized
    incomplete beta function :func:`scipy.special.betaincc` (accurate, slower)."""
    if np.all(n <= BDTR_LIMIT):
        return np.asarray(special.bdtr(k, n, p))
    below = k < n
    exact = special.betaincc(k + 1.0, np.where(below, n - k, 1.0), p)
    return np.where(n <= BDTR_LIMIT, special.bdtr(k, n, p), np.where(below, exact, 1.0))


def _binomial_pmf(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(Binomial(n, p) = k) from log-gamma functions (relative error about 1e-12 up to
    n = :data:`BDTR_LIMIT`)."""
    return np.exp(special.gammaln(n + 1.0) - special.gammaln(k + 1.0)
                  - special.gammaln(n - k + 1.0) + special.xlogy(k, p)
                  + special.xlog1py(n - k, -p))


def binomial_inverse(u: np.ndarray, n: Value, p: Value) -> np.ndarray:
    """Binomial(``n``, ``p``) counts by inversion at uniforms ``u`` (int64, ``u``'s shape)."""
    u = np.asarray(u, dtype=np.float64)
    ns = np.broadcast_to(np.asarray(n, dtype=np.int64), u.shape).ravel()
    ps = np.broadcast_to(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0), u.shape).ravel()
    flat = u.ravel()
    x = np.zeros(flat.shape)
    full = (ps >= 1.0) & (ns > 0)
    x[full] = ns[full]
    live = (ns > 0) & (ps > 0.0) & (ps < 1.0)
    mean = ns * ps
    small = live & (mean < DIRECT)
    if small.any():
        nn, pp, uu = ns[small].astype(np.float64), ps[small], flat[small]
        odds = pp / (1.0 - pp)
        x[small] = _direct(uu, np.exp(nn * np.log1p(-pp)),
                           lambda k, i: (nn[i] - k) / (k + 1.0) * odds[i], nn)
    big = live & ~small
    if big.any():
        nb, pb, ub = ns[big], ps[big], flat[big]
        sd = np.sqrt(nb * pb * (1.0 - pb))
        guess = _guess(ub, nb * pb, sd, (1.0 - 2.0 * pb) / sd)
        top = nb.astype(np.float64)
        huge = nb > EXACT_LIMIT
        exact = np.clip(guess, 0.0, top)
        if (~huge).any():
            e = ~huge
            ne, pe, ue = nb[e], pb[e], ub[e]
            exact[e] = _search(ue, guess[e], lambda k, i: _binomial_cdf(k, ne[i], pe[i]),
                               top[e], (lambda k, i: _binomial_pmf(k, ne[i], pe[i]))
                               if ne.max() <= BDTR_LIMIT else None)
        x[big] = np.floor(exact)
    return x.astype(np.int64).reshape(u.shape)


def hypergeometric_inverse(u: np.ndarray, good: np.ndarray, bad: np.ndarray,
                           sample: np.ndarray) -> np.ndarray:
    """Hypergeometric counts (good units among ``sample`` drawn without replacement) by
    inversion at uniforms ``u``: a direct search from the least possible count."""
    u = np.asarray(u, dtype=np.float64)
    g, b, s = (np.broadcast_to(np.asarray(a, dtype=np.float64), u.shape).ravel()
               for a in (good, bad, sample))
    low = np.maximum(0.0, s - b)
    top = np.minimum(s, g) - low

    def log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
        return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)

    pmf = np.exp(log_choose(g, low) + log_choose(b, s - low) - log_choose(g + b, s))

    def ratio(k: np.ndarray, i: np.ndarray) -> np.ndarray:
        c = low[i] + k
        return (g[i] - c) * (s[i] - c) / ((c + 1.0) * (b[i] - s[i] + c + 1.0))

    flat = u.ravel()
    x = low + _direct(flat, pmf.copy(), ratio, top)
    lost = (pmf == 0.0) & (top > 0)  # the pmf at the least count underflows: scipy's inverse
    if lost.any():
        from scipy import stats  # slow to import; rarely needed

        x[lost] = stats.hypergeom.ppf(flat[lost], g[lost] + b[lost], g[lost], s[lost])
    return x.astype(np.int64).reshape(u.shape)


def multinomial_inverse(u: np.ndarray, n: np.ndarray, pvals: np.ndarray) -> np.ndarray:
    """Multinomial(``n``, ``pvals``) counts as conditional binomials, one per cell but the
    last, at uniforms ``u`` of shape (len(n), len(pvals) - 1); shape (len(n), len(pvals))."""
    p = np.asarray(pvals, dtype=np.float64)
    tails = np.cumsum(p[::-1])[::-1]
    left = np.asarray(n, dtype=np.int64).copy()
    cells = []
    for j in range(len(p) - 1):
        q = p[j] / tails[j] if tails[j] > 0 else 0.0
        cell = binomial_inverse(u[:, j], left, min(q, 1.0))
        cells.append(cell)
        left = left - cell
    cells.append(left)
    return np.stack(cells, axis=1)


class InversionFlows(BinomialFlows):
    """:class:`BinomialFlows`' laws and streams, every count drawn by inversion (see the
    module doc): one uniform per path per draw, each count monotone in its mean."""

    def _poisson(self, rng: np.random.Generator, mean: Value) -> np.ndarray:
        return poisson_inverse(rng.random(np.shape(mean)), mean)

    def _binomial(self, rng: np.random.Generator, n: np.ndarray, p: Value) -> np.ndarray:
        return binomial_inverse(rng.random(np.broadcast(n, p).shape), n, p)

    def _multinomial(self, rng: np.random.Generator, n: np.ndarray, pvals: np.ndarray
                     ) -> np.ndarray:
        return multinomial_inverse(rng.random((len(n), len(pvals) - 1)), n, pvals)

    def _hypergeometric(self, rng: np.random.Generator, good: np.ndarray, bad: np.ndarray,
                        sample: np.ndarray) -> np.ndarray:
        return hypergeometric_inverse(rng.random(np.broadcast(good, bad, sample).shape),
                                      good, bad, sample)
