"""What `fwdback train` reports: format-free tables, notes, the JSON document, the CSV rows of
--format csv and --history, and the document of the run's page (--report).

The tables are sections.Table; render/ writes them for a terminal or a page. Every
setting a sentence names is worded by the caller's `name` (errors.python_name in Python, the
flags on the command line).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import asdict, dataclass

import numpy as np

from ..classes import probabilities, share_entropy
from ..engines.rows import TrainingRows
from ..data import FEATURES, TARGET
from ..errors import python_name
from ..evaluation import FitQuality
from ..linear_map import Comparison, balanced_minimizers, compare, linear_map_formulas
from ..losses import LOSSES
from ..modelfile import Model
from ..network import forward, loss_divisor, output_symbols
from ..optimizers import RULES
from ..outputs import csv_line
from ..notation import count
from ..playback import LIVE_ROWS, epoch_orders, network_document
from ..plan import StopReason
from ..settings import BY_NAME, CONVERGENCE_WINDOW, SETTINGS, option_words
from ..rounding import beyond_rounding
from ..sections import Table, cells
from ..training import Fit, TrainingPlan, TrainingResult

TABLE_ROWS = 20
# A network of more parameters than this (about a screen's rows) has them listed a hidden unit a row.
LISTED_PARAMETERS = 24
# A loss this fraction (squared) of where training began counts as reaching zero (_converged).
RESOLVED = 16 * float(np.finfo(np.float64).eps)
# The loss curve's epoch axis is logarithmic when this share of the descent happens in the first
# EARLY_SHARE of the epochs.
EARLY_SHARE, DESCENT_SHARE = 0.05, 0.9
# A loss axis is logarithmic when the values it shows span more than this many decades (loss_scale),
# and leaves this share of its span clear beyond the lowest and the highest, within float64's range.
LOG_SCALE_DECADES, AXIS_MARGIN = 1, 0.06
SMALLEST, LARGEST = float(np.finfo(np.float64).smallest_subnormal), float(np.finfo(np.float64).max)


@dataclass
class TrainingReport:
    """Everything the outputs of `train` show. `comparison` exists for the lecture's linear
    network and loss only (one output, biases, MSE); `name` words a setting as the caller spells it."""

    fitted: Fit
    model: Model
    comparison: Comparison | None
    name: object = python_name

    @classmethod
    def of(cls, fitted: Fit, model: Model, name=python_name) -> TrainingReport:
        result = fitted.result
        comparison = None
        architecture = result.final.architecture
        if architecture.lecture and architecture.linear and LOSSES[fitted.plan.loss].lecture:
            comparison = compare(result.final, result.final_loss, fitted.rows.least_squares())
        return cls(fitted, model, comparison, name)

    @property
    def result(self) -> TrainingResult:
        return self.fitted.result

    @property
    def rows(self) -> TrainingRows:
        return self.fitted.rows

    @property
    def plan(self) -> TrainingPlan:
        return self.fitted.plan

    @property
    def units(self) -> str:
        return " (z-scores)" if self.model.scaling is not None else ""

    def fit_in_data_units(self, validation: bool = False) -> dict[str, FitQuality] | None:
        """RMSE and R^2 of each target at the final weights, in the data's units (not z-scores),
        on the training rows or the `validation` rows; None where they are not at hand.

        Rows in memory are predicted again; rows streamed or on a cluster have the linear
        network's losses: the final loss and that of predicting the mean (least squares')."""
        rows, scaling = self.rows, self.model.scaling
        if self.model.classes is not None:
            return None
        targets = self.model.targets
        y_std = np.ones(len(targets)) if scaling is None else np.broadcast_to(scaling.y_std, len(targets))
        if validation and rows.validation is None:
            return None
        held = rows.validation if validation else rows.arrays
        if held is not None:
            X, y = held
            errors = (y - forward(self.result.final, X).yhat).reshape(len(y), -1)
            y = y.reshape(len(y), -1)
            return {name: FitQuality.of_errors(float(np.mean(errors[:, j] ** 2)), float(np.var(y[:, j])), float(y_std[j]))
                    for j, name in enumerate(targets)}
        if validation or self.comparison is None:
            return None
        return {targets[0]: FitQuality.of_errors(self.result.final_loss, self.comparison.best.constant_loss, float(y_std[0]))}


    def accuracy(self, validation: bool = False) -> float | None:
        """A classifier's share of the training rows (or the `validation` rows) whose most probable
        class at the final weights is their own; None for a regressor, or rows not in memory."""
        held = self.rows.validation if validation else self.rows.arrays
        if self.model.classes is None or held is None:
            return None
        X, y = held
        predicted = np.argmax(probabilities(forward(self.result.final, X).yhat), axis=1)
        return float(np.mean(predicted == np.argmax(probabilities(y), axis=1)))


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


def loss_table(report: TrainingReport, every: int | None) -> Table:
    """The loss at sampled epochs (sampled_epochs), with its change since the row before.

    A change within the two losses' rounding (rounding.LossRounding's bounds, at the final
    weights) is rounding, not learning: it is shown as 0, and a caption says so.
    """
    result = report.result
    rounding = report.rows.loss_rounding(report.plan.loss)
    header = ["epoch", "loss (mean over batches)" if report.plan.batch_size else "loss (before update)", "change"]
    if result.val_losses is not None:
        header.append("validation loss")
    body, previous, rounded = [], None, False
    wanted = result.first_epoch - 1 + np.array(sampled_epochs(result.epochs_run, every))
    for index in np.unique(np.searchsorted(result.loss_epochs, wanted).clip(0, len(result.losses) - 1)).tolist():
        loss = float(result.losses[index])
        change = ""
        if previous is not None:
            if not beyond_rounding(loss - previous, rounding.of(result.final, loss), rounding.of(result.final, previous)):
                change, rounded = "0", True
            else:
                change = f"{loss - previous:+.4e}"
        row = [count(result.loss_epochs[index]), f"{loss:.10g}", change]
        if result.val_losses is not None:
            row.append(f"{result.val_losses[index]:.10g}")
        body.append(cells(*row))
        previous = loss
    caption = "0: within float64 rounding" if rounded else None
    return Table(cells(*header), tuple(body), ("right",) * len(header), f"Loss per epoch{report.units}", caption)


def early_descent(result: TrainingResult) -> bool:
    """Whether DESCENT_SHARE of the loss's fall came in the first EARLY_SHARE of the epochs: then
    a plot of the loss shows the epochs on a log scale."""
    losses = result.losses
    fall = float(losses[0] - losses.min())
    if not fall > 0:
        return False
    early = result.first_epoch + EARLY_SHARE * result.epochs_run
    reached = float(losses[0] - losses[result.loss_epochs <= early].min())
    return reached >= DESCENT_SHARE * fall


@dataclass(frozen=True)
class LossScale:
    """How a loss axis is drawn (every chart of the loss: SVG, page, terminal): from `low` to
    `high`, in the loss's units, margins included; logarithmic or linear."""

    low: float
    high: float
    log: bool


def loss_scale(*shown: np.ndarray | float | None) -> LossScale:
    """The loss axis that shows every value in `shown` (the curves, the final loss, the
    reference lines; None and non-finite values left out), AXIS_MARGIN of its span clear of
    each end. Logarithmic when the values are all positive and span more than LOG_SCALE_DECADES:
    on a linear axis the end of the descent would lie flat on the axis."""
    values = np.concatenate([np.ravel(np.asarray(value, dtype=float)) for value in shown if value is not None] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return LossScale(0.0, 1.0, False)
    low, high = float(values.min()), float(values.max())
    if low > 0 and high > low * 10**LOG_SCALE_DECADES:
        margin = 10 ** (AXIS_MARGIN * (math.log10(high) - math.log10(low)))
        return LossScale(max(low / margin, SMALLEST), min(high * margin, LARGEST), True)
    if high == low:
        half = abs(low) / 2 if low != 0 else 1.0
        return LossScale(low - half, high + half, False)
    margin = AXIS_MARGIN * (high - low)
    return LossScale(low - margin, high + margin, False)


def weights_table(report: TrainingReport) -> Table:
    """Each parameter's initial and final value and final gradient, a row each; for a network of
    more than LISTED_PARAMETERS parameters, its final values a row per hidden unit (units_table)."""
    result = report.result
    if result.final.vector.size > LISTED_PARAMETERS:
        return units_table(report)
    body = tuple(
        cells(name, f"{initial:.10g}", f"{final:.10g}", f"{gradient:.4e}")
        for name, initial, final, gradient in zip(
            result.initial.names, result.initial.vector, result.final.vector, result.final_gradients.vector
        )
    )
    header = cells("name", "initial", "final", "final gradient")
    return Table(header, body, ("left", "right", "right", "right"), f"Parameters{report.units}")


def units_table(report: TrainingReport) -> Table:
    """The final parameters a row per hidden unit, to 6 digits: the weights into unit Nu from each feature,
    its bias and its weights into the outputs; then a row per output, with its bias. The caption
    says where every parameter is in full."""
    params = report.result.final
    cell = lambda name, value: f"{name} = {value:.6g}"  # noqa: E731
    outputs = output_symbols(params.n_outputs)
    biases = ("bias",) if params.bias else ()
    header = ("unit", *(f"from {feature}" for feature in report.model.features), *biases, *(f"to {output}" for output in outputs))
    body = [
        (f"N{u + 1}", *map(cell, params.W_hidden_names[u], params.W_hidden[u]),
         *([cell(params.b_hidden_names[u], params.b_hidden[u])] if params.bias else []),
         *map(cell, params.W_out_names[:, u], params.W_out[:, u]))
        for u in range(params.n_hidden)
    ]
    if params.bias:
        body += [(output, *[""] * params.n_inputs, cell(name, value), *[""] * len(outputs))
                 for output, name, value in zip(outputs, params.b_outputs_names, params.b_outputs)]
    caption = (f"{params.vector.size} parameters, to 6 digits: every one's initial value, final value and final gradient "
               f"in full: {report.name('format', 'json')}")
    return Table(cells(*header), tuple(cells(*row) for row in body), ("left",) * len(header),
                 f"Parameters at the end, a row per hidden unit{report.units}", caption)


def original_linear_maps(report: TrainingReport) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
    """The network's and least squares' linear maps in the data's own units."""
    comparison, scaling = report.comparison, report.model.scaling
    network, best = (comparison.coef, comparison.intercept), (comparison.best.coef, comparison.best.intercept)
    if scaling is None:
        return network, best
    return scaling.original_linear_map(*network), scaling.original_linear_map(*best)


def linear_map_table(report: TrainingReport) -> Table:
    """Each coefficient of the network's linear map, how the weights make it, and least squares' value."""
    comparison = report.comparison
    scaled = report.model.scaling is not None
    header = ["term", "network", "value", "least squares"]
    if scaled:
        header += ["value, original units", "least squares, original units"]
    (network_coef, network_intercept), (best_coef, best_intercept) = original_linear_maps(report)
    columns = zip(
        [*report.model.features, "1"],
        [" + ".join("*".join(product) for product in formula) for formula in linear_map_formulas(report.result.final)],
        [*comparison.coef, comparison.intercept],
        [*comparison.best.coef, comparison.best.intercept],
        [*network_coef, network_intercept],
        [*best_coef, best_intercept],
    )
    body = []
    for term, formula, value, best, original, original_best in columns:
        row = [term, formula, f"{value:.10g}", f"{best:.10g}"]
        if scaled:
            row += [f"{original:.10g}", f"{original_best:.10g}"]
        body.append(cells(*row))
    title = "The network as a linear map, beside least squares" + report.units
    return Table(cells(*header), tuple(body), ("left", "left", *["right"] * (len(header) - 2)), title)


def summary_table(report: TrainingReport) -> Table:
    return Table(cells("", ""), tuple(cells(*row) for row in summary_rows(report)), ("left", "left"), "Summary")


def summary_rows(report: TrainingReport) -> list[tuple[str, str]]:
    result, training, plan, name = report.result, report.model.training, report.plan, report.name
    params = result.final
    if training.resumed_from:
        start = f"{name('resume')} {training.resumed_from}"
    elif training.init:
        start = f"{name('init')} {training.init}"
    else:
        start = f"random, seed {plan.seed}"
    rows = training.rows
    data = f"{training.data} ({rows} row{'s' if rows != 1 else ''}"
    data += f", {training.validation_rows} more held out for validation)" if training.validation_rows else ")"
    network = _network_words(params.architecture)
    chosen = f" (chosen from the data: half the largest stable step; {name('lr')} sets it)"
    summary = [
        ("data", data),
        ("network", network),
        ("epochs", f"{count(result.first_epoch)} to {count(result.last_epoch)}" if result.first_epoch > 1 else count(result.epochs_run)),
        ("learning rate (eta)", f"{plan.lr:g}" + (chosen if training.lr_chosen else "")),
        ("batch size", _batch_words(plan)),
        ("initial weights", start),
    ]
    summary += _beyond_the_lecture(plan)
    if report.model.scaling is not None:
        why = " (chosen: the columns' scales differ badly)" if report.rows.scales.bad and training.lr_chosen else ""
        scaled = "features" if report.model.classes is not None else "features and target"
        summary.append(("scaling", f"z-scores of the {scaled}{why}; losses and weights in those units"))
    summary.append((f"loss at epoch {count(result.first_epoch)}", f"{result.losses[0]:.10g}"))
    if result.last_epoch != result.first_epoch:
        summary.append((f"loss at epoch {count(result.last_epoch)}", f"{result.last_loss:.10g}"))
    summary.append(("final loss (at the final weights)", f"{result.final_loss:.10g}"))
    if result.final_val_loss is not None:
        summary.append(("final validation loss", f"{result.final_val_loss:.10g}"))
    for prefix, fits in (("", report.fit_in_data_units()), ("validation ", report.fit_in_data_units(validation=True))):
        for target, fit in (fits or {}).items():
            of = "" if len(fits) == 1 else f" of {target}"
            summary.append((f"{prefix}RMSE{of}, in {target}'s units", f"{fit.rmse:.10g}"))
            summary.append((f"{prefix}R^2{of}", f"undefined ({target} is constant)" if fit.r2 is None else f"{fit.r2:.10g}"))
    for prefix, accuracy in (("", report.accuracy()), ("validation ", report.accuracy(validation=True))):
        if accuracy is not None:
            summary.append((f"{prefix}accuracy", f"{accuracy:.10g} (the share of rows whose most probable class is theirs)"))
    summary.append(("stopped", stop_description(result, plan, name)))
    comparison = report.comparison
    if comparison is not None:
        summary += [
            ("best achievable loss (least squares)", f"{comparison.best.loss:.10g}"),
            ("gap to the best", _gap(report)),
            (f"loss of predicting {_the_means(report.model)}", f"{comparison.best.constant_loss:.10g}"),
        ]
    summary.append(("time", f"{result.seconds:.3f} s"))
    return summary


def _network_words(architecture) -> str:
    """"3 inputs, 2 hidden units (identity), 1 output", and what else sets the network apart."""
    a = architecture
    outputs = f"{a.n_outputs} output{'s' if a.n_outputs != 1 else ''}"
    if a.out_activated:
        outputs += f" ({a.output_activation})"
    return f"{a.n_inputs} inputs, {a.n_hidden} hidden units ({a.activation}), {outputs}" + ("" if a.bias else ", no biases")


def _batch_words(plan) -> str:
    if not plan.batch_size:
        return "all rows (full batch)"
    return f"{plan.batch_size}" + ("" if plan.shuffle else ", in the file's order")


def _beyond_the_lecture(plan) -> list[tuple[str, str]]:
    """Summary rows for the settings beyond the lecture's, where they are not its."""
    rows = []
    if not LOSSES[plan.loss].lecture:
        rows.append(("loss", f"{LOSSES[plan.loss].formula} ({plan.loss})"))
    rule = RULES[plan.optimizer]
    if not rule.lecture:
        rows.append(("optimizer", f"{plan.optimizer} ({rule.settings_words(plan)})"))
    if plan.freeze:
        rows.append(("held fixed", ", ".join(plan.freeze)))
    return rows


def _the_means(model: Model) -> str:
    """"the mean of price", or "the means of y1, y2": what the constant prediction predicts (a
    classifier's: each class's share of the rows)."""
    if model.classes is not None:
        return "each class's share of the rows as its probability"
    return f"the mean of {model.target}" if isinstance(model.target, str) else f"the means of {', '.join(model.targets)}"


def _gap(report: TrainingReport) -> str:
    """The gap to the best achievable loss, and how much of it that is; 0 where it is within the
    rounding of the two losses (rounding.LossRounding's bounds, at the final weights and at
    weights that compute the least-squares map), which can make it come out negative."""
    comparison = report.comparison
    best = comparison.best
    rounding = report.rows.loss_rounding(report.plan.loss)
    fit = balanced_minimizers(best.coef, best.intercept, report.result.final.n_hidden)[0]
    if not beyond_rounding(comparison.gap, rounding.of(report.result.final, comparison.final_loss), rounding.of(fit, best.loss)):
        return "0 (within float64 rounding)"
    relative = comparison.relative_gap
    return f"{comparison.gap:.3e}" + ("" if relative is None else f" ({relative:.2%})")


def stop_description(result: TrainingResult, plan: TrainingPlan, name=python_name) -> str:
    """Why training ended, in words."""
    kept = f"; kept the weights of the best epoch, {count(result.best_epoch)}" if result.best_epoch is not None else ""
    if result.stop is StopReason.CONVERGED:
        return (f"converged at epoch {count(result.last_epoch)}: the loss moved by at most {plan.tol:.2g} of itself "
                f"({name('tol')}), or by no more than float64's rounding of it, over {CONVERGENCE_WINDOW} epochs")
    if result.stop is StopReason.EARLY_STOPPING:
        watched = "validation" if result.val_losses is not None else "training"
        return (f"early stopping: the {watched} loss did not improve by more than {plan.min_delta:g} for "
                f"{count(plan.patience)} epochs; kept the weights of epoch {count(result.best_epoch)}")
    if result.stop is StopReason.INTERRUPTED:
        return f"interrupted after epoch {count(result.last_epoch)}{kept}"
    return f"ran every epoch{kept}"


def training_document(report: TrainingReport, model_path: str) -> dict:
    """Everything about a training run as JSON-ready data, floats at full precision."""
    result, model, training = report.result, report.model, report.model.training
    history = [{"epoch": epoch, "loss": loss} for epoch, loss in zip(result.loss_epochs.tolist(), result.losses.tolist())]
    if result.val_losses is not None:
        for entry, val in zip(history, result.val_losses.tolist()):
            entry["val_loss"] = val
    return {
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
        "lr_chosen": training.lr_chosen,
        "seed": report.plan.seed,
        "batch_size": report.plan.batch_size,
        "tol": report.plan.tol,
        "activation": result.final.activation,
        "hidden": result.final.n_hidden,
        "features": list(model.features),
        "target": model.target,
        "rows": training.rows,
        "validation_rows": training.validation_rows,
        "best_epoch": result.best_epoch,
        "stop": result.stop.value,
        "stop_reason": stop_description(result, report.plan, report.name),
        "scaling": None if model.scaling is None else model.scaling.as_dict(model.features, model.target),
        "seconds": result.seconds,
        "model": model_path,
        "yardstick": None if report.comparison is None else _yardstick_document(report),
        "fit": _fit_document(report.fit_in_data_units()),
        "validation_fit": _fit_document(report.fit_in_data_units(validation=True)),
        **({} if model.classes is None else {"classes": model.classes.listed,
                                             "accuracy": report.accuracy(),
                                             "validation_accuracy": report.accuracy(validation=True)}),
    }


def _fit_document(fits: dict | None) -> dict | None:
    return None if fits is None else {target: asdict(fit) for target, fit in fits.items()}


def _yardstick_document(report: TrainingReport) -> dict:
    comparison = report.comparison
    names = [*report.model.features, "intercept"]
    (coef, intercept), (best_coef, best_intercept) = original_linear_maps(report)
    return {
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


def training_notes(report: TrainingReport) -> list[str]:
    """What a user should know about how training ended, in plain sentences for stderr."""
    notes = []
    name = report.name
    if report.result.stop is StopReason.EARLY_STOPPING:
        notes.append(f"Note: {stop_description(report.result, report.plan, name)}.")
    comparison = report.comparison
    if comparison is None:
        return notes + _worse_than_the_mean(report)
    features = report.model.features
    if not _converged(report):
        relative = comparison.relative_gap
        above = "above zero, the best achievable loss here" if relative is None else (
            f"{relative:.1%} above the best achievable loss ({comparison.best.loss:.6g})"
        )
        notes.append(f"Note: training stopped at loss {comparison.final_loss:.6g}, {above}; {_what_would_help(report)}.")
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


def _converged(report: TrainingReport) -> bool:
    """Whether the linear network got as far as any weights can: within 1% of the best achievable
    loss (linear_map.Comparison), or at a loss RESOLVED^2 of the squared size of y or of the first
    epoch's predictions (y = 0 leaves only the latter). Not a rounding bound: gradient descent
    stalls where its steps fall below the weights' last bit, which the learning rate sets, a few
    times above the loss's rounding (rounding.LossRounding.zero); this says that any loss so
    far below where training began is nothing."""
    comparison = report.comparison
    scale = max(comparison.best.zero_loss, float(report.result.losses[0]))
    return comparison.converged or comparison.final_loss <= RESOLVED**2 * scale


def _what_would_help(report: TrainingReport) -> str:
    """What would take training closer to the best loss, by why it stopped short of it."""
    name, result = report.name, report.result
    if report.rows.scales.bad and report.model.scaling is None:
        return f"the columns' scales differ badly: {name('standardize', True)} would help"
    if result.stop is StopReason.EARLY_STOPPING:
        return f"early stopping ended it: a larger {name('patience')} would help"
    if report.plan.batch_size:
        return (f"the noise of mini-batches keeps it from settling: a smaller {name('lr')}, or full batches "
                f"(without {name('batch_size')}), would help")
    if result.stop is StopReason.CONVERGED:
        return f"the loss moved too little for {name('tol')}: a smaller {name('tol')} or a larger {name('lr')} would help"
    return f"more {name('epochs')} or a larger {name('lr')} would help"


# A loss within this fraction of another is no lower, as 6 significant digits show it.
SAME_TO_SIX_DIGITS = 1e-6


def _worse_than_the_mean(report: TrainingReport) -> list[str]:
    """The note for a network (with an activation: no least squares to compare with) whose final
    loss is no lower than that of predicting the mean of y (a classifier's: each class's share of
    the rows, whose log loss is their entropy, -sum_j p_j log p_j): it learned nothing of use."""
    if report.rows.arrays is None:
        return []
    y = report.rows.arrays[1]
    with np.errstate(all="ignore"):
        if report.model.classes is not None:
            mean_loss = share_entropy(probabilities(y).mean(axis=0))
        else:
            mean_loss = float(np.mean((y - y.mean(axis=0)) ** 2)) * (1 if y.ndim == 1 else y.shape[1])
            mean_loss *= len(y) / loss_divisor(report.plan.loss, len(y))
    final, name = report.result.final_loss, report.name
    if not (mean_loss > 0 and final >= mean_loss * (1 - SAME_TO_SIX_DIGITS)):
        return []
    if report.model.scaling is None and report.rows.scales.bad:
        fix = f"{name('standardize', True)} would put the columns on one scale"
    else:
        fix = (f"more {name('epochs')}, another {name('seed')}, a smaller {name('lr')} or more hidden units "
               f"({name('hidden')}) may do better")
    return [f"Note: the final loss, {final:.6g}, is no lower than that of predicting {_the_means(report.model)} ({mean_loss:.6g}): "
            f"the network has learned nothing of use; {fix}."]


def loss_csv_header(validation: bool) -> str:
    """The header of `train --format csv`: epoch,loss (and val_loss with a validation split)."""
    return csv_line(["epoch", "loss", "val_loss"] if validation else ["epoch", "loss"])


def loss_csv_row(record, validation: bool) -> str:
    """One epoch (training.EpochRecord) of `train --format csv`, in round-trip precision."""
    if validation:
        return f"{record.number},{record.loss!r},{record.val_loss!r}\n"
    return f"{record.number},{record.loss!r}\n"


def history_header(names, state_names: tuple[str, ...] = ()) -> str:
    """The --history header: epoch, loss, the parameters by name, then dL/d of each, then the
    optimizer's state after the epoch's updates (v_w1, ...; m_w1, ..., s_w1, ...) where it keeps one."""
    state = [f"{key}_{name}" for key in state_names for name in names]
    return csv_line(["epoch", "loss", *names, *(f"dL/d{name}" for name in names), *state])


def history_row(record) -> str:
    """One --history row: the epoch, its loss, the parameters at its start, its gradients, the
    optimizer's state after the epoch (training.EpochRecord)."""
    arrays = [record.params.vector, record.gradients.vector, *record.optimizer_state.values()]
    values = [repr(record.loss), *(repr(value) for array in arrays for value in array.tolist())]
    return f"{record.number}," + ",".join(values) + "\n"


def run_page_document(report: TrainingReport, samples: dict, rows: dict | None, steps: dict | None = None) -> dict:
    """Everything the run's page shows, as JSON-ready data. `samples` is playback.EpochSamples'
    document (the kept epochs), `rows` playback.rows_document (the rows, all of them for a page
    that computes) or None, `steps`
    playback.StepSamples' (the kept updates of a mini-batch run) or None."""
    result, model = report.result, report.model
    params = result.final
    shape = f"{params.n_inputs}-{params.n_hidden}-{params.n_outputs}"
    activation = f" with {params.activation} hidden units" if params.activated else ""
    if params.out_activated:
        activation += f"{' and' if activation else ' with'} {params.output_activation} output{'s' if params.n_outputs > 1 else ''}"
    return {
        "title": f"fwdback: the {shape} network{activation} on {model.training.data}",
        "data": model.training.data,
        "essentials": _essentials(report),
        "summary": [row for row in summary_rows(report) if row[0] != "time"],
        "network": network_document(params, model.features, model.target, report.plan.freeze),
        "epochs": samples,
        "steps": steps,
        "plan": asdict(report.plan),
        "commands": page_commands(report),
        "loss_divisor": LOSSES[report.plan.loss].divisor_words,
        "classes": _classes_document(model),
        "rule": _rule_document(RULES[report.plan.optimizer]),
        "rows": rows,
        "full_batch": report.plan.batch_size is None,
        "live_rows": LIVE_ROWS,
        "orders": None if rows is None or not rows["live"] else epoch_orders(report.plan, report.rows.count, result.epochs_run),
        "training_rows": report.rows.count,
        "last_epoch": result.last_epoch,
        "epochs_run": result.epochs_run,
        "every_epoch": len(samples["epochs"]) == result.epochs_run,
        "units": f"In z-scores, as training saw the rows ({report.name('standardize', True)})." if model.scaling is not None
                 else "In the data's own units.",
    }


def _classes_document(model: Model) -> dict | None:
    """A classifier's target column and its class labels in sorted order (classes.Classes), which the
    page's rows hold as the network's targets (0/1 for bce, one-hot for cross-entropy): the page
    names and colours the classes by them and saves each row's label. None for a regressor."""
    if model.classes is None:
        return None
    labels = [label.item() if hasattr(label, "item") else label for label in model.classes.labels]
    return {"column": model.targets[0], "labels": labels}


def _rule_document(rule) -> dict:
    """What the page's update panel needs of the run's rule (optimizers.RULES): whether it is the
    lecture's w - eta g, the state it keeps (v; m, s), and whether its step looks ahead (Nesterov)."""
    return {"lecture": rule.lecture, "state": list(rule.state_names), "look_ahead": getattr(rule, "look_ahead", False)}


def page_commands(report: TrainingReport) -> dict[str, str]:
    """The flags of `fwdback explain rows.csv --init WEIGHTS` and `fwdback train rows.csv --init
    WEIGHTS --epochs E` that compute what the live page shows and trains, `rows.csv` and WEIGHTS
    being the files it saves: the run's network and settings that differ from their default, that
    the command takes and that the run uses (settings.SETTINGS says which), spelled as the command
    line spells them. The page decides some itself: rows.csv holds the rows training saw, in the
    units it saw them in (so the run's learning rate and --no-standardize), none held out again
    (no --val-split); it trains until paused (--tol 0, no --patience, epochs as many as it made),
    and explains the full batch at the weights shown (no --batch-size). A classifier's output
    activation is its loss's, given by --loss (and softmax is no --output-activation)."""
    params = report.result.final
    implied = LOSSES[report.plan.loss].classifies  # a classifier's output is its loss's link, which --loss gives
    page = {"hidden": params.n_hidden, "activation": params.activation,
            "output_activation": BY_NAME["output_activation"].default if implied else params.output_activation,
            "bias": params.bias, **asdict(report.plan)} | {"standardize": False, "val_split": None, "patience": None,
                                                          "tol": 0, "epochs": BY_NAME["epochs"].default}
    columns = [_option(name, value) for name, value, default in (("features", tuple(report.model.features), FEATURES),
                                                                  ("target", report.model.target, TARGET)) if value != default]

    def flags(command: str, values: dict) -> str:
        return " ".join(columns + [
            _option(setting.name, values[setting.name]) for setting in SETTINGS
            if command in setting.commands and values.get(setting.name, setting.default) != setting.default
            and (setting.used_with is None or setting.used_with.holds(values))])

    return {"explain": flags("explain", page | {"batch_size": None}), "train": flags("train", page)}


def _option(name: str, value) -> str:
    """option_words' spelling, its value quoted for a POSIX shell where it needs to be."""
    option, _, shown = option_words(name, value).partition(" ")
    return f"{option} {shlex.quote(shown)}" if shown else option


def _essentials(report: TrainingReport) -> str:
    """One line of the run: epochs, step, final loss, how it stopped."""
    result = report.result
    chosen = " (chosen from the data)" if report.model.training.lr_chosen else ""
    stop = {StopReason.EPOCHS: "ran every epoch", StopReason.CONVERGED: "converged",
            StopReason.EARLY_STOPPING: "early stopping", StopReason.INTERRUPTED: "interrupted"}[result.stop]
    return (f"{count(result.epochs_run)} epochs, learning rate η = {report.plan.lr:g}{chosen}, final loss "
            f"{result.final_loss:.6g}, {stop}")