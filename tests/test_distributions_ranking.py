"""``ranking`` (the fits as a DataFrame) and the text table formatted from it.

The oracle is the text formatting ``fit_table`` had before it moved out of the library
(to ``simulate fit``),
copied here verbatim: the command line must keep printing exactly the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from distributions import Fit, fit, ranking
from simulator.cli.fit import format_ranking


def _old_fit_table(fits: Iterable[Fit]) -> str:  # distributions/fitting.py at 0529520
    def _short(x: float, width: int) -> str:
        text = f"{x:.1f}"
        return f"{text if len(text) <= width else f'{x:.3g}':>{width}}"

    def _pvalue(p: float) -> str:
        return f"{p:>5.3f}" if p >= 0.001 else "<.001"

    rows = list(fits)
    header = f"{'rank':>4}  {'family':<10}  {'AIC':>10}  {'dAIC':>8}  {'KS stat':>7}  "
    header += f"{'KS p':>5}  TOML"
    lines = [header]
    best = min((f.aic for f in rows), default=0.0)
    for rank, f in enumerate(rows, start=1):
        lines.append(
            f"{rank:>4}  {f.family:<10}  {_short(f.aic, 10)}  {_short(f.aic - best, 8)}  "
            f"{f.ks_stat:>7.4f}  {_pvalue(f.ks_pvalue)}  {f.toml()}"
        )
    return "\n".join(lines)


def _fits() -> list[list[Fit]]:
    rng = np.random.default_rng(8)
    made = [
        fit(rng.beta(3.0, 9.0, 500)),
        fit(rng.poisson(4.0, 300).astype(float)),
        fit(rng.lognormal(12.0, 0.4, 200)),
        [],
    ]
    extreme = [  # exponent-form AIC, huge dAIC, p-values at and below 0.001, NaN
        Fit("normal", {"dist": "normal", "mean": 1.0, "sd": 2.0}, -1e12, -3.5e12, 0.5, 1e-9, 9),
        Fit("gamma", {"dist": "gamma", "shape": 2.0, "scale": 3.0}, 2e9, 123456789.25, 0.0,
            0.001, 9),
        Fit("uniform", {"dist": "uniform", "low": -0.1234567, "high": 7.0}, 1.0, -99.96,
            0.123456, math.nan, 9),
    ]
    return [*made, extreme, extreme[::-1]]


def test_format_ranking_is_byte_identical_to_the_old_fit_table() -> None:
    for fits in _fits():
        want = _old_fit_table(fits)
        assert format_ranking(ranking(fits)) == want


def test_ranking_holds_the_fits() -> None:
    fits = fit(np.random.default_rng(2).gamma(2.0, 3.0, 400))
    frame = ranking(fits)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.name == "rank" and list(frame.index) == list(range(1, len(fits) + 1))
    assert list(frame.columns) == ["family", "loglik", "aic", "daic", "ks_stat", "ks_pvalue",
                                   "n", "toml", "spec"]
    for (_, row), f in zip(frame.iterrows(), fits, strict=True):
        assert (row.family, row.loglik, row.aic, row.ks_stat, row.ks_pvalue, row.n) == (
            f.family, f.loglik, f.aic, f.ks_stat, f.ks_pvalue, f.n)
        assert row.daic == f.aic - min(g.aic for g in fits)
        assert row.toml == f.toml() and row.spec == f.spec
    assert frame["daic"].iloc[0] == 0.0
    assert ranking([]).empty
