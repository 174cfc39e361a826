"""Shared fixtures: small configs as dicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONSTANT: dict[str, Any] = {
    "simulation": {"months": 24, "paths": 4, "seed": 1, "flows": "expected"},
    "start": {"customers": 60, "cash": 400000},
    "acquisition": {"visitors": 2500, "visitor_growth": 0.02},
    "funnel": [
        {"stage": "lead", "rate": 0.0075},
        {"stage": "mql", "rate": 0.8},
        {"stage": "sql", "rate": 0.2},
        {"stage": "opportunity", "rate": 0.5},
        {"stage": "customer", "rate": 0.4},
    ],
    "revenue": {"arpa": 1500, "expansion": 0.005, "gross_margin": 0.8},
    "retention": {"churn": 0.012},
    "costs": {"marketing": 5000, "marketing_growth": 0.02, "sales": 5000, "sales_growth": 0.01,
              "other_opex": 62000, "other_opex_growth": 0.001},
}


@pytest.fixture
def constant_config() -> dict[str, Any]:
    """An all-constant config (expected flows): the deterministic spreadsheet line."""
    return copy.deepcopy(CONSTANT)


@pytest.fixture
def base_toml() -> Path:
    return ROOT / "configs" / "base.toml"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """Run ``simulate ARGV`` in this process: (exit status, stdout, stderr)."""
    from simulator.cli import main

    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
