"""Moodle XML: an exercise as a question bank that Moodle's quiz imports (Question bank > Import > Moodle XML format).

Written as Moodle's own exporter writes it (question/format/xml/format.php): a <quiz> of <question>
elements, every text in a <text> child, the HTML ones with format="html" and their HTML in a CDATA
section. A variant's file holds a category question ($course$/fwdback/exercise <seed>, the key's
with " key"), so that each variant's questions land in a category of their own (sheets.xml and
keys.xml hold every variant's, one after another: one import for a class); a description
question, the setting (the sheet's sections as HTML: the network, the rows, the starting weights,
eta, the loss, DATA's columns, the command that regenerates it); and one numerical question per
quantity, named as the key names it ("dL/dw1"), its formula in the general feedback: on the sheet
the quantities it asks, in the key every quantity worked out, with its exact and rounded values.

Moodle's numerical tolerance is absolute (tolerance type 2, "nominal": a response r is right when
|r - answer| <= tolerance), and so is the key's (worksheet.Quantity): `fwdback grade` marks an answer
correct within `tolerance` of the exact value, and with --round that tolerance is |exact - rounded|
plus half a unit in the last digit of the rounded value, so that it reaches the rounded value and
its own half unit. Each question therefore has ONE answer at 100%, the exact value with the key's
tolerance: Moodle then accepts the exact and the rounded value and every response that grade marks
correct. Two answers at 100% (the exact value and the rounded one, each with half a unit) would
accept fewer responses than grade counts correct, so that Moodle and grade would disagree on the
same work.

The numbers are written as a person reads them, not as the float's 17 digits (0.0627, not
0.06269999999999998, which Moodle's review would show as "the right answer"): the answer at
ANSWER_DIGITS significant digits, and its tolerance at TOLERANCE_DIGITS significant digits rounded
UP from the key's tolerance plus what writing the answer short moved it by. Moodle's interval
therefore holds grade's, and reaches past each of its ends by less than one unit in the tolerance's
last digit plus twice that move (half a unit in the answer's 12th digit): never refusing what grade
accepts, and accepting beyond it only at that level.
"""

from __future__ import annotations

import base64
from decimal import ROUND_CEILING, Decimal, localcontext
from xml.sax.saxutils import escape

from ..sections import Block, Figure
from ..worksheet import Exercise, Quantity
from .html import sections_html
from .safe import html_text
from .svg import figure_svg

# The significant digits the answer and its tolerance are written with.
ANSWER_DIGITS = 12
TOLERANCE_DIGITS = 3

# The network's figure, stored with the description question as Moodle stores an image put in a text.
FIGURE_FILE = "network.svg"

# No units: the response is a number alone (showunits 3 is Moodle's "only the numerical answer").
_NO_UNITS = ("    <units/>\n    <unitgradingtype>0</unitgradingtype>\n    <unitpenalty>0.1000000</unitpenalty>\n"
             "    <showunits>3</showunits>\n    <unitsleft>0</unitsleft>\n")


def quiz(variants: list[tuple[Exercise, list[Block]]], worked: bool) -> str:
    """Variants as one Moodle XML file, each (exercise, its statement as sections.py blocks) in its own
    category: the statement as a description question, then a numerical question for each quantity the
    sheet asks, or with `worked` (the key) for every quantity worked out, asked or not. One import of a
    file of every variant takes a whole class's quizzes."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(
        _variant(exercise, statement, worked) for exercise, statement in variants) + "</quiz>\n"


def _variant(exercise: Exercise, statement: list[Block], worked: bool) -> str:
    quantities = [q for q in exercise.quantities if q.kind != "given"] if worked else exercise.questions
    category = f"$course$/fwdback/exercise {exercise.seed}{' key' if worked else ''}"
    return "".join([
        f'  <question type="category">\n    <category>{_plain(category)}</category>\n  </question>\n',
        _question("description", f"Exercise {exercise.seed}: the setting", *_statement(statement), "", "0.0000000",
                  "0.0000000", ""),
        *(_numerical(exercise, q, worked) for q in quantities),
    ])


def _numerical(exercise: Exercise, quantity: Quantity, worked: bool) -> str:
    """One quantity as a numerical question: one answer at 100%, the exact value within the key's tolerance."""
    name = html_text(quantity.name)
    rounding = "" if exercise.digits is None else f", rounded to {exercise.digits} significant digits"
    ask = f"<p>Find <strong>{name}</strong>{rounding}.</p>"
    feedback = f"<p><code>{name} = {html_text(quantity.formula)}</code></p>"
    if worked:
        rounded = "" if quantity.rounded is None else f"; worked from values rounded to {exercise.digits} significant " \
                                                      f"digits: {_number(quantity.rounded)}"
        low, high = quantity.value - quantity.tolerance, quantity.value + quantity.tolerance
        asked = "asked on the sheet" if exercise.is_asked(quantity) else "not asked on the sheet"
        feedback += (f"<p>Exact value: {_number(quantity.value)}{rounded}. Accepted: {low:.6g} to {high:.6g} "
                     f"(tolerance {quantity.tolerance:.2g}). {asked.capitalize()}.</p>")
    value, tolerance = _answer_and_tolerance(quantity)
    answer = ('    <answer fraction="100" format="moodle_auto_format">\n'
              f"      <text>{value}</text>\n"
              f"      {_html('feedback', '')}\n"
              f"      <tolerance>{tolerance}</tolerance>\n"
              "    </answer>\n")
    return _question("numerical", quantity.name, ask, "", feedback, "1.0000000", "0.3333333", answer + _NO_UNITS)


def _statement(statement: list[Block]) -> tuple[str, str]:
    """The description's HTML, a Figure in it an image of FIGURE_FILE, and the <file> elements that carry
    the image (base64, as Moodle exports a file; its text refers to it as @@PLUGINFILE@@/name)."""
    html, files = [], []
    for block in statement:
        if isinstance(block, Figure):
            html.append(f'<p><img src="@@PLUGINFILE@@/{FIGURE_FILE}" alt="The network"></p>')
            encoded = base64.b64encode(figure_svg(block).encode("utf-8")).decode("ascii")
            files.append(f'<file name="{FIGURE_FILE}" path="/" encoding="base64">{encoded}</file>')
        else:
            html.append(sections_html([block]))
    return "\n".join(html), "".join(files)


def _question(kind: str, name: str, text: str, files: str, feedback: str, grade: str, penalty: str, rest: str) -> str:
    """The elements every question has, in Moodle's order, then `rest` (the type's own elements);
    `files`, the <file> elements of the question text's images."""
    return (f'  <question type="{kind}">\n'
            f"    <name>{_plain(name)}</name>\n"
            f"    {_html('questiontext', text, files)}\n"
            f"    {_html('generalfeedback', feedback)}\n"
            f"    <defaultgrade>{grade}</defaultgrade>\n"
            f"    <penalty>{penalty}</penalty>\n"
            "    <hidden>0</hidden>\n"
            "    <shuffleanswers>0</shuffleanswers>\n"
            f"{rest}  </question>\n")


def _plain(text: str) -> str:
    return f"<text>{escape(text)}</text>"


def _html(tag: str, html: str, files: str = "") -> str:
    """An HTML text field, its HTML in a CDATA section, then `files`. The HTML cannot hold the "]]>" that
    would end the section early: every name and number in it went through html_text, which writes ">" as "&gt;"."""
    return f'<{tag} format="html"><text><![CDATA[{html}]]></text>{files}</{tag}>'


def _answer_and_tolerance(quantity: Quantity) -> tuple[str, str]:
    """The numerical answer's value and tolerance as written: the value at ANSWER_DIGITS significant digits;
    the tolerance, the least decimal of TOLERANCE_DIGITS significant digits whose float is at least the
    key's tolerance plus the distance between the written value's float and the exact one (Moodle
    reads both as floats), so that the written interval holds the key's."""
    written = _number(quantity.value)
    with localcontext(prec=1000, rounding=ROUND_CEILING):  # exact for floats of like scale, else rounded up
        read = Decimal(float(written))  # the float Moodle reads, exactly
        shift = max(read - Decimal(quantity.value), Decimal(quantity.value) - read)
        needed = Decimal(quantity.tolerance) + shift
    if needed == 0:
        return written, "0"
    unit = Decimal(1).scaleb(needed.adjusted() - TOLERANCE_DIGITS + 1)
    nearest = needed.quantize(unit)  # 5e-05 where needed is the float 0.5 * 10.0**-4, 5.000000000000000239...e-05
    tolerance = nearest if Decimal(float(nearest)) >= needed else needed.quantize(unit, rounding=ROUND_CEILING)
    return written, _number(float(tolerance), TOLERANCE_DIGITS)


def _number(value: float, digits: int = ANSWER_DIGITS) -> str:
    """value at `digits` significant digits, as its shortest decimal (0.0627, 5e-06): what Moodle shows."""
    return repr(float(f"{float(value):.{digits}g}"))
