"""An exercise's sheet and key as format-free sections (sections.py), for every view of them in render/.

The sheet states the network (drawn with its parameters' names, their values left to the table
of starting weights; drawn with those values; or not drawn: `figure` "symbols", "values" or
"none"), its rows and starting weights, eta and the loss, then numbers the
quantities to find, blank. The key lists every quantity worked out (asked or not, so that grading
can carry a student's slip forward through the ones between), with its formula in upstream names,
exact value, hand-rounded value and tolerance. The givens are written with the variant's decimal
places (1.00 beside 0.91; a classifier's targets as 0 and 1), hand-rounded values with their
significant digits (1.120, 4.00), the key's exact values to 6 significant digits. The command that
regenerates a variant is on the key alone: the sheet names its seed, so that a student with the
data cannot print the key.
"""

from __future__ import annotations

from decimal import Decimal

from ..activations import ACTIVATIONS
from ..grading import Mark
from ..losses import LOSSES
from ..notation import Call, Num, Raw, Sub, Sym, equation, grad, mul
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Paragraph, Table, cells, text
from ..worksheet import ANSWER_DIGITS, Exercise


# A weight after the step, as the sheet's questions name it (w1').
_UPDATED = Raw("w'", "w'", "<msup><mi>w</mi><mo>′</mo></msup>")


def _number(value: float) -> str:
    return repr(float(value)) if len(repr(float(value))) <= 10 else f"{value:.6g}"


def _given(value: float, decimals: int | None) -> str:
    """A given as the variant rounded it: with exactly `decimals` places (1.00, 0.91; 1 and 0 at none), never -0."""
    return _number(value) if decimals is None else f"{value + 0.0:.{decimals}f}"


def _significant(value: float, digits: int) -> str:
    """A hand-rounded value with its `digits` significant digits written out, trailing zeros kept: 1.120, 4.00, 1230."""
    written = Decimal(repr(float(value)))
    if written == 0 or not written.is_finite():
        return _number(value)
    return f"{written.quantize(Decimal(1).scaleb(written.adjusted() - digits + 1)):f}"


def _columns(exercise: Exercise, features: tuple[str, ...], target: tuple[str, ...], classes: tuple) -> list[Block]:
    """Which of the data's columns x1.. and y (y1.. for several targets) are, where their names are not the
    symbols themselves; a classifier's y (bce) or y1.. (softmax) are its classes' 0/1 indicators,
    named by the target column and its `classes` (their sorted labels), unless a column y holds 0 and 1."""
    symbols = [f"x{l}" for l in range(1, len(features) + 1)]
    columns = list(features)
    if not classes and len(target) == exercise.params.n_outputs:
        symbols += ["y"] if len(target) == 1 else [f"y{j}" for j in range(1, len(target) + 1)]
        columns += target
    pairs = [(symbol, column) for symbol, column in zip(symbols, columns) if symbol != column]
    parts: list = []
    for number, (symbol, column) in enumerate(pairs):
        parts += [", " if number else "The data's columns: ", f"{symbol} is ", Code(column)]
    if classes and not (exercise.params.n_outputs == 1 and target == ("y",) and tuple(map(str, classes)) == ("0", "1")):
        parts.append("; " if parts else "")
        if exercise.params.n_outputs == 1:
            parts += ["y = 1 means ", Code(target[0]), " = ", Code(str(classes[1])), ", y = 0 means ", Code(target[0]),
                      " = ", Code(str(classes[0]))]
        else:
            for j, label in enumerate(classes, 1):
                parts += [", " if j > 1 else "", f"y{j} is [", Code(target[0]), " = ", Code(str(label)), "]"]
            parts.append(" (1 where true, 0 where not)")
    return [Paragraph(text(*parts, "."))] if parts else []


def _weights(params, decimals: int | None) -> Table:
    """The starting weights a row per unit they lead into (N1.., then yhat or yhat1..), its weights
    from the layer before in order, then its bias: "w1 = 0.39"; a short grid beside the data."""
    values = params.as_dict()
    hidden, out, b_hidden, b_out = params.name_layers
    outputs = ["yhat"] if params.n_outputs == 1 else [f"yhat{j}" for j in range(1, params.n_outputs + 1)]
    width = max(params.n_inputs, params.n_hidden)
    units = [(f"N{h}", hidden[h - 1], b_hidden[h - 1]) for h in range(1, params.n_hidden + 1)]
    units += [(name, out[j], b_out[j]) for j, name in enumerate(outputs)]

    def given(name: str) -> str:
        return f"{name} = {_given(values[name], decimals)}" if name else ""

    rows = tuple(cells(unit, *(given(name) for name in weights), *([""] * (width - len(weights))),
                       *((given(bias),) if params.bias else ())) for unit, weights, bias in units)
    return Table(header=cells("into", "weights", *([""] * (width - 1)), *(("bias",) if params.bias else ())),
                 rows=rows, align=("left",) * (width + 1 + params.bias))


def _setting(exercise: Exercise, features: tuple[str, ...], target: tuple[str, ...], figure: str) -> list[Block]:
    params, spec = exercise.params, LOSSES[exercise.convention]
    act, out = ACTIVATIONS[params.activation], ACTIVATIONS[params.output_activation]
    shape = (f"{params.n_inputs} inputs, {params.n_hidden} hidden units (",
             equation(Sym("N"), Sym("z") if act.identity else Call(act, Sym("z"))), f"), {params.n_outputs} "
             f"output{'s' if params.n_outputs > 1 else ''} (", equation(Sym("yhat"), Sym("a") if out.identity else Call(out, Sym("a"))), ")")
    givens = [q for q in exercise.quantities if q.kind == "given"]
    rows = sorted({q.name.split("[")[1].rstrip("]") for q in givens if "[" in q.name}, key=int)
    columns = list(dict.fromkeys(q.name.split("[")[0] for q in givens if "[" in q.name))
    by_name = {q.name: q.value for q in givens}

    def cell(column: str, row: str) -> str:
        value = by_name[f"{column}[{row}]"]
        return str(int(value)) if spec.classifies and column.startswith("y") else _given(value, exercise.decimals)

    data = Table(header=cells("row", *columns),
                 rows=tuple(cells(row, *(cell(column, row) for column in columns)) for row in rows),
                 align=("right",) * (len(columns) + 1))
    weights = _weights(params, exercise.decimals)
    blocks: list[Block] = [
        Paragraph(text("The network: ", *shape, ". The loss over the ", equation(Sym("n"), Num(len(rows))),
                       " rows below, and one step of gradient descent over all rows with ", equation(Sym("eta"), Num(exercise.lr)), ":")),
        Equations((equation(Sym("L"), spec.expression(params.n_outputs)), equation(_UPDATED, Sub(Sym("w"), mul(Sym("eta"), grad("w"))))),
                  together=True),
        *([] if figure == "none" else [Figure(params, features, target, symbols=figure == "symbols")]),
        Heading("Data"), data, Heading("Starting weights"), weights,
    ]
    if exercise.digits is not None:
        blocks.append(Paragraph(text(f"Round every number you work out to {exercise.digits} significant digits, "
                                     "and work on with the rounded number.")))
    else:
        blocks.append(Paragraph(text(f"Give every number you work out to at least {ANSWER_DIGITS} significant digits, "
                                     f"an updated w' to {ANSWER_DIGITS} of its step w - w'.")))
    return blocks


def sheet(exercise: Exercise, features: tuple[str, ...], target: tuple[str, ...], classes: tuple, figure: str) -> list[Block]:
    """The exercise sheet: the setting and the quantities to find, blank, and its seed. `features` and `target`
    are the data's names of x1.. and y (or y1..), `classes` a classifier's sorted labels (else ());
    `figure` symbols, values or none."""
    questions = Table(header=cells("", "find", "your answer"),
                      rows=tuple((text(str(number)), text(q.name), text(Blank())) for number, q in enumerate(exercise.questions, 1)),
                      align=("right", "left", "left"))
    return _document(f"Exercise (variant {exercise.seed})", exercise, None, features, target, classes, figure,
                     Heading("Find"), questions)


def key(exercise: Exercise, command: str, features: tuple[str, ...], target: tuple[str, ...], classes: tuple,
        figure: str) -> list[Block]:
    """The answer key: the sheet's setting, then every quantity with its formula, exact value,
    rounded value and tolerance, and `command`, which regenerates the variant."""
    worked = [q for q in exercise.quantities if q.kind != "given"]
    table = Table(header=cells("quantity", "asked", "formula", "value", "rounded", "tolerance"),
                  rows=tuple(cells(q.name, "yes" if exercise.is_asked(q) else "", q.formula, f"{q.value:.6g}",
                                   "" if q.rounded is None else _significant(q.rounded, exercise.digits),
                                   f"{q.tolerance:.2g}") for q in worked),
                  align=("left", "left", "left", "right", "right", "right"))
    return _document(f"Answer key (variant {exercise.seed})", exercise, command, features, target, classes, figure,
                     Heading("Answers"), table)


def statement(exercise: Exercise, command: str | None, features: tuple[str, ...], target: tuple[str, ...], classes: tuple,
              figure: str) -> list[Block]:
    """The exercise without its questions: what a Moodle quiz's description says before its numerical
    questions (render/moodle.py); the key's names `command`, a student's (`command` None) only its seed."""
    return _document(f"Exercise (variant {exercise.seed})", exercise, command, features, target, classes, figure)


def _document(title: str, exercise: Exercise, command: str | None, features: tuple[str, ...], target: tuple[str, ...],
              classes: tuple, figure: str, *body: Block) -> list[Block]:
    """A sheet's, key's or quiz's document: its title, the setting, the data's columns, `body`, and the command that
    regenerates the variant (a key's) or, for a student's (`command` None), its seed."""
    end = (Paragraph(text("This variant's seed: ", Code(str(exercise.seed)), ".")) if command is None
           else Paragraph(text("Regenerate this variant: ", Code(command))))
    return [Heading(title, level=1), *_setting(exercise, features, target, figure), *_columns(exercise, features, target, classes),
            *body, end]


def _seeded(marks: list[Mark]) -> bool:
    """Whether the answers named each student's seed (to be graded against several keys)."""
    return bool(marks) and marks[0].seed is not None


def grades(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> list[Block]:
    """fwdback grade's table: each answer's mark and reason (and seed), then the class list."""
    seeded = _seeded(marks)
    answers = Table(header=cells("student", "quantity", "value", "mark", "reason", *(("seed",) if seeded else ())),
                    rows=tuple(cells(m.student, m.quantity, "" if m.value is None else f"{m.value:.6g}", m.mark, m.reason, *((str(m.seed),) if seeded else ()))
                               for m in marks),
                    align=("left", "left", "right", "left", "left", *(("right",) if seeded else ())))
    return [Heading("Answers"), answers, *class_list(marks, totals)]


def class_list(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> list[Block]:
    """fwdback grade --totals's table: the class list, one row per student."""
    header, rows = _class_list_rows(marks, totals)
    return [Heading("Totals (correct and consistent answers)"),
            Table(header=cells(*header), rows=tuple(cells(*map(str, row)) for row in rows),
                  align=("left", *("right" for _ in header[1:])))]


def _class_list_rows(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> tuple[tuple[str, ...], list[tuple]]:
    """The class list's columns, student, points, of (and seed, where the answers named it), and its rows."""
    seeds = {m.student: m.seed for m in marks} if _seeded(marks) else None
    return (("student", "points", "of", *(("seed",) if seeds else ())),
            [(student, points, out_of, *((seeds[student],) if seeds else ())) for student, (points, out_of) in totals.items()])


def grades_csv(marks: list[Mark]) -> str:
    """One row per answer for a gradebook: student, quantity, value (blank where the student left it blank), mark,
    reason (and seed, where the answers named it)."""
    seeded = _seeded(marks)
    return _csv(("student", "quantity", "value", "mark", "reason", *(("seed",) if seeded else ())),
                ((m.student, m.quantity, "" if m.value is None else repr(m.value), m.mark, m.reason, *((m.seed,) if seeded else ())) for m in marks))


def class_list_csv(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> str:
    """One row per student, as a gradebook imports a grade: student, points, of (and seed)."""
    return _csv(*_class_list_rows(marks, totals))


def _csv(header: tuple[str, ...], rows) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def grades_document(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> dict:
    """fwdback grade --format json: the answers' marks and the students' totals (with seeds, where the answers named
    them); a blank answer's "value" is null."""
    seeded = _seeded(marks)
    return {"answers": [{"student": m.student, "quantity": m.quantity, "value": m.value, "mark": m.mark, "reason": m.reason}
                        | ({"seed": m.seed} if seeded else {}) for m in marks],
            "totals": class_list_document(marks, totals)}


def class_list_document(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> list[dict]:
    """fwdback grade --totals --format json: one object per student, "student", "points", "of" (and "seed")."""
    header, rows = _class_list_rows(marks, totals)
    return [dict(zip(header, row)) for row in rows]

