"""Sections as a Typst document, and that document as PDF through the `typst` package (the
optional extra fwdback[pdf]), which needs no TeX installation and no fonts of the system's.

Typst's math is written from the notation's LaTeX view (typst_math), whose vocabulary is the
notation's own: a command outside it is a bug of fwdback's, not the user's, and raises. The
math is displayed as the Markdown view displays it (markdown.display_math), so every number
reads as explain prints it.

A Figure is render/svg's network_svg, which Typst decodes from the document's own bytes
(image(bytes(...), format: "svg"), Typst 0.13 and later), drawn at its own size or narrowed to the page.

Every word is a Typst string literal (#"..."), so a column's name cannot run code or start
markup.
"""

from __future__ import annotations

import re

from ..errors import MissingExtra
from ..notation import Expr
from ..outputs import terminal_text
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Mark, Paragraph, Strong, Table, Text
from .markdown import display_math
from .printed import ANSWER_COLUMNS, beside_figure, is_sheet, split
from .svg import PRINTED_WIDTH, figure_svg

_PREAMBLE = """#set page(paper: "a4", margin: 2cm)
#set text(size: 10pt)
#set par(justify: false)
"""


# A Blank: a box 6 cm wide and two lines high (its table cell's rules around it) to write an answer in.
_ANSWER_BOX = "#box(width: 6cm, height: 2em)"


# A sheet's (render/printed.py) narrower margins; its figure, beside its tables, at most FIGURE_HEIGHT
# high, so that the questions keep their room; its answer, a box 7 mm high, as wide as its column leaves.
FIGURE_HEIGHT = "5.5cm"
_SHEET_PAGE = "#set page(margin: 1.5cm)\n#show heading: set block(above: 1em, below: 0.6em)\n"
_ANSWER_CELL = "#box(width: 100%, height: 7mm)"
_NEWLINE = "\n"


def typst_document(*documents: list[Block]) -> str:
    """A complete Typst document of the documents, each after the first from a new page (a
    class's exercise sheets, printed at once), ending in a newline."""
    sheets = any(is_sheet(blocks) for blocks in documents)
    return (_PREAMBLE + (_SHEET_PAGE if sheets else "") + "\n"
            + "\n\n#pagebreak()\n\n".join("\n\n".join(_laid_out(blocks)) for blocks in documents) + "\n")


def _laid_out(blocks: list[Block]) -> list[str]:
    """The blocks' Typst; in a sheet, a Figure beside the headed tables after it, and the answers in columns."""
    if not is_sheet(blocks):
        return [_block(block) for block in blocks]
    out = []
    for item in beside_figure(blocks):
        if isinstance(item, tuple):
            figure, tables = item
            drawing = f"#image(bytes({_literal(figure_svg(figure))}), format: \"svg\", width: 100%, height: {FIGURE_HEIGHT}, fit: \"contain\")"
            out.append(f"#grid(columns: (auto, 1fr), gutter: 1em, align: (left + top, center + horizon),\n"
                       f"[{_NEWLINE.join(_block(table) for table in tables)}],\n[{drawing}])")
        else:
            out.append(_answers(item) if isinstance(item, Table) and item.answers else _block(item))
    return out


def _answers(table: Table) -> str:
    """A table of answers split into ANSWER_COLUMNS side by side (its rows in order down each), its header
    on each, each answer a box as wide as its column leaves."""
    header = [f"[{inline(cell).strip()}]" for cell in table.header] if table.has_header else []
    widths = ", ".join(["auto"] * (len(table.align) - 1) + ["1fr"])
    align = ", ".join(f"{'left' if align == 'left' else 'right'} + horizon" for align in table.align)
    tables = []
    for rows in split(table.rows, ANSWER_COLUMNS):
        cells = [f"[{_ANSWER_CELL}]" if cell == (Blank(),) else f"[{inline(cell).strip()}]" for row in rows for cell in row]
        tables.append(f"table(columns: ({widths}), align: ({align},), stroke: 0.4pt, inset: (x: 3pt, y: 1pt), {', '.join([*header, *cells])})")
    return f"#[#set text(size: 9pt)\n#grid(columns: {ANSWER_COLUMNS} * (1fr,), gutter: 1em, {', '.join(tables)})\n]"


def pdf(source: str) -> bytes:
    """The Typst document compiled to PDF with the fonts the typst package carries (the same
    pages on every machine). Raises MissingExtra when the package is not installed."""
    try:
        import typst
    except ImportError:
        raise MissingExtra("PDF", "typst", "pdf") from None
    return typst.compile(source.encode("utf-8"), ignore_system_fonts=True)


def _string(text: str) -> str:
    """A Typst string literal of the text, control characters shown as terminal_text shows them."""
    return _literal(terminal_text(text))


def _literal(text: str) -> str:
    """A Typst string literal of the text as it is, line ends and all."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return "=" * block.level + " #" + _string(block.text)
    if isinstance(block, Paragraph):
        return inline(block.parts)
    if isinstance(block, Equations):
        return "\n".join(f"$ {typst_math(math)} $" for math in display_math(block))
    if isinstance(block, Figure):
        return _figure(block)
    return _table(block)


def _figure(figure: Figure) -> str:
    """The network's SVG, centred, at its own width or PRINTED_WIDTH of the page's where that is narrower."""
    svg = figure_svg(figure)
    return (f"#{{\nlet drawing = bytes({_literal(svg)})\nlayout(page => align(center, image(drawing, format: \"svg\", "
            f"width: calc.min(measure(image(drawing, format: \"svg\")).width, {PRINTED_WIDTH} * page.width))))\n}}")


def inline(parts: Text) -> str:
    """Text with its math in `$...$`, names as raw text, strong words in bold, every word a string."""
    out = []
    for part in parts:
        if isinstance(part, Expr):
            out.append(f"${typst_math(part.latex(alone=True))}$")
        elif isinstance(part, Code):
            out.append(f"#raw({_string(part.text)})")
        elif isinstance(part, Strong):
            out.append(f"#strong({_string(part.text)})")
        elif isinstance(part, Mark):
            out.append(f"#{_string(part.text)}")
        elif isinstance(part, Blank):
            out.append(_ANSWER_BOX)
        else:
            out.append(f"#{_string(part)}")
    return "".join(out) + "\n"


def _table(table: Table) -> str:
    align = ", ".join("left" if align == "left" else "right" for align in table.align)
    header = [table.header] if table.has_header else []
    cells = ", ".join(f"[{inline(cell).strip()}]" for row in [*header, *table.rows] for cell in row)
    lines = [f"#strong({_string(table.title)})"] if table.title else []
    lines.append(f"#[#set text(size: 8pt)\n#table(columns: {len(table.align)}, align: ({align},), stroke: 0.4pt, {cells})\n]")
    if table.caption:
        lines.append(f"#{_string(table.caption)}")
    return "\n\n".join(lines)


# --- LaTeX math -> Typst math ----------------------------------------------------------------

_SYMBOLS = {"cdot": "dot.op", "cdots": "dots.c", "leftarrow": "arrow.l", "le": "lt.eq"}
# LaTeX commands (of symbols, operators, Greek letters) that Typst spells alike, without the backslash.
_ALIKE = frozenset("partial quad sum log tanh max eta mu beta epsilon delta sigma".split())
_FUNCTIONS = {"frac": ("frac", 2), "hat": ("hat", 1), "sqrt": ("sqrt", 1)}
_DROPPED = {"left", "right"}
_TOKEN = re.compile(r"\\\\|\\[A-Za-z]+|\\.|\d+(?:\.\d+)?(?:e[+-]\d+)?|\s+|.", re.S)
_ESCAPED = set("/,;\"#$<>'@*~`[]!")


def typst_math(latex: str) -> str:
    r"""The notation's LaTeX math as Typst math: \frac{a}{b} -> frac(a, b), x_{1,i} -> x_(1\,i),
    \text{row 3} -> "row 3", \begin{aligned} rows -> rows joined by \ with & kept."""
    tokens = _TOKEN.findall(latex)
    out, position = _sequence(tokens, 0)
    if position != len(tokens):
        raise ValueError(f"unbalanced braces in {latex!r}")
    return out


def _sequence(tokens: list[str], position: int) -> tuple[str, int]:
    """Atoms up to a closing brace (not taken) or the end, joined by spaces."""
    parts: list[str] = []
    while position < len(tokens) and tokens[position] != "}":
        token = tokens[position]
        if token.isspace():
            position += 1
            continue
        if token in ("^", "_"):
            argument, position = _argument(tokens, position + 1)
            if not parts:
                parts.append('""')
            parts[-1] += f"{token}({argument})"
            continue
        atom, position = _atom(tokens, position)
        if atom:
            parts.append(atom)
    return " ".join(parts), position


def _argument(tokens: list[str], position: int) -> tuple[str, int]:
    """A command's or a script's argument: a braced group, or one token."""
    while tokens[position].isspace():
        position += 1
    if tokens[position] == "{":
        inner, position = _sequence(tokens, position + 1)
        return inner, position + 1
    return _atom(tokens, position)


def _atom(tokens: list[str], position: int) -> tuple[str, int]:
    token = tokens[position]
    position += 1
    if token == "{":
        inner, position = _sequence(tokens, position)
        return inner, position + 1
    if token == "\\\\":
        return "\\", position
    if token == "&":
        return "&", position
    if not token.startswith("\\"):
        if re.fullmatch(r"\d+\.?\d*e[+-]\d+", token):
            return f'"{token}"', position
        return ("\\" + token if token in _ESCAPED else token), position
    name = token[1:]
    if name in ("begin", "end"):
        _, position = _argument(tokens, position)
        return "", position
    if name in _DROPPED:
        return "", position
    if name in ("text", "operatorname"):
        words, position = _raw_group(tokens, position)
        string = '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return (string if name == "text" else f"op({string})"), position
    if name in _FUNCTIONS:
        function, count = _FUNCTIONS[name]
        arguments = []
        for _ in range(count):
            argument, position = _argument(tokens, position)
            arguments.append(argument or '""')
        return f"{function}({', '.join(arguments)})", position
    if name in _SYMBOLS:
        return _SYMBOLS[name], position
    if name in _ALIKE:
        return name, position
    raise ValueError(f"no Typst for the LaTeX command {token}")


def _raw_group(tokens: list[str], position: int) -> tuple[str, int]:
    r"""The words of \text{...} as written, spaces and all."""
    depth, words = 0, []
    assert tokens[position] == "{"
    position += 1
    while depth or tokens[position] != "}":
        depth += {"{": 1, "}": -1}.get(tokens[position], 0)
        words.append(tokens[position])
        position += 1
    return "".join(words), position + 1
