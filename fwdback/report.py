"""Rich tables from plain data; the only module that knows rich.

On a terminal the tables have colour and box drawing; anywhere else they are plain text:
aligned columns, no escape codes, no box characters.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .training import TrainingResult

TABLE_ROWS = 20
PROGRESS_AFTER_SECONDS = 0.5


def console_for(stream) -> Console:
    """A console that draws boxes and colour only when `stream` is a terminal."""
    return Console(file=stream, highlight=False, soft_wrap=False)


def sampled_epochs(epochs: int, every: int | None = None) -> list[int]:
    """The epochs the loss table shows: 1, every K-th epoch, and the last.

    Without `every`, K is the round number (1, 2, 5, 10, 20, 50, ...) that gives about
    TABLE_ROWS rows.
    """
    if every is None:
        every = _round_step(epochs / TABLE_ROWS)
    shown = {1, epochs, *range(every, epochs + 1, every)}
    return sorted(shown)


def _round_step(target: float) -> int:
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            if multiple * magnitude >= target:
                return multiple * magnitude
        magnitude *= 10


def _table(console: Console, title: str) -> Table:
    return Table(
        title=title,
        box=box.ROUNDED if console.is_terminal else None,
        title_justify="left",
        header_style="bold" if console.is_terminal else "",
        title_style="bold" if console.is_terminal else "",
    )


def loss_table(console: Console, losses: np.ndarray, every: int | None) -> Table:
    table = _table(console, "Loss per epoch")
    table.add_column("epoch", justify="right")
    table.add_column("loss (before update)", justify="right")
    table.add_column("change", justify="right")
    previous = None
    for epoch in sampled_epochs(len(losses), every):
        loss = losses[epoch - 1]
        change = "" if previous is None else f"{loss - previous:+.4e}"
        table.add_row(str(epoch), f"{loss:.10g}", change)
        previous = loss
    return table


def weights_table(console: Console, result: TrainingResult) -> Table:
    table = _table(console, "Parameters")
    for column in ("name", "initial", "final", "final gradient"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for name, initial, final, gradient in zip(
        result.initial.names, result.initial.vector, result.final.vector, result.final_gradients.vector
    ):
        table.add_row(name, f"{initial:.10g}", f"{final:.10g}", f"{gradient:.4e}")
    return table


def summary_table(console: Console, rows: list[tuple[str, str]]) -> Table:
    table = _table(console, "Summary")
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    table.show_header = False
    for label, value in rows:
        table.add_row(label, value)
    return table


def print_training(console: Console, result: TrainingResult, summary: list[tuple[str, str]], every: int | None) -> None:
    console.print(loss_table(console, result.losses, every))
    console.print()
    console.print(weights_table(console, result))
    console.print()
    console.print(summary_table(console, summary))


class EpochProgress:
    """A progress bar on stderr that appears only once training has taken a moment."""

    def __init__(self, total: int, console: Console):
        self.total = total
        self.console = console
        self.start = time.perf_counter()
        self.progress: Progress | None = None
        self.enabled = console.is_terminal
        self.last_update = self.start

    def __call__(self, epoch: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last_update < 0.1 and epoch != self.total:
            return
        self.last_update = now
        if self.progress is None:
            if now - self.start < PROGRESS_AFTER_SECONDS:
                return
            self.progress = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("epoch {task.completed}/{task.total}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total)
        self.progress.update(self.task, completed=epoch)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False)
