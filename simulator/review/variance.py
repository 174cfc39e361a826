"""What to measure next: the share of an output's variance each uncertain input explains on
its own (its first-order Sobol index, Var(E[Y | X_i]) / Var(Y)), from the paths of a normal run.

A given-data estimator, no extra design: the paths are sorted by the input and cut into bins
of equal count; the variance of the bin means, less what the within-bin noise adds to it
(a one-way ANOVA correction), estimates Var(E[Y | X_i]). An input with few distinct values is
binned by value. Bootstrap over paths (bins kept) gives the interval: the resampled shares'
quantiles, shifted to centre on the estimate. Unlike a rank
correlation, the share sees non-monotone effects, and it is on the output's own scale; the
part no single input explains is interactions, and under binomial flows the count noise
(luck) that no measurement removes. With correlated inputs a share includes what the input's
partners explain through it, and the shares may sum to more than 1.

When the output has infinite values (a CAC with no customer won) the variance is undefined:
the shares are then of the output's ranks (``scale = "ranks"`` in the frame's ``attrs``).

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x1, x2 = rng.normal(size=20000), rng.normal(size=20000)
>>> shares = first_order(2 * x1 + x2, {"x1": x1, "x2": x2}, bootstrap=50, rng=rng)
>>> shares["share"].round(1).to_dict()
{'x1': 0.8, 'x2': 0.2}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from distributions.joint import SeedLike, stream

if TYPE_CHECKING:
    from ..engine.results import Result

#: Bootstrap resamples for the intervals.
BOOTSTRAP = 200
#: Memory for the resamples' weighted sums at a time (about 270 resamples of 10,000 paths).
BLOCK_BYTES = 64 * 2**20


def _bins(x: np.ndarray, count: int) -> np.ndarray:
    """Bin labels 0..k-1 for the values ``x``: equal-count bins by rank, or one bin per value
    when there are no more distinct values than bins."""
    values, labels = np.unique(x, return_inverse=True)
    if len(values) <= count:
        return np.asarray(labels)
    order = np.argsort(x, kind="stable")
    out = np.empty(len(x), dtype=np.int64)
    out[order] = np.arange(len(x)) * count // len(x)
    return out


def _one_hot(labels: np.ndarray) -> Any:
    """The (bins, paths) sparse indicator of each path's bin."""
    from scipy import sparse  # slow to import: only when used

    paths = len(labels)
    return sparse.csr_matrix((np.ones(paths), (labels, np.arange(paths))),
                             shape=(int(labels.max()) + 1, paths))


def _share(sums: np.ndarray, one_hot: Any) -> np.ndarray:
    """First-order share for each of B weightings of the paths: ``sums`` is (paths, 3 * B),
    the path weights (resample counts), weights * y and weights * y**2 side by side;
    ``one_hot`` the paths' bins (:func:`_one_hot`); shape (B,)."""
    # per bin sums, one sparse product: (bins, paths) @ (paths, 3 * B)
    n, s1, s2 = (part.T for part in np.split(np.asarray(one_hot @ sums), 3, axis=1))
    total = n.sum(axis=1)
    mean = s1.sum(axis=1) / total
    sst = s2.sum(axis=1) - total * mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        bin_mean = np.where(n > 0, s1 / np.where(n > 0, n, 1), 0.0)
        ssb = (n * (bin_mean - mean[:, None]) ** 2).sum(axis=1)
        filled = (n > 0).sum(axis=1)
        msw = (sst - ssb) / np.maximum(total - filled, 1)
        share = (ssb - (filled - 1) * msw) / sst
    return np.where(sst > 0, np.clip(share, 0.0, 1.0), 0.0)


def _weightings(n: int, bootstrap: int, generator: np.random.Generator,
                centred: np.ndarray) -> Iterator[np.ndarray]:
    """The paths' weights (all 1, then each resample's counts of every path), times y and
    y**2, as ``sums`` for :func:`_share`, in blocks of at most :data:`BLOCK_BYTES`."""
    per_block = max(1, BLOCK_BYTES // (3 * 8 * n))
    for start in range(0, bootstrap + 1, per_block):
        columns = min(per_block, bootstrap + 1 - start)
        sums = np.empty((n, 3 * columns))
        resamples = columns - (start == 0)  # column 0 of the first block: the paths
        if start == 0:
            sums[:, 0] = 1.0
        if resamples:  # every resample's counts of every path, one bincount; drawn one
            # resample at a time, so the numbers do not depend on the block size
            drawn = np.empty((resamples, n), dtype=np.int64)
            for r in range(resamples):
                drawn[r] = generator.integers(0, n, n) + n * r
            sums[:, columns - resamples:columns] = np.bincount(
                drawn.ravel(), minlength=n * resamples).reshape(resamples, n).T
        np.multiply(sums[:, :columns], centred, out=sums[:, columns:2 * columns])
        np.multiply(sums[:, columns:2 * columns], centred, out=sums[:, 2 * columns:])
        yield sums


def first_order(output: np.ndarray, inputs: Mapping[str, np.ndarray], *,
                bins: int | None = None, bootstrap: int = BOOTSTRAP, level: float = 0.95,
                rng: SeedLike = None) -> pd.DataFrame:
    """First-order variance shares of ``output`` (one value per path) for each input (one
    value per path), ranked; columns ``share``, ``low``, ``high`` (the bootstrap interval).

    ``bins`` defaults to about the square root of the paths (between 5 and 100); ``rng`` is
    a seed or generator for the bootstrap.
    """
    y = np.asarray(output, dtype=np.float64)
    scale = "values"
    if not np.isfinite(y).all():
        _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        y, scale = (np.cumsum(counts) - (counts - 1) / 2)[inverse], "ranks"  # average ranks
    n = len(y)
    if not inputs or n < 2:
        return _frame({}, scale, level)
    count = bins if bins is not None else int(min(100, max(5, round(np.sqrt(n)))))
    generator = rng if isinstance(rng, np.random.Generator) else stream(rng, "first order")
    centred = (y - y.mean())[:, None]  # the same shares, better conditioned sums
    one_hots = {name: _one_hot(_bins(np.asarray(x, dtype=np.float64), count))
                for name, x in inputs.items()}
    blocks: dict[str, list[np.ndarray]] = {name: [] for name in inputs}
    for sums in _weightings(n, bootstrap, generator, centred):
        for name, one_hot in one_hots.items():
            blocks[name].append(_share(sums, one_hot))
    rows = {}
    for name, parts in blocks.items():
        shares = np.concatenate(parts)  # the estimate, then one per resample
        low, high = np.nan, np.nan
        if bootstrap > 0:  # resampled shares centred on the estimate (resampling duplicates
            # paths, which biases each resample's noise correction the same way)
            spread = np.quantile(shares[1:], [(1 - level) / 2, (1 + level) / 2]) \
                - np.median(shares[1:])
            low, high = np.clip(shares[0] + spread, 0.0, 1.0)
        rows[name] = {"share": float(shares[0]), "low": float(low), "high": float(high)}
    return _frame(rows, scale, level)


def _frame(rows: dict[str, dict[str, float]], scale: str, level: float) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["share", "low", "high"])
    frame = frame.sort_values("share", ascending=False, kind="stable")
    frame.index.name = "input"
    frame.attrs.update({"scale": scale, "level": level,
                        "unexplained": float(max(0.0, 1.0 - frame["share"].sum()))})
    return frame


def _path_values(value: float | np.ndarray) -> np.ndarray | None:
    """An input's per-path value (the path's average for a month-varying input)."""
    if not isinstance(value, np.ndarray):
        return None
    return value.mean(axis=1) if value.ndim == 2 else value


def first_order_shares(result: Result, metric: str, month: int, *,
                       bootstrap: int = BOOTSTRAP, level: float = 0.95,
                       rng: SeedLike = None, bins: int | None = None) -> pd.DataFrame:
    """First-order variance shares of ``metric`` at ``month`` for every uncertain input of
    ``result`` (constants never appear; a month-varying input by its path average), ranked.

    Columns ``share``, ``low``, ``high``; ``attrs`` hold ``metric``, ``month``, ``scale``
    ("values", or "ranks" when the metric has infinite values), ``level`` and
    ``unexplained`` (1 minus the sum of shares: interactions and count noise). ``rng``
    defaults to a stream of the run's seed, so the intervals repeat. Paths where the metric
    is undefined (NaN, such as NRR without customers a year before) are left out, as in
    :func:`~simulator.review.analysis.sensitivity`.
    """
    output = result.at(metric, month)
    keep = ~np.isnan(output)
    inputs = {}
    for name in result.config.inputs:
        values = _path_values(result.params.whole(name))
        if values is None:
            continue
        values = np.broadcast_to(values, keep.shape)[keep]
        if len(values) and np.ptp(values) > 0:
            inputs[name] = values
    seed = rng if rng is not None else np.random.SeedSequence(
        result.seed, spawn_key=(month, sum(map(ord, metric))))
    frame = first_order(output[keep], inputs, bins=bins, bootstrap=bootstrap,
                        level=level, rng=seed)
    frame.attrs.update({"metric": metric, "month": month})
    return frame


def reading(shares: pd.DataFrame, metric: str | None = None, month: int | None = None, *,
            input: str | None = None) -> str:
    """One sentence for the top input (or ``input``), e.g. "measuring funnel.customer.rate
    exactly would remove about 41% [36%, 46%] of the spread of cac_payback_months at month
    12" (shares under 10% with one decimal). ``metric`` and ``month`` default to those in
    ``shares.attrs``."""
    metric = metric or shares.attrs.get("metric", "the output")
    month = month if month is not None else shares.attrs.get("month")
    if shares.empty:
        return f"no uncertain input: the spread of {metric} is count noise only"
    name = input if input is not None else str(shares.index[0])
    row = shares.loc[name]
    shown = ".0%" if row["share"] >= 0.095 else ".1%"  # a small share keeps a decimal
    interval = ("" if np.isnan(row["low"])
                else f" [{row['low']:{shown}}, {row['high']:{shown}}]")
    spread = "spread (in ranks)" if shares.attrs.get("scale") == "ranks" else "spread"
    when = f" at month {month}" if month is not None else ""
    return (f"measuring {name} exactly would remove about {row['share']:{shown}}{interval} "
            f"of the {spread} of {metric}{when}")
