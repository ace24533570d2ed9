"""One epoch worked by hand: every value network.py computes, and the sections that show it.

`work_epoch` runs the lecture's network (forward, mse_loss, backward, update) and keeps every
intermediate value, the backward pass's per-row terms included. `explanation` writes them out
as format-free sections (sections.py) whose equations are notation trees, so that each view
(render/) writes the same document its own way: plain text, Markdown with LaTeX, HTML.

Any k inputs and H hidden units are named as the lecture names its 3-2-1 network: inputs
x1..xk, hidden units N1..NH with weights w1..w(kH) (unit 1's k weights first) and biases
b1..bH, and the output yhat with weights w(kH+1)..w(kH+H) and bias b(H+1). With an
activation, z_h = w . x + b is what goes into unit h and N_h = act(z_h) what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EpochNotReached, LossOverflow, TrainingDiverged
from .network import BackwardPass, ForwardPass, Gradients, Parameters, backward, forward, mse_loss, update
from .notation import (
    Call, Dots, Expr, Frac, Neg, Num, Paren, Partial, Raw, Scaled, Square, Step, Sub, SumOver, Sym,
    add, equation, grad, mul, number, seq,
)
from .plan import StopReason, TrainingPlan
from .scaling import Scaling
from .sections import Block, Code, Equations, Heading, Paragraph, Strong, Table, Text, text
from .stepsize import suggest_lr
from .engines import epoch_order
from .training import TrainingRows, check_memory, fit_rows, prepare

# A sum over more rows than are shown writes out this many terms, then "...".
SUM_TERMS = 3
# A mini-batch's row numbers are listed up to this many, then "...".
LISTED_ROWS = 20
# A change of the loss within this fraction of it is float64's rounding (16 eps).
ROUNDING = 16 * float(np.finfo(np.float64).eps)


@dataclass
class WorkedEpoch:
    """Epoch `epoch` of gradient descent, with every intermediate value of its (first) step.

    params are the weights at the start of the epoch, new_params those after the step.
    The step is full-batch over the training rows, or with `batch_size` the epoch's first
    mini-batch; X, y and the passes' per-row arrays hold the rows of that step, n of them.
    X : shape (n, k), y : shape (n,)
    forward, backward       network.forward's and network.backward's results for these rows
    loss, loss_after        the loss of these rows before and after the step
    row_numbers : (n,)      each row's 1-based row number in the data file
    n_train                 the rows training sees (the mini-batch is drawn from them)
    scaling                 how the rows were standardised, or None
    validation_rows         rows held out for validation (they take no part in the step)
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
    def activation(self) -> str:
        return self.params.activation

    @property
    def activated(self) -> bool:
        """Whether the hidden layer has an activation (anything but the lecture's identity)."""
        return self.activation != "identity"

    @property
    def error(self) -> np.ndarray:
        """shape (n,): y - yhat."""
        return self.y - self.forward.yhat

    @property
    def gradients(self) -> Gradients:
        return self.backward.gradients

    @property
    def numbered_in_order(self) -> bool:
        """Whether the rows are the data file's rows 1..n, in order."""
        return np.array_equal(self.row_numbers, np.arange(1, self.n + 1))


def work_epoch(
    rows: TrainingRows,
    params: Parameters,
    plan: TrainingPlan,
    epoch: int = 1,
    row_numbers: np.ndarray | None = None,
) -> WorkedEpoch:
    """Train epochs 1..epoch-1 from `params` as `fwdback train` would, then keep every value of
    epoch `epoch`'s first step.

    `rows` are the rows training sees (split and scaled) and `plan` the training plan with its
    choices made (training.resolve); it shapes the epochs before, which run whatever the
    convergence stop would say (epoch `epoch` is asked for). The explained step is full-batch
    without plan.batch_size; with it, the first mini-batch of epoch `epoch`, in the order train
    shuffles that epoch's rows. `row_numbers` : shape (n,) are the rows' numbers in the data file
    (default 1..n). Raises LossOverflow or TrainingDiverged when the loss overflows,
    EpochNotReached when early stopping would end training before epoch `epoch`.
    """
    X, y, lr, batch_size = rows.X, rows.y, plan.lr, plan.batch_size
    row_numbers = np.arange(1, len(y) + 1) if row_numbers is None else np.asarray(row_numbers)
    check_memory(params.vector.size, params.n_hidden, len(y), batch_size or len(y), arrays_per_row=10)
    start = _start_of_epoch(rows, params, plan, epoch)
    step = np.arange(len(y)) if batch_size is None else epoch_order(plan.seed, epoch, len(y))[:batch_size]
    X_step, y_step = (X, y) if batch_size is None else (X[step], y[step])
    with np.errstate(all="ignore"):
        fwd = forward(start, X_step)
        loss = mse_loss(y_step, fwd.yhat)
        back = backward(start, X_step, y_step, fwd)
        new_params = update(start, back.gradients, lr)
        loss_after = mse_loss(y_step, forward(new_params, X_step).yhat)
    if not np.isfinite(loss):
        raise LossOverflow(loss, "at the initial weights" if epoch == 1 else f"at the start of epoch {epoch}")
    if not (np.isfinite(loss_after) and np.isfinite(new_params.vector).all()):
        batches = None if batch_size is None else (X, batch_size)
        raise TrainingDiverged(epoch, loss_after, suggest_lr(rows.statistics, params, lr, batches), rows.scaling is not None)
    return WorkedEpoch(
        epoch=epoch, lr=lr, X=X_step, y=y_step, params=start, forward=fwd, backward=back, loss=loss,
        new_params=new_params, loss_after=loss_after, row_numbers=row_numbers[step], n_train=len(y),
        batch_size=batch_size, scaling=rows.scaling, validation_rows=0 if rows.validation is None else len(rows.validation[1]),
    )


def _start_of_epoch(rows: TrainingRows, params: Parameters, plan: TrainingPlan, epoch: int) -> Parameters:
    """The weights after epoch-1 epochs of the plan, every one of them run."""
    if epoch == 1:
        return params
    before = plan.replace(epochs=epoch - 1, tol=0.0)
    if plan.patience is not None:
        # A dry run with the same plan, only to learn whether early stopping ends training first.
        probe = fit_rows(rows, params, before).result
        if probe.stop is StopReason.EARLY_STOPPING:
            watched = "validation" if rows.validation is not None else "training"
            raise EpochNotReached(epoch, probe.last_epoch, watched, plan.min_delta, plan.patience)
    # Without early stopping, training ends with the weights of its last update, not the best epoch's.
    return fit_rows(rows, params, before.replace(patience=None)).result.final


def training_row_numbers(n: int, plan: TrainingPlan) -> np.ndarray:
    """The 1-based data-file numbers of the rows training keeps, in training's order.

    training.prepare holds out validation rows; running it on the row numbers themselves
    tells which rows it kept, without repeating how it chooses them.
    """
    numbers = np.arange(1, n + 1, dtype=np.float64)[:, None]
    return prepare(numbers, np.zeros(n), plan.replace(standardize=False)).X[:, 0].astype(np.int64)


def explain_document(worked: WorkedEpoch, features, target: str = "y") -> dict:
    """Every value of the worked epoch as JSON-ready data, floats at full precision.

    "rows" holds every row of the step (not only those a table shows): x1..xk are the
    lecture's names for the columns in "features"; "row" is the row's number in the data
    file. z1..zH, dN1_dz1.. and dL_dz1.. are there when the hidden layer has an activation.
    """
    fwd, back = worked.forward, worked.backward
    units = range(1, worked.hidden + 1)
    keys = ["row", *_input_names(worked), "y"]
    blocks = [worked.row_numbers, worked.X, worked.y]
    if worked.activated:
        keys += [f"z{u}" for u in units]
        blocks.append(fwd.Z.T)
    keys += [*(f"N{u}" for u in units), "yhat", "error", "dL_dyhat", *(f"dL_dN{u}" for u in units)]
    blocks += [fwd.N.T, fwd.yhat, worked.error, back.dL_dyhat, back.dL_dN.T]
    if worked.activated:
        keys += [*(f"dN{u}_dz{u}" for u in units), *(f"dL_dz{u}" for u in units)]
        blocks += [back.dN_dZ.T, back.dL_dZ.T]
    rows = [dict(zip(keys, values)) for values in np.column_stack(blocks).tolist()]
    for row in rows:
        row["row"] = int(row["row"])
    batch = None
    if worked.batch_size is not None:
        batch = {"size": worked.batch_size, "rows": worked.row_numbers.tolist(), "first_of_epoch": worked.epoch}
    return {
        "epoch": worked.epoch,
        "lr": worked.lr,
        "n": worked.n,
        "features": list(features),
        "target": target,
        "activation": worked.activation,
        "hidden": worked.hidden,
        "standardized": worked.scaling is not None,
        "scaling": None if worked.scaling is None else worked.scaling.as_dict(tuple(features), target),
        "training_rows": worked.n_train,
        "validation_rows": worked.validation_rows,
        "batch": batch,
        "weights": worked.params.as_dict(),
        "rows": rows,
        "loss": worked.loss,
        "gradients": worked.gradients.as_dict(),
        "weights_after": worked.new_params.as_dict(),
        "loss_after": worked.loss_after,
    }


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


def explanation(
    worked: WorkedEpoch, features, rows: int, target: str = "y", source: str | None = None, start: str | None = None
) -> list[Block]:
    """The worked epoch as sections: lecture notes with the user's numbers.

    `rows` rows are shown in the forward pass; every sum runs over all rows of the step, with
    its first terms written out. `source` (the data's name) and `start` (where the weights came
    from) go into the opening paragraph.
    """
    shown = min(rows, worked.n)
    terms = worked.n if worked.n <= rows else min(rows, SUM_TERMS)
    return [
        *_opening(worked, features, target, source, start),
        *_weights_section(worked),
        *_forward_section(worked, shown),
        *_loss_section(worked, terms),
        *_output_layer_section(worked, shown, terms),
        *_hidden_layer_section(worked, shown, terms),
        *_update_section(worked),
        *_loss_after_section(worked),
    ]


def _opening(worked: WorkedEpoch, features, target: str, source: str | None, start: str | None) -> list[Block]:
    blocks = [
        Heading(f"Epoch {worked.epoch} of forward and backward propagation, worked by hand", level=1),
        Paragraph(text(network_description(worked), " on ", *_data_phrase(worked, source), ", learning rate ",
                       equation(Sym("eta"), Num(worked.lr)), f", initial weights {start}" if start else "", ".")),
    ]
    inputs = _input_names(worked)
    if tuple(features) != inputs or target != "y":
        mapping = []
        for lecture, column in zip(inputs, features):
            mapping += [", " if mapping else "", Sym(lecture), " is column ", Code(column)]
        blocks.append(Paragraph(text(*mapping, "; ", Sym("y"), " is column ", Code(target), ".")))
    blocks += [Paragraph(note) for note in _setting_notes(worked, features, target)]
    blocks.append(Equations(tuple(_network_equations(worked)), together=True))
    if worked.activated:
        activation = worked.activation
        blocks.append(Paragraph(text(
            f"The hidden units apply {activation}: ", Sym("zh"), " is what goes into unit ", Sym("h"), " and ",
            equation(Sym("Nh"), Call(activation, Sym("zh"))), " what comes out; the backward pass gains the "
            "activation's slope ", equation(Partial(Sym("Nh"), Sym("zh")), _slope(activation, "h")), ".",
        )))
    return blocks


def network_description(worked: WorkedEpoch) -> str:
    """'The lecture's 3-2-1 network', 'A 3-4-1 network with tanh hidden units', ..."""
    shape = "The lecture's 3-2-1 network" if (worked.k, worked.hidden) == (3, 2) else f"A {worked.k}-{worked.hidden}-1 network"
    return shape + (f" with {worked.activation} hidden units" if worked.activated else "")


def _data_phrase(worked: WorkedEpoch, source: str | None) -> Text:
    """The rows the step works on, after "network on": '`data.csv` (n = 12 rows)', 'the
    standardised training rows of `data.csv` (n = 9 rows)', 'the first mini-batch of epoch 3 ...'."""
    count = (equation(Sym("n"), Num(worked.n)), " row" if worked.n == 1 else " rows")
    where = () if source is None else (Code(source),)
    if worked.scaling is None and worked.validation_rows == 0 and worked.batch_size is None:
        return (*where, " (", *count, ")") if where else count
    kind = ("standardised " if worked.scaling is not None else "") + ("training rows" if worked.validation_rows else "rows")
    of = (" of ", *where) if where else ()
    if worked.batch_size is not None:
        return (f"the first mini-batch of epoch {worked.epoch} (", *count, f"), drawn from the {worked.n_train} {kind}", *of)
    return (f"the {kind}", *of, " (", *count, ")")


def _setting_notes(worked: WorkedEpoch, features, target: str) -> list[Text]:
    """How the rows were prepared and chosen: standardisation, validation, the mini-batch; none
    for the lecture's setting (every row, as it is, one full-batch step)."""
    notes = []
    if worked.scaling is not None:
        s = worked.scaling
        columns = []
        for lecture, name, mean, std in [*zip(_input_names(worked), features, s.x_mean, s.x_std), ("y", target, s.y_mean, s.y_std)]:
            named = () if name == lecture else (" (", Code(name), ")")
            columns += ["; " if columns else "", Sym(lecture), *named, f" mean {number(mean)}, std {number(std)}"]
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
        steps = -(-worked.n_train // worked.batch_size)
        listed = worked.row_numbers.tolist()
        shown = ", ".join(map(str, listed[:LISTED_ROWS])) + (", ..." if len(listed) > LISTED_ROWS else "")
        notes.append(text(
            f"Mini-batches (--batch-size {worked.batch_size}): every epoch visits the {worked.n_train} training rows in a "
            f"new shuffled order, the one train draws, and takes one step per batch, {steps} an epoch. This is the "
            f"first step of epoch {worked.epoch}, on its first batch: data rows {shown}, in the order drawn. Below, ",
            equation(Sym("n"), Num(worked.n)), " is the batch's size, and the loss, the gradients, the update and the "
            "loss after it are this batch's.",
        ))
    return notes


def _weights_section(worked: WorkedEpoch) -> list[Block]:
    """The weights at the start: one line per unit, its weights and its bias."""
    before = ""
    if worked.epoch > 1:
        epochs = worked.epoch - 1
        batches = "" if worked.batch_size is None else f", in mini-batches of {worked.batch_size} rows"
        before = f" (after {epochs} epoch{'s' if epochs > 1 else ''} of training{batches})"
    w = worked.params.as_dict()
    units = _units(worked)
    width = max(len(weights) for _, _, weights, _ in units)
    value = lambda name: (equation(Sym(name), Num(w[name])),)  # noqa: E731
    body = tuple(
        ((Sym(unit),), *(value(name) for name in weights), *[()] * (width - len(weights)), value(bias))
        for unit, _, weights, bias in units
    )
    header = (("unit",), *[("weight",)] * width, ("bias",))
    return [Heading(f"The weights at the start of epoch {worked.epoch}{before}"),
            Table(header, body, align=("left",) * (width + 2))]


def _forward_section(worked: WorkedEpoch, shown: int) -> list[Block]:
    note = "" if shown == worked.n else f" (the loss and the gradients below use all {worked.n})"
    blocks: list[Block] = [Heading("1. Forward pass"), Paragraph(text(f"Shown for {_row_range(worked, shown)}{note}."))]
    inputs = _input_names(worked)
    for row in range(shown):
        values = []
        for name, value in (*zip(inputs, worked.X[row]), ("y", worked.y[row])):
            values += [", " if values else " ", equation(Sym(name), Num(value))]
        blocks += [Paragraph(text(Strong(f"Row {_label(worked, row)}:"), *values)),
                   Equations(tuple(_forward_equations(worked, row)))]
    fwd = worked.forward
    units = range(1, worked.hidden + 1)
    header = ["row", *inputs, "y", *([f"z{h}" for h in units] if worked.activated else []), *(f"N{h}" for h in units), "yhat"]
    columns = [worked.X, worked.y, *([fwd.Z.T] if worked.activated else []), fwd.N.T, fwd.yhat, worked.error]
    glance = _row_table(worked, shown, (*(Sym(name) for name in header[1:]), Sub(Sym("y"), Sym("yhat"))), columns)
    return [*blocks, Paragraph(text("All shown rows at a glance:")), glance]


def _loss_section(worked: WorkedEpoch, terms: int) -> list[Block]:
    n = worked.n
    note = [] if terms == n else [Paragraph(text(
        "This sum and those below run over all ", equation(Sym("n"), Num(n)), f" rows; the first {terms} term{'s are' if terms != 1 else ' is'} written out."
    ))]
    squares = [Square(Num(e)) for e in worked.error[:terms]]
    loss = equation(
        Sym("L"),
        seq(Frac(Num(1), Sym("n")), SumOver(Square(Paren(Sub(Sym("y", "i"), Sym("yhat", "i")))))),
        Scaled(Frac(Num(1), Num(n)), Paren(_sum(squares, n), big=True)),
        Num(worked.loss),
    )
    return [Heading("2. Loss"), *note, Equations((loss,))]


def _output_layer_section(worked: WorkedEpoch, shown: int, terms: int) -> list[Block]:
    """dL/dyhat_i for every row, then the output weights' and bias's gradients: sums over rows
    of dL/dyhat_i times what yhat_i is linear in (w7: N1_i, b3: 1)."""
    residual = seq(Num(-2), Paren(Sub(Sym("y", "i"), Sym("yhat", "i"))))
    rule = equation(
        grad("yhat", "i"),
        seq(Neg(Frac(Num(2), Sym("n"))), Paren(Sub(Sym("y", "i"), Sym("yhat", "i")))),
        seq(Neg(Frac(Num(2), Num(worked.n))), Paren(Sub(Sym("y", "i"), Sym("yhat", "i")))),
    )
    table = _row_table(worked, shown, (Sub(Sym("y", "i"), Sym("yhat", "i")), grad("yhat", "i")),
                       [worked.error, worked.backward.dL_dyhat])
    g = worked.gradients.as_dict()
    d = worked.backward.dL_dyhat[:terms]
    params = worked.params
    equations = []
    for h, name in enumerate(params.w_out_names):
        source = Sym(f"N{h + 1}", "i")
        products = [mul(Num(a), Num(b)) for a, b in zip(d, worked.forward.N[h, :terms])]
        equations.append(equation(
            grad(name), seq(Frac(Num(1), Sym("n")), SumOver(mul(residual, source))),
            SumOver(mul(grad("yhat", "i"), source)), _sum(products, worked.n), Num(g[name]),
        ))
    bias = params.b_out_name
    equations.append(equation(
        grad(bias), seq(Frac(Num(1), Sym("n")), SumOver(residual)), SumOver(grad("yhat", "i")),
        _sum([Num(a) for a in d], worked.n), Num(g[bias]),
    ))
    return [Heading("3. Backward pass: the output layer"), Equations((rule,)), table, Equations(tuple(equations))]


def _hidden_layer_section(worked: WorkedEpoch, shown: int, terms: int) -> list[Block]:
    """dL/dN_h,i = dL/dyhat_i * (unit h's output weight), through the activation's slope when
    there is one, then every hidden weight's and bias's gradient by the chain rule."""
    w = worked.params.as_dict()
    chain = tuple(
        equation(grad(f"N{h}", "i"), mul(grad("yhat", "i"), Sym(weight)), mul(grad("yhat", "i"), Num(w[weight])))
        for h, weight in enumerate(worked.params.w_out_names, start=1)
    )
    blocks: list[Block] = [Heading("4. Backward pass: the hidden layer, by the chain rule"), Equations(chain)]
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
    header = (grad("yhat", "i"), *(grad(f"N{h}", "i") for h in units), *(grad(f"z{h}", "i") for h in units if worked.activated))
    columns = [back.dL_dyhat, back.dL_dN.T, *([back.dL_dZ.T] if worked.activated else [])]
    blocks.append(_row_table(worked, shown, header, columns))
    blocks.append(Equations(tuple(_hidden_gradient_equations(worked, terms))))
    return blocks


def _update_section(worked: WorkedEpoch) -> list[Block]:
    """w <- w - eta * dL/dw = old - eta * gradient = new, for every parameter."""
    lines = tuple(
        equation(Sym(name), Sub(Sym(name), mul(Sym("eta"), grad(name))), Sub(Num(old), mul(Num(worked.lr), Num(gradient))),
                 Num(new), relations=("<-",))
        for name, old, gradient, new in zip(
            worked.params.names, worked.params.vector, worked.gradients.vector, worked.new_params.vector
        )
    )
    step = "" if worked.batch_size is None else f" (the first of epoch {worked.epoch}'s steps, on this batch)"
    heading = f"5. Update: one gradient-descent step for all {len(worked.params.names)} parameters{step}"
    return [Heading(heading), Equations(lines, aligned=True)]


def _loss_after_section(worked: WorkedEpoch) -> list[Block]:
    before, after = Sym("L", "before"), Sym("L", "after")
    losses = (equation(before, Num(worked.loss)), equation(after, Num(worked.loss_after)),
              equation(Sub(after, before), Num(worked.loss_after - worked.loss)))
    batch = [] if worked.batch_size is None else [Paragraph(text(f"On the same {worked.n} rows of the batch."))]
    return [Heading("6. The loss after the update"), *batch, Equations(losses, together=True),
            Paragraph(text(f"The loss {loss_verdict(worked)}."))]


def loss_verdict(worked: WorkedEpoch) -> str:
    """What the step did to the loss: went down, did not go down, or changed only within rounding
    (16 eps of the loss, float64's resolution), as it does at a minimum."""
    change = worked.loss_after - worked.loss
    if abs(change) <= ROUNDING * max(abs(worked.loss), abs(worked.loss_after)):
        return f"did not change beyond float64's rounding of it (the change, {number(change)}, is noise): a minimum"
    return "went down" if change < 0 else "did not go down: try a smaller learning rate"


# --- the equations -----------------------------------------------------------------------------


def _network_equations(worked: WorkedEpoch) -> list:
    """The network, symbolically: N1 = w1 x1 + ... + b1 (or tanh(...)), ..., yhat = w7 N1 + ... + b3."""
    lines = []
    for unit, sources, weights, bias in _units(worked):
        linear = add(*(mul(Sym(w), Sym(s)) for w, s in zip(weights, sources)), Sym(bias))
        lines.append(equation(Sym(unit), Call(worked.activation, linear) if worked.activated and unit != "yhat" else linear))
    if worked.activation == "sigmoid":
        lines.append(Raw("sigmoid(z) = 1/(1 + exp(-z))", r"\sigma(z) = \frac{1}{1 + e^{-z}}",
                         "<mrow><mi>σ</mi><mo>(</mo><mi>z</mi><mo>)</mo><mo>=</mo><mfrac><mn>1</mn><mrow><mn>1</mn>"
                         "<mo>+</mo><msup><mi>e</mi><mrow><mo>-</mo><mi>z</mi></mrow></msup></mrow></mfrac></mrow>"))
    return lines


def _forward_equations(worked: WorkedEpoch, row: int) -> list:
    """z_h (with an activation), N_h, yhat and y - yhat of one row (0-based index), numbers plugged in."""
    w = worked.params.as_dict()
    fwd = worked.forward
    values = {**dict(zip(_input_names(worked), worked.X[row])), **{f"N{h + 1}": v for h, v in enumerate(fwd.N[:, row])}}
    lines = []
    for h, (unit, sources, weights, bias) in enumerate(_units(worked)):
        linear = _linear_symbol(worked, h + 1) if unit != "yhat" else "yhat"
        result = fwd.Z[h, row] if unit != "yhat" else fwd.yhat[row]
        lines.append(equation(
            Sym(linear),
            add(*(mul(Sym(wk), Sym(s)) for wk, s in zip(weights, sources)), Sym(bias)),
            add(*(mul(Num(w[wk]), Num(values[s])) for wk, s in zip(weights, sources)), Num(w[bias])),
            Num(result),
        ))
        if worked.activated and unit != "yhat":
            act = worked.activation
            lines.append(equation(Sym(unit), Call(act, Sym(linear)), Call(act, Num(fwd.Z[h, row])), Num(fwd.N[h, row])))
    lines.append(equation(Sub(Sym("y"), Sym("yhat")), Sub(Num(worked.y[row]), Num(fwd.yhat[row])), Num(worked.error[row])))
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
    chain rule, sum_i dL/dN_i * dN_i/d(name), with an activation sum_i dL/dN_i * dN_i/dz_i * dz_i/d(name)."""
    params, g = worked.params, worked.gradients.as_dict()
    equations = {}
    for h, (weights, bias) in enumerate(zip(params.W_hidden_names, params.b_hidden_names)):
        unit, linear = f"N{h + 1}", _linear_symbol(worked, h + 1)
        dZ = worked.backward.dL_dZ[h, :terms]
        for name, j in (*zip(weights, range(worked.k)), (bias, None)):
            links = [grad(unit, "i"), *([Partial(Sym(unit, "i"), Sym(linear, "i"))] if worked.activated else []),
                     Partial(Sym(linear if worked.activated else unit, "i"), Sym(name))]
            if j is None:
                rule = [SumOver(mul(grad(linear, "i"), Num(1))), SumOver(grad(linear, "i"))]
                products = [Num(a) for a in dZ]
            else:
                rule = [SumOver(mul(grad(linear, "i"), Sym(f"x{j + 1}", "i")))]
                products = [mul(Num(a), Num(b)) for a, b in zip(dZ, worked.X[:terms, j])]
            equations[name] = equation(grad(name), SumOver(mul(*links)), *rule, _sum(products, worked.n), Num(g[name]))
    return [equations[name] for name in params.names if name in equations]


# --- pieces ------------------------------------------------------------------------------------


def _input_names(worked: WorkedEpoch) -> tuple[str, ...]:
    """x1..xk."""
    return tuple(f"x{j}" for j in range(1, worked.k + 1))


def _units(worked: WorkedEpoch) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """(unit, what it takes in, its weights, its bias) for N1..NH, then yhat: ("N1", (x1, x2, x3),
    (w1, w2, w3), "b1"), ..., ("yhat", (N1, N2), (w7, w8), "b3")."""
    params = worked.params
    hidden = [f"N{h + 1}" for h in range(worked.hidden)]
    units = [(unit, _input_names(worked), tuple(weights), bias)
             for unit, weights, bias in zip(hidden, params.W_hidden_names, params.b_hidden_names)]
    return [*units, ("yhat", tuple(hidden), tuple(params.w_out_names), params.b_out_name)]


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
