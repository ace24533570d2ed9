"""explain --format latex|beamer|typst|pdf: the printed views of one worked epoch.

The LaTeX is compiled by Debian's pdflatex through latexmk and the Typst by the typst package
(fwdback[pdf]); every page of each PDF is rendered by poppler's pdftoppm and must carry ink.
The numbers the LaTeX prints are read back and compared with explain's JSON (full precision):
a number printed with 6 significant digits is within half a unit of its 6th digit of the value,
at most 5e-6 of it (PRINTED).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata

import pytest

from fwdback.render.typst import typst_math

PRINTED = 5e-6
REGRESSION_CSV = "x1,x2,x3,y\n0.5,1.0,-0.25,2.0\n-1.0,0.2,0.75,-1.5\n0.3,-0.7,0.1,0.4\n"
# A classifier's data whose column names hold TeX's and Typst's special characters.
FEATURES = 'a"#$\\x<>|,b_{1}%&~^é'
CLASSES_CSV = '"a""#$\\x<>|",b_{1}%&~^é,label\n0.5,1.0,yes\n-1.0,0.2,no\n0.3,-0.7,yes\n1.2,0.4,no\n'

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftoppm") is None,
                               reason="latexmk and pdftoppm are installed by .ci/run")


def _latex_name(name: str) -> str:
    """w1 -> w_1, w10 -> w_{10}: the lecture's symbol with its subscript, as LaTeX writes it."""
    letters, digits = re.fullmatch(r"([a-z]+)(\d+)", name).groups()
    return f"{letters}_{digits}" if len(digits) == 1 else f"{letters}_{{{digits}}}"


def _displays(tex: str) -> list[str]:
    """Every displayed equation's math, its alignment marks and row breaks taken out."""
    maths = re.findall(r"\\\[\\fit\{\$\\displaystyle (.*?)\$\}\\\]", tex)
    return [" ".join(re.sub(r"\\(begin|end)\{aligned\}|&|\\\\", " ", math).split()) for math in maths]


def _last_number(math: str) -> float:
    return float(re.search(r"= (-?[\d.]+(?:e[+-]\d+)?)\s*$", math).group(1))


def _assert_printed(printed: float, value: float) -> None:
    assert abs(printed - value) <= PRINTED * abs(value), (printed, value)


def _inked_pages(pdf: bytes, tmp_path) -> list[float]:
    """The share of each page's pixels that are not white (pdftoppm, grey, 20 dpi)."""
    (tmp_path / "out.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(tmp_path / "out.pdf"), str(tmp_path / "page")], check=True)
    shares = []
    for page in sorted(tmp_path.glob("page*.pgm")):
        data = page.read_bytes()
        width, height, _ = (int(field) for field in data.split(maxsplit=4)[1:4])
        pixels = data[-width * height:]
        shares.append(sum(pixel < 200 for pixel in pixels) / len(pixels))
    return shares


def _latexmk(tex: str, tmp_path) -> bytes:
    (tmp_path / "doc.tex").write_text(tex)
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=600)
    return (tmp_path / "doc.pdf").read_bytes()


@pytest.fixture
def regression(workdir, run):
    (workdir / "data.csv").write_text(REGRESSION_CSV)
    return lambda *options: run(["explain", "data.csv", "--seed", "3", *options])


def test_latex_prints_explains_numbers(regression):
    """Every gradient, every weight before and after the update, and the loss before and after,
    as the article prints them, equal explain's JSON values to 6 significant digits."""
    values = json.loads(regression("--format", "json").stdout)
    result = regression("--format", "latex")
    assert result.exit_code == 0, result.stderr
    tex = result.stdout
    assert tex.startswith("\\documentclass[11pt]{article}") and tex.endswith("\\end{document}\n")
    displays = _displays(tex)
    for name, gradient in values["gradients"].items():
        symbol = _latex_name(name)
        [math] = [m for m in displays if m.strip().startswith(rf"\frac{{\partial L}}{{\partial {symbol}}} ")]
        _assert_printed(_last_number(math), gradient)
        [update] = [m for m in displays if m.strip().startswith(rf"{symbol} \leftarrow")]
        _assert_printed(_last_number(update), values["weights_after"][name])
        before = re.search(rf"\${re.escape(symbol)} = (-?[\d.e+-]+)\$", tex).group(1)
        _assert_printed(float(before), values["weights"][name])
    losses = dict(re.findall(r"(?:^|\\quad )L_\{\\text\{(before|after)\}\} = (-?[\d.]+(?:e[+-]\d+)?)", "\n".join(displays), re.M))
    _assert_printed(float(losses["before"]), values["loss"])
    _assert_printed(float(losses["after"]), values["loss_after"])


def test_beamer_steps_through_the_chain(regression):
    r"""dL/dw1's frame uncovers the chain factor by factor: dL/dN1_i, then dN1_i/dw1 (the
    identity network's chain), then the next side, dL/dyhat_i dyhat_i/dN1_i dN1_i/dw1, a factor
    at a time again; overlays counted up 2, 3, 4, ... Each side's "=" comes with the side: no
    relation stands on a slide before what it relates."""
    tex = regression("--format", "beamer").stdout
    assert tex.startswith("\\documentclass[aspectratio=169]{beamer}")
    [frame] = [f for f in tex.split("\\begin{frame}") if r"\frac{\partial L}{\partial w_1} &\uncover<2->" in f]
    overlays = [int(n) for n in re.findall(r"\\uncover<(\d+)->", frame)]
    assert overlays[:5] == [2, 3, 4, 5, 6]
    assert overlays == sorted(overlays)
    pieces = re.findall(r"\\uncover<[2-6]->\{(.*?)\}(?=\\uncover|\s*\\\\)", frame)
    assert pieces[:2] == [r"{}= \sum_{i=1}^{n} \frac{\partial L}{\partial N_{1,i}}", r" \frac{\partial N_{1,i}}{\partial w_1}"]
    assert not re.search(r"&\s*=", frame)
    assert r"\frac{\partial \hat{y}_i}{\partial N_{1,i}}" in pieces[3]


@needs_tex
@pytest.mark.slow
def test_latex_and_beamer_compile(regression, workdir, run, tmp_path):
    """pdflatex (through latexmk) compiles the article and the deck of the lecture's network,
    and the article of a classifier whose column names hold TeX's special characters; every
    page has ink, no frame of the deck overflows, and the names read back as written."""
    (workdir / "pets.csv").write_text(CLASSES_CSV)
    classifier = run(["explain", "pets.csv", "--features", FEATURES, "--target", "label", "--loss", "bce", "--seed", "1",
                      "--format", "latex"])
    assert classifier.exit_code == 0, classifier.stderr
    for name, tex in (("latex", regression("--format", "latex").stdout), ("beamer", regression("--format", "beamer").stdout),
                      ("classifier", classifier.stdout)):
        folder = tmp_path / name
        folder.mkdir()
        pdf = _latexmk(tex, folder)
        shares = _inked_pages(pdf, folder)
        assert len(shares) >= 2 and min(shares) > 0.001, shares
        assert "Overfull \\vbox" not in (folder / "doc.log").read_text(errors="replace")
    text = subprocess.run(["pdftotext", str(tmp_path / "classifier" / "doc.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert all(name in unicodedata.normalize("NFC", text) for name in FEATURES.split(","))  # é from e and its accent


def test_pdf_of_a_classifier_through_typst(workdir, run, tmp_path):
    """--format pdf compiles the Typst document of a classifier's epoch (bce), whose column
    names hold TeX's and Typst's special characters; every page has ink, and the names read
    back from the PDF as they are written."""
    pytest.importorskip("typst")
    (workdir / "pets.csv").write_text(CLASSES_CSV)
    result = run(["explain", "pets.csv", "--features", FEATURES, "--target", "label", "--loss", "bce", "--seed", "1", "--format", "pdf"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"%PDF")
    shares = _inked_pages(result.stdout_bytes, tmp_path)
    assert len(shares) >= 2 and min(shares) > 0.001, shares
    text = subprocess.run(["pdftotext", str(tmp_path / "out.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert all(name in text for name in FEATURES.split(","))


def test_pdf_without_the_extra(regression, monkeypatch):
    """Without the typst package: one Error line naming the extra, exit 1, nothing on stdout."""
    monkeypatch.setitem(sys.modules, "typst", None)
    result = regression("--format", "pdf")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert result.stderr == "Error: PDF needs the typst package, which is not installed: pip install 'fwdback[pdf]'\n"


@pytest.mark.parametrize("latex, typst", [
    (r"\frac{\partial L}{\partial w_1}", "frac(partial L, partial w_(1))"),
    (r"\hat{y}_{2,i} - 1.5e-05 \cdot (-0.25)", r'hat(y)_(2 \, i) - "1.5e-05" dot.op ( - 0.25 )'),
    (r"\begin{aligned} a &= b \\ &\quad + c \end{aligned}", r"a & = b \ & quad + c"),
    (r"\text{row 3: a/b}", '"row 3: a/b"'),
    (r"\sum_{i=1}^{n} x_{1,i}", r"sum_(i = 1)^(n) x_(1 \, i)"),
])
def test_typst_math(latex, typst):
    assert typst_math(latex) == typst


def test_typst_math_refuses_an_unknown_command():
    with pytest.raises(ValueError, match=r"\\mathbb"):
        typst_math(r"\mathbb{R}")


def test_pdf_is_not_written_to_a_terminal(regression, monkeypatch):
    """A PDF on a terminal would be noise: a usage error (exit 2) that says to redirect it."""
    monkeypatch.setattr("fwdback.outputs.Stdout.isatty", lambda self: True)
    result = regression("--format", "pdf")
    assert result.exit_code == 2
    assert "fwdback explain DATA --format pdf > epoch1.pdf" in result.stderr
    assert result.stdout_bytes == b""
