"""Values set on top of a config file: ``--set dotted.key=VALUE`` and the dedicated flags.

Stages are addressed by name (``funnel.sql.rate``) and single distribution parameters by
their key (``revenue.arpa.mean``).

>>> o = parse_set("funnel.sql.rate=0.25")
>>> o.key, o.value
('funnel.sql.rate', 0.25)
>>> apply_overrides({"funnel": [{"stage": "sql", "rate": 0.2}]}, [o])
{'funnel': [{'stage': 'sql', 'rate': 0.25}]}
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
DOTTED_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


@dataclass(frozen=True)
class Override:
    """One value set from the command line; ``label`` names the flag for error messages."""

    key: str
    value: Any
    label: str = "--set"


def parse_literal(text: str, label: str = "--set") -> Any:
    """Parse a TOML literal (``0.25``, ``"lhs"``, ``[12, 24]``, ``{ dist = "beta", ... }``);
    a bare word such as ``lhs`` is taken as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if BARE_WORD.match(text):
            return text
        raise ConfigError("", f"{text!r} is not a TOML value (e.g. 0.25, \"lhs\", [12, 24], "
                              f"{{ dist = \"beta\", mean = 0.2, sd = 0.04 }})", label) from None


def parse_set(assignment: str) -> Override:
    """Parse ``dotted.key=VALUE`` from ``--set``."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not DOTTED_KEY.match(key):
        raise ConfigError("", f"expected dotted.key=VALUE such as funnel.sql.rate=0.25 "
                              f"(got {assignment!r})", "--set")
    return Override(key, parse_literal(text.strip()))


def apply_overrides(raw: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A copy of ``raw`` with every override applied in order."""
    if not overrides:
        return raw
    out = copy.deepcopy(raw)
    for override in overrides:
        try:
            _apply(out, override.key.split("."), override.value)
        except ConfigError as err:
            raise err.with_source(override.label) from None
    return out


def _apply(table: dict[str, Any], parts: list[str], value: Any) -> None:
    if parts[0] == "funnel" and len(parts) > 1:
        stages = table.get("funnel")
        names = [s.get("stage") for s in stages if isinstance(s, dict)] \
            if isinstance(stages, list) else []
        if not isinstance(stages, list) or parts[1] not in names:
            raise ConfigError(".".join(parts[:2]), f"no such stage (stages: "
                                                   f"{', '.join(map(str, names)) or 'none'})")
        entry = stages[names.index(parts[1])]
        if len(parts) == 2:
            raise ConfigError(".".join(parts), "set a key of the stage, e.g. "
                                               f"funnel.{parts[1]}.rate")
        _set_path(entry, parts[2:], value, ".".join(parts[:2]))
        return
    _set_path(table, parts, value, "")


def _set_path(table: dict[str, Any], parts: list[str], value: Any, prefix: str) -> None:
    for i, part in enumerate(parts[:-1]):
        inner = table.setdefault(part, {})
        if not isinstance(inner, dict):
            where = ".".join(filter(None, [prefix, *parts[: i + 1]]))
            raise ConfigError(where, f"is {inner!r}, not a table: set the whole value instead, "
                                     f"e.g. {where}={{ dist = \"normal\", mean = 1, sd = 0.1 }}")
        table = inner
    table[parts[-1]] = value


def attribute(key: str, overrides: Sequence[Override]) -> str | None:
    """The label of the last override that touched ``key`` (or a table around or inside it)."""
    for override in reversed(overrides):
        if key and (override.key == key or override.key.startswith(key + ".")
                    or key.startswith(override.key + ".")):
            return override.label
    return None
