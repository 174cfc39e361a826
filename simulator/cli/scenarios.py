"""``--scenario NAME:KEY=VALUE,KEY*=FACTOR,...``: a scenario made of overrides of the first
config (``KEY=VALUE`` as ``--set``, ``KEY*=FACTOR`` as ``--scale``).

>>> name, overrides = parse_scenario('slow:funnel.customer.rate*=0.7,costs.sales=8000')
>>> name, [(o.key, o.value) for o in overrides]
('slow', [('funnel.customer.rate', Scale(factor=0.7, spec=None)), ('costs.sales', 8000)])
"""

from __future__ import annotations

import re

from ..config.errors import ConfigError
from ..config.overrides import Override, parse_literal, parse_scale, parse_set

SCENARIO = re.compile(r"\s*([A-Za-z0-9_][A-Za-z0-9_-]*)\s*:(.*)\Z", re.S)


def _split_top(text: str) -> list[str]:
    """Split at the commas outside brackets, braces and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, text[start:]] if p.strip()]


def parse_scenario(text: str) -> tuple[str, list[Override]]:
    """``--scenario NAME:KEY=VALUE,KEY*=FACTOR,...``: the first config with overrides."""
    match = SCENARIO.match(text)
    items = _split_top(match.group(2)) if match else []
    if not match or not items:
        raise ConfigError("", f"expected NAME:KEY=VALUE,... such as "
                              f"slow_close:funnel.customer.rate*=0.7 (got {text!r})",
                          "--scenario")
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if key.endswith("*"):
            out.append(parse_scale(f"{key[:-1]}={value}", "--scenario"))
        elif sep:
            out.append(Override(parse_set(f"{key}=0").key, parse_literal(value.strip(),
                                                                           "--scenario"),
                                "--scenario"))
        else:
            raise ConfigError("", f"expected KEY=VALUE or KEY*=FACTOR (got {item!r})",
                              "--scenario")
    return match.group(1), out
