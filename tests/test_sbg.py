"""[retention] model = "sbg": config validation, and the engine against the closed forms.

Oracles: a cohort of N customers under the shifted-beta-geometric model keeps
N * S(a), S(a) = B(alpha, beta + a) / B(alpha, beta), at age a in expectation (expected
flows: to 1e-9), and each customer survives independently, so the survivors are
Binomial(N, S(a)) (binomial flows: mean and variance within Monte Carlo error).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import simulator
from simulator.model.sbg import equivalent_churn, hazard, lifetime, survival
from tests.conftest import CONSTANT, run_cli


def sbg_config(alpha: Any = 1.5, beta: Any = 20.0, customers: int = 200, months: int = 24,
               flows: str = "expected", paths: int = 4, visitors: float = 0.0,
               **start: Any) -> dict[str, Any]:
    """A start cohort and (with ``visitors`` > 0) new customers, churning by sBG."""
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(months=months, paths=paths, flows=flows, seed=7)
    cfg["start"].update(customers=customers, **start)
    cfg["acquisition"]["visitors"] = visitors
    cfg["retention"] = {"model": "sbg", "alpha": alpha, "beta": beta}
    return cfg


def run(cfg: dict[str, Any]) -> simulator.Result:
    return simulator.run(simulator.load_config(cfg))


def test_closed_forms_agree_with_the_hazard() -> None:
    """S(a) is the product of (1 - h(k)) for k = 1..a; the lifetime is the sum of S."""
    ages = np.arange(1, 400)
    alpha, beta = 2.5, 7.0
    np.testing.assert_allclose(np.cumprod(1 - hazard(alpha, beta, ages)),
                               survival(alpha, beta, ages), rtol=1e-12)
    tail = survival(alpha, beta, 400) * (alpha + beta + 400 - 1) / (alpha - 1)
    assert math.isclose(1 + survival(alpha, beta, ages).sum() + tail, lifetime(alpha, beta),
                        rel_tol=1e-9)
    assert equivalent_churn(0.8, 5.0) == 0.0 and lifetime(1.0, 5.0) == np.inf


@pytest.mark.parametrize("age", [0, 9])
def test_expected_flows_give_the_closed_form_survival(age: int) -> None:
    result = run(sbg_config(customer_age=age))
    months = np.arange(1, 25)
    expected = 200 * survival(1.5, 20.0, age + months) / survival(1.5, 20.0, age)
    np.testing.assert_allclose(result["customers"][0], expected, rtol=1e-9)
    churned = -np.diff(np.concatenate([[200.0], expected]))
    np.testing.assert_allclose(result["churned"][0], churned, rtol=1e-9)


def test_drawn_alpha_beta_set_each_path_survival() -> None:
    """alpha and beta as distributions: each path follows its own draw's survival."""
    cfg = sbg_config(alpha={"dist": "lognormal", "mu": 0.4, "sigma": 0.3},
                     beta={"dist": "lognormal", "mu": 3.0, "sigma": 0.3}, paths=50)
    cfg["correlations"] = [{"between": ["retention.alpha", "retention.beta"], "rho": 0.9}]
    result = run(cfg)
    alpha = result.params.whole("retention.alpha")[:, None]
    beta = result.params.whole("retention.beta")[:, None]
    np.testing.assert_allclose(result["customers"],
                               200 * survival(alpha, beta, np.arange(1, 25)), rtol=1e-9)
    assert np.corrcoef(np.argsort(np.argsort(alpha[:, 0])),
                       np.argsort(np.argsort(beta[:, 0])))[0, 1] > 0.7


def test_new_cohorts_age_from_the_month_after_they_join() -> None:
    """Expected flows with a steady funnel: customers(t) = N S(t) + sum_j new S(t - j)."""
    result = run(sbg_config(visitors=3000.0, months=12))
    new = 3000 * 0.0075 * 0.8 * 0.2 * 0.5 * 0.4 * 1.02 ** np.arange(12)
    t = np.arange(1, 13)
    s = np.concatenate([[1.0], survival(1.5, 20.0, t)])
    expected = 200 * s[t] + np.array([np.sum(new[:m] * s[m - np.arange(1, m + 1)])
                                      for m in t])
    np.testing.assert_allclose(result["customers"][0], expected, rtol=1e-9)


def test_binomial_flows_match_the_closed_form_within_monte_carlo_error() -> None:
    paths, n, alpha, beta = 20000, 200, 0.8, 6.0
    result = run(sbg_config(alpha, beta, customers=n, flows="binomial", paths=paths))
    for month in (1, 3, 12, 24):
        s = float(survival(alpha, beta, month))
        x = result.at("customers", month)
        se = math.sqrt(n * s * (1 - s) / paths)
        assert abs(x.mean() - n * s) <= 4.5 * se, (month, x.mean(), n * s, se)
        # Binomial(n, S): the variance too (its standard error from the fourth moment)
        var = n * s * (1 - s)
        se_var = math.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / paths)
        assert abs(x.var(ddof=1) - var) <= 5 * se_var, (month, x.var(ddof=1), var)


def test_ltv_uses_the_expected_lifetime() -> None:
    result = run(sbg_config(visitors=3000.0, months=6))
    margin = 1500 * 0.8
    np.testing.assert_allclose(result["ltv"], margin * (1.5 + 20 - 1) / (1.5 - 1), rtol=1e-12)
    assert np.all(np.isinf(run(sbg_config(alpha=0.9, visitors=3000.0, months=6))["ltv"]))


def test_flat_churn_written_as_a_model_gives_the_same_numbers() -> None:
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(flows="binomial", paths=300)
    plain = run(cfg)
    cfg["retention"]["model"] = "churn"
    explicit = run(cfg)
    for metric in ("customers", "churned", "mrr", "ltv", "cohort_payback_months"):
        np.testing.assert_array_equal(plain[metric], explicit[metric])


@pytest.mark.parametrize("change, key, words", [
    (lambda r, s, c: r.update(churn=0.02), "retention.churn", "does not go with"),
    (lambda r, s, c: r.pop("alpha"), "retention.alpha", "is required"),
    (lambda r, s, c: r.pop("beta"), "retention.beta", "is required"),
    (lambda r, s, c: r.update(alpha=0), "retention.alpha", "> 0"),
    (lambda r, s, c: r.update(beta={"dist": "normal", "mean": 5, "sd": 3}),
     "retention.beta", "> 0"),
    (lambda r, s, c: r.update(model="weibull"), "retention.model", "allowed: churn, sbg"),
    (lambda r, s, c: r.update(early_churn=0.1, early_months=2), "retention.early_churn",
     "does not go with"),
    (lambda r, s, c: s.update(customer_age=-1), "start.customer_age", ">= 0"),
    (lambda r, s, c: s.update(customer_age=2.5), "start.customer_age", "integer"),
    (lambda r, s, c: c.update(segments=[{"name": "smb", "share": 1.0}]), "segments",
     "do not go with"),
    (lambda r, s, c: (r.clear(), r.update(churn=0.02, alpha=1.0)), "retention.alpha",
     "needs [retention] model = \"sbg\""),
    (lambda r, s, c: (r.clear(), r.update(churn=0.02), s.update(customer_age=3)),
     "start.customer_age", "needs [retention] model"),
])
def test_bad_sbg_configs_give_one_clear_error(change: Any, key: str, words: str) -> None:
    cfg = sbg_config()
    change(cfg["retention"], cfg["start"], cfg)
    with pytest.raises(simulator.ConfigError) as err:
        simulator.load_config(cfg)
    assert err.value.key == key and words in err.value.reason, err.value.line()


def test_cli_runs_an_sbg_config_and_reports_bad_keys_in_one_line(capsys, base_toml, tmp_path
                                                                 ) -> None:
    text = base_toml.read_text().replace(
        'churn = { dist = "beta", mean = 0.012, sd = 0.004 }',
        'model = "sbg"\nalpha = { dist = "lognormal", mu = 0.38, sigma = 0.18 }\n'
        'beta = { dist = "lognormal", mu = 2.99, sigma = 0.22 }').replace(
        '"retention.churn"]', '"retention.alpha"]')
    config = tmp_path / "sbg.toml"
    config.write_text(text.replace("cash = 400000", "cash = 400000\ncustomer_age = 12", 1))

    code, out, err = run_cli(capsys, str(config), "--paths", "300", "--at", "12")
    assert code == 0, err
    assert "ltv" in out and "P(ltv_to_cac >= 3)" in out
    code, out, err = run_cli(capsys, str(config), "--paths", "300",
                             "--set", "retention.churn=0.02")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: --set: retention.churn: does not go with model = \"sbg\" (alpha and beta "
        "set churn by age); remove churn or the model"], err
