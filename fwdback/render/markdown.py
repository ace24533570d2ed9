"""Sections as Markdown: headings, paragraphs with inline LaTeX, display equations, pipe tables.

Display math is one `$$...$$` line per equation, so that every Markdown renderer reads it;
one too wide for a page is an aligned environment inside it, a side a row (MathJax, KaTeX and
GitHub render those). Numbers are written by notation.number, never as a power of ten.

A Figure is a link to an SVG file beside the document (`![network](figure-7.svg)`), which the
caller writes: GitHub and most Markdown viewers show an image from a file, none an inline SVG.

Every word reaches the page as text: a name from the user's data is a code span
(safe.markdown_code), every other word is escaped (safe.markdown_text), and a table cell's
`|` is escaped, so that no name can emphasise, link, start HTML or math, or end a cell.
"""

from __future__ import annotations

from ..notation import DISPLAY_WIDTH, Equation, Expr, Row, fits, rows
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Mark, Paragraph, Strong, Table, Text
from .safe import markdown_code, markdown_text


def markdown(blocks: list[Block], figure_file: str | None = None) -> str:
    """The document, blocks separated by a blank line, ending in a newline; a Figure links to
    `figure_file` (its SVG, a path relative to the document)."""
    return "\n\n".join(_block(block, figure_file) for block in blocks) + "\n"


def _block(block: Block, figure_file: str | None) -> str:
    if isinstance(block, Figure):
        if figure_file is None:
            raise ValueError("a Figure in Markdown needs the file name of its SVG")
        return f"![{'The network, its parameters named' if block.symbols else 'The network'}]({figure_file})"
    if isinstance(block, Heading):
        return "#" * block.level + " " + markdown_text(block.text)
    if isinstance(block, Paragraph):
        return inline(block.parts)
    if isinstance(block, Equations):
        return "\n\n".join(f"$${math}$$" for math in display_math(block))
    return _table(block)


def display_math(block: Equations) -> list[str]:
    """The block's displayed equations as LaTeX math, one string a display (Markdown's `$$...$$`,
    LaTeX's `\\[...\\]`): an equation on one line, or an aligned environment where it is too
    wide for a page (one side a row, long sums broken between terms); `together` equations in
    one display."""
    if block.together:
        together = r", \quad ".join(line.latex(alone=True) for line in block.lines)
        if all(fits(line) for line in block.lines) and len(together) <= 2 * DISPLAY_WIDTH:
            return [together]
        return [_aligned([row for line in block.lines for row in _rows(line)])]
    return [_display(line) for line in block.lines]


def _display(equation: Equation) -> str:
    if fits(equation):
        return equation.latex(alone=True)
    note = "" if equation.note is None else rf" \quad ({equation.note.latex(alone=True)})"
    return _aligned(rows(equation)) + note


def _rows(equation: Expr) -> list[Row]:
    if not isinstance(equation, Equation):  # sigma's definition, say
        return [Row(None, "", equation)]
    if fits(equation):
        return [Row(equation.sides[0], equation.relation(0), _after_first(equation))]
    return rows(equation)


def _after_first(equation: Equation) -> Expr:
    return equation.sides[1] if len(equation.sides) == 2 else Equation(equation.sides[1:], equation.relations[1:])


def _aligned(lines: list[Row]) -> str:
    r"""\begin{aligned} a &= b \\ &= c \\ &\quad + d \end{aligned}: aligned at the relations."""
    cells = []
    for row in lines:
        left = "" if row.left is None else row.left.latex(alone=True) + " "
        relation = r"\quad + " if row.relation == "+" else row.relation_latex() + " " if row.relation else ""
        cells.append(f"{left}&{relation}{row.right.latex(alone=True)}")
    return r"\begin{aligned} " + r" \\ ".join(cells) + r" \end{aligned}"


def inline(parts: Text) -> str:
    """Text with its math in `$...$`, names in backticks, strong words in `**`, every word escaped."""
    out = []
    for part in parts:
        if isinstance(part, Expr):
            out.append(f"${part.latex(alone=True)}$")
        elif isinstance(part, Code):
            out.append(markdown_code(part.text))
        elif isinstance(part, Strong):
            out.append(f"**{markdown_text(part.text)}**")
        elif isinstance(part, Mark):
            out.append(markdown_text(part.text))
        elif isinstance(part, Blank):
            continue
        else:
            out.append(markdown_text(part))
    return "".join(out)


def _table(table: Table) -> str:
    lines = [f"**{markdown_text(table.title)}**", ""] if table.title else []
    lines.append("| " + " | ".join(_cell(cell) for cell in table.header) + " |")
    lines.append("|" + "|".join("---" for _ in table.header) + "|")
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", markdown_text(table.caption)]
    return "\n".join(lines)


def _cell(parts: Text) -> str:
    r"""A table cell: its `|` written `\|` everywhere, code spans and math too (GitHub's tables
    split a row at every other `|` before reading what is inside the cells)."""
    return inline(parts).replace("|", r"\|")
