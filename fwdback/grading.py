"""Marking a class's answers against an exercise's key, with credit carried forward.

Each answer is
    correct     within the key's tolerance of the key's value;
    consistent  within tolerance of its formula evaluated on the student's OWN upstream values
                (their answers where they gave them, else worked on from their answers, else the
                givens): an earlier slip carried forward correctly, as STACK's potential-response
                trees credit it;
    wrong       neither, or left blank ("no answer"); the reason names the first factor of its
                formula (in the chain's order) that the student got wrong, else the one change of a
                factor that gives their value (`_slip`: w8 taken for w7, a sign flipped, eta left
                out), else the formula it should follow.
A student's total counts the correct and consistent answers of the quantities the key asks. An
answer to a given (x1[1], w1, eta) or to a quantity the sheet does not ask is marked all the same
(a miscopied given is a slip carried forward like any other), and its reason says it counts nothing.

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
    """`value`: None where the student left it blank; `seed`: the variant the student had (ANSWERS' seed
    column), None where ANSWERS has no such column."""

    student: str
    quantity: str
    value: float | None
    seed: int | None = None


@dataclass(frozen=True)
class Mark:
    student: str
    quantity: str
    value: float | None
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
        own = by_student.setdefault(answer.student, {})
        if answer.value is not None:
            own[answer.quantity] = answer.value
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

    if answer.value is None:
        return marked("wrong", "no answer")
    if not entry.asked and not entry.formula:
        right = _right(entry, answer.value)
        return marked("correct" if right else "wrong",
                      f"given on the sheet{'' if right else f' as {entry.value:.6g}'}, counts nothing")
    mark, reason = _judged(key, own, entry, answer.value)
    if not entry.asked:
        reason = "not asked on the sheet, counts nothing" + (f"; {reason}" if reason else "")
    return marked(mark, reason)


def _judged(key: dict[str, KeyEntry], own: dict[str, float], entry: KeyEntry, answer: float) -> tuple[str, str]:
    """The mark of a student's answer to entry and its reason, from their `own` answers (name -> value)."""
    if _right(entry, answer):
        return "correct", ""
    if not entry.formula:
        return "wrong", f"the key's value is {entry.value:.6g}"
    carried: dict[str, float] = {}

    def value_of(name: str) -> float:
        if name in own and name != entry.quantity:
            return own[name]
        if name not in carried:
            upstream = key[name]
            carried[name] = upstream.value if not upstream.formula else evaluate(
                upstream.formula, {dep: value_of(dep) for dep in dependencies(upstream.formula)})
        return carried[name]

    values = {dep: value_of(dep) for dep in dependencies(entry.formula)}
    recomputed = evaluate(entry.formula, values)
    slips = [name for name in _upstream(key, entry) if name in own and not _right(key[name], own[name])]
    if slips and abs(answer - recomputed) <= entry.tolerance + half_unit(recomputed, 3):
        return "consistent", f"follows from your {', '.join(slips)}: {entry.formula} = {recomputed:.6g}"
    factors = [name for name in dependencies(entry.formula) if name in slips] or slips
    if factors:
        first = factors[0]
        return "wrong", f"first factor that differs: {first} (yours {own[first]:.6g}, the key's {key[first].value:.6g})"
    slip = _slip(key, entry, values, value_of, recomputed, answer)
    if slip:
        return "wrong", f"first factor that differs: {slip}"
    return "wrong", f"{entry.quantity} = {entry.formula} = {recomputed:.6g}"


def _slip(key: dict[str, KeyEntry], entry: KeyEntry, values: dict[str, float], value_of, right: float,
          answer: float) -> str | None:
    """The one change of entry's formula that gives the student's wrong answer, worked on their right upstream
    `values` (dependency -> value; value_of gives any other quantity's; `right` the formula's value on them),
    said as "w7 (your value follows with w8 in its place)"; None where no change or more than one gives it.
    The changes (_changes) are a handful per dependency, so the work is bounded by the formula's length."""
    found = []
    for factor, how, value in _changes(key, entry, values, value_of, right):
        within = entry.tolerance + half_unit(value, 3)
        if math.isfinite(value) and abs(answer - value) <= within and abs(right - value) > within:
            found.append(f"{factor} (your value follows {how})")
    return found[0] if len(found) == 1 else None


def _changes(key: dict[str, KeyEntry], entry: KeyEntry, values: dict[str, float], value_of, right: float):
    """(factor, how, value) of each slip a student makes in entry's formula, the value the formula then
    has: a dependency taken for another of its family (_family: w8 for w7, N2[1] for N1[1], x1[2] for x1[1]),
    a factor left out (eta), and where the formula is a sum, one of its terms left out or its sign
    flipped; and the sign of the whole flipped."""
    formula = entry.formula
    for dep in values:
        for other in _family(key, dep):
            yield dep, f"with {other} in its place", evaluate(formula, values | {dep: value_of(other)})
        name = re.escape(dep)
        if re.search(rf"[*/]\s*{name}(?![\w\['])|(?<![\w/\]']){name}\s*\*", formula):
            yield dep, "without it", evaluate(formula, values | {dep: 1.0})
    terms = _terms(formula)
    if len(terms) > 1:
        for sign, term in terms:
            term_value = sign * evaluate(term, values)
            yield term, "without it", right - term_value
            yield f"the sign of {term}", "with it flipped", right - 2 * term_value
    yield f"the sign of {entry.quantity}", "with it flipped", -right


def _terms(formula: str) -> list[tuple[int, str]]:
    """The formula's terms outside any parentheses, each with the sign it is added with:
    "w1 - eta*dL/dw1" -> (1, "w1"), (-1, "eta*dL/dw1")."""
    terms, depth, start, sign = [], 0, 0, 1
    for position, char in enumerate(formula):
        depth += (char == "(") - (char == ")")
        if depth == 0 and formula.startswith((" + ", " - "), position):
            terms.append((sign, formula[start:position]))
            start, sign = position + 3, 1 if formula[position + 1] == "+" else -1
    return terms + [(sign, formula[start:])]


def _family(key: dict[str, KeyEntry], name: str) -> list[str]:
    """The key's quantities named as `name` with one of its numbers changed: for w7 w1 .. w8, for N1[2]
    N2[2] and N1[1] (another unit, another row); for eta none."""
    parts = re.split(r"(\d+)", name)
    family = []
    for other in key:
        other_parts = re.split(r"(\d+)", other)
        if len(other_parts) == len(parts) and other_parts[::2] == parts[::2] and sum(
                a != b for a, b in zip(other_parts[1::2], parts[1::2])) == 1:
            family.append(other)
    return family


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
    """The answers of a CSV with the columns student, quantity, value (in any order, named in any case;
    others ignored) and, to be marked against several keys (class_keys), seed: the variant each student
    had. A blank value is a question left unanswered, as are the cells a short row leaves out.

    A file separated by semicolons (or tabs), as a spreadsheet set to decimal commas saves CSV, is
    refused, not read: its numbers may be written 0,3966 or 0.3966 or 1.234,5, and a guess that reads
    one the wrong way would mark a class wrong without a word, where saving it again costs a minute."""
    import csv
    import io

    from .errors import AnswersError

    records = list(csv.reader(io.StringIO(text)))
    if not records:
        raise AnswersError(source, None, "it is empty; give a CSV with the columns student,quantity,value")
    header = [name.strip().lower() for name in records[0]]
    separator = next((name for mark, name in ((";", "semicolons, as a spreadsheet set to decimal commas saves CSV"),
                                                ("\t", "tabs")) if len(header) == 1 and mark in header[0]), None)
    if separator:
        raise AnswersError(source, 1, f"the header {records[0][0]!r} is one column: the file is separated by {separator}; "
                                      "save it as CSV separated by commas, with points in the numbers (0.3966, not 0,3966)")
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
        record = record + [""] * (len(header) - len(record))  # a spreadsheet may leave a row's last blank cells out
        student, quantity, value, *written_seed = (record[column].strip() for column in columns)
        if not student:
            raise AnswersError(source, row, "column student is empty; write whose answer it is")
        seed = _seed(written_seed[0], source, row, keys) if seeded else None
        if seeded and seeds.setdefault(student, (seed, row))[0] != seed:
            raise AnswersError(source, row, f"column seed: {student}'s seed is {seed} here but {seeds[student][0]} on row "
                                            f"{seeds[student][1]}; each student answers one variant")
        key = keys[seed] if seeded else next(iter(keys.values()))
        if quantity not in key:
            raise AnswersError(source, row, f"column quantity: {quantity!r} is not in the key; name one as the sheet "
                                            f"does, such as {next(iter(name for name, e in key.items() if e.asked), quantity)}")
        number = None if not value else _value(value, source, row)
        if (student, quantity) in seen:
            raise AnswersError(source, row, f"{student} answers {quantity} again (first on row {seen[student, quantity]}); "
                                            "keep one answer per quantity")
        seen[student, quantity] = row
        answers.append(Answer(student, quantity, number, seed))
    if not answers:
        raise AnswersError(source, None, "it has no answers below its header")
    return answers


def _value(written: str, source: str, row: int) -> float:
    """An answer's value column, a finite number."""
    from .errors import AnswersError

    try:
        number = float(written)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise AnswersError(source, row, f"column value: {written!r} is not a number; write it as 0.35 or -1.2e-3 (a point, "
                                        "not a comma), or leave it blank for a question not answered")
    return number


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
