"""``simulate calibrate --cohorts``: sBG retention from a cohorts table in the calibrated
config, with or without a history; bad cohorts files and base configs that cannot take sBG
are one clear line. End to end: cohorts drawn from known alpha and beta, calibrated, and the
written config's expected-flows survival of its start customers against the closed form
S(age + t) / S(age) at the fitted alpha and beta."""

from __future__ import annotations

import copy
import math
import tomllib

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.cli import main
from simulator.history.cohorts import fit_sbg
from simulator.history.toml_out import dumps
from simulator.model.sbg import survival
from tests.conftest import CONSTANT, ROOT, run_cli

HISTORY = ROOT / "configs" / "history_example.csv"
COHORTS = ROOT / "configs" / "cohorts_example.csv"
BASE = ROOT / "configs" / "base.toml"


def drawn_cohorts(alpha: float, beta: float, cohorts: int = 24, size: int = 300,
                  seed: int = 5) -> pd.DataFrame:
    """Monthly cohorts of ``size`` customers, each churning at p ~ Beta(alpha, beta) a month;
    cohort c is observed at ages 0..cohorts - 1 - c (the young ones right-censored)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(cohorts):
        life = rng.geometric(rng.beta(alpha, beta, size))  # the age at which each churns
        rows += [(f"c{c:02d}", age, int((life > age).sum())) for age in range(cohorts - c)]
    return pd.DataFrame(rows, columns=["cohort", "age", "active"])


def test_cohorts_only_writes_sbg_retention_that_runs(capsys, tmp_path):
    out = tmp_path / "cal.toml"
    code, stdout, err = run_cli(capsys, "calibrate", "--cohorts", str(COHORTS), "--config",
                             str(BASE), "--output", str(out))
    assert code == 0, err
    fit = fit_sbg(COHORTS)
    text = out.read_text()
    cal = tomllib.loads(text)
    retention = cal["retention"]
    assert retention["model"] == "sbg" and "churn" not in retention
    assert math.isclose(math.exp(retention["alpha"]["mu"]), fit.alpha, rel_tol=1e-4)
    assert math.isclose(math.exp(retention["beta"]["mu"]), fit.beta, rel_tol=1e-4)
    assert cal["correlations"] == [fit.correlation_spec()]  # the base's churn pair is gone
    assert cal["start"]["customer_age"] == fit.book_age == 11
    assert cal["start"]["customers"] == 60  # no history: the base's start
    # evidence: cohorts, customers, ages and the intervals, above [retention]
    joined = text.replace("\n# ", " ")
    assert f"{fit.describe()}\n[retention]" in joined
    assert "# alpha: maximum likelihood 1.466, 90% interval 1.098 to 1.957" in text
    assert "Dropped the base config's correlations naming churn" in stdout
    assert "funnel.customer.rate ~ retention.churn" in stdout
    # the retention curve: fitted next to observed, and the projection beyond the data
    lines = {line.split()[0]: line for line in stdout.splitlines()
             if line.strip() and line.split()[0].isdigit()}
    assert set(lines) == {"1", "3", "6", "12", "24", "35", "47", "59"}
    assert "50.0%" in lines["12"] and "50.2%" in lines["12"]
    assert lines["59"].endswith("projected") and not lines["24"].endswith("projected")
    # next to the base config's flat churn at its median (1.16% a month): 0.9884^12
    assert "base (churn 1.16%)" in stdout and "87.0%" in lines["12"]
    assert "retention.churn" not in stdout.split("Kept from the base config:")[1].split("\n")[0]
    code, stdout, err = run_cli(capsys, str(out), "--paths", "500", "--quiet")
    assert code == 0 and "Month 36" in stdout, err
    assert simulator.calibrate(None, BASE, cohorts=COHORTS) == cal


def test_history_and_cohorts_churn_from_the_cohorts_start_from_the_history(capsys, tmp_path):
    out = tmp_path / "cal.toml"
    code, stdout, err = run_cli(capsys, "calibrate", str(HISTORY), "--cohorts", str(COHORTS),
                             "--config", str(BASE), "--output", str(out))
    assert code == 0, err
    cal = tomllib.loads(out.read_text())
    history_only = simulator.calibrate(HISTORY, BASE)
    assert cal["retention"] == fit_sbg(COHORTS).retention_spec()
    assert "churn" in history_only["retention"] and "churn" not in cal["retention"]
    assert cal["start"]["customers"] == history_only["start"]["customers"] == 128
    assert cal["funnel"] == history_only["funnel"] and cal["revenue"] == history_only["revenue"]
    assert ["retention.alpha", "retention.beta"] in [c["between"] for c in cal["correlations"]]
    assert all("retention.churn" not in c["between"] for c in cal["correlations"])
    assert "Not used: the history's churned counts, for retention" in stdout
    assert "Dropped the base config's correlations naming churn (funnel.customer.rate ~ " \
           "retention.churn)" in stdout
    assert "# Not used: the history's churned counts" in out.read_text()
    code, stdout, err = run_cli(capsys, str(out), "--paths", "500", "--quiet")
    assert code == 0 and "Month 36" in stdout, err


@pytest.mark.parametrize("text, where", [
    ("cohort,age,active\na,0,10\na,1,x\n", "row 3: active: must be a whole number"),
    ("cohort,age,active\na,0,10\na,1,12\n", "row 3: active: cohort 'a' has 12 active"),
    ("cohort,age,left\na,0,10\n", "left: unknown column"),
    ("cohort,age,active\na,1,10\n", "row 2: age: cohort 'a' has no age 0 row"),
    ("cohort,age,active\na,0,10\na,1,10\n", "active: no customer churned"),
])
def test_bad_cohorts_file_is_one_line_exit_2_nothing_written(capsys, tmp_path, text, where):
    bad = tmp_path / "cohorts.csv"
    bad.write_text(text)
    out = tmp_path / "cal.toml"
    for history in ([], [str(HISTORY)]):
        code, stdout, err = run_cli(capsys, "calibrate", *history, "--cohorts", str(bad),
                                 "--config", str(BASE), "--output", str(out))
        assert code == 2 and stdout == "" and not out.exists()
        assert err.startswith(f"error: {bad}: {where}") and err.count("\n") == 1, err


def test_bases_that_cannot_take_sbg_are_one_line_naming_cohorts(capsys, tmp_path):
    out = tmp_path / "cal.toml"
    code, stdout, err = run_cli(capsys, "calibrate", "--cohorts", str(COHORTS), "--config",
                             str(ROOT / "configs" / "enterprise.toml"), "--output", str(out))
    assert code == 2 and stdout == "" and not out.exists()
    assert err.startswith("error: --cohorts: the base config ") and "[[segments]]" in err
    assert err.count("\n") == 1
    early = tomllib.loads(BASE.read_text())
    early["retention"].update(early_churn=0.05, early_months=3)
    path = tmp_path / "early.toml"
    path.write_text(dumps(early))
    code, stdout, err = run_cli(capsys, "calibrate", str(HISTORY), "--cohorts", str(COHORTS),
                             "--config", str(path), "--output", str(out))
    assert code == 2 and not out.exists()
    assert err.startswith("error: --cohorts: ") and "early_churn" in err, err
    with pytest.raises(simulator.ConfigError, match="needs a history, cohorts or both"):
        simulator.calibrate(None, BASE)
    code, _, err = run_cli(capsys, "calibrate", "--config", str(BASE))
    assert code == 2 and "HISTORY.csv" in err and "--cohorts" in err


def test_dataframes_and_a_base_already_sbg():
    table = drawn_cohorts(1.5, 20.0, cohorts=12, size=100)
    base = copy.deepcopy(CONSTANT)
    base["retention"] = {"model": "sbg", "alpha": 1.0, "beta": 5.0}
    base["start"]["customer_age"] = 2
    cal = simulator.calibrate(None, base, cohorts=table)
    fit = fit_sbg(table)
    assert cal["retention"] == fit.retention_spec()
    assert cal["start"]["customer_age"] == fit.book_age
    simulator.load_config(cal)


@pytest.mark.parametrize("alpha, beta", [(1.2, 8.0), (0.7, 3.0)])
def test_end_to_end_known_alpha_beta_to_the_written_configs_survival(tmp_path, alpha, beta):
    """Cohorts drawn from known alpha and beta -> calibrate -> the written config's expected
    flows: a start cohort keeps N * S(age + t) / S(age) at the fitted alpha and beta (the
    config's median draw), and at each path's drawn alpha and beta; the fit covers the truth."""
    csv = tmp_path / "cohorts.csv"
    drawn_cohorts(alpha, beta).to_csv(csv, index=False)
    base = copy.deepcopy(CONSTANT)
    base["acquisition"]["visitors"] = 0.0  # the start cohort only
    base["simulation"].update(paths=50, months=24, flows="expected")
    base_path = tmp_path / "base.toml"
    base_path.write_text(dumps(base))
    out = tmp_path / "cal.toml"
    main(["calibrate", "--cohorts", str(csv), "--config", str(base_path), "--output",
          str(out)])
    cal = tomllib.loads(out.read_text())
    fit = fit_sbg(csv)
    low, high = fit.intervals(0.99)["alpha"], fit.intervals(0.99)["beta"]
    assert low[0] < alpha < low[1] and high[0] < beta < high[1]
    age, months, n = cal["start"]["customer_age"], 24, cal["start"]["customers"]
    assert age == fit.book_age > 0
    t = np.arange(1, months + 1)

    def closed(a: float, b: float) -> np.ndarray:
        return n * survival(a, b, age + t) / survival(a, b, age)

    # at the fitted point: alpha and beta fixed at the written medians
    point = copy.deepcopy(cal)
    for name in ("alpha", "beta"):
        point["retention"][name] = math.exp(point["retention"][name]["mu"])
    result = simulator.run(simulator.load_config(point))
    np.testing.assert_allclose(result["customers"][0], closed(fit.alpha, fit.beta),
                               rtol=1e-5)
    # with the written uncertainty: each path at its own draw, the draws centred on the fit
    result = simulator.run(simulator.load_config(cal))
    a, b = (result.params.whole(f"retention.{k}") for k in ("alpha", "beta"))
    for p in range(0, 50, 7):
        np.testing.assert_allclose(result["customers"][p], closed(a[p], b[p]), rtol=1e-9)
    assert abs(np.median(np.log(a)) - math.log(fit.alpha)) < 0.5 * fit.se_log[0]
    assert np.corrcoef(np.log(a), np.log(b))[0, 1] > 0.8


def test_cohorts_without_heterogeneity_get_a_note(capsys, tmp_path):
    """Cohorts that churn flat (5% a month, no spread): alpha and beta are determined only
    through their ratio, which the 0.99 cap on their correlation cannot keep; a note says
    so (and the example's well-determined fit gets none)."""
    flat = tmp_path / "flat.csv"
    pd.DataFrame([(f"c{c}", a, round(100000 * 0.95 ** a)) for c in range(12)
                  for a in range(24 - c)], columns=["cohort", "age", "active"]
                 ).to_csv(flat, index=False)
    code, stdout, err = run_cli(capsys, "calibrate", "--cohorts", str(flat), "--config",
                             str(BASE), "--output", str(tmp_path / "cal.toml"))
    assert code == 0, err
    assert "the cohorts barely show churn falling with age" in stdout
    code, stdout, err = run_cli(capsys, "calibrate", "--cohorts", str(COHORTS), "--config",
                             str(BASE), "--output", str(tmp_path / "cal2.toml"))
    assert code == 0 and "barely" not in stdout, err
