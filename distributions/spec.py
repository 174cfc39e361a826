"""``parse``: turn a spec (a number or a ``{dist = NAME, ...}`` table) into a distribution."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from ._family import Family, hint, show
from .base import Distribution, DistributionError
from .continuous import Beta, Gamma, Lognormal, Normal
from .empirical import Empirical
from .families import Constant, Pert, Poisson, Triangular, Uniform
from .mixture import Mixture

#: Every family by its ``dist`` name, in the order of the documentation table.
FAMILIES: dict[str, type[Family]] = {
    cls.name: cls
    for cls in (
        Constant,
        Uniform,
        Normal,
        Lognormal,
        Beta,
        Gamma,
        Triangular,
        Pert,
        Poisson,
        Empirical,
        Mixture,
    )
}

#: Probes for a usable distribution: the most extreme uniforms a generator gives
#: (``Generator.random`` has 53 bits), the quartiles and points in between.
_PROBE_Q = np.array([2.0**-53, 1e-6, 0.25, 0.5, 0.75, 1.0 - 1e-6, 1.0 - 2.0**-53])


def parse(
    spec: object,
    base_dir: str | os.PathLike[str] | None = None,
    *,
    caller_keys: Collection[str] = (),
) -> Distribution:
    """Build a distribution from a spec.

    Parameters
    ----------
    spec : number or mapping
        A plain number (a constant), or a mapping with ``dist`` naming a family and the
        parameters of exactly one of its forms, e.g. ``{"dist": "beta", "mean": 0.2,
        "sd": 0.04}`` or ``{"dist": "lognormal", "p5": 2000, "p95": 3000}``.
    base_dir : path, optional
        Directory that relative ``empirical`` file paths are resolved against (the config
        file's directory); the working directory when omitted.
    caller_keys : collection of str, optional
        Keys that belong to the caller's own per-spec options (the simulator's ``vary``,
        ``persistence``), which it removes before calling ``parse``. One that still reaches
        ``parse``, at the top or inside a mixture's components, is reported as such
        ("is a per-input option handled by the caller") instead of as an unknown parameter.

    Returns
    -------
    Distribution
        With ``ppf``, ``cdf``, ``mean``, ``support``, ``sample`` and ``describe``, and the
        scipy-style ``pdf``/``logpdf`` or ``pmf``/``logpmf``, ``var``, ``std``, ``interval``,
        ``rvs`` and ``to_scipy``.

    Raises
    ------
    DistributionError
        For any invalid spec; ``.param`` names the offending key (``""`` for the whole spec),
        ``.reason`` says what was given and what is allowed.

    Examples
    --------
    >>> d = parse({"dist": "normal", "p5": 10, "p95": 20})
    >>> d.describe()
    'normal(mean=15, sd=3.03978)'
    >>> d.ppf([0.05, 0.95]).round(6).tolist()
    [10.0, 20.0]
    >>> parse(3).ppf(0.5)
    array(3.)
    >>> try:
    ...     parse({"dist": "betta", "alpha": 2, "beta": 5})
    ... except DistributionError as err:
    ...     print(err.param, "->", err.reason.split(" allowed")[0])
    dist -> unknown distribution 'betta' (did you mean 'beta'?
    >>> try:
    ...     parse({"dist": "beta", "alpha": 2, "beta": 5, "vary": "month"}, caller_keys=["vary"])
    ... except DistributionError as err:
    ...     print(err)
    vary: is a per-input option handled by the caller, not a distribution parameter
    """
    keys = frozenset([caller_keys] if isinstance(caller_keys, str) else caller_keys)
    return _parse(spec, None if base_dir is None else Path(base_dir), keys)


def _parse(spec: object, base_dir: Path | None, caller_keys: frozenset[str]) -> Distribution:
    if isinstance(spec, Mapping):
        return _parse_table(spec, base_dir, caller_keys)
    if isinstance(spec, bool | np.bool_) or not isinstance(spec, numbers.Real):
        raise DistributionError(
            "", f"must be a number or a table with dist = NAME (got {show(spec)})"
        )
    try:
        value = float(spec)
    except (OverflowError, ValueError, TypeError):
        value = math.nan
    if not math.isfinite(value):
        raise DistributionError("", f"must be a finite number (got {show(spec)})")
    return Constant(value)


def _parse_table(
    spec: Mapping[object, object], base_dir: Path | None, caller_keys: frozenset[str]
) -> Distribution:
    allowed = ", ".join(FAMILIES)
    if "dist" not in spec:
        raise DistributionError("dist", f"is missing (the distribution's name; allowed: {allowed})")
    name = spec["dist"]
    if not isinstance(name, str):
        raise DistributionError("dist", f"must be a name (got {show(name)}; allowed: {allowed})")
    family = FAMILIES.get(name)
    if family is None:
        raise DistributionError(
            "dist",
            f"unknown distribution {name!r} ({hint(name, list(FAMILIES))}allowed: {allowed})",
        )
    params: dict[str, object] = {}
    for key, value in spec.items():
        if not isinstance(key, str):
            raise DistributionError(str(key), f"parameter names must be text (got {show(key)})")
        if key in caller_keys:
            raise DistributionError(
                key, "is a per-input option handled by the caller, not a distribution parameter"
            )
        if key != "dist":
            params[key] = value
    for key in family.nested:
        if key in params:
            params[key] = _parse_list(key, params[key], base_dir, caller_keys)
    for key in family.paths:
        if key in params and base_dir is not None:
            params[key] = _resolve(params[key], base_dir)
    try:
        return _check_finite(family.from_params(params))
    except (ArithmeticError, FloatingPointError) as err:  # a safety net for extreme numbers
        raise DistributionError(
            "", f"the parameters are out of floating-point range for {name} ({err})"
        ) from None


def _parse_list(
    key: str, raw: object, base_dir: Path | None, caller_keys: frozenset[str]
) -> list[Distribution]:
    """Build the specs listed under ``key``; errors are named ``key[i].param``."""
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, list | tuple):
        raise DistributionError(key, f"must be a list of specs (got {show(raw)})")
    if not raw:
        raise DistributionError(key, "must list at least one distribution")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(_parse(item, base_dir, caller_keys))
        except DistributionError as err:
            name = f"{key}[{i}]" + (f".{err.param}" if err.param else "")
            raise DistributionError(name, err.reason) from None
    return out


def _resolve(value: object, base_dir: Path) -> object:
    """A relative path joined to ``base_dir``; anything else as given (the family checks it)."""
    if isinstance(value, str | os.PathLike) and str(value) and not Path(value).is_absolute():
        return base_dir / value
    return value


def _check_finite(dist: Distribution) -> Distribution:
    """Reject distributions whose mean or draws are not finite numbers (overflow, NaN)."""
    with np.errstate(all="ignore"):
        probes = dist.ppf(_PROBE_Q)
        mean = dist.mean()
    if not (np.isfinite(probes).all() and math.isfinite(mean)):
        raise DistributionError(
            "",
            f"{dist.describe()} is out of floating-point range (mean {mean:.6g}, draws from "
            f"{probes[0]:.6g} to {probes[-1]:.6g}); rescale the parameters",
        )
    return dist
