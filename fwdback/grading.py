"""Marking a class's answers against an exercise's key, with credit carried forward.

Each answer is
    correct     within the key's tolerance of the key's value;
    consistent  within tolerance of its formula evaluated on the student's OWN upstream values
                (their answers where they gave them, else worked on from their answers, else the
                givens): an earlier slip carried forward correctly, as STACK's potential-response
                trees credit it;
    wrong       neither; the reason names the first factor of its formula (in the chain's order)
                that the student got wrong, or the formula it should follow.
A student's total counts the correct and consistent answers of the quantities the key asks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import KeyFileError
from .worksheet import FormulaError, dependencies, evaluate, half_unit


@dataclass(frozen=True)
class KeyEntry:
    """One quantity of a key: `formula` "" for a given; `asked` whether the sheet asks for it (a key
    without "asked" asks for every quantity that is not of the "kind" "given")."""

    quantity: str
    value: float
    tolerance: float
    formula: str
    asked: bool


@dataclass(frozen=True)
class Answer:
    student: str
    quantity: str
    value: float


@dataclass(frozen=True)
class Mark:
    student: str
    quantity: str
    value: float
    mark: str
    reason: str


def key_entries(document, source: str) -> dict[str, KeyEntry]:
    """The key read from its JSON document (a list of objects with at least "quantity" and "value")."""
    if not isinstance(document, list) or not document:
        raise KeyFileError(source, "it is not a list of quantities, as `fwdback exercise --format json` writes key-<seed>.json")
    entries = {}
    for position, item in enumerate(document, 1):
        if not isinstance(item, dict) or not isinstance(item.get("quantity"), str) or not _number(item.get("value")):
            raise KeyFileError(source, f"entry {position} needs a \"quantity\" name and a numeric \"value\"")
        value = float(item["value"])
        tolerance = item.get("tolerance")
        formula = item.get("formula") or ""
        if not isinstance(formula, str) or tolerance is not None and not (_number(tolerance) and tolerance >= 0):
            raise KeyFileError(source, f"entry {position} ({item['quantity']}): \"formula\" must be text and \"tolerance\" "
                                       "a number of at least 0")
        entries[item["quantity"]] = KeyEntry(item["quantity"], value, half_unit(value, 3) if tolerance is None else float(tolerance),
                                             formula, bool(item.get("asked", item.get("kind") != "given")))
    for entry in entries.values():
        missing = [name for name in dependencies(entry.formula) if name not in entries]
        if missing:
            raise KeyFileError(source, f"{entry.quantity}'s formula uses {missing[0]}, which the key does not list")
        if entry.formula:
            try:
                evaluate(entry.formula, {name: entries[name].value for name in dependencies(entry.formula)})
            except FormulaError as error:
                raise KeyFileError(source, f"{entry.quantity}: {error}") from None
    return entries


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def grade(key: dict[str, KeyEntry], answers: list[Answer]) -> tuple[list[Mark], dict[str, tuple[int, int]]]:
    """Each answer's mark, in the answers' order, and each student's total: (points, quantities asked)."""
    by_student: dict[str, dict[str, float]] = {}
    for answer in answers:
        by_student.setdefault(answer.student, {})[answer.quantity] = answer.value
    marks = [_mark(key, by_student[answer.student], answer) for answer in answers]
    asked = sum(entry.asked for entry in key.values())
    totals = {student: (0, asked) for student in by_student}
    for mark in marks:
        if mark.mark != "wrong" and key[mark.quantity].asked:
            points, out_of = totals[mark.student]
            totals[mark.student] = (points + 1, out_of)
    return marks, totals


def _right(entry: KeyEntry, value: float) -> bool:
    return abs(value - entry.value) <= entry.tolerance


def _mark(key: dict[str, KeyEntry], own: dict[str, float], answer: Answer) -> Mark:
    entry = key[answer.quantity]

    def marked(mark, reason=""):
        return Mark(answer.student, answer.quantity, answer.value, mark, reason)

    if _right(entry, answer.value):
        return marked("correct")
    if not entry.formula:
        return marked("wrong", f"{entry.quantity} is given as {entry.value:.6g}")
    carried: dict[str, float] = {}

    def value_of(name: str) -> float:
        if name in own and name != answer.quantity:
            return own[name]
        if name not in carried:
            upstream = key[name]
            carried[name] = upstream.value if not upstream.formula else evaluate(
                upstream.formula, {dep: value_of(dep) for dep in dependencies(upstream.formula)})
        return carried[name]

    recomputed = evaluate(entry.formula, {dep: value_of(dep) for dep in dependencies(entry.formula)})
    slips = [name for name in _upstream(key, entry) if name in own and not _right(key[name], own[name])]
    if slips and abs(answer.value - recomputed) <= entry.tolerance + half_unit(recomputed, 3):
        return marked("consistent", f"follows from your {', '.join(slips)}: {entry.formula} = {recomputed:.6g}")
    factors = [name for name in dependencies(entry.formula) if name in slips] or slips
    if factors:
        first = factors[0]
        return marked("wrong", f"first factor that differs: {first} (yours {own[first]:.6g}, the key's {key[first].value:.6g})")
    return marked("wrong", f"{entry.quantity} = {entry.formula} = {recomputed:.6g}")


def _upstream(key: dict[str, KeyEntry], entry: KeyEntry) -> list[str]:
    """Every quantity the entry's formula depends on, directly or through others, nearest first."""
    seen, queue = [], list(dependencies(entry.formula))
    while queue:
        name = queue.pop(0)
        if name not in seen:
            seen.append(name)
            queue += dependencies(key[name].formula)
    return seen


def read_answers(text: str, source: str, key: dict[str, KeyEntry]) -> list[Answer]:
    """The answers of a CSV with the columns student, quantity, value (in any order; others ignored)."""
    import csv
    import io

    from .errors import AnswersError

    records = list(csv.reader(io.StringIO(text)))
    if not records:
        raise AnswersError(source, None, "it is empty; give a CSV with the columns student,quantity,value")
    header = [name.strip() for name in records[0]]
    missing = [name for name in ("student", "quantity", "value") if name not in header]
    if missing:
        raise AnswersError(source, 1, f"no column {missing[0]!r}; the header must name student,quantity,value")
    columns = [header.index(name) for name in ("student", "quantity", "value")]
    answers, seen = [], {}
    for row, record in enumerate(records[1:], 2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) <= max(columns):
            raise AnswersError(source, row, f"has {len(record)} cells, fewer than the header's {len(header)}")
        student, quantity, value = (record[column].strip() for column in columns)
        if quantity not in key:
            raise AnswersError(source, row, f"column quantity: {quantity!r} is not in the key; name one as the sheet "
                                            f"does, such as {next(iter(name for name, e in key.items() if e.asked), quantity)}")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise AnswersError(source, row, f"column value: {value!r} is not a number; write it as 0.35 or -1.2e-3")
        if (student, quantity) in seen:
            raise AnswersError(source, row, f"{student} answers {quantity} again (first on row {seen[student, quantity]}); "
                                            "keep one answer per quantity")
        seen[student, quantity] = row
        answers.append(Answer(student, quantity, number))
    if not answers:
        raise AnswersError(source, None, "it has no answers below its header")
    return answers
