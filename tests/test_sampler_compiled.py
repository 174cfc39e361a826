"""The compiled sampler paths (issue 14, item 4): the beta / PERT inverse CDF's quintic table
and the Iman-Conover bucket sorts. Oracles: scipy.special (betaincinv, betainc, ndtri) and
NumPy's stable argsort; fixed seeds, no timing. Skipped without numba, except the checks that
the NumPy paths still run for large arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import special

import distributions
from distributions import _compiled, correlate, design_uniforms, sample_joint
from distributions.beta_inverse import beta_ppf
from tests.test_distributions import SHAPES, beta_misfit

LARGE = _compiled.COMPILED_FROM + 4321  # takes the compiled paths
TARGETS = {("a", "b"): 0.6, ("a", "c"): -0.3, ("c", "d"): 0.45}


@pytest.fixture
def numba_installed() -> None:
    pytest.importorskip("numba")


@pytest.fixture
def numpy_only(monkeypatch: Any) -> None:
    """As on a machine without the ``fast`` extra."""
    monkeypatch.setattr(_compiled, "available", lambda: False)


def _probabilities(seed: int, n: int) -> np.ndarray:
    """Uniforms plus both tails: down to 1e-100 below, up to 1 - 2^-53 above."""
    rng = np.random.default_rng(seed)
    q = np.concatenate([rng.random(n), rng.random(2000) ** 40, 1.0 - rng.random(2000) ** 8,
                        [2.0**-53, 0.5, 1.0 - 2.0**-53]])
    return np.clip(q, 1e-300, 1.0 - 2.0**-53)


@pytest.mark.parametrize("alpha, beta", [*SHAPES, (19.8, 79.2), (3.0, 3.0)])
def test_compiled_beta_inverse_agrees_with_betaincinv(numba_installed: None, alpha: float,
                                                      beta: float) -> None:
    """Every value within 1e-13 of betaincinv relative to both x and 1 - x, or (where
    betaincinv itself is off) fitting I_x = q no worse than it, plus 1e-13."""
    q = _probabilities(11, LARGE)
    fast = beta_ppf(alpha, beta, q)
    exact = special.betaincinv(alpha, beta, q)
    gap = np.abs(fast - exact)
    close = gap <= 1e-13 * np.minimum(exact, 1.0 - exact) + 2.0 * np.spacing(exact)
    close |= np.isnan(fast) & np.isnan(exact)  # betaincinv gives NaN below about 1e-100
    fits = beta_misfit(alpha, beta, q, fast) <= beta_misfit(alpha, beta, q, exact) + 1e-13
    assert np.all(close | fits)
    assert np.mean(close) > 0.999


@pytest.mark.parametrize("alpha, beta", [(19.8, 79.2), (3.0, 3.0), (2.0, 5.0), (0.3, 4.0)])
def test_compiled_and_numpy_beta_inverse_differ_in_the_last_digits_only(
        numba_installed: None, monkeypatch: Any, alpha: float, beta: float) -> None:
    q = _probabilities(5, LARGE)
    compiled = beta_ppf(alpha, beta, q)
    monkeypatch.setattr(_compiled, "available", lambda: False)
    plain = beta_ppf(alpha, beta, q)
    gap = np.abs(compiled - plain)
    bound = 1e-13 * np.minimum(plain, 1.0 - plain) + 2.0 * np.spacing(plain)
    assert np.all((gap <= bound) | (np.isnan(compiled) & np.isnan(plain)))


def test_table_is_exact_where_it_skips_the_newton_step(numba_installed: None) -> None:
    """At points between the nodes the check did not see, the values the table finishes
    alone agree with betaincinv to its tolerance (plus the final rounding)."""
    from distributions import _beta_compiled as bc

    for alpha, beta in [(19.8, 79.2), (3.0, 3.0), (0.3, 4.0), (200.0, 300.0), (5.0, 600.0)]:
        z = np.linspace(-bc.SPAN, bc.SPAN, 50_001)[:-1] + 1e-5
        q = special.ndtr(z)
        out, finish = bc.evaluate(alpha, beta, q)
        table = finish == bc.TABLE
        assert table.mean() > 0.3
        x, y = bc._sides(alpha, beta, q[table], 1.0 - q[table])
        bound = 1.5 * bc.TOLERANCE * np.minimum(x, y) + 2.0 * np.spacing(x)
        assert np.all(np.abs(out[table] - x) <= bound)


def test_compiled_normal_quantile_matches_ndtri(numba_installed: None) -> None:
    """Wichura's AS241 against scipy's ndtri: a few ulps apart at most."""
    from distributions import _beta_compiled as bc

    q = _probabilities(3, 200_000)
    z = bc.normal_quantiles(q, bc._RATIONALS)
    exact = special.ndtri(q)
    assert np.all(np.abs(z - exact) <= 2e-15 * np.maximum(np.abs(exact), 1e-3))


@pytest.mark.parametrize("n", [2, 3, 7, 1000, 70_000])
@pytest.mark.parametrize("kind", ["normal", "uniform", "ties", "cauchy", "crowded",
                                  "not finite"])
def test_bucket_sort_is_numpys_stable_sort(numba_installed: None, n: int, kind: str) -> None:
    from distributions._ranks_compiled import rearrange

    rng = np.random.default_rng(n)
    scores = {"normal": rng.standard_normal(n), "uniform": rng.random(n),
              "ties": np.round(rng.standard_normal(n), 1), "cauchy": rng.standard_cauchy(n),
              "crowded": np.where(rng.random(n) < 0.999, rng.random(n) * 1e-9, 1.0),
              "not finite": np.where(rng.random(n) < 0.3, [np.nan, np.inf, -np.inf][n % 3],
                                     rng.standard_normal(n))}[kind]
    values = rng.permutation(scores)  # the same kind of values, ties included
    expected = np.empty(n)
    expected[np.argsort(scores, kind="stable")] = np.sort(values)
    assert np.array_equal(rearrange(scores, values), expected, equal_nan=True)


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_compiled_rank_step_gives_the_numpy_numbers(numba_installed: None, monkeypatch: Any,
                                                    method: str) -> None:
    """Bit for bit: the rank step's arithmetic is unchanged, only its sorts are compiled."""
    u = design_uniforms(["a", "b", "c", "d", "e"], LARGE, seed=9, method=method)
    u["e"] = np.round(u["e"], 3)  # ties among the values
    compiled = correlate(u, TARGETS, seed=9)
    monkeypatch.setattr(_compiled, "available", lambda: False)
    plain = correlate(u, TARGETS, seed=9)
    for name in u:
        assert np.array_equal(compiled[name], plain[name]), name


def _reference_correlate(uniforms: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """The rank step as it was before it was compiled: the oracle for its numbers."""
    from distributions.joint import _psd_factor, correlation_matrix, root_seed, stream

    involved = sorted({name for pair in TARGETS for name in pair})
    n = len(uniforms[involved[0]])
    pearson = 2.0 * np.sin(np.pi * correlation_matrix(involved, TARGETS) / 6.0)
    root = root_seed(seed)
    base = special.ndtri(np.arange(1, n + 1) / (n + 1))
    scores = np.column_stack([stream(root, "iman-conover", name).permutation(base)
                              for name in involved])
    sample_corr = np.corrcoef(scores, rowvar=False)
    whiten = np.linalg.inv(np.linalg.cholesky(sample_corr + 1e-12 * np.eye(len(involved))))
    correlated = scores @ whiten.T @ _psd_factor(pearson).T
    out = dict(uniforms)
    for j, name in enumerate(involved):
        rearranged = np.empty(n)
        rearranged[np.argsort(correlated[:, j], kind="stable")] = np.sort(uniforms[name])
        out[name] = rearranged
    return out


@pytest.mark.parametrize("n", [100, 5000, LARGE])
def test_rank_step_gives_the_numbers_it_gave_before(n: int) -> None:
    """Bit for bit against the former code, compiled or not."""
    u = design_uniforms(["a", "b", "c", "d", "e"], n, seed=17)
    expected = _reference_correlate(u, 17)
    got = correlate(u, TARGETS, seed=17)
    for name in u:
        assert np.array_equal(got[name], expected[name]), name


def test_numpy_paths_run_on_large_arrays(numpy_only: None) -> None:
    specs = {"a": {"dist": "beta", "mean": 0.2, "sd": 0.04},
             "b": {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
             "c": {"dist": "lognormal", "mean": 1500, "sd": 250}}
    df = sample_joint(specs, LARGE, seed=3, correlations={("a", "b"): 0.5})
    assert df.shape == (LARGE, 3)
    assert abs(df.corr("spearman").loc["a", "b"] - 0.5) < 0.02


def test_sample_joint_large_agrees_with_the_numpy_path(numba_installed: None,
                                                       monkeypatch: Any) -> None:
    specs = {"a": {"dist": "beta", "mean": 0.2, "sd": 0.04},
             "b": {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
             "c": {"dist": "lognormal", "mean": 1500, "sd": 250},
             "d": {"dist": "beta", "alpha": 0.3, "beta": 4.0}}
    pairs = {("a", "b"): 0.5, ("c", "d"): -0.3}
    compiled = sample_joint(specs, LARGE, seed=4, method="lhs", correlations=pairs)
    monkeypatch.setattr(_compiled, "available", lambda: False)
    plain = distributions.sample_joint(specs, LARGE, seed=4, method="lhs", correlations=pairs)
    assert np.allclose(compiled.to_numpy(), plain.to_numpy(), rtol=2e-14, atol=0.0)


@pytest.mark.parametrize("n", [1000, LARGE])
def test_sample_joint_is_the_inverse_cdfs_of_the_correlated_uniforms(n: int) -> None:
    """sample_joint applies each correlated input's ppf to its sorted uniforms before putting
    them in place: bit for bit the ppf of the rearranged uniforms."""
    specs = {"a": {"dist": "beta", "mean": 0.2, "sd": 0.04},
             "b": {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6},
             "c": {"dist": "lognormal", "mean": 1500, "sd": 250},
             "d": {"dist": "normal", "mean": 0, "sd": 1}}
    pairs = {("a", "b"): 0.5, ("a", "c"): -0.3}
    df = sample_joint(specs, n, seed=6, correlations=pairs)
    root = distributions.joint.root_seed(6)
    u = correlate(design_uniforms(list(specs), n, root), pairs, root)
    for name, spec in specs.items():
        assert np.array_equal(df[name].to_numpy(), distributions.parse(spec).ppf(u[name])), name


def test_other_threads_get_the_same_numbers(numba_installed: None) -> None:
    """Off the main thread the compiled loops run serially (numba's parallel loops are entered
    from the main thread only): the same values, bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    from distributions._ranks_compiled import transpose

    q = _probabilities(8, LARGE)
    matrix = np.random.default_rng(8).random((LARGE, 5))
    with ThreadPoolExecutor(max_workers=2) as pool:
        beta = pool.submit(beta_ppf, 19.8, 79.2, q).result()
        flipped = pool.submit(transpose, matrix).result()
    assert np.array_equal(beta, beta_ppf(19.8, 79.2, q), equal_nan=True)
    assert np.array_equal(flipped, transpose(matrix)) and np.array_equal(flipped, matrix.T)


def test_a_process_forked_after_parallel_sampling_runs(numba_installed: None) -> None:
    """The simulator forks its workers after drawing the inputs on every core: numba's
    parallel loops must run on a fork-safe threading layer (GNU OpenMP aborts the child)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent('''
        import os
        import distributions
        spec = {"a": {"dist": "beta", "mean": 0.2, "sd": 0.04},
                "b": {"dist": "pert", "low": 0.4, "mode": 0.5, "high": 0.6}}
        rho = {("a", "b"): 0.5}
        first = distributions.sample_joint(spec, 200_000, seed=1, correlations=rho)
        pid = os.fork()
        if pid == 0:
            again = distributions.sample_joint(spec, 200_000, seed=1, correlations=rho)
            os._exit(0 if (again.values == first.values).all() else 3)
        _, status = os.waitpid(pid, 0)
        raise SystemExit(os.waitstatus_to_exitcode(status))
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
