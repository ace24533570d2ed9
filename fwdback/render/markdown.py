"""Sections as Markdown: headings, paragraphs with inline LaTeX, display equations, pipe tables.

Display math is one `$$...$$` line per equation, so that every Markdown renderer reads it;
numbers are written by notation.number, never as a power of ten.
"""

from __future__ import annotations

from ..notation import Expr
from ..sections import Block, Code, Equations, Heading, Mark, Paragraph, Strong, Table, Text


def markdown(blocks: list[Block]) -> str:
    """The document, blocks separated by a blank line, ending in a newline."""
    return "\n\n".join(_block(block) for block in blocks) + "\n"


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text
    if isinstance(block, Paragraph):
        return inline(block.parts)
    if isinstance(block, Equations):
        if block.together:
            return "$$" + r", \quad ".join(line.latex(alone=True) for line in block.lines) + "$$"
        return "\n\n".join(f"$${line.latex(alone=True)}$$" for line in block.lines)
    return _table(block)


def inline(parts: Text) -> str:
    """Text with its math in `$...$`, names in backticks, strong words in `**`."""
    out = []
    for part in parts:
        if isinstance(part, Expr):
            out.append(f"${part.latex(alone=True)}$")
        elif isinstance(part, Code):
            out.append(f"`{part.text}`")
        elif isinstance(part, Strong):
            out.append(f"**{part.text}**")
        elif isinstance(part, Mark):
            out.append(part.text)
        else:
            out.append(part)
    return "".join(out)


def _table(table: Table) -> str:
    lines = [f"**{table.title}**", ""] if table.title else []
    lines.append("| " + " | ".join(inline(cell) for cell in table.header) + " |")
    lines.append("|" + "|".join("---" for _ in table.header) + "|")
    lines += ["| " + " | ".join(inline(cell) for cell in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", table.caption]
    return "\n".join(lines)
