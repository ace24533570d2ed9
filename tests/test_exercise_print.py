"""fwdback exercise --format latex|typst|pdf, and the network's figure (--figure) on sheets and keys.

The LaTeX is compiled by Debian's pdflatex through latexmk, the Typst by the typst package
(fwdback[pdf]); every page of each PDF is rendered by poppler's pdftoppm and must carry ink.
The key's numbers are read back from its PDF (poppler's pdftotext) and compared with the JSON key
of the same seed: a value printed to 6 significant digits is within half a unit of its 6th digit,
at most 5e-6 of it (PRINTED); a rounded value (--round 4) is printed as it is, to its 4 digits.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from fwdback.network import Parameters
from fwdback.render.terminal import print_sections
from fwdback.sections import Figure, Heading

PRINTED = 5e-6
# Four rows of short numbers, as the lecture's sample: a key of ~75 quantities, formulas of four terms.
DATA = "x1,x2,x3,y\n0.5,-0.12,0.72,2.95\n0.87,0.61,-0.07,0.91\n0.65,-0.41,-0.08,3.55\n-0.44,-0.33,-0.65,0.75\n"
# Column names holding TeX's and Typst's special characters, quotes and characters beyond Latin-1.
HOSTILE = ('$#%&_{}\\~^', 'q"uo\'te', "价格 ✓", "y<>|")
HOSTILE_CSV = ",".join('"' + name.replace('"', '""') + '"' for name in HOSTILE) + "\n" + DATA.split("\n", 1)[1]
EXERCISE = ["exercise", "data.csv", "--rows", "4", "--round", "4", "--seed", "5"]
# The sheets a class is given, and the printed pages each may take: the lecture's network on 2 and on 4 rows
# of the sample data, and a classifier (tanh hidden units, sigmoid output, bce) on 2 rows of xor.
SAMPLE = Path(__file__).parent.parent / "sample_data" / "linear.csv"
SHEETS = {"linear-2": ([SAMPLE, "--rows", "2"], 1), "linear-4": ([SAMPLE, "--rows", "4"], 2),
          "xor-2": (["xor.csv", "--features", "x1,x2", "--loss", "bce", "--hidden", "2", "--activation", "tanh", "--rows", "2"], 1)}

needs_pdf_tools = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                     reason="poppler-utils is installed by .ci/run")
needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is installed by .ci/run")


@pytest.fixture
def data(workdir):
    (workdir / "data.csv").write_text(DATA)
    (workdir / "hostile.csv").write_text(HOSTILE_CSV, encoding="utf-8")
    return workdir


def _written(run, *options) -> None:
    result = run([*EXERCISE, *options])
    assert result.exit_code == 0, result.stderr


def _inked_pages(pdf, folder) -> list[int]:
    """How many pixels of each page are darker than mid-grey (pdftoppm, grey, 30 dpi)."""
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(folder / "page")], check=True, timeout=120)
    counts = []
    for page in sorted(folder.glob("page*.pgm")):
        magic, width, height, most, pixels = page.read_bytes().split(maxsplit=4)
        assert (magic, most) == (b"P5", b"255")
        counts.append(int(np.count_nonzero(np.frombuffer(pixels, dtype=np.uint8) < 128)))
        page.unlink()
    return counts


def _latexmk(tex) -> None:
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tex.parent,
                   check=True, capture_output=True, timeout=600)


def _assert_key_printed(pdf, key_json) -> None:
    """Every worked quantity's line of the key, read back from the PDF, carries its value (6
    significant digits) and its rounded value as the JSON key has them."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = {}
    for line in text.replace("’", "'").replace("−", "-").splitlines():
        words = line.split()
        if words:
            lines.setdefault(words[0], words)
    worked = [entry for entry in json.loads(key_json.read_text()) if entry["kind"] != "given"]
    assert len(worked) > 40
    for entry in worked:
        value, rounded, tolerance = (float(word) for word in lines[entry["quantity"]][-3:])
        assert abs(value - entry["value"]) <= PRINTED * abs(entry["value"]), entry
        assert rounded == entry["rounded"], entry
        # printed to 2 significant digits: within half a unit of the 2nd, at most 5% of the value
        assert tolerance == pytest.approx(entry["tolerance"], rel=0.05), entry


@needs_pdf_tools
@pytest.mark.slow  # a key of 47 quantities through typst and pdftotext: over 5 s
def test_pdf_sheet_and_key_through_typst(run, data):
    """--format pdf: each page of the sheet and the key has ink, and the key prints every
    quantity's value and rounded value as the JSON key of the same seed has them."""
    pytest.importorskip("typst")
    _written(run, "--format", "pdf", "--output-dir", "pdf")
    _written(run, "--format", "json", "--output-dir", "json")
    for name, pages in (("sheet-5.pdf", 1), ("key-5.pdf", 2)):
        assert (data / "pdf" / name).read_bytes().startswith(b"%PDF")
        inked = _inked_pages(data / "pdf" / name, data)
        assert len(inked) >= pages and min(inked) > 0, (name, inked)
    _assert_key_printed(data / "pdf" / "key-5.pdf", data / "json" / "key-5.json")


@needs_pdf_tools
def test_sheets_pdf_holds_every_variant_a_page_each(run, data):
    """--variants 3 writes sheets.pdf and keys.pdf beside the variants' own files; a sheet that
    asks for one quantity fits on a page, so sheets.pdf has three pages, each with ink, in the
    order of the seeds."""
    pytest.importorskip("typst")
    result = run(["exercise", "data.csv", "--rows", "1", "--ask", "L", "--variants", "3", "--seed", "10", "--format", "pdf",
                  "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    seeds = sorted(int(path.stem.split("-")[1]) for path in (data / "out").glob("sheet-*.pdf"))
    assert len(seeds) == 3 and {path.name for path in (data / "out").iterdir()} >= {"sheets.pdf", "keys.pdf"}
    assert len(_inked_pages(data / "out" / f"sheet-{seeds[0]}.pdf", data)) == 1
    inked = _inked_pages(data / "out" / "sheets.pdf", data)
    assert len(inked) == 3 and min(inked) > 0, inked
    text = subprocess.run(["pdftotext", str(data / "out" / "sheets.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    assert [re.search(r"variant (\d+)", page).group(1) for page in pages[:3]] == [str(seed) for seed in seeds]


@needs_pdf_tools
def test_typst_sheet_with_hostile_column_names(run, data):
    """Column names of TeX's and Typst's special characters and quotes compile, in the figure and
    the text, and read back from the PDF as written (the typst package's fonts have no CJK glyphs,
    so only the other names are read back)."""
    pytest.importorskip("typst")
    result = run(["exercise", "hostile.csv", "--features", ",".join(HOSTILE[:3]), "--target", HOSTILE[3], "--figure", "values",
                  "--format", "pdf", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    text = subprocess.run(["pdftotext", str(data / "out" / "sheet-0.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert all(name in text for name in (HOSTILE[0], HOSTILE[1], HOSTILE[3]))


def test_without_the_pdf_extra_nothing_is_written(run, data, monkeypatch):
    monkeypatch.setitem(sys.modules, "typst", None)
    result = run([*EXERCISE, "--format", "pdf", "--output-dir", "out"])
    assert result.exit_code == 1
    assert result.stderr == "Error: PDF needs the typst package, which is not installed: pip install 'fwdback[pdf]'\n"
    assert not (data / "out").exists()


@needs_tex
@needs_pdf_tools
@pytest.mark.slow
def test_latex_sheet_and_key_compile_and_stay_on_the_page(run, data):
    """latexmk compiles the sheet and the key; every page has ink, nothing overflows a page
    (the key's 75 rows run on as a longtable, its formulas wrap), the sheet's answer lines are
    ruled, and the key prints the JSON key's numbers; so does a sheet with hostile column names."""
    _written(run, "--format", "latex", "--output-dir", "tex")
    _written(run, "--format", "json", "--output-dir", "json")
    result = run(["exercise", "hostile.csv", "--features", ",".join(HOSTILE[:3]), "--target", HOSTILE[3], "--figure", "values",
                  "--format", "latex", "--output-dir", "hostile"])
    assert result.exit_code == 0, result.stderr
    asked = json.loads((data / "json" / "sheet-5.json").read_text())["ask"]
    assert (data / "tex" / "sheet-5.tex").read_text().count(r"\rule[-1.2mm]{0pt}{7mm}") == len(asked) > 40
    for tex in (data / "tex" / "sheet-5.tex", data / "tex" / "key-5.tex", data / "hostile" / "sheet-0.tex"):
        _latexmk(tex)
        inked = _inked_pages(tex.with_suffix(".pdf"), data)
        assert len(inked) >= (2 if tex.stem.startswith("key") else 1) and min(inked) > 0, (tex, inked)
        log = tex.with_suffix(".log").read_text(errors="replace")
        assert "Overfull \\vbox" not in log
        # An \hbox may stick out by a few points (a long command in typewriter, unbroken), never into the 2 cm margin.
        assert all(float(points) < 5 for points in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)), tex
    _assert_key_printed(data / "tex" / "key-5.pdf", data / "json" / "key-5.json")
    text = subprocess.run(["pdftotext", str(data / "hostile" / "sheet-0.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert HOSTILE[1].replace("'", "’") in text and "U+4EF7" in text


def test_figure_symbols_values_or_none(run, data):
    """--figure symbols (the default) draws the parameters' names alone, values their starting
    values, none nothing; Markdown links figure-<seed>.svg, written beside the sheet."""
    for figure in ("symbols", "values", "none"):
        _written(run, "--format", "md", "--figure", figure, "--output-dir", f"md-{figure}")
        _written(run, "--format", "html", "--figure", figure, "--output-dir", f"html-{figure}")
    weights = {entry["quantity"]: entry["value"] for entry in json.loads(_key_json(run, data))}
    symbols, values = (data / "md-symbols" / "figure-5.svg").read_text(), (data / "md-values" / "figure-5.svg").read_text()
    assert ">w1<" in symbols and not re.search(r"w1 = ", symbols)
    assert f"w1 = {weights['w1']:g}" in values
    for figure in ("symbols", "values"):
        assert "![" in (data / f"md-{figure}" / "sheet-5.md").read_text() and "](figure-5.svg)" in (data / f"md-{figure}" / "key-5.md").read_text()
        assert (data / f"html-{figure}" / "sheet-5.html").read_text().count("<svg") == 1
    assert not (data / "md-none" / "figure-5.svg").exists() and "figure-5.svg" not in (data / "md-none" / "sheet-5.md").read_text()
    assert "<svg" not in (data / "html-none" / "sheet-5.html").read_text()


def _key_json(run, data) -> str:
    _written(run, "--format", "json", "--output-dir", "json")
    return (data / "json" / "key-5.json").read_text()


def test_latex_and_typst_draw_the_figure_only_where_asked(run, data):
    """The TikZ libraries are loaded only where a figure is drawn; Typst decodes the SVG from bytes."""
    for figure in ("symbols", "none"):
        _written(run, "--format", "latex", "--figure", figure, "--output-dir", f"tex-{figure}")
        _written(run, "--format", "typst", "--figure", figure, "--output-dir", f"typ-{figure}")
    assert r"\usetikzlibrary{arrows.meta}" in (data / "tex-symbols" / "sheet-5.tex").read_text()
    assert "tikz" not in (data / "tex-none" / "sheet-5.tex").read_text()
    assert 'format: "svg"' in (data / "typ-symbols" / "sheet-5.typ").read_text()
    assert "image(" not in (data / "typ-none" / "sheet-5.typ").read_text()


def test_the_terminal_leaves_a_figure_out():
    params = Parameters([0.1 * i for i in range(11)], 3, 2, "identity")
    console = Console(file=io.StringIO(), width=80, color_system=None)
    print_sections(console, [Heading("A", level=1), Figure(params, ("x1", "x2", "x3"), "y", symbols=True), Heading("B")])
    assert console.file.getvalue() == "A\n\nB\n"


def test_sheets_and_keys_of_every_variant_only_where_printed(run, data):
    """latex, typst and html write sheets.<ext> and keys.<ext>: one document, each variant from a
    new page (html: an article each, sheet.css's break-before); md, one file a sheet, does not."""
    for output_format in ("latex", "typst", "md", "html"):
        _written(run, "--variants", "2", "--format", output_format, "--output-dir", output_format)
    seeds = sorted(int(path.stem.split("-")[1]) for path in (data / "latex").glob("sheet-*.tex"))
    for folder, extension, new_page in (("latex", "tex", "\\clearpage"), ("typst", "typ", "#pagebreak()")):
        for name, title in (("sheets", "Exercise"), ("keys", "Answer key")):
            text = (data / folder / f"{name}.{extension}").read_text()
            assert text.count(new_page) == 1
            assert [int(seed) for seed in re.findall(rf"{title} \(variant (\d+)\)", text)] == seeds
        assert (data / "latex" / "sheets.tex").read_text().count("\\documentclass") == 1
    for name, title in (("sheets", "Exercise"), ("keys", "Answer key")):
        text = (data / "html" / f"{name}.html").read_text()
        assert text.count('<article class="sheet">') == 2
        assert [int(seed) for seed in re.findall(rf"<h1>{title} \(variant (\d+)\)", text)] == seeds
    assert not list((data / "md").glob("sheets.*"))


def _sheet(run, data, name: str, output_format: str) -> tuple[list[str], Path]:
    """SHEETS' sheet `name` (the first lively seed from 100, --round 4) written in the format: the names of its
    questions in order, and its path without the extension."""
    if name.startswith("xor"):
        result = run(["generate", "--shape", "xor", "--rows", "40"])
        (data / "xor.csv").write_text(result.stdout)
    options, _ = SHEETS[name]
    for written in ("json", output_format):
        result = run(["exercise", *options, "--round", "4", "--seed", "100", "--format", written, "--output-dir", name])
        assert result.exit_code == 0, result.stderr
    (written,) = (data / name).glob("sheet-*.json")
    return json.loads(written.read_text())["ask"], written.with_suffix("")


def _assert_questions_printed(pdf, asked) -> None:
    """pdftotext reads every question back, numbered 1.. in the order asked (the columns' rows side by side)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    questions = text.split("Find", 1)[1].split("This variant's seed", 1)[0].replace("’", "'")
    found = dict(re.findall(r"(?:^|\s)(\d+)\s+(\S+)", questions, re.M))
    assert [found.get(str(number)) for number in range(1, len(asked) + 1)] == asked


def _assert_statement_typeset(pdf) -> None:
    """The statement above the data is typeset maths (eta as the Greek letter, yhat with its hat, the step's
    partial derivative), not ASCII (pdftotext may set a display's pieces after the data's heading)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = unicodedata.normalize("NFKC", text)  # Typst's math italic letters as the letters
    statement = text.split("Data")[0]
    assert "η" in statement and "∂" in text.split("Find")[0], statement
    assert not re.search(r"\b(eta|yhat|sum)\b", statement), statement


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@needs_pdf_tools
@pytest.mark.parametrize("name", SHEETS)
def test_typst_sheet_fits_its_pages(run, data, name):
    """A sheet's PDF (Typst) takes at most SHEETS' pages; it holds one answer box per question and
    prints every question in order."""
    pytest.importorskip("typst")
    asked, sheet = _sheet(run, data, name, "pdf")
    assert _pages(sheet.with_suffix(".pdf")) <= SHEETS[name][1]
    _sheet(run, data, name, "typst")
    assert sheet.with_suffix(".typ").read_text().count("box(width: 100%, height: 7mm)") == len(asked)
    _assert_questions_printed(sheet.with_suffix(".pdf"), asked)
    _assert_statement_typeset(sheet.with_suffix(".pdf"))


@needs_tex
@needs_pdf_tools
@pytest.mark.slow
@pytest.mark.parametrize("name", SHEETS)
def test_latex_sheet_fits_its_pages(run, data, name):
    """The same sheets through latexmk: at most SHEETS' pages, nothing overflows, a box per question, every question in order."""
    asked, sheet = _sheet(run, data, name, "latex")
    tex = sheet.with_suffix(".tex")
    assert tex.read_text().count(r"\rule[-1.2mm]{0pt}{7mm}") == len(asked)
    _latexmk(tex)
    assert _pages(tex.with_suffix(".pdf")) <= SHEETS[name][1]
    assert "Overfull" not in tex.with_suffix(".log").read_text(errors="replace")
    _assert_questions_printed(tex.with_suffix(".pdf"), asked)
    _assert_statement_typeset(tex.with_suffix(".pdf"))
