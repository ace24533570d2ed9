"""Sections, tables and training runs for a terminal, with rich; the only module that knows rich.

On a terminal the tables have colour and box drawing; anywhere else they are plain text:
aligned columns, no escape codes, no box characters. Equations are written in the plain
notation (dL/dw1 = sum_i dL/dN1_i * x1_i). Every string reaches rich as text (rich_text), never
as markup, its control characters escaped: a name from a file is shown, not obeyed.
"""

from __future__ import annotations

import dataclasses
import datetime
import time

import numpy as np
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, TextColumn
from rich.segment import Segment, Segments
from rich.table import Column
from rich.table import Table as RichTable
from rich.text import Text as RichText

from ..notation import Expr, count
from ..outputs import terminal_lines, terminal_text
from ..reports.train import (
    TrainingReport, early_descent, linear_map_table, loss_scale, loss_table, summary_table, weights_table,
)
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Mark, Paragraph, Strong, Table, Text
from ..training import TrainingResult

PROGRESS_AFTER_SECONDS = 0.5
# The columns the progress bar leaves free at the right for the terminal's echo of Ctrl-C, "^C": a
# bar to the last column would be wrapped by it, and the bar's old line stay on the screen.
CTRL_C_ECHO = 2
# The progress bar is left out where it would be narrower than this many columns.
NARROWEST_BAR = 10
# Equations sit this far in from the left edge.
EQUATION_INDENT = 2


def console_for(stream) -> Console:
    """A console that draws boxes and colour only when `stream` is a terminal.

    Piped output is not wrapped at 80 columns: a table is as wide as its contents. Its codes
    go to an outputs.Stdout by `write_styled`, past the escaping of what else is written there:
    the text inside them is safe already (rich_text).
    """
    if hasattr(stream, "write_styled"):
        stream = _Styled(stream)
    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = 200
    return console


class _Styled:
    """An outputs.Stdout as rich's file: rich's escape codes written as they are."""

    def __init__(self, stdout):
        self.write, self.flush, self.isatty = stdout.write_styled, stdout.flush, stdout.isatty
        self.encoding = stdout.encoding


def rich_text(text: str, style: str = "", name: bool = False) -> RichText:
    """`text` for rich: as text, never read as markup (`[/]a` is shown as it is spelled), and
    safe for a terminal: its line breaks kept (safe.terminal_lines), or, a `name` (a column, a
    path: sections.Code), every character that is not printable escaped (safe.terminal_text).
    Every string reaches rich through here."""
    return RichText(terminal_text(text) if name else terminal_lines(text), style=style)


def print_sections(console: Console, blocks: list[Block]) -> None:
    """A document (explain's) as text: bold headings, paragraphs, indented equations, tables.

    On a terminal, headings and paragraphs are broken between words to its width (a word
    wider than the terminal is folded, never cut off), and equations between terms, never
    inside a number (an equation's lines after the first are indented further; a term wider
    than the terminal is broken inside its parentheses, a word wider than it left to the
    terminal to wrap); elsewhere each is one line, for grep and diff. A Figure is left out:
    `fwdback show` draws the network as text.
    """
    for block in blocks:
        if isinstance(block, Heading):
            if block.level > 1:
                console.print()
            _print_prose(console, rich_text(block.text, style=_style(console, "bold")))
        elif isinstance(block, Paragraph):
            _print_prose(console, _text(console, block.parts))
        elif isinstance(block, Equations):
            for line in _equation_lines(block):
                for part in _broken(" " * EQUATION_INDENT + line, console):
                    console.print(rich_text(part), soft_wrap=True)
        elif isinstance(block, Table):
            print_table(console, block)


def _print_prose(console: Console, text: RichText) -> None:
    """Words: on a terminal broken between words to its width; elsewhere one line."""
    if console.is_terminal:
        print_plain(console, text, overflow="fold")
    else:
        console.print(text, soft_wrap=True)


def _broken(line: str, console: Console) -> list[str]:
    """`line` in pieces no wider than a terminal console, broken between its terms (at a space
    beside a relation, a + or a -, or after a comma, outside parentheses); a term wider than the
    console between its factors, else inside its parentheses by the same rule, a word wider
    than it not at all (_units). The pieces after the first indented by
    EQUATION_INDENT more."""
    if not console.is_terminal or len(line) <= console.width:
        return [line]
    lead = " " * (len(line) - len(line.lstrip()))
    indent = lead + " " * EQUATION_INDENT
    room = console.width - len(indent)
    pieces, current = [], ""
    for unit in _units(line.strip(), room):
        candidate = f"{current} {unit}" if current else (pieces and indent or lead) + unit
        if current.strip() and len(candidate) > console.width:
            pieces.append(current.rstrip())
            candidate = indent + unit
        current = candidate
    return [*pieces, current]


def _units(text: str, room: int) -> list[str]:
    """`text` in pieces that stay whole on a line `room` wide (joined by " ", they give it back):
    `text` itself when it fits, else _pieces."""
    return [text] if len(text) <= room else _pieces(text, room)


def _pieces(text: str, room: int) -> list[str]:
    """`text` broken wherever it may be (joined by " ", they give it back): its terms, else its
    words, each piece by _units; else inside its first parenthesised group that holds a space,
    however narrow that group is (a narrow sum times a factor is still too wide), what follows
    the group going with the group's last piece; else `text` whole."""
    for split in (_terms, _top_level_words):
        parts = split(text)
        if len(parts) > 1:
            return [unit for part in parts for unit in _units(part, room)]
    group = _spaced_group(text)
    if group is None:
        return [text]
    opening, closing = group
    inner = _pieces(text[opening + 1:closing], room)
    if len(inner) == 1:
        return [text]
    return [text[:opening + 1] + inner[0], *inner[1:-1], *_units(inner[-1] + text[closing:], room)]


def _spaced_group(text: str) -> tuple[int, int] | None:
    """Where `text`'s first outermost parenthesised group holding a space opens and closes."""
    opening = text.find("(")
    while opening >= 0:
        closing = _closing(text, opening)
        if closing is None:
            return None
        if " " in text[opening:closing]:
            return opening, closing
        opening = text.find("(", closing)
    return None


def _closing(text: str, opening: int) -> int | None:
    """Where the parenthesis opened at `opening` closes, or None."""
    depth = 0
    for index in range(max(opening, 0), len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return None


# The words an equation's terms are broken beside (relations and signs written with spaces).
BREAKING_WORDS = {"=", "<-", "<=", ">", "+", "-", "~"}


def _top_level_words(text: str) -> list[str]:
    """`text` split at its spaces outside parentheses (joined by " ", they give it back)."""
    words, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            words.append(text[start:index])
            start = index + 1
    return [*words, text[start:]]


def _terms(text: str) -> list[str]:
    """`text`'s top-level words joined into terms: a new term begins beside a BREAKING_WORD and
    after a comma (joined by " ", they give `text` back)."""
    terms = []
    for word in _top_level_words(text):
        previous = terms[-1].rsplit(" ", 1)[-1] if terms else None
        if previous is None or (word and (previous in BREAKING_WORDS or word in BREAKING_WORDS or previous.endswith(",") or previous == "")):
            terms.append(word)
        else:
            terms[-1] += " " + word
    return terms


def print_table(console: Console, table: Table) -> None:
    """A table, whole where it fits; on a terminal too narrow for it, its columns in groups
    that fit, each group after the first repeating the first column (the row's label), so
    that no number is cut or broken."""
    shown = rich_table(console, table)
    if not console.is_terminal or _width(console, shown) <= console.width:
        print_plain(console, shown)
        return
    groups, current = [], []
    for column in range(1, len(table.header)):
        trial = _columns(table, [0, *current, column])
        if current and _width(console, rich_table(console, trial)) > console.width:
            groups.append(current)
            current = []
        current.append(column)
    if table.title:  # title and caption as wide as the terminal, not as one group's columns
        _print_prose(console, rich_text(table.title, style=_style(console, "bold")))
    for group in [*groups, current]:
        print_plain(console, rich_table(console, _columns(table, [0, *group])))
    if table.caption:
        _print_prose(console, rich_text(table.caption, _style(console, "table.caption")))


def table_width(console: Console, table: Table) -> int:
    """How wide `table` is drawn when nothing limits it."""
    return _width(console, rich_table(console, table))


def _width(console: Console, shown: RichTable) -> int:
    """The width `shown` takes when nothing limits it."""
    return Measurement.get(console, console.options.update(width=1 << 20), shown).maximum


def _columns(table: Table, columns: list[int]) -> Table:
    """`table`'s `columns` alone, without its title and caption (print_table prints those once)."""
    pick = lambda cells: tuple(cells[column] for column in columns)  # noqa: E731
    return dataclasses.replace(table, header=pick(table.header), rows=tuple(pick(row) for row in table.rows),
                               align=pick(table.align), title=None, caption=None)


def print_plain(console: Console, renderable, overflow: str | None = None) -> None:
    """Print `renderable` without the spaces rich leaves at the end of its lines (a table's
    title padded to the table's width, a paragraph's line broken at a space): on a terminal,
    its lines drawn to the terminal's width (a word wider than it broken by `overflow`), each
    stripped at the right; elsewhere captured and stripped."""
    if console.is_terminal:
        options = console.options if overflow is None else console.options.update(overflow=overflow)
        lines = console.render_lines(renderable, options, pad=False)
        console.print(Segments([segment for line in lines for segment in (*_stripped_at_the_right(line), Segment.line())]))
        return
    with console.capture() as captured:
        console.print(renderable)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _stripped_at_the_right(line: list[Segment]) -> list[Segment]:
    """A line of segments without the whitespace it ends in (styles and controls kept)."""
    stripped = list(line)
    for index in reversed(range(len(stripped))):
        segment = stripped[index]
        if segment.control:
            continue
        text = segment.text.rstrip()
        stripped[index] = Segment(text, segment.style)
        if text:
            break
    return stripped


def _equation_lines(block: Equations) -> list[str]:
    """One line per equation, one for all with `together`, columns at the relations when `aligned`
    (the notes, such as "(frozen: kept)", a column of their own)."""
    if block.together:
        return [",  ".join(line.plain(alone=True) for line in block.lines)]
    if not block.aligned:
        return [line.plain(alone=True) for line in block.lines]
    rows = [
        [line.sides[0].plain(alone=True),
         *(f"{line.relation(index)} {side.plain(alone=True)}" for index, side in enumerate(line.sides[1:]))]
        for line in block.lines
    ]
    widths = [max(len(row[column]) for row in rows if column < len(row)) for column in range(max(map(len, rows)))]
    aligned = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    noted = max((len(text) for text, line in zip(aligned, block.lines) if line.note is not None), default=0)
    return [text if line.note is None else f"{text.ljust(noted)}   ({line.note.plain(alone=True)})" for text, line in zip(aligned, block.lines)]


def _style(console: Console, style: str) -> str:
    return style if console.is_terminal else ""


def _text(console: Console, parts: Text) -> RichText:
    """Inline parts as rich text: math in the plain notation, verdicts coloured on a terminal."""
    text = RichText()
    for part in parts:
        if isinstance(part, Expr):
            text.append(rich_text(part.plain(alone=True)))
        elif isinstance(part, Code):
            text.append(rich_text(part.text, name=True))
        elif isinstance(part, Strong):
            text.append(rich_text(part.text, style=_style(console, "bold")))
        elif isinstance(part, Mark):
            text.append(rich_text(part.text, style=_style(console, "green" if part.good else "bold red")))
        elif isinstance(part, Blank):
            continue
        else:
            text.append(rich_text(part))
    return text


def rich_table(console: Console, table: Table) -> RichTable:
    """A sections.Table as a rich table: boxed on a terminal, plain columns elsewhere."""
    shown = RichTable(
        title=None if table.title is None else rich_text(table.title, _style(console, "bold")),
        box=box.ROUNDED if console.is_terminal else None,
        title_justify="left",
        header_style=_style(console, "bold"),
        show_header=table.has_header,
    )
    for header, justify in zip(table.header, table.align):
        shown.add_column(_text(console, header), justify=justify, overflow="fold")
    for row in table.rows:
        shown.add_row(*(_text(console, cell) for cell in row))
    if table.caption:
        shown.caption = rich_text(table.caption, _style(console, "table.caption"))
        shown.caption_justify = "left"
    return shown


def print_training(console: Console, report: TrainingReport, every: int | None, chart: bool) -> None:
    """train's report: the loss table, the loss chart, the parameters, the linear map, the summary."""
    print_table(console, loss_table(report, every))
    console.print()
    if chart:
        print_plain(console, loss_chart(console, report.result))
        console.print()
    print_table(console, weights_table(report))
    console.print()
    if report.comparison is not None:
        print_table(console, linear_map_table(report))
        console.print()
    print_table(console, summary_table(report))


def loss_chart(console: Console, result: TrainingResult, width: int = 60, height: int = 12) -> RichText:
    """The loss curve as a fixed-size character plot, its loss axis logarithmic by the rule of
    every loss figure (report.loss_scale) and its epochs on one when the descent is early; the
    title says each axis's scale.

    Each column is a stretch of epochs and shows the loss at its last epoch, so the chart
    costs the same for 10 epochs as for 10 million. `*` is the training loss, `o` the
    validation loss.
    """
    columns = min(width, len(result.losses))
    log_epochs = early_descent(result) and result.last_epoch > columns
    if log_epochs:
        wanted = np.geomspace(1, result.epochs_run, columns) + result.first_epoch - 1
        picked = np.searchsorted(result.loss_epochs, wanted.round()).clip(0, len(result.losses) - 1)
    else:
        picked = np.linspace(0, len(result.losses) - 1, columns).round().astype(int)
    curves = [("*", result.losses[picked])]
    if result.val_losses is not None:
        curves.insert(0, ("o", result.val_losses[picked]))
    log = loss_scale(*(values for _, values in curves)).log
    scaled = [(mark, np.log10(values) if log else values) for mark, values in curves]
    low = min(float(values.min()) for _, values in scaled)
    high = max(float(values.max()) for _, values in scaled)
    label = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.4g}")
    grid = [[" "] * columns for _ in range(height)]
    if high > low:
        span = high - low
        labels = {0: label(high), height // 2: label(low + span * (height - 1 - height // 2) / (height - 1)), height - 1: label(low)}
    else:  # one value: a level line, labelled once, in the middle
        span, low = 1.0, low - (height - 1 - height // 2) / (height - 1)
        labels = {height // 2: label(high)}
    for mark, values in scaled:
        for column, row in enumerate(np.round((values - low) / span * (height - 1)).astype(int)):
            grid[height - 1 - row][column] = mark
    pad = max(len(text) for text in labels.values())
    legend = "  (* training, o validation)" if result.val_losses is not None else ""
    chart = RichText()
    scales = f"loss: {'log' if log else 'linear'} scale, epochs: {'log' if log_epochs else 'linear'} scale"
    chart.append(f"Loss per epoch ({scales}){legend}\n", style=_style(console, "bold"))
    for index, cells in enumerate(grid):
        chart.append(f"{labels.get(index, ''):>{pad}} |")
        chart.append("".join(cells), style=_style(console, "cyan"))
        chart.append("\n")
    chart.append(" " * pad + " +" + "-" * columns + "\n")
    first, last = count(result.first_epoch), count(result.last_epoch)
    epochs = first if first == last else first + " " * max(1, columns - len(first) - len(last)) + last
    chart.append(" " * pad + "  " + epochs + "  epoch")
    return chart


class EpochProgress:
    """A progress bar on stderr that appears only once training has taken a moment: the epoch
    of the last one it may reach, the loss and the validation loss of the latest epoch, the time
    taken and about how long the epochs left would take at the pace so far (training may stop
    sooner, once the loss has converged); the bar left out where the words leave it fewer than
    NARROWEST_BAR columns:

        epoch 3,390 of 30,000  loss 0.0110873  elapsed 0:00:03, about 0:00:24 left ━━━━━━━━━╺━━━━━━━━━━
    """

    def __init__(self, total: int, console: Console):
        self.total = total
        self.console = console
        self.start = time.perf_counter()
        self.progress: Progress | None = None
        self.enabled = console.is_terminal
        self.last_update = self.start
        self.done = 0

    def __call__(self, record) -> None:
        """After an epoch: `record` is a training.EpochRecord."""
        if not self.enabled:
            return
        self.done += 1
        now = time.perf_counter()
        if now - self.last_update < 0.1 and self.done != self.total:
            return
        self.last_update = now
        if self.progress is None:
            if now - self.start < PROGRESS_AFTER_SECONDS:
                return
            self.console.width = max(1, self.console.width - CTRL_C_ECHO)
            self.words = TextColumn("{task.fields[words]}", markup=False, table_column=Column(overflow="fold"))
            self.bar = BarColumn(bar_width=None, table_column=Column(ratio=1))
            self.progress = Progress(self.words, self.bar, console=self.console, transient=True, expand=True)
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total, words="")
        val = "" if record.val_loss is None else f"  validation {record.val_loss:.6g}"
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done)
        words = (f"epoch {record.number:,} of {record.number - self.done + self.total:,}  loss {record.loss:.6g}{val}  "
                 f"elapsed {_duration(elapsed)}, about {_duration(left)} left")
        # The bar only where it has room to show progress; a space lies between the words and it.
        narrow = self.console.width - len(words) - 1 < NARROWEST_BAR
        self.progress.columns = (self.words,) if narrow else (self.words, self.bar)
        self.progress.update(self.task, completed=self.done, words=words)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _duration(seconds: float) -> str:
    """Whole seconds as a clock reads them: 0:00:03, 12:05:00, 3 days, 4:00:00."""
    return str(datetime.timedelta(seconds=round(seconds)))
