"""The network figure as a person sees it: `show --format svg` and the run page's drawing,
measured in Chromium at 1280 and 390 CSS pixels, in the light and the dark scheme.

Every number checked is read from the rendered figure (each text's box and each line's ends
and width through the browser's own transforms, each colour from getComputedStyle) and judged
by geometry and the WCAG formulas written out here; the gradient widths are checked against
the --history CSV of the same run.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fwdback.cli import cli
from fwdback.notation import number
from cases import slow_after

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "linear.csv"
MAZUR_ROWS = "x1,x2,y1,y2\n0.05,0.10,0.01,0.99\n"
MAZUR_WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50,
                 "w8": 0.55, "b1": 0.35, "b2": 0.35, "b3": 0.60, "b4": 0.60}
MAZUR = ["--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid", "--output-activation", "sigmoid",
         "--loss", "half-sse", "--lr", "0.5", "--freeze", "b1,b2,b3,b4", "--init", "mazur-weights.json", "--epochs", "20"]
SCREENS = [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")]


def fwdback(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> Path:
    """A directory with, for the sample run, Mazur's 2-2-2 network and a 5-16-1 network, the
    run's page (NAME.html, the sample's --history too) and `show --format svg` (NAME.svg)."""
    directory = tmp_path_factory.mktemp("figures")
    (directory / "mazur.csv").write_text(MAZUR_ROWS)
    (directory / "mazur-weights.json").write_text(json.dumps(MAZUR_WEIGHTS))
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(40, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0, -1.0]) + 0.5
    (directory / "wide.csv").write_text("x1,x2,x3,x4,x5,y\n" + "".join(",".join(map(repr, [*row, t])) + "\n"
                                                                     for row, t in zip(X.tolist(), y.tolist())))
    runs = {"sample": [SAMPLE, "--history", directory / "sample-history.csv"],
            "mazur": [directory / "mazur.csv", *MAZUR],
            "wide": [directory / "wide.csv", "--features", "x1,x2,x3,x4,x5", "--hidden", "16", "--epochs", "20", "--lr", "0.01"]}
    for name, args in runs.items():
        args = [a if a != "mazur-weights.json" else directory / a for a in args]
        fwdback("train", *args, "--report", directory / f"{name}.html", "--model", directory / f"{name}.json", "-q")
        (directory / f"{name}.svg").write_text(fwdback("show", directory / f"{name}.json", "--format", "svg"))
    return directory


MEASURE = """() => {
  const svg = document.querySelector("svg.network");
  const at = (m, x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
  const scale = (m) => Math.hypot(m.a, m.b);
  const texts = Array.from(svg.querySelectorAll("text")).filter((t) => t.getBBox().width > 0).map((t) => {
    const b = t.getBBox(), m = t.getScreenCTM(), style = getComputedStyle(t);
    return {text: t.textContent, size: parseFloat(style.fontSize) * scale(m), fill: style.fill, opacity: style.opacity,
            corners: [at(m, b.x, b.y), at(m, b.x + b.width, b.y), at(m, b.x + b.width, b.y + b.height), at(m, b.x, b.y + b.height)]};
  });
  const lines = Array.from(svg.querySelectorAll("[data-param] line.weight, [data-param] line.gradient")).map((l) => {
    const m = l.getScreenCTM(), style = getComputedStyle(l);
    const marker = l.getAttribute("marker-end") ? svg.querySelector(l.getAttribute("marker-end").slice(4, -1)) : null;
    return {param: l.closest("[data-param]").getAttribute("data-param"), kind: l.classList.contains("weight") ? "weight" : "gradient",
            start: at(m, l.x1.baseVal.value, l.y1.baseVal.value), end: at(m, l.x2.baseVal.value, l.y2.baseVal.value),
            width: parseFloat(style.strokeWidth) * scale(m), stroke: style.stroke, opacity: style.opacity,
            arrow: marker && {length: marker.markerWidth.baseVal.value * scale(m), half: marker.markerHeight.baseVal.value / 2 * scale(m),
                              fill: getComputedStyle(marker.querySelector("path")).fill}};
  });
  const circles = Array.from(svg.querySelectorAll(".node circle")).map((c) => {
    const m = c.getScreenCTM();
    return {centre: at(m, c.cx.baseVal.value, c.cy.baseVal.value), r: c.r.baseVal.value * scale(m), stroke: getComputedStyle(c).stroke};
  });
  const keys = Array.from(svg.querySelectorAll(".gradient-key line, .frozen-legend line")).map((l) => getComputedStyle(l).stroke);
  return {texts, lines, circles, keys, backdrop: getComputedStyle(svg.querySelector(".backdrop")).fill};
}"""


# Geometry of what was measured, in CSS pixels.
def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_meet(p, q, a, b) -> bool:
    d1, d2, d3, d4 = _cross(a, b, p), _cross(a, b, q), _cross(p, q, a), _cross(p, q, b)
    return d1 * d2 < 0 and d3 * d4 < 0


def _point_to_segment(p, a, b) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy))) if dx or dy else 0.0
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _segment_distance(p, q, a, b) -> float:
    if _segments_meet(p, q, a, b):
        return 0.0
    return min(_point_to_segment(p, a, b), _point_to_segment(q, a, b), _point_to_segment(a, p, q), _point_to_segment(b, p, q))


def _inside(point, polygon) -> bool:
    signs = [_cross(polygon[i], polygon[(i + 1) % len(polygon)], point) for i in range(len(polygon))]
    return all(s > 0 for s in signs) or all(s < 0 for s in signs)


def _sides(polygon):
    return [(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]


def bounds(points) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def band_touches(polygon, start, end, half: float) -> bool:
    """Whether a line from start to end, `half` wide on each side, touches the polygon."""
    return _inside(start, polygon) or any(_segment_distance(start, end, a, b) < half for a, b in _sides(polygon))


def polygons_overlap(one, other) -> bool:
    return (any(_inside(p, other) for p in one) or any(_inside(p, one) for p in other)
            or any(_segments_meet(p, q, a, b) for p, q in _sides(one) for a, b in _sides(other)))


def bands(lines):
    """Each drawn line as (start, end, half its width)."""
    return [(line["start"], line["end"], line["width"] / 2) for line in lines if line["width"] > 0]


def arrowheads(lines):
    """Each arrowhead as a triangle: its base across the line's end, its tip ahead of it."""
    for line in lines:
        if line["arrow"]:
            (sx, sy), (ex, ey) = line["start"], line["end"]
            length = math.hypot(ex - sx, ey - sy)
            ux, uy = (ex - sx) / length, (ey - sy) / length
            ahead, half = line["arrow"]["length"], line["arrow"]["half"]
            yield [(ex - uy * half, ey + ux * half), (ex + ux * ahead, ey + uy * ahead), (ex + uy * half, ey - ux * half)]


def _grown(box, by: float):
    return box[0] - by, box[1] - by, box[2] + by, box[3] + by


def _meet(one, other) -> bool:
    return one[0] <= other[2] and other[0] <= one[2] and one[1] <= other[3] and other[1] <= one[3]


# WCAG 2 relative luminance and contrast of computed colours ("rgb(r, g, b)").
def luminance(colour: str) -> float:
    assert colour.startswith("rgb("), colour
    channels = [int(part) / 255 for part in colour[4:-1].split(",")]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    low, high = sorted([luminance(one), luminance(other)])
    return (high + 0.05) / (low + 0.05)


def check_seen(seen: dict, width: int, where: str) -> None:
    """No text's box crossed by an edge or covering another text; every edge that ends at a unit
    ends in an arrowhead at its rim; text at least 11 px; WCAG contrast against the backdrop."""
    texts, lines = seen["texts"], seen["lines"]
    # Each shape with its bounding box, (left, top, right, bottom), inflated by its half-width:
    # two shapes whose boxes are apart are apart, and only the others are measured exactly.
    drawn = [(band, _grown(bounds(band[:2]), band[2])) for band in bands(lines)]
    heads = [(head, bounds(head)) for head in arrowheads(lines)]
    boxes = [bounds(text["corners"]) for text in texts]
    for text, box in zip(texts, boxes):
        for (start, end, half), around in drawn:
            assert not (_meet(box, around) and band_touches(text["corners"], start, end, half)), \
                f"{where}: '{text['text']}' crossed by an edge"
        for head, around in heads:
            assert not (_meet(box, around) and polygons_overlap(text["corners"], head)), f"{where}: '{text['text']}' under an arrowhead"
    for i, (text, box) in enumerate(zip(texts, boxes)):
        for other, around in zip(texts[i + 1 :], boxes[i + 1 :]):
            assert not (_meet(box, around) and polygons_overlap(text["corners"], other["corners"])), \
                f"{where}: '{text['text']}' on '{other['text']}'"
    for line in lines:
        if line["arrow"]:
            length = math.hypot(line["end"][0] - line["start"][0], line["end"][1] - line["start"][1])
            tip = [e + (e - s) / length * line["arrow"]["length"] for s, e in zip(line["start"], line["end"])]
            rims = [abs(math.dist(tip, c["centre"]) - c["r"]) for c in seen["circles"]]
            assert min(rims) < 0.5, f"{where}: {line['param']}'s arrowhead ends at a unit's rim"
            heads = [c for c in seen["circles"] if abs(math.dist(tip, c["centre"]) - c["r"]) < 0.5]
            assert heads[0]["centre"][0] > line["start"][0], f"{where}: {line['param']} points forward, to the right"
    arrowed = {line["param"] for line in lines if line["kind"] == "weight" and line["arrow"]}
    assert arrowed == {line["param"] for line in lines if line["kind"] == "weight"}, f"{where}: every edge has its arrowhead"
    smallest = min(text["size"] for text in texts)
    assert smallest >= 11 - 0.05, f"{where} at {width} px: text {smallest:.1f} px high"
    back = seen["backdrop"]
    for text in texts:
        assert text["opacity"] == "1" and contrast(text["fill"], back) >= 4.5, f"{where}: '{text['text']}' {text['fill']} on {back}"
    graphics = [(f"{line['param']} {line['kind']}", line["stroke"]) for line in lines if line["width"] > 0]
    graphics += [(f"{line['param']} arrowhead", line["arrow"]["fill"]) for line in lines if line["arrow"]]
    graphics += [("a unit's circle", circle["stroke"]) for circle in seen["circles"]] + [("a key's line", key) for key in seen["keys"]]
    for what, colour in graphics:
        assert contrast(colour, back) >= 3, f"{where}: {what} {colour} on {back}: {contrast(colour, back):.2f}:1"
    assert all(line["opacity"] == "1" for line in lines), f"{where}: no line is faded"


@pytest.mark.parametrize(("name", "kind"), slow_after(2, [
    ("sample", "svg"), ("sample", "html"), ("mazur", "svg"), ("wide", "svg"), ("mazur", "html"), ("wide", "html"),
], unpack=True))
def test_no_label_is_crossed_or_covered_and_every_figure_is_legible(browser_page, figures, name, kind):
    page = browser_page.open(figures / f"{name}.{kind}")
    for width, scheme in SCREENS:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        check_seen(page.evaluate(MEASURE), width, f"{name}.{kind} at {width} px, {scheme}")
        if kind == "html" and width == 390:  # the figure scrolls sideways inside the screen, and says so
            box = page.evaluate("""() => { const f = document.querySelector('.columns > figure'); const r = f.getBoundingClientRect();
                return {left: r.left, right: r.right, scrolls: f.scrollWidth > f.clientWidth,
                        note: getComputedStyle(f, '::before').content}; }""")
            assert box["left"] >= 0 and box["right"] <= 390 and box["scrolls"] and "scrolls sideways" in box["note"], box
    if kind == "html":  # the labels keep room for every value the page will show
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("#last").click()
        check_seen(page.evaluate(MEASURE), 1280, f"{name}.html at its last epoch")
    assert browser_page.errors == []


def test_a_label_without_room_is_listed_and_every_parameter_is_written_once(figures):
    """The 5-16-1 network's 96 edges cannot all carry labels: those without room are listed."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring((figures / "wide.svg").read_text())
    model = json.loads((figures / "wide.json").read_text())
    ns = "{http://www.w3.org/2000/svg}"
    labelled = {g.get("data-param") for g in root.iter(ns + "g") if g.get("data-param") and g.get("class") != "listed"
                and g.find(ns + "text") is not None}
    listed = {g.get("data-param") for g in root.iter(ns + "g") if g.get("class") == "listed"}
    assert labelled | listed == set(model["weights"]) and not labelled & listed
    assert len(model["weights"]) == 5 * 16 + 16 + 16 + 1 and 16 <= len(labelled) < len(model["weights"])


def test_a_listed_label_says_which_edge_or_unit_it_belongs_to(figures):
    """Listed under the figure, "w37 = ..." alone cannot be found on it: each entry names its
    edge's ends, or its bias's unit. In the lecture's order w(5u + j + 1) joins x(j+1) to
    N(u+1), w(80 + u) joins N(u) to yhat, b(u) is N(u)'s bias and b17 yhat's."""
    import xml.etree.ElementTree as ET

    def where(name: str) -> str:
        number = int(name[1:])
        if name[0] == "b":
            return f"at N{number}" if number <= 16 else "at ŷ"
        if number <= 80:
            return f"x{(number - 1) % 5 + 1} → N{(number - 1) // 5 + 1}"
        return f"N{number - 80} → ŷ"

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring((figures / "wide.svg").read_text())
    listed = [g for g in root.iter(ns + "g") if g.get("class") == "listed"]
    assert listed
    for group in listed:
        text = "".join(group.find(ns + "text").itertext())
        name = group.get("data-param")
        assert text.endswith(f"({where(name)})") or (name[0] == "w" and int(name[1:]) <= 80 and
                                                      text.endswith(f"({where(name)}, not drawn)")), text


def test_a_wide_layer_draws_each_units_two_strongest_inputs_and_lists_the_rest(figures):
    """Of a 5-16-1 network's 80 edges from the inputs, each hidden unit N(u+1) draws the two of
    w(5u + 1) .. w(5u + 5) largest in size (show draws the model's own weights); the other 48 are
    listed, marked not drawn. Every edge into the output is drawn."""
    import xml.etree.ElementTree as ET

    weights = json.loads((figures / "wide.json").read_text())["weights"]
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring((figures / "wide.svg").read_text())
    drawn = {g.get("data-param") for g in root.iter(ns + "g") if g.get("data-param") and g.find(f".//{ns}line") is not None
             and g.get("class") != "listed"}
    for u in range(16):
        names = [f"w{5 * u + j + 1}" for j in range(5)]
        strongest = set(sorted(names, key=lambda name: -abs(weights[name]))[:2])
        assert drawn & set(names) == strongest, u
    assert {f"w{80 + u}" for u in range(1, 17)} <= drawn
    undrawn = [g for g in root.iter(ns + "g") if g.get("class") == "listed" and "not drawn" in "".join(g.itertext())]
    assert len(undrawn) == 80 - 32


def test_gradient_widths_are_on_one_scale_for_the_whole_run(browser_page, figures):
    """At the last epoch of the sample run, where every gradient is tiny, each dashed line is
    thinner than at epoch 1 by log10 of the ratio of the gradients, on the scale from the
    run's smallest |dL/dw| to its largest (read from the --history CSV), which the key states."""
    with open(figures / "sample-history.csv", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    header, rows = rows[0], [[float(v) for v in row] for row in rows[1:]]
    columns = {h[4:]: i for i, h in enumerate(header) if h.startswith("dL/dw")}
    sizes = np.abs([[row[i] for i in columns.values()] for row in rows])
    low, high = math.log10(sizes[sizes > 0].min()), math.log10(sizes.max())
    assert high - low < 16  # the scale's floor (16 decades under the steepest) is not reached here
    page = browser_page.open(figures / "sample.html")

    def widths() -> dict[str, float]:
        return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('svg.network g.edge'))
            .map((g) => [g.dataset.param, parseFloat(g.querySelector('.gradient').getAttribute('stroke-width'))]))""")

    first = widths()
    page.locator("#last").click()
    last = widths()
    per_decade = 3 / (high - low)  # 1 px at the smallest gradient to 4 px at the largest
    for name, i in columns.items():
        g_first, g_last = abs(rows[0][i]), abs(rows[-1][i])
        assert g_last < g_first / 1e6, "the sample run's last gradients are tiny"
        assert first[name] - last[name] == pytest.approx(per_decade * math.log10(g_first / g_last), abs=0.011), name
        assert last[name] >= 1, f"{name}'s gradient line is thin but drawn"
    key = page.locator("svg.network .gradient-key").text_content()
    assert f"|dL/dw| = {number(10**low)}" in key and f"{number(10**high)}, on one log scale for the whole run (no line where dL/dw = 0)" in key
    assert browser_page.errors == []


def test_a_tapped_edge_shows_its_chain_rule_on_the_screen_at_390_px(browser_page, figures):
    page = browser_page.open(figures / "sample.html")
    page.set_viewport_size({"width": 390, "height": 800})
    page.locator('svg.network [data-param="w2"] text.label').click()
    panel = page.evaluate("""() => { const r = document.getElementById('detail').getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, height: innerHeight, text: document.getElementById('detail').textContent}; }""")
    assert panel["text"].startswith("w2 at epoch 1 (pinned)")
    assert 0 <= panel["top"] and panel["bottom"] <= panel["height"] + 0.5, panel
    assert browser_page.errors == []


SHAPES = [  # inputs, hidden units, outputs, activation, output activation, biases
    (1, 1, 1, "identity", "identity", True), (2, 1, 1, "tanh", "identity", True), (4, 4, 1, "relu", "identity", True),
    (3, 4, 2, "sigmoid", "sigmoid", True), (6, 3, 1, "identity", "identity", True), (3, 3, 3, "identity", "identity", False),
    (2, 8, 3, "tanh", "sigmoid", True), (12, 6, 1, "tanh", "identity", True),
]


def test_networks_of_every_shape_keep_their_labels_clear(browser_page):
    """Other shapes than the three above, with long column names and a frozen weight: the same
    geometry holds, and every parameter is labelled on the figure or listed under it once."""
    from fwdback.network import init_parameters
    from fwdback.render.svg import network_svg

    page = browser_page.page
    page.set_viewport_size({"width": 1280, "height": 900})
    for k, h, m, activation, output_activation, bias in SHAPES:
        params = init_parameters(np.random.default_rng(100 * k + 10 * h + m), k, h, activation, n_outputs=m,
                                 output_activation=output_activation, bias=bias)
        features = [f"a_long_column_name_{j}" if j % 2 else f"x{j + 1}" for j in range(k)]
        svg = network_svg(params, features, "price" if m == 1 else [f"target{j}" for j in range(m)], frozen=("w1",))
        page.set_content(svg)
        check_seen(page.evaluate(MEASURE), 1280, f"the {k}-{h}-{m} network")
        written = page.evaluate("""() => Array.from(document.querySelectorAll('[data-param]'))
            .filter((g) => g.querySelector('text')).map((g) => g.getAttribute('data-param'))""")
        assert sorted(written) == sorted(params.names), f"the {k}-{h}-{m} network: each parameter written once"
    assert browser_page.errors == []
