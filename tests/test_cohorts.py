"""Cohort tables and the sBG fit: checked input, the likelihood against a per-customer
oracle, and the 90% intervals' coverage over many synthetic datasets drawn from known
alpha and beta (simulation-based calibration)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulator
from simulator.history.cohorts import fit_sbg, read_cohorts
from simulator.history.sbg_likelihood import Counts
from simulator.model.sbg import hazard, survival
from tests.conftest import CONSTANT, ROOT

GOOD = "cohort,age,active\n2024-01,0,10\n2024-01,1,8\n2024-01,2,7\n2024-02,0,5\n2024-02,1,5\n"


def test_read_cohorts_returns_the_long_table(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("cohort, age ,active\n2024-02,1,5\n2024-01,2,7\n2024-01,0,10\n"
                    "2024-02,0,5\n2024-01,1,8\n")
    table = read_cohorts(path)
    assert list(table.columns) == ["cohort", "age", "active"]
    assert table["cohort"].tolist() == ["2024-02"] * 2 + ["2024-01"] * 3
    assert table["age"].tolist() == [0, 1, 0, 1, 2]
    assert table["active"].dtype == np.int64
    pd.testing.assert_frame_equal(read_cohorts(table), table)


@pytest.mark.parametrize("text, key, words", [
    (GOOD.replace("2024-01,1,8", "2024-01,1,eight"), "row 3: active", "'eight'"),
    (GOOD.replace("2024-01,1,8", "2024-01,1,-8"), "row 3: active", "whole number >= 0"),
    (GOOD.replace("2024-01,1,8", "2024-01,1,7.5"), "row 3: active", "whole number"),
    (GOOD.replace("2024-01,1,8", "2024-01,1,\"1,200\""), "row 3: active", "more than 10"),
    (GOOD.replace("2024-01,1,8", "2024-01,x,8"), "row 3: age", "'x'"),
    (GOOD.replace("2024-01,1,8", "2024-01,1,"), "row 3: active", "is empty"),
    (GOOD.replace("2024-01,1,8", ",1,8"), "row 3: cohort", "is empty"),
    (GOOD + "2024-01,1,8\n", "row 7: age", "age 1 twice (first in row 3)"),
    (GOOD.replace("2024-02,0,5", "2024-02,2,5"), "row 5: age", "no age 0 row"),
    (GOOD.replace("2024-01,2,7", "2024-01,2,9"), "row 4: active", "can only fall"),
    (GOOD.replace("active", "actives"), "actives", "unknown column"),
    ("cohort,age\n2024-01,0\n", "active", "column is missing"),
    ("cohort,age,active\n", "", "has no rows"),
])
def test_bad_cohort_tables_name_file_row_and_column(tmp_path: Path, text: str, key: str,
                                                   words: str) -> None:
    path = tmp_path / "cohorts.csv"
    path.write_text(text)
    with pytest.raises(simulator.ConfigError) as err:
        read_cohorts(path)
    assert err.value.key == key and words in err.value.reason, err.value.line()
    assert err.value.source == str(path)


def test_unreadable_file_and_no_churn_are_errors(tmp_path: Path) -> None:
    with pytest.raises(simulator.ConfigError, match="cannot read the cohorts file"):
        read_cohorts(tmp_path / "missing.csv")
    flat = pd.DataFrame({"cohort": ["a", "a"], "age": [0, 3], "active": [10, 10]})
    with pytest.raises(simulator.ConfigError, match="no customer churned"):
        fit_sbg(flat)


def _naive_loglik(table: pd.DataFrame, alpha: float, beta: float) -> float:
    """Oracle: customer by customer, from the hazards (no Beta functions)."""
    total = 0.0
    for _, group in table.groupby("cohort"):
        ages, active = group["age"].to_numpy(), group["active"].to_numpy()
        s = np.concatenate([[1.0], np.cumprod(1 - hazard(alpha, beta,
                                                         np.arange(1, ages.max() + 1)))])
        for lo, hi, n_lo, n_hi in zip(ages[:-1], ages[1:], active[:-1], active[1:],
                                      strict=True):
            total += (n_lo - n_hi) * math.log((s[lo] - s[hi]) / s[0])
        total += active[-1] * math.log(s[ages[-1]])
    return total


def test_likelihood_gradient_and_hessian_against_oracles() -> None:
    """Censoring and gaps in the ages (2024-02 skips ages 1-2) handled as intervals."""
    table = read_cohorts(pd.DataFrame({
        "cohort": ["a"] * 4 + ["b"] * 3 + ["c"],
        "age": [0, 1, 2, 3, 0, 3, 5, 0], "active": [100, 80, 71, 66, 60, 40, 37, 9]}))
    counts = Counts.of(table)
    theta = np.log([0.7, 3.0])
    value, grad, hess = counts.loglik(theta)
    assert math.isclose(value, _naive_loglik(table, 0.7, 3.0), rel_tol=1e-12)
    step = 1e-5
    for i in range(2):
        e = np.eye(2)[i] * step
        up, down = counts.loglik(theta + e), counts.loglik(theta - e)
        assert math.isclose(grad[i], (up[0] - down[0]) / (2 * step), rel_tol=1e-6)
        np.testing.assert_allclose(hess[i], (up[1] - down[1]) / (2 * step), rtol=1e-6)
    fit = fit_sbg(table)
    assert np.all(np.abs(counts.loglik(np.log([fit.alpha, fit.beta]))[1]) < 1e-6)


def _synthetic_counts(alpha: float, beta: float, datasets: int, cohorts: int, size: int,
                      seed: int) -> list[Counts]:
    """``datasets`` cohort tables at once: cohort c observed at ages 0..cohorts - c."""
    rng = np.random.default_rng(seed)
    life = rng.geometric(rng.beta(alpha, beta, (datasets, cohorts, size)))  # churn age
    last = cohorts - np.arange(cohorts)
    ages = np.arange(1, cohorts + 1)
    seen = ages[None, :] <= last[:, None]
    churned = ((life[..., None] == ages) & seen[None, :, None, :]).sum(axis=(1, 2))
    censored = (life > last[None, :, None]).sum(axis=2)
    return [Counts(ages - 1.0, ages * 1.0, churned[k] * 1.0, last * 1.0, censored[k] * 1.0)
            for k in range(datasets)]


@pytest.mark.parametrize("alpha, beta", [(1.5, 20.0), (0.6, 4.0)])
def test_intervals_cover_the_true_alpha_and_beta_about_90_percent(alpha: float,
                                                                  beta: float) -> None:
    """Simulation-based calibration: over K datasets the 90% intervals of alpha and beta
    each contain the truth 90% of the time, within 4 binomial standard errors."""
    k = 300
    z = stats.norm.ppf(0.95)
    hits = np.zeros(2)
    estimates = []
    for counts in _synthetic_counts(alpha, beta, k, cohorts=12, size=80, seed=11):
        theta, cov, _ = counts.fit()
        hits += np.abs(theta - np.log([alpha, beta])) <= z * np.sqrt(np.diag(cov))
        estimates.append(theta)
    coverage = hits / k
    tolerance = 4 * math.sqrt(0.9 * 0.1 / k)
    assert np.all(np.abs(coverage - 0.9) <= tolerance), coverage
    # the estimates centre on the truth (median of log estimates, 4 standard errors)
    spread = np.std(estimates, axis=0) * 1.2533 / math.sqrt(k)
    assert np.all(np.abs(np.median(estimates, axis=0) - np.log([alpha, beta])) <= 4 * spread)


def test_example_file_fit_and_curve() -> None:
    fit = fit_sbg(ROOT / "configs" / "cohorts_example.csv")
    low, high = fit.intervals()["alpha"]
    assert low < 1.5 < high and fit.intervals()["beta"][0] < 20.0 < fit.intervals()["beta"][1]
    curve = fit.curve(48)
    assert len(curve) == 49 and curve["projected"].sum() == 48 - fit.max_age
    assert curve["observed"].iloc[: fit.max_age + 1].notna().all()
    assert curve["observed"].iloc[fit.max_age + 1:].isna().all()
    assert np.all((curve["low"] <= curve["fitted"]) & (curve["fitted"] <= curve["high"]))
    # pooled observed retention follows the fitted curve over the data
    assert np.abs(curve["observed"] - curve["fitted"]).iloc[:24].max() < 0.03


def test_fitted_spec_runs_and_the_engine_projects_the_fitted_curve() -> None:
    fit = fit_sbg(ROOT / "configs" / "cohorts_example.csv")
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=2000, months=36, flows="expected")
    cfg["acquisition"]["visitors"] = 0.0
    cfg["start"]["customers"] = 100
    cfg["retention"] = fit.retention_spec()
    cfg["correlations"] = [fit.correlation_spec()]
    result = simulator.run(simulator.load_config(cfg))
    alpha, beta = (result.params.whole(f"retention.{n}") for n in ("alpha", "beta"))
    assert abs(np.median(alpha) / fit.alpha - 1) < 0.05
    assert abs(np.median(beta) / fit.beta - 1) < 0.05
    band = fit.curve(36).set_index("age")
    share = result["customers"] / 100
    median = np.median(share, axis=0)
    # the paths' median retention is the fitted curve, within its band
    assert np.all((band["low"].iloc[1:] <= median) & (median <= band["high"].iloc[1:]))
    np.testing.assert_allclose(median, fit.survival(np.arange(1, 37)), rtol=0.05)
    assert survival(fit.alpha, fit.beta, 36) == pytest.approx(band["fitted"].iloc[36])


def test_apply_writes_a_config_that_loads(base_toml: Path) -> None:
    """The fit replaces [retention], drops correlations with the churn input it removes,
    adds its own, and starts the book at the cohorts' median current age."""
    import tomllib

    base = tomllib.loads(base_toml.read_text())
    table = pd.DataFrame({"cohort": ["a"] * 4 + ["b"] * 3 + ["c"] * 2,
                          "age": [0, 1, 2, 3, 0, 1, 2, 0, 1],
                          "active": [100, 80, 70, 64, 10, 8, 7, 50, 44]})
    fit = fit_sbg(table)
    assert fit.book_age == 3  # active at the last age: 44 at 1, 7 at 2, 64 at 3
    cfg = fit.apply(base)
    assert cfg["retention"] == fit.retention_spec()
    assert cfg["correlations"] == [fit.correlation_spec()]  # base's churn pair is dropped
    assert cfg["start"]["customer_age"] == 3 and base["retention"].get("churn") is not None
    config = simulator.load_config(cfg)
    assert config.depth.retention.customer_age == 3
    assert fit.apply(base, customer_age=0)["start"]["customer_age"] == 0
    with pytest.raises(simulator.ConfigError, match="segments"):
        fit.apply({**base, "segments": [{"name": "smb", "share": 1.0}]})
    with pytest.raises(simulator.ConfigError, match="beyond age 0"):
        fit_sbg(table[table["age"] == 0])


def test_example_file_is_what_its_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_cohorts_example", ROOT / "examples" / "make_cohorts_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = read_cohorts(ROOT / "configs" / "cohorts_example.csv")
    pd.testing.assert_frame_equal(read_cohorts(module.cohorts_table()), written)
    assert (module.ALPHA, module.BETA) == (1.5, 20.0)
