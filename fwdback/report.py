"""Rich tables from plain data; the only module that knows rich.

On a terminal the tables have colour and box drawing; anywhere else they are plain text:
aligned columns, no escape codes, no box characters.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from . import explain
from .modelfile import Model
from .network import Parameters
from .plan import CONVERGENCE_WINDOW, StopReason
from .training import Fit, Prepared, TrainingPlan, TrainingResult
from .yardstick import Comparison, compare

TABLE_ROWS = 20
PROGRESS_AFTER_SECONDS = 0.5
# A change of the loss by no more than this fraction of it is below float64's resolution (16 eps).
NOISE = 16 * float(np.finfo(np.float64).eps)
# The chart's epoch axis is logarithmic when this share of the descent happens in the first
# EARLY_SHARE of the epochs.
EARLY_SHARE, DESCENT_SHARE = 0.05, 0.9


def console_for(stream) -> Console:
    """A console that draws boxes and colour only when `stream` is a terminal.

    Piped output is not wrapped at 80 columns: a table is as wide as its contents.
    """
    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = 200
    return console


def sampled_epochs(epochs: int, every: int | None = None) -> list[int]:
    """The epochs the loss table shows, counted from 1: the first and the last always.

    With `every`, every K-th. Without, every epoch when there are at most TABLE_ROWS, else
    log-spaced ones (1, 1.5, 2, 3, 5, 7 times each power of ten, or fewer of those), where
    gradient descent changes the loss most, and every tenth of the run, so that about TABLE_ROWS
    remain.
    """
    if every is not None:
        return sorted({1, epochs, *range(every, epochs + 1, every)})
    if epochs <= TABLE_ROWS:
        return list(range(1, epochs + 1))
    tenth = _round_step(epochs / 10)
    for steps in ((1, 1.5, 2, 3, 5, 7), (1, 2, 3, 5), (1, 2, 5), (1, 3), (1,)):
        early = {int(step * 10**power) for power in range(len(str(epochs))) for step in steps}
        shown = sorted(epoch for epoch in {1, epochs, *early, *range(tenth, epochs, tenth)} if 1 <= epoch <= epochs)
        if len(shown) <= TABLE_ROWS + 6:
            return shown
    return shown


def _round_step(target: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least `target`."""
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


@dataclass
class TrainingReport:
    """Everything the outputs of `train` show. `comparison` exists for the linear network only."""

    fitted: Fit
    model: Model
    comparison: Comparison | None

    @classmethod
    def of(cls, fitted: Fit, model: Model) -> TrainingReport:
        result, prepared = fitted.result, fitted.prepared
        comparison = None
        if result.final.activation == "identity":
            streamed = prepared.statistics.least_squares() if prepared.X is None else None
            comparison = compare(result.final, result.final_loss, prepared.X, prepared.y, streamed)
        return cls(fitted, model, comparison)

    @property
    def result(self) -> TrainingResult:
        return self.fitted.result

    @property
    def prepared(self) -> Prepared:
        return self.fitted.prepared

    @property
    def plan(self) -> TrainingPlan:
        return self.fitted.plan

    @property
    def lr_chosen(self) -> bool:
        return bool(self.model.training.get("lr_chosen"))

    @property
    def units(self) -> str:
        return " (z-scores)" if self.model.scaling is not None else ""


def loss_table(console: Console, report: TrainingReport, every: int | None) -> Table:
    """The loss at sampled epochs (sampled_epochs), with its change since the row before.

    A change within float64's resolution of the loss (NOISE of it) is rounding, not learning:
    it is shown as 0, and a caption says so.
    """
    result = report.result
    table = _table(console, f"Loss per epoch{report.units}")
    table.add_column("epoch", justify="right")
    table.add_column("loss (mean over batches)" if report.plan.batch_size else "loss (before update)", justify="right")
    table.add_column("change", justify="right")
    if result.val_losses is not None:
        table.add_column("validation loss", justify="right")
    previous, rounded = None, False
    wanted = result.first_epoch - 1 + np.array(sampled_epochs(result.epochs_run, every))
    for index in np.unique(np.searchsorted(result.loss_epochs, wanted).clip(0, len(result.losses) - 1)).tolist():
        loss = float(result.losses[index])
        change = ""
        if previous is not None:
            if abs(loss - previous) <= NOISE * max(abs(loss), abs(previous)):
                change, rounded = "0", True
            else:
                change = f"{loss - previous:+.4e}"
        row = [str(result.loss_epochs[index]), f"{loss:.10g}", change]
        if result.val_losses is not None:
            row.append(f"{result.val_losses[index]:.10g}")
        table.add_row(*row)
        previous = loss
    if rounded:
        table.caption = "0: within float64 rounding (16 eps)"
        table.caption_justify = "left"
    return table


def loss_chart(console: Console, result: TrainingResult, width: int = 60, height: int = 12) -> Text:
    """The loss curve as a fixed-size character plot, on a log scale when the loss spans decades.

    Each column is a stretch of epochs and shows the loss at its last epoch, so the chart
    costs the same for 10 epochs as for 10 million. `*` is the training loss, `o` the
    validation loss.
    """
    columns = min(width, len(result.losses))
    log_epochs = _early_descent(result) and result.last_epoch > columns
    if log_epochs:
        wanted = np.geomspace(1, result.epochs_run, columns) + result.first_epoch - 1
        picked = np.searchsorted(result.loss_epochs, wanted.round()).clip(0, len(result.losses) - 1)
    else:
        picked = np.linspace(0, len(result.losses) - 1, columns).round().astype(int)
    curves = [("*", result.losses[picked])]
    if result.val_losses is not None:
        curves.insert(0, ("o", result.val_losses[picked]))
    every_value = np.concatenate([values for _, values in curves])
    log = bool((every_value > 0).all() and every_value.max() / every_value.min() >= 100)
    scaled = [(mark, np.log10(values) if log else values) for mark, values in curves]
    low = min(float(values.min()) for _, values in scaled)
    high = max(float(values.max()) for _, values in scaled)
    span = high - low if high > low else 1.0
    grid = [[" "] * columns for _ in range(height)]
    for mark, values in scaled:
        for column, row in enumerate(np.round((values - low) / span * (height - 1)).astype(int)):
            grid[height - 1 - row][column] = mark
    label = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.4g}")
    labels = {0: label(high), height // 2: label(low + span * (height - 1 - height // 2) / (height - 1)), height - 1: label(low)}
    pad = max(len(text) for text in labels.values())
    legend = "  (* training, o validation)" if result.val_losses is not None else ""
    chart = Text()
    chart.append(f"Loss per epoch, {'log' if log else 'linear'} scale{legend}\n", style="bold" if console.is_terminal else "")
    for index, cells in enumerate(grid):
        chart.append(f"{labels.get(index, ''):>{pad}} |")
        chart.append("".join(cells), style="cyan" if console.is_terminal else "")
        chart.append("\n")
    chart.append(" " * pad + " +" + "-" * columns + "\n")
    first, last = str(result.first_epoch), str(result.last_epoch)
    axis = "  epoch (log scale)" if log_epochs else "  epoch"
    chart.append(" " * pad + "  " + first + " " * max(1, columns - len(first) - len(last)) + last + axis)
    return chart


def _early_descent(result: TrainingResult) -> bool:
    """Whether DESCENT_SHARE of the loss's fall came in the first EARLY_SHARE of the epochs."""
    losses = result.losses
    fall = float(losses[0] - losses.min())
    if not fall > 0:
        return False
    early = result.first_epoch + EARLY_SHARE * result.epochs_run
    reached = float(losses[0] - losses[result.loss_epochs <= early].min())
    return reached >= DESCENT_SHARE * fall


def weights_table(console: Console, report: TrainingReport) -> Table:
    result = report.result
    table = _table(console, f"Parameters{report.units}")
    for column in ("name", "initial", "final", "final gradient"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for name, initial, final, gradient in zip(
        result.initial.names, result.initial.vector, result.final.vector, result.final_gradients.vector
    ):
        table.add_row(name, f"{initial:.10g}", f"{final:.10g}", f"{gradient:.4e}")
    return table


def linear_map_formulas(params: Parameters) -> list[str]:
    """How each coefficient of the collapsed map is made: "w7*w1 + w8*w4" for x1, ..., then the intercept."""
    names = params.names
    k, h = params.n_inputs, params.n_hidden
    out = names[k * h : k * h + h]
    formulas = [" + ".join(f"{out[u]}*{names[u * k + j]}" for u in range(h)) for j in range(k)]
    formulas.append(" + ".join(f"{out[u]}*b{u + 1}" for u in range(h)) + f" + b{h + 1}")
    return formulas


def original_linear_maps(report: TrainingReport) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
    """The network's and least squares' linear maps in the data's own units."""
    comparison, scaling = report.comparison, report.model.scaling
    network, best = (comparison.coef, comparison.intercept), (comparison.best.coef, comparison.best.intercept)
    if scaling is None:
        return network, best
    return scaling.original_linear_map(*network), scaling.original_linear_map(*best)


def linear_map_table(console: Console, report: TrainingReport) -> Table:
    comparison = report.comparison
    scaled = report.model.scaling is not None
    table = _table(console, "The network as a linear map, beside least squares" + report.units)
    for column in ("term", "network", "value", "least squares"):
        table.add_column(column, justify="left" if column in ("term", "network") else "right")
    if scaled:
        table.add_column("value, original units", justify="right")
        table.add_column("least squares, original units", justify="right")
    (network_coef, network_intercept), (best_coef, best_intercept) = original_linear_maps(report)
    terms = [*report.model.features, "1"]
    values = [*comparison.coef, comparison.intercept]
    best = [*comparison.best.coef, comparison.best.intercept]
    original = [*network_coef, network_intercept]
    original_best = [*best_coef, best_intercept]
    for j, (term, formula) in enumerate(zip(terms, linear_map_formulas(report.result.final))):
        row = [term, formula, f"{values[j]:.10g}", f"{best[j]:.10g}"]
        if scaled:
            row += [f"{original[j]:.10g}", f"{original_best[j]:.10g}"]
        table.add_row(*row)
    return table


def summary_rows(report: TrainingReport) -> list[tuple[str, str]]:
    result, training, comparison = report.result, report.model.training, report.comparison
    params = result.final
    if training.get("resumed_from"):
        start = f"--resume {training['resumed_from']}"
    elif training.get("init"):
        start = f"--init {training['init']}"
    else:
        start = f"random, seed {report.plan.seed}"
    rows = training["rows"]
    plan = report.plan
    data = f"{training['data']} ({rows} row{'s' if rows != 1 else ''}"
    data += f", {training['validation_rows']} more held out for validation)" if training["validation_rows"] else ")"
    network = f"{params.n_inputs} inputs, {params.n_hidden} hidden units ({params.activation}), 1 output"
    lr = f"{plan.lr:g}" + (" (chosen from the data: half the largest stable step; --lr sets it)" if report.lr_chosen else "")
    summary = [
        ("data", data),
        ("network", network),
        ("epochs", f"{result.first_epoch} to {result.last_epoch}" if result.first_epoch > 1 else str(result.epochs_run)),
        ("learning rate (eta)", lr),
        ("batch size", str(plan.batch_size) if plan.batch_size else "all rows (full batch)"),
        ("initial weights", start),
    ]
    if report.model.scaling is not None:
        chosen = " (chosen: the columns' scales differ badly)" if report.prepared.scales.bad and report.lr_chosen else ""
        summary.append(("scaling", f"z-scores of the features and target{chosen}; losses and weights in those units"))
    summary += [
        (f"loss at epoch {result.first_epoch}", f"{result.losses[0]:.10g}"),
        (f"loss at epoch {result.last_epoch}", f"{result.last_loss:.10g}"),
        ("final loss (at the final weights)", f"{result.final_loss:.10g}"),
    ]
    if result.final_val_loss is not None:
        summary.append(("final validation loss", f"{result.final_val_loss:.10g}"))
    summary.append(("stopped", stop_description(result, plan)))
    if comparison is not None:
        relative = comparison.relative_gap
        summary += [
            ("best achievable loss (least squares)", f"{comparison.best.loss:.10g}"),
            ("gap to the best", f"{comparison.gap:.3e}" + ("" if relative is None else f" ({relative:.2%})")),
            ("loss of predicting the mean of y", f"{comparison.best.constant_loss:.10g}"),
        ]
    summary.append(("time", f"{result.seconds:.3f} s"))
    return summary


def stop_description(result: TrainingResult, plan: TrainingPlan) -> str:
    """Why training ended, in words."""
    kept = f"; kept the weights of the best epoch, {result.best_epoch}" if result.best_epoch is not None else ""
    if result.stop is StopReason.CONVERGED:
        return (f"converged at epoch {result.last_epoch}: the loss moved by at most {plan.tol:.2g} of itself "
                f"over {CONVERGENCE_WINDOW} epochs (--tol)")
    if result.stop is StopReason.EARLY_STOPPING:
        watched = "validation" if result.val_losses is not None else "training"
        return (f"early stopping: the {watched} loss did not improve by more than {plan.min_delta:g} for "
                f"{plan.patience} epochs; kept the weights of epoch {result.best_epoch}")
    if result.stop is StopReason.INTERRUPTED:
        return f"interrupted after epoch {result.last_epoch}{kept}"
    return f"ran every epoch{kept}"


def summary_table(console: Console, report: TrainingReport) -> Table:
    table = _table(console, "Summary")
    table.add_column("", justify="left")
    table.add_column("", justify="left")
    table.show_header = False
    for label, value in summary_rows(report):
        table.add_row(label, value)
    return table


def print_training(console: Console, report: TrainingReport, every: int | None, chart: bool) -> None:
    console.print(loss_table(console, report, every))
    console.print()
    if chart:
        console.print(loss_chart(console, report.result))
        console.print()
    console.print(weights_table(console, report))
    console.print()
    if report.comparison is not None:
        console.print(linear_map_table(console, report))
        console.print()
    console.print(summary_table(console, report))


def loss_csv_header(validation: bool) -> str:
    """The header of `train --format csv`: epoch,loss (and val_loss with a validation split)."""
    return "epoch,loss,val_loss\n" if validation else "epoch,loss\n"


def loss_csv_row(record, validation: bool) -> str:
    """One epoch (training.EpochRecord) of `train --format csv`, in round-trip precision."""
    if validation:
        return f"{record.number},{record.loss!r},{record.val_loss!r}\n"
    return f"{record.number},{record.loss!r}\n"


def history_header(names) -> str:
    """The --history header: epoch, loss, the parameters by name, then dL/d of each."""
    return ",".join(["epoch", "loss", *names, *(f"dL/d{name}" for name in names)]) + "\n"


def history_row(record) -> str:
    """One --history row: the epoch, its loss, the parameters at its start, its gradients."""
    values = [repr(record.loss), *map(repr, record.params.vector.tolist()), *map(repr, record.gradients.vector.tolist())]
    return f"{record.number}," + ",".join(values) + "\n"


def training_document(report: TrainingReport, model_path: str) -> dict:
    """Everything about a training run as JSON-ready data, floats at full precision."""
    result, model, comparison = report.result, report.model, report.comparison
    training = model.training
    history = [{"epoch": epoch, "loss": loss} for epoch, loss in zip(result.loss_epochs.tolist(), result.losses.tolist())]
    if result.val_losses is not None:
        for entry, val in zip(history, result.val_losses.tolist()):
            entry["val_loss"] = val
    document = {
        "history": history,
        "initial_weights": result.initial.as_dict(),
        "weights": result.final.as_dict(),
        "gradients": result.final_gradients.as_dict(),
        "initial_loss": float(result.losses[0]),
        "final_loss": result.final_loss,
        "final_val_loss": result.final_val_loss,
        "epochs": result.epochs_run,
        "first_epoch": result.first_epoch,
        "lr": report.plan.lr,
        "lr_chosen": report.lr_chosen,
        "seed": report.plan.seed,
        "batch_size": report.plan.batch_size,
        "tol": report.plan.tol,
        "activation": result.final.activation,
        "hidden": result.final.n_hidden,
        "features": list(model.features),
        "target": model.target,
        "rows": training["rows"],
        "validation_rows": training["validation_rows"],
        "best_epoch": result.best_epoch,
        "stop": result.stop.value,
        "stop_reason": stop_description(result, report.plan),
        "scaling": None if model.scaling is None else model.scaling.as_dict(model.features, model.target),
        "seconds": result.seconds,
        "model": model_path,
        "yardstick": None,
    }
    if comparison is not None:
        names = [*model.features, "intercept"]
        (coef, intercept), (best_coef, best_intercept) = original_linear_maps(report)
        document["yardstick"] = {
            "linear_map": dict(zip(names, [*comparison.coef.tolist(), comparison.intercept])),
            "least_squares": dict(zip(names, [*comparison.best.coef.tolist(), comparison.best.intercept])),
            "linear_map_original_units": dict(zip(names, [*coef.tolist(), intercept])),
            "least_squares_original_units": dict(zip(names, [*best_coef.tolist(), best_intercept])),
            "best_loss": comparison.best.loss,
            "gap": comparison.gap,
            "constant_loss": comparison.best.constant_loss,
            "unique": bool(comparison.best.unique),
            "converged": bool(comparison.converged),
        }
    return document


def yardstick_notes(report: TrainingReport) -> list[str]:
    """What a user should know about how training ended, in plain sentences for stderr."""
    notes = []
    if report.result.stop is StopReason.EARLY_STOPPING:
        notes.append(f"Note: {stop_description(report.result, report.plan)}.")
    comparison = report.comparison
    if comparison is None:
        return notes
    features = report.model.features
    if not comparison.converged:
        relative = comparison.relative_gap
        above = "above zero, the best achievable loss here" if relative is None else (
            f"{relative:.1%} above the best achievable loss ({comparison.best.loss:.6g})"
        )
        help = "more --epochs or a larger --lr would help"
        if report.prepared.scales.bad and report.model.scaling is None:
            help = "the columns' scales differ badly: --standardize would help"
        notes.append(f"Note: training stopped at loss {comparison.final_loss:.6g}, {above}; {help}.")
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
    """A progress bar on stderr that appears only once training has taken a moment: the epoch,
    the loss and the validation loss of the latest epoch, and the time left at most."""

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
            self.progress = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("epoch {task.fields[epoch]}  loss {task.fields[loss]}{task.fields[val]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total, epoch="", loss="", val="")
        val = "" if record.val_loss is None else f"  validation {record.val_loss:.6g}"
        self.progress.update(self.task, completed=self.done, epoch=record.number, loss=f"{record.loss:.6g}", val=val)

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

    inputs = explain.input_names(worked)
    hidden = range(worked.hidden)
    label = [str(r) for r in worked.row_numbers.tolist()]
    data = explain.data_phrase(worked, source, nt)
    console.print(Text(f"Epoch {worked.epoch} of forward and backward propagation, worked by hand", style="bold" if console.is_terminal else ""))
    if (worked.k, worked.hidden, worked.activation) != (3, 2, "identity"):
        line(explain.network_description(worked), 0)
    line(f"data {data}, eta = {number(worked.lr)}" + (f", initial weights {start}" if start else ""), 0)
    if tuple(features) != inputs or target != "y":
        line(", ".join(f"{lecture} = column {column}" for lecture, column in zip(inputs, features)) + f", y = column {target}", 0)
    for note in explain.setting_notes(worked, features, target, nt):
        line(note, 0)
    line(",  ".join(explain.network_equations(worked, nt)), 0)

    after = "" if worked.epoch == 1 else f" (after {worked.epoch - 1} epoch{'s' if worked.epoch > 2 else ''} of training)"
    if after and worked.batch_size is not None:
        after = after[:-1] + f", in mini-batches of {worked.batch_size} rows)"
    heading(f"Weights at the start of epoch {worked.epoch}{after}")
    table(None, *explain.weight_table(worked, nt), justify="left")

    rows_note = ("the one row" if n == 1 else f"all {n} rows") if shown == n else f"rows 1 to {shown} of {n}; the loss and the gradients use all {n}"
    if not worked.numbered_in_order:
        rows_note = explain.row_range(worked, shown) + ("" if shown == n else f"; the loss and the gradients use all {n}")
    heading(f"1. Forward pass ({rows_note})")
    for row in range(shown):
        values = ", ".join(f"{s} = {number(v)}" for s, v in zip(inputs, worked.X[row]))
        line(f"row {label[row]}: {values}, y = {number(worked.y[row])}")
        for equation in explain.forward_equations(worked, row, nt):
            line(equation, 4)
    z_columns = [f"z{h + 1}" for h in hidden] if worked.activated else []
    table(None, ["row", *z_columns, *(f"N{h + 1}" for h in hidden), "yhat", "y", "y - yhat"], [
        [label[row], *(number(v) for v in (*(worked.Z[row] if worked.activated else []), *worked.N[row], worked.yhat[row], worked.y[row], worked.error[row]))]
        for row in range(shown)
    ])

    heading("2. Loss (mean squared error)")
    line(explain.loss_equation(worked, rows, nt))
    if count < n:
        line(f"(this sum and those below run over all {n} rows; the first {count} terms are written out)")

    heading("3. Backward pass, output layer")
    line(f"dL/dyhat_i = -(2/n) (y_i - yhat_i) = -(2/{n}) (y_i - yhat_i)")
    table(None, ["row", "y - yhat", "dL/dyhat"], [
        [label[row], number(worked.error[row]), number(worked.dL_dyhat[row])] for row in range(shown)
    ])
    for _, equation in explain.output_gradient_equations(worked, rows, nt):
        line(equation)

    heading("4. Backward pass, hidden layer (chain rule)")
    for equation in explain.chain_equations(worked, nt):
        line(equation)
    if worked.activated:
        line(f"through the activation, {worked.activation}, the chain gains the factor dN/dz for every unit:")
        for equation in explain.activation_rules(worked, nt):
            line(equation)
        for row in range(shown):
            line(f"row {label[row]}:")
            for equation in explain.activation_equations(worked, row, nt):
                line(equation, 4)
    dz_columns = [f"dL/dz{h + 1}" for h in hidden] if worked.activated else []
    table(None, ["row", "dL/dyhat", *(f"dL/dN{h + 1}" for h in hidden), *dz_columns], [
        [label[row], *(number(v) for v in (worked.dL_dyhat[row], *worked.dL_dN[row], *(worked.dL_dZ[row] if worked.activated else [])))]
        for row in range(shown)
    ])
    for _, equation in explain.hidden_gradient_equations(worked, rows, nt):
        line(equation)

    step = "" if worked.batch_size is None else f", the first step of epoch {worked.epoch}, on this batch"
    heading(f"5. Update, all {len(worked.params.names)} parameters (eta = {number(worked.lr)}{step})")
    table(None, ["update", "= old - eta*gradient", "= new"], [
        [rule, arithmetic, new] for _, rule, arithmetic, new in explain.update_equations(worked, nt)
    ])

    heading("6. Loss after the update")
    table(None, ["", ""], [
        [f"loss before the update (epoch {worked.epoch})", number(worked.loss)],
        ["loss after the update", number(worked.loss_after)],
        ["change", number(worked.loss_after - worked.loss)],
    ])
    line(f"The loss {explain.loss_verdict(worked)}.")


_PREDICTORS = ("model", "least_squares", "mean")


def _predictor_names(model: str, source: str) -> dict[str, str]:
    return {"model": model, "least_squares": f"least squares fitted to {source}", "mean": "the mean of y"}


def evaluation_table(console: Console, evaluation, model: str, source: str) -> Table:
    """evaluation.Evaluation as a table: the model's scores, then the baselines'."""
    n = evaluation.rows
    table = _table(console, f"{model} on {source} ({n} row{'s' if n != 1 else ''})")
    for column in ("predictor", "MSE", "RMSE", "MAE", "R^2"):
        table.add_column(column, justify="left" if column == "predictor" else "right")
    for key, name in _predictor_names(model, source).items():
        scores = getattr(evaluation, key)
        table.add_row(name, f"{scores.mse:.6g}", f"{scores.rmse:.6g}", f"{scores.mae:.6g}", f"{scores.r2:.6f}")
    table.caption = "least squares: fitted to these rows, the best a linear map can do"
    table.caption_justify = "left"
    return table


def write_evaluation_csv(stream, evaluation) -> None:
    """predictor,mse,rmse,mae,r2: one row each for the model and the two baselines, full precision."""
    stream.write("predictor,mse,rmse,mae,r2\n")
    for key in _PREDICTORS:
        scores = getattr(evaluation, key)
        stream.write(f"{key},{scores.mse!r},{scores.rmse!r},{scores.mae!r},{scores.r2!r}\n")


def evaluation_document(evaluation, model: str, dataset) -> dict:
    """Everything of an evaluation as JSON-ready data."""
    return {
        "data": dataset.source,
        "model": model,
        "features": list(dataset.features),
        "target": dataset.target,
        "rows": evaluation.rows,
        "scores": {key: asdict(getattr(evaluation, key)) for key in _PREDICTORS},
    }


def gradcheck_table(console: Console, rows, title: str = "Gradient check") -> Table:
    """One row per parameter: analytic and numeric gradient, relative error, ok or FAIL.

    `rows` are gradcheck.GradientCheck; "(rounding)", "(pattern held)" and "(kink)" mark the
    rows whose fields say so.
    """
    table = _table(console, title)
    for column in ("parameter", "analytic", "numeric", "relative error", "check"):
        table.add_column(column, justify="left" if column in ("parameter", "check") else "right")
    for row in rows:
        check = "ok" if row.ok else "FAIL"
        marks = [mark for mark, on in (("rounding", row.by_rounding), ("pattern held", row.pattern_held and not row.kink),
                                       ("kink", row.kink)) if on]
        if marks:
            check += f" ({', '.join(marks)})"
        if console.is_terminal:
            check = f"[green]{check}[/]" if row.ok else f"[bold red]{check}[/]"
        table.add_row(row.parameter, f"{row.analytic:.12g}", f"{row.numeric:.12g}", f"{row.relative_error:.1e}", check)
    return table
