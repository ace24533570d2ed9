"""One epoch worked by hand: every value network.py computes, and the sections that show it.

`work_epoch` runs the network (forward, loss, backward, the optimizer's update) and keeps every
intermediate value, the backward pass's per-row terms included. `explanation` writes them out
as format-free sections (sections.py) whose equations are notation trees, so that each view
(render/) writes the same document its own way: plain text, Markdown with LaTeX, HTML.

Any k inputs, H hidden units and m outputs are named as the lecture names its 3-2-1 network:
inputs x1..xk, hidden units N1..NH with weights w1..w(kH) (unit 1's k weights first) and
biases b1..bH, then the output yhat (yhat1..yhatm for several, with targets y1..ym) with its
weights and bias. With an activation, z_h = w . x + b is what goes into unit h and
N_h = act(z_h) what comes out; with an output activation, a_j = w . N + b goes into output j
and yhat_j = out(a_j) comes out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .engines import MiniBatches
from .engines.rows import InMemoryRows
from .errors import EpochNotReached, LossOverflow, StepNotInEpoch, TrainingDiverged
from .network import BackwardPass, ForwardPass, Gradients, Parameters, as_rows, backward, forward, loss, loss_divisor, output_symbols
from .notation import (
    Call, Dots, Expr, Frac, Neg, Num, Paren, Partial, Power, Raw, Scaled, Sqrt, Square, StateOf, Step, Sub, SumOver,
    Sym, add, count, equation, grad, mul, number, seq,
)
from .optimizers import Optimizer, OptimizerSettings, OptimizerStep
from .plan import StopReason, TrainingPlan
from .rounding import LossRounding, beyond_rounding
from .scaling import Scaling
from .sections import Block, Code, Equations, Heading, Paragraph, Strong, Table, Text, text
from .stepsize import suggest_lr
from .training import Divergence, EpochRecord, check_memory, fit_rows, optimizer_for, validation_split

# A sum over more rows than are shown writes out this many terms, then "...".
SUM_TERMS = 3
# A mini-batch's row numbers are listed up to this many, then "...".
LISTED_ROWS = 20


@dataclass
class WorkedEpoch:
    """Update `step` of epoch `epoch`, with every intermediate value.

    params are the weights at the start of the step, new_params those after it. The step is
    full-batch over the training rows, or with `batch_size` the epoch's step-th mini-batch; X,
    y and the passes' per-row arrays hold the rows of that step, n of them.
    X : shape (n, k), y : shape (n,), or (n, m) for m outputs
    forward, backward       network.forward's and network.backward's results for these rows
    loss, loss_after        the loss of these rows before and after the step (`convention`'s)
    row_numbers : (n,)      each row's 1-based row number in the data file
    n_train                 the rows training sees (the mini-batch is drawn from them)
    scaling                 how the rows were standardised, or None
    validation_rows         rows held out for validation (they take no part in the step)
    step, steps             which update of the epoch this is, of how many; `shuffle`: in a
                            shuffled order (else the file's)
    optimizer, update       the update rule and what it did (its state after the step, each shape (P,))
    state_before            the rule's state before the step: {"v": (P,)}, {"m": (P,), "s": (P,)}, {}
    frozen                  the names of the parameters that keep their values
    """

    epoch: int
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: Parameters
    forward: ForwardPass
    backward: BackwardPass
    loss: float
    new_params: Parameters
    loss_after: float
    row_numbers: np.ndarray
    n_train: int
    batch_size: int | None = None
    scaling: Scaling | None = None
    validation_rows: int = 0
    step: int = 1
    steps: int = 1
    shuffle: bool = True
    convention: str = "mse"
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    update: OptimizerStep | None = None
    state_before: dict = field(default_factory=dict)
    frozen: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def k(self) -> int:
        return self.params.n_inputs

    @property
    def hidden(self) -> int:
        return self.params.n_hidden

    @property
    def m(self) -> int:
        return self.params.n_outputs

    @property
    def activation(self) -> str:
        return self.params.activation

    @property
    def activated(self) -> bool:
        """Whether the hidden layer has an activation (anything but the lecture's identity)."""
        return self.activation != "identity"

    @property
    def output_activation(self) -> str:
        return self.params.output_activation

    @property
    def out_activated(self) -> bool:
        """Whether the outputs have an activation (the lecture's have none)."""
        return self.output_activation != "identity"

    @property
    def outputs(self) -> tuple[str, ...]:
        """yhat, or yhat1..yhatm."""
        return output_symbols(self.m)

    @property
    def targets(self) -> tuple[str, ...]:
        """y, or y1..ym."""
        return tuple(output[0] + output[4:] for output in self.outputs)

    @property
    def into_outputs(self) -> tuple[str, ...]:
        """What goes into each output: yhat itself without an output activation, else a (a1..am)."""
        if not self.out_activated:
            return self.outputs
        return ("a",) if self.m == 1 else tuple(f"a{j}" for j in range(1, self.m + 1))

    @property
    def Y(self) -> np.ndarray:
        """shape (m, n): the targets, a row per output."""
        return as_rows(self.y)

    @property
    def error(self) -> np.ndarray:
        """y - yhat, shaped as y."""
        return self.y - self.forward.yhat

    @property
    def E(self) -> np.ndarray:
        """shape (m, n): y_j - yhat_j, a row per output."""
        return self.Y - self.forward.Yhat

    @property
    def factor(self) -> float:
        """The loss convention's derivative factor 2/d(n): dL/dyhat_i = -factor (y_i - yhat_i)."""
        return 2.0 / loss_divisor(self.convention, self.n)

    @property
    def gradients(self) -> Gradients:
        return self.backward.gradients

    @property
    def numbered_in_order(self) -> bool:
        """Whether the rows are the data file's rows 1..n, in order."""
        return np.array_equal(self.row_numbers, np.arange(1, self.n + 1))


def work_epoch(
    rows: InMemoryRows,
    params: Parameters,
    plan: TrainingPlan,
    epoch: int = 1,
    row_numbers: np.ndarray | None = None,
    step: int = 1,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> WorkedEpoch:
    """Train from `params` as `fwdback train` would up to update `step` of epoch `epoch`, then keep
    every value of that update.

    `rows` are the rows training sees (split and scaled) and `plan` the training plan with its
    choices made (training.resolve); it shapes the epochs before, which run whatever the
    convergence stop would say (epoch `epoch` is asked for), and the steps of epoch `epoch`
    before `step`, with the same optimizer, so that its state is the run's. The explained step
    is full-batch without plan.batch_size (its one step); with it, the step-th mini-batch of
    epoch `epoch`, in the order train visits that epoch's rows. `row_numbers` : shape (n,) are the
    rows' numbers in the data file (default 1..n). `on_epoch` is called after each epoch before
    epoch `epoch`. Raises StepNotInEpoch for a step beyond the
    epoch's updates, LossOverflow or TrainingDiverged when the loss overflows, EpochNotReached
    when early stopping would end training before epoch `epoch`.
    """
    X, y, lr, batch_size = rows.X, rows.y, plan.lr, plan.batch_size
    row_numbers = np.arange(1, len(y) + 1) if row_numbers is None else np.asarray(row_numbers)
    check_memory(params.vector.size, params.n_hidden, len(y), batch_size or len(y), arrays_per_row=10)
    batches = [np.arange(len(y))] if batch_size is None else MiniBatches(
        X, y, batch_size, plan.seed, plan.shuffle, plan.loss).batches(epoch)
    if step > len(batches):
        raise StepNotInEpoch(step, len(batches), epoch, len(y), batch_size)
    start, optimizer = _start_of_step(rows, params, plan, epoch, batches[: step - 1], on_epoch)
    chosen = batches[step - 1]
    X_step, y_step = (X, y) if batch_size is None else (X[chosen], y[chosen])
    with np.errstate(all="ignore"):
        fwd = forward(start, X_step)
        loss_before = loss(y_step, fwd.yhat, plan.loss)
        back = backward(start, X_step, y_step, fwd, plan.loss)
        state_before = {name: values.copy() for name, values in optimizer.state.items()}
        update = optimizer.explained_step(start, back.gradients)
        loss_after = loss(y_step, forward(update.params, X_step).yhat, plan.loss)
    where = "at the initial weights" if (epoch, step) == (1, 1) else f"at the start of epoch {count(epoch)}"
    if not np.isfinite(loss_before):
        raise LossOverflow(loss_before, where if step == 1 else f"{where}, step {step}")
    if not (np.isfinite(loss_after) and np.isfinite(update.params.vector).all()):
        batched = None if batch_size is None else (X, batch_size)
        raise TrainingDiverged(epoch, loss_after, suggest_lr(rows.statistics, params, lr, batched), rows.scaling is not None)
    return WorkedEpoch(
        epoch=epoch, lr=lr, X=X_step, y=y_step, params=start, forward=fwd, backward=back, loss=loss_before,
        new_params=update.params, loss_after=loss_after, row_numbers=row_numbers[chosen], n_train=len(y),
        batch_size=batch_size, scaling=rows.scaling, validation_rows=0 if rows.validation is None else len(rows.validation[1]),
        step=step, steps=len(batches), shuffle=plan.shuffle, convention=plan.loss,
        optimizer=OptimizerSettings(plan.optimizer, plan.momentum, plan.beta1, plan.beta2, plan.epsilon),
        update=update, state_before=state_before, frozen=tuple(name for name in start.names if name in plan.freeze),
    )


def _start_of_step(
    rows: InMemoryRows, params: Parameters, plan: TrainingPlan, epoch: int, earlier: list[np.ndarray],
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> tuple[Parameters, Optimizer]:
    """The weights after epoch-1 epochs of the plan, every one of them run, and then the
    `earlier` batches of epoch `epoch` (row indices each); and the optimizer, with its state there."""
    state = None
    if epoch > 1:
        result = fit_rows(rows, params, plan.replace(epochs=epoch - 1, tol=0.0), on_epoch=on_epoch).result
        if result.stop is StopReason.EARLY_STOPPING:
            watched = "validation" if rows.validation is not None else "training"
            raise EpochNotReached(epoch, result.last_epoch, watched, plan.min_delta, plan.patience)
        if result.last is not result.final:
            # Epoch `epoch` starts from the last update's weights, not from the best epoch's that early stopping
            # keeps: they are checked for divergence as the end of a run without early stopping checks them.
            divergence = Divergence(rows.objective(params, plan), params, plan, 1)
            divergence.check(1, float(result.losses[0]))
            divergence.check(epoch, divergence.objective.loss_and_gradients(result.last)[0])
        params, state = result.last, result.optimizer_state
    optimizer = optimizer_for(plan, params, state)
    with np.errstate(all="ignore"):
        for batch in earlier:
            X, y = rows.X[batch], rows.y[batch]
            params = optimizer.step(params, backward(params, X, y, forward(params, X), plan.loss).gradients)
    return params, optimizer


def training_row_numbers(n: int, plan: TrainingPlan) -> np.ndarray:
    """The 1-based data-file numbers of the n rows training keeps (training.validation_split), in its order."""
    split = validation_split(n, plan)
    return np.arange(1, n + 1) if split is None else split[1] + 1


def explain_document(worked: WorkedEpoch, features, target="y") -> dict:
    """Every value of the worked step as JSON-ready data, floats at full precision.

    "rows" holds every row of the step (not only those a table shows): x1..xk are the
    lecture's names for the columns in "features", y (y1..ym) for those in `target` (a name or
    a list of names); "row" is the row's number in the data file. z1..zH, dN1_dz1.. and
    dL_dz1.. are there when the hidden layer has an activation, a, dyhat_da and dL_da (a1, ...
    for several outputs) when the outputs have one; dyhat_dN1.. (dyhat1_dN1, ...) is the chain's
    middle factor, the output's slope times the unit's output weight.
    """
    rows = _document_rows(worked)
    batch = None
    if worked.batch_size is not None:
        batch = {"size": worked.batch_size, "rows": worked.row_numbers.tolist(),
                 "first_of_epoch": worked.epoch if worked.step == 1 else None,
                 "step": worked.step, "steps": worked.steps, "shuffled": worked.shuffle}
    return {
        "epoch": worked.epoch,
        "step": worked.step,
        "steps": worked.steps,
        "lr": worked.lr,
        "n": worked.n,
        "features": list(features),
        "target": target if isinstance(target, str) else list(target),
        "activation": worked.activation,
        "hidden": worked.hidden,
        "outputs": worked.m,
        "output_activation": worked.output_activation,
        "bias": worked.params.bias,
        "loss_convention": worked.convention,
        "derivative_factor": worked.factor,
        "standardized": worked.scaling is not None,
        "scaling": None if worked.scaling is None else worked.scaling.as_dict(tuple(features), target),
        "training_rows": worked.n_train,
        "validation_rows": worked.validation_rows,
        "batch": batch,
        "weights": worked.params.as_dict(),
        "rows": rows,
        "loss": worked.loss,
        "gradients": worked.gradients.as_dict(),
        "frozen": list(worked.frozen),
        "optimizer": _optimizer_document(worked),
        "weights_after": worked.new_params.as_dict(),
        "loss_after": worked.loss_after,
    }


def _document_rows(worked: WorkedEpoch) -> list[dict]:
    """explain_document's "rows": every per-row value of the step, by name."""
    fwd, back = worked.forward, worked.backward
    units = range(1, worked.hidden + 1)
    several = worked.m > 1
    keys = ["row", *_input_names(worked), *worked.targets]
    blocks = [worked.row_numbers, worked.X, worked.Y.T]
    if worked.activated:
        keys += [f"z{u}" for u in units]
        blocks.append(fwd.Z.T)
    errors = [f"error{j}" for j in range(1, worked.m + 1)] if several else ["error"]
    keys += [*(f"N{u}" for u in units), *worked.outputs, *errors, *(f"dL_d{out}" for out in worked.outputs),
             *(f"dL_dN{u}" for u in units)]
    blocks += [fwd.N.T, fwd.Yhat.T, worked.E.T, back.dL_dYhat.T, back.dL_dN.T]
    if worked.activated:
        keys += [*(f"dN{u}_dz{u}" for u in units), *(f"dL_dz{u}" for u in units)]
        blocks += [back.dN_dZ.T, back.dL_dZ.T]
    if worked.out_activated:
        pairs = list(zip(worked.outputs, worked.into_outputs))
        keys += [*worked.into_outputs, *(f"d{out}_d{a}" for out, a in pairs), *(f"dL_d{a}" for _, a in pairs)]
        blocks += [fwd.A.T, back.dYhat_dA.T, back.dL_dA.T]
    keys += [f"d{out}_dN{u}" for out in worked.outputs for u in units]
    blocks.append(_output_slopes(worked).reshape(-1, worked.n).T)
    rows = [dict(zip(keys, values)) for values in np.column_stack(blocks).tolist()]
    for row in rows:
        row["row"] = int(row["row"])
    return rows


def _output_slopes(worked: WorkedEpoch) -> np.ndarray:
    """shape (m, H, n): dyhat_j/dN_h of every row, the chain's middle factor: output j's slope
    dyhat_j/da_j (1 without an output activation) times its weight from unit h."""
    slope = np.ones_like(worked.forward.A) if worked.backward.dYhat_dA is None else worked.backward.dYhat_dA
    return slope[:, None, :] * worked.params.W_out[:, :, None]


def _optimizer_document(worked: WorkedEpoch) -> dict:
    """The update rule, its hyper-parameters, the update's number t, and its state before and
    after the step (and Adam's bias-corrected moments), by parameter name."""
    settings, update = worked.optimizer, worked.update
    names = worked.params.names
    by_name = lambda values: dict(zip(names, np.asarray(values).tolist()))  # noqa: E731
    document = {"name": settings.name, "t": update.t}
    if settings.name in ("momentum", "nesterov"):
        document["momentum"] = settings.momentum
    if settings.name == "adam":
        document |= {"beta1": settings.beta1, "beta2": settings.beta2, "epsilon": settings.epsilon}
    if settings.state_names:
        document["before"] = {state: by_name(worked.state_before[state]) for state in settings.state_names}
        document["after"] = {state: by_name(update.state[state]) for state in settings.state_names}
    if update.corrected is not None:
        document["corrected"] = {f"{state}hat": by_name(values) for state, values in update.corrected.items()}
    return document


@dataclass
class Explanation:
    """A worked epoch and its sections, as Python shows them: Markdown with LaTeX
    (`markdown()`, `_repr_markdown_`) or HTML with MathML (`html()`, `_repr_html_`, which a
    notebook shows), and every value as data (`document()`)."""

    worked: WorkedEpoch
    blocks: list[Block]
    features: tuple[str, ...]
    target: str = "y"

    def markdown(self) -> str:
        from .render.markdown import markdown

        return markdown(self.blocks)

    def html(self) -> str:
        """An HTML fragment: the sections, their equations in MathML."""
        from .render.html import sections_html

        return f'<div class="fwdback-worked">{sections_html(self.blocks, deeper=2)}</div>'

    def document(self) -> dict:
        return explain_document(self.worked, self.features, self.target)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        return self.html()


# --- the document ---------------------------------------------------------------------------

# The update rules by name, as a heading says them.
RULE_NAMES = {"gd": "gradient-descent", "momentum": "momentum", "nesterov": "Nesterov momentum", "adam": "Adam"}
# The loss conventions in words.
LOSS_WORDS = {
    "mse": "the mean of the squared errors", "half-mse": "half the mean of the squared errors",
    "sse": "the sum of the squared errors", "half-sse": "half the sum of the squared errors",
}
FROZEN = Raw("frozen: kept", r"\text{frozen: kept}", "<mtext>frozen: kept</mtext>")


def explanation(
    worked: WorkedEpoch, features, rows: int, target="y", source: str | None = None, start: Text = ()
) -> list[Block]:
    """The worked step as sections: lecture notes with the user's numbers.

    `rows` rows are shown in the forward pass; every sum runs over all rows of the step, with
    its first terms written out. `target` is the target column's name, or a list of them (one
    an output). `source` (the data's name) and `start` (where the weights came from, a path
    as Code: "from ", Code("w.json")) go into the opening paragraph.
    """
    shown = min(rows, worked.n)
    terms = worked.n if worked.n <= rows else min(rows, SUM_TERMS)
    return [
        *_opening(worked, features, (target,) if isinstance(target, str) else tuple(target), source, start),
        *_weights_section(worked),
        *_forward_section(worked, shown),
        *_loss_section(worked, terms),
        *_output_layer_section(worked, shown, terms),
        *_hidden_layer_section(worked, shown, terms),
        *_update_section(worked),
        *_loss_after_section(worked),
    ]


def _opening(worked: WorkedEpoch, features, targets: tuple[str, ...], source: str | None, start: Text) -> list[Block]:
    step = "" if worked.step == 1 else f", step {worked.step} of {worked.steps},"
    blocks = [
        Heading(f"Epoch {count(worked.epoch)}{step} of forward and backward propagation, worked by hand", level=1),
        Paragraph(text(network_description(worked), " on ", *_data_phrase(worked, source), ", learning rate ",
                       equation(Sym("eta"), Num(worked.lr)), *((", initial weights ", *start) if start else ()), ".")),
    ]
    inputs = _input_names(worked)
    if tuple(features) != inputs or targets != worked.targets:
        mapping = []
        for lecture, column in zip(inputs, features):
            mapping += [", " if mapping else "", Sym(lecture), " is column ", Code(column)]
        for index, (lecture, column) in enumerate(zip(worked.targets, targets)):
            mapping += [", " if index else "; ", Sym(lecture), " is column ", Code(column)]
        blocks.append(Paragraph(text(*mapping, ".")))
    blocks += [Paragraph(note) for note in (*_setting_notes(worked, features, targets), *_network_notes(worked))]
    blocks.append(Equations(tuple(_network_equations(worked)), together=True))
    if worked.activated:
        activation = worked.activation
        blocks.append(Paragraph(text(
            f"The hidden units apply {activation}: ", Sym("zh"), " is what goes into unit ", Sym("h"), " and ",
            equation(Sym("Nh"), Call(activation, Sym("zh"))), " what comes out; the backward pass gains the "
            "activation's slope ", equation(Partial(Sym("Nh"), Sym("zh")), _slope(activation, "h")), ".",
        )))
    if worked.out_activated:
        out = worked.output_activation
        yhat, a = ("yhatj", "aj") if worked.m > 1 else ("yhat", "a")
        where = (" goes into output ", Sym("j")) if worked.m > 1 else (" goes into the output",)
        blocks.append(Paragraph(text(
            f"The output{'s apply' if worked.m > 1 else ' applies'} {out}: ", Sym(a), " is what", *where, " and ",
            equation(Sym(yhat), Call(out, Sym(a))), " what comes out; the backward pass gains its slope ",
            equation(Partial(Sym(yhat), Sym(a)), _out_slope(out, yhat)), ".",
        )))
    return blocks


def network_description(worked: WorkedEpoch) -> str:
    """'The lecture's 3-2-1 network', 'A 3-4-1 network with tanh hidden units', 'A 2-2-2
    network with sigmoid hidden units and sigmoid outputs', ..."""
    m = worked.m
    lecture = (worked.k, worked.hidden, m) == (3, 2, 1)
    shape = "The lecture's 3-2-1 network" if lecture else f"A {worked.k}-{worked.hidden}-{m} network"
    parts = [f"{worked.activation} hidden units"] if worked.activated else []
    if worked.out_activated:
        parts.append(f"{worked.output_activation} output{'s' if m > 1 else ''}")
    return shape + (" with " + " and ".join(parts) if parts else "") + ("" if worked.params.bias else " without biases")


def _batch_name(worked: WorkedEpoch) -> str:
    return "the first mini-batch" if worked.step == 1 else f"mini-batch {worked.step}"


def _data_phrase(worked: WorkedEpoch, source: str | None) -> Text:
    """The rows the step works on, after "network on": '`data.csv` (n = 12 rows)', 'the
    standardised training rows of `data.csv` (n = 9 rows)', 'the first mini-batch of epoch 3 ...'."""
    rows = (equation(Sym("n"), Num(worked.n)), " row" if worked.n == 1 else " rows")
    where = () if source is None else (Code(source),)
    if worked.scaling is None and worked.validation_rows == 0 and worked.batch_size is None:
        return (*where, " (", *rows, ")") if where else rows
    kind = ("standardised " if worked.scaling is not None else "") + ("training rows" if worked.validation_rows else "rows")
    of = (" of ", *where) if where else ()
    if worked.batch_size is not None:
        return (f"{_batch_name(worked)} of epoch {count(worked.epoch)} (", *rows, f"), drawn from the {worked.n_train} {kind}", *of)
    return (f"the {kind}", *of, " (", *rows, ")")


def _setting_notes(worked: WorkedEpoch, features, targets: tuple[str, ...]) -> list[Text]:
    """How the rows were prepared and chosen: standardisation, validation, the mini-batch; none
    for the lecture's setting (every row, as it is, one full-batch step)."""
    notes = []
    if worked.scaling is not None:
        s = worked.scaling
        columns = []
        named = [*zip(_input_names(worked), features, s.x_mean, s.x_std),
                 *zip(worked.targets, targets, np.atleast_1d(s.y_mean), np.atleast_1d(s.y_std))]
        for lecture, name, mean, std in named:
            called = () if name == lecture else (" (", Code(name), ")")
            columns += ["; " if columns else "", Sym(lecture), *called, f" mean {number(mean)}, std {number(std)}"]
        notes.append(text(
            "Standardised, as train --standardize does: every column is replaced by its z-score, (value - mean) / std, "
            "with the mean and the population standard deviation of the training rows, so every number below is "
            "in these units: ", *columns, ".",
        ))
    if worked.validation_rows:
        notes.append(text(
            f"{worked.validation_rows} rows are held out for validation (--val-split, as train chooses them) and take no "
            "part in the step; rows are numbered as in the data file."
        ))
    if worked.batch_size is not None:
        notes.append(_batch_note(worked))
    return notes


def _batch_note(worked: WorkedEpoch) -> Text:
    """Which rows the mini-batch step takes, and in what order the epoch visits them."""
    listed = worked.row_numbers.tolist()
    shown = ", ".join(map(str, listed[:LISTED_ROWS])) + (", ..." if len(listed) > LISTED_ROWS else "")
    order = "in a new shuffled order, the one train draws" if worked.shuffle else "in the data file's order (--no-shuffle)"
    if worked.step == 1:
        which = f"the first step of epoch {count(worked.epoch)}, on its first batch"
    else:
        which = f"step {worked.step} of epoch {count(worked.epoch)}, on its batch {worked.step}"
    return text(
        f"Mini-batches (--batch-size {worked.batch_size}): every epoch visits the {worked.n_train} training rows {order}, "
        f"and takes one step per batch, {worked.steps} an epoch. This is {which}: data rows {shown}, in the order "
        f"{'drawn' if worked.shuffle else 'of the file'}. Below, ", equation(Sym("n"), Num(worked.n)),
        " is the batch's size, and the loss, the gradients, the update and the loss after it are this batch's.",
    )


def _network_notes(worked: WorkedEpoch) -> list[Text]:
    """What the network leaves out or holds fixed: its biases (--no-bias), frozen parameters."""
    notes = []
    if not worked.params.bias:
        notes.append(text("The network has no biases (--no-bias): each unit takes its weighted inputs alone."))
    if worked.frozen:
        names = []
        for name in worked.frozen:
            names += [", " if names else "", Sym(name)]
        one = len(worked.frozen) == 1
        notes.append(text("Frozen (--freeze): ", *names, " keeps its value" if one else " keep their values",
                          "; the update leaves it as it is" if one else "; the update leaves them as they are",
                          ", and the gradients are shown all the same."))
    return notes


def _weights_section(worked: WorkedEpoch) -> list[Block]:
    """The weights at the start: one line per unit, its weights and its bias."""
    done = []
    if worked.epoch > 1:
        epochs = worked.epoch - 1
        batches = "" if worked.batch_size is None else f", in mini-batches of {worked.batch_size} rows"
        done.append(f"{count(epochs)} epoch{'s' if epochs > 1 else ''} of training{batches}")
    if worked.step > 1:
        done.append(f"{worked.step - 1} step{'s' if worked.step > 2 else ''} of epoch {count(worked.epoch)}")
    before = f" (after {' and '.join(done)})" if done else ""
    w = worked.params.as_dict()
    units = [*_hidden_units(worked), *_output_units(worked)]
    width = max(len(weights) for _, _, weights, _ in units)
    value = lambda name: (equation(Sym(name), Num(w[name])),)  # noqa: E731
    biased = worked.params.bias
    body = tuple(
        ((Sym(unit),), *(value(name) for name in weights), *[()] * (width - len(weights)), *([value(bias)] if biased else []))
        for unit, _, weights, bias in units
    )
    header = (("unit",), *[("weight",)] * width, *([("bias",)] if biased else []))
    at = f"epoch {count(worked.epoch)}" if worked.step == 1 else f"step {worked.step} of epoch {count(worked.epoch)}"
    return [Heading(f"The weights at the start of {at}{before}"),
            Table(header, body, align=("left",) * len(header))]


def _forward_section(worked: WorkedEpoch, shown: int) -> list[Block]:
    note = "" if shown == worked.n else f" (the loss and the gradients below use all {worked.n})"
    blocks: list[Block] = [Heading("1. Forward pass"), Paragraph(text(f"Shown for {_row_range(worked, shown)}{note}."))]
    inputs = _input_names(worked)
    for row in range(shown):
        values = []
        for name, value in (*zip(inputs, worked.X[row]), *zip(worked.targets, worked.Y[:, row])):
            values += [", " if values else " ", equation(Sym(name), Num(value))]
        blocks += [Paragraph(text(Strong(f"Row {_label(worked, row)}:"), *values)),
                   Equations(tuple(_forward_equations(worked, row)))]
    fwd = worked.forward
    units = range(1, worked.hidden + 1)
    into = worked.into_outputs if worked.out_activated else ()
    header = [*inputs, *worked.targets, *([f"z{h}" for h in units] if worked.activated else []), *(f"N{h}" for h in units),
              *into, *worked.outputs]
    columns = [worked.X, worked.Y.T, *([fwd.Z.T] if worked.activated else []), fwd.N.T, *([fwd.A.T] if into else []),
               fwd.Yhat.T, worked.E.T]
    errors = tuple(Sub(Sym(y), Sym(yhat)) for y, yhat in zip(worked.targets, worked.outputs))
    glance = _row_table(worked, shown, (*(Sym(name) for name in header), *errors), columns)
    return [*blocks, Paragraph(text("All shown rows at a glance:")), glance]


def _loss_scale(worked: WorkedEpoch, numeric: bool = False) -> Expr | None:
    """c(n) of L = c(n) sum (y - yhat)^2: 1/n for the lecture's MSE, 1/(2n), none for sse, 1/2;
    `numeric` with this step's n."""
    n = worked.n
    if worked.convention == "mse":
        return Frac(Num(1), Num(n) if numeric else Sym("n"))
    if worked.convention == "half-mse":
        return Frac(Num(1), Num(2 * n)) if numeric else Raw("(1/(2n))", r"\frac{1}{2n}", "<mfrac><mn>1</mn><mrow><mn>2</mn><mi>n</mi></mrow></mfrac>")
    return Frac(Num(1), Num(2)) if worked.convention == "half-sse" else None


def _loss_section(worked: WorkedEpoch, terms: int) -> list[Block]:
    n, several = worked.n, worked.m > 1
    blocks: list[Block] = [Heading("2. Loss")]
    if worked.convention != "mse" or several:
        outputs = f", over the {worked.m} outputs of every row" if several else ""
        blocks.append(Paragraph(text(
            f"The loss is {LOSS_WORDS[worked.convention]}{outputs} (--loss {worked.convention}), so its derivative "
            "factor, in ", equation(grad("yhat", "i"), seq(Neg(Sym("c")), Paren(Sub(Sym("y", "i"), Sym("yhat", "i"))))),
            ", is ", equation(Sym("c"), _factor_expression(worked, numeric=False)), ".",
        )))
    if terms != n:
        blocks.append(Paragraph(text(
            "This sum and those below run over all ", equation(Sym("n"), Num(n)),
            f" rows; the first {f'{terms} terms are' if terms != 1 else 'term is'} written out.",
        )))
    y, yhat = (Sym("yj", "i"), Sym("yhatj", "i")) if several else (Sym("y", "i"), Sym("yhat", "i"))
    body = SumOver(Square(Paren(Sub(y, yhat))))
    body = SumOver(SumOver(Square(Paren(Sub(y, yhat))), "j", "m")) if several else body
    squares = [Square(Num(e)) for e in worked.E[:, :terms].T.ravel()]
    written = _sum(squares, n * worked.m)
    scale, number_scale = _loss_scale(worked), _loss_scale(worked, numeric=True)
    loss = equation(
        Sym("L"), body if scale is None else seq(scale, body),
        written if number_scale is None else Scaled(number_scale, Paren(written, big=True)), Num(worked.loss),
    )
    return [*blocks, Equations((loss,))]


def _factor_expression(worked: WorkedEpoch, numeric: bool) -> Expr:
    """The loss convention's derivative factor 2/d(n): 2/n, 1/n, 2, 1 (`numeric`: with n's value)."""
    n = Num(worked.n) if numeric else Sym("n")
    return {"mse": lambda: Frac(Num(2), n), "half-mse": lambda: Frac(Num(1), n),
            "sse": lambda: Num(2), "half-sse": lambda: Num(1)}[worked.convention]()


def _output_layer_section(worked: WorkedEpoch, shown: int, terms: int) -> list[Block]:
    """dL/dyhat_i for every row (through the output's slope to dL/da_i where it has an
    activation), then the output weights' and biases' gradients: sums over rows of the chain's
    factors times what the output is linear in (w7: N1_i, b3: 1)."""
    several = worked.m > 1
    yhat, y, a = ("yhatj", "yj", "aj") if several else ("yhat", "y", "a")
    residual = Paren(Sub(Sym(y, "i"), Sym(yhat, "i")))
    sides = [seq(Neg(_factor_expression(worked, numeric=False)), residual)]
    if worked.convention in ("mse", "half-mse"):  # a factor of n: its value too
        sides.append(seq(Neg(_factor_expression(worked, numeric=True)), residual))
    rules = [equation(grad(yhat, "i"), *sides)]
    if worked.out_activated:
        slope = _out_slope(worked.output_activation, yhat, "i", grouped=True)
        rules.append(equation(grad(a, "i"), mul(grad(yhat, "i"), Partial(Sym(yhat, "i"), Sym(a, "i"))), mul(grad(yhat, "i"), slope)))
    back = worked.backward
    header = (*(Sub(Sym(t, "i"), Sym(o, "i")) for t, o in zip(worked.targets, worked.outputs)),
              *(grad(o, "i") for o in worked.outputs))
    columns = [worked.E.T, back.dL_dYhat.T]
    if worked.out_activated:
        pairs = list(zip(worked.outputs, worked.into_outputs))
        header += (*(Partial(Sym(o, "i"), Sym(i, "i")) for o, i in pairs), *(grad(i, "i") for _, i in pairs))
        columns += [back.dYhat_dA.T, back.dL_dA.T]
    table = _row_table(worked, shown, header, columns)
    equations = []
    for j in range(worked.m):
        for h, name in enumerate(worked.params.W_out_names[j]):
            equations.append(_output_gradient(worked, j, name, h, terms))
        if worked.params.bias:
            equations.append(_output_gradient(worked, j, worked.params.b_outputs_names[j], None, terms))
    return [Heading("3. Backward pass: the output layer"), Equations(tuple(rules)), table, Equations(tuple(equations))]


def _output_gradient(worked: WorkedEpoch, j: int, name: str, h: int | None, terms: int):
    """dL/d(name) for output j's weight from hidden unit h (0-based), or its bias (h None): the
    sum over rows of dL/dyhat_i (times dyhat_i/da_i with an output activation) times N_h,i (or 1)."""
    out, target, into = worked.outputs[j], worked.targets[j], worked.into_outputs[j]
    back = worked.backward
    source = None if h is None else Sym(f"N{h + 1}", "i")
    with_source = [] if source is None else [source]
    factors = [back.dL_dYhat[j, :terms]]
    if worked.out_activated:
        slope = Partial(Sym(out, "i"), Sym(into, "i"))
        chain = SumOver(mul(grad(out, "i"), slope, Partial(Sym(into, "i"), Sym(name))))
        rule = [chain, SumOver(mul(grad(out, "i"), slope, *with_source))]
        factors.append(back.dYhat_dA[j, :terms])
    else:
        residual = seq(Num(-2), Paren(Sub(Sym(target, "i"), Sym(out, "i"))))
        summed = SumOver(mul(residual, source) if source is not None else residual)
        scale = _loss_scale(worked)
        rule = [summed if scale is None else seq(scale, summed),
                SumOver(mul(grad(out, "i"), source) if source is not None else grad(out, "i"))]
    if h is not None:
        factors.append(worked.forward.N[h, :terms])
    products = [mul(*(Num(f[row]) for f in factors)) if len(factors) > 1 else Num(factors[0][row]) for row in range(len(factors[0]))]
    return equation(grad(name), *rule, _sum(products, worked.n), Num(worked.gradients.as_dict()[name]))


def _hidden_layer_section(worked: WorkedEpoch, shown: int, terms: int) -> list[Block]:
    """dL/dN_h,i = sum over outputs of dL/dyhat_i (or dL/da_i) * (unit h's output weight),
    through the activation's slope when there is one, then every hidden weight's and bias's
    gradient by the chain rule, its factors named and valued."""
    w = worked.params.as_dict()
    upstream = [grad(into, "i") for into in worked.into_outputs]
    chain = []
    for h in range(worked.hidden):
        weights = worked.params.W_out_names[:, h]
        named = [mul(u, Sym(weight)) for u, weight in zip(upstream, weights)]
        valued = [mul(u, Num(w[weight])) for u, weight in zip(upstream, weights)]
        chain.append(equation(grad(f"N{h + 1}", "i"), add(*named) if len(named) > 1 else named[0],
                              add(*valued) if len(valued) > 1 else valued[0]))
    blocks: list[Block] = [Heading("4. Backward pass: the hidden layer, by the chain rule"), Equations(tuple(chain))]
    back = worked.backward
    units = range(1, worked.hidden + 1)
    if worked.activated:
        blocks += [
            Paragraph(text(f"Through the activation, {worked.activation}, the chain gains the factor ",
                           Partial(Sym("Nh"), Sym("zh")), " for every unit:")),
            Equations(tuple(_activation_rule(worked, h) for h in units)),
        ]
        for row in range(shown):
            blocks += [Paragraph(text(Strong(f"Row {_label(worked, row)}:"))),
                       Equations(tuple(_activation_step(worked, row, h) for h in range(worked.hidden)))]
    header = (*upstream, *(grad(f"N{h}", "i") for h in units), *(grad(f"z{h}", "i") for h in units if worked.activated))
    columns = [back.dL_dA.T, back.dL_dN.T, *([back.dL_dZ.T] if worked.activated else [])]
    blocks.append(_row_table(worked, shown, header, columns))
    blocks.append(Paragraph(text(
        "Each gradient below is the chain as the lecture writes it: ", _chain_in_words(worked),
        ", its factors named, then valued, row by row, before their product is summed over the rows",
        " (and over the outputs)." if worked.m > 1 else ".",
    )))
    blocks.append(Equations(tuple(_hidden_gradient_equations(worked, terms))))
    return blocks


def _chain_in_words(worked: WorkedEpoch) -> Expr:
    """dL/dw1 = dL/dyhat * dyhat/dN1 * dN1/dw1 (with dN1/dz1 * dz1/dw1 for an activation)."""
    yhat = "yhatj" if worked.m > 1 else "yhat"
    last = [Partial(Sym("N1"), Sym("z1")), Partial(Sym("z1"), Sym("w1"))] if worked.activated else [Partial(Sym("N1"), Sym("w1"))]
    through = mul(grad(yhat), Partial(Sym(yhat), Sym("N1")))
    return equation(grad("w1"), mul(SumOver(through, "j", "m"), *last) if worked.m > 1 else mul(*through.factors, *last))


def _update_section(worked: WorkedEpoch) -> list[Block]:
    """The optimizer's update of every parameter with its numbers: w <- w - eta * dL/dw = old -
    eta * gradient = new for gradient descent; the velocity, or Adam's moments and their bias
    corrections, first for the others. A frozen parameter's line says it keeps its value."""
    names, frozen = worked.params.names, worked.frozen
    scope = f"all {len(names)} parameters" if not frozen else f"the {len(names) - len(frozen)} parameters not frozen (of {len(names)})"
    step = ""
    if worked.batch_size is not None:
        step = (f" (the first of epoch {count(worked.epoch)}'s steps, on this batch)" if worked.step == 1
                else f" (step {worked.step} of epoch {count(worked.epoch)}'s {worked.steps}, on this batch)")
    heading = Heading(f"5. Update: one {RULE_NAMES[worked.optimizer.name]} step for {scope}{step}")
    rule = {"gd": _gd_blocks, "momentum": _momentum_blocks, "nesterov": _momentum_blocks, "adam": _adam_blocks}
    return [heading, *rule[worked.optimizer.name](worked)]


def _values(worked: WorkedEpoch):
    """(name, value before, gradient, value after) of every parameter, in the lecture's order."""
    return zip(worked.params.names, worked.params.vector, worked.gradients.vector, worked.new_params.vector)


def _kept(name: str, old: float):
    """A frozen parameter's update: name <- name = old (frozen: kept)."""
    return equation(Sym(name), Sym(name), Num(old), relations=("<-",), note=FROZEN)


def _gd_blocks(worked: WorkedEpoch) -> list[Block]:
    lines = tuple(
        _kept(name, old) if name in worked.frozen else
        equation(Sym(name), Sub(Sym(name), mul(Sym("eta"), grad(name))), Sub(Num(old), mul(Num(worked.lr), Num(gradient))),
                 Num(new), relations=("<-",))
        for name, old, gradient, new in _values(worked)
    )
    return [Equations(lines, aligned=True)]


def _momentum_blocks(worked: WorkedEpoch) -> list[Block]:
    """v <- mu v - eta dL/dw, then w <- w + v (momentum) or w <- w + mu v - eta dL/dw (Nesterov)."""
    mu, eta, nesterov = worked.optimizer.momentum, worked.lr, worked.optimizer.name == "nesterov"
    before, after = worked.state_before["v"], worked.update.state["v"]
    v = StateOf("v", "w")
    move = Sub(add(Sym("w"), mul(Sym("mu"), v)), mul(Sym("eta"), grad("w"))) if nesterov else add(Sym("w"), v)
    intro = Paragraph(text(
        f"{RULE_NAMES[worked.optimizer.name].capitalize()} (--optimizer {worked.optimizer.name}), ",
        equation(Sym("mu"), Num(mu)), " (--momentum): each parameter's velocity carries its earlier steps on, ",
        equation(v, Sub(mul(Sym("mu"), v), mul(Sym("eta"), grad("w"))), relations=("<-",)), ", and the parameter moves by it, ",
        equation(Sym("w"), move, relations=("<-",)), f"; this is update {worked.update.t} of the run.",
    ))
    velocities, weights = [], []
    for index, (name, old, gradient, new) in enumerate(_values(worked)):
        if name in worked.frozen:
            weights.append(_kept(name, old))
            continue
        v = StateOf("v", name)
        velocities.append(equation(v, Sub(mul(Sym("mu"), v), mul(Sym("eta"), grad(name))),
                                   Sub(mul(Num(mu), Num(before[index])), mul(Num(eta), Num(gradient))), Num(after[index]),
                                   relations=("<-",)))
        if nesterov:
            moved = Sub(add(Sym(name), mul(Sym("mu"), v)), mul(Sym("eta"), grad(name)))
            numbers = Sub(add(Num(old), mul(Num(mu), Num(after[index]))), mul(Num(eta), Num(gradient)))
        else:
            moved, numbers = add(Sym(name), v), add(Num(old), Num(after[index]))
        weights.append(equation(Sym(name), moved, numbers, Num(new), relations=("<-",)))
    return [intro, Paragraph(text("The velocities:")), Equations(tuple(velocities), aligned=True),
            Paragraph(text("The parameters:")), Equations(tuple(weights), aligned=True)]


def _adam_blocks(worked: WorkedEpoch) -> list[Block]:
    """m <- beta1 m + (1 - beta1) g; s <- beta2 s + (1 - beta2) g^2; mhat, shat; w <- w - eta mhat / (sqrt(shat) + epsilon)."""
    settings, update, eta = worked.optimizer, worked.update, worked.lr
    b1, b2, eps, t = settings.beta1, settings.beta2, settings.epsilon, update.t
    intro = Paragraph(text(
        "Adam (--optimizer adam), ", equation(Sym("beta1"), Num(b1)), ", ", equation(Sym("beta2"), Num(b2)), ", ",
        equation(Sym("epsilon"), Num(eps)), ": the first moment ", Sym("m"), " and the second ", Sym("s"),
        " carry the gradients and their squares on, divided by ", Sub(Num(1), Power(Sym("beta"), Sym("t"))),
        " for their start at 0; this is update ", equation(Sym("t"), Num(t)), " of the run.",
    ))
    lines = {"m": [], "s": [], "mhat": [], "shat": [], "w": []}
    for index, (name, old, g, new) in enumerate(_values(worked)):
        if name in worked.frozen:
            lines["w"].append(_kept(name, old))
            continue
        m0, s0 = worked.state_before["m"][index], worked.state_before["s"][index]
        m, s = update.state["m"][index], update.state["s"][index]
        mhat, shat = update.corrected["m"][index], update.corrected["s"][index]
        M, S, Mhat, Shat = (StateOf(kind, name) for kind in ("m", "s", "mhat", "shat"))
        one_minus = lambda beta: Paren(Sub(Num(1), beta))  # noqa: E731
        lines["m"].append(equation(M, add(mul(Sym("beta1"), M), mul(one_minus(Sym("beta1")), grad(name))),
                                   add(mul(Num(b1), Num(m0)), mul(one_minus(Num(b1)), Num(g))), Num(m), relations=("<-",)))
        lines["s"].append(equation(S, add(mul(Sym("beta2"), S), mul(one_minus(Sym("beta2")), Square(Paren(grad(name))))),
                                   add(mul(Num(b2), Num(s0)), mul(one_minus(Num(b2)), Square(Num(g)))), Num(s), relations=("<-",)))
        lines["mhat"].append(equation(Mhat, Frac(M, Sub(Num(1), Power(Sym("beta1"), Sym("t")))),
                                      Frac(Num(m), Sub(Num(1), Power(Num(b1), Num(t)))), Num(mhat)))
        lines["shat"].append(equation(Shat, Frac(S, Sub(Num(1), Power(Sym("beta2"), Sym("t")))),
                                      Frac(Num(s), Sub(Num(1), Power(Num(b2), Num(t)))), Num(shat)))
        lines["w"].append(equation(
            Sym(name), Sub(Sym(name), mul(Sym("eta"), Frac(Mhat, add(Sqrt(Shat), Sym("epsilon"))))),
            Sub(Num(old), mul(Num(eta), Frac(Num(mhat), add(Sqrt(Num(shat)), Num(eps))))), Num(new), relations=("<-",),
        ))
    captions = {"m": "The first moments:", "s": "The second moments:", "mhat": "Their bias corrections:", "w": "The parameters:"}
    blocks: list[Block] = [intro]
    for kind, equations in lines.items():
        if kind in captions:
            blocks.append(Paragraph(text(captions[kind])))
        blocks.append(Equations(tuple(equations), aligned=True))
    return blocks


def _loss_after_section(worked: WorkedEpoch) -> list[Block]:
    before, after = Sym("L", "before"), Sym("L", "after")
    losses = (equation(before, Num(worked.loss)), equation(after, Num(worked.loss_after)),
              equation(Sub(after, before), Num(worked.loss_after - worked.loss)))
    batch = [] if worked.batch_size is None else [Paragraph(text(f"On the same {worked.n} rows of the batch."))]
    return [Heading("6. The loss after the update"), *batch, Equations(losses, together=True),
            Paragraph(text(f"The loss {loss_verdict(worked)}."))]


def loss_verdict(worked: WorkedEpoch) -> str:
    """What the step did to the loss: went down, did not go down, or changed by no more than
    rounding can move the two computed losses (rounding.LossRounding), as it does at a minimum."""
    change = worked.loss_after - worked.loss
    rounding = LossRounding.of_rows(worked.X, worked.y, worked.convention)
    if not beyond_rounding(change, rounding.of(worked.params, worked.loss), rounding.of(worked.new_params, worked.loss_after)):
        return f"did not change beyond float64's rounding of it (the change, {number(change)}, is noise): a minimum"
    return "went down" if change < 0 else "did not go down: try a smaller learning rate"


# --- the equations -----------------------------------------------------------------------------


def _network_equations(worked: WorkedEpoch) -> list:
    """The network, symbolically: N1 = w1 x1 + ... + b1 (or tanh(...)), ..., yhat = w7 N1 + ... + b3."""
    lines = []
    for unit, sources, weights, bias in _hidden_units(worked):
        linear = _affine(weights, sources, bias)
        lines.append(equation(Sym(unit), Call(worked.activation, linear) if worked.activated else linear))
    for unit, sources, weights, bias in _output_units(worked):
        linear = _affine(weights, sources, bias)
        lines.append(equation(Sym(unit), Call(worked.output_activation, linear) if worked.out_activated else linear))
    if "sigmoid" in (worked.activation, worked.output_activation):
        lines.append(Raw("sigmoid(z) = 1/(1 + exp(-z))", r"\sigma(z) = \frac{1}{1 + e^{-z}}",
                         "<mrow><mi>σ</mi><mo>(</mo><mi>z</mi><mo>)</mo><mo>=</mo><mfrac><mn>1</mn><mrow><mn>1</mn>"
                         "<mo>+</mo><msup><mi>e</mi><mrow><mo>-</mo><mi>z</mi></mrow></msup></mrow></mfrac></mrow>"))
    return lines


def _affine(weights, sources, bias: str, w: dict | None = None, values: dict | None = None) -> Expr:
    """w1 x1 + w2 x2 + ... + b1 (no bias term for the empty name), or with the numbers of `w` and `values`."""
    if w is None:
        return add(*(mul(Sym(wk), Sym(s)) for wk, s in zip(weights, sources)), *([Sym(bias)] if bias else []))
    return add(*(mul(Num(w[wk]), Num(values[s])) for wk, s in zip(weights, sources)), *([Num(w[bias])] if bias else []))


def _forward_equations(worked: WorkedEpoch, row: int) -> list:
    """z_h (with an activation), N_h, a_j (with an output activation), yhat_j and y_j - yhat_j
    of one row (0-based index), numbers plugged in."""
    w = worked.params.as_dict()
    fwd = worked.forward
    values = {**dict(zip(_input_names(worked), worked.X[row])), **{f"N{h + 1}": v for h, v in enumerate(fwd.N[:, row])}}
    lines = []
    for h, (unit, sources, weights, bias) in enumerate(_hidden_units(worked)):
        linear = _linear_symbol(worked, h + 1)
        lines.append(equation(Sym(linear), _affine(weights, sources, bias), _affine(weights, sources, bias, w, values),
                              Num(fwd.Z[h, row])))
        if worked.activated:
            act = worked.activation
            lines.append(equation(Sym(unit), Call(act, Sym(linear)), Call(act, Num(fwd.Z[h, row])), Num(fwd.N[h, row])))
    for j, (unit, sources, weights, bias) in enumerate(_output_units(worked)):
        into = worked.into_outputs[j]
        lines.append(equation(Sym(into), _affine(weights, sources, bias), _affine(weights, sources, bias, w, values),
                              Num(fwd.A[j, row])))
        if worked.out_activated:
            out = worked.output_activation
            lines.append(equation(Sym(unit), Call(out, Sym(into)), Call(out, Num(fwd.A[j, row])), Num(fwd.Yhat[j, row])))
    for j, (y, yhat) in enumerate(zip(worked.targets, worked.outputs)):
        lines.append(equation(Sub(Sym(y), Sym(yhat)), Sub(Num(worked.Y[j, row]), Num(fwd.Yhat[j, row])), Num(worked.E[j, row])))
    return lines


def _activation_rule(worked: WorkedEpoch, h: int):
    """dL/dz1_i = dL/dN1_i * dN1_i/dz1_i = dL/dN1_i * (1 - N1_i^2) for tanh."""
    unit, z = f"N{h}", f"z{h}"
    slope = _slope(worked.activation, h, "i")
    return equation(
        grad(z, "i"), mul(grad(unit, "i"), Partial(Sym(unit, "i"), Sym(z, "i"))),
        mul(grad(unit, "i"), slope if worked.activation == "sigmoid" else Paren(slope)),
    )


def _slope(activation: str, unit: int | str, row: str | None = None) -> Expr:
    """dN/dz of hidden unit `unit` (1 or "h") in terms of N or z: 1 - N1^2 for tanh."""
    N, z = Sym(f"N{unit}", row), Sym(f"z{unit}", row)
    if activation == "sigmoid":
        return mul(N, Paren(Sub(Num(1), N)))
    return Sub(Num(1), Square(N)) if activation == "tanh" else Step(z)


def _out_slope(activation: str, output: str, row: str | None = None, grouped: bool = False) -> Expr:
    """dyhat/da of an output (yhat, yhat1, "yhatj") in terms of yhat: yhat (1 - yhat) for
    sigmoid, 1 - yhat^2 for tanh (in parentheses when `grouped`, as a factor)."""
    yhat = Sym(output, row)
    if activation == "sigmoid":
        return mul(yhat, Paren(Sub(Num(1), yhat)))
    slope = Sub(Num(1), Square(yhat))
    return Paren(slope) if grouped else slope


def _activation_step(worked: WorkedEpoch, row: int, h: int):
    """dL/dz_h = dL/dN_h * dN_h/dz_h for one row (0-based index) and hidden unit h (0-based), numbers plugged in."""
    back = worked.backward
    dN, N, z = back.dL_dN[h, row], worked.forward.N[h, row], worked.forward.Z[h, row]
    slope, dZ = back.dN_dZ[h, row], back.dL_dZ[h, row]
    lhs = grad(f"z{h + 1}")
    if worked.activation == "relu":
        note = equation(Sym(f"z{h + 1}"), Num(z), Num(0), relations=("=", ">" if z > 0 else "<="))
        return equation(lhs, mul(Num(dN), Num(slope)), Num(dZ), note=note)
    if worked.activation == "tanh":
        plugged = mul(Num(dN), Paren(Sub(Num(1), Square(Num(N)))))
    else:
        plugged = mul(Num(dN), Num(N), Paren(Sub(Num(1), Num(N))))
    return equation(lhs, plugged, mul(Num(dN), Num(slope)), Num(dZ))


def _hidden_gradient_equations(worked: WorkedEpoch, terms: int) -> list:
    """Every hidden weight's and bias's gradient (w1..w6, b1, b2), in the lecture's order: the
    chain rule, sum_i dL/dN_i * dN_i/d(name) (with an activation sum_i dL/dN_i * dN_i/dz_i *
    dz_i/d(name)), then its three factors (_three_factors), then sum_i dL/dz_i * x_i."""
    params, g = worked.params, worked.gradients.as_dict()
    equations = {}
    for h, (weights, bias) in enumerate(zip(params.W_hidden_names, params.b_hidden_names)):
        unit, linear = f"N{h + 1}", _linear_symbol(worked, h + 1)
        dZ = worked.backward.dL_dZ[h, :terms]
        for name, j in (*zip(weights, range(worked.k)), *([(bias, None)] if bias else [])):
            links = [grad(unit, "i"), *([Partial(Sym(unit, "i"), Sym(linear, "i"))] if worked.activated else []),
                     Partial(Sym(linear if worked.activated else unit, "i"), Sym(name))]
            if j is None:
                rule = [SumOver(mul(grad(linear, "i"), Num(1))), SumOver(grad(linear, "i"))]
                products = [Num(a) for a in dZ]
            else:
                rule = [SumOver(mul(grad(linear, "i"), Sym(f"x{j + 1}", "i")))]
                products = [mul(Num(a), Num(b)) for a, b in zip(dZ, worked.X[:terms, j])]
            equations[name] = equation(grad(name), SumOver(mul(*links)), *_three_factors(worked, h, name, j, terms),
                                       *rule, _sum(products, worked.n), Num(g[name]))
    return [equations[name] for name in params.names if name in equations]


def _three_factors(worked: WorkedEpoch, h: int, name: str, j: int | None, terms: int) -> list[Expr]:
    """The chain for hidden unit h's (0-based) parameter `name` (input j's weight, 0-based, or
    the bias for j None) as the lecture writes it, in three sides: its factors named,
    sum_i dL/dyhat_i dyhat_i/dN1_i dN1_i/dw1 (dN1_i/dz1_i dz1_i/dw1 with an activation; summed
    over the outputs for several); valued by name, sum_i dL/dyhat_i w7 x1_i; and valued by
    number, each row's factors side by side, for the first `terms` rows."""
    unit, z = f"N{h + 1}", _linear_symbol(worked, h + 1)
    back, w = worked.backward, worked.params.as_dict()
    outputs = list(zip(worked.outputs, worked.params.W_out_names[:, h]))
    last = [Partial(Sym(unit, "i"), Sym(z, "i")), Partial(Sym(z, "i"), Sym(name))] if worked.activated else [
        Partial(Sym(unit, "i"), Sym(name))]
    named = [mul(grad(out, "i"), Partial(Sym(out, "i"), Sym(unit, "i"))) for out, _ in outputs]
    out_slope = lambda out: [_out_slope(worked.output_activation, out, "i", grouped=True)] if worked.out_activated else []  # noqa: E731
    by_name = [mul(grad(out, "i"), *out_slope(out), Sym(weight)) for out, weight in outputs]
    slope = [_slope(worked.activation, h + 1, "i")] if worked.activated else []
    slope = [s if worked.activation == "sigmoid" else Paren(s) for s in slope]
    x = Num(1) if j is None else Sym(f"x{j + 1}", "i")
    products = []
    for row in range(terms):
        through = [mul(Num(back.dL_dYhat[o, row]), *([Num(back.dYhat_dA[o, row])] if worked.out_activated else []), Num(w[weight]))
                   for o, (_, weight) in enumerate(outputs)]
        hidden_slope = [Num(back.dN_dZ[h, row])] if worked.activated else []
        products.append(mul(*_factors(through), *hidden_slope, Num(1) if j is None else Num(worked.X[row, j])))
    return [SumOver(mul(*_factors(named), *last)), SumOver(mul(*_factors(by_name), *slope, x)), _sum(products, worked.n)]


def _factors(terms: list[Expr]) -> list[Expr]:
    """One output's chain factors side by side, or several outputs' in a parenthesised sum."""
    return list(terms[0].factors) if len(terms) == 1 else [Paren(add(*terms), big=True)]


# --- pieces ------------------------------------------------------------------------------------


def _input_names(worked: WorkedEpoch) -> tuple[str, ...]:
    """x1..xk."""
    return tuple(f"x{j}" for j in range(1, worked.k + 1))


def _hidden_units(worked: WorkedEpoch) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """(unit, what it takes in, its weights, its bias) for N1..NH: ("N1", (x1, x2, x3), (w1, w2, w3), "b1"), ...;
    the bias "" without biases."""
    params = worked.params
    return [(f"N{h + 1}", _input_names(worked), tuple(weights), bias)
            for h, (weights, bias) in enumerate(zip(params.W_hidden_names, params.b_hidden_names))]


def _output_units(worked: WorkedEpoch) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """The same for the outputs: ("yhat", (N1, N2), (w7, w8), "b3"), or yhat1, yhat2, ..."""
    hidden = tuple(f"N{h + 1}" for h in range(worked.hidden))
    params = worked.params
    return [(out, hidden, tuple(weights), bias)
            for out, weights, bias in zip(worked.outputs, params.W_out_names, params.b_outputs_names)]


def _linear_symbol(worked: WorkedEpoch, unit: int) -> str:
    """What hidden unit `unit` (1-based) is linear in w and b: N_h for identity, z_h with an activation."""
    return f"z{unit}" if worked.activated else f"N{unit}"


def _sum(terms: list[Expr], n: int) -> Expr:
    """The terms of a sum over n rows, with "..." for those left out."""
    return add(*terms) if len(terms) == n else add(*terms, Dots())


def _label(worked: WorkedEpoch, row: int) -> str:
    return str(worked.row_numbers[row])


def _row_table(worked: WorkedEpoch, shown: int, header: tuple, columns: list[np.ndarray]) -> Table:
    """The first `shown` rows of per-row values, each row by its number in the data file.
    columns : arrays of shape (n,) or (n, H) (a unit's values in each column), side by side under `header`."""
    values = np.column_stack([np.asarray(column)[:shown] for column in columns]) if shown else np.empty((0, len(header)))
    body = tuple(((_label(worked, row),), *((number(v),) for v in values[row])) for row in range(shown))
    return Table((("row",), *((h,) for h in header)), body, align=("left",) + ("right",) * len(header))


def _row_range(worked: WorkedEpoch, shown: int) -> str:
    """Which rows a section shows: 'all 12 rows', 'rows 1 to 5 of 12', 'the first 5 of the batch's 32 rows'."""
    n = worked.n
    if worked.numbered_in_order:
        if shown == n:
            return "the one row" if n == 1 else f"all {n} rows"
        return f"row 1 of {n}" if shown == 1 else f"rows 1 to {shown} of {n}"
    rows = "the batch's" if worked.batch_size is not None else "the"
    if shown == n:
        return "the one row" + (" of the batch" if worked.batch_size is not None else "") if n == 1 else f"all {n} of {rows} rows"
    return f"the first {shown} of {rows} {n} rows"
