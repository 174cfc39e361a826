"""Doctests of README.md and docs/*.md show what the README's install command gives: it
installs no numba (the ``fast`` extra), so their runs use the NumPy kernel here too."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _documented_kernel(request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.path.suffix == ".md":
        from simulator.engine import kernels

        monkeypatch.setattr(kernels, "available", lambda: False)
