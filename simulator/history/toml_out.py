"""A small TOML writer for configs: tables, arrays of tables, inline distribution tables and
a comment above any key (the standard library reads TOML but does not write it).

>>> print(dumps({"simulation": {"months": 12}, "funnel": [{"stage": "lead", "rate": 0.01}],
...              "retention": {"churn": {"dist": "beta", "alpha": 2.0, "beta": 98.0}}},
...             comments={"retention.churn": "from 40 months"}), end="")
[simulation]
months = 12
<BLANKLINE>
[[funnel]]
stage = "lead"
rate = 0.01
<BLANKLINE>
[retention]
# from 40 months
churn = { dist = "beta", alpha = 2.0, beta = 98.0 }
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
WIDTH = 98


def _comment(text: str) -> list[str]:
    """``text`` as comment lines, wrapped at :data:`WIDTH` characters."""
    out: list[str] = []
    for line in text.splitlines():
        wrapped = textwrap.wrap(line, WIDTH - 2, break_on_hyphens=False) or [""]
        out.extend(f"# {part}".rstrip() for part in wrapped)
    return out


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def value(v: Any) -> str:
    """One TOML value: a number, string, boolean, array or inline table."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _body(table: Mapping[str, Any], path: str, comments: Mapping[str, str],
          lines: list[str]) -> list[tuple[str, Any]]:
    """Write the plain keys of ``table``; return the sub-tables left to write."""
    nested: list[tuple[str, Any]] = []
    for k, v in table.items():
        if (isinstance(v, Mapping) and "dist" not in v) or _is_table_array(v):
            nested.append((k, v))
            continue
        dotted = f"{path}.{k}" if path else k
        lines.extend(_comment(comments.get(dotted, "")))
        lines.append(f"{_key(k)} = {value(v)}")
    return nested


def _table(name: str, table: Mapping[str, Any], path: str, comments: Mapping[str, str],
           lines: list[str], array: bool = False) -> None:
    if lines:
        lines.append("")
    lines.extend(_comment(comments.get(f"[{path}]", "")))
    lines.append(f"[[{name}]]" if array else f"[{name}]")
    for k, v in _body(table, path, comments, lines):
        _write(f"{name}.{_key(k)}", v, f"{path}.{k}", comments, lines)


def _write(name: str, v: Any, path: str, comments: Mapping[str, str], lines: list[str]) -> None:
    if _is_table_array(v):
        for entry in v:
            # an entry with a name (stage, name) is addressed by it, like dotted input names
            label = entry.get("stage", entry.get("name"))
            _table(name, entry, f"{path}.{label}" if isinstance(label, str) else path,
                   comments, lines, array=True)
    else:
        _table(name, v, path, comments, lines)


def dumps(data: Mapping[str, Any], *, comments: Mapping[str, str] | None = None,
          header: str = "") -> str:
    """TOML text for ``data``. ``comments`` maps a dotted key (array-of-table entries by their
    ``stage`` or ``name``: ``funnel.sql.rate``) to a comment written above it; ``"[path]"``
    puts one above a table header."""
    notes = comments or {}
    lines = _comment(header)
    top = _body(data, "", notes, lines)
    for k, v in top:
        _write(_key(k), v, k, notes, lines)
    return "\n".join(lines) + "\n"
