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

A class whose students had different variants is marked against several keys, one per seed: the
seed of a key is in its name (key-<seed>.json, as `fwdback exercise` writes it, since the key itself
is a bare list of quantities), each answer names its student's seed, and the keys must be variants
of one exercise (the same quantities, formulas and questions), so that every total is of as many.
"""

from __future__ import annotations

import math
import os
import re
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
    """`seed`: the variant the student had (ANSWERS' seed column), None where ANSWERS has no such column."""

    student: str
    quantity: str
    value: float
    seed: int | None = None


@dataclass(frozen=True)
class Mark:
    student: str
    quantity: str
    value: float
    mark: str
    reason: str
    seed: int | None = None


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


KEY_NAME = re.compile(r"key-(\d+)\.json")


def key_seed(path: str) -> int | None:
    """The seed a key's file name gives (key-<seed>.json, as fwdback exercise names it), else None."""
    match = KEY_NAME.fullmatch(os.path.basename(path))
    return int(match.group(1)) if match else None


def class_keys(keys: list[tuple[str, dict[str, KeyEntry]]]) -> dict[int | None, dict[str, KeyEntry]]:
    """The keys given, (path, key) each in the order given, by their seeds: a single key whatever its
    name (under None where the name gives no seed); several each named key-<seed>.json, each seed
    once, all variants of the first one's exercise."""
    from .errors import display_name

    if len(keys) == 1:
        path, key = keys[0]
        return {key_seed(path): key}
    first_path, first = keys[0]
    by_seed: dict[int | None, dict[str, KeyEntry]] = {}
    paths: dict[int, str] = {}
    for path, key in keys:
        seed = key_seed(path)
        if seed is None:
            raise KeyFileError(path, "its name does not give its seed; with several keys, name each key-<seed>.json "
                                     "as fwdback exercise writes it")
        if seed in by_seed:
            again = "it is given twice" if paths[seed] == path else f"seed {seed} is {display_name(paths[seed])}'s too"
            raise KeyFileError(path, f"{again}; give each variant's key once")
        difference = _shape_difference(key, first)
        if difference:
            raise KeyFileError(path, f"it is not a variant of {display_name(first_path)}'s exercise: {difference}; "
                                     "give the keys of one fwdback exercise run")
        by_seed[seed], paths[seed] = key, path
    return by_seed


def _shape_difference(key: dict[str, KeyEntry], reference: dict[str, KeyEntry]) -> str:
    """How `key` differs from `reference` in its quantities, their formulas or what it asks ("" where it does not)."""
    for name, entry in key.items():
        if name not in reference:
            return f"it lists {name}, which that key does not"
        if entry.formula != reference[name].formula:
            return f"its {name} is {entry.formula or 'given'}, that key's {reference[name].formula or 'given'}"
        if entry.asked != reference[name].asked:
            return f"it {'asks' if entry.asked else 'does not ask'} {name}, which that key {'does not' if entry.asked else 'does'}"
    missing = [name for name in reference if name not in key]
    return f"it does not list {missing[0]}, which that key does" if missing else ""


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


def grade_class(keys: dict[int | None, dict[str, KeyEntry]], answers: list[Answer]) -> tuple[list[Mark], dict[str, tuple[int, int]]]:
    """grade, each answer against the key of its seed (read_answers has checked that there is one):
    the marks in the answers' order, the totals in the order of each student's first answer.
    Answers without seeds are all marked against the one key."""
    if all(answer.seed is None for answer in answers):
        (key,) = keys.values()
        return grade(key, answers)
    marks: list[Mark] = [None] * len(answers)
    totals: dict[str, tuple[int, int]] = {}
    for seed, key in keys.items():
        positions = [number for number, answer in enumerate(answers) if answer.seed == seed]
        seed_marks, seed_totals = grade(key, [answers[number] for number in positions])
        for number, mark in zip(positions, seed_marks):
            marks[number] = mark
        totals |= seed_totals
    return marks, {student: totals[student] for student in dict.fromkeys(answer.student for answer in answers)}


def _right(entry: KeyEntry, value: float) -> bool:
    return abs(value - entry.value) <= entry.tolerance


def _mark(key: dict[str, KeyEntry], own: dict[str, float], answer: Answer) -> Mark:
    entry = key[answer.quantity]

    def marked(mark, reason=""):
        return Mark(answer.student, answer.quantity, answer.value, mark, reason, answer.seed)

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


def read_answers(text: str, source: str, keys: dict[int | None, dict[str, KeyEntry]]) -> list[Answer]:
    """The answers of a CSV with the columns student, quantity, value (in any order; others ignored)
    and, to be marked against several keys (class_keys), seed: the variant each student had."""
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
    seeded = "seed" in header
    if len(keys) > 1 and not seeded:
        raise AnswersError(source, 1, f"no column 'seed'; with {len(keys)} keys, each answer needs the seed of its "
                                      "student's variant, as the sheet names it")
    if seeded and None in keys:
        raise AnswersError(source, 1, "column seed: the key's name does not give its seed; name it key-<seed>.json as "
                                      "fwdback exercise writes it, or leave out the seed column")
    columns = [header.index(name) for name in ("student", "quantity", "value", *(("seed",) if seeded else ()))]
    answers, seen, seeds = [], {}, {}
    for row, record in enumerate(records[1:], 2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) <= max(columns):
            raise AnswersError(source, row, f"has {len(record)} cells, fewer than the header's {len(header)}")
        student, quantity, value, *written_seed = (record[column].strip() for column in columns)
        seed = _seed(written_seed[0], source, row, keys) if seeded else None
        if seeded and seeds.setdefault(student, (seed, row))[0] != seed:
            raise AnswersError(source, row, f"column seed: {student}'s seed is {seed} here but {seeds[student][0]} on row "
                                            f"{seeds[student][1]}; each student answers one variant")
        key = keys[seed] if seeded else next(iter(keys.values()))
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
        answers.append(Answer(student, quantity, number, seed))
    if not answers:
        raise AnswersError(source, None, "it has no answers below its header")
    return answers


def _seed(written: str, source: str, row: int, keys: dict[int | None, dict[str, KeyEntry]]) -> int:
    """An answer's seed column, one of the keys' seeds."""
    from .errors import AnswersError

    if not re.fullmatch(r"[0-9]+(\.0*)?", written):  # 100.0: as a spreadsheet may write a whole number
        raise AnswersError(source, row, f"column seed: {written!r} is not a seed; write the variant's seed as its sheet "
                                        "names it, a whole number such as 100")
    seed = int(written.split(".")[0])
    if seed not in keys:
        given = sorted(keys)
        seeds = str(given[0]) if len(given) == 1 else f"{given[0]} to {given[-1]}"
        raise AnswersError(source, row, f"column seed: seed {seed} is not among the keys' seeds ({seeds}); "
                                        f"give key-{seed}.json too")
    return seed
