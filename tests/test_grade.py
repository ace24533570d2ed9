"""fwdback grade: crafted answer sets against a key that fwdback exercise wrote.

Each student's answers are worked out here by hand from the key's givens (the lecture's
formulas written by name), with deliberate slips; the expected marks follow from how they were made.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

DATA = "x1,x2,x3,y\n0.35,-0.12,0.8,1.5\n0.5,0.25,-0.4,-0.3\n"


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


def test_a_key_of_quantities_and_values_alone_marks_correct_or_wrong(run, workdir):
    # N1[1] = 0.5 within half a unit of its 3rd significant digit (0.0005) is correct
    (workdir / "key.json").write_text('[{"quantity": "N1[1]", "value": 0.5}, {"quantity": "L", "value": 2.25}]')
    (workdir / "answers.csv").write_text("student,quantity,value\nann,N1[1],0.5004\nann,L,2.3\n")
    result = run(["grade", "key.json", "answers.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [answer["mark"] for answer in document["answers"]] == ["correct", "wrong"]
    assert document["totals"] == [{"student": "ann", "points": 1, "of": 2}]
