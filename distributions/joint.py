"""Joint sampling: named random streams, designs (random, LHS, Sobol) and rank correlation.

The seam is the uniform: a design yields uniforms in (0, 1) per named input, an Iman-Conover
rearrangement gives them the requested rank correlations, and each input applies its own
``ppf``. Rearranging keeps every input's set of uniforms intact, so an LHS design stays
exactly stratified and every marginal stays exact, with or without correlation.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from scipy import special

from ._compiled import COMPILED_FROM, wanted
from .base import DistributionError, FloatArray

T = TypeVar("T")
Transform = Callable[[FloatArray], FloatArray]


def _same(values: FloatArray) -> FloatArray:
    return values

SeedLike = int | np.random.SeedSequence | np.random.Generator | None
METHODS = ("random", "lhs", "sobol")
Correlations = Mapping[tuple[str, str], float]


def _words(key: str | int) -> tuple[int, ...]:
    """A stable tuple of 32-bit words for a stream key (a name or a non-negative integer)."""
    if isinstance(key, int):
        return (key & 0xFFFFFFFF, key >> 32)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def root_seed(seed: SeedLike) -> np.random.SeedSequence:
    """Turn an int, ``SeedSequence``, ``Generator`` or ``None`` into a root ``SeedSequence``.

    A ``Generator`` is not advanced: the root comes from a copy of its state, so the same
    generator always gives the same root, and the caller's own draws are unchanged.

    >>> rng = np.random.default_rng(3)
    >>> root_seed(rng).entropy == root_seed(rng).entropy
    True
    >>> rng.random() == np.random.default_rng(3).random()
    True
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(copy.deepcopy(seed).integers(0, 2**63)))
    return np.random.SeedSequence(seed)


def stream(seed: SeedLike, *keys: str | int) -> np.random.Generator:
    """A generator keyed by ``keys`` under ``seed``: the same keys always give the same draws.

    >>> a = stream(7, "revenue.arpa").random(2)
    >>> b = stream(7, "retention.churn").random(2)
    >>> bool((a == stream(7, "revenue.arpa").random(2)).all()), bool((a != b).all())
    (True, True)
    """
    root = root_seed(seed)
    spawn_key = tuple(root.spawn_key) + tuple(w for key in keys for w in _words(key))
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(root.entropy, spawn_key=spawn_key)))


def _open_unit(u: FloatArray) -> FloatArray:
    """Keep uniforms strictly inside (0, 1) so that normal scores stay finite."""
    tiny = np.finfo(np.float64).tiny
    return np.clip(u, tiny, 1.0 - np.finfo(np.float64).epsneg)


def design_uniforms(names: Sequence[str], n: int, seed: SeedLike = None,
                    method: str = "random") -> dict[str, FloatArray]:
    """Independent uniforms for each name: ``n`` draws from the named design.

    ``random`` and ``lhs`` draw each name from its own stream, so adding, removing or
    reordering names never changes another name's draws. ``sobol`` is one scrambled Sobol'
    sequence whose dimensions are assigned in sorted name order.
    """
    if method not in METHODS:
        allowed = ", ".join(METHODS)
        raise DistributionError("method", f"unknown design {method!r} (allowed: {allowed})")
    if n < 1:
        raise DistributionError("n", f"must be >= 1 (got {n})")
    root = root_seed(seed)
    out: dict[str, FloatArray] = {}
    if method == "sobol":
        ordered = sorted(set(names))
        if ordered:
            from scipy.stats import qmc  # imported here: scipy.stats takes 0.4 s to import

            engine = qmc.Sobol(d=len(ordered), scramble=True, seed=stream(root, "sobol design"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # n need not be a power of 2
                points = engine.random(n)
            for j, name in enumerate(ordered):
                out[name] = _open_unit(points[:, j])
        return {name: out[name] for name in names}
    for name in names:
        rng = stream(root, name)
        if method == "lhs":
            u = (rng.permutation(n) + rng.random(n)) / n
        else:
            u = rng.random(n)
        out[name] = _open_unit(u)
    return out


def correlation_matrix(names: Sequence[str], correlations: Correlations) -> FloatArray:
    """The rank-correlation matrix over ``names``, checked: known names, |rho| < 1, PSD."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for (a, b), rho in correlations.items():
        for name in (a, b):
            if name not in index:
                raise DistributionError("correlations", f"unknown input {name!r}")
        if a == b:
            raise DistributionError("correlations", f"{a!r} is correlated with itself")
        if not -1.0 < float(rho) < 1.0:
            raise DistributionError("correlations", f"rho must be in (-1, 1) (got {rho})")
        i, j = index[a], index[b]
        if matrix[i, j] != 0.0:
            raise DistributionError("correlations", f"pair ({a!r}, {b!r}) given twice")
        matrix[i, j] = matrix[j, i] = float(rho)
    smallest = float(np.linalg.eigvalsh(matrix).min()) if len(names) else 0.0
    if smallest < -1e-10:
        raise DistributionError(
            "correlations",
            f"the correlation matrix is not positive semi-definite (smallest eigenvalue "
            f"{smallest:.4g}); weaken some of the correlations")
    return matrix


def _psd_factor(matrix: FloatArray) -> FloatArray:
    """A factor ``L`` with ``L @ L.T == matrix`` (eigenvalues below 0 clipped to 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)), dtype=np.float64)


def correlate(uniforms: Mapping[str, FloatArray], correlations: Correlations,
              seed: SeedLike = None) -> dict[str, FloatArray]:
    """Rearrange uniforms (Iman-Conover) so the named pairs get the target rank correlations.

    Each column keeps exactly its own values; only their order across draws changes.
    Target Spearman correlations are mapped to the Pearson correlation of normal scores by
    ``2 sin(pi * rho / 6)``.
    """
    return _correlate(uniforms, correlations, seed, {})[0]


def _correlate(uniforms: Mapping[str, FloatArray], correlations: Correlations,
               seed: SeedLike, transforms: Mapping[str, Transform]
               ) -> tuple[dict[str, FloatArray], list[str]]:
    """:func:`correlate`, each rearranged column passed through its elementwise transform
    in ``transforms`` (if any) while its values are sorted: the same numbers as transforming
    after, and an inverse CDF runs faster on sorted values. Also returns the names
    rearranged (and transformed)."""
    out = {name: np.asarray(u, dtype=np.float64) for name, u in uniforms.items()}
    involved = sorted({name for pair in correlations for name in pair})
    if not involved:
        return out, []
    target = correlation_matrix(involved, correlations)
    n = len(out[involved[0]])
    if n < 3:
        return out, []
    pearson = 2.0 * np.sin(np.pi * target / 6.0)
    root = root_seed(seed)
    compiled = wanted(n)
    if compiled:
        from ._ranks_compiled import place, sort, stable_argsort, transpose
    with _pool(n) as pool:
        base = special.ndtri(np.arange(1, n + 1) / (n + 1))  # normal scores of ranks 1..n
        permuted = np.empty((len(involved), n))  # a row per name, transposed below
        permuting = [pool.submit(_permute, permuted[j], base, stream(root, "iman-conover", name))
                     for j, name in enumerate(involved)]

        def prepare(name: str) -> FloatArray:  # the values' side does not need the scores
            return transforms.get(name, _same)(sort(out[name]) if compiled
                                               else np.sort(out[name]))

        ready = [pool.submit(prepare, name) for name in involved]
        for done in permuting:
            done.result()
        scores = transpose(permuted) if compiled else np.column_stack(list(permuted))
        del permuted
        sample_corr = np.corrcoef(scores, rowvar=False)
        whiten = np.linalg.inv(np.linalg.cholesky(sample_corr + 1e-12 * np.eye(len(involved))))
        # scores @ whiten.T @ factor.T, written column by column (Fortran order: the same
        # numbers, and each column contiguous for its sort)
        correlated = np.empty((n, len(involved)), order="F")
        np.matmul(scores @ whiten.T, _psd_factor(pearson).T, out=correlated)
        del scores
        columns = correlated.T

        # the k-th smallest value goes where the k-th smallest score is: one stable argsort
        # of the scores and one sort of the values per column (never the ranks themselves)
        def move(j: int) -> FloatArray:
            if compiled:
                return place(stable_argsort(columns[j]), ready[j].result())
            rearranged = np.empty(n)
            rearranged[np.argsort(columns[j], kind="stable")] = ready[j].result()
            return rearranged

        moving = [pool.submit(move, j) for j in range(len(involved))]
        out.update((name, done.result()) for name, done in zip(involved, moving, strict=True))
    return out, involved


def _permute(row: FloatArray, base: FloatArray, rng: np.random.Generator) -> None:
    """``row`` becomes ``rng.permutation(base)``: a copy of ``base``, shuffled in place."""
    row[:] = base
    rng.shuffle(row)


class _Inline:
    """An executor that runs each task when it is submitted."""

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(function(*args))
        return future


@contextlib.contextmanager
def _pool(n: int) -> Iterator[ThreadPoolExecutor | _Inline]:
    """Threads (up to 4) for columns of ``n`` >= 50,000 values (NumPy's sorts and
    permutations and the compiled functions release the GIL), else the calling thread.
    Tasks start in the order submitted."""
    if n < COMPILED_FROM:
        yield _Inline()
        return
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        yield pool


def _map(function: Callable[[T], FloatArray], items: Iterable[T], n: int) -> list[FloatArray]:
    """``function`` over ``items``, on threads for columns of ``n`` >= 50,000 values."""
    with _pool(n) as pool:
        return [done.result() for done in [pool.submit(function, item) for item in items]]


def ar1_uniforms(rng: np.random.Generator, n: int, months: int,
                 persistence: float) -> FloatArray:
    """Uniforms of shape (n, months) whose normal scores follow an AR(1) with lag-1
    correlation ``persistence``; each month's marginal stays uniform."""
    if not 0.0 <= persistence < 1.0:
        raise DistributionError("persistence", f"must be in [0, 1) (got {persistence})")
    z = rng.standard_normal((n, months))
    if persistence > 0.0:
        scale = np.sqrt(1.0 - persistence**2)
        for t in range(1, months):
            z[:, t] = persistence * z[:, t - 1] + scale * z[:, t]
    return _open_unit(special.ndtr(z))


def sample_joint(specs: Mapping[str, Any], n: int, seed: SeedLike = None,
                 method: str = "random",
                 correlations: Correlations | None = None) -> Any:
    """Draw ``n`` joint samples of the named specs; returns a pandas DataFrame.

    >>> df = sample_joint({"a": {"dist": "normal", "mean": 0, "sd": 1},
    ...                    "b": {"dist": "uniform", "low": 0, "high": 1}}, 1000, seed=1,
    ...                   method="lhs", correlations={("a", "b"): 0.5})
    >>> df.shape, round(float(df.corr("spearman").loc["a", "b"]), 1)
    ((1000, 2), 0.5)
    """
    import pandas as pd

    from .spec import parse

    dists = {name: parse(spec) for name, spec in specs.items()}
    root = root_seed(seed)
    uniforms = design_uniforms(list(dists), n, root, method)
    ppfs = {name: dist.ppf for name, dist in dists.items()}
    values, done = _correlate(uniforms, correlations or {}, root, ppfs)  # ppf applied too
    rest = [name for name in dists if name not in done]
    values.update(zip(rest, _map(lambda name: ppfs[name](uniforms[name]), rest, n), strict=True))
    # each column a new array of its own: no need to copy them into one block
    return pd.DataFrame({name: values[name] for name in dists}, copy=False)
