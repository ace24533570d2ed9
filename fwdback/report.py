"""Rich tables from plain data; the only module that knows rich.

On a terminal the tables have colour and box drawing; anywhere else they are plain text:
aligned columns, no escape codes, no box characters.
"""

from __future__ import annotations

import time

import numpy as np
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .training import TrainingResult
from .yardstick import Comparison

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


def linear_map_table(console: Console, comparison: Comparison, features: tuple[str, ...]) -> Table:
    table = _table(console, "The network as a linear map, beside least squares")
    table.add_column("term", justify="left")
    table.add_column("network", justify="left")
    table.add_column("value", justify="right")
    table.add_column("least squares", justify="right")
    for j, feature in enumerate(features):
        formula = f"w7*w{j + 1} + w8*w{j + 4}"
        table.add_row(feature, formula, f"{comparison.coef[j]:.10g}", f"{comparison.best.coef[j]:.10g}")
    table.add_row("1", "w7*b1 + w8*b2 + b3", f"{comparison.intercept:.10g}", f"{comparison.best.intercept:.10g}")
    return table


def summary_table(console: Console, result: TrainingResult, comparison: Comparison, training: dict) -> Table:
    table = _table(console, "Summary")
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    table.show_header = False
    init = f"--init {training['init']}" if training["init"] else f"random, seed {training['seed']}"
    rows = [
        ("data", f"{training['data']} ({training['rows']} row{'s' if training['rows'] != 1 else ''})"),
        ("epochs", str(result.epochs_run)),
        ("learning rate (eta)", f"{training['lr']:g}"),
        ("initial weights", init),
        ("loss at epoch 1", f"{result.losses[0]:.10g}"),
        (f"loss at epoch {result.epochs_run}", f"{result.losses[-1]:.10g}"),
        ("final loss (after the last update)", f"{result.final_loss:.10g}"),
        ("best achievable loss (least squares)", f"{comparison.best.loss:.10g}"),
        ("gap to the best", _gap(comparison)),
        ("loss of predicting the mean of y", f"{comparison.best.constant_loss:.10g}"),
        ("time", f"{result.seconds:.3f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _gap(comparison: Comparison) -> str:
    relative = comparison.relative_gap
    return f"{comparison.gap:.3e}" + ("" if relative is None else f" ({relative:.2%})")


def print_training(console: Console, result: TrainingResult, comparison: Comparison, training: dict, every: int | None) -> None:
    console.print(loss_table(console, result.losses, every))
    console.print()
    console.print(weights_table(console, result))
    console.print()
    console.print(linear_map_table(console, comparison, training["features"]))
    console.print()
    console.print(summary_table(console, result, comparison, training))


def write_history_csv(stream, losses: np.ndarray) -> None:
    stream.write("epoch,loss\n")
    stream.writelines(f"{epoch},{loss!r}\n" for epoch, loss in enumerate(losses.tolist(), start=1))


def training_document(result: TrainingResult, comparison: Comparison, training: dict, model_path: str) -> dict:
    """Everything about a training run as JSON-ready data, floats at full precision."""
    names = [*training["features"], "intercept"]
    return {
        "history": [{"epoch": epoch, "loss": loss} for epoch, loss in enumerate(result.losses.tolist(), start=1)],
        "initial_weights": result.initial.as_dict(),
        "weights": result.final.as_dict(),
        "gradients": result.final_gradients.as_dict(),
        "initial_loss": float(result.losses[0]),
        "final_loss": result.final_loss,
        "epochs": result.epochs_run,
        "lr": training["lr"],
        "seed": training["seed"],
        "rows": training["rows"],
        "seconds": result.seconds,
        "model": model_path,
        "yardstick": {
            "linear_map": dict(zip(names, [*comparison.coef.tolist(), comparison.intercept])),
            "least_squares": dict(zip(names, [*comparison.best.coef.tolist(), comparison.best.intercept])),
            "best_loss": comparison.best.loss,
            "gap": comparison.gap,
            "constant_loss": comparison.best.constant_loss,
            "unique": comparison.best.unique,
            "converged": comparison.converged,
        },
    }


def yardstick_notes(comparison: Comparison, features: tuple[str, ...]) -> list[str]:
    """What a user should know about how training ended, in plain sentences for stderr."""
    notes = []
    if not comparison.converged:
        relative = comparison.relative_gap
        above = "above zero, the best achievable loss here" if relative is None else (
            f"{relative:.1%} above the best achievable loss ({comparison.best.loss:.6g})"
        )
        notes.append(
            f"Note: training stopped at loss {comparison.final_loss:.6g}, {above}; "
            "more --epochs or a larger --lr would help."
        )
    best = comparison.best
    if not best.unique:
        if best.rows < len(features) + 1:
            why = f"{best.rows} row{'s' if best.rows > 1 else ''} cannot pin down {len(features) + 1} coefficients"
        elif best.constant_columns:
            constant = ", ".join(features[j] for j in best.constant_columns)
            why = f"{constant} {'is' if len(best.constant_columns) == 1 else 'are'} constant, so indistinguishable from the intercept"
        else:
            why = f"the columns {', '.join(features)} are linearly dependent"
        notes.append(
            f"Note: {why}: many coefficient sets reach the best loss, and the least-squares column "
            "shows the one of smallest norm."
        )
    return notes


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
