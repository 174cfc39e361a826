"""The ``empirical`` family: resampling given values or a CSV column, optionally smoothed."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._family import Family, Forms, Params, hint, point_masses_to_scipy, show, to_float
from .base import Distribution, DistributionError, FloatArray

#: Kernel reach in bandwidths: beyond it the Gaussian CDF is 0 or 1 to double precision.
_REACH = 9.0
#: Grid points per bandwidth, and the grid-size bounds, for the smoothed inverse CDF.
_PER_BANDWIDTH = 16
_MIN_GRID, _MAX_GRID = 1024, 2**18
#: Kernel terms per chunk when evaluating the smoothed density.
_CHUNK = 2**20
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class Empirical(Family):
    """Resample ``values`` with equal weight, optionally with Gaussian kernel smoothing.

    Unsmoothed, ``ppf(q)`` is the sorted ``values[min(floor(q * n), n - 1)]``. Smoothed
    (``smooth = true`` for Silverman's bandwidth, or ``smooth = h``), the distribution is the
    kernel density mixture ``mean_i N(values[i], h)``; its CDF is tabulated on a grid of
    16 points per bandwidth (at most 2**18 points) and ``ppf`` inverts it by linear
    interpolation, so ``ppf`` stays monotone in ``q`` (rank correlations and stratified designs
    are preserved) at a CDF error below about 1e-4.
    """

    name: ClassVar[str] = "empirical"
    forms: ClassVar[Forms] = Forms((("values",), ("file", "column")), optional=("smooth",))
    paths: ClassVar[tuple[str, ...]] = ("file",)

    def __init__(
        self, values: ArrayLike, bandwidth: float | None = None, source: str | None = None
    ) -> None:
        self.values = np.sort(np.asarray(values, dtype=np.float64).ravel())
        if self.values.size == 0 or not np.isfinite(self.values).all():
            raise DistributionError("values", "must be a non-empty list of finite numbers")
        self.bandwidth = bandwidth
        self.source = source
        if bandwidth is not None:
            self._grid_x, self._grid_f = _kde_grid(self.values, bandwidth)

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``values`` or ``file``/``column``, and the optional ``smooth``.

        A relative ``file`` is read from the working directory (:func:`distributions.parse`
        resolves it against its ``base_dir`` first).
        """
        form = cls.forms.select(cls.name, params)
        if form.row == ("values",):
            values, source = _read_values(params["values"]), None
        else:
            values, source = read_column(params["file"], params["column"])
        return cls(values, _bandwidth(params.get("smooth", False), values), source)

    def _ppf(self, q: FloatArray) -> FloatArray:
        if self.bandwidth is not None:
            return np.interp(q, self._grid_f, self._grid_x)
        n = self.values.size
        return self.values[np.minimum((q * n).astype(np.int64), n - 1)]

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Equal-weight resampling (or the smoothed inverse CDF)."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """Share of values ``<= x`` (or the tabulated smoothed CDF)."""
        xa = np.asarray(x, dtype=np.float64)
        if self.bandwidth is not None:
            out = np.interp(xa, self._grid_x, self._grid_f, left=0.0, right=1.0)
        else:
            out = np.searchsorted(self.values, xa, side="right") / self.values.size
        return np.where(np.isnan(xa), np.nan, out)

    def mean(self) -> float:
        """The mean of the values (kernel smoothing keeps it)."""
        return float(self.values.mean())

    def var(self) -> float:
        """The values' variance (``ddof = 0``), plus ``bandwidth**2`` when smoothed."""
        h = self.bandwidth or 0.0
        return float(self.values.var()) + h * h

    def logpmf(self, x: ArrayLike) -> FloatArray:
        """Log of the share of values equal to ``x`` (unsmoothed only).

        Raises
        ------
        TypeError
            When smoothed: the kernel mixture has a density, :meth:`logpdf`.
        """
        if self.bandwidth is not None:
            return super().logpmf(x)
        xa = np.asarray(x, dtype=np.float64)
        ties = np.searchsorted(self.values, xa, "right") - np.searchsorted(self.values, xa)
        with np.errstate(divide="ignore"):
            out = np.log(ties / self.values.size)
        return np.where(np.isnan(xa), np.nan, out)

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log-density of the kernel mixture ``mean_i N(values[i], bandwidth)`` (smoothed only).

        This is the exact mixture density; :meth:`cdf` and :meth:`ppf` use its tabulated CDF
        (error below about 1e-4). Cost: ``len(values)`` kernel terms per point.

        Raises
        ------
        TypeError
            When unsmoothed: resampled values have point masses, :meth:`logpmf`.
        """
        if self.bandwidth is None:
            return super().logpdf(x)
        xa = np.asarray(x, dtype=np.float64)
        flat, h, n = xa.ravel(), self.bandwidth, self.values.size
        out = np.empty(flat.shape)
        step = max(1, _CHUNK // n)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for start in range(0, flat.size, step):
                z = (flat[start : start + step, None] - self.values) / h
                out[start : start + step] = special.logsumexp(-0.5 * z * z, axis=1)
        out -= math.log(n) + math.log(h) + _LOG_SQRT_2PI
        return np.where(np.isnan(xa), np.nan, out.reshape(xa.shape))

    def to_scipy(self) -> Any:
        """``scipy.stats.rv_discrete`` on the distinct values, for whole-number values.

        Raises
        ------
        NotImplementedError
            When smoothed (``scipy.stats.gaussian_kde`` is not a frozen distribution: no
            ``ppf``), or when some value is not a whole number (``rv_discrete`` needs integer
            support).
        """
        if self.bandwidth is not None:
            raise NotImplementedError(
                f"scipy.stats has no equivalent of {self.describe()}: gaussian_kde has no "
                "ppf and is not a frozen distribution"
            )
        xk, counts = np.unique(self.values, return_counts=True)
        return point_masses_to_scipy(xk, counts / self.values.size, self.describe())

    def support(self) -> tuple[float, float]:
        """``(min, max)`` of the values, or ``(-inf, inf)`` when smoothed."""
        if self.bandwidth is not None:
            return -math.inf, math.inf
        return float(self.values[0]), float(self.values[-1])

    def _items(self) -> list[tuple[str, object]]:
        items: list[tuple[str, object]] = [("source", self.source)] if self.source else []
        items += [("n", self.values.size), ("min", float(self.values[0]))]
        items += [("max", float(self.values[-1]))]
        if self.bandwidth is not None:
            items.append(("bandwidth", self.bandwidth))
        return items


def _read_values(raw: object) -> FloatArray:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, list | tuple | np.ndarray):
        raise DistributionError("values", f"must be a list of numbers (got {show(raw)})")
    if isinstance(raw, np.ndarray):
        raw = list(raw.ravel())
    out = np.empty(len(raw))
    for i, item in enumerate(raw):
        try:
            out[i] = to_float("values", item)
        except DistributionError as err:
            raise DistributionError("values", f"item {i}: {err.reason}") from None
    if out.size == 0:
        raise DistributionError("values", "must not be empty")
    return out


def read_column(file: object, column: object) -> tuple[FloatArray, str]:
    """Read the numbers of ``column`` in the CSV ``file``.

    Blank cells are skipped. Returns the values and a ``'file:column'`` label.
    """
    if not isinstance(file, str | os.PathLike) or not str(file):
        raise DistributionError("file", f"must be a path to a CSV file (got {show(file)})")
    if not isinstance(column, str):
        raise DistributionError("column", f"must be a column name (got {show(column)})")
    path = Path(file)
    try:
        found = path.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise DistributionError("file", f"no such file: {str(path)!r}")
    import pandas as pd  # deferred: pandas is slow to import and only needed here

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise DistributionError("file", f"cannot read {str(path)!r} as CSV ({err})") from None
    names = [str(c) for c in frame.columns]
    if column not in frame.columns:
        raise DistributionError(
            "column",
            f"no column {column!r} in {path.name} ({hint(column, names)}"
            f"columns: {', '.join(names) or 'none'})",
        )
    series = frame[column]
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & numbers.isna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise DistributionError(
            "column",
            f"column {column!r} in {path.name} has a non-numeric value "
            f"{show(series.iloc[row])} on line {row + 2}",
        )
    values = numbers.dropna().to_numpy(dtype=np.float64)
    if values.size == 0:
        raise DistributionError("column", f"column {column!r} in {path.name} has no values")
    if not np.isfinite(values).all():
        raise DistributionError("column", f"column {column!r} in {path.name} has infinite values")
    return values, f"{path.name}:{column}"


def _bandwidth(smooth: object, values: FloatArray) -> float | None:
    """``None`` for no smoothing, Silverman's rule for ``True``, or the given bandwidth."""
    if smooth is False or smooth is np.False_:
        return None
    if smooth is True or smooth is np.True_:
        n = values.size
        scaled = values / max(float(np.abs(values).max()), 1e-300)  # no overflow in the sd
        sd = float(np.std(scaled, ddof=1)) if n > 1 else 0.0
        iqr = float(np.subtract(*np.percentile(scaled, [75, 25]))) / 1.34
        spread = min(sd, iqr) if iqr > 0.0 else sd
        if not spread > 0.0:
            raise DistributionError(
                "smooth", f"needs at least two distinct values to pick a bandwidth (got n={n})"
            )
        h = 0.9 * spread * n ** (-0.2) * float(np.abs(values).max())
    else:
        what = "must be true, false or a bandwidth > 0"
        try:
            h = to_float("smooth", smooth)
        except DistributionError:
            raise DistributionError("smooth", f"{what} (got {show(smooth)})") from None
        if not h > 0.0:
            raise DistributionError("smooth", f"{what} (got {show(smooth)})")
    lo, hi = float(values.min()) - _REACH * h, float(values.max()) + _REACH * h
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(hi - lo)):
        raise DistributionError("smooth", f"the values +- {_REACH:g} bandwidths overflow a float")
    return h


def _kde_grid(values: FloatArray, h: float) -> tuple[FloatArray, FloatArray]:
    """Tabulate ``F(x) = mean_i Phi((x - values[i]) / h)`` on a grid (``values`` sorted).

    ``F = (#values < x + sum_i corr((x - values[i]) / h)) / n`` with
    ``corr(z) = Phi(z) - [z > 0]``, which vanishes beyond ``_REACH``; so each value only
    touches the grid points within its reach and the cost is ``O(n * points per reach)``.
    """
    n = values.size
    lo, hi = values[0] - _REACH * h, values[-1] + _REACH * h
    cells = float(hi - lo) / h * _PER_BANDWIDTH  # may be inf for a tiny bandwidth
    size = int(math.ceil(min(max(cells, _MIN_GRID), _MAX_GRID))) + 1
    x = np.linspace(lo, hi, size)
    dx = (hi - lo) / (size - 1)
    acc = np.searchsorted(values, x, side="left").astype(np.float64)
    half = math.ceil(_REACH * h / dx)
    offsets = np.arange(-half, half + 1)
    chunks = max(1, n * offsets.size // 2**22 + 1)
    for chunk in np.array_split(values, chunks):
        idx = np.rint((chunk - lo) / dx).astype(np.int64)[:, None] + offsets
        valid = (idx >= 0) & (idx < size)
        with np.errstate(over="ignore"):  # a bandwidth far below the spacing: z = +-inf
            z = (x[np.clip(idx, 0, size - 1)] - chunk[:, None]) / h
        corr = special.ndtr(z) - (z > 0.0)
        acc += np.bincount(idx[valid], weights=corr[valid], minlength=size)
    f = np.maximum.accumulate(np.clip(acc / n, 0.0, 1.0))
    keep = np.concatenate(([True], np.diff(f) > 0.0))
    return x[keep], f[keep]
