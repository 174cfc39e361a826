"""Risk-review statistics on a result: percentile confidence intervals, targets with Wilson
intervals, and sensitivity (tornado) of an output to every uncertain input.

>>> wilson_interval(50, 100)
(0.4038..., 0.5961...)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config.errors import ConfigError
from ..engine.results import compare, defined, path_mean, percentile_label, percentiles

if TYPE_CHECKING:
    from ..engine.results import Result

TARGET = re.compile(r"\s*([a-z][a-z0-9_.]*)\s*@\s*(<=)?\s*(\d+)\s*(<=|>=|<|>|==)\s*(\S.*?)\s*\Z")
#: A threshold as the tables print it: 1.2M, 1,200,000, $250k, -54.3k, 3, 1e6.
NUMBER = re.compile(r"([-+]?)\$?((?:\d[\d,_]*)?\.?\d*(?:[eE][-+]?\d+)?)([kKmMbBtT]?)\Z")
SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_number(text: str) -> float:
    """A threshold in the forms the tables print.

    >>> parse_number("1.2M"), parse_number("1,200,000"), parse_number("$250k"), parse_number("-3")
    (1200000.0, 1200000.0, 250000.0, -3.0)
    """
    match = NUMBER.match(text.strip())
    if not match or not any(c.isdigit() for c in match.group(2)):
        raise ValueError(text)
    sign, digits, suffix = match.groups()
    value = float(digits.replace(",", "").replace("_", "")) * SUFFIXES[suffix.lower()]
    return -value if sign == "-" else value
METRIC_AT = re.compile(r"\s*([a-z][a-z0-9_]*)\s*@\s*(\d+)\s*\Z")


def order_statistic_interval(values: np.ndarray, q: float, level: float = 0.95
                             ) -> tuple[float, float]:
    """Distribution-free interval for the ``q``-th percentile from order statistics.

    The number of draws below the true percentile is Binomial(n, q/100); the interval
    (X_(l), X_(u)) covers it with probability >= ``level`` (up to clipping at the sample ends).
    """
    from scipy import stats  # slow to import: only when used
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    alpha = 1.0 - level
    lower = int(stats.binom.ppf(alpha / 2, n, q / 100.0))
    upper = int(stats.binom.ppf(1 - alpha / 2, n, q / 100.0)) + 1
    lower = min(max(lower, 1), n)
    upper = min(max(upper, 1), n)
    return float(x[lower - 1]), float(x[upper - 1])


def mean_standard_error(values: np.ndarray) -> float:
    """Standard error of the mean over paths (inf when any value is infinite)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return math.inf
    if not np.isfinite(x).all():
        return math.inf
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: inf, not a warning
        se = float(x.std(ddof=1) / math.sqrt(len(x)))
    return se if math.isfinite(se) else math.inf


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    from scipy import stats  # slow to import: only when used
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval_table(result: Result, month: int, level: float = 0.95) -> pd.DataFrame:
    """Each metric's percentiles with their order-statistic intervals, and the mean with its
    standard error: columns ``p5``, ``p5_low``, ``p5_high``, ..., ``mean``, ``mean_se``."""
    qs = result.config.simulation.percentiles
    rows = {}
    for name in result.metrics:
        values = defined(result.at(name, month))
        row: dict[str, float] = {}
        if len(values) == 0:
            rows[name] = {**{f"{percentile_label(q)}{s}": np.nan for q in qs
                             for s in ("", "_low", "_high")}, "mean": np.nan,
                          "mean_se": np.nan}
            continue
        for q, estimate in zip(qs, percentiles(values, qs), strict=True):
            label = percentile_label(q)
            low, high = order_statistic_interval(values, q, level)
            row.update({label: float(estimate), f"{label}_low": low, f"{label}_high": high})
        row["mean"] = path_mean(values)
        row["mean_se"] = mean_standard_error(values)
        rows[name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "metric"
    return frame


@dataclass(frozen=True)
class Target:
    """A probability question such as ``arr@24>=1000000`` (at month 24), or
    ``customers@<=24>=200`` (in some month up to 24)."""

    metric: str
    month: int
    op: str
    threshold: float
    by: bool = False  # True: in some month up to ``month``

    @property
    def label(self) -> str:
        value = self.threshold
        shown = f"{value:,.0f}" if value == int(value) else f"{value:g}"
        return f"P({self.metric}@{'<=' if self.by else ''}{self.month} {self.op} {shown})"

    @property
    def statistic(self) -> str:
        """The name of its probability in the tidy frame."""
        return f"P({self.op} {self.threshold:g}{' by then' if self.by else ''})"

    @classmethod
    def parse(cls, text: str, metrics: tuple[str, ...], months: int,
              flag: str = "--target") -> Target:
        """Parse ``METRIC@MONTH OP NUMBER`` or ``METRIC@<=MONTH OP NUMBER``; errors name
        ``flag``."""
        match = TARGET.match(text)
        if not match:
            raise ConfigError("", f"expected METRIC@MONTH OP NUMBER such as arr@24>=1.2M, or "
                                  f"METRIC@<=MONTH OP NUMBER for some month up to MONTH "
                                  f"(got {text!r})", flag)
        metric, by, month, op, number = match.groups()
        check_metric_at(metric, int(month), metrics, months, flag)
        try:
            threshold = parse_number(number)
        except ValueError:
            raise ConfigError("", f"{number!r} is not a number (forms: 1200000, 1,200,000, "
                                  f"1.2M, 250k)", flag) from None
        return cls(metric, int(month), op, threshold, by is not None)

    def evaluate(self, result: Result, level: float = 0.95) -> tuple[float, float, float]:
        """Probability and its Wilson interval."""
        if self.by:
            if result.reduced:
                raise ConfigError("", f"{self.label} needs every month of every path, and this "
                                      f"run keeps only some (raise --memory or lower --paths)",
                                  "--target")
            hits = int(compare(result[self.metric][:, :self.month], self.op,
                               self.threshold).any(axis=1).sum())
        else:
            hits = int(compare(result.at(self.metric, self.month), self.op,
                               self.threshold).sum())
        low, high = wilson_interval(hits, result.paths, level)
        return hits / result.paths, low, high


def _check_metric(metric: str, metrics: tuple[str, ...], flag: str) -> None:
    if metric not in metrics:
        from ..config.errors import did_you_mean

        raise ConfigError("", f"unknown metric {metric!r} ({did_you_mean(metric, metrics)})", flag)


def _check_month(month: int, months: int, flag: str) -> None:
    if not 1 <= month <= months:
        raise ConfigError("", f"month {month} is outside 1..{months}", flag)


def check_metric_at(metric: str, month: int, metrics: tuple[str, ...], months: int,
                    flag: str) -> None:
    """A ``METRIC@MONTH`` that names one of ``metrics`` and a month in 1..``months``, else a
    one-line error naming ``flag``."""
    _check_metric(metric, metrics, flag)
    _check_month(month, months, flag)


def parse_metric_at(text: str, metrics: tuple[str, ...], months: int,
                    flag: str = "--sensitivity") -> tuple[str, int]:
    """Parse ``METRIC@MONTH``."""
    match = METRIC_AT.match(text)
    if not match:
        raise ConfigError("", f"expected METRIC@MONTH such as cac_payback_months@12 "
                              f"(got {text!r})", flag)
    metric, month = match.group(1), int(match.group(2))
    check_metric_at(metric, month, metrics, months, flag)
    return metric, month


def _path_values(value: float | np.ndarray) -> np.ndarray | None:
    """An input's per-path value (the path's average for a month-varying input)."""
    if not isinstance(value, np.ndarray):
        return None
    return value.mean(axis=1) if value.ndim == 2 else value


def sensitivity(result: Result, metric: str, month: int) -> pd.DataFrame:
    """Tornado table for ``metric`` at ``month`` over every uncertain input, ranked.

    Columns: ``spearman`` (rank correlation of input and output over paths),
    ``variance_pct`` (rho^2 normalised to 100% over the inputs: the share of the output's
    rank variance each input explains), ``median_if_low`` and ``median_if_high`` (the
    output's median over paths whose input is in its bottom / top decile) and ``swing``
    (their difference; NaN, "cannot tell", when both medians are the same infinity).
    Inputs that are constants never appear.
    """
    from scipy import stats  # slow to import: only when used
    output = result.at(metric, month)
    keep = ~np.isnan(output)  # NRR is undefined on some paths: rank the others
    output = output[keep]
    rows = {}
    ranked_output = stats.rankdata(output)
    for name in result.config.inputs:
        values = _path_values(result.params.whole(name))
        if values is None or np.ptp(values) == 0:
            continue
        values = np.broadcast_to(values, keep.shape)[keep]
        if len(values) == 0 or np.ptp(values) == 0:
            continue
        if np.ptp(ranked_output) == 0:
            rho = 0.0
        else:
            rho = float(np.corrcoef(stats.rankdata(values), ranked_output)[0, 1])
        low_cut, high_cut = np.quantile(values, [0.1, 0.9])
        low = float(np.median(output[values <= low_cut]))
        high = float(np.median(output[values >= high_cut]))
        if math.isinf(high) and high == low:
            swing = math.nan  # both medians infinite: the swing cannot be told
        else:
            swing = 0.0 if high == low else high - low
        rows[name] = {"spearman": rho, "median_if_low": low, "median_if_high": high,
                      "swing": swing}
    columns = ["spearman", "median_if_low", "median_if_high", "swing"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    total = float((frame["spearman"] ** 2).sum()) if len(frame) else 0.0
    frame.insert(1, "variance_pct", 100 * frame["spearman"] ** 2 / total if total > 0 else 0.0)
    frame = frame.reindex(frame["spearman"].abs().sort_values(ascending=False).index)
    frame.index.name = "input"
    return frame
