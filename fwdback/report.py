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
from rich.text import Text

from . import explain
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


def loss_chart(console: Console, losses: np.ndarray, width: int = 60, height: int = 12) -> Text:
    """The loss curve as a fixed-size character plot, on a log scale when the loss spans decades.

    Each column is a stretch of epochs and shows the loss at its last epoch, so the chart
    costs the same for 10 epochs as for 10 million.
    """
    epochs = len(losses)
    columns = min(width, epochs)
    shown = losses[np.linspace(0, epochs - 1, columns).round().astype(int)]
    positive = shown[shown > 0]
    log = positive.size == shown.size and positive.max() / positive.min() >= 100
    values = np.log10(shown) if log else shown
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    rows = np.round((values - low) / span * (height - 1)).astype(int)
    grid = [[" "] * columns for _ in range(height)]
    for column, row in enumerate(rows):
        grid[height - 1 - row][column] = "*"
    label = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.4g}")
    labels = {0: label(high), height // 2: label(low + span / 2), height - 1: label(low)}
    pad = max(len(text) for text in labels.values())
    chart = Text()
    title = f"Loss per epoch ({'log scale' if log else 'linear scale'})"
    chart.append(title + "\n", style="bold" if console.is_terminal else "")
    for index, cells in enumerate(grid):
        chart.append(f"{labels.get(index, ''):>{pad}} |")
        chart.append("".join(cells), style="cyan" if console.is_terminal else "")
        chart.append("\n")
    chart.append(" " * pad + " +" + "-" * columns + "\n")
    last = str(epochs)
    chart.append(" " * pad + "  1" + " " * max(1, columns - 1 - len(last)) + last + "  epoch")
    return chart


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


def print_training(
    console: Console, result: TrainingResult, comparison: Comparison, training: dict, every: int | None, chart: bool
) -> None:
    console.print(loss_table(console, result.losses, every))
    console.print()
    if chart:
        console.print(loss_chart(console, result.losses))
        console.print()
    console.print(weights_table(console, result))
    console.print()
    console.print(linear_map_table(console, comparison, training["features"]))
    console.print()
    console.print(summary_table(console, result, comparison, training))


def write_history_csv(stream, losses: np.ndarray) -> None:
    stream.write("epoch,loss\n")
    stream.writelines(f"{epoch},{loss!r}\n" for epoch, loss in enumerate(losses.tolist(), start=1))


def write_full_history(stream, result: TrainingResult) -> None:
    """One row per epoch: epoch, loss, the parameters at the start of the epoch, their gradients."""
    names = result.initial.names
    stream.write(",".join(["epoch", "loss", *names, *(f"dL/d{name}" for name in names)]) + "\n")
    for epoch, (loss, params, grads) in enumerate(
        zip(result.losses.tolist(), result.parameter_history.tolist(), result.gradient_history.tolist()), start=1
    ):
        stream.write(",".join([str(epoch), repr(loss), *map(repr, params), *map(repr, grads)]) + "\n")


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


def print_explanation(
    console: Console, worked, features, rows: int, target: str = "y", source: str | None = None, start: str | None = None
) -> None:
    """One worked epoch (explain.WorkedEpoch) as plain-text equations and tables: `fwdback explain`.

    `rows` rows are shown in the forward pass; every sum runs over all rows.
    """
    nt = explain.PLAIN
    n = worked.n
    shown = min(rows, n)
    count = explain.shown_terms(n, rows)
    w = worked.params.as_dict()
    number = explain.number

    def heading(text: str) -> None:
        console.print()
        console.print(Text(text, style="bold" if console.is_terminal else ""))

    def line(text: str, indent: int = 2) -> None:
        console.print(Text(" " * indent + text), soft_wrap=True)

    def table(title: str | None, header: list[str], body: list[list[str]], justify: str = "right") -> None:
        t = _table(console, title)
        t.show_header = any(header)
        for i, column in enumerate(header):
            t.add_column(column, justify="left" if i == 0 else justify)
        for cells in body:
            t.add_row(*cells)
        console.print(t)

    data = f"{n} row{'s' if n != 1 else ''}"
    data = f"{source} ({data})" if source else data
    console.print(Text(f"Epoch {worked.epoch} of forward and backward propagation, worked by hand", style="bold" if console.is_terminal else ""))
    line(f"data {data}, eta = {number(worked.lr)}" + (f", initial weights {start}" if start else ""), 0)
    if tuple(features) != explain.INPUTS or target != "y":
        line(", ".join(f"{lecture} = column {column}" for lecture, column in zip(explain.INPUTS, features)) + f", y = column {target}", 0)
    line("N1 = w1*x1 + w2*x2 + w3*x3 + b1,  N2 = w4*x1 + w5*x2 + w6*x3 + b2,  yhat = w7*N1 + w8*N2 + b3", 0)

    after = "" if worked.epoch == 1 else f" (after {worked.epoch - 1} epoch{'s' if worked.epoch > 2 else ''} of training)"
    heading(f"Weights at the start of epoch {worked.epoch}{after}")
    table(None, ["unit", "weight", "weight", "weight", "bias"], [
        [unit, *(f"{k} = {number(w[k])}" for k in weights), *([""] if unit == "yhat" else []), f"{bias} = {number(w[bias])}"]
        for unit, weights, bias in (*explain.HIDDEN_UNITS, explain.OUTPUT_UNIT)
    ], justify="left")

    rows_note = ("the one row" if n == 1 else f"all {n} rows") if shown == n else f"rows 1 to {shown} of {n}; the loss and the gradients use all {n}"
    heading(f"1. Forward pass ({rows_note})")
    for row in range(shown):
        inputs = ", ".join(f"{s} = {number(v)}" for s, v in zip(explain.INPUTS, worked.X[row]))
        line(f"row {row + 1}: {inputs}, y = {number(worked.y[row])}")
        for equation in explain.forward_equations(worked, row, nt):
            line(equation, 4)
    table(None, ["row", "N1", "N2", "yhat", "y", "y - yhat"], [
        [str(row + 1), *(number(v) for v in (worked.N[row, 0], worked.N[row, 1], worked.yhat[row], worked.y[row], worked.error[row]))]
        for row in range(shown)
    ])

    heading("2. Loss (mean squared error)")
    line(explain.loss_equation(worked, rows, nt))
    if count < n:
        line(f"(this sum and those below run over all {n} rows; the first {count} terms are written out)")

    heading("3. Backward pass, output layer")
    line(f"dL/dyhat_i = -(2/n) (y_i - yhat_i) = -(2/{n}) (y_i - yhat_i)")
    table(None, ["row", "y - yhat", "dL/dyhat"], [
        [str(row + 1), number(worked.error[row]), number(worked.dL_dyhat[row])] for row in range(shown)
    ])
    for _, equation in explain.output_gradient_equations(worked, rows, nt):
        line(equation)

    heading("4. Backward pass, hidden layer (chain rule)")
    for equation in explain.chain_equations(worked, nt):
        line(equation)
    table(None, ["row", "dL/dyhat", "dL/dN1", "dL/dN2"], [
        [str(row + 1), *(number(v) for v in (worked.dL_dyhat[row], worked.dL_dN[row, 0], worked.dL_dN[row, 1]))]
        for row in range(shown)
    ])
    for _, equation in explain.hidden_gradient_equations(worked, rows, nt):
        line(equation)

    heading(f"5. Update, all 11 parameters (eta = {number(worked.lr)})")
    table(None, ["update", "= old - eta*gradient", "= new"], [
        [rule, arithmetic, new] for _, rule, arithmetic, new in explain.update_equations(worked, nt)
    ])

    heading("6. Loss after the update")
    table(None, ["", ""], [
        [f"loss before the update (epoch {worked.epoch})", number(worked.loss)],
        ["loss after the update", number(worked.loss_after)],
        ["change", number(worked.loss_after - worked.loss)],
    ])
