"""The scripts in examples/ run, and what they produce makes sense (each with a check that can
fail: monotone in the close rate, common random numbers narrower than independent seeds, the
backwards calculation reaching the goal forwards)."""

from __future__ import annotations

import csv
import runpy
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def run_example(name: str, out: Path) -> tuple[Any, dict[str, Any]]:
    """Run examples/NAME's main with OUT as its output directory; returns what main returned
    and the script's globals."""
    script = EXAMPLES / name
    namespace = runpy.run_path(str(script), run_name="example")
    return namespace["main"]([str(script), str(out)]), namespace


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_close_rate_sweep_is_monotone_in_the_close_rate(tmp_path, capsys):
    rows, _ = run_example("close_rate_sweep.py", tmp_path)
    assert (tmp_path / "close_rate_sweep.png").read_bytes()[:8] == PNG
    written = read_csv(tmp_path / "close_rate_sweep.csv")
    assert [float(r["p_payback_12"]) for r in written] == [r["p_payback_12"] for r in rows]
    rates = [r["close_rate"] for r in rows]
    probabilities = [r["p_payback_12"] for r in rows]
    paybacks = [r["median_payback"] for r in rows]
    assert rates == sorted(rates) and len(rates) >= 4
    assert all(0 <= p <= 1 for p in probabilities)
    # a better close rate pays back faster: strictly more paths within 12 months
    assert all(a < b for a, b in pairwise(probabilities))
    assert all(a >= b for a, b in pairwise(paybacks))
    assert "P(payback <= 12)" in capsys.readouterr().out


def test_channel_mix_common_random_numbers_narrow_the_comparison(tmp_path):
    rows, _ = run_example("channel_mix.py", tmp_path)
    by_metric = {r["metric"]: r for r in rows}
    assert {r["metric"] for r in read_csv(tmp_path / "channel_mix.csv")} == set(by_metric)
    # a channel both mixes share, unchanged: the same draws on every path
    referral = by_metric["referral.new_customers"]
    assert referral["difference"] == 0 and referral["se_common_numbers"] == 0
    assert referral["se_independent"] > 0
    # half the paid-search budget buys fewer paid customers, a bigger list more newsletter ones
    assert by_metric["paid_search.new_customers"]["difference"] < 0
    assert by_metric["newsletter.new_customers"]["difference"] > 0
    for metric in ("customers", "mrr", "cash"):
        row = by_metric[metric]
        assert row["se_common_numbers"] < row["se_independent"] / 3, metric


def test_own_model_with_sample_joint_reaches_the_goal(tmp_path):
    frame, ns = run_example("own_model.py", tmp_path)
    assert (tmp_path / "visitors_needed.png").read_bytes()[:8] == PNG
    assert len(read_csv(tmp_path / "visitors_needed.csv")) == ns["N"] == len(frame)
    # the joint draws: the asked rank correlation, one LHS draw in every stratum
    rho = frame["close"].corr(frame["churn"], method="spearman")
    assert rho == pytest.approx(-0.3, abs=0.03)
    from distributions import parse
    strata = np.floor(parse(ns["SPECS"]["close"]).cdf(frame["close"].to_numpy()) * ns["N"])
    assert len(set(strata.astype(int))) == ns["N"]
    # working backwards, then forwards again, lands on the goal
    forward = ns["customers_at"](frame["visitors_needed"], frame["rate"], frame["churn"])
    np.testing.assert_allclose(forward, ns["GOAL"], rtol=1e-9)
    # a better close rate needs fewer visitors
    assert frame["close"].corr(frame["visitors_needed"], method="spearman") < -0.2
