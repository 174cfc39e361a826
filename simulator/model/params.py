"""Per-path parameter draws: every model input as a number, a (paths,) or a (paths, months) array.

Each input draws its uniforms from its own named stream (so adding an input never changes
another's draws), the ``[simulation] sampling`` design spreads them, ``[[correlations]]``
rearranges them (Iman-Conover) and the input's distribution maps them with its ``ppf``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import distributions
from distributions.joint import ar1_uniforms, correlate, design_uniforms, stream

from ..config import schema
from ..config.core import Config, Input

Value = float | np.ndarray


@dataclass(frozen=True)
class Parameters:
    """Drawn inputs for a set of paths: a float (constant), shape (n,) or shape (n, months)."""

    values: Mapping[str, Value]
    n: int

    def at(self, name: str, month: int) -> Value:
        """The value of ``name`` in month ``month`` (1-based), per path or scalar."""
        value = self.values[name]
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return value[:, month - 1]
        return value

    def whole(self, name: str) -> Value:
        """The value of ``name`` as drawn (scalar, (n,) or (n, months))."""
        return self.values[name]

    def block(self, start: int, stop: int) -> Parameters:
        """The parameters of paths ``start:stop``."""
        sliced = {k: (v[start:stop] if isinstance(v, np.ndarray) else v)
                  for k, v in self.values.items()}
        return Parameters(sliced, stop - start)


def _clamp(inp: Input, values: np.ndarray) -> np.ndarray:
    """Clamp draws in a distribution's negligible tail outside the input's range."""
    low, high, _, _ = schema.KINDS[inp.kind]
    return np.clip(values, low, high)


def scaled(inp: Input, values: Value, factor: Value) -> np.ndarray:
    """An input's values (its draws before the clamp, or its constant) times ``factor``, a
    number or one per path, clamped to the input's range (a rate stays at most 1)."""
    array = np.asarray(values, dtype=np.float64)
    multiplier = np.asarray(factor, dtype=np.float64)
    if array.ndim == 2 and multiplier.ndim == 1:
        multiplier = multiplier[:, None]  # one per path, for an input redrawn every month
    return _clamp(inp, array * multiplier)


@dataclass(frozen=True)
class Draws:
    """The uniforms of every drawn input, before its ``ppf``: cheap to make for all paths at
    once (designs and correlations need the whole run), and turned into values block by
    block, wherever the block runs."""

    inputs: Mapping[str, Input]  # the inputs that are not constants
    uniforms: Mapping[str, np.ndarray]  # (n,) or (n, months) per drawn input
    constants: Mapping[str, float]
    n: int

    def scaled(self, inp: Input, factor: Value) -> np.ndarray:
        """The values of ``inp`` with every draw times ``factor`` (a number or one per path):
        the input's distribution scaled by a multiplier, from the same uniforms (common
        random numbers), clamped to its range like :meth:`parameters`."""
        name = inp.name
        raw = self.constants[name] if name in self.constants \
            else inp.dist.ppf(self.uniforms[name])
        return scaled(inp, raw, factor)

    def block(self, start: int, stop: int) -> Draws:
        """The draws of paths ``start:stop``."""
        return Draws(self.inputs, {k: v[start:stop] for k, v in self.uniforms.items()},
                     self.constants, stop - start)

    def parameters(self) -> Parameters:
        """Apply each input's ``ppf`` (and clamp its negligible tail) to its uniforms."""
        values: dict[str, Value] = dict(self.constants)
        for name, inp in self.inputs.items():
            values[name] = _clamp(inp, inp.dist.ppf(self.uniforms[name]))
        return Parameters(values, self.n)


def draw_uniforms(config: Config, n: int, seed: distributions.joint.SeedLike) -> Draws:
    """The uniforms of every input of ``config`` for ``n`` paths under ``seed``.

    Correlations with an input that is a constant have nothing to act on and are skipped.
    """
    months = config.simulation.months
    per_path = [name for name, inp in config.inputs.items()
                if not inp.dist.is_constant and inp.vary == "path"]
    uniforms = design_uniforms(per_path, n, seed, config.simulation.sampling)
    drawn = set(per_path)
    pairs = {pair: rho for pair, rho in config.correlations.items() if set(pair) <= drawn}
    uniforms = correlate(uniforms, pairs, seed)
    constants: dict[str, float] = {}
    inputs: dict[str, Input] = {}
    for name, inp in config.inputs.items():
        if inp.dist.is_constant:
            constants[name] = float(inp.dist.mean())
            continue
        inputs[name] = inp
        if inp.vary == "month":
            uniforms[name] = ar1_uniforms(stream(seed, name, "monthly"), n, months,
                                          inp.persistence)
    return Draws(inputs, uniforms, constants, n)
