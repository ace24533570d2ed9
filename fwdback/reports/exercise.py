"""An exercise's sheet and key as format-free sections (sections.py), for every view of them in render/.

The sheet states the network (drawn with its parameters' names, their values left to the table
of starting weights; drawn with those values; or not drawn: `figure` "symbols", "values" or
"none"), its rows and starting weights, eta and the loss, then numbers the
quantities to find, blank. The key lists every quantity worked out (asked or not, so that grading
can carry a student's slip forward through the ones between), with its formula in upstream names,
exact value, hand-rounded value and tolerance. Numbers are written as Python's shortest repr of
the float (the givens are short: 0.35) or to 6 significant digits (the key's exact values).
"""

from __future__ import annotations

from ..activations import ACTIVATIONS
from ..grading import Mark
from ..losses import LOSSES
from ..sections import Blank, Block, Code, Figure, Heading, Paragraph, Table, cells, text
from ..worksheet import Exercise


def _number(value: float) -> str:
    return repr(float(value)) if len(repr(float(value))) <= 10 else f"{value:.6g}"


def _columns(exercise: Exercise, features: tuple[str, ...], target: tuple[str, ...]) -> list[Block]:
    """Which of DATA's columns x1.. and y (y1.. for several targets) are, where their names are not the
    symbols themselves; a softmax classifier's y1.. are its classes' 0/1 indicators, not columns."""
    symbols = [f"x{l}" for l in range(1, len(features) + 1)]
    columns = list(features)
    if len(target) == exercise.params.n_outputs:
        symbols += ["y"] if len(target) == 1 else [f"y{j}" for j in range(1, len(target) + 1)]
        columns += target
    pairs = [(symbol, column) for symbol, column in zip(symbols, columns) if symbol != column]
    if not pairs:
        return []
    parts: list = ["In DATA's columns: "]
    for number, (symbol, column) in enumerate(pairs):
        parts += [", " if number else "", f"{symbol} is ", Code(column)]
    return [Paragraph(text(*parts, "."))]


def _setting(exercise: Exercise, features: tuple[str, ...], target: tuple[str, ...], figure: str) -> list[Block]:
    params, spec = exercise.params, LOSSES[exercise.convention]
    act, out = ACTIVATIONS[params.activation], ACTIVATIONS[params.output_activation]
    shape = (f"{params.n_inputs} inputs, {params.n_hidden} hidden units "
             f"({'N = z' if act.identity else 'N = ' + act.written('plain', 'z')}), {params.n_outputs} "
             f"output{'s' if params.n_outputs > 1 else ''} ({'yhat = a' if out.identity else 'yhat = ' + out.written('plain', 'a')})")
    givens = [q for q in exercise.quantities if q.kind == "given"]
    rows = sorted({q.name.split("[")[1].rstrip("]") for q in givens if "[" in q.name}, key=int)
    columns = list(dict.fromkeys(q.name.split("[")[0] for q in givens if "[" in q.name))
    by_name = {q.name: q.value for q in givens}
    data = Table(header=cells("row", *columns),
                 rows=tuple(cells(row, *(_number(by_name[f"{column}[{row}]"]) for column in columns)) for row in rows),
                 align=("right",) * (len(columns) + 1))
    weights = Table(header=cells("parameter", "value"),
                    rows=tuple(cells(name, _number(value)) for name, value in params.as_dict().items()),
                    align=("left", "right"))
    blocks: list[Block] = [
        Paragraph(text(f"The network: {shape}. The loss: L = {spec.formula}, over the n = {len(rows)} rows below. "
                       f"One step of gradient descent over all rows: w' = w - eta * dL/dw with eta = {_number(exercise.lr)}.")),
        *([] if figure == "none" else [Figure(params, features, target, symbols=figure == "symbols")]),
        Heading("Data"), data, Heading("Starting weights"), weights,
    ]
    if exercise.digits is not None:
        blocks.append(Paragraph(text(f"Round every number you work out to {exercise.digits} significant digits, "
                                     "and work on with the rounded number.")))
    return blocks


def sheet(exercise: Exercise, command: str, features: tuple[str, ...], target: tuple[str, ...], figure: str) -> list[Block]:
    """The exercise sheet: the setting and the quantities to find, blank. `command` regenerates it;
    `features` and `target` are DATA's names of x1.. and y (or y1..); `figure` symbols, values or none."""
    questions = Table(header=cells("", "find", "your answer"),
                      rows=tuple((text(str(number)), text(q.name), text(Blank())) for number, q in enumerate(exercise.questions, 1)),
                      align=("right", "left", "left"))
    return [Heading(f"Exercise (variant {exercise.seed})", level=1), *_setting(exercise, features, target, figure), *_columns(exercise, features, target),
            Heading("Find"), questions,
            Paragraph(text("Regenerate this variant: ", Code(command)))]


def key(exercise: Exercise, command: str, features: tuple[str, ...], target: tuple[str, ...], figure: str) -> list[Block]:
    """The answer key: the sheet's setting, then every quantity with its formula, exact value,
    rounded value and tolerance."""
    worked = [q for q in exercise.quantities if q.kind != "given"]
    table = Table(header=cells("quantity", "asked", "formula", "value", "rounded", "tolerance"),
                  rows=tuple(cells(q.name, "yes" if exercise.is_asked(q) else "", q.formula, f"{q.value:.6g}",
                                   "" if q.rounded is None else _number(q.rounded), f"{q.tolerance:.2g}") for q in worked),
                  align=("left", "left", "left", "right", "right", "right"))
    return [Heading(f"Answer key (variant {exercise.seed})", level=1), *_setting(exercise, features, target, figure), *_columns(exercise, features, target),
            Heading("Answers"), table,
            Paragraph(text("Regenerate this variant: ", Code(command)))]


def grades(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> list[Block]:
    """fwdback grade's table: each answer's mark and reason, then each student's total."""
    answers = Table(header=cells("student", "quantity", "value", "mark", "reason"),
                    rows=tuple(cells(m.student, m.quantity, f"{m.value:.6g}", m.mark, m.reason) for m in marks),
                    align=("left", "left", "right", "left", "left"))
    total = Table(header=cells("student", "points", "of"),
                  rows=tuple(cells(student, str(points), str(out_of)) for student, (points, out_of) in totals.items()),
                  align=("left", "right", "right"))
    return [Heading("Answers"), answers, Heading("Totals (correct and consistent answers)"), total]


def grades_csv(marks: list[Mark]) -> str:
    """One row per answer for a gradebook: student, quantity, value, mark, reason."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("student", "quantity", "value", "mark", "reason"))
    writer.writerows((m.student, m.quantity, repr(m.value), m.mark, m.reason) for m in marks)
    return out.getvalue()


def grades_document(marks: list[Mark], totals: dict[str, tuple[int, int]]) -> dict:
    """fwdback grade --format json: the answers' marks and the students' totals."""
    return {"answers": [{"student": m.student, "quantity": m.quantity, "value": m.value, "mark": m.mark, "reason": m.reason}
                        for m in marks],
            "totals": [{"student": student, "points": points, "of": out_of} for student, (points, out_of) in totals.items()]}
