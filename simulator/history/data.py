"""The history CSV: one row a month, oldest first, validated into integer counts and money.

Columns (as docs/history.md lists them): ``month`` (``YYYY-MM`` or 1..n), ``visitors``, one
per funnel stage of the base config, ``churned``, ``customers``, ``mrr``, ``marketing``,
``sales``, optional ``cash`` and per-channel ``<channel>.<stage>`` / ``<channel>.spend``. A
column left out is "not tracked". Rows are numbered as lines of the file: the header is row 1.

>>> import pandas as pd
>>> h = read_history(pd.DataFrame({"month": [1, 2, 3], "visitors": [100, 120, 90],
...                                "lead": [3, 2, 4]}), ("lead", "customer"))
>>> h.months, h.has("customer"), h.counts("lead").tolist()
(3, False, [3, 2, 4])
>>> read_history(pd.DataFrame({"month": [1, 2, 3], "visitors": [1, 2, 3], "lead": [1, 5, 1]}),
...              ("lead",))
Traceback (most recent call last):
...
simulator.ConfigError: <history>: row 3: lead: 5 is more than the 2 that reached visitors ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.errors import ConfigError

COUNTS = ("visitors", "churned", "customers")
MONEY = ("mrr", "marketing", "sales")
MIN_MONTHS = 3
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")


@dataclass(frozen=True)
class History:
    """A validated history: ``columns`` maps each tracked column to its monthly values."""

    source: str
    labels: tuple[str, ...]  # the month column as written
    columns: dict[str, np.ndarray]
    stages: tuple[str, ...]

    @property
    def months(self) -> int:
        return len(self.labels)

    def has(self, column: str) -> bool:
        """Whether ``column`` is tracked."""
        return column in self.columns

    def counts(self, column: str) -> np.ndarray:
        """A tracked column's values (int64 for counts, float64 for money)."""
        return self.columns[column]

    def head(self, months: int) -> History:
        """The first ``months`` months (a backtest's training window)."""
        return History(self.source, self.labels[:months],
                       {k: v[:months] for k, v in self.columns.items()}, self.stages)


def _read(source: str | Path | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return "<history>", source.copy()
    name = str(source)
    try:
        frame = pd.read_csv(name, dtype=str, keep_default_na=False, skipinitialspace=True,
                            encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("", "no such file", name) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError("", f"cannot read the history ({err})", name) from None
    except pd.errors.EmptyDataError:
        raise ConfigError("", "the history file is empty (expected a header row with "
                              "month, visitors, ...)", name) from None
    except pd.errors.ParserError as err:
        raise ConfigError("", f"not a CSV file ({str(err).strip()})", name) from None
    return name, frame


def _allowed(stages: Sequence[str], channels: Sequence[str]) -> list[str]:
    per_channel = [f"{c}.{s}" for c in channels for s in (*stages, "spend")]
    return ["month", "visitors", *stages, *COUNTS[1:], *MONEY, "cash", *per_channel]


def _number(text: object, row: int, column: str, source: str, *, count: bool,
            signed: bool = False) -> float:
    where = f"row {row}: {column}"
    raw = str(text).strip()
    if raw == "" or raw.lower() == "nan":
        raise ConfigError(where, "is empty (every month needs a value; leave the column out "
                                 "if it is not tracked)", source)
    try:
        value = float(raw.replace(",", "")) if isinstance(text, str) else float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        what = "a count (a whole number >= 0)" if count else "a number"
        raise ConfigError(where, f"must be {what} (got {raw!r})", source) from None
    if not math.isfinite(value):
        raise ConfigError(where, f"must be a finite number (got {raw!r})", source)
    if value < 0 and not signed:
        raise ConfigError(where, f"must be >= 0 (got {raw})", source)
    if count and value != round(value):
        raise ConfigError(where, f"must be a whole number (got {raw})", source)
    return value


def _month_labels(values: Sequence[object], source: str) -> tuple[str, ...]:
    labels = tuple(str(v).strip() for v in values)
    first = labels[0]
    if _YEAR_MONTH.match(first):
        def index(text: str, row: int) -> int:
            m = _YEAR_MONTH.match(text)
            if not m or not 1 <= int(m.group(2)) <= 12:
                raise ConfigError(f"row {row}: month", f"must be YYYY-MM like the first row "
                                                       f"(got {text!r})", source)
            return int(m.group(1)) * 12 + int(m.group(2)) - 1
    else:
        def index(text: str, row: int) -> int:
            if not text.isdigit():
                raise ConfigError(f"row {row}: month", f"must be YYYY-MM or a month number "
                                                       f"1, 2, ... (got {text!r})", source)
            return int(text)
    previous = None
    for i, text in enumerate(labels):
        row = i + 2
        current = index(text, row)
        if previous is not None and current != previous + 1:
            if current <= previous:
                reason = f"{text!r} is not after {labels[i - 1]!r} (oldest first, one row a month)"
            else:
                reason = (f"{text!r} follows {labels[i - 1]!r}: {current - previous - 1} "
                          f"month(s) missing")
            raise ConfigError(f"row {row}: month", reason, source)
        previous = current
    return labels


def read_history(source: str | Path | pd.DataFrame, stages: Sequence[str], *,
                 channels: Sequence[str] = ()) -> History:
    """Read and validate a history CSV (or DataFrame) for a config with ``stages``.

    Raises
    ------
    ConfigError
        ``FILE: row N: column: what is wrong`` for the first problem found.
    """
    name, frame = _read(source)
    frame.columns = [str(c).strip() for c in frame.columns]
    allowed = _allowed(stages, channels)
    if len(frame.columns) == 1 and ";" in frame.columns[0]:
        raise ConfigError("row 1", "the columns are separated by ';': save the file as "
                                   "comma-separated values", name)
    for column in frame.columns:
        if column not in allowed:
            hint = (f"the config's stages are {', '.join(stages)}; other columns: "
                    f"month, visitors, churned, customers, mrr, marketing, sales, cash")
            if "." in column and not channels:
                hint = "per-channel columns need [[channels]] in the config; " + hint
            raise ConfigError(f"row 1: {column}", f"not a stage of the config nor a history "
                                                  f"column ({hint})", name)
    if len(set(frame.columns)) != len(frame.columns):
        twice = next(c for c in frame.columns if list(frame.columns).count(c) > 1)
        raise ConfigError(f"row 1: {twice}", "the column appears twice", name)
    if "month" not in frame.columns:
        raise ConfigError("row 1: month", "the month column is required (YYYY-MM or 1..n)",
                          name)
    if len(frame) < MIN_MONTHS:
        raise ConfigError(f"row {len(frame) + 1}" if len(frame) else "row 1",
                          f"{len(frame)} month(s) of history; at least {MIN_MONTHS} are needed",
                          name)
    labels = _month_labels(list(frame["month"]), name)
    columns: dict[str, np.ndarray] = {}
    for column in frame.columns:
        if column == "month":
            continue
        count = column in COUNTS or column in stages or (
            "." in column and not column.endswith(".spend"))
        values = [_number(v, i + 2, column, name, count=count, signed=column == "cash")
                  for i, v in enumerate(frame[column])]
        columns[column] = np.asarray(values, dtype=np.int64 if count else np.float64)
    _check_nesting(columns, ["visitors", *stages], name)
    for channel in channels:
        _check_nesting(columns, [f"{channel}.{s}" for s in stages], name)
    if "churned" in columns and "customers" in columns:
        churned, customers = columns["churned"], columns["customers"]
        bad = np.nonzero(churned[1:] > customers[:-1])[0]
        if bad.size:
            i = int(bad[0]) + 1
            raise ConfigError(f"row {i + 2}: churned", f"{churned[i]} is more than the "
                                                       f"{customers[i - 1]} customers of the "
                                                       f"month before", name)
    return History(name, labels, columns, tuple(stages))


def _check_nesting(columns: dict[str, np.ndarray], order: Sequence[str], source: str) -> None:
    """Each tracked stage count is at most the nearest tracked count above it."""
    tracked = [c for c in order if c in columns]
    for above, below in zip(tracked, tracked[1:], strict=False):
        bad = np.nonzero(columns[below] > columns[above])[0]
        if bad.size:
            i = int(bad[0])
            raise ConfigError(f"row {i + 2}: {below}",
                              f"{columns[below][i]} is more than the {columns[above][i]} that "
                              f"reached {above} (each stage counts those who reached it)",
                              source)
