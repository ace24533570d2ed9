"""The run's page as a person sees it, measured in Chromium: at a phone's width (390 px) and a
desktop's (1280 px), in the light and the dark scheme, from the colours and boxes Chromium
computes and the pixels it draws. And the page with hostile names in every field a name reaches.

Expected values come from elsewhere than the page: least squares by numpy.linalg.lstsq on the
CSV, the final loss from `train --format json`, contrast by WCAG 2.1's formula.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import BrowserPage
from test_html import png_pixels
from cases import slow_after

SAMPLE = Path(__file__).parent.parent / "sample_data" / "linear.csv"
WIDTHS = [390, 1280]
SCHEMES = ["light", "dark"]
# WCAG 2.1: 4.5:1 for text (1.4.3), 3:1 for the graphics one needs to read the figure (1.4.11).
TEXT_CONTRAST, GRAPHICS_CONTRAST = 4.5, 3.0


def fwdback(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fwdback", *map(str, args)], cwd=cwd, capture_output=True, check=True)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    """The page of the README's sample run (sample_data/linear.csv, the defaults), and the run's
    `--format json` document; its loss figure (--plot) is loss.svg beside the page."""
    directory = tmp_path_factory.mktemp("sample")
    result = fwdback("train", SAMPLE, "--report", "run.html", "--plot", "loss.svg", "--format", "json", "--no-save", cwd=directory)
    return directory / "run.html", json.loads(result.stdout)


def open_page(chromium, path: Path, width: int, scheme: str, touch: bool = False) -> tuple[BrowserPage, object]:
    context = chromium.new_context(viewport={"width": width, "height": 844}, color_scheme=scheme, has_touch=touch,
                                   service_workers="block")
    context.set_default_timeout(15_000)
    recorder = BrowserPage.in_context(context)
    return recorder, recorder.open(path)


# The colours Chromium computes, composited as it draws them: an element's colour (its `fill`
# in SVG) times the opacity of it and its ancestors, over the background of the nearest
# ancestors that paint one. Contrast by WCAG 2.1's relative luminance.
CONTRASTS = """([all, selectors]) => {
  const rgba = text => {
    const found = /rgba?\\(([^)]*)\\)/.exec(text);
    if (!found) { return null; }
    const p = found[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = element => {
    const plot = element.closest("svg.loss-plot");  /* the figure paints its own background */
    if (plot) { return rgba(getComputedStyle(plot.querySelector(".back")).fill); }
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour && colour[3] > 0) { layers.push(colour); if (colour[3] >= 1) { break; } }
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const opacity = element => {
    let product = 1;
    for (let e = element; e; e = e.parentElement) { product *= Number(getComputedStyle(e).opacity); }
    return product;
  };
  const luminance = c => {
    const l = c.slice(0, 3).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const drawn = e => {
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    return box.width + box.height > 0 && style.visibility === "visible" && !e.closest("title, script, style");
  };
  const name = e => e.tagName.toLowerCase() + (e.getAttribute("class") ? "." + e.getAttribute("class").replace(/ /g, ".") : "") +
    " " + JSON.stringify((e.textContent || "").trim().slice(0, 40));
  const measured = [];
  const measure = (e, property, below, kind) => {
    const colour = rgba(getComputedStyle(e)[property]);
    if (!colour || colour[3] === 0) { return; }
    const back = background(below);
    const seen = over([colour[0], colour[1], colour[2], colour[3] * opacity(e)], back);
    measured.push({ kind: kind, what: name(e), ratio: ratio(seen, back) });
  };
  for (const e of document.querySelectorAll(all)) {
    const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && drawn(e)) { measure(e, e instanceof SVGElement ? "fill" : "color", e, "text"); }
  }
  for (const [selector, property] of selectors) {
    for (const e of document.querySelectorAll(selector)) {
      if (drawn(e)) { measure(e, property, e.parentElement, "graphic"); }
    }
  }
  return measured;
}"""
# The graphics of the page and the loss figure (the network's edges are measured with the
# network figure) and the property that colours each.
GRAPHICS = [
    ["svg.loss-plot polyline.curve", "stroke"], ["svg.loss-plot line.best", "stroke"],
    ["svg.loss-plot circle.final", "fill"], ["svg.loss-plot .axis > line:not(.grid)", "stroke"],
    ["svg.loss-plot .axis .final line", "stroke"], ["svg.loss-plot .keys line", "stroke"],
    ["#loss-marker", "fill"], [".legend .swatch", "backgroundColor"], [".trajectory polyline", "stroke"],
]


@pytest.mark.parametrize("scheme", slow_after(1, SCHEMES))
@pytest.mark.parametrize("width", slow_after(1, WIDTHS))
def test_text_and_the_loss_figure_have_wcag_contrast_as_drawn(chromium, sample, width, scheme):
    recorder, page = open_page(chromium, sample[0], width, scheme)
    page.locator("details > summary").click()  # everything about the run, shown
    page.hover('svg.network [data-param="w7"] .hit')  # the chain rule's panel, with its trajectory
    measured = page.evaluate(CONTRASTS, ["body *", GRAPHICS])
    kinds = Counter(m["kind"] for m in measured)
    assert kinds["text"] > 100 and kinds["graphic"] >= 10, kinds
    drawn = {m["what"].split(" ")[0] for m in measured if m["kind"] == "graphic"}
    assert {"polyline.curve.loss", "line.best", "circle.final", "span.swatch", "circle"} <= drawn, drawn
    low = [f"{m['what']}: {m['ratio']:.2f}" for m in measured
           if m["ratio"] < (TEXT_CONTRAST if m["kind"] == "text" else GRAPHICS_CONTRAST)]
    assert low == [], f"below WCAG's contrast at {width} px, {scheme}"
    assert recorder.errors == []


@pytest.mark.parametrize("scheme", slow_after(1, SCHEMES))
def test_the_loss_figure_by_itself_has_wcag_contrast(chromium, sample, scheme):
    """--plot's SVG opened alone (a slide, a browser tab): it paints its own background."""
    recorder, page = open_page(chromium, sample[0].parent / "loss.svg", 640, scheme)
    measured = page.evaluate(CONTRASTS, ["svg *", GRAPHICS])
    assert Counter(m["kind"] for m in measured)["text"] >= 10
    assert {m["what"].split(" ")[0] for m in measured if m["kind"] == "graphic"} >= {"polyline.curve.loss", "line.best"}
    low = [f"{m['what']}: {m['ratio']:.2f}" for m in measured
           if m["ratio"] < (TEXT_CONTRAST if m["kind"] == "text" else GRAPHICS_CONTRAST)]
    assert low == [] and recorder.errors == []


# Every element's box, and where one passes the window's edge, the scroll container that holds
# it: it must show that it scrolls (a shadow painted by background gradients) and lie inside the window.
OVERFLOWS = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = e => ["auto", "scroll"].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth;
  const containers = [], loose = [];
  for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || (box.left >= -0.5 && box.right <= width + 0.5)) { continue; }
    let holder = e.parentElement;
    while (holder && !scrolls(holder)) { holder = holder.parentElement; }
    if (!holder) { loose.push(e.tagName + " " + Math.round(box.left) + ".." + Math.round(box.right)); continue; }
    if (!containers.includes(holder)) { containers.push(holder); }
  }
  return {
    width: width, scrollWidth: document.documentElement.scrollWidth, loose: loose,
    containers: containers.map((c, index) => {
      c.setAttribute("data-overflow", String(index));
      const box = c.getBoundingClientRect();
      return { tag: c.tagName.toLowerCase(), left: box.left, right: box.right,
               shadow: (getComputedStyle(c).backgroundImage.match(/gradient/g) || []).length };
    }),
  };
}"""


def edge_strip(page, selector: str) -> list[tuple[int, int, int]]:
    """The pixels of the 3 px column at the right edge of the element's box (in the window)."""
    box = page.locator(selector).bounding_box()
    pixels = png_pixels(page.screenshot(clip={"x": box["x"] + box["width"] - 4, "y": box["y"], "width": 3,
                                              "height": min(box["height"], 300)}))
    size = 3 if len(pixels) % 3 == 0 and len(pixels) // 3 == 3 * int(min(box["height"], 300)) else 4
    return [tuple(pixels[i : i + 3]) for i in range(0, len(pixels), size)]


def share_unlike(pixels, colour) -> float:
    """The share of the pixels that differ from `colour` by more than 8 in some channel."""
    return sum(any(abs(a - b) > 8 for a, b in zip(p, colour)) for p in pixels) / len(pixels)


@pytest.mark.parametrize("scheme", slow_after(1, SCHEMES))
@pytest.mark.parametrize("width", slow_after(1, WIDTHS))
def test_nothing_is_wider_than_the_window_but_what_visibly_scrolls(chromium, sample, width, scheme):
    recorder, page = open_page(chromium, sample[0], width, scheme)
    found = page.evaluate(OVERFLOWS)
    assert found["scrollWidth"] <= width and found["loose"] == [], found["loose"][:10]
    for container in found["containers"]:
        assert -0.5 <= container["left"] and container["right"] <= width + 0.5, container
        assert container["shadow"] == 4, f"{container['tag']}: two shadows and the two covers that hide them at the ends"
    if width == 1280:
        return
    kinds = {container["tag"] for container in found["containers"]}
    assert {"div", "math"} <= kinds, "at 390 px the rows table and the long equations scroll"
    back = tuple(int(v) for v in re.findall(r"\d+", page.evaluate("getComputedStyle(document.body).backgroundColor"))[:3])
    for tag in kinds:  # the first of each kind that scrolls (a table, an equation, a figure), as a person sees it
        index = next(i for i, c in enumerate(found["containers"]) if c["tag"] == tag)
        selector = f'[data-overflow="{index}"]'
        page.locator(selector).scroll_into_view_if_needed()
        shaded = share_unlike(edge_strip(page, selector), back)
        page.locator(selector).evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        at_end = share_unlike(edge_strip(page, selector), back)
        assert shaded > 0.9, f"{tag}: a shadow at the right edge while more lies beyond it ({shaded:.0%})"
        assert at_end < shaded - 0.4, f"{tag}: no shadow once scrolled to the end ({at_end:.0%})"
    assert recorder.errors == []


# Where a finger would tap an edge: the first point along its line, from a fifth of the way on,
# where the edge is on top (edges cross), in the window's coordinates.
TAP_POINT = """name => {
  const line = document.querySelector(`svg.network [data-param="${name}"] .hit`);
  line.scrollIntoView({ block: "nearest" });
  const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map(a => Number(line.getAttribute(a)));
  const matrix = line.getScreenCTM();
  for (const t of [0.2, 0.25, 0.3, 0.15, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8]) {
    const point = new DOMPoint(x1 + t * (x2 - x1), y1 + t * (y2 - y1)).matrixTransform(matrix);
    const found = document.elementFromPoint(point.x, point.y);
    if (found && found.closest("[data-param]") && found.closest("[data-param]").dataset.param === name) { return [point.x, point.y]; }
  }
  return null;
}"""


@pytest.mark.parametrize("scheme", slow_after(1, SCHEMES))
def test_a_tapped_edges_panel_opens_on_screen_at_390_px(chromium, sample, scheme):
    recorder, page = open_page(chromium, sample[0], 390, scheme, touch=True)
    for name in ("w1", "w5", "w8", "w3"):
        page.evaluate("window.scrollTo(0, 0)")  # as the page opens: the figure low in the window
        x, y = page.evaluate(TAP_POINT, name)
        page.touchscreen.tap(x, y)
        heading = page.locator("#detail h3").inner_text()
        assert heading.startswith(name.replace(name[1:], "")) and "(pinned)" in heading, heading
        box = page.locator("#detail").bounding_box()
        height = page.evaluate("window.innerHeight")
        # boxes are laid out in fractions of a pixel, the window scrolls by whole ones
        assert box["y"] >= -1 and box["y"] + box["height"] <= height + 1, (name, box, height)
        x, y = page.evaluate(TAP_POINT, name)
        page.touchscreen.tap(x, y)  # unpinned again
        assert "(pinned)" not in page.locator("#detail h3").inner_text()
    assert recorder.errors == []


def least_squares_loss(path: Path) -> float:
    """The mean squared residual of the best linear map, by numpy.linalg.lstsq on the CSV."""
    with open(path, encoding="utf-8") as stream:
        rows = np.array([[float(cell) for cell in row] for row in list(csv.reader(stream))[1:]])
    X, y = np.column_stack([rows[:, :-1], np.ones(len(rows))]), rows[:, -1]
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    return float(np.mean((y - X @ coef) ** 2))


def test_the_loss_figure_on_the_page_shows_least_squares_and_ticks_the_final_loss(chromium, sample):
    path, document = sample
    recorder, page = open_page(chromium, path, 1280, "light")
    plot = page.locator("svg.loss-plot")
    attribute = lambda name: float(plot.get_attribute(f"data-{name}"))  # noqa: E731
    best = least_squares_loss(SAMPLE)
    losses = [entry["loss"] for entry in document["history"]] + [document["final_loss"], best]
    log = max(losses) / min(losses) > 10  # the rule: a log axis beyond one decade
    assert attribute("y-log") == log
    values = np.log10(losses) if log else np.array(losses)
    where = values[-1]
    low, high = attribute("y-low"), attribute("y-high")
    span = values.max() - values.min()
    # the axis: 6% of the span beyond the lowest and the highest value; least squares (the
    # lowest but for rounding, here) at least that far inside it
    assert low == pytest.approx(values.min() - 0.06 * span, abs=1e-12 * span)
    assert high == pytest.approx(values.max() + 0.06 * span, abs=1e-12 * span)
    assert where - low >= 0.06 * span * (1 - 1e-9)
    # ... and drawn there, clear of the x axis: the line's box against the axis' box, in pixels
    line = page.locator("svg.loss-plot > line.best").bounding_box()
    axis = page.locator("svg.loss-plot .axis > line").first.bounding_box()
    scale = plot.bounding_box()["height"] / float(plot.get_attribute("height"))
    plot_height = (attribute("bottom") - attribute("top")) * scale
    assert axis["y"] - line["y"] >= 0.06 / 1.12 * plot_height - 1.5 * scale
    # the final loss ticked as the page's first line prints it
    essentials = page.locator(".essentials").inner_text()
    printed = essentials.split("final loss ")[1].split(",")[0]
    assert float(printed) == pytest.approx(document["final_loss"], rel=5e-6)  # 6 significant digits
    ticks = page.locator("svg.loss-plot .axis text").all_text_contents()
    assert printed in ticks
    assert page.locator("svg.loss-plot .keys text").all_text_contents().count(f"least squares {printed}") <= 1
    assert recorder.errors == []


# Names that would break a page that took them as markup: a comment opener that makes the HTML
# parser swallow the next script, a script's end, an element with a handler, a CDATA end,
# quotes, a bidi override, a line separator (which ends a line in old JavaScript).
HOSTILE_FEATURES = ["<!--<script>", "</script><img src=x onerror=window.hit=1>", "\"q'uote]]>&amp;"]
HOSTILE_TARGET = "<!--<script>\u202eevil\u2028end"


def hostile_files(run, directory: str, features, target, file_name: str) -> tuple[Path, Path]:
    """train --report and explain --format html of the first 20 sample rows under the given column names,
    from a file of the given name in `directory`: the two pages."""
    with open(SAMPLE, encoding="utf-8") as stream:
        rows = list(csv.reader(stream))[1:21]
    Path(directory).mkdir()
    data = os.path.join(directory, file_name)
    with open(data, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([[*features, target], *rows])
    names = ["--features", ",".join(features), "--target", target]
    trained = run(["train", data, *names, "--epochs", "30", "--report", f"{directory}/run.html", "--no-save", "-q"])
    assert trained.exit_code == 0, trained.stderr
    explained = run(["explain", data, *names, "--format", "html"])
    assert explained.exit_code == 0, explained.stderr
    Path(directory, "epoch.html").write_text(explained.stdout, encoding="utf-8")
    return Path(directory, "run.html").resolve(), Path(directory, "epoch.html").resolve()


@pytest.mark.slow
def test_hostile_names_in_every_field_leave_the_page_whole(chromium, run):
    """The same run under plain names and under hostile ones (feature, target and file names; the
    title is the file's name): the page's script runs, nothing is raised, the page holds the
    same elements, and the names arrive whole. Explain's page alike."""
    plain = hostile_files(run, "plain", ["a", "b", "c"], "t", "plain.csv")
    # an undecodable byte (a lone surrogate in Python's view of the name) and markup in the file's name
    hostile = hostile_files(run, "hostile", HOSTILE_FEATURES, HOSTILE_TARGET, os.fsdecode(b"b\xff<!--<script>.csv"))
    tags = "() => Array.from(document.querySelectorAll('*')).map(e => e.tagName)"
    expected = []
    for path in plain:
        recorder, page = open_page(chromium, path, 1280, "light")
        expected.append(Counter(page.evaluate(tags)))
    recorder, page = open_page(chromium, hostile[1], 1280, "light")
    assert Counter(page.evaluate(tags)) == expected[1] and expected[1]["SCRIPT"] == 0 and recorder.errors == []
    recorder, page = open_page(chromium, hostile[0], 1280, "light")
    assert page.locator("#epoch-label").inner_text().startswith("epoch 1 of 30"), "the page's script ran"
    page.locator("#last").click()
    assert page.locator("#epoch-label").inner_text().startswith("epoch 30 of 30")
    assert recorder.errors == [] and recorder.requests == []
    assert Counter(page.evaluate(tags)) == expected[0], "no element more, none less"
    assert page.evaluate("window.hit") is None
    data = json.loads(page.evaluate("document.getElementById('fwdback-data').textContent"))
    assert data["network"]["features"] == HOSTILE_FEATURES and data["network"]["targets"] == [HOSTILE_TARGET]
    # the file's name as text, its undecodable byte as its escape (as a terminal shows it)
    assert page.locator("h1").inner_text().endswith("hostile/b\\udcff<!--<script>.csv")
    assert page.title().endswith("hostile/b\\udcff<!--<script>.csv")
    figure = page.locator("svg.network").text_content()
    assert all(name in figure for name in HOSTILE_FEATURES)


def test_the_page_shows_commands_as_code_not_as_markdown(chromium, run, small_csv):
    """A run of more epochs than the page keeps says which command has them all: set as code,
    with no Markdown backtick left in anything the page shows."""
    result = run(["train", small_csv, "--epochs", "2500", "--tol", "0", "--lr", "0.05", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    recorder, page = open_page(chromium, Path("run.html").resolve(), 1280, "light")
    page.locator("details > summary").click()
    assert "`" not in page.evaluate("document.body.innerText")
    assert "train --history FILE" in page.locator("#run .legend code").all_text_contents()
    assert recorder.errors == []


# Where the figure and the panel are drawn: the figure's box and how much of it scrolls out of sight.
LAYOUT = """() => {
  const figure = document.querySelector(".columns > figure"), panel = document.getElementById("detail");
  const [f, p] = [figure.getBoundingClientRect(), panel.getBoundingClientRect()];
  return { hidden: figure.scrollWidth - figure.clientWidth, figureRight: f.right, figureBottom: f.bottom,
           panelLeft: p.left, panelTop: p.top, panelRight: p.right };
}"""


def test_at_1280_px_the_network_is_whole_and_the_panel_beside_it_or_under_it(chromium, sample, run):
    """The lecture's figure fits beside the panel; one widened by long column names does not, and
    the panel goes under it rather than hiding the figure's right side behind a scroll."""
    recorder, page = open_page(chromium, sample[0], 1280, "light")
    beside = page.evaluate(LAYOUT)
    assert beside["hidden"] <= 0 and beside["panelLeft"] >= beside["figureRight"], beside
    long_names = ["number of rooms in the house", "floor area in square feet", "year"]
    wide = hostile_files(run, "wide", long_names, "sale price in dollars", "wide.csv")[0]
    recorder, page = open_page(chromium, wide, 1280, "light")
    under = page.evaluate(LAYOUT)
    assert under["hidden"] <= 0, f"{under['hidden']} px of the figure scroll out of sight"
    assert under["panelTop"] >= under["figureBottom"] and under["panelRight"] <= 1280, under
    assert recorder.errors == []


# Every text of the loss figure: its font size as drawn, the figure's scale applied.
LOSS_TEXT_SIZES = """() => {
  const svg = document.querySelector("svg.loss-plot");
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Array.from(svg.querySelectorAll("text"), t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
}"""


@pytest.mark.parametrize("width", slow_after(1, WIDTHS))
def test_the_loss_figures_text_is_11_px_or_more_as_drawn(chromium, sample, width):
    recorder, page = open_page(chromium, sample[0], width, "dark")
    sizes = page.evaluate(LOSS_TEXT_SIZES)
    assert sizes and min(size for _, size in sizes) >= 11 - 0.05, sorted(sizes, key=lambda pair: pair[1])[:3]
    assert recorder.errors == []


# Each colour swatch of the legend and what stands beside it: the bracket before the first, the
# word after each, as the lines' tops Chromium draws them at.
SWATCH_LINES = """() => Array.from(document.querySelectorAll(".legend .swatch"), swatch => {
  const top = node => { const range = document.createRange(); range.selectNodeContents(node); return range.getClientRects()[0].top; };
  const before = swatch.previousSibling, after = swatch.nextSibling;
  const bracket = before && before.nodeType === 3 && before.textContent.endsWith("(")
    ? (() => { const r = document.createRange(); r.setStart(before, before.length - 1); r.setEnd(before, before.length);
               return r.getClientRects()[0].top; })() : null;
  return { swatch: swatch.getBoundingClientRect().top, bracket: bracket, word: top(after) };
})"""


def test_a_legend_swatch_is_never_alone_at_a_line_end(chromium, sample):
    recorder, page = open_page(chromium, sample[0], 390, "light")
    for width in range(330, 480, 3):  # the legend's line breaks fall everywhere in between
        page.set_viewport_size({"width": width, "height": 844})
        for seen in page.evaluate(SWATCH_LINES):
            tops = [seen["word"]] + ([] if seen["bracket"] is None else [seen["bracket"]])
            assert all(abs(top - seen["swatch"]) < 12 for top in tops), (width, seen)


@pytest.mark.parametrize("touch", slow_after(1, [True, False]))
def test_the_chain_rule_panel_asks_a_touch_screen_to_tap_and_a_mouse_to_hover(chromium, sample, touch):
    """A phone (390 px, touch, mobile: no hover) is told to tap; a desktop with a mouse to hover or focus."""
    context = chromium.new_context(viewport={"width": 390 if touch else 1280, "height": 844}, has_touch=touch,
                                   is_mobile=touch, service_workers="block")
    context.set_default_timeout(15_000)
    recorder = BrowserPage.in_context(context)
    page = recorder.open(sample[0])
    assert page.evaluate("matchMedia('(hover: none)').matches") is touch
    hint = page.locator("#detail .hint").inner_text()
    if touch:
        assert hint.startswith("Tap an edge or a bias") and "hover" not in hint.lower() and "click" not in hint
    else:
        assert hint.startswith("Hover over or focus an edge or a bias") and "click to pin it" in hint
    assert recorder.errors == []
    context.close()
