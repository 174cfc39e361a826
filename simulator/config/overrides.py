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
from .scaled import Scale

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


#: Arrays of tables whose entries ``--set`` addresses by name: section -> (the key holding
#: an entry's name, what an entry is called, an example key to set).
NAMED_ENTRIES = {"funnel": ("stage", "stage", "rate"), "channels": ("name", "channel", "spend"),
                 "segments": ("name", "segment", "share"),
                 "shocks": ("name", "shock", "probability")}


def _apply(table: dict[str, Any], parts: list[str], value: Any) -> None:
    if parts[0] in NAMED_ENTRIES and len(parts) > 1:
        name_key, what, example = NAMED_ENTRIES[parts[0]]
        entries = table.get(parts[0])
        names = [e.get(name_key) for e in entries if isinstance(e, dict)] \
            if isinstance(entries, list) else []
        if not isinstance(entries, list) or parts[1] not in names:
            raise ConfigError(".".join(parts[:2]), f"no such {what} ({what}s: "
                                                   f"{', '.join(map(str, names)) or 'none'})")
        entry = entries[names.index(parts[1])]
        if len(parts) == 2:
            raise ConfigError(".".join(parts), f"set a key of the {what}, e.g. "
                                               f"{parts[0]}.{parts[1]}.{example}")
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
    where = ".".join(filter(None, [prefix, *parts]))
    if isinstance(value, Scale):
        written = table.get(parts[-1])
        if written is None:
            raise ConfigError(where, "is not written in the config (its default is used): "
                                     "--set it instead")
        factor = value.factor * written.factor if isinstance(written, Scale) else value.factor
        table[parts[-1]] = Scale(factor, written.spec if isinstance(written, Scale) else written)
        return
    _check_form(table, parts[-1], where)
    table[parts[-1]] = value


#: Keys a distribution table may gain without changing its form: truncation bounds, PERT's
#: lambda, and the options of an input.
ADDABLE = ("low", "high", "lambda", "vary", "persistence")


def _check_form(table: dict[str, Any], key: str, where: str) -> None:
    """Setting one parameter of a distribution that the written form does not have (``mean``
    of a p5/p95 input) is refused with the form in use."""
    if "dist" not in table or key in table or key in ADDABLE or key == "dist":
        return
    params = [k for k in table if k not in ("dist", "vary", "persistence")]
    whole = where.rsplit(".", 1)[0]
    example = f"{whole}.{params[0]}=..." if params else f"{whole}={{ dist = ... }}"
    raise ConfigError(where, f"{whole} is written as {table['dist']} with "
                             f"{', '.join(params) or 'no parameters'}; set one of those (e.g. "
                             f"--set {example}) or the whole value (--set {whole}={{ dist = "
                             f"\"{table['dist']}\", {key} = ..., ... }})")


def parse_scale(assignment: str, label: str = "--scale") -> Override:
    """Parse ``dotted.key=FACTOR`` from ``--scale``: the written input times FACTOR."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not DOTTED_KEY.match(key):
        raise ConfigError("", f"expected dotted.key=FACTOR such as funnel.customer.rate=0.7 "
                              f"(got {assignment!r})", label)
    try:
        factor = float(text)
    except ValueError:
        factor = -1.0
    if not factor >= 0 or factor == float("inf"):
        raise ConfigError("", f"{key}: the factor must be a number >= 0 (got {text!r})", label)
    return Override(key, Scale(factor), label)


def attribute(key: str, overrides: Sequence[Override]) -> str | None:
    """The label of the last override that touched ``key`` (or a table around or inside it)."""
    for override in reversed(overrides):
        if key and (override.key == key or override.key.startswith(key + ".")
                    or key.startswith(override.key + ".")):
            return override.label
    return None
