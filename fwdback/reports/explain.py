"""What `fwdback explain` says: a worked epoch (explain.WorkedEpoch) as lecture notes with the user's numbers.

`explanation` writes the step as format-free sections (sections.py) whose equations are
notation trees, so that each view (render/) writes the same document its own way: plain text,
Markdown with LaTeX, HTML with MathML. Units and parameters are named as explain.py describes.
"""

from __future__ import annotations

import numpy as np

from ..activations import Activation
from ..explain import WorkedEpoch
from ..notation import (
    Call, Dots, Exp, Expr, Frac, Log, Mul, Neg, Num, Paren, Partial, Power, Raw, Scaled, Sqrt, Square, StateOf, Sub,
    SumOver, Sym, add, count, equation, grad, mul, number, seq,
)
from ..optimizers import Adam, GradientDescent, Momentum, Nesterov
from ..rounding import LossRounding, beyond_rounding
from ..sections import Block, Code, Equations, Heading, Paragraph, Strong, Table, Text, text


# A sum over more rows than are shown writes out this many terms, then "...".
SUM_TERMS = 3
# A mini-batch's row numbers are listed up to this many, then "...".
LISTED_ROWS = 20
# A classifier's side in numbers, recomputed from its printed numbers (6 digits), gives its value
# to this relative error; where a difference near 1 or a log near 0 would lose more, it is written
# another way (1 - yhat by its own value, log(1 - q) by the complement q).
RECOMPUTED = 1e-4
KRONECKER = Raw(
    "delta_jl = 1 for j = l, else 0", r"\delta_{jl} = 1 \text{ for } j = l \text{, else } 0",
    "<mrow><msub><mi>δ</mi><mrow><mi>j</mi><mi>l</mi></mrow></msub><mo>=</mo><mn>1</mn><mtext>&#xA0;for&#xA0;</mtext>"
    "<mi>j</mi><mo>=</mo><mi>l</mi><mtext>,&#xA0;else&#xA0;</mtext><mn>0</mn></mrow>",
)
FROZEN = Raw("frozen: kept", r"\text{frozen: kept}", "<mtext>frozen: kept</mtext>")


def explanation(
    worked: WorkedEpoch, features, rows: int, target="y", source: str | None = None, start: Text = (),
    classes: tuple | None = None,
) -> list[Block]:
    """The worked step as sections: lecture notes with the user's numbers.

    `rows` rows are shown in the forward pass; every sum runs over all rows of the step, with
    its first terms written out. `target` is the target column's name, or a list of them (one
    an output). `source` (the data's name) and `start` (where the weights came from, a path
    as Code: "from ", Code("w.json")) go into the opening paragraph. A classifier's `classes`
    are the labels of its target column, in the order of its outputs (classes.Classes.labels).
    """
    shown = min(rows, worked.n)
    terms = worked.n if worked.n <= rows else min(rows, SUM_TERMS)
    return [
        *_opening(worked, features, (target,) if isinstance(target, str) else tuple(target), source, start, classes),
        *_weights_section(worked),
        *_forward_section(worked, shown),
        *_loss_section(worked, terms),
        *_output_layer_section(worked, shown, terms, classes),
        *_hidden_layer_section(worked, shown, terms),
        *_update_section(worked),
        *_loss_after_section(worked),
    ]


def _opening(worked: WorkedEpoch, features, targets: tuple[str, ...], source: str | None, start: Text,
             classes: tuple | None) -> list[Block]:
    step = "" if worked.step == 1 else f", step {worked.step} of {worked.steps},"
    blocks = [
        Heading(f"Epoch {count(worked.epoch)}{step} of forward and backward propagation, worked by hand", level=1),
        Paragraph(text(network_description(worked), " on ", *_data_phrase(worked, source), ", learning rate ",
                       equation(Sym("eta"), Num(worked.lr)), *((", initial weights ", *start) if start else ()), ".")),
    ]
    inputs = worked.inputs
    as_named = tuple(features) == inputs and targets == ("y",) and classes == (0, 1)
    if classes is not None and not as_named:
        blocks.append(Paragraph(_class_mapping(worked, features, targets[0], classes)))
    elif classes is None and (tuple(features) != inputs or targets != worked.targets):
        mapping = []
        for lecture, column in zip(inputs, features):
            mapping += [", " if mapping else "", Sym(lecture), " is column ", Code(column)]
        for index, (lecture, column) in enumerate(zip(worked.targets, targets)):
            mapping += [", " if index else "; ", Sym(lecture), " is column ", Code(column)]
        blocks.append(Paragraph(text(*mapping, ".")))
    blocks += [Paragraph(note) for note in (*_setting_notes(worked, features, targets), *_network_notes(worked))]
    blocks.append(Equations(tuple(_network_equations(worked)), together=True))
    if worked.activated:
        blocks.append(Paragraph(text(
            f"The hidden units apply {worked.activation}: ", Sym("zh"), " is what goes into unit ", Sym("h"), " and ",
            equation(Sym("Nh"), Call(worked.act, Sym("zh"))), " what comes out; the backward pass gains the "
            "activation's slope ", equation(Partial(Sym("Nh"), Sym("zh")), _slope(worked.act, "h")), ".",
        )))
    if worked.classifies:
        blocks.append(Paragraph(_link_note(worked, classes)))
    elif worked.out_activated:
        yhat, a = ("yhatj", "aj") if worked.m > 1 else ("yhat", "a")
        where = (" goes into output ", Sym("j")) if worked.m > 1 else (" goes into the output",)
        blocks.append(Paragraph(text(
            f"The output{'s apply' if worked.m > 1 else ' applies'} {worked.output_activation}: ", Sym(a), " is what",
            *where, " and ", equation(Sym(yhat), Call(worked.out_act, Sym(a))), " what comes out; the backward pass "
            "gains its slope ", equation(Partial(Sym(yhat), Sym(a)), _out_slope(worked.out_act, yhat)), ".",
        )))
    return blocks


def _class_mapping(worked: WorkedEpoch, features, target: str, classes: tuple) -> Text:
    """A classifier's columns: the inputs', and how the target column's labels become y (bce) or y1..ym."""
    mapping = []
    for lecture, column in zip(worked.inputs, features):
        if lecture != column:
            mapping += [", " if mapping else "", Sym(lecture), " is column ", Code(column)]
    mapping += ["; " if mapping else ""]
    labels = [Code(str(label)) for label in classes]
    if worked.loss_convention.binary:
        return text(*mapping, Sym("y"), " is 1 where column ", Code(target), " is ", labels[1], ", 0 where it is ",
                    labels[0], " (its classes in sorted order).")
    which = []
    for y, label in zip(worked.targets, labels):
        which += [", " if which else "", Sym(y), " for ", label]
    return text(*mapping, Sym("yj"), " is 1 where column ", Code(target), " is class ", Sym("j"), "'s label, 0 elsewhere: ",
                *which, " (its classes in sorted order).")


def _link_note(worked: WorkedEpoch, classes: tuple | None) -> Text:
    """What a classifier's output is: the logit a goes in, a probability comes out."""
    if worked.loss_convention.binary:
        second = () if classes is None else (Code(str(classes[1])), ", ")
        return text(
            "The output applies the sigmoid: ", Sym("a"), ", the logit, is what goes into the output and ",
            equation(Sym("yhat"), Call(worked.out_act, Sym("a"))), " what comes out, the probability that the row is of "
            "the second class (", *second, equation(Sym("y"), Num(1)), "). Its slope and the loss's derivative cancel: ",
            equation(grad("a", "i"), _combined(worked)), ", worked out in section 3.",
        )
    return text(
        "The outputs apply the softmax across them: ", Sym("aj"), ", a logit, is what goes into output ", Sym("j"),
        " and ", Sym("yhatj"), " what comes out, the probability that the row is of class ", Sym("j"), " (", Sym("yj"),
        " is 1 in the row's class's column, 0 in the others); a row's ", str(worked.m), " probabilities sum to 1. The "
        "softmax's Jacobian and the loss's derivative cancel: ", equation(grad("aj", "i"), _combined(worked, "j")),
        ", worked out in section 3.",
    )


def _combined(worked: WorkedEpoch, j: str = "") -> Expr:
    """A classifier's dL/da, the loss's derivative and the link's slope in one: (yhat_i - y_i)/n,
    for output `j` ("", "j", "l")."""
    return Frac(Sub(Sym(f"yhat{j}", "i"), Sym(f"y{j}", "i")), Sym("n"))


def _combined_numbers(worked: WorkedEpoch, yhat: float, y: float, value: float) -> list[Expr]:
    """(yhat - y)/n with one row's numbers, then its value; with yhat - y's own value between
    them where yhat's printed digits lose it (yhat = 0.999979 of y = 1: 1 - yhat = 2.09369e-05)."""
    n = Num(worked.n)
    sides = [Frac(Sub(Num(yhat), Num(y)), n)]
    if not _printed_digits_hold(float(number(yhat)) - y, yhat - y):
        sides.append(Frac(Num(yhat - y), n))
    return [*sides, Num(value)]


def _difference(a: float, b: float) -> Expr:
    """(a - b) with the numbers, or its value where their printed digits lose it (1 - 0.99996)."""
    if _printed_digits_hold(float(number(a)) - float(number(b)), a - b):
        return Paren(Sub(Num(a), Num(b)))
    return Paren(Num(a - b))


def _printed_digits_hold(from_printed: float, exact: float) -> bool:
    """Whether a value recomputed from printed numbers is the exact one to RECOMPUTED."""
    return abs(from_printed - exact) <= RECOMPUTED * abs(exact)


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
        named = list(zip(worked.inputs, features, s.x_mean, s.x_std))
        if not worked.classifies:  # a classifier's targets are its classes, never z-scores
            named += zip(worked.targets, targets, np.atleast_1d(s.y_mean), np.atleast_1d(s.y_std))
        for lecture, name, mean, std in named:
            called = () if name == lecture else (" (", Code(name), ")")
            columns += ["; " if columns else "", Sym(lecture), *called, f" mean {number(mean)}, std {number(std)}"]
        notes.append(text(
            f"Standardised, as train --standardize does: every {'input ' if worked.classifies else ''}column is replaced by "
            "its z-score, (value - mean) / std, "
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
    inputs = worked.inputs
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
    if worked.classifies:  # the loss's terms follow, in section 2
        errors, columns = (), columns[:-1]
    glance = _row_table(worked, shown, (*(Sym(name) for name in header), *errors), columns)
    return [*blocks, Paragraph(text("All shown rows at a glance:")), glance]


def _loss_scale(worked: WorkedEpoch, numeric: bool = False) -> Expr | None:
    """c(n) of L = c(n) sum (y - yhat)^2: 1/n for the lecture's MSE, 1/(2n), none for sse, 1/2;
    `numeric` with this step's n."""
    return worked.loss_convention.scale_expression(worked.n if numeric else None)


def _loss_section(worked: WorkedEpoch, terms: int) -> list[Block]:
    n, several = worked.n, worked.m > 1
    blocks: list[Block] = [Heading("2. Loss")]
    if worked.classifies:
        return [*blocks, *_log_loss_blocks(worked, terms)]
    if not worked.loss_convention.lecture or several:
        outputs = f", over the {worked.m} outputs of every row" if several else ""
        blocks.append(Paragraph(text(
            f"The loss is {worked.loss_convention.description}{outputs} (--loss {worked.convention}), so its derivative "
            "factor, in ", equation(grad("yhat", "i"), seq(Neg(Sym("c")), Paren(Sub(Sym("y", "i"), Sym("yhat", "i"))))),
            ", is ", equation(Sym("c"), _factor_expression(worked, numeric=False)), ".",
        )))
    if terms != n:
        blocks.append(Paragraph(text(
            "This sum and those below run over all ", equation(Sym("n"), Num(n)),
            f" rows; the first {f'{terms} terms are' if terms != 1 else 'term is'} written out.",
        )))
    squares = [Square(Num(e)) for e in worked.E[:, :terms].T.ravel()]
    written = _sum(squares, n * worked.m)
    number_scale = _loss_scale(worked, numeric=True)
    loss = equation(
        Sym("L"), worked.loss_convention.expression(worked.m),
        written if number_scale is None else Scaled(number_scale, Paren(written, big=True)), Num(worked.loss),
    )
    return [*blocks, Equations((loss,))]


def _log_loss_blocks(worked: WorkedEpoch, terms: int) -> list[Block]:
    """A classifier's loss: its rows' terms, each with its numbers, then their mean."""
    binary, n = worked.loss_convention.binary, worked.n
    if binary:
        words = ("minus the log of the probability the network gives the row's class: ", Neg(Log(Sym("yhat"))), " for ",
                 equation(Sym("y"), Num(1)), ", ", Neg(Log(Sub(Num(1), Sym("yhat")))), " for ", equation(Sym("y"), Num(0)))
    else:
        words = ("minus the log of the probability the network gives the row's class ", Sym("c"), ", ",
                 Neg(Log(Sym("yhatc"))))
    blocks: list[Block] = [Paragraph(text(
        f"The loss is {worked.loss_convention.description} (--loss {worked.convention}): each row's term is ", *words,
        ". It is computed from the logits, as ", _from_logits(worked), ", which takes no log of 0 where a probability "
        "rounds to 0 or 1; the terms below are its values.",
    ))]
    if terms != n:
        blocks.append(Paragraph(text(
            "This sum and those below run over all ", equation(Sym("n"), Num(n)),
            f" rows; the first {f'{terms} terms are' if terms != 1 else 'term is'} written out.",
        )))
    lines = [_loss_term(worked, row) for row in range(terms)]
    written = _sum([Num(t) for t in worked.loss_terms[:terms]], n)
    mean = equation(Sym("L"), worked.loss_convention.expression(worked.m), Scaled(Frac(Num(1), Num(n)), Paren(written, big=True)),
                    Num(worked.loss))
    return [*blocks, Equations(tuple(lines)), Equations((mean,))]


def _from_logits(worked: WorkedEpoch, row: int | None = None) -> Expr:
    """A classifier's row term from its logits: log(1 + exp(a)) - y a, or log(exp(a1) + ... + exp(am)) - a_c;
    with `row` (0-based), that row's numbers."""
    if worked.loss_convention.binary:
        if row is None:
            return Sub(Log(add(Num(1), Exp(Sym("a")))), mul(Sym("y"), Sym("a")))
        a, y = worked.forward.A[0, row], worked.Y[0, row]
        return Sub(Log(add(Num(1), Exp(Num(a)))), mul(Num(y), Num(a)))
    if row is None:
        return Sub(Log(SumOver(Exp(Sym("aj")), "j", "m")), Sym("ac"))
    A = worked.forward.A[:, row]
    return Sub(Log(add(*(Exp(Num(a)) for a in A))), Num(A[worked.class_indices[row]]))


def _loss_term(worked: WorkedEpoch, row: int):
    """One row's term of a classifier's loss, its probabilities plugged in; from the logits where one
    it takes the log of rounds to 0 or 1, with a note saying so."""
    P, value = worked.forward.Yhat[:, row], Num(worked.loss_terms[row])
    label = Raw(f"row {_label(worked, row)}", rf"\text{{row {_label(worked, row)}}}", f"<mtext>row {_label(worked, row)}</mtext>")
    if worked.loss_convention.binary:
        y, p = worked.Y[0, row], P[0]
        named = Neg(Paren(add(mul(Sym("y"), Log(Sym("yhat"))), mul(Paren(Sub(Num(1), Sym("y"))), Log(Sub(Num(1), Sym("yhat")))))))
        if 0 < p < 1:
            plugged = Neg(Paren(add(mul(Num(y), _log_of(p, 1 - p)), mul(Num(1 - y), _log_of(1 - p, p)))))
            return equation(named, plugged, value, note=label)
        return equation(named, _from_logits(worked, row), value, note=_rounded(worked, row, label))
    c = worked.class_indices[row]
    chosen = worked.outputs[c]
    if P[c] > 0:
        return equation(Neg(Log(Sym(chosen))), Neg(_log_of(P[c], 1 - P[c])), value, note=label)
    return equation(Neg(Log(Sym(chosen))), _from_logits(worked, row), value, note=_rounded(worked, row, label))


def _log_of(probability: float, complement: float) -> Expr:
    """log(p) with p's number; log(1 - q) with its complement q's where p's printed digits lose
    its log (p = 0.999979, whose log is -2.09376e-05: log(1 - 2.09374e-05))."""
    if _printed_digits_hold(np.log(float(number(probability))), np.log(probability)):
        return Log(Num(probability))
    return Log(Sub(Num(1), Num(complement)))


def _rounded(worked: WorkedEpoch, row: int, label: Raw) -> Raw:
    """The note of a row whose probability rounds to 0 or 1 in float64: which, and that the logits give the term."""
    P = worked.forward.Yhat[:, row]
    if worked.loss_convention.binary:
        what = f"yhat rounds to {'1' if P[0] >= 1 else '0'}"
    else:
        what = f"{worked.outputs[worked.class_indices[row]]} rounds to 0"
    words = f"{label.plain_text}: {what} in float64, so the term is taken from the logits"
    return Raw(words, rf"\text{{{words}}}", f"<mtext>{words}</mtext>")


def _factor_expression(worked: WorkedEpoch, numeric: bool) -> Expr:
    """The loss convention's derivative factor 2/d(n): 2/n, 1/n, 2, 1 (`numeric`: with n's value)."""
    return worked.loss_convention.factor_expression(worked.n if numeric else None)


def _output_layer_section(worked: WorkedEpoch, shown: int, terms: int, classes: tuple | None = None) -> list[Block]:
    """dL/dyhat_i for every row (through the output's slope to dL/da_i where it has an
    activation), then the output weights' and biases' gradients: sums over rows of the chain's
    factors times what the output is linear in (w7: N1_i, b3: 1)."""
    several = worked.m > 1
    if worked.classifies:
        return [Heading("3. Backward pass: the output layer"), *_cancellation_blocks(worked, shown, classes),
                Equations(tuple(_output_gradients(worked, terms)))]
    yhat, y, a = ("yhatj", "yj", "aj") if several else ("yhat", "y", "a")
    residual = Paren(Sub(Sym(y, "i"), Sym(yhat, "i")))
    sides = [seq(Neg(_factor_expression(worked, numeric=False)), residual)]
    if worked.loss_convention.mean:  # a factor of n: its value too
        sides.append(seq(Neg(_factor_expression(worked, numeric=True)), residual))
    rules = [equation(grad(yhat, "i"), *sides)]
    if worked.out_activated:
        slope = _out_slope(worked.out_act, yhat, "i", grouped=True)
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
    return [Heading("3. Backward pass: the output layer"), Equations(tuple(rules)), table,
            Equations(tuple(_output_gradients(worked, terms)))]


def _output_gradients(worked: WorkedEpoch, terms: int) -> list:
    """Every output weight's and bias's gradient, output by output."""
    equations = []
    for j in range(worked.m):
        for h, name in enumerate(worked.params.W_out_names[j]):
            equations.append(_output_gradient(worked, j, name, h, terms))
        if worked.params.bias:
            equations.append(_output_gradient(worked, j, worked.params.b_outputs_names[j], None, terms))
    return equations


def _cancellation_blocks(worked: WorkedEpoch, shown: int, classes: tuple | None) -> list[Block]:
    """A classifier's dL/da: the loss's derivative by yhat times the link's slope, which cancel
    to (yhat - y)/n, in general and then row by row with the row's numbers; where a probability
    rounds to 0 or 1 the two factors are not numbers, and the row says so and shows their product."""
    binary = worked.loss_convention.binary
    n = Sym("n")
    if binary:
        y, yhat = Sym("y", "i"), Sym("yhat", "i")
        apart = seq(Frac(Num(1), n), Paren(add(Neg(Frac(y, yhat)), Frac(Sub(Num(1), y), Sub(Num(1), yhat))), big=True))
        slope = mul(yhat, Paren(Sub(Num(1), yhat)))
        general = [
            equation(grad("yhat", "i"), apart),
            equation(Partial(yhat, Sym("a", "i")), slope),
            equation(grad("a", "i"), mul(grad("yhat", "i"), Partial(yhat, Sym("a", "i"))), mul(apart, slope),
                     seq(Frac(Num(1), n), Paren(add(Neg(mul(y, Paren(Sub(Num(1), yhat)))), mul(Paren(Sub(Num(1), y)), yhat)),
                                                big=True)), _combined(worked)),
        ]
        intro = text("The loss's derivative by ", Sym("yhat"), " and the sigmoid's slope, multiplied, cancel to ",
                     _combined(worked), ":")
    else:
        yj, yhatj, yhatl = Sym("yj", "i"), Sym("yhatj", "i"), Sym("yhatl", "i")
        delta = Raw("delta_jl", r"\delta_{jl}", "<msub><mi>δ</mi><mrow><mi>j</mi><mi>l</mi></mrow></msub>")
        general = [
            equation(grad("yhatj", "i"), Neg(seq(Frac(Num(1), n), Frac(yj, yhatj)))),
            equation(Partial(yhatj, Sym("al", "i")), mul(yhatj, Paren(Sub(delta, yhatl)))),
            equation(grad("al", "i"), SumOver(mul(grad("yhatj", "i"), Partial(yhatj, Sym("al", "i"))), "j", "m"),
                     Neg(seq(Frac(Num(1), n), SumOver(mul(yj, Paren(Sub(delta, yhatl))), "j", "m"))),
                     _combined(worked, "l")),
        ]
        intro = text(
            "The loss's derivative by each ", Sym("yhatj"), " and the softmax's Jacobian (", KRONECKER,
            "), multiplied and summed over ", Sym("j"), ", cancel to ", _combined(worked, "l"), ", since a row's ",
            Sym("yj"), " sum to 1. A row's ", Sym("yj"), " is 0 but in its class ", Sym("c"), "'s column, so only ",
            Sym("j"), " = ", Sym("c"), " is left of the sum:",
        )
    blocks: list[Block] = [Paragraph(intro), Equations(tuple(general))]
    for row in range(shown):
        lines, note = _cancellation_of_row(worked, row, classes)
        blocks += [Paragraph(text(Strong(f"Row {_label(worked, row)}:"), *note)), Equations(tuple(lines))]
    back = worked.backward
    header = (*(Sub(Sym(o, "i"), Sym(t, "i")) for t, o in zip(worked.targets, worked.outputs)),
              *(grad(a, "i") for a in worked.into_outputs))
    blocks.append(_row_table(worked, shown, header, [-worked.E.T, back.dL_dA.T]))
    return blocks


def _class_of_row(classes: tuple | None, index: int, which: Expr) -> Text:
    """A row's class: "class dog (c = 2)" where the labels are known, else "class c = 2"."""
    return (" class ", which) if classes is None else (" class ", Code(str(classes[index])), " (", which, ")")


def _cancellation_of_row(worked: WorkedEpoch, row: int, classes: tuple | None) -> tuple[list, Text]:
    """One row's dL/da with its numbers: the two factors and their product beside (yhat - y)/n, or,
    where they are not numbers, a note saying why and the combined factor alone. The note names
    the row's class by its label where `classes` are known."""
    P, Y, dA = worked.forward.Yhat[:, row], worked.Y[:, row], worked.backward.dL_dA[:, row]
    n = Num(worked.n)
    if worked.loss_convention.binary:
        p, y = P[0], Y[0]
        combined = _combined_numbers(worked, p, y, dA[0])
        if not worked.separable[row]:
            note = (" ", Sym("yhat"), " rounds to ", "1" if p >= 1 else "0", " in float64 (", equation(Sym("a"),
                    Num(worked.forward.A[0, row])), "), so ", Frac(Sub(Num(1), Sym("y")), Sub(Num(1), Sym("yhat"))) if p >= 1
                    else Frac(Sym("y"), Sym("yhat")), " divides by 0 and the slope ", equation(Partial(Sym("yhat"), Sym("a")),
                    Num(0)), ": taken apart, the two factors are no numbers (infinite times 0), and only their product, the "
                    "combined factor, is one:")
            return [equation(grad("a"), *combined)], note
        dyhat, slope = worked.dL_dYhat_apart[0, row], worked.jacobian[row, 0, 0]
        apart = seq(Frac(Num(1), n), Paren(add(Neg(Frac(Num(y), Num(p))), Frac(Num(1 - y), Num(1 - p))), big=True))
        return [
            equation(grad("yhat"), apart, Num(dyhat)),
            equation(Partial(Sym("yhat"), Sym("a")), mul(Num(p), Num(1 - p)), Num(slope)),
            equation(grad("a"), mul(grad("yhat"), Partial(Sym("yhat"), Sym("a"))), mul(Num(dyhat), Num(slope)), *combined),
        ], (*_class_of_row(classes, int(y), equation(Sym("y"), Num(y))), ", ", equation(Sym("yhat"), Num(p)), ".")
    c = worked.class_indices[row]
    out = worked.outputs[c]
    label = (*_class_of_row(classes, c, equation(Sym("c"), Num(c + 1))), ", ")
    combined = [equation(grad(a), *_combined_numbers(worked, P[l], Y[l], dA[l])) for l, a in enumerate(worked.into_outputs)]
    if not worked.separable[row]:
        apart = Neg(seq(Frac(Num(1), n), Frac(Num(1), Sym(out))))
        note = (*label, Sym(out), " rounds to 0 in float64, so ", equation(grad(out), apart),
                " divides by 0 and ", Sym(out), "'s slopes are 0: taken apart, the two factors are no numbers "
                "(infinite times 0), and only their product, the combined factor, is one:")
        return combined, note
    dyhat = worked.dL_dYhat_apart[c, row]
    lines = [equation(grad(out), Neg(seq(Frac(Num(1), n), Frac(Num(1), Num(P[c])))), Num(dyhat))]
    for l, a in enumerate(worked.into_outputs):
        slope = Partial(Sym(out), Sym(a))
        lines.append(equation(grad(a), mul(grad(out), slope), mul(Num(dyhat), Num(P[c]), _difference(float(c == l), P[l])),
                              *_combined_numbers(worked, P[l], Y[l], dA[l])))
    return lines, (*label, equation(Sym(out), Num(P[c])), "; ", Sym("yj"), " = 0 for every other ", Sym("j"),
                   ", whose terms are 0.")


def _output_gradient(worked: WorkedEpoch, j: int, name: str, h: int | None, terms: int):
    """dL/d(name) for output j's weight from hidden unit h (0-based), or its bias (h None): the
    sum over rows of dL/dyhat_i (times dyhat_i/da_i with an output activation; a classifier's
    dL/da_i) times N_h,i (or 1)."""
    out, target, into = worked.outputs[j], worked.targets[j], worked.into_outputs[j]
    back = worked.backward
    source = None if h is None else Sym(f"N{h + 1}", "i")
    with_source = [] if source is None else [source]
    factors = [back.dL_dA[j, :terms] if worked.classifies else back.dL_dYhat[j, :terms]]
    if worked.classifies:  # from dL/da_i, the loss's derivative and the link's slope in one (section 3)
        rule = [SumOver(mul(grad(into, "i"), Partial(Sym(into, "i"), Sym(name)))),
                SumOver(mul(grad(into, "i"), *with_source))]
    elif worked.out_activated:
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
    yhat = ("aj" if worked.m > 1 else "a") if worked.classifies else ("yhatj" if worked.m > 1 else "yhat")
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
    rule = worked.optimizer.rule
    heading = Heading(f"5. Update: one {rule.title} step for {scope}{step}")
    blocks = {GradientDescent: _gd_blocks, Momentum: _momentum_blocks, Nesterov: _momentum_blocks, Adam: _adam_blocks}
    return [heading, *blocks[rule](worked)]


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
    mu, eta, nesterov = worked.optimizer.momentum, worked.lr, worked.optimizer.rule.look_ahead
    before, after = worked.state_before["v"], worked.update.state["v"]
    v = StateOf("v", "w")
    move = Sub(add(Sym("w"), mul(Sym("mu"), v)), mul(Sym("eta"), grad("w"))) if nesterov else add(Sym("w"), v)
    intro = Paragraph(text(
        f"{worked.optimizer.rule.title.capitalize()} (--optimizer {worked.optimizer.name}), ",
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
        lines.append(equation(Sym(unit), Call(worked.act, linear) if worked.activated else linear))
    across = worked.out_act.across_outputs
    for (unit, sources, weights, bias), into in zip(_output_units(worked), worked.into_outputs):
        linear = _affine(weights, sources, bias)
        if across:  # the softmax takes every output's a: a_j first, then yhat_j = softmax(a)_j below
            lines.append(equation(Sym(into), linear))
        else:
            lines.append(equation(Sym(unit), Call(worked.out_act, linear) if worked.out_activated else linear))
    if across:
        lines.append(equation(Sym("yhatj"), worked.out_act.definition))
        return lines
    used = [act for act, applied in ((worked.act, worked.activated), (worked.out_act, worked.out_activated)) if applied]
    definitions = [act.definition for act in used if act.definition is not None]
    return lines + [d for i, d in enumerate(definitions) if d not in definitions[:i]]


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
    values = {**dict(zip(worked.inputs, worked.X[row])), **{f"N{h + 1}": v for h, v in enumerate(fwd.N[:, row])}}
    lines = []
    for h, (unit, sources, weights, bias) in enumerate(_hidden_units(worked)):
        linear = _linear_symbol(worked, h + 1)
        lines.append(equation(Sym(linear), _affine(weights, sources, bias), _affine(weights, sources, bias, w, values),
                              Num(fwd.Z[h, row])))
        if worked.activated:
            act = worked.act
            lines.append(equation(Sym(unit), Call(act, Sym(linear)), Call(act, Num(fwd.Z[h, row])), Num(fwd.N[h, row])))
    for j, (unit, sources, weights, bias) in enumerate(_output_units(worked)):
        into = worked.into_outputs[j]
        lines.append(equation(Sym(into), _affine(weights, sources, bias), _affine(weights, sources, bias, w, values),
                              Num(fwd.A[j, row])))
        if worked.out_activated and not worked.classifies:
            out = worked.out_act
            lines.append(equation(Sym(unit), Call(out, Sym(into)), Call(out, Num(fwd.A[j, row])), Num(fwd.Yhat[j, row])))
    if worked.classifies:  # after every a_j: the softmax takes them all
        return lines + _probabilities(worked, row)
    for j, (y, yhat) in enumerate(zip(worked.targets, worked.outputs)):
        lines.append(equation(Sub(Sym(y), Sym(yhat)), Sub(Num(worked.Y[j, row]), Num(fwd.Yhat[j, row])), Num(worked.E[j, row])))
    return lines


def _probabilities(worked: WorkedEpoch, row: int) -> list:
    """A classifier's outputs of one row (0-based) with its numbers: yhat = sigmoid(a) = 1/(1 + exp(-a));
    or the softmax's sum sum_l exp(a_l) = exp(a1) + ... + exp(am), then yhat_j = exp(a_j) / sum_l exp(a_l)
    with that sum's value (written out instead where exp of a logit overflows)."""
    A, P = worked.forward.A[:, row], worked.forward.Yhat[:, row]
    if worked.loss_convention.binary:
        return [equation(Sym("yhat"), Call(worked.out_act, Sym("a")), Frac(Num(1), add(Num(1), Exp(Neg(Sym("a"))))),
                         Frac(Num(1), add(Num(1), Exp(Num(-A[0])))), Num(P[0]))]
    into, total = worked.into_outputs, SumOver(Exp(Sym("al")), "l", "m")
    exps = add(*(Exp(Num(a)) for a in A))
    with np.errstate(over="ignore"):
        summed = float(np.exp(A).sum())
    lines = [equation(total, add(*(Exp(Sym(a)) for a in into)), exps, Num(summed))] if np.isfinite(summed) else []
    below = Num(summed) if lines else exps
    return lines + [equation(Sym(out), Frac(Exp(Sym(a)), total), Frac(Exp(Num(A[j])), below), Num(P[j]))
                    for j, (out, a) in enumerate(zip(worked.outputs, into))]


def _activation_rule(worked: WorkedEpoch, h: int):
    """dL/dz1_i = dL/dN1_i * dN1_i/dz1_i = dL/dN1_i * (1 - N1_i^2) for tanh."""
    unit, z = f"N{h}", f"z{h}"
    return equation(
        grad(z, "i"), mul(grad(unit, "i"), Partial(Sym(unit, "i"), Sym(z, "i"))),
        mul(grad(unit, "i"), _as_factor(_slope(worked.act, h, "i"))),
    )


def _as_factor(slope: Expr) -> Expr:
    """A slope as one factor of a product: a product as it is, anything else in parentheses."""
    return slope if isinstance(slope, Mul) else Paren(slope)


def _slope(act: Activation, unit: int | str, row: str | None = None) -> Expr:
    """dN/dz of hidden unit `unit` (1 or "h") in terms of N or z: 1 - N1^2 for tanh."""
    return act.slope(Sym(f"N{unit}", row), Sym(f"z{unit}", row))


def _out_slope(act: Activation, output: str, row: str | None = None, grouped: bool = False) -> Expr:
    """dyhat/da of an output (yhat, yhat1, "yhatj") in terms of yhat (and a): yhat (1 - yhat) for
    sigmoid, 1 - yhat^2 for tanh (as a factor when `grouped`)."""
    slope = act.slope(Sym(output, row), Sym(output.replace("yhat", "a"), row))
    return _as_factor(slope) if grouped else slope


def _activation_step(worked: WorkedEpoch, row: int, h: int):
    """dL/dz_h = dL/dN_h * dN_h/dz_h for one row (0-based index) and hidden unit h (0-based), numbers plugged in."""
    back = worked.backward
    dN, N, z = back.dL_dN[h, row], worked.forward.N[h, row], worked.forward.Z[h, row]
    slope, dZ = back.dN_dZ[h, row], back.dL_dZ[h, row]
    lhs = grad(f"z{h + 1}")
    if worked.act.kink:
        note = equation(Sym(f"z{h + 1}"), Num(z), Num(0), relations=("=", ">" if z > 0 else "<="))
        return equation(lhs, mul(Num(dN), Num(slope)), Num(dZ), note=note)
    valued = worked.act.slope(Num(N), Num(z))
    plugged = mul(Num(dN), *(valued.factors if isinstance(valued, Mul) else (Paren(valued),)))
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
    number, each row's factors side by side, for the first `terms` rows. A classifier's chain
    starts at dL/da_i, the loss's derivative and the link's slope in one (section 3)."""
    unit, z = f"N{h + 1}", _linear_symbol(worked, h + 1)
    back, w = worked.backward, worked.params.as_dict()
    outputs = list(zip(worked.into_outputs if worked.classifies else worked.outputs, worked.params.W_out_names[:, h]))
    last = [Partial(Sym(unit, "i"), Sym(z, "i")), Partial(Sym(z, "i"), Sym(name))] if worked.activated else [
        Partial(Sym(unit, "i"), Sym(name))]
    named = [mul(grad(out, "i"), Partial(Sym(out, "i"), Sym(unit, "i"))) for out, _ in outputs]
    sloped = worked.out_activated and not worked.classifies
    out_slope = lambda out: [_out_slope(worked.out_act, out, "i", grouped=True)] if sloped else []  # noqa: E731
    by_name = [mul(grad(out, "i"), *out_slope(out), Sym(weight)) for out, weight in outputs]
    slope = [_as_factor(_slope(worked.act, h + 1, "i"))] if worked.activated else []
    x = Num(1) if j is None else Sym(f"x{j + 1}", "i")
    products = []
    for row in range(terms):
        upstream = back.dL_dA[:, row] if worked.classifies else back.dL_dYhat[:, row]
        through = [mul(Num(upstream[o]), *([Num(back.dYhat_dA[o, row])] if sloped else []), Num(w[weight]))
                   for o, (_, weight) in enumerate(outputs)]
        hidden_slope = [Num(back.dN_dZ[h, row])] if worked.activated else []
        products.append(mul(*_factors(through), *hidden_slope, Num(1) if j is None else Num(worked.X[row, j])))
    return [SumOver(mul(*_factors(named), *last)), SumOver(mul(*_factors(by_name), *slope, x)), _sum(products, worked.n)]


def _factors(terms: list[Expr]) -> list[Expr]:
    """One output's chain factors side by side, or several outputs' in a parenthesised sum."""
    return list(terms[0].factors) if len(terms) == 1 else [Paren(add(*terms), big=True)]


# --- pieces ------------------------------------------------------------------------------------


def _hidden_units(worked: WorkedEpoch) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """(unit, what it takes in, its weights, its bias) for N1..NH: ("N1", (x1, x2, x3), (w1, w2, w3), "b1"), ...;
    the bias "" without biases."""
    params = worked.params
    return [(f"N{h + 1}", worked.inputs, tuple(weights), bias)
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
