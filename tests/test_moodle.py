"""fwdback exercise --format moodle: each variant's sheet and key as a Moodle XML question bank.

The structure checked is what Moodle's importer (question/format/xml/format.php) reads: a <quiz>
of <question type="...">, a category question's <category><text>, every other question's
<name><text> (without which the import stops) and <questiontext format="html"><text>, a numerical
question's <answer fraction="..."> with its <text> and <tolerance>. The numbers are compared with
the JSON key of the same seed, written by a second run: the key is what `fwdback grade` marks by,
so the quiz must accept all that grade counts correct (|answer - value| <= tolerance, Moodle's
"nominal" tolerance), and beyond it no more than writing the numbers short allows: the answer at 12
significant digits moves it by at most half a unit in its 12th digit (and the float it reads as by
half an ulp more), and the tolerance, rounded up to 3 significant digits from the key's plus that
move, exceeds them by less than a unit in its 3rd digit; so each end of Moodle's interval lies
beyond grade's by at most that unit plus twice the move.
"""

from __future__ import annotations

import json
import math
import shlex
import xml.etree.ElementTree as ET
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from fwdback.outputs import terminal_text

# The regressor's rows are short numbers, as a sheet has them; the classifier's targets are labels.
REGRESSOR = ("x1,x2,x3,y\n0.35,-0.12,0.8,1.5\n0.5,0.25,-0.4,-0.3\n0.1,0.9,-0.3,0.7\n", [])
CLASSIFIER = ("x1,x2,y\n0.5,-0.25,0\n-0.75,0.5,1\n0.25,0.75,1\n0.3,0.1,0\n",
              ["--features", "x1,x2", "--loss", "bce", "--activation", "tanh"])


def _text(element: ET.Element, path: str) -> str:
    """The text of `path`'s <text> child, as Moodle's importer reads it (getpath ... '#', 'text', 0, '#')."""
    found = element.find(f"{path}/text")
    assert found is not None, f"no {path}/text"
    return found.text or ""


def _twelve_digits(value: float) -> float:
    """value as the quiz writes it: rounded to 12 significant digits."""
    return float(f"{value:.12g}")


def _holds_the_key_s_interval(value: float, tolerance: float, entry: dict) -> None:
    """Moodle's interval [value - tolerance, value + tolerance] holds grade's and passes each of its ends by
    at most a unit in the tolerance's 3rd significant digit plus twice the answer's move (exact rationals)."""
    moved = Fraction(value) - Fraction(entry["value"])
    assert abs(moved) <= Fraction(0.5 * 10.0 ** (math.floor(math.log10(abs(entry["value"]))) - 11)) + Fraction(
        math.ulp(entry["value"])) if entry["value"] else moved == 0
    assert tolerance == float(f"{tolerance:.3g}")
    unit = Fraction(10) ** (math.floor(math.log10(tolerance)) - 2) if tolerance else 0
    for end in (-1, 1):
        beyond = end * (Fraction(value) + end * Fraction(tolerance) - Fraction(entry["value"]) - end * Fraction(entry["tolerance"]))
        assert 0 <= beyond <= unit + 2 * abs(moved)


def _page_text(html: str) -> str:
    """What a browser shows of an HTML fragment: its character data, references resolved."""
    parts: list[str] = []
    parser = HTMLParser(convert_charrefs=True)
    parser.handle_data = parts.append
    parser.feed(html)
    parser.close()
    return "".join(parts)


def _questions(path, category: str) -> tuple[ET.Element, list[ET.Element]]:
    """The file's description question and its numerical questions, after checking the frame Moodle needs."""
    root = ET.parse(path).getroot()
    assert root.tag == "quiz"
    first, description, *numerical = root.findall("question")
    assert len(root) == 2 + len(numerical)
    assert first.get("type") == "category" and _text(first, "category") == category
    assert description.get("type") == "description" and float(description.find("defaultgrade").text) == 0
    for question in (description, *numerical):
        assert _text(question, "name")
        for field in ("questiontext", "generalfeedback"):
            assert question.find(field).get("format") == "html"
            _text(question, field)
        assert question.find("hidden").text == "0" and question.find("shuffleanswers").text == "0"
    for question in numerical:
        assert question.get("type") == "numerical"
        assert float(question.find("defaultgrade").text) == 1
        assert question.find("units") is not None and len(question.find("units")) == 0
        assert question.find("unitgradingtype").text == "0" and question.find("showunits").text == "3"
        (answer,) = question.findall("answer")
        assert answer.get("fraction") == "100" and answer.find("feedback").get("format") == "html"
    return description, numerical


@pytest.mark.parametrize("rounding", [[], ["--round", "4"]], ids=["exact", "round4"])
@pytest.mark.parametrize("data", [REGRESSOR, CLASSIFIER], ids=["regressor", "classifier"])
def test_each_question_s_answer_and_tolerance_are_the_json_key_s(run, workdir, data, rounding):
    rows, options = data
    (workdir / "data.csv").write_text(rows)
    common = ["exercise", "data.csv", *options, *rounding, "--rows", "3", "--variants", "2", "--seed", "7"]
    for output_format in ("moodle", "json"):
        result = run([*common, "--ask", "loss,hidden-gradients", "--format", output_format, "--output-dir", output_format])
        assert result.exit_code == 0, result.stderr
    seeds = sorted(int(path.stem.split("-")[1]) for path in (workdir / "json").glob("key-*.json"))
    assert sorted(int(path.stem.split("-")[1]) for path in (workdir / "moodle").glob("sheet-*.xml")) == seeds
    for seed in seeds:
        key = json.loads((workdir / "json" / f"key-{seed}.json").read_text())
        worked = {entry["quantity"]: entry for entry in key if entry["kind"] != "given"}
        asked = [name for name, entry in worked.items() if entry["asked"]]
        assert "L" in asked and "dL/dw1" in asked and not any(name.startswith("yhat") for name in asked)
        for name, category, expected in (("sheet", f"$course$/fwdback/exercise {seed}", asked),
                                         ("key", f"$course$/fwdback/exercise {seed} key", list(worked))):
            description, numerical = _questions(workdir / "moodle" / f"{name}-{seed}.xml", category)
            setting = _page_text(_text(description, "questiontext"))
            givens = [entry for entry in key if entry["kind"] == "given"]
            assert all(repr(entry["value"]) in setting for entry in givens if not entry["quantity"].startswith("y"))
            # the command that writes the key on the key alone; a student's sheet names its seed
            assert (f"--seed {seed}" in setting) == (name == "key") and (f"seed: {seed}." in setting) == (name == "sheet")
            assert [_text(question, "name") for question in numerical] == expected
            for question in numerical:
                entry = worked[_text(question, "name")]
                answer = question.find("answer")
                value, tolerance = float(_text(answer, ".")), float(answer.find("tolerance").text)
                assert value == _twelve_digits(entry["value"])
                _holds_the_key_s_interval(value, tolerance, entry)
                # Moodle accepts [value - tolerance, value + tolerance]: the rounded value must be inside
                if entry["rounded"] is not None:
                    assert abs(entry["rounded"] - value) <= tolerance
                    assert "rounded to 4 significant digits" in _page_text(_text(question, "questiontext"))
                feedback = _page_text(_text(question, "generalfeedback"))
                assert f"{entry['quantity']} = {entry['formula']}" in feedback
                if name == "key":
                    assert f"Exact value: {_twelve_digits(entry['value'])!r}" in feedback
                    assert (entry["rounded"] is None) == ("rounded to" not in feedback)
                    if entry["rounded"] is not None:
                        assert repr(_twelve_digits(entry["rounded"])) in feedback


# Column names that end a CDATA section, open a tag, start a reference, close an attribute's quotes,
# hold a control character (which XML 1.0 does not allow at all, even as a reference), or are not ASCII.
HOSTILE = ("]]>", "<b>&amp;", "\"x'", "a\x1bb", "é☃")


def test_hostile_column_and_file_names_keep_the_xml_well_formed(run, workdir, browser_page):
    *features, target = HOSTILE
    header = ",".join('"' + name.replace('"', '""') + '"' for name in HOSTILE)
    data = "t]]><&'.csv"
    (workdir / data).write_text(f"{header}\n0.35,-0.12,0.8,0.4,1.5\n0.5,0.25,-0.4,-0.1,-0.3\n")
    result = run(["exercise", data, "--features", ",".join(features), "--target", target, "--format", "moodle",
                  "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    for name in ("sheet", "key"):
        text = (workdir / "out" / f"{name}-0.xml").read_text(encoding="utf-8")
        description, numerical = _questions(workdir / "out" / f"{name}-0.xml", f"$course$/fwdback/exercise 0{' key' * (name == 'key')}")
        setting = _page_text(_text(description, "questiontext"))
        assert all(terminal_text(column) in setting for column in HOSTILE)
        assert (shlex.quote(data) in setting) == (name == "key")  # in the command that writes the key, the key's alone
        # a second parser, independent of Python's expat: the browser's (Blink's XML parser)
        parsed = browser_page.page.evaluate(
            """text => {
                const doc = new DOMParser().parseFromString(text, "application/xml");
                if (doc.getElementsByTagName("parsererror").length) return null;
                return [...doc.querySelectorAll("quiz > question")].map(q => [
                    q.getAttribute("type"), q.querySelector(":scope > name > text")?.textContent ?? null,
                    q.querySelector(":scope > questiontext > text")?.textContent ?? null,
                    q.querySelector(":scope > answer > text")?.textContent ?? null]);
            }""", text)
        assert parsed is not None, f"{name}-0.xml is not well-formed XML to the browser"
        assert parsed[2:] == [["numerical", _text(q, "name"), _text(q, "questiontext"), _text(q.find("answer"), ".")]
                              for q in numerical]
        assert parsed[1][2] == _text(description, "questiontext")
        assert all(math.isfinite(float(answer)) for *_, answer in parsed[2:])


def _moodle_accepts(answer: float, tolerance: float, response: float) -> bool:
    """Moodle's nominal tolerance (qtype_numerical_answer::get_tolerance_interval), with its allowance of
    10^-precision * max(1, |answer|) for PHP's default precision of 14 digits."""
    allowance = tolerance + 1e-14 * max(1.0, abs(answer))
    return answer - allowance <= response <= answer + allowance


def test_the_quiz_accepts_every_response_grade_marks_correct(run, workdir):
    (workdir / "data.csv").write_text(REGRESSOR[0])
    for output_format in ("moodle", "json"):
        result = run(["exercise", "data.csv", "--rows", "2", "--round", "3", "--seed", "3", "--format", output_format,
                      "--output-dir", output_format])
        assert result.exit_code == 0, result.stderr
    (sheet,) = (workdir / "moodle").glob("sheet-*.xml")
    seed = sheet.stem.split("-")[1]
    key = {entry["quantity"]: entry for entry in json.loads((workdir / "json" / f"key-{seed}.json").read_text())}
    _, numerical = _questions(sheet, f"$course$/fwdback/exercise {seed}")
    rows, correct, accepted = [], {}, {}
    for question in numerical:
        answer = question.find("answer")
        value, tolerance = float(_text(answer, ".")), float(answer.find("tolerance").text)
        entry = key[_text(question, "name")]
        # one student per response, so that no answer of theirs is upstream of another: just inside grade's
        # interval, the rounded value, and just outside Moodle's
        responses = [(entry["value"] + slack * entry["tolerance"], True) for slack in (0.999, -0.999)]
        responses += [(entry["rounded"], True)] + [(value + slack * tolerance, False) for slack in (1.001, -1.001)]
        for response, right in responses:
            student = f"s{len(rows)}"
            rows.append((student, entry["quantity"], response))
            correct[student], accepted[student] = right, _moodle_accepts(value, tolerance, response)
    (workdir / "answers.csv").write_text("student,quantity,value\n" + "".join(f"{s},{q},{v!r}\n" for s, q, v in rows))
    result = run(["grade", f"json/key-{seed}.json", "answers.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    marks = {mark["student"]: mark["mark"] for mark in json.loads(result.stdout)["answers"]}
    assert {student: mark == "correct" for student, mark in marks.items()} == correct == accepted
    assert sum(correct.values()) == 3 * len(numerical)


@pytest.mark.parametrize("figure", ["symbols", "values", "none"])
def test_the_description_carries_the_network_figure_as_moodle_stores_an_image(run, workdir, figure):
    import base64

    (workdir / "data.csv").write_text(REGRESSOR[0])
    result = run(["exercise", "data.csv", "--rows", "2", "--ask", "L", "--figure", figure, "--format", "moodle", "--output-dir", "quiz"])
    assert result.exit_code == 0, result.stderr
    (seed,) = (int(path.stem.split("-")[1]) for path in (workdir / "quiz").glob("sheet-*.xml"))
    for name in ("sheet", "key"):
        description, _ = _questions(workdir / "quiz" / f"{name}-{seed}.xml",
                                    f"$course$/fwdback/exercise {seed}{' key' if name == 'key' else ''}")
        files = description.findall("questiontext/file")
        text = _text(description, "questiontext")
        if figure == "none":
            assert not files and "@@PLUGINFILE@@" not in text
            continue
        (file,) = files
        assert file.get("encoding") == "base64" and file.get("path") == "/"
        assert f'src="@@PLUGINFILE@@/{file.get("name")}"' in text
        svg = ET.fromstring(base64.b64decode(file.text))
        labels = "".join(svg.itertext())
        key = {entry["quantity"]: entry["value"] for entry in json.loads((workdir / "quiz" / f"key-{seed}.json").read_text())}
        assert "w1" in labels and ("=" in labels) == (figure == "values")
        if figure == "values":
            assert f"{key['w1']:.3g}".lstrip("0") in labels or f"{key['w1']:.3g}" in labels


def test_sheets_xml_holds_every_variant_s_quiz_each_in_its_own_category(run, workdir):
    (workdir / "data.csv").write_text(REGRESSOR[0])
    result = run(["exercise", "data.csv", "--rows", "2", "--ask", "L,dL/dw1", "--variants", "3", "--format", "moodle",
                  "--output-dir", "quiz"])
    assert result.exit_code == 0, result.stderr
    seeds = sorted(int(path.stem.split("-")[1]) for path in (workdir / "quiz").glob("sheet-*.xml"))
    assert len(seeds) == 3
    for name in ("sheet", "key"):
        together = ET.parse(workdir / "quiz" / f"{name}s.xml").getroot()
        apart = [question for seed in seeds for question in ET.parse(workdir / "quiz" / f"{name}-{seed}.xml").getroot()]
        for question in (*together, *apart):
            question.tail = None  # the whitespace after it, which differs only after a file's last question
        assert [ET.tostring(question) for question in together] == [ET.tostring(question) for question in apart]
        assert [_text(q, "category") for q in together if q.get("type") == "category"] == [
            f"$course$/fwdback/exercise {seed}{' key' if name == 'key' else ''}" for seed in seeds]
