"""The calibrated config as it is built: specs set by dotted input name, with comments."""

from __future__ import annotations

from typing import Any


def _entry(raw: dict[str, Any], table: str, key: str, value: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in raw[table] if e.get(key) == value)
    return entry


def set_input(raw: dict[str, Any], name: str, spec: Any) -> None:
    """Write ``spec`` at the dotted input ``name`` of a raw config (``funnel.<stage>.rate``,
    ``channels.<name>.<key>``, ``channels.<name>.rates.<stage>``, ``<section>.<key>``)."""
    section, key = name.split(".", 1)
    if section == "funnel":
        _entry(raw, "funnel", "stage", key.rsplit(".", 1)[0])["rate"] = spec
    elif section == "channels":
        channel, rest = key.split(".", 1)
        entry = _entry(raw, "channels", "name", channel)
        if rest.startswith("rates."):
            entry.setdefault("rates", {})[rest.split(".", 1)[1]] = spec
        else:
            entry[rest] = spec
    else:
        raw.setdefault(section, {})[key] = spec


class Builder:
    """Collects the calibrated specs, their comments and notes."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.comments: dict[str, str] = {}
        self.calibrated: list[str] = []
        self.notes: list[str] = []

    def set(self, name: str, spec: Any, comment: str) -> None:
        """Set input ``name`` to ``spec`` with its evidence ``comment``."""
        set_input(self.raw, name, spec)
        self.calibrated.append(name)
        if comment:
            self.comments[name] = comment
