"""exercise --format html printed by Chromium: a sheet on one page of A4 and of Letter, a class's
sheets in one file a variant a page, a key's header on each of its pages; black on white on
paper; on a phone's screen nothing wider than the window and text at WCAG's contrast.

The pages are counted in the PDF Chromium prints (its page objects) and read back by poppler's
pdftotext, page by page; the expectations are the paper's: one sheet, one page.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cases import slow_after
from conftest import _CLEAN_ENV, _make_runner
from fwdback.cli import cli
from test_page_seen import CONTRASTS, OVERFLOWS, TEXT_CONTRAST, open_page

SAMPLE = Path(__file__).parent.parent / "sample_data" / "linear.csv"
# The printable area of both papers with sheet.css's margins of 12 mm: A4 is 210 mm wide, Letter
# 215.9 mm; CSS has 96 px to the inch of 25.4 mm.
NARROWER_AREA_PX = (210 - 2 * 12) * 96 / 25.4
# The printable height of the shorter paper, Letter's 279.4 mm.
SHORTER_AREA_PX = (279.4 - 2 * 12) * 96 / 25.4
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is installed by .ci/run")


def exercise(directory: Path, *options) -> None:
    result = _make_runner().invoke(cli, ["exercise", str(SAMPLE), "--format", "html", "--output-dir", str(directory),
                                         *map(str, options)], env=_CLEAN_ENV)
    assert result.exit_code == 0, result.output


# The exercises the tests print, by name: the options after DATA (the lecture's data, everything
# asked): on 5 of its rows (53 quantities to find), on 2 (35), and three variants of 2 rows.
EXERCISES = {"five": ("--rows", 5, "--seed", 0), "two": ("--rows", 2, "--seed", 0, "--round", 4),
             "three": ("--rows", 2, "--seed", 100, "--variants", 3)}


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    """sheets(name) -> the folder that `fwdback exercise` wrote EXERCISES[name] to, written on first use."""
    folder, written = tmp_path_factory.mktemp("sheets"), {}

    def made(name: str) -> Path:
        if name not in written:
            exercise(folder / name, *EXERCISES[name])
            written[name] = folder / name
        return written[name]

    return made


def printed(chromium, path: Path, paper: str, scheme: str = "light") -> bytes:
    recorder, page = open_page(chromium, path, 800, scheme)
    pdf = page.pdf(format=paper)
    assert recorder.requests == [] and recorder.errors == []
    return pdf


def pages(pdf: bytes) -> int:
    """The number of page objects in the PDF (its /Type /Page dictionaries, not /Pages)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def page_texts(pdf: bytes, folder: Path, layout: bool = True) -> list[str]:
    """Each page's text by pdftotext: as laid out on the page, or with `layout` False a cell's lines together."""
    (folder / "printed.pdf").write_bytes(pdf)
    return [subprocess.run(["pdftotext", *(["-layout"] if layout else []), "-f", str(number), "-l", str(number),
                            str(folder / "printed.pdf"), "-"], capture_output=True, text=True, check=True).stdout
            for number in range(1, pages(pdf) + 1)]


@needs_poppler
@pytest.mark.parametrize("name, paper", slow_after(1, [("five", "A4"), ("two", "Letter"), ("five", "Letter"), ("two", "A4")],
                                                   unpack=True))
def test_a_sheet_prints_on_one_page(chromium, sheets, name, paper, tmp_path):
    """The sheet of 53 quantities and the one of 35 each print on one page, in the dark scheme too
    (paper has no scheme), with the last quantity asked (b3', the last update) and the command
    that writes the sheet again."""
    last = {"five": 53, "two": 35}[name]
    [text] = page_texts(printed(chromium, sheets(name) / "sheet-0.html", paper, "dark"), tmp_path)
    assert re.search(rf"\b{last}\. b3'", text) and "This variant's seed: " in text


def seeds(folder: Path) -> list[int]:
    return sorted(int(re.fullmatch(r"sheet-(\d+)\.html", file.name).group(1)) for file in folder.glob("sheet-*.html"))


@needs_poppler
def test_sheets_html_prints_a_variant_a_page(chromium, sheets, tmp_path):
    folder = sheets("three")
    assert len(seeds(folder)) == 3
    texts = page_texts(printed(chromium, folder / "sheets.html", "A4"), tmp_path)
    assert [re.findall(r"Exercise \(variant (\d+)\)", text) for text in texts] == [[str(seed)] for seed in seeds(folder)]


@needs_poppler
@pytest.mark.slow
def test_keys_html_prints_each_variant_from_a_new_page(chromium, sheets, tmp_path):
    folder = sheets("three")
    texts = page_texts(printed(chromium, folder / "keys.html", "Letter"), tmp_path)
    headed = [re.findall(r"Answer key \(variant (\d+)\)", text) for text in texts]
    assert [seed for found in headed for seed in found] == [str(seed) for seed in seeds(folder)]
    for text, found in zip(texts, headed):
        assert not found or text.lstrip().startswith(f"Answer key (variant {found[0]})")


@needs_poppler
@pytest.mark.slow
def test_a_key_over_several_pages_repeats_its_header(chromium, sheets, tmp_path):
    """The key of 5 rows (53 quantities, their formulas) runs over pages: each page after the
    first begins with the answers' header, and no row is cut by a page's edge: each formula is
    whole on one page (read without spaces and hyphens, which pdftotext takes out at a line's end)."""
    key = sheets("five") / "key-0.html"
    pdf = printed(chromium, key, "Letter")
    texts = page_texts(pdf, tmp_path)
    header = ["quantity", "asked", "formula", "value", "rounded", "tolerance"]
    assert len(texts) >= 2 and texts[1].split()[:6] == header
    for text in texts[1:]:  # the last page may hold the line under the table alone
        assert text.split()[:6] == header or text.split()[0] == "Regenerate", text[:200]
    answers = key.read_text().split("<h2>Answers</h2>")[1]
    formulas = re.findall(r'<tr><td class="left">[^<]*</td><td class="left">[^<]*</td><td class="left">([^<]*)</td>', answers)
    assert len(formulas) == 53
    bare = [re.sub(r"[\s-]", "", text) for text in page_texts(pdf, tmp_path, layout=False)]
    for formula in formulas:
        assert sum(re.sub(r"[\s-]", "", html.unescape(formula)) in page for page in bare) == 1, formula


PRINTED_BOXES = """(limit) => {
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) { continue; }
    if (box.left < -0.5 || box.right > limit + 0.5) { out.push(e.tagName + " " + Math.round(box.left) + ".." + Math.round(box.right)); }
  }
  const colours = new Set();
  for (const e of document.querySelectorAll("body, body *")) {
    const style = getComputedStyle(e);
    colours.add("color " + style.color);
    if (style.backgroundColor !== "rgba(0, 0, 0, 0)") { colours.add("background " + style.backgroundColor); }
    if (parseFloat(style.borderBottomWidth) > 0) { colours.add("border " + style.borderBottomColor); }
  }
  return { outside: out, colours: [...colours].sort(), buttons: document.querySelectorAll("button, a[href], input").length,
           height: document.documentElement.scrollHeight };
}"""


@pytest.mark.parametrize("sheet", slow_after(1, ["sheet-0.html", "key-0.html"]))
def test_printed_every_box_within_the_paper_black_on_white(chromium, sheets, sheet):
    """At print media, at the width of the narrower printable area (A4's), in the dark scheme:
    no element's box passes the paper's edge, every colour is a grey from black to white, and
    nothing is there that a reader of paper could not use (buttons, links, fields); the sheet is
    no taller than the shorter paper's printable area."""
    recorder, page = open_page(chromium, sheets("five") / sheet, int(NARROWER_AREA_PX), "dark")
    page.emulate_media(media="print", color_scheme="dark")
    found = page.evaluate(PRINTED_BOXES, NARROWER_AREA_PX)
    assert found["outside"] == []
    assert found["buttons"] == 0 and recorder.errors == []
    assert sheet != "sheet-0.html" or found["height"] <= SHORTER_AREA_PX
    for colour in found["colours"]:
        red, green, blue = map(int, re.search(r"rgba?\((\d+), (\d+), (\d+)", colour).groups())
        assert red == green == blue, colour
        if colour.startswith("color"):
            assert red <= 0x33, colour  # text: black or the dark grey of what is muted
        if colour.startswith("background"):
            assert red == 255, colour


@pytest.mark.parametrize("sheet, scheme", slow_after(1, [("sheet-0.html", "light"), ("key-0.html", "dark"), ("sheet-0.html", "dark"),
                                                         ("key-0.html", "light")], unpack=True))
def test_on_a_phone_nothing_overflows_and_text_has_contrast(chromium, sheets, sheet, scheme):
    """At 390 px: the page no wider than the window (a wide table scrolls in its own box), every
    text at WCAG's 4.5:1 at least."""
    recorder, page = open_page(chromium, sheets("five") / sheet, 390, scheme)
    found = page.evaluate(OVERFLOWS)
    assert found["scrollWidth"] <= 390 and found["loose"] == [], found["loose"][:10]
    for container in found["containers"]:
        assert -0.5 <= container["left"] and container["right"] <= 390.5, container
    measured = page.evaluate(CONTRASTS, ["body *", []])
    assert len(measured) > 50
    assert [f"{m['what']}: {m['ratio']:.2f}" for m in measured if m["ratio"] < TEXT_CONTRAST] == []
    assert recorder.errors == [] and recorder.requests == []
