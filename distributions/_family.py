"""Machinery shared by the families: the ``Family`` base, its parameter forms and checks."""

from __future__ import annotations

import difflib
import math
import numbers
import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .base import Distribution, DistributionError
from .quantiles import QuantilePair

_QUANTILE_KEY = re.compile(r"p([1-9][0-9]?)")
_QUANTILE_LIKE = re.compile(r"[pP][0-9.]")
QUANTILE_TEXT = "two quantiles p1..p99"
QUANTILE_FAMILIES = "normal, lognormal, beta, gamma"

Params = Mapping[str, object]


def fmt(x: float) -> str:
    """Format a number with 6 significant digits (``12.3457``, ``1e+06``, ``inf``)."""
    return f"{x:.6g}"


def show(value: object) -> str:
    """Describe a given value for an error message (``-3``, ``'abc'``, ``true``, ``a list``)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        try:
            return fmt(float(value))
        except OverflowError:
            return "a number too large for a float"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def hint(word: str, choices: list[str]) -> str:
    """``"did you mean 'x'? "`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def to_float(key: str, value: object, *, finite: bool = True) -> float:
    """``value`` as a float, or a :class:`DistributionError` naming ``key``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise DistributionError(key, f"must be a number (got {show(value)})")
    try:
        x = float(value)
    except (OverflowError, ValueError, TypeError):
        raise DistributionError(key, f"must be a finite number (got {show(value)})") from None
    if math.isnan(x) or (finite and math.isinf(x)):
        raise DistributionError(key, f"must be a finite number (got {fmt(x)})")
    return x


def number(
    params: Params,
    key: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
) -> float:
    """Read the finite number ``params[key]`` and check the given bounds."""
    x = to_float(key, params[key])
    if gt is not None and lt is not None and not gt < x < lt:
        raise DistributionError(key, f"must be in ({fmt(gt)}, {fmt(lt)}) (got {fmt(x)})")
    if gt is not None and not x > gt:
        raise DistributionError(key, f"must be > {fmt(gt)} (got {fmt(x)})")
    if ge is not None and not x >= ge:
        raise DistributionError(key, f"must be >= {fmt(ge)} (got {fmt(x)})")
    if lt is not None and not x < lt:
        raise DistributionError(key, f"must be < {fmt(lt)} (got {fmt(x)})")
    return x


def check_order(low: float, high: float, *, low_key: str = "low", high_key: str = "high") -> None:
    """Require ``low < high`` with a finite width, else an error naming ``high_key``."""
    if not low < high:
        raise DistributionError(
            high_key, f"must be > {low_key} (got {low_key}={fmt(low)}, {high_key}={fmt(high)})"
        )
    if not math.isfinite(high - low):
        raise DistributionError(high_key, f"the range {low_key}..{high_key} is too wide")


def format_call(name: str, items: list[tuple[str, object]]) -> str:
    """``name(key=value, ...)``, numbers to 6 significant digits."""
    parts = (f"{k}={fmt(v) if isinstance(v, float | int) else v}" for k, v in items)
    return f"{name}({', '.join(parts)})"


def point_masses_to_scipy(xk: np.ndarray, pk: np.ndarray, what: str) -> Any:
    """A frozen ``scipy.stats.rv_discrete`` with masses ``pk`` at the whole numbers ``xk``.

    Raises
    ------
    NotImplementedError
        When some ``xk`` is not a whole number: ``rv_discrete`` needs integer support.
    """
    if not np.all(xk == np.floor(xk)):
        raise NotImplementedError(
            f"scipy.stats has no equivalent of {what}: its values are not all whole numbers "
            "and scipy.stats.rv_discrete needs integer support"
        )
    from scipy import stats

    return stats.rv_discrete(values=(xk, pk))()


@dataclass(frozen=True)
class Form:
    """The form a spec used: one row of required keys, or ``quantiles`` when two were given."""

    row: tuple[str, ...]
    quantiles: QuantilePair | None = None


@dataclass(frozen=True)
class Forms:
    """The parameter forms a family accepts; a spec gives exactly one of them.

    Attributes
    ----------
    rows : tuple of tuple of str
        Alternative sets of required keys, e.g. ``(("mu", "sigma"), ("mean", "sd"))``.
    optional : tuple of str
        Keys allowed with any form (``low``/``high`` truncation, ``lambda``...).
    quantiles : bool
        Whether two quantiles ``pA, pB`` are an alternative form.
    """

    rows: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...] = ()
    quantiles: bool = False

    def names(self) -> list[str]:
        """Every parameter name, without the quantile keys, in table order."""
        out: list[str] = []
        for key in (*(k for row in self.rows for k in row), *self.optional):
            if key not in out:
                out.append(key)
        return out

    def allowed(self) -> str:
        """``"mean, sd, low, high, or two quantiles p1..p99"``."""
        names = ", ".join(self.names())
        return f"{names}, or {QUANTILE_TEXT}" if self.quantiles else names

    def choices(self) -> str:
        """``"mean, sd | two quantiles p1..p99"``: the alternative forms."""
        rows = [", ".join(row) for row in self.rows]
        if self.quantiles:
            rows.append(QUANTILE_TEXT)
        return " | ".join(rows)

    def select(self, family: str, params: Params) -> Form:
        """Check the keys of ``params`` and return the one form they give."""
        names = self.names()
        qkeys: list[str] = []
        for key in params:
            if not isinstance(key, str):
                raise DistributionError(str(key), "parameter names must be text")
            if key in names:
                continue
            match = _QUANTILE_KEY.fullmatch(key)
            if match and self.quantiles:
                qkeys.append(key)
                continue
            if match or _QUANTILE_LIKE.match(key):
                where = (
                    "integer keys p1..p99"
                    if self.quantiles
                    else f"quantile forms apply to {QUANTILE_FAMILIES} only"
                )
                raise DistributionError(
                    key, f"is not a parameter of {family} ({where}; allowed: {self.allowed()})"
                )
            raise DistributionError(
                key, f"unknown parameter for {family} ({hint(key, names)}allowed: {self.allowed()})"
            )
        given = [k for k in params if k in names and k not in self.optional]
        if qkeys:
            return Form((), self._quantile_pair(family, params, qkeys, given))
        best = max(self.rows, key=lambda row: sum(k in row for k in given))
        extra = [k for k in given if k not in best]
        if extra:
            used = ", ".join(k for k in given if k in best)
            raise DistributionError(
                extra[0],
                f"cannot be combined with {used} ({family} takes one of: {self.choices()})",
            )
        missing = [k for k in best if k not in params]
        if missing:
            raise DistributionError(
                missing[0], f"is missing ({family} needs one of: {self.choices()})"
            )
        return Form(best)

    def _quantile_pair(
        self, family: str, params: Params, qkeys: list[str], given: list[str]
    ) -> QuantilePair:
        qkeys.sort(key=lambda k: int(k[1:]))
        if given:
            raise DistributionError(
                qkeys[0],
                f"cannot be combined with {', '.join(given)} "
                f"({family} takes one of: {self.choices()})",
            )
        if len(qkeys) != 2:
            raise DistributionError(
                qkeys[-1] if len(qkeys) > 2 else qkeys[0],
                f"a quantile form needs exactly two keys p1..p99 (got {', '.join(qkeys)})",
            )
        ka, kb = qkeys
        a, b = to_float(ka, params[ka]), to_float(kb, params[kb])
        if not a < b:
            raise DistributionError(kb, f"must be > {ka} (got {ka}={fmt(a)}, {kb}={fmt(b)})")
        return QuantilePair((ka, kb), (int(ka[1:]) / 100.0, int(kb[1:]) / 100.0), (a, b))


class Family(Distribution):
    """A distribution family that can be built from a spec's parameters.

    Subclasses set :attr:`name` and :attr:`forms` and implement :meth:`from_params` and
    :meth:`_items` (the canonical parameters shown by :meth:`describe`).

    Parameters that are themselves specs, or file paths, are declared in :attr:`nested` and
    :attr:`paths`: :func:`distributions.parse` builds the former into distributions and
    resolves the latter against its ``base_dir`` before calling :meth:`from_params`, so the
    families need neither the parser nor the base directory.
    """

    name: ClassVar[str]
    forms: ClassVar[Forms]
    #: Parameters holding a list of specs, handed to :meth:`from_params` as distributions.
    nested: ClassVar[tuple[str, ...]] = ()
    #: Parameters holding a file path, handed over resolved against ``parse``'s base_dir.
    paths: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abstractmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build the distribution from the spec's parameters (without ``dist``)."""

    @abstractmethod
    def _items(self) -> list[tuple[str, object]]:
        """``[(name, value), ...]`` for :meth:`describe`."""

    def describe(self) -> str:
        """``name(key=value, ...)`` with numbers to 6 significant digits."""
        return format_call(self.name, self._items())

    def __repr__(self) -> str:
        return self.describe()
