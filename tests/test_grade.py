"""fwdback grade: crafted answer sets against a key that fwdback exercise wrote.

Each student's answers are worked out here by hand from the key's givens (the lecture's
formulas written by name), with deliberate slips; the expected marks follow from how they were made.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = "x1,x2,x3,y\n0.35,-0.12,0.8,1.5\n0.5,0.25,-0.4,-0.3\n"
# The lecture's network on 2 rows asks 35 quantities: N1, N2, yhat of each row (6), L (1),
# dL/dyhat of each row and dL/dw7, dL/dw8, dL/db3 (5), dL/dN1, dL/dN2 of each row and the
# gradients of w1..w6, b1, b2 (12), and the 11 updated parameters.
ASKED = 35


@pytest.fixture
def key(run, workdir):
    """The key of the lecture's network on DATA's two rows, seed 3, rounding to 4 digits: name -> entry."""
    (workdir / "data.csv").write_text(DATA)
    result = run(["exercise", "data.csv", "--seed", "3", "--round", "4", "--format", "json", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    path = next((workdir / "out").glob("key-*.json"))
    path.rename(workdir / "key.json")
    return {entry["quantity"]: entry for entry in json.loads((workdir / "key.json").read_text())}


def _grade(run, workdir, rows, *options):
    (workdir / "answers.csv").write_text("student,quantity,value\n" + "".join(f"{s},{q},{v!r}\n" for s, q, v in rows))
    result = run(["grade", "key.json", "answers.csv", "--format", "csv", *options])
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _v(key, name):
    return key[name]["value"]


def _forward_1(key, N1):
    """yhat[1] = w7 N1[1] + w8 N2[1] + b3, from a student's N1[1]."""
    return _v(key, "w7") * N1 + _v(key, "w8") * _v(key, "N2[1]") + _v(key, "b3")


def test_all_right_answers_are_correct_whether_exact_or_rounded(run, workdir, key):
    asked = [name for name, entry in key.items() if entry["asked"]]
    rows = [("ann", name, key[name]["rounded"]) for name in asked] + [("ben", name, key[name]["value"]) for name in asked]
    marks = _grade(run, workdir, rows)
    assert [row["mark"] for row in marks] == ["correct"] * len(rows)
    assert list(marks[0]) == ["student", "quantity", "value", "mark", "reason"]
    totals = json.loads(run(["grade", "key.json", "answers.csv", "--format", "json"]).stdout)["totals"]
    assert totals == [{"student": "ann", "points": len(asked), "of": len(asked)},
                      {"student": "ben", "points": len(asked), "of": len(asked)}]


def test_an_early_slip_carried_forward_is_consistent(run, workdir, key):
    N1 = _v(key, "N1[1]") + 0.5  # a slip in the first step
    yhat = _forward_1(key, N1)  # carried forward right
    y1, y2, yhat2 = _v(key, "y[1]"), _v(key, "y[2]"), _v(key, "yhat[2]")
    loss = ((y1 - yhat) ** 2 + (y2 - yhat2) ** 2) / 2  # mse over the 2 rows, with their yhat[1]
    dyhat = -(y1 - yhat)  # dL/dyhat[1] = -(2/n)(y - yhat), n = 2
    marks = _grade(run, workdir, [("cem", "N1[1]", N1), ("cem", "yhat[1]", yhat), ("cem", "L", loss),
                                  ("cem", "dL/dyhat[1]", dyhat)])
    assert [row["mark"] for row in marks] == ["wrong", "consistent", "consistent", "consistent"]
    assert "N1[1]" in marks[1]["reason"] and "yhat[1]" in marks[2]["reason"]


def test_a_wrong_factor_is_named(run, workdir, key):
    dyhat_1 = +(_v(key, "y[1]") - _v(key, "yhat[1]"))  # the sign of dL/dyhat[1] lost
    dw7 = dyhat_1 * _v(key, "N1[1]") + _v(key, "dL/dyhat[2]") * _v(key, "N1[2]") + 0.25  # and then a slip of its own
    dw8 = _v(key, "dL/dw8") + 1.0  # another student: wrong with every factor right
    marks = _grade(run, workdir, [("dee", "dL/dyhat[1]", dyhat_1), ("dee", "dL/dw7", dw7), ("eve", "dL/dw8", dw8)])
    assert [row["mark"] for row in marks] == ["wrong", "wrong", "wrong"]
    assert marks[1]["reason"].startswith("first factor that differs: dL/dyhat[1]")
    assert marks[2]["reason"].startswith("dL/dw8 = dL/dyhat[1]*N2[1] + dL/dyhat[2]*N2[2]")
    table = run(["grade", "key.json", "answers.csv"])
    assert table.exit_code == 0 and "dee" in table.stdout and "wrong" in table.stdout


@pytest.mark.parametrize("answers, said", [
    ("student,quantity\nann,N1[1]\n", "answers.csv, row 1: no column 'value'"),
    ("student,quantity,value\nann,N1[1],0.3\nann,N9[1],0.2\n", "answers.csv, row 3: column quantity: 'N9[1]' is not in the key"),
    ("student,quantity,value\nann,N1[1],abc\n", "answers.csv, row 2: column value: 'abc' is not a number"),
    ("student,quantity,value\nann,N1[1],0.3\nann,N1[1],0.4\n", "answers.csv, row 3: ann answers N1[1] again"),
    ("student,quantity,value\nann,N1[1],0.3\n ,N2[1],0.2\n", "answers.csv, row 3: column student is empty"),
    ("student;quantity;value\nann;N1[1];0,128\n",  # as a spreadsheet set to decimal commas saves "CSV"
     "answers.csv, row 1: the header 'student;quantity;value' is one column: the file is separated by semicolons, "
     "as a spreadsheet set to decimal commas saves CSV; save it as CSV separated by commas, with points in the numbers"),
])
def test_bad_answers_are_refused_with_one_error_line(run, workdir, key, answers, said):
    (workdir / "answers.csv").write_text(answers)
    result = run(["grade", "key.json", "answers.csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {said}") and result.stderr.count("\n") == 1


def test_a_key_that_is_not_one_is_refused(run, workdir):
    (workdir / "key.json").write_text("{not json")
    (workdir / "answers.csv").write_text("student,quantity,value\nann,N1[1],0.3\n")
    result = run(["grade", "key.json", "answers.csv"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: key.json: is not JSON")
    (workdir / "key.json").write_text('[{"quantity": "N1[1]", "value": 1, "formula": "w1*x1[1]"}]')
    result = run(["grade", "key.json", "answers.csv"])
    assert result.exit_code == 1 and "N1[1]'s formula uses w1, which the key does not list" in result.stderr
    (workdir / "key.json").write_text('[{"quantity": "w1", "value": 1}, {"quantity": "N1[1]", "value": 1, "formula": "w1.real"}]')
    result = run(["grade", "key.json", "answers.csv"])
    assert result.exit_code == 1 and "N1[1]'s formula uses real, which the key does not list" in result.stderr
    (workdir / "key.json").write_text('[{"quantity": "w1", "value": 1}, {"quantity": "N1[1]", "value": 1, "formula": "w1 +"}]')
    result = run(["grade", "key.json", "answers.csv"])
    assert result.exit_code == 1 and result.stderr == "Error: key.json: N1[1]: 'w1 +' is not a formula.\n"
    result = run(["grade", "missing.json", "answers.csv"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: missing.json: no such file")


def test_answers_from_stdin_or_with_a_byte_order_mark_are_read(run, workdir, key):
    answers = f"student,quantity,value\nann,L,{key['L']['value']!r}\n"
    (workdir / "answers.csv").write_bytes(b"\xef\xbb\xbf" + answers.encode())  # as a spreadsheet saves it
    for arguments, stdin in ((["answers.csv"], None), (["-"], answers)):
        result = run(["grade", "key.json", *arguments, "--format", "csv"], input=stdin)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[1].endswith(",correct,")
    result = run(["grade", "-", "-"], input=answers)
    assert result.exit_code == 2 and "KEY and ANSWERS cannot both be stdin" in result.stderr


def test_a_missing_argument_is_named_as_before_several_keys(run, workdir):
    assert run(["grade", "key.json"]).stderr.startswith("Error: Missing argument 'ANSWERS'")
    result = run(["grade"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: Missing argument 'KEY...'")


def test_a_key_of_quantities_and_values_alone_marks_correct_or_wrong(run, workdir):
    # N1[1] = 0.5 within half a unit of its 3rd significant digit (0.0005) is correct
    (workdir / "key.json").write_text('[{"quantity": "N1[1]", "value": 0.5}, {"quantity": "L", "value": 2.25}]')
    (workdir / "answers.csv").write_text("student,quantity,value\nann,N1[1],0.5004\nann,L,2.3\n")
    result = run(["grade", "key.json", "answers.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [answer["mark"] for answer in document["answers"]] == ["correct", "wrong"]
    assert document["totals"] == [{"student": "ann", "points": 1, "of": 2}]


def _by_hand(key):
    """The forward pass and the output gradients of the key's two rows, worked from its givens (DATA's rows,
    the weights) with the lecture's formulas: name -> value, for N1[i], N2[i], yhat[i], dL/dyhat[i] (mse, n = 2)."""
    g = {name: entry["value"] for name, entry in key.items() if entry["kind"] == "given"}
    worked = {}
    for i in (1, 2):
        x1, x2, x3 = g[f"x1[{i}]"], g[f"x2[{i}]"], g[f"x3[{i}]"]
        worked[f"N1[{i}]"] = g["w1"] * x1 + g["w2"] * x2 + g["w3"] * x3 + g["b1"]
        worked[f"N2[{i}]"] = g["w4"] * x1 + g["w5"] * x2 + g["w6"] * x3 + g["b2"]
        worked[f"yhat[{i}]"] = g["w7"] * worked[f"N1[{i}]"] + g["w8"] * worked[f"N2[{i}]"] + g["b3"]
        worked[f"dL/dyhat[{i}]"] = -(g[f"y[{i}]"] - worked[f"yhat[{i}]"])  # -(2/n)(y - yhat), n = 2
    return g | worked


def test_a_blank_value_is_no_answer_marked_wrong_for_that_question_alone(run, workdir, key):
    h = _by_hand(key)
    # N1[1] blank, yhat[1] right, N2[1] a short row whose value cell is left out, as some spreadsheets save it
    (workdir / "answers.csv").write_text(f"student,quantity,value\nann,N1[1],\nann,yhat[1],{h['yhat[1]']!r}\nann,N2[1]\n")
    result = run(["grade", "key.json", "answers.csv", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert [(row["value"], row["mark"], row["reason"]) for row in csv.DictReader(io.StringIO(result.stdout))] == [
        ("", "wrong", "no answer"), (repr(h["yhat[1]"]), "correct", ""), ("", "wrong", "no answer")]
    document = json.loads(run(["grade", "key.json", "answers.csv", "--format", "json"]).stdout)
    assert document["answers"][0]["value"] is None and document["totals"] == [{"student": "ann", "points": 1, "of": ASKED}]


def test_the_header_is_read_in_any_case_with_spaces_around_its_names(run, workdir, key):
    h = _by_hand(key)
    (workdir / "answers.csv").write_text(f" Student ,QUANTITY, Value\nann,N1[1],{h['N1[1]']!r}\n")
    result = run(["grade", "key.json", "answers.csv", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"student,quantity,value,mark,reason\nann,N1[1],{h['N1[1]']!r},correct,\n"


def test_answers_to_givens_and_to_quantities_not_asked_count_nothing(run, workdir, key):
    h = _by_hand(key)
    assert [h[name] for name in ("w1", "x1[1]", "w2", "x2[1]", "w3", "x3[1]", "b1")] == [-0.48, 0.35, -0.3, -0.12, 0.35, 0.8, -0.02]
    w1 = 0.5  # miscopied: the sheet gives w1 = -0.48 ...
    N1 = w1 * h["x1[1]"] + h["w2"] * h["x2[1]"] + h["w3"] * h["x3[1]"] + h["b1"]  # ... and N1[1] worked on from it
    marks = _grade(run, workdir, [("ann", "x1[1]", 0.35), ("ann", "eta", 0.1), ("ann", "w1", w1), ("ann", "N1[1]", N1)])
    assert [(row["mark"], row["reason"]) for row in marks] == [
        ("correct", "given on the sheet, counts nothing"), ("correct", "given on the sheet, counts nothing"),
        ("wrong", "given on the sheet as -0.48, counts nothing"),
        ("consistent", "follows from your w1: w1*x1[1] + w2*x2[1] + w3*x3[1] + b1 = 0.471")]  # 0.175 + 0.036 + 0.28 - 0.02
    totals = json.loads(run(["grade", "key.json", "answers.csv", "--format", "json"]).stdout)["totals"]
    assert totals == [{"student": "ann", "points": 1, "of": ASKED}]
    result = run(["exercise", "data.csv", "--seed", "3", "--ask", "forward", "--format", "json", "--output-dir", "fw"])
    assert result.exit_code == 0, result.stderr
    loss = ((h["y[1]"] - h["yhat[1]"]) ** 2 + (h["y[2]"] - h["yhat[2]"]) ** 2) / 2
    (workdir / "answers.csv").write_text(f"student,quantity,value\nann,L,{loss!r}\nann,dL/dyhat[1],{-h['dL/dyhat[1]']!r}\n")
    result = run(["grade", "fw/key-3.json", "answers.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [(answer["mark"], answer["reason"]) for answer in document["answers"]] == [
        ("correct", "not asked on the sheet, counts nothing"),
        ("wrong", "not asked on the sheet, counts nothing; first factor that differs: the sign of dL/dyhat[1] "
                  "(your value follows with it flipped)")]
    assert document["totals"] == [{"student": "ann", "points": 0, "of": 6}]  # --ask forward: N1, N2, yhat of 2 rows


@pytest.mark.parametrize("quantity, slip, factor", [
    ("dL/dN1[1]", lambda h: h["w8"] * h["dL/dyhat[1]"], "w7 (your value follows with w8 in its place)"),
    ("dL/dw7", lambda h: h["dL/dyhat[1]"] * h["N2[1]"] + h["dL/dyhat[2]"] * h["N1[2]"],
     "N1[1] (your value follows with N2[1] in its place)"),
    ("dL/dN1[1]", lambda h: h["w7"] * h["dL/dyhat[2]"], "dL/dyhat[1] (your value follows with dL/dyhat[2] in its place)"),
    ("dL/dyhat[1]", lambda h: h["y[1]"] - h["yhat[1]"], "the sign of dL/dyhat[1] (your value follows with it flipped)"),
    ("N1[1]", lambda h: h["w1"] * h["x1[1]"] + h["w2"] * h["x2[1]"] - h["w3"] * h["x3[1]"] + h["b1"],
     "the sign of w3*x3[1] (your value follows with it flipped)"),
    ("dL/dw7", lambda h: h["dL/dyhat[1]"] * h["N1[1]"], "dL/dyhat[2]*N1[2] (your value follows without it)"),
    ("w1'", lambda h: h["w1"] - (h["dL/dyhat[1]"] * h["w7"] * h["x1[1]"] + h["dL/dyhat[2]"] * h["w7"] * h["x1[2]"]),
     "eta (your value follows without it)"),
])
def test_a_wrong_answer_on_right_values_names_the_one_slip_that_gives_it(run, workdir, key, quantity, slip, factor):
    marks = _grade(run, workdir, [("fay", quantity, slip(_by_hand(key)))])
    assert (marks[0]["mark"], marks[0]["reason"]) == ("wrong", f"first factor that differs: {factor}")


def test_a_wrong_answer_two_slips_give_alike_names_neither(run, workdir, key):
    h = _by_hand(key)
    row_2_for_row_1 = h["w1"] * h["x1[2]"] + h["w2"] * h["x2[1]"] + h["w3"] * h["x3[1]"] + h["b1"]  # -0.24 + 0.036 + 0.28 - 0.02
    sign_flipped = h["w1"] * h["x1[1]"] - h["w2"] * h["x2[1]"] + h["w3"] * h["x3[1]"] + h["b1"]  # -0.168 - 0.036 + 0.28 - 0.02
    assert abs(row_2_for_row_1 - 0.056) < 1e-12 and abs(sign_flipped - 0.056) < 1e-12
    marks = _grade(run, workdir, [("gus", "N1[1]", 0.056)])
    assert (marks[0]["mark"], marks[0]["reason"]) == ("wrong", "N1[1] = w1*x1[1] + w2*x2[1] + w3*x3[1] + b1 = 0.128")


# A class of three variants: each student's answers are worked by hand from their own variant's givens.

@pytest.fixture
def keys(run, workdir):
    """The keys of three variants of the lecture's network on DATA's two rows, seeds 3 on, rounding to 4
    digits, in sheets/ as exercise writes them: seed -> name -> entry."""
    (workdir / "data.csv").write_text(DATA)
    result = run(["exercise", "data.csv", "--variants", "3", "--seed", "3", "--round", "4", "--format", "json",
                  "--output-dir", "sheets"])
    assert result.exit_code == 0, result.stderr
    paths = sorted((workdir / "sheets").glob("key-*.json"))
    return {int(path.stem.split("-")[1]): {entry["quantity"]: entry for entry in json.loads(path.read_text())} for path in paths}


def _grade_class(run, workdir, keys, rows, *options):
    (workdir / "answers.csv").write_text("student,seed,quantity,value\n" + "".join(f"{s},{seed},{q},{v!r}\n" for s, seed, q, v in rows))
    result = run(["grade", *(f"sheets/key-{seed}.json" for seed in keys), "answers.csv", "--format", "csv", *options])
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))



def test_a_class_of_variants_is_marked_each_against_its_own_seed_s_key(run, workdir, keys):
    ann, ben, cem = keys
    assert len({keys[seed]["N1[1]"]["value"] for seed in keys}) == 3  # the variants differ where the students answer
    k = keys[ben]
    N1 = k["N1[1]"]["value"] - 0.3  # ben slips in his first step ...
    yhat = k["w7"]["value"] * N1 + k["w8"]["value"] * k["N2[1]"]["value"] + k["b3"]["value"]  # ... and carries it forward
    k = keys[cem]
    dyhat_1 = k["y[1]"]["value"] - k["yhat[1]"]["value"]  # cem loses the sign of -(2/n)(y - yhat), n = 2
    dw7 = dyhat_1 * k["N1[1]"]["value"] + 0.5  # and leaves out row 2's term dL/dyhat[2]*N1[2], the key's not 0.5
    assert abs(k["dL/dyhat[2]"]["value"] * k["N1[2]"]["value"] - 0.5) > 10 * k["dL/dw7"]["tolerance"]
    rows = ([("ann", ann, name, entry["rounded"]) for name, entry in keys[ann].items() if entry["asked"]]
            + [("ben", ben, "N1[1]", N1), ("ben", ben, "N2[1]", keys[ben]["N2[1]"]["value"]), ("ben", ben, "yhat[1]", yhat),
               ("cem", cem, "dL/dyhat[1]", dyhat_1), ("cem", cem, "dL/dw7", dw7)])
    marks = _grade_class(run, workdir, keys, rows)
    assert list(marks[0]) == ["student", "quantity", "value", "mark", "reason", "seed"]
    assert [(row["student"], row["mark"], row["seed"]) for row in marks[ASKED:]] == [
        ("ben", "wrong", str(ben)), ("ben", "correct", str(ben)), ("ben", "consistent", str(ben)),
        ("cem", "wrong", str(cem)), ("cem", "wrong", str(cem))]
    assert {row["mark"] for row in marks[:ASKED]} == {"correct"} and len(marks) == ASKED + 5
    assert marks[-1]["reason"].startswith("first factor that differs: dL/dyhat[1]")
    result = run(["grade", *(f"sheets/key-{seed}.json" for seed in keys), "answers.csv", "--totals", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"student,points,of,seed\nann,{ASKED},{ASKED},{ann}\nben,2,{ASKED},{ben}\ncem,0,{ASKED},{cem}\n"
    assert run(["grade", "sheets", "answers.csv", "--totals", "--format", "csv"]).stdout == result.stdout  # the keys' directory
    result = run(["grade", *(f"sheets/key-{seed}.json" for seed in (cem, ann, ben)), "answers.csv", "--totals", "--format", "json"])
    assert json.loads(result.stdout) == [{"student": "ann", "points": ASKED, "of": ASKED, "seed": ann},
                                         {"student": "ben", "points": 2, "of": ASKED, "seed": ben},
                                         {"student": "cem", "points": 0, "of": ASKED, "seed": cem}]
    document = json.loads(run(["grade", *(f"sheets/key-{seed}.json" for seed in keys), "answers.csv", "--format", "json"]).stdout)
    assert document["totals"] == json.loads(result.stdout) and [a["seed"] for a in document["answers"]][ASKED - 1:ASKED + 1] == [ann, ben]
    table = run(["grade", *(f"sheets/key-{seed}.json" for seed in keys), "answers.csv", "--totals"])
    assert table.exit_code == 0 and table.stdout.split("\n")[-2].split() == ["cem", "0", str(ASKED), str(cem)]


def test_one_key_of_its_seed_marks_a_seed_column_and_a_key_without_it_marks_as_before(run, workdir, keys):
    seed = next(iter(keys))
    marks = _grade_class(run, workdir, [seed], [("ann", f"{seed}.0", "L", keys[seed]["L"]["value"])])  # 3.0: a spreadsheet's
    assert marks == [{"student": "ann", "quantity": "L", "value": repr(keys[seed]["L"]["value"]), "mark": "correct",
                      "reason": "", "seed": str(seed)}]
    (workdir / "plain.csv").write_text(f"student,quantity,value\nann,L,{keys[seed]['L']['value']!r}\n")
    result = run(["grade", f"sheets/key-{seed}.json", "plain.csv", "--totals", "--format", "csv"])
    assert result.exit_code == 0 and result.stdout == f"student,points,of\nann,1,{ASKED}\n"


def test_every_format_s_key_is_written_as_json_too(run, workdir):
    (workdir / "data.csv").write_text(DATA)
    for output_format in ("md", "json"):
        result = run(["exercise", "data.csv", "--seed", "3", "--format", output_format, "--output-dir", output_format])
        assert result.exit_code == 0, result.stderr
    assert {"key-3.json", "key-3.md", "sheet-3.md"} <= {path.name for path in (workdir / "md").iterdir()}
    assert (workdir / "md" / "key-3.json").read_text() == (workdir / "json" / "key-3.json").read_text()


@pytest.mark.parametrize("keys_given, answers, said", [
    ("ABC", "student,seed,quantity,value\nann,{A},L,1\nben,99,L,1\n",
     "answers.csv, row 3: column seed: seed 99 is not among the keys' seeds ({A} to {C}); give key-99.json too"),
    ("ABC", "student,seed,quantity,value\nann,{A},L,1\nann,{B},N1[1],1\n",
     "answers.csv, row 3: column seed: ann's seed is {B} here but {A} on row 2; each student answers one variant"),
    ("ABC", "student,seed,quantity,value\nann,first,L,1\n", "answers.csv, row 2: column seed: 'first' is not a seed"),
    ("ABC", "student,quantity,value\nann,L,1\n", "answers.csv, row 1: no column 'seed'; with 3 keys"),
    ("ABA", "student,seed,quantity,value\nann,{A},L,1\n", "sheets/key-{A}.json: it is given twice"),
    ("AO", "student,seed,quantity,value\nann,{A},L,1\n", "old/key-{A}.json: seed {A} is sheets/key-{A}.json's too"),
    ("AN", "student,seed,quantity,value\nann,{A},L,1\n", "key.json: its name does not give its seed"),
    ("AF", "student,seed,quantity,value\nann,{A},L,1\n",
     "other/key-7.json: it is not a variant of sheets/key-{A}.json's exercise: it does not ask L, which that key does"),
    ("N", "student,seed,quantity,value\nann,{A},L,1\n", "answers.csv, row 1: column seed: the key's name does not give its seed"),
    ("E", "student,seed,quantity,value\nann,{A},L,1\n", "empty: holds no key-<seed>.json"),
])
def test_a_class_s_mistakes_are_refused_with_one_error_line(run, workdir, keys, keys_given, answers, said):
    A, B, C = keys
    shutil.copytree(workdir / "sheets", workdir / "old")
    shutil.copy(workdir / "sheets" / f"key-{A}.json", workdir / "key.json")
    result = run(["exercise", "data.csv", "--seed", "7", "--ask", "forward", "--format", "json", "--output-dir", "other"])
    assert result.exit_code == 0, result.stderr
    paths = {"A": f"sheets/key-{A}.json", "B": f"sheets/key-{B}.json", "C": f"sheets/key-{C}.json",
             "O": f"old/key-{A}.json", "N": "key.json", "F": "other/key-7.json", "E": "empty"}
    (workdir / "empty").mkdir()
    (workdir / "answers.csv").write_text(answers.format(A=A, B=B))
    result = run(["grade", *(paths[letter] for letter in keys_given), "answers.csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {said.format(A=A, B=B, C=C)}") and result.stderr.count("\n") == 1


TEACH = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "teach.md"


def teach_commands() -> list[tuple[str, list[str] | None]]:
    """The teacher's page's commands in order, each with the output its transcript shows (None outside a transcript)."""
    import re

    commands = []
    for marker, block in re.findall(r"^(<!-- transcript -->\n)?```console\n(.*?)^```$", TEACH.read_text(encoding="utf-8"), re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], [] if marker else None))
            else:
                commands[-1][1].append(line)
    return commands


@pytest.mark.slow  # 60 PDFs through typst and a Beamer deck through latexmk: well over 5 s
def test_the_teacher_s_three_commands_run_as_the_page_shows_them(tmp_path):
    commands = teach_commands()
    sheets = next(command for command, _ in commands if command.startswith("fwdback exercise "))
    output_format = sheets.split("--format ")[1].split()[0]
    shutil.copytree(Path(__file__).resolve().parent.parent / "sample_data", tmp_path / "sample_data")
    shim = tmp_path / "bin" / "fwdback"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fwdback "$@"\n')
    shim.chmod(0o755)
    environment = dict(os.environ, PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    latexmk = shutil.which("latexmk") is not None
    for command, shown in commands:
        script = command if latexmk else "latexmk() { :; }\n" + command  # without TeX: the .tex alone
        done = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=tmp_path, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stdout)
        if shown is not None:
            assert done.stdout.splitlines() == shown, command
    seeds = {int(path.stem.split("-")[1]) for path in (tmp_path / "sheets").glob(f"sheet-*.{output_format}")}
    assert len(seeds) == 30 and min(seeds) == 100
    for seed in seeds:
        assert json.loads((tmp_path / "sheets" / f"key-{seed}.json").read_text())[0]["quantity"]
        assert (tmp_path / "sheets" / f"key-{seed}.{output_format}").stat().st_size > 0
        if output_format == "pdf":
            assert (tmp_path / "sheets" / f"sheet-{seed}.pdf").read_bytes().startswith(b"%PDF")
    assert len(list((tmp_path / "sheets").glob("key-*.json"))) == 30
    if output_format == "pdf":
        assert all((tmp_path / "sheets" / name).read_bytes().startswith(b"%PDF") for name in ("sheets.pdf", "keys.pdf"))
    assert (tmp_path / "epoch.tex").read_text().startswith("\\documentclass")
    if latexmk:
        assert (tmp_path / "epoch.pdf").read_bytes().startswith(b"%PDF")
    answers = list(csv.DictReader((tmp_path / "sample_data" / "answers.csv").open()))
    class_list = list(csv.DictReader((tmp_path / "classlist.csv").open()))
    assert [row["student"] for row in class_list] == list(dict.fromkeys(row["student"] for row in answers))
    assert all(row["seed"] == next(a["seed"] for a in answers if a["student"] == row["student"]) for row in class_list)
