"""Cohort retention tables, and the shifted-beta-geometric (sBG) model fitted to them.

A cohorts file is long format, one row per cohort and age: ``cohort`` (a label such as
``2024-03``), ``age`` (whole months since the cohort started) and ``active`` (customers of the
cohort still active at that age; age 0 is the cohort's size). Cohorts may be observed for
different numbers of months (right-censored) and may skip ages.

:func:`fit_sbg` fits alpha and beta by maximum likelihood: a customer seen active at age
``lo`` and gone by the next observed age ``hi`` churned in (lo, hi], with probability
(S(lo) - S(hi)) / S(lo); one still active at the cohort's last observed age is censored
there and contributes S(age). The covariance of (log alpha, log beta) is the inverse of the
observed information (the Hessian of the negative log-likelihood at the optimum).

>>> import pandas as pd
>>> table = pd.DataFrame({"cohort": ["a"] * 3 + ["b"] * 2, "age": [0, 1, 2, 0, 1],
...                       "active": [100, 80, 70, 50, 41]})
>>> fit = fit_sbg(table)
>>> round(fit.alpha, 2), round(fit.beta, 2), fit.customers
(0.35, 1.48, 150)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..config.errors import ConfigError
from ..model.sbg import lifetime, survival
from .sbg_likelihood import LOG_BOUNDS, Counts

COLUMNS = ("cohort", "age", "active")


def read_cohorts(path_or_frame: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read and check a cohorts table (a CSV path or a DataFrame).

    Returns a DataFrame with columns ``cohort`` (text), ``age`` and ``active`` (int64),
    sorted by cohort (in order of first appearance) and age. Rows are numbered as a
    spreadsheet shows them: the header is row 1, so the first data row is row 2.

    Raises
    ------
    ConfigError
        For the first problem, naming the file, the row and the column (key ``row 7:
        active``): a missing or unknown column, text or a negative or fractional number in
        ``age`` or ``active``, a repeated (cohort, age), a cohort without an age 0 row, or
        ``active`` rising with age.
    """
    if isinstance(path_or_frame, pd.DataFrame):
        source, raw = "<cohorts>", path_or_frame.copy()
    else:
        source = str(path_or_frame)
        try:
            raw = pd.read_csv(path_or_frame, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError("", f"cannot read the cohorts file ({err})", source) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ConfigError("", f"not a CSV table ({str(err).strip()})", source) from None
    try:
        return _checked(raw)
    except ConfigError as err:
        raise err.with_source(source) from None


def _checked(raw: pd.DataFrame) -> pd.DataFrame:
    raw.columns = [str(c).strip() for c in raw.columns]
    for column in raw.columns:
        if column not in COLUMNS:
            raise ConfigError(column, f"unknown column (allowed: {', '.join(COLUMNS)})")
    for column in COLUMNS:
        if column not in raw.columns:
            raise ConfigError(column, f"column is missing (a cohorts table has columns "
                                      f"{', '.join(COLUMNS)})")
    if raw.empty:
        raise ConfigError("", "has no rows (one row per cohort and age is expected)")
    cohorts = [_label(v, row) for row, v in enumerate(raw["cohort"], start=2)]
    ages = [_count(v, row, "age") for row, v in enumerate(raw["age"], start=2)]
    active = [_count(v, row, "active") for row, v in enumerate(raw["active"], start=2)]
    frame = pd.DataFrame({"cohort": cohorts, "age": ages, "active": active,
                          "row": np.arange(2, len(raw) + 2)})
    first: dict[tuple[str, int], int] = {}
    for row, key in zip(frame["row"], zip(cohorts, ages, strict=True), strict=True):
        if key in first:
            raise ConfigError(f"row {row}: age", f"cohort {key[0]!r} has age {key[1]} twice "
                                                 f"(first in row {first[key]})")
        first[key] = int(row)
    order = {c: i for i, c in reversed(list(enumerate(cohorts)))}
    frame = frame.assign(order=frame["cohort"].map(order)).sort_values(["order", "age"])
    for _, group in frame.groupby("order", sort=True):
        label = group["cohort"].iloc[0]
        if group["age"].iloc[0] != 0:
            raise ConfigError(f"row {group['row'].min()}: age",
                              f"cohort {label!r} has no age 0 row (age 0 holds the cohort's "
                              f"size)")
        values, rows, at = group["active"].to_numpy(), group["row"].to_numpy(), \
            group["age"].to_numpy()
        rising = np.flatnonzero(np.diff(values) > 0)
        if len(rising):
            i = rising[0] + 1
            raise ConfigError(f"row {rows[i]}: active",
                              f"cohort {label!r} has {values[i]} active at age {at[i]}, more "
                              f"than {values[i - 1]} at age {at[i - 1]} (active can only fall "
                              f"with age)")
    return frame[list(COLUMNS)].reset_index(drop=True).astype({"age": "int64",
                                                              "active": "int64"})


def _label(value: Any, row: int) -> str:
    text = str(value).strip()
    if not text or text.lower() == "nan":
        raise ConfigError(f"row {row}: cohort", "is empty (a label such as 2024-03)")
    return text


def _count(value: Any, row: int, column: str) -> int:
    """A whole number >= 0 from a cell (text or number)."""
    text = str(value).strip()
    try:
        number = float(text.replace(",", ""))  # thousands separators, as in the history
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or number != int(number):
        what = "is empty" if not text else f"must be a whole number >= 0 (got {text!r})"
        raise ConfigError(f"row {row}: {column}", what)
    return int(number)


@dataclass(frozen=True, eq=False)
class SbgFit:
    """alpha and beta of the sBG model fitted to cohorts, with their uncertainty.

    ``cov_log`` is the covariance of (log alpha, log beta); intervals are
    ``exp(log estimate -/+ z * se)`` at ``level``. ``observed`` is the pooled retention of
    the data by age (see :meth:`curve`). ``at_bound`` says the fit ran to the edge of
    :data:`LOG_BOUNDS`: the data do not show customers differing (a flat churn fits as well).
    ``book_age`` is the median age of the customers active at their cohort's last observed
    age: the age of today's customers when every cohort is observed up to today.
    """

    alpha: float
    beta: float
    cov_log: np.ndarray
    loglik: float
    cohorts: int
    customers: int
    max_age: int
    observed: pd.DataFrame = field(repr=False)
    level: float = 0.9
    at_bound: bool = False
    book_age: int = 0

    @property
    def se_log(self) -> tuple[float, float]:
        """Standard errors of log alpha and log beta."""
        return (float(np.sqrt(self.cov_log[0, 0])), float(np.sqrt(self.cov_log[1, 1])))

    @property
    def correlation_log(self) -> float:
        """Correlation of the estimates of log alpha and log beta."""
        sa, sb = self.se_log
        if not (math.isfinite(sa) and math.isfinite(sb)) or sa * sb == 0:
            return 0.0
        return float(self.cov_log[0, 1] / (sa * sb))

    def intervals(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        """Intervals for alpha and beta (default: the fit's ``level``)."""
        z = float(stats.norm.ppf(0.5 + (level or self.level) / 2))
        out = {}
        for name, value, se in zip(("alpha", "beta"), (self.alpha, self.beta), self.se_log,
                                   strict=True):
            out[name] = (value * math.exp(-z * se), value * math.exp(z * se))
        return out

    @property
    def lifetime(self) -> float:
        """Expected months a new customer pays: (alpha + beta - 1) / (alpha - 1), infinite
        when alpha <= 1."""
        return float(lifetime(self.alpha, self.beta))

    def survival(self, ages: Any) -> np.ndarray:
        """Share of a cohort active at each age: B(alpha, beta + age) / B(alpha, beta)."""
        return survival(self.alpha, self.beta, np.asarray(ages, dtype=np.float64))

    def curve(self, max_age: int) -> pd.DataFrame:
        """The retention curve for ages 0..``max_age``: ``cohorts`` observed at each age,
        ``observed`` (pooled over them: the chained ratio of active customers between
        consecutive ages, over the cohorts observed at both; NaN beyond the data), ``fitted``
        with its ``low``/``high`` band at ``level`` (from the uncertainty of alpha and
        beta), and ``projected`` (True beyond the oldest observed age)."""
        ages = np.arange(max_age + 1)
        seen = self.observed.set_index("age").reindex(ages)
        low, high = self._band(ages)
        return pd.DataFrame({"age": ages,
                             "cohorts": seen["cohorts"].fillna(0).astype("int64").to_numpy(),
                             "observed": seen["observed"].to_numpy(),
                             "fitted": self.survival(ages), "low": low, "high": high,
                             "projected": ages > self.max_age})

    def _band(self, ages: np.ndarray, draws: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        if not np.all(np.isfinite(self.cov_log)):
            return np.full(len(ages), np.nan), np.full(len(ages), np.nan)
        rng = np.random.default_rng(20261130)
        theta = rng.multivariate_normal(np.log([self.alpha, self.beta]), self.cov_log, draws)
        curves = survival(np.exp(theta[:, :1]), np.exp(theta[:, 1:]), ages[None, :])
        tail = (1 - self.level) / 2
        return np.quantile(curves, tail, axis=0), np.quantile(curves, 1 - tail, axis=0)

    def retention_spec(self) -> dict[str, Any]:
        """The ``[retention]`` table for a config: model = "sbg", alpha and beta as lognormal
        distributions of their estimates (median the estimate, sigma the standard error of
        its log). Their correlation goes into ``[[correlations]]``: see
        :meth:`correlation_spec`."""
        out: dict[str, Any] = {"model": "sbg"}
        for name, value, se in zip(("alpha", "beta"), (self.alpha, self.beta), self.se_log,
                                   strict=True):
            out[name] = {"dist": "lognormal", "mu": round(math.log(value), 6),
                         "sigma": round(se, 6)} if math.isfinite(se) and se > 0 \
                else round(value, 6)
        return out

    def correlation_spec(self) -> dict[str, Any]:
        """The ``[[correlations]]`` entry that keeps alpha and beta's estimates together:
        the rank (Spearman) correlation of a bivariate normal of their logs,
        (6 / pi) * asin(r / 2), kept inside (-0.99, 0.99)."""
        rho = 6.0 / math.pi * math.asin(self.correlation_log / 2.0)
        return {"between": ["retention.alpha", "retention.beta"],
                "rho": round(min(max(rho, -0.99), 0.99), 4)}

    def apply(self, config: Mapping[str, Any], customer_age: int | None = None
              ) -> dict[str, Any]:
        """A copy of a plain config dict using this fit: ``[retention]`` replaced by
        :meth:`retention_spec`, the alpha-beta correlation added to ``[[correlations]]``
        (correlations naming ``retention.churn`` or ``retention.early_churn`` are dropped:
        those inputs are gone) and ``[start] customer_age`` set (default :attr:`book_age`).

        Raises
        ------
        ConfigError
            If the config has ``[[segments]]`` (they do not combine with sBG).
        """
        out = copy.deepcopy(dict(config))
        if out.get("segments") is not None:
            raise ConfigError("segments", "[[segments]] do not go with [retention] model = "
                                          "\"sbg\" yet: the cohorts fit cannot be applied")
        gone = {"retention.churn", "retention.early_churn", "retention.alpha",
                "retention.beta"}
        kept = [c for c in out.get("correlations", [])
                if not (isinstance(c, Mapping) and gone & set(c.get("between", ())))]
        out["retention"] = self.retention_spec()
        out["correlations"] = [*kept, self.correlation_spec()]
        start = dict(out.get("start", {}))
        start["customer_age"] = self.book_age if customer_age is None else customer_age
        out["start"] = start
        return out

    def describe(self) -> str:
        """One line of evidence, for a config comment."""
        ci = self.intervals()
        pct = f"{self.level * 100:g}%"
        life = "infinite (alpha <= 1)" if not math.isfinite(self.lifetime) \
            else f"{self.lifetime:.1f} months"
        return (f"sBG fit on {self.cohorts} cohorts, {self.customers} customers, ages "
                f"0-{self.max_age}: alpha {self.alpha:.3g} ({pct} {ci['alpha'][0]:.3g}-"
                f"{ci['alpha'][1]:.3g}), beta {self.beta:.3g} ({pct} {ci['beta'][0]:.3g}-"
                f"{ci['beta'][1]:.3g}); expected lifetime {life}")


def fit_sbg(cohorts: str | Path | pd.DataFrame, level: float = 0.9) -> SbgFit:
    """Fit the sBG model to a cohorts table (path or DataFrame, checked by
    :func:`read_cohorts`) by maximum likelihood, with intervals at ``level``.

    Raises
    ------
    ConfigError
        For a bad table, or one where no customer churned.
    """
    table = read_cohorts(cohorts)
    theta, cov, loglik = Counts.of(table).fit()
    at_bound = bool(np.any(np.isclose(theta, LOG_BOUNDS, atol=1e-3)))
    return SbgFit(float(math.exp(theta[0])), float(math.exp(theta[1])), cov, loglik,
                  int(table["cohort"].nunique()), int(table.loc[table["age"] == 0,
                                                                 "active"].sum()),
                  int(table["age"].max()), pooled_retention(table), level, at_bound,
                  _book_age(table))


def _book_age(table: pd.DataFrame) -> int:
    """Median age of the customers active at each cohort's last observed age."""
    last = table.groupby("cohort", sort=False).tail(1).sort_values("age")
    weights = last["active"].to_numpy(np.float64)
    if weights.sum() <= 0:
        return 0
    middle = np.searchsorted(np.cumsum(weights), weights.sum() / 2)
    return int(last["age"].to_numpy()[middle])


def pooled_retention(table: pd.DataFrame) -> pd.DataFrame:
    """Observed retention by age, pooled over cohorts: at each age, the active customers
    of the cohorts observed there and at the age before, over their count the age before,
    chained from 1 at age 0 (a Kaplan-Meier estimate by cohort). Columns ``age``,
    ``cohorts`` (observed at that age), ``observed``."""
    wide = table.pivot(index="cohort", columns="age", values="active")
    ages = np.arange(int(table["age"].max()) + 1)
    wide = wide.reindex(columns=ages)
    values = wide.to_numpy(dtype=np.float64)
    both = ~np.isnan(values[:, 1:]) & ~np.isnan(values[:, :-1])
    now = np.where(both, values[:, 1:], 0.0).sum(axis=0)
    before = np.where(both, values[:, :-1], 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(before > 0, now / before, np.nan)
    observed = np.concatenate([[1.0], np.cumprod(step)])
    return pd.DataFrame({"age": ages, "cohorts": (~np.isnan(values)).sum(axis=0),
                         "observed": observed})
