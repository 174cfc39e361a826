"""One cell formatter for every rendered format: numbers rounded for reading, units, metric
names in words. The text, Markdown and HTML renderers all show the cells formatted here.

>>> fmt(1234567.0, "$"), fmt(8421.0, "$"), fmt(12.345, "mo"), fmt(float("inf"), "mo")
('1.23M', '8,421', '12.3', 'inf')
>>> fmt(2.0000001, "#", whole=True), fmt(float("nan"), "x"), pct(0.1234)
('2', 'n/a', '12.3%')
>>> label("cac_payback_months"), label("paid_search.cac"), label("lead")
('CAC payback (months)', 'paid_search CAC ($)', 'Lead (count)')
"""

from __future__ import annotations

import math

from ..config import schema

UNIT_NAMES = {"#": "count", "$": "$", "mo": "months", "x": "ratio"}
#: Words written in capitals when a stage or channel name holds them (``mql`` -> MQL).
ACRONYMS = frozenset({"mql", "sql", "sal", "pql", "sdr", "bdr", "ae", "poc", "smb", "seo", "ppc"})
NOT_DEFINED = "n/a"


def unit(metric: str) -> str:
    """The unit of a metric: "#" count, "$" money, "mo" months, "x" ratio."""
    return schema.unit_of(metric)


def label(metric: str) -> str:
    """A metric's name in words with its unit, e.g. ``CAC payback (months)``."""
    prefix, _, last = metric.rpartition(".")
    words = schema.WORDS.get(last) or _name_in_words(last)
    if prefix:
        words = f"{prefix} {words}"
    return f"{words} ({UNIT_NAMES[unit(metric)]})"


def _name_in_words(name: str) -> str:
    """A stage's name in words: ``opportunity`` -> Opportunity, ``mql`` -> MQL."""
    parts = [p.upper() if p in ACRONYMS else p for p in name.split("_")]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def _scaled(value: float) -> str:
    magnitude = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            scaled = magnitude / size
            decimals = 2 if scaled < 9.995 else 1 if scaled < 99.95 else 0
            return f"{value / size:,.{decimals}f}{suffix}"
    return f"{value:,.0f}"


def fmt(value: float, kind: str, whole: bool = False) -> str:
    """A value rounded for reading: thousands separators, k/M/B above 100,000 (money above
    10,000), one decimal for months, two for ratios; ``whole`` rounds counts to integers.
    NaN (undefined, such as NRR without customers a year before) is ``n/a``."""
    if math.isnan(value):
        return NOT_DEFINED
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "mo":
        return f"{value:,.1f}"
    if kind == "x":
        return f"{value:,.2f}"
    magnitude = abs(value)
    if kind == "$":
        return _scaled(value) if magnitude >= 10_000 else f"{value:,.0f}"
    if magnitude >= 100_000:
        return _scaled(value)
    if whole:
        return f"{round(value):,.0f}"
    if magnitude < 100 and value != round(value):
        return f"{value:,.1f}" if magnitude >= 1 else f"{value:.3g}"
    return f"{value:,.0f}"


def pct(p: float, decimals: int = 1) -> str:
    """A probability or share as a percentage (``n/a`` when undefined, ``infinite``)."""
    if math.isnan(p):
        return NOT_DEFINED
    return "infinite" if math.isinf(p) else f"{100 * p:.{decimals}f}%"


def plus_minus(value: float, kind: str) -> str:
    """A half-width as ``±x``."""
    return "±" + fmt(value, kind) if not math.isnan(value) else NOT_DEFINED


def headline_label(text: str, month: int) -> str:
    return text.replace("by then", f"by month {month}")


def money_words(value: float) -> str:
    """A threshold as the tables print it (``1.2M``)."""
    return fmt(value, "$")
