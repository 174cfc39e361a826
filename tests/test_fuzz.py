"""A bounded fuzz target for the config parser: mutated configs and corrupted TOML text go
through the command line; the only outcomes allowed are a run (exit 0) or one clean error line
with exit status 2."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main
from tests.conftest import CONSTANT

KEYS = [("simulation", k) for k in ("months", "paths", "seed", "percentiles", "report_months",
                                    "sampling", "flows", "bogus")] + \
    [("start", k) for k in ("customers", "mrr", "cash", "pipeline")] + \
    [("acquisition", k) for k in ("visitors", "visitor_growth")] + \
    [("revenue", k) for k in ("arpa", "expansion", "gross_margin")] + \
    [("retention", k) for k in ("churn", "early_churn", "early_months")] + \
    [("costs", k) for k in ("marketing", "sales", "other_opex")] + \
    [("metrics", "cac_window"), ("seasonality", "multipliers"), ("sales_team", "reps")]

scalars = st.one_of(st.integers(-10**6, 10**12), st.floats(allow_nan=True), st.booleans(),
                    st.text(max_size=8), st.sampled_from(["lhs", "expected", "beta", "month"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["dist", "mean", "sd", "low", "high", "mode", "p5",
                                         "p95", "alpha", "beta", "lam", "value", "vary",
                                         "persistence", "weights", "components", "values"]),
                        inner, max_size=4)),
    max_leaves=8)
distributions = st.fixed_dictionaries({"dist": st.sampled_from(
    ["beta", "pert", "normal", "lognormal", "gamma", "uniform", "triangular", "poisson",
     "empirical", "mixture", "constant", "betta"])}).flatmap(
    lambda d: st.dictionaries(st.sampled_from(["mean", "sd", "low", "mode", "high", "p10",
                                               "p90", "alpha", "beta", "lam", "value"]),
                              st.floats(-2, 5000), max_size=3).map(lambda p: {**d, **p}))


def toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_literal(v)}"
                            for k, v in value.items()) + " }"


def to_toml(cfg: dict[str, Any]) -> str:
    lines = []
    for section, table in cfg.items():
        if isinstance(table, dict):
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {toml_literal(v)}" for k, v in table.items()]
        else:
            lines.append(f"{section} = {toml_literal(table)}")
    return "\n".join(lines) + "\n"


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update(paths=5, months=3)
    for _ in range(draw(st.integers(1, 3))):
        section, key = draw(st.sampled_from(KEYS))
        action = draw(st.sampled_from(["set", "dist", "delete"]))
        table = cfg.setdefault(section, {})
        if action == "delete":
            table.pop(key, None)
        else:
            table[key] = draw(values if action == "set" else distributions)
    text = to_toml(cfg)
    if draw(st.booleans()):  # corrupt the text itself
        position = draw(st.integers(0, len(text)))
        text = text[:position] + draw(st.text(max_size=4)) + text[position:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(mutated_configs())
def test_fuzzed_configs_run_or_fail_cleanly(tmp_path_factory, text):
    path = Path(tmp_path_factory.mktemp("fuzz")) / "c.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main([str(path), "--quiet"])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    assert code in (0, 2), err.getvalue()
    if code == 2:
        message = err.getvalue()
        assert message.startswith("error: ") and message.count("\n") == 1, message
        assert "Traceback" not in message
