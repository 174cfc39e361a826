"""Hints for the common mistakes (issue 15 item 6): one line on stderr, exit status 2, and
the fix in the message."""

from __future__ import annotations

import pytest

from simulator.cli import main
from simulator.review.analysis import Target, parse_number

HINTS = [
    (["--set", "funnel.sql.rate=20"], "did you mean 0.2?"),
    (["--set", 'funnel.mql.rate={dist="pert", low=70, mode=80, high=90}'],
     "did you mean low = 0.7, mode = 0.8, high = 0.9?"),
    (["--set", 'retention.churn={dist="beta", mean=2, sd=0.5}'],
     "did you mean mean = 0.02, sd = 0.005?"),
    (["--precision", "1"], "did you mean 1%?"),
    (["--months", "12"], "--at 12"),
    (["--target", "arr@24>=1.2X"], "1.2M"),
]


@pytest.mark.parametrize(("argv", "hint"), HINTS, ids=[h for _, h in HINTS])
def test_common_mistakes_get_a_hint(capsys, base_toml, argv, hint):
    with pytest.raises(SystemExit) as info:
        main([str(base_toml), "--paths", "10", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and hint in err, err


def test_fit_refuses_a_directory_and_top_zero(capsys, base_toml):
    history = base_toml.parent / "history.csv"
    for argv, message in (([str(base_toml.parent), "--column", "close_rate"],
                           "is a directory"),
                          ([str(history), "--column", "close_rate", "--top", "0"],
                           "error: --top: must be >= 1")):
        with pytest.raises(SystemExit) as info:
            main(["fit", *argv])
        err = capsys.readouterr().err
        assert info.value.code == 2 and message in err, err


def test_targets_take_the_money_forms_the_tables_print():
    metrics = ("arr", "customers", "cash")
    for text in ("arr@24>=1.2M", "arr@24>=1,200,000", "arr@24 >= $1.2M", "arr@24>=1200000"):
        assert Target.parse(text, metrics, 36).threshold == 1_200_000
    assert parse_number("-54.3k") == -54_300
    by = Target.parse("customers@<=24>=200", metrics, 36)
    assert by.by and by.month == 24 and by.label == "P(customers@<=24 >= 200)"


def test_target_up_to_a_month_counts_any_month(base_toml):
    import simulator

    result = simulator.run(simulator.load_config(base_toml), paths=400)
    metrics, months = result.metrics, result.months
    by = Target.parse("cash@<=36<0", metrics, months).evaluate(result)[0]
    assert by == result.probability("cash", "ever<", 0.0, 36)
    at = Target.parse("customers@24>=70", metrics, months).evaluate(result)[0]
    ever = Target.parse("customers@<=24>=70", metrics, months).evaluate(result)[0]
    assert ever >= at and ever == float((result["customers"][:, :24] >= 70).any(axis=1).mean())


def test_target_up_to_a_month_in_a_reduced_run_fails_before_running(capsys, base_toml):
    with pytest.raises(SystemExit) as info:
        main([str(base_toml), "--paths", "30000", "--memory", "20MB", "--target",
              "customers@<=24>=70"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.startswith("error: --target: a METRIC@<=MONTH target")
