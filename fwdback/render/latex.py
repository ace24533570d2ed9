"""Sections as LaTeX: an article (amsmath) to print, and a Beamer deck to lecture from.

The math is the notation's LaTeX view, displayed as the Markdown view displays it
(markdown.display_math), so every number reads as explain prints it. Both documents compile
with Debian's texlive-latex-base (the article) and texlive-latex-recommended (Beamer), with
pdflatex and no other package but TikZ (texlive-pictures) where a Figure is drawn. A table, a
figure or a display wider than the text is scaled down to fit.

In the deck each section is a frame, continued on further frames where it would overflow one,
and each gradient's equation (dL/dw1 = sum_i dL/dyhat_i dyhat_i/dN1_i dN1_i/dw1 = ...) is a
frame of its own that a lecturer steps through: one overlay per factor of the chain, then one
per side, its numbers.

Every word is escaped (latex_text), so a column's name cannot run a command or break the
document; a character outside Latin-1, which pdflatex cannot set, is written as its code.
"""

from __future__ import annotations

from ..notation import Equation, Expr, Mul, Partial, Sym, SumOver, mul, rows
from ..outputs import terminal_text
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Mark, Paragraph, Strong, Table, Text
from .markdown import display_math
from .printed import ANSWER_COLUMNS, beside_figure, is_sheet, split
from .svg import PRINTED_WIDTH
from .tikz import network_picture

_PREAMBLE = r"""\usepackage[utf8]{inputenc}
\usepackage{amsmath}
\usepackage{graphicx}
\newcommand{\fitwidth}[1]{\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{#1}}
"""
# Loaded only where a Figure is drawn, so that explain's documents need no TikZ.
_TIKZ = "\\usepackage{tikz}\n\\usetikzlibrary{arrows.meta}\n"
# \fit: a table or a display scaled down to the page's width; on a slide, to its height too.
_FIT_PAGE = "\\newcommand{\\fit}[1]{\\fitwidth{#1}}\n"
_FIT_FRAME = ("\\newcommand{\\fit}[1]{\\resizebox*{!}{\\ifdim\\totalheight>0.7\\textheight 0.7\\textheight"
              "\\else\\totalheight\\fi}{\\fitwidth{#1}}}\n")

# A Blank: a line 6 cm long to write an answer on, under room as high as two lines of text.
_ANSWER_LINE = r"\rule{0pt}{2em}\rule{6cm}{0.4pt}"

# A sheet (render/printed.py) is printed on A4 with 1.5 cm margins; its answer, a box 7 mm high (1.2 mm below
# the baseline), its cell's rules around it.
_ANSWER_BOX = r"\rule[-1.2mm]{0pt}{7mm}"
_TABULARX = "\\usepackage{tabularx}\n"

# An article's table of more rows than this runs on from page to page (_long_table); a column with
# a cell wider than WRAP characters wraps; a character of \small text is about EM_PER_CHARACTER
# em wide (digits are 0.5 em), an answer's line (6 cm) about ANSWER_CHARACTERS.
PAGE_ROWS = 30
WRAP = 40
EM_PER_CHARACTER = 0.55
ANSWER_CHARACTERS = 30
# A page break here where less than 8 lines are left on the page, none elsewhere (the needspace
# package's, which texlive-latex-base lacks): the stretch fills the page where it breaks, and
# cancels out where it does not.
_NEEDS_ROOM = "\\par\\vspace{0pt plus 8\\baselineskip}\\penalty-200\\vspace{0pt plus -8\\baselineskip}\n"
# The packages of a long table.
_LONG = "\\usepackage{longtable}\n\\usepackage{array}\n"

# A frame holds about this many lines of \small text and math before it is continued.
FRAME_LINES = 13

# TeX's special characters, and those the default (OT1) roman fonts have no glyph for, which
# the typewriter font has in their ASCII places.
_SPECIAL = {"$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
            **{char: rf"\texttt{{\char{ord(char)}}}" for char in '\\{}^~<>|"_'}}


def latex_text(text: str) -> str:
    """Words as LaTeX text that sets them as written: control characters shown as terminal_text
    shows them, TeX's special characters escaped or set by their code, and a character beyond
    Latin-1, which pdflatex's fonts lack, as [U+XXXX]."""
    out = []
    for char in terminal_text(text):
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif ord(char) > 0xFF:
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


def latex_article(*documents: list[Block]) -> str:
    """A complete article (\\documentclass{article}) of the documents, each after the first
    from a new page (a class's exercise sheets, printed at once), ending in a newline."""
    body = "\n\n\\clearpage\n\n".join("\n\n".join(_sheet(blocks) if is_sheet(blocks) else _paged(blocks)) for blocks in documents)
    every = [block for blocks in documents for block in blocks]
    sheets = any(is_sheet(blocks) for blocks in documents)
    tikz = _TIKZ if any(isinstance(block, Figure) for block in every) else ""
    long = _LONG if any(isinstance(block, Table) and _long(block) and not block.answers for block in every) else ""
    return ("\\documentclass[11pt]{article}\n" + _PREAMBLE + tikz + long + (_TABULARX if sheets else "") + _FIT_PAGE
            + f"\\usepackage[{'a4paper,margin=1.5cm' if sheets else 'margin=2cm'}]{{geometry}}\n"
            "\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.6em}\n\n"
            f"\\begin{{document}}\n\n{body}\n\n\\end{{document}}\n")


def _sheet(blocks: list[Block]) -> list[str]:
    """An exercise sheet's blocks (render/printed.py): a Figure to the right of the headed tables after it,
    the answers in ANSWER_COLUMNS tables side by side, each answer a box 7 mm high as wide as its column
    leaves, a section's heading in bold without a section's room around it."""
    out = []
    for item in beside_figure(blocks):
        if isinstance(item, tuple):
            figure, tables = item
            picture, _, _ = network_picture(figure.params, figure.features, figure.target, symbols=figure.symbols)
            out.append("\\noindent\\begin{minipage}[c]{0.52\\linewidth}\\setlength{\\parskip}{0.3em}\n"
                       + "\n".join(_sheet_block(table) for table in tables)
                       + f"\n\\end{{minipage}}\\hfill\\begin{{minipage}}[c]{{0.45\\linewidth}}\\centering\\resizebox{{\\linewidth}}{{!}}{{{picture}}}\\end{{minipage}}")
        else:
            out.append(_sheet_block(item))
    return out


def _sheet_block(block: Block) -> str:
    if isinstance(block, Heading) and block.level > 1:
        return f"{{\\large\\bfseries {latex_text(block.text)}\\par}}"
    if isinstance(block, Table):
        return _answers(block) if block.answers else f"{{\\small {_table(block)}}}"
    return _block(block)


def _answers(table: Table) -> str:
    spec = "|" + "|".join(["l" if align == "left" else "r" for align in table.align[:-1]] + ["X"]) + "|"
    header = [" & ".join(inline(cell) for cell in table.header) + r" \\ \hline"] if table.has_header else []
    tables = []
    for chunk in split(table.rows, ANSWER_COLUMNS):
        body = [" & ".join(_ANSWER_BOX if cell == (Blank(),) else inline(cell) for cell in row) + r" \\ \hline" for row in chunk]
        tables.append(f"\\begin{{minipage}}[t]{{\\dimexpr(\\linewidth-{ANSWER_COLUMNS - 1}em)/{ANSWER_COLUMNS}\\relax}}"
                      f"\\begin{{tabularx}}{{\\linewidth}}[t]{{{spec}}}\\hline\n" + "\n".join([*header, *body]) + "\n\\end{tabularx}\\end{minipage}")
    return "{\\small\\setlength{\\tabcolsep}{4pt}\\noindent " + "\\hspace{1em}".join(tables) + "\\par}"


def _paged(blocks: list[Block]) -> list[str]:
    """The blocks as an article's pages set them: a long table runs on from page to page, and
    the heading above it goes to the next page with it where the page has no room for its first rows."""
    out = []
    for block, following in zip(blocks, [*blocks[1:], None]):
        latex = _block(block, paged=True)
        out.append(_NEEDS_ROOM + latex if isinstance(block, Heading) and isinstance(following, Table) and _long(following) else latex)
    return out


def _block(block: Block, paged: bool = False) -> str:
    """The block's LaTeX; `paged`, on an article's pages, where a long table runs on from page to page."""
    if isinstance(block, Heading):
        return ("\\section*{" if block.level == 1 else "\\subsection*{") + latex_text(block.text) + "}"
    if isinstance(block, Paragraph):
        return _paragraph(block.parts)
    if isinstance(block, Equations):
        return "\n".join(_display(math) for math in display_math(block))
    if isinstance(block, Figure):
        picture, _, _ = network_picture(block.params, block.features, block.target, symbols=block.symbols)
        return f"\\begin{{center}}\\begin{{minipage}}{{{PRINTED_WIDTH}\\linewidth}}\\centering\\fit{{{picture}}}\\end{{minipage}}\\end{{center}}"
    return _long_table(block) if paged and _long(block) else _table(block)


def _paragraph(parts: Text) -> str:
    """A paragraph; one that ends in a name of words longer than WRAP characters (a command line)
    sets that name on lines of its own, ragged right: the typewriter font's spaces do not stretch,
    so in a justified line it could run off the page."""
    last = parts[-1] if parts else None
    if isinstance(last, Code) and len(last.text) > WRAP and " " in last.text:
        return f"{inline(parts[:-1])}\\par{{\\raggedright\\ttfamily {latex_text(last.text)}\\par}}"
    return inline(parts)


def _display(math: str) -> str:
    return f"\\[\\fit{{$\\displaystyle {math}$}}\\]"


def inline(parts: Text) -> str:
    """Text with its math in `$...$`, names in typewriter, strong words in bold, every word escaped."""
    out = []
    for part in parts:
        if isinstance(part, Expr):
            out.append(f"${part.latex(alone=True)}$")
        elif isinstance(part, Code):
            out.append(f"\\texttt{{{latex_text(part.text)}}}")
        elif isinstance(part, Strong):
            out.append(f"\\textbf{{{latex_text(part.text)}}}")
        elif isinstance(part, Mark):
            out.append(latex_text(part.text))
        elif isinstance(part, Blank):
            out.append(_ANSWER_LINE)
        else:
            out.append(latex_text(part))
    return "".join(out)


def _table(table: Table) -> str:
    lines = [f"\\textbf{{{latex_text(table.title)}}}\\par"] if table.title else []
    columns = "".join("l" if align == "left" else "r" for align in table.align)
    body = [" & ".join(inline(cell) for cell in row) + r" \\" for row in table.rows]
    header = [" & ".join(inline(cell) for cell in table.header) + r" \\ \hline"] if table.has_header else []
    lines.append(f"\\fit{{\\begin{{tabular}}{{{columns}}}\n" + "\n".join([*header, *body]) + "\n\\end{tabular}}\\par")
    if table.caption:
        lines.append(latex_text(table.caption))
    return "\n".join(lines)


def _long(table: Table) -> bool:
    return len(table.rows) > PAGE_ROWS


def _long_table(table: Table) -> str:
    """A table too long for a page (an answer key) as a longtable, its header on every page; a
    column with a cell of more than WRAP characters (a formula) wraps, as wide as the page leaves
    it (the other columns' widths estimated from their characters), so that none runs off the page."""
    columns = list(zip(table.header, *table.rows))
    widths = [max(_characters(cell) for cell in column) for column in columns]
    wrapped = [width > WRAP for width in widths]
    others = sum(width for width, wraps in zip(widths, wrapped) if not wraps) * EM_PER_CHARACTER
    room = rf"\dimexpr(\linewidth-{others:.1f}em-{2 * len(columns)}\tabcolsep)/{sum(wrapped)}\relax" if any(wrapped) else ""
    spec = "".join(rf">{{\raggedright\arraybackslash}}p{{{room}}}" if wraps else "l" if align == "left" else "r"
                   for wraps, align in zip(wrapped, table.align))
    header = [" & ".join(inline(cell) for cell in table.header) + r" \\ \hline", r"\endhead"] if table.has_header else []
    body = [" & ".join(inline(cell) for cell in row) + r" \\" for row in table.rows]
    lines = [f"\\textbf{{{latex_text(table.title)}}}\\par"] if table.title else []
    lines.append(f"{{\\small\\begin{{longtable}}{{@{{}}{spec}@{{}}}}\n" + "\n".join([*header, *body]) + "\n\\end{longtable}}")
    if table.caption:
        lines.append(latex_text(table.caption))
    return "\n".join(lines)


def _characters(cell: Text) -> int:
    """About how many characters wide a cell is set (an answer's line, 6 cm, as ANSWER_CHARACTERS)."""
    return sum(ANSWER_CHARACTERS if isinstance(part, Blank) else len(part.plain(alone=True)) if isinstance(part, Expr)
               else len(part if isinstance(part, str) else part.text) for part in cell)


# --- Beamer --------------------------------------------------------------------------------------


def beamer(blocks: list[Block]) -> str:
    """A Beamer deck (16:9): the document's title on the first frame, then a frame per section
    (more where it overflows), a gradient's equation on a frame of its own, stepped through."""
    title = next((block.text for block in blocks if isinstance(block, Heading) and block.level == 1), "")
    frames: list[str] = ["\\begin{frame}\n\\titlepage\n\\end{frame}"]
    heading, pending, lines, titled = title, [], 0, set()

    def close() -> None:
        nonlocal pending, lines
        if pending:
            frames.append(_frame(heading + (" (continued)" if heading in titled else ""), "\n\n".join(pending)))
            titled.add(heading)
        pending, lines = [], 0

    for block in blocks:
        if isinstance(block, Heading):
            close()
            heading = block.text
            continue
        for part in _parts(block):
            if isinstance(part, Equations) and _stepped(part.lines[0]):
                close()
                frames.append(_frame(heading, _steps(part.lines[0]), "footnotesize"))
                titled.add(heading)
                continue
            height = _height(part)
            if pending and lines + height > FRAME_LINES:
                close()
            pending.append(_block(part))
            lines += height
    close()
    tikz = _TIKZ if any(isinstance(block, Figure) for block in blocks) else ""
    return ("\\documentclass[aspectratio=169]{beamer}\n" + _PREAMBLE + tikz + _FIT_FRAME + "\\setbeamertemplate{navigation symbols}{}\n"
            f"\\title{{{latex_text(title)}}}\n\\date{{}}\n\n\\begin{{document}}\n\n" + "\n\n".join(frames)
            + "\n\n\\end{document}\n")


def _frame(title: str, body: str, size: str = "small") -> str:
    return f"\\begin{{frame}}\n\\frametitle{{{latex_text(title)}}}\n\\{size}\n{body}\n\\end{{frame}}"


def _parts(block: Block) -> list[Block]:
    """The block in the pieces a frame may end between: equations one by one (unless set
    together on one line), any other block whole."""
    if isinstance(block, Equations) and not block.together:
        return [Equations((line,)) for line in block.lines]
    return [block]


def _height(block: Block) -> int:
    """About how many lines of a frame the block takes: a row with a fraction or a sum counts two,
    a figure the whole frame."""
    if isinstance(block, Paragraph):
        return 1 + len("".join(part if isinstance(part, str) else "xxxx" for part in block.parts)) // 90
    if isinstance(block, Equations):
        rows = [row for math in display_math(block) for row in math.split(r"\\")]
        return 1 + sum(2 if "\\frac" in row or "\\sum" in row else 1 for row in rows)
    if isinstance(block, Figure):
        return FRAME_LINES
    return len(block.rows) + 1 + bool(block.title) + bool(block.caption)


def _stepped(line: Expr) -> bool:
    """A parameter's gradient with its chain worked out: dL/dw1 = ... = ... (not a row's dL/dN1_i)."""
    return (isinstance(line, Equation) and len(line.sides) >= 3 and isinstance(line.sides[0], Partial)
            and line.sides[0].top == Sym("L") and isinstance(line.sides[0].bottom, Sym) and line.sides[0].bottom.row is None)


def _steps(equation: Equation) -> str:
    """The equation one side a row (a long sum broken between its terms), aligned at its
    relations; overlay 1 shows the gradient's name, then each factor of a product (the chain)
    comes on an overlay of its own, and each further side, its "=" with it, on the next."""
    lines, overlay = [], 1
    for row in rows(equation):
        left = "" if row.left is None else row.left.latex(alone=True)
        if row.relation == "+":
            lines.append(f"&\\quad \\uncover<{overlay}->{{+ {row.right.latex(alone=True)}}}")
            continue
        shown = []
        for number, piece in enumerate(_factor_pieces(row.right)):
            overlay += 1
            relation = f"{{}}{row.relation_latex()} " if number == 0 else ""
            shown.append(f"\\uncover<{overlay}->{{{relation}{piece}}}")
        lines.append(f"{left} &{''.join(shown)}")
    note = "" if equation.note is None else rf" \quad ({equation.note.latex(alone=True)})"
    return _display(r"\begin{aligned} " + r" \\ ".join(lines) + note + r" \end{aligned}")


def _factor_pieces(side: Expr) -> list[str]:
    """A side's LaTeX in the pieces to uncover one by one: a product (under a sum over the rows
    or not) factor by factor, each piece what the next factor adds; anything else whole."""
    body, over = (side.body, lambda product: SumOver(product, side.index, side.upper)) if isinstance(side, SumOver) else (side, lambda product: product)
    if not isinstance(body, Mul) or len(body.factors) < 2:
        return [side.latex(alone=True)]
    prefixes = [over(mul(*body.factors[:count])).latex(alone=True) for count in range(1, len(body.factors) + 1)]
    return [prefixes[0], *(after[len(before):] for before, after in zip(prefixes, prefixes[1:]))]
