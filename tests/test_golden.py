"""Golden examples: the README's example blocks, regenerated from the commands shown.

Each ``tests/golden/*.txt`` starts with ``$ simulate ...`` (the command as the README shows
it, run from the project root) followed by exactly what it prints. The test runs the command
and compares; after an intended change, regenerate with ``UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` and paste the new blocks. A fenced block in README.md or docs/*.md
right after ``<!-- golden: NAME -->`` must equal ``tests/golden/NAME.txt``.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.engine import kernels

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
FILES = sorted(GOLDEN.glob("*.txt"))


def _run(capsys, command: str) -> str:
    argv = shlex.split(command)
    assert argv[0] == "simulate"
    try:
        main(argv[1:] + ["--quiet"] if argv[1] != "fit" else argv[1:])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_example(path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    # what the README's install command gives: no numba (the fast extra), the NumPy kernel
    monkeypatch.setattr(kernels, "available", lambda: False)
    first, _, expected = path.read_text().partition("\n")
    assert first.startswith("$ ")
    out = f"{first}\n" + _run(capsys, first[2:])
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(out)
    assert out == path.read_text()


BLOCK = re.compile(r"<!-- golden: ([\w-]+) -->\s*```\w*\n(.*?)```", re.S)


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda p: p.name)
def test_documented_blocks_match_their_golden_files(page):
    for name, block in BLOCK.findall(page.read_text()):
        assert block == (GOLDEN / f"{name}.txt").read_text(), f"{page.name}: {name}"
