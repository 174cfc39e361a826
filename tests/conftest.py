"""Shared fixtures: small configs as dicts."""

from __future__ import annotations

import copy
import os
import shutil
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


#: Debian's Chromium (``.ci/run`` installs it): the HTML report is checked in a real browser.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="Debian's chromium is installed by .ci/run")


def browse(page_file: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Open ``page_file`` in headless Chromium and read what a reader sees: console and page
    errors (``problems``), each image's (natural width, natural height, complete), the h2
    and h3 headings, the visible text and the number of highlighted cells (``td.diff``)."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(page_file.as_uri())
        seen = {
            "problems": problems,
            "images": page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, "
                                    "i.naturalHeight, i.complete])"),
            "h2": page.evaluate("Array.from(document.querySelectorAll('h2'))"
                                ".map(h => h.textContent)"),
            "h3": page.evaluate("Array.from(document.querySelectorAll('h3'))"
                                ".map(h => h.textContent)"),
            "text": page.evaluate("document.body.innerText"),
            "marked": page.evaluate("document.querySelectorAll('td.diff').length"),
        }
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return seen
