"""The Markdown renderer: every section as a pipe table under its heading (GitHub style);
marked cells in bold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .sections import Section, heading

if TYPE_CHECKING:
    from .contents import Review


def _cell(text: str) -> str:
    return text.replace("|", "\\|").strip() or " "


class MarkdownRenderer:
    """Markdown documents carry every section, per scenario with several scenarios."""

    def table(self, section: Section) -> list[str]:
        align = ["---" if section.is_left(c) else "---:" for c in range(len(section.header))]
        lines = ["| " + " | ".join(map(_cell, section.header)) + " |",
                 "|" + "|".join(align) + "|"]
        for r, row in enumerate(section.rows):
            cells = [f"**{_cell(c)}**" if (r, i) in section.marked else _cell(c)
                     for i, c in enumerate(row)]
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    def section(self, section: Section) -> list[str]:
        lines = ["", f"## {section.title}", "", *self.table(section)]
        if section.reading:
            lines += ["", f"**{section.reading}**"]
        if section.note:
            lines += ["", f"*{section.note}*"]
        return lines

    def document(self, review: Review) -> str:
        title, info = heading(review)
        lines = [f"# {title}", "", *(f"{line}  " for line in info)]
        for section in review.sections:
            lines += self.section(section)
        return "\n".join(lines) + "\n"


def markdown(review: Review) -> str:
    """Every section of the review as Markdown."""
    return MarkdownRenderer().document(review)
