"""Fit distribution families to history by maximum likelihood and rank them by AIC.

``fit(values)`` returns one :class:`Fit` per applicable family, best first; each fit carries
its parameters in the config spec form (``{"dist": "beta", "alpha": ..., "beta": ...}``) and
the inline TOML table to paste into a config. ``ranking`` gives the fits as a table (a
pandas DataFrame), and ``read_column`` reads one numeric column of a CSV of history.

``scipy.stats`` and pandas are imported inside the functions that use them: importing them
takes about 0.4 s each, which a plain ``simulate CONFIG`` (importing this package) should
not pay.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ._candidates import BOUNDED, CANDIDATES, DISCRETE, Candidate, Spec, interval_mass, ks_counts
from ._family import hint, show
from .base import Distribution, DistributionError, FloatArray
from .empirical import read_column as _read_csv_column
from .spec import parse

if TYPE_CHECKING:
    import pandas as pd

#: The smallest number of finite observations ``fit`` accepts.
MIN_VALUES = 5



@dataclass(frozen=True)
class Fit:
    """One family fitted to the data.

    Attributes
    ----------
    family : str
        The family's ``dist`` name (``"beta"``, ``"lognormal"``...).
    spec : dict
        The fitted parameters in config spec form, at full precision, e.g.
        ``{"dist": "gamma", "shape": 2.1, "scale": 450.0}``; ``parse(spec)`` builds it.
    loglik : float
        The log-likelihood at the estimate: a sum of log-densities, or of log-probabilities
        for ``poisson`` and for every family on all-integer data (see :func:`fit`).
    aic : float
        Akaike's information criterion ``2 k - 2 loglik`` (``k`` free parameters); lower is
        better.
    ks_stat, ks_pvalue : float
        The Kolmogorov-Smirnov statistic and p-value of the data against the fitted
        distribution. The p-value is optimistic (too high) because the parameters were
        estimated from the same data. For the discrete ``poisson`` the statistic is the
        exact distance between the step functions and the p-value comes from the
        continuous null distribution, which makes it higher still (conservative).
    n : int
        The number of observations fitted.
    """

    family: str
    spec: Spec = field(hash=False)
    loglik: float
    aic: float
    ks_stat: float
    ks_pvalue: float
    n: int

    def toml(self) -> str:
        """The inline TOML table to paste into a config, numbers to 6 significant digits.

        For ``uniform`` and ``triangular`` the bounds are rounded outwards, so the pasted
        range still holds every observation.

        Examples
        --------
        >>> Fit("gamma", {"dist": "gamma", "shape": 2.0, "scale": 1234.56789}, -1.0, 6.0,
        ...     0.01, 0.9, 100).toml()
        '{ dist = "gamma", shape = 2, scale = 1234.57 }'
        """
        parts = [f'dist = "{self.family}"']
        for key, value in self.spec.items():
            if key == "dist":
                continue
            direction = {"low": -1, "high": 1}.get(key, 0) if self.family in BOUNDED else 0
            parts.append(f"{key} = {_number(float(value), direction)}")
        return "{ " + ", ".join(parts) + " }"

    def distribution(self) -> Distribution:
        """The fitted distribution, ``parse(self.spec)``."""
        return parse(self.spec)


def fit(values: ArrayLike, families: str | Iterable[str] | None = None) -> list[Fit]:
    """Fit candidate families to observations by maximum likelihood, best AIC first.

    Candidates (all of them when ``families`` is None): ``normal``; ``lognormal`` and
    ``gamma`` with the location fixed at 0 (positive data only); ``beta`` on (0, 1) (data
    strictly inside (0, 1) only); ``poisson`` (non-negative integer data only); ``uniform``
    (bounds at the data's min and max) and ``triangular`` (low, mode and high all free).
    Each is fitted with ``scipy.stats``, scored by AIC ``= 2 k - 2 loglik`` (``k`` free
    parameters), and the fits are sorted by ascending AIC (ties keep the order above). A
    difference in AIC under about 2 is no real evidence either way. The log-likelihood is
    a sum of log-densities, except on all-integer data, where every family is scored by
    probabilities so that poisson competes fairly: a continuous family by the probability
    of each value's interval ``[k - 0.5, k + 0.5]`` (its parameters are still the
    continuous maximum-likelihood estimates). Each fit also reports a Kolmogorov-Smirnov
    test against the fitted distribution; its p-value is optimistic because the parameters
    were estimated from the same data.

    Parameters
    ----------
    values : array_like
        One-dimensional observations. NaNs are dropped (treated as missing history);
        infinities are rejected. At least 5 finite values, not all equal, are required.
    families : str or iterable of str, optional
        Restrict the candidates to these names. Families that cannot describe the data
        (beta outside (0, 1), lognormal/gamma with values <= 0, poisson with non-integers)
        are skipped when ``families`` is None and are an error when requested explicitly.

    Returns
    -------
    list of Fit
        One per fitted family, best (lowest AIC) first.

    Raises
    ------
    DistributionError
        ``param="values"`` for unusable data, ``param="families"`` for an unknown name, an
        empty list, or a requested family that cannot describe the data.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(7).beta(2.0, 5.0, size=1000)
    >>> fits = fit(x)
    >>> [f.family for f in fits][:2]
    ['beta', 'gamma']
    >>> best = fits[0]
    >>> round(best.spec["alpha"], 1), round(best.spec["beta"], 1)
    (2.0, 5.0)
    >>> best.toml().startswith('{ dist = "beta", alpha = ')
    True
    >>> fit(x, families=["poisson"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    distributions.base.DistributionError: families: poisson needs non-negative integer values ...
    """
    x = _clean(values)
    names, explicit = _families(families)
    integers = bool(np.all(x == np.floor(x)))
    fits: list[Fit] = []
    for name in names:
        candidate = CANDIDATES[name]
        problem = candidate.problem(x)
        if problem is None:
            result = _fit_one(name, candidate, x, integers)
            if isinstance(result, Fit):
                fits.append(result)
                continue
            problem = result
        if explicit:
            raise DistributionError("families", f"{name} {problem}")
    if not fits:
        raise DistributionError("families", "no family could be fitted to these values")
    order = {name: i for i, name in enumerate(CANDIDATES)}
    return sorted(fits, key=lambda f: (f.aic, order[f.family]))


def ranking(fits: Iterable[Fit]) -> pd.DataFrame:
    """The fits as a table, one row per fit in the given order (``fit`` ranks best first).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``rank`` (1, 2, ...), with columns ``family``, ``loglik``, ``aic``,
        ``daic`` (AIC above the lowest), ``ks_stat``, ``ks_pvalue``, ``n``, ``toml`` (see
        :meth:`Fit.toml`) and ``spec``.

    Examples
    --------
    >>> f = Fit("poisson", {"dist": "poisson", "lam": 4.2}, -210.0, 422.0, 0.05, 0.5, 100)
    >>> frame = ranking([f])
    >>> list(frame.columns[:4]), frame.index.name, float(frame.loc[1, "aic"])
    (['family', 'loglik', 'aic', 'daic'], 'rank', 422.0)
    >>> frame.loc[1, "toml"]
    '{ dist = "poisson", lam = 4.2 }'
    """
    import pandas as pd  # deferred: see the module docstring

    rows = list(fits)
    columns = ["family", "loglik", "aic", "daic", "ks_stat", "ks_pvalue", "n", "toml", "spec"]
    best = min((f.aic for f in rows), default=0.0)
    data = [
        [f.family, f.loglik, f.aic, f.aic - best, f.ks_stat, f.ks_pvalue, f.n, f.toml(), f.spec]
        for f in rows
    ]
    index = pd.RangeIndex(1, len(rows) + 1, name="rank")
    return pd.DataFrame(data, columns=columns, index=index)


def read_column(path: str | os.PathLike[str], column: str) -> FloatArray:
    """Read the numbers in one column of a CSV file (with a header row), skipping blanks.

    Raises
    ------
    DistributionError
        ``param="file"`` when the file is missing or unreadable; ``param="column"`` when the
        column is missing (the message lists the columns, with a did-you-mean hint), holds a
        non-numeric or infinite value, or has no values.
    """
    values, _ = _read_csv_column(path, column)
    return values


def _fit_one(name: str, candidate: Candidate, x: FloatArray, integers: bool) -> Fit | str:
    """Fit one family, or say why the fit failed.

    On integer data a continuous family is scored by the probability it gives each value's
    interval ``[k - 0.5, k + 0.5]``, so its likelihood is comparable with poisson's.
    """
    from scipy import stats
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            params, frozen, logf = candidate.fitter(x)
            loglik = float(np.sum(logf(x)))  # -inf when a value falls outside the support
            if integers and name not in DISCRETE and math.isfinite(loglik):
                loglik = float(np.sum(np.log(interval_mass(frozen, x))))
            if name in DISCRETE:
                ks_stat = ks_counts(x, frozen.cdf)
                ks_pvalue = float(stats.kstwo.sf(ks_stat, x.size))
            else:
                ks = stats.kstest(x, frozen.cdf)
                ks_stat, ks_pvalue = float(ks.statistic), float(ks.pvalue)
    except (ValueError, RuntimeError, FloatingPointError, ArithmeticError) as err:
        return f"could not be fitted ({err})"
    if not (math.isfinite(loglik) and all(math.isfinite(v) for v in params.values())):
        return "could not be fitted (the likelihood is not finite at the estimate)"
    spec: Spec = {"dist": name, **params}
    try:
        parse(spec)
    except DistributionError as err:
        return f"gave parameters the family rejects ({err})"
    return Fit(
        family=name,
        spec=spec,
        loglik=loglik,
        aic=2.0 * candidate.k - 2.0 * loglik,
        ks_stat=ks_stat,
        ks_pvalue=ks_pvalue,
        n=int(x.size),
    )


# --- input checks and formatting ---------------------------------------------------------------


def _clean(values: ArrayLike) -> FloatArray:
    """The finite observations as a 1-D float array, NaNs dropped; else an error."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DistributionError("values", f"must be numbers (got {show(values)})") from None
    if x.ndim != 1:
        raise DistributionError("values", f"must be one-dimensional (got shape {x.shape})")
    x = x[~np.isnan(x)]
    if np.isinf(x).any():
        raise DistributionError("values", "must be finite (got an infinite value)")
    if x.size < MIN_VALUES:
        raise DistributionError(
            "values", f"needs at least {MIN_VALUES} finite values (got {x.size}, NaNs dropped)"
        )
    if float(x.min()) == float(x.max()):
        raise DistributionError(
            "values",
            f"all {x.size} values equal {show(float(x[0]))}: nothing to fit "
            "(use a constant)",
        )
    return x


def _families(families: str | Iterable[str] | None) -> tuple[list[str], bool]:
    """The candidate names to try, and whether they were requested explicitly."""
    allowed = list(CANDIDATES)
    if families is None:
        return allowed, False
    given = [families] if isinstance(families, str) else list(families)
    if not given:
        raise DistributionError("families", f"is empty (allowed: {', '.join(allowed)})")
    names: list[str] = []
    for name in given:
        if not isinstance(name, str) or name not in CANDIDATES:
            text = hint(name, allowed) if isinstance(name, str) else ""
            raise DistributionError(
                "families",
                f"unknown family {show(name)} ({text}allowed: {', '.join(allowed)})",
            )
        if name not in names:
            names.append(name)
    return names, True


def _number(x: float, direction: int = 0) -> str:
    """``x`` as a TOML number with 6 significant digits, rounded away from the data's range
    (``direction`` -1 rounds down, +1 up, 0 to nearest)."""
    text = f"{x:.6g}"
    if direction and x != 0.0:
        step = 10.0 ** (math.floor(math.log10(abs(x))) - 5)
        rounded = float(text)
        if (direction < 0 and rounded > x) or (direction > 0 and rounded < x):
            text = f"{rounded + direction * step:.6g}"
    return text

