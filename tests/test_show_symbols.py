"""show --format svg|tikz, with --symbols (the parameters' names alone) and without: the figure's
edges, arrowheads and labels read back from the SVG's XML and the TikZ source, and the TikZ
document compiled by pdflatex (about 2 s a compilation) and its page rendered by pdftoppm."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from fwdback.render.svg import COLUMN_GAP, NODE_RADIUS
from test_figures_seen import MEASURE, SCREENS, check_seen

SVG = "{http://www.w3.org/2000/svg}"

# (options describing the network, k inputs, h hidden units, m outputs): the lecture's, Mazur's
# 2-2-2 with sigmoids, a classifier's one sigmoid output, and a wide one whose labels do not all fit.
NETWORKS = {
    "lecture": ([], 3, 2, 1),
    "mazur": (["--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid", "--output-activation", "sigmoid"], 2, 2, 2),
    "classifier": (["--features", "a,b", "--output-activation", "sigmoid"], 2, 2, 1),
    "wide": (["--features", "c1,c2,c3,c4,c5,c6", "--hidden", "8", "--activation", "tanh"], 6, 8, 1),
}


def lecture_names(k: int, h: int, m: int) -> list[str]:
    """The parameters' names as the lecture numbers them: the k*h input weights, the h*m output
    weights, then the h + m biases."""
    return [f"w{i}" for i in range(1, k * h + h * m + 1)] + [f"b{i}" for i in range(1, h + m + 1)]


def text_of(element) -> str:
    return "".join(element.itertext())


@pytest.mark.parametrize("network", NETWORKS, ids=list(NETWORKS))
def test_symbols_svg_without_a_model_file_names_every_parameter_and_no_value(run, workdir, network):
    options, k, h, m = NETWORKS[network]
    result = run(["show", "--format", "svg", "--symbols", *options])
    assert result.exit_code == 0, result.stderr
    assert list(workdir.iterdir()) == []
    root = ET.fromstring(result.stdout)
    markers = {marker.get("id") for marker in root.iter(SVG + "marker")}
    edges = [g for g in root.iter(SVG + "g") if "edge" in (g.get("class") or "").split()]
    assert len(edges) == k * h + h * m  # every edge drawn: no weights to leave the weaker out by
    for edge in edges:
        lines = [line for line in edge.iter(SVG + "line") if "weight" in line.get("class").split()]
        assert re.fullmatch(r"url\(#(.+)\)", lines[-1].get("marker-end")).group(1) in markers
        assert all(line.get("marker-end") is None for line in lines[:-1])
        assert {line.get("stroke-width") for line in lines} == {"1.50"}
    names = lecture_names(k, h, m)
    labelled = {g.get("data-param"): g for g in root.iter(SVG + "g") if g.get("data-param")}
    assert sorted(labelled, key=names.index) == names
    for name, g in labelled.items():
        texts = [text_of(text) for text in g.iter(SVG + "text")]
        assert texts in ([name], []) or (g.get("class") == "listed" and texts[0].startswith(name + " ("))
        assert text_of(g.find(SVG + "title")).split(",")[0] == name
    drawn = " ".join(text_of(text) for text in root.iter(SVG + "text"))
    assert "=" not in drawn and not re.search(r"\d\.\d|\.\d", drawn)


def test_symbols_figures_keep_their_labels_clear_of_edges_and_arrowheads_and_are_legible_in_both_schemes(run, workdir, browser_page):
    """As Chromium draws them, at 1280 and 390 px, light and dark (test_figures_seen.check_seen:
    no label crossed by an edge or under an arrowhead or on another label, every edge ending
    in its arrowhead at a unit's rim, text 4.5:1 and lines and arrowheads 3:1 against the backdrop)."""
    page = browser_page.page
    for network in NETWORKS:
        result = run(["show", "--format", "svg", "--symbols", *NETWORKS[network][0]])
        page.set_content(result.stdout)
        for width, scheme in SCREENS:
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            check_seen(page.evaluate(MEASURE), width, f"the {network} network's symbols at {width} px, {scheme}")
    assert browser_page.errors == []


def test_symbols_svg_of_a_model_file_keeps_its_columns_and_drops_its_values(run, workdir, init_weights):
    (workdir / "w.json").write_text(__import__("json").dumps(init_weights))
    result = run(["show", "w.json", "--format", "svg", "--symbols", "--features", "age,height,weight"])
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(result.stdout)
    texts = [text_of(text) for text in root.iter(SVG + "text")]
    assert {"age", "height", "weight"} <= set(texts)
    assert not any(str(value) in " ".join(texts) for value in init_weights.values())


def test_svg_with_values_has_an_arrowhead_on_every_edge_coloured_for_both_schemes(run, workdir, init_file):
    result = run(["show", init_file, "--format", "svg"])
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(result.stdout)
    markers = {marker.get("id"): marker for marker in root.iter(SVG + "marker")}
    style = text_of(root.find(SVG + "style"))
    for edge in (g for g in root.iter(SVG + "g") if g.get("class") == "edge"):
        last = [line for line in edge.iter(SVG + "line") if "weight" in line.get("class").split()][-1]
        sign = re.fullmatch(r"url\(#arrow-(positive|negative)\)", last.get("marker-end")).group(1)
        assert sign in last.get("class").split() and f"arrow-{sign}" in markers
    dark = style[style.index("prefers-color-scheme: dark"):]
    assert ".network .arrow.positive" in dark and ".network .arrow.negative" in dark


@pytest.mark.parametrize("symbols", [True, False], ids=["symbols", "values"])
@pytest.mark.parametrize("network", ["lecture", "mazur", "wide"])
def test_tikz_draws_every_unit_edge_and_parameter_in_math_mode(run, workdir, init_file, network, symbols):
    options, k, h, m = NETWORKS[network]
    names = lecture_names(k, h, m)
    if symbols:
        args = ["show", "--symbols", *options]
    else:
        (workdir / "w.json").write_text(__import__("json").dumps({name: 0.125 * (i + 1) * (-1) ** i for i, name in enumerate(names)}))
        args = ["show", "w.json", *options]
    result = run([*args, "--format", "tikz"])
    assert result.exit_code == 0, result.stderr
    tex = result.stdout
    assert tex.startswith("%") and r"\documentclass{article}" in tex and tex.rstrip().endswith(r"\end{document}")
    units = [f"x{j}" for j in range(1, k + 1)] + [f"N{u}" for u in range(1, h + 1)] + (["yhat"] if m == 1 else [f"yhat{j}" for j in range(1, m + 1)])
    assert re.findall(r"\\node\[unit\] \((\w+)\)", tex) == units
    edges = re.findall(r"\\draw\[edge, [^]]*\] \((\w+)\) -- \((\w+)\);", tex)
    expected_edges = [(f"x{j}", f"N{u}") for u in range(1, h + 1) for j in range(1, k + 1)]
    expected_edges += [(f"N{u}", out) for u in range(1, h + 1) for out in units[k + h:]]
    assert sorted(edges) == sorted(expected_edges) if symbols or k * h <= 20 else set(edges) <= set(expected_edges)
    for i, name in enumerate(names):
        symbol = f"{name[0]}_{name[1:]}" if len(name) == 2 else f"{name[0]}_{{{name[1:]}}}"
        value = 0.125 * (i + 1) * (-1) ** i
        label = f"${symbol}$" if symbols else f"${symbol} = {value:g}$"
        assert tex.count(label) == 1, label
    if symbols:
        assert not [text for text in re.findall(r"\$([^$]*)\$", tex) if "=" in text or re.search(r"\d\.\d", text)]


def test_tikz_escapes_column_names_for_latex(run, workdir):
    result = run(["show", "--symbols", "--format", "tikz", "--features", "a_b,c&d,50%", "--target", "y{1}"])
    assert result.exit_code == 0, result.stderr
    assert r"{a\_b}" in result.stdout and r"{c\&d}" in result.stdout and r"{50\%}" in result.stdout
    assert r"{y\{1\}}" in result.stdout


@pytest.mark.parametrize("args, words", [
    (["--format", "text"], "--format svg or tikz"),
    (["--format", "dot"], "--format svg or tikz"),
    (["--format", "svg", "--data", "rows.csv"], "leave out one of them"),
])
def test_symbols_is_refused_where_it_draws_nothing(run, workdir, args, words):
    result = run(["show", "--symbols", *args])
    assert result.exit_code == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ") and words in result.stderr


@pytest.mark.skipif(not (shutil.which("latexmk") and shutil.which("pdftoppm")), reason="needs latexmk and pdftoppm (.ci/run installs them)")
@pytest.mark.parametrize("symbols", [True, False], ids=["symbols", "values"])
def test_tikz_compiles_to_one_page_that_is_not_blank(run, workdir, init_file, symbols):
    result = run(["show", *(["--symbols"] if symbols else [init_file]), "--format", "tikz"])
    assert result.exit_code == 0, result.stderr
    (workdir / "network.tex").write_text(result.stdout)
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "network.tex"], cwd=workdir,
                   check=True, capture_output=True, timeout=300)
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "network.pdf", "page"], cwd=workdir, check=True, timeout=120)
    pages = sorted(workdir.glob("page*.pgm"))
    assert len(pages) == 1
    pixels = _pgm(pages[0])
    # The page is the figure's size: 533.4 pt wide (711.2 px of the SVG's layout at 0.75 pt) at 50 dpi is 370 pixels.
    assert abs(pixels.shape[1] - 533.4 / 72 * 50) <= 1
    # Not blank: each of the eight edges runs at least COLUMN_GAP - 2 * NODE_RADIUS px (0.75 pt
    # each) across, so it darkens at least one pixel in each of that many columns of 72/50 pt;
    # two edges cross at a point, which takes a few pixels off the count, allowed for by a tenth.
    columns = (COLUMN_GAP - 2 * NODE_RADIUS) * 0.75 / (72 / 50)
    assert np.count_nonzero(pixels < 255) >= 0.9 * 8 * columns


def _pgm(path) -> np.ndarray:
    """The pixels of a binary 8-bit PGM (pdftoppm -gray writes one), shape (rows, columns)."""
    magic, width, height, most, pixels = path.read_bytes().split(maxsplit=4)
    assert (magic, most) == (b"P5", b"255")
    return np.frombuffer(pixels, dtype=np.uint8).reshape(int(height), int(width))
