"""Format-free documents: what explain and train's report say, before any view writes it.

A document is a sequence of blocks: Heading, Paragraph, Equations, Table, Figure. The text of a
paragraph or a table cell is a sequence of inline parts: a str, a notation expression (math),
Code (a name from the user's data, such as a column), Strong or Mark (a verdict), Blank (room
for an answer). The
renderers in render/ write them as terminal text or Markdown (and HTML); none of them decides
what is said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .notation import Equation, Expr

if TYPE_CHECKING:
    from .network import Parameters


@dataclass(frozen=True)
class Code:
    """A name from the user's data or command line, as it is spelled there: `price`, `data.csv`."""

    text: str


@dataclass(frozen=True)
class Strong:
    """Words that lead what follows: "Row 3:"."""

    text: str


@dataclass(frozen=True)
class Mark:
    """A verdict: "ok" (good) or "FAIL" (not), coloured where the view can."""

    text: str
    good: bool


@dataclass(frozen=True)
class Blank:
    """Room for a student's answer on an exercise sheet: a box to write in where the view is printed
    (LaTeX, Typst; a table whose last column is all Blank is a table of answers, Table.answers, set
    in columns), nothing where it is read on a screen (the HTML page's print style gives its cell the room)."""


Inline = str | Expr | Code | Strong | Mark | Blank
Text = tuple[Inline, ...]


def text(*parts: Inline) -> Text:
    """A paragraph's or a table cell's parts."""
    return tuple(parts)


@dataclass(frozen=True)
class Heading:
    """A title: level 1 for the document's, 2 for a section's."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    parts: Text


@dataclass(frozen=True)
class Equations:
    """Displayed equations, one per line; `together` sets them on one line, separated by commas;
    `aligned` lines them up at their relations (the update of every parameter)."""

    lines: tuple[Equation, ...]
    together: bool = False
    aligned: bool = False


@dataclass(frozen=True)
class Table:
    """A table of text cells. `align` holds "left" or "right" for each column; `caption`, a line under it."""

    header: tuple[Text, ...]
    rows: tuple[tuple[Text, ...], ...]
    align: tuple[str, ...]
    title: str | None = None
    caption: str | None = None

    @property
    def has_header(self) -> bool:
        return any(part for cell in self.header for part in cell)

    @property
    def answers(self) -> bool:
        """Whether the table asks for answers (an exercise sheet's questions): every row's last cell
        is a Blank alone, which a printed view lays out in columns of boxes to write in."""
        return bool(self.rows) and all(row[-1] == (Blank(),) for row in self.rows)


@dataclass(frozen=True)
class Figure:
    """The network drawn (render/svg's network_svg, render/tikz's network_picture): with its
    parameters' values, or with `symbols` their names alone (w1 on its edge, b1 at its unit), as an
    exercise sheet shows it. `features`: the k names of x1..xk; `target`: the output's name, or one
    name an output."""

    params: Parameters
    features: tuple[str, ...]
    target: str | tuple[str, ...]
    symbols: bool = False


Block = Heading | Paragraph | Equations | Table | Figure


def cells(*values: str) -> tuple:
    """A table row of plain strings, one cell each."""
    return tuple((value,) for value in values)
