"""The terminal renderer: every section as aligned columns (widths from the cells, so long
names never break the alignment)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from .sections import Section, heading

if TYPE_CHECKING:
    from .contents import Review

WIDTH = 100


class TextRenderer:
    """Plain text. With several scenarios the per-scenario detail tables are left to the
    documents (the side-by-side comparison shows them), and the output says so. A note is
    printed once (the first time it appears), a reading under every table that has one;
    marked cells end in ``*``."""

    gap = 2

    def table(self, section: Section) -> list[str]:
        rows = [tuple(cell + ("*" if (r, c) in section.marked else "")
                      for c, cell in enumerate(row)) for r, row in enumerate(section.rows)]
        grid = [section.header, *rows]
        widths = [max(len(row[c]) for row in grid) for c in range(len(section.header))]
        return [(" " * self.gap).join(
            cell.ljust(widths[c]) if section.is_left(c) else cell.rjust(widths[c])
            for c, cell in enumerate(row)).rstrip() for row in grid]

    def section(self, section: Section, seen: set[str]) -> list[str]:
        lines = ["", section.title, *self.table(section)]
        if section.reading:
            lines += textwrap.wrap(section.reading, WIDTH, initial_indent="  ",
                                   subsequent_indent="  ")
        if section.note and section.note not in seen:
            seen.add(section.note)
            lines += textwrap.wrap(section.note, WIDTH, initial_indent="  ",
                                   subsequent_indent="  ")
        return lines

    def document(self, review: Review) -> str:
        title, info = heading(review)
        lines = [title, *info] if len(review.results) == 1 else info
        seen: set[str] = set()
        for section in review.sections:
            if not section.detail and not section.document_only:
                lines += self.section(section, seen)
        if any(s.detail for s in review.sections):
            lines += ["", "Each scenario's full percentile tables"
                      + (" and Monte Carlo error" if review.ci is not None else "")
                      + " and its assumptions: --format markdown, csv or json, or "
                        "--report FILE.html."]
        return "\n".join(lines) + "\n"


def text(review: Review) -> str:
    """Terminal tables."""
    return TextRenderer().document(review)
