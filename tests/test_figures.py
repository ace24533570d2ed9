"""The figures (render/svg.py) and pages (render/html.py): what they draw, checked against the
model file, the --history file and explain's JSON, parsed as XML; the page's behaviour in a
browser is tests/test_page.py's."""

from __future__ import annotations

import csv
import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from fwdback.network import Parameters, init_parameters
from fwdback.notation import number
from fwdback.render.svg import ARROW_LENGTH, NEGATIVE, POSITIVE, loss_svg, network_svg
from fwdback.reports.train import loss_scale

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def edges(root: ET.Element) -> dict[str, ET.Element]:
    """Each parameter's group on the figure (not its entry in the list of those without room)."""
    return {group.get("data-param"): group for group in root.iter(SVG + "g")
            if group.get("data-param") and group.get("class") != "listed"}


def lines(group: ET.Element, kind: str) -> list[ET.Element]:
    """The group's lines of a kind ("weight", "gradient"), in drawing order."""
    return [line for line in group.iter(SVG + "line") if kind in line.get("class", "").split()]


def test_every_parameter_is_drawn_with_its_name_value_sign_and_size():
    params = init_parameters(np.random.default_rng(4), 3, 2)
    root = parse(network_svg(params, ("x1", "x2", "x3")))
    groups = edges(root)
    assert sorted(groups) == sorted(params.names)
    weights = params.as_dict()
    widths = {}
    for name, group in groups.items():
        text = "".join(group.find(SVG + "title").itertext())
        assert text == f"{name} = {number(weights[name])}"
        line = group.find(SVG + "line")
        if name.startswith("w"):
            assert ("positive" if weights[name] >= 0 else "negative") in line.get("class").split()
            assert line.get("stroke") == (POSITIVE if weights[name] >= 0 else NEGATIVE), name
            widths[name] = float(line.get("stroke-width"))
        else:
            assert line is None  # a bias is written under its unit
    # The width grows with the magnitude: order the weights by |w| and the widths follow.
    by_size = sorted(widths, key=lambda name: abs(weights[name]))
    assert [widths[name] for name in by_size] == sorted(widths.values())
    assert widths[by_size[-1]] == pytest.approx(7.0)


def test_gradients_are_a_second_channel_coloured_by_the_update():
    params = Parameters(np.arange(1.0, 12.0) * np.array([1, -1] * 5 + [1]))
    gradients = params.like(-params.vector)  # every update moves the weight away from zero
    root = parse(network_svg(params, ("a", "b", "c"), gradients=gradients))
    for name, group in edges(root).items():
        if name.startswith("w"):
            dashed = lines(group, "gradient")[0]
            assert dashed.get("stroke") == (POSITIVE if params.as_dict()[name] > 0 else NEGATIVE), name


def test_column_names_are_escaped_and_shown_beside_the_lecture_names():
    params = init_parameters(np.random.default_rng(0), 2, 2)
    svg = network_svg(params, ('a<b & "c"', "x2"), target="price & <cost>")
    root = parse(svg)  # well-formed despite the names
    texts = ["".join(element.itertext()) for element in root.iter(SVG + "text")]
    assert 'a<b & "c"' in texts and "price & <cost>" in texts and "x1" in texts
    assert "x2" in texts and texts.count("x2") == 1  # a column named as its lecture name is written once


def test_a_figure_is_self_contained():
    params = init_parameters(np.random.default_rng(0), 9, 7, "tanh")
    svg = network_svg(params, tuple(f"c{j}" for j in range(9)))
    assert not re.search(r"href|https?:|url\((?!#arrow-)|@import|<script", svg.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    root = parse(svg)
    # Labels that find no room on the figure are listed under it: every parameter is written once.
    labelled = {group.get("data-param") for group in edges(root).values() if group.find(f"{SVG}text") is not None}
    listed = {group.get("data-param") for group in root.iter(SVG + "g") if group.get("class") == "listed"}
    assert labelled | listed == set(params.names) and not labelled & listed


def test_the_loss_curve_has_axes_a_log_scale_and_every_curve():
    epochs = np.arange(1, 5001)
    losses = 10.0 * np.exp(-epochs / 300) + 1e-3
    root = parse(loss_svg(epochs, losses, losses * 1.1, best=1e-3, final=float(losses[-1])))
    assert root.get("data-y-log") == "1", "the loss spans four decades"
    lines = {element.get("class"): element for element in root.iter(SVG + "polyline")}
    assert set(lines) == {"curve loss", "curve validation"}
    points = lines["curve loss"].get("points").split()
    assert 100 < len(points) <= 1200
    labels = ["".join(element.itertext()) for element in root.iter(SVG + "text")]
    assert "loss (log scale)" in labels and "epoch" in labels and "least squares 0.001" in labels
    assert {"0.01", "0.1", "1"} <= set(labels)
    assert f"{1.1 * (10.0 * math.exp(-1 / 300) + 1e-3):.6g}" in labels, "the highest loss, the validation's first, ticked in place of 10"
    flat = parse(loss_svg(epochs, 2.0 + 0 * losses, final=2.0))  # a constant loss still draws
    assert flat.get("data-y-log") == "0"


# loss_scale's rule, case by case: linear up to one decade, log beyond; a margin of 6% of the
# span (in decades on a log axis) beyond the lowest and the highest value.
@pytest.mark.parametrize(("shown", "low", "high", "log"), [
    (([1.0, 10.0],), 1.0 - 0.54, 10.0 + 0.54, False),  # one decade exactly: linear
    (([1.0, 10.000001],), 10.0 ** (-0.06 * math.log10(10.000001)), 10.000001 * 10.0 ** (0.06 * math.log10(10.000001)), True),
    (([1.0, 100.0],), 10.0**-0.12, 10.0**2.12, True),
    ((np.array([2e-3, 5.0]), 3.0, None, 1e-4), 1e-4 / 10.0 ** (0.06 * math.log10(5e4)), 5.0 * 10.0 ** (0.06 * math.log10(5e4)), True),
    (([0.0, 5.0],), -0.3, 5.3, False),  # a zero has no place on a log axis
    (([2.0, 2.0], 2.0), 1.0, 3.0, False),  # one value: half of it either side
    (([math.nan, math.inf, 1.0, 1000.0], None), 10.0**-0.18, 10.0**3.18, True),  # what is not finite is left out
    (([5e-324, 1.7e308],), 5e-324, np.finfo(np.float64).max, True),  # the margins stop at float64's ends
])
def test_the_loss_axis_is_logarithmic_beyond_a_decade_and_leaves_a_margin(shown, low, high, log):
    scale = loss_scale(*shown)
    assert scale.log is log
    assert scale.low == pytest.approx(low, rel=1e-12) and scale.high == pytest.approx(high, rel=1e-12)


@pytest.mark.parametrize("best", [0.0, 1e-2, 0.3])
def test_the_loss_figure_shows_least_squares_clear_of_the_axis_and_ticks_the_final_loss(best):
    """A run that ends at (or above) least squares' loss: the dotted line inside the plot, at
    least the margin above its bottom, and the final loss ticked as 6 digits write it. The loss
    falls from best + 6/e to best + 6/e^50 (about 1e-21 above best): a log axis where that
    spans more than a decade (best 0.01: 2.2 / 0.01), else a linear one (best 0.3: 2.5 / 0.3)."""
    epochs = np.arange(1, 51)
    losses = best + 6.0 * np.exp(-epochs.astype(float))
    final = best + 6.0 * math.exp(-51.0)
    root = parse(loss_svg(epochs, losses, best=best, final=final))
    top, bottom = float(root.get("data-top")), float(root.get("data-bottom"))
    texts = ["".join(element.itertext()) for element in root.iter(SVG + "text")]
    assert f"{final:.6g}" in texts, "the final loss as the summary writes it"
    if best == 0:
        assert root.find(f".//{SVG}line[@class='best']") is None
        assert "least squares 0, below the axis" in texts
        return
    assert root.get("data-y-log") == ("1" if (best + 6.0 / math.e) / best > 10 else "0")
    line = root.find(f".//{SVG}line[@class='best']")
    at = float(line.get("y1"))
    # The axis spans the values' span and 6% more at each end: the margin is 0.06 / 1.12 of the
    # plot's height, less the 0.05 px of writing coordinates to one decimal.
    assert bottom - at >= 0.06 / 1.12 * (bottom - top) - 0.05, "clear of the x axis"
    assert top < at, "inside the plot"
    assert f"least squares {best:.6g}" in texts


def test_show_draws_the_saved_model(run, small_csv):
    assert run(["train", small_csv, "--epochs", "40", "--lr", "0.05", "-q"]).exit_code == 0
    result = run(["show", "--format", "svg"])
    assert result.exit_code == 0, result.stderr
    weights = json.load(open("model.json", encoding="utf-8"))["weights"]
    for name, group in edges(parse(result.stdout)).items():
        assert "".join(group.find(SVG + "title").itertext()) == f"{name} = {number(weights[name])}"


def page_data(html: str) -> dict:
    match = re.search(r'<script id="fwdback-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_the_page_holds_every_epoch_of_the_history_exactly(run, small_csv):
    result = run(["train", small_csv, "--epochs", "300", "--tol", "0", "--lr", "0.05", "--val-split", "0.25",
                  "--report", "run.html", "--plot", "loss.svg", "--history", "h.csv", "-q"])
    assert result.exit_code == 0, result.stderr
    html = open("run.html", encoding="utf-8").read()
    data = page_data(html)
    with open("h.csv", encoding="utf-8") as stream:
        history = list(csv.reader(stream))
    names = history[0][2:13]
    assert data["network"]["names"] == names and data["epochs"]["epochs"] == list(range(1, 301))
    for k, row in enumerate(history[1:]):
        assert [float(v) for v in row[2:13]] == data["epochs"]["weights"][k]
        assert [float(v) for v in row[13:24]] == data["epochs"]["gradients"][k]
        assert float(row[1]) == data["epochs"]["losses"][k]
    assert data["epochs"]["val_losses"] is not None and data["full_batch"] and data["plan"]["lr"] == 0.05
    fetched = re.search(r'(src|href)="(?!#)|https?://|@import|url\((?!#arrow-)', html.replace("http://www.w3.org/2000/svg", ""))
    assert not fetched, "nothing fetched (the SVG namespace is a name, not an address)"
    assert "<math" in html and parse(open("loss.svg", encoding="utf-8").read()) is not None


def test_a_long_run_keeps_two_thousand_evenly_spaced_epochs(run, small_csv):
    result = run(["train", small_csv, "--epochs", "5000", "--tol", "0", "--lr", "0.01", "--report", "run.html", "-q"])
    assert result.exit_code == 0, result.stderr
    epochs = page_data(open("run.html", encoding="utf-8").read())["epochs"]["epochs"]
    assert epochs[0] == 1 and epochs[-1] == 5000 and len(epochs) <= 2000
    assert len(set(np.diff(epochs[:-1]).tolist())) == 1  # evenly spaced, the last appended


def test_a_failed_run_writes_no_page(run, small_csv, workdir):
    result = run(["train", small_csv, "--lr", "1000", "--report", "run.html", "--plot", "loss.svg"])
    assert result.exit_code == 3
    assert not (workdir / "run.html").exists() and not (workdir / "loss.svg").exists()


def test_explain_as_a_page_is_mathml_every_equation_well_formed(run, small_csv):
    result = run(["explain", small_csv, "--activation", "tanh", "--hidden", "4", "--format", "html"])
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    blocks = re.findall(r"<math[^>]*>.*?</math>", page, re.S)
    assert len(blocks) > 50
    for block in blocks:
        ET.fromstring(block.replace("&#x2061;", "").replace("&#x2062;", "").replace("&#xA0;", " "))
    assert page.count('<mtable class="aligned">') > 5, "the long equations are broken into rows"


def test_python_shows_the_network_the_fit_and_the_worked_epoch(small_xy):
    from fwdback import FwdbackRegressor, Network

    X, y = small_xy
    net = Network.random(seed=0)
    assert sorted(edges(parse(net._repr_svg_()))) == sorted(net.params.names)
    worked = net.explain(X, y, lr=0.05, rows=2)
    assert worked._repr_markdown_().startswith("# Epoch 1 of forward and backward propagation")
    assert "<math" in worked._repr_html_()
    assert worked.document()["gradients"] == net.backward(X, y).as_dict()
    fitted = FwdbackRegressor(epochs=50, lr=0.05).fit(X, y)
    html = fitted._repr_html_()
    assert "50 epochs" in html and html.count("<svg") == 2
    assert "not fitted" in FwdbackRegressor()._repr_html_()


# The generalised network: several outputs, no biases, an output activation, frozen parameters.
# The 2-2-2 network of the issue, edge by edge, in the documented order: which parameter joins
# which two nodes (w1, w2 feed N1; w3, w4 feed N2; w5, w6 the first output; w7, w8 the second).
EDGES_222 = {
    "w1": ("x1", "N1"), "w2": ("x2", "N1"), "w3": ("x1", "N2"), "w4": ("x2", "N2"),
    "w5": ("N1", "ŷ1"), "w6": ("N2", "ŷ1"), "w7": ("N1", "ŷ2"), "w8": ("N2", "ŷ2"),
}
BIASES_222 = {"b1": "N1", "b2": "N2", "b3": "ŷ1", "b4": "ŷ2"}


def network_222(bias: bool = True, output_activation: str = "identity") -> Parameters:
    """The 2-2-2 network whose parameter number i (1-based, in vector order) has the value
    (-1)^i * i / 10: every value tells which position it came from."""
    size = 12 if bias else 8
    values = np.array([(-1) ** i * i / 10 for i in range(1, size + 1)])
    return Parameters(values, 2, 2, n_outputs=2, output_activation=output_activation, bias=bias)


def nodes_by_centre(root: ET.Element) -> dict[tuple[float, float], str]:
    return {(float(g.find(SVG + "circle").get("cx")), float(g.find(SVG + "circle").get("cy"))): g.find(SVG + "text").text
            for g in root.iter(SVG + "g") if g.get("class") == "node"}


def nearest(nodes: dict, x: float, y: float) -> str:
    """The node whose circle's rim the point (x, y) lies on."""
    (centre, label), = [(c, label) for c, label in nodes.items() if abs(np.hypot(x - c[0], y - c[1]) - 22) < 0.5]
    return label


def test_a_2_2_2_network_has_every_edge_from_the_right_node_to_the_right_node():
    params = network_222(output_activation="sigmoid")
    root = parse(network_svg(params, ("a", "b"), ("first", "second")))
    nodes = nodes_by_centre(root)
    assert sorted(nodes.values()) == ["N1", "N2", "x1", "x2", "ŷ1", "ŷ2"]
    groups = edges(root)
    assert sorted(groups) == sorted([f"w{i}" for i in range(1, 9)] + ["b1", "b2", "b3", "b4"])
    for name, (tail, head) in EDGES_222.items():
        first, *_, line = lines(groups[name], "weight")
        start = nearest(nodes, float(first.get("x1")), float(first.get("y1")))
        x1, y1, x2, y2 = (float(line.get(a)) for a in ("x1", "y1", "x2", "y2"))
        ahead = ARROW_LENGTH / np.hypot(x2 - x1, y2 - y1)  # the arrowhead runs on from the line to the rim
        end = nearest(nodes, x2 + (x2 - x1) * ahead, y2 + (y2 - y1) * ahead)
        assert (start, end) == (tail, head), name
        value = (-1) ** int(name[1:]) * int(name[1:]) / 10
        assert "".join(groups[name].find(f"{SVG}text[@class='label']").itertext()) == f"{name} = {number(value)}"
        assert line.get("stroke") == (POSITIVE if value > 0 else NEGATIVE)
    for name, unit in BIASES_222.items():  # each output bias beside its output, nearer it than any other unit
        text = groups[name].find(SVG + "text")
        x, y = float(text.get("x")), float(text.get("y"))
        assert min(nodes, key=lambda c: np.hypot(x - c[0], y - c[1])) in [c for c, label in nodes.items() if label == unit], name
    texts = ["".join(element.itertext()) for element in root.iter(SVG + "text")]
    assert {"first", "second"} <= set(texts), "each output is labelled with its column"
    activations = [t for t in root.iter(SVG + "text") if t.get("class") == "activation"]
    assert [t.text for t in activations] == ["sigmoid", "sigmoid"], "the output activation, at each output"
    assert "2-2-2 network" in root.get("aria-label")


def test_without_biases_nothing_is_labelled_as_a_bias():
    params = network_222(bias=False)
    root = parse(network_svg(params, ("x1", "x2"), ("y1", "y2")))
    assert sorted(edges(root)) == [f"w{i}" for i in range(1, 9)]
    texts = "".join("".join(element.itertext()) for element in root.iter(SVG + "text"))
    assert not re.search(r"\bb\d", texts), "no b1, b2, ... anywhere"
    assert not [g for g in root.iter(SVG + "g") if g.get("class", "").startswith("bias")]


def test_frozen_parameters_are_dotted_marked_and_explained_by_a_legend():
    params = network_222()
    root = parse(network_svg(params, ("x1", "x2"), ("y1", "y2"), frozen=("w3", "b4")))
    groups = edges(root)
    for name, group in groups.items():
        frozen = name in ("w3", "b4")
        assert (group.get("data-frozen") == "true") == frozen, name
        assert ("(frozen)" in "".join(group.itertext())) == frozen, name
        for line in lines(group, "weight"):
            assert (line.get("stroke-dasharray") is not None) == frozen, name
    (legend,) = [g for g in root.iter(SVG + "g") if g.get("class") == "frozen-legend"]
    assert "".join(legend.itertext()) == "dotted and marked (frozen): the parameter keeps its value"
    assert not [g for g in parse(network_svg(params, ("x1", "x2"))).iter(SVG + "g") if g.get("class") == "frozen-legend"]


def read_dot_edges(source: str) -> tuple[dict, dict]:
    """(parameter name -> (tail, head, label, style), node id -> label) of DOT source, read by pydot."""
    import pydot

    (graph,) = pydot.graph_from_dot_data(source)
    graphs = [graph, *graph.get_subgraphs()]
    found = {}
    for edge in (e for g in graphs for e in g.get_edges() if e.get_style() != "invis"):
        label = edge.get_label().strip('"')
        found[label.split(" = ")[0]] = (edge.get_source(), edge.get_destination(), label, edge.get_style())
    nodes = {node.get_name(): node.get_label().strip('"') for g in graphs for node in g.get_nodes()
             if node.get_name() not in ("node", "edge", "graph")}
    return found, nodes


def test_the_dot_source_of_a_2_2_2_network_has_the_right_edges():
    from fwdback.render.dot import network_dot

    found, nodes = read_dot_edges(network_dot(network_222(output_activation="sigmoid"), ("a", "b"), ("y1", "y2"),
                                              frozen=("w7",)))
    ids = {"ŷ1": "yhat1", "ŷ2": "yhat2"}
    assert {name: (tail, head) for name, (tail, head, _, _) in found.items()} == {
        name: (ids.get(tail, tail), ids.get(head, head)) for name, (tail, head) in EDGES_222.items()}
    for name, (_, _, label, style) in found.items():
        value = (-1) ** int(name[1:]) * int(name[1:]) / 10
        assert label == f"{name} = {value:.6g}" + (" (frozen)" if name == "w7" else "")
        assert (style == "dashed") == (name == "w7")
    for name, unit in BIASES_222.items():
        position = 8 + int(name[1:])  # the biases follow the 8 weights
        value = (-1) ** position * position / 10
        assert nodes[ids.get(unit, unit)].endswith(f"\\n{name} = {value:.6g}")
    assert nodes["yhat2"].startswith("yhat2 = sigmoid(a2)\\n(y2)")
    found, nodes = read_dot_edges(network_dot(network_222(bias=False), ("a", "b"), ("y1", "y2")))
    assert sorted(found) == sorted(EDGES_222)
    assert not any(re.search(r"\bb\d", label) for label in nodes.values()), "no bias without biases"


def test_the_updates_a_page_keeps_are_bounded_first_and_last_always():
    from fwdback.playback import MOST_STEPS, StepSamples

    params = Parameters(np.zeros(11))
    samples = StepSamples(11)
    updates = [(epoch, step) for epoch in range(1, 1001) for step in range(1, 8)]  # 7,000 updates
    for epoch, step in updates:
        samples(epoch, step, params.like(np.full(11, float(epoch))), params.like(np.full(11, float(step))))
    document = samples.document()
    kept = list(zip(document["epochs"], document["steps"]))
    assert len(kept) <= MOST_STEPS and not document["every_step"] and document["per_epoch"] == 7
    assert kept[0] == (1, 1) and kept[-1] == (1000, 7)
    positions = [updates.index(update) for update in kept[:-1]]
    assert len(set(np.diff(positions).tolist())) == 1, "evenly spaced, the last appended"
    assert all(w == [float(e)] * 11 and g == [float(s)] * 11
               for (e, s), w, g in zip(kept, document["weights"], document["gradients"]))
    one = StepSamples(11)
    one(1, 1, params, params)
    assert one.document() is None, "one update an epoch: the epochs say it all"


def test_a_notebook_draws_a_network_with_several_outputs_and_no_biases():
    from fwdback import Network

    root = parse(Network(network_222())._repr_svg_())
    assert sorted(edges(root)) == sorted([*EDGES_222, "b1", "b2", "b3", "b4"])
    assert sorted(nodes_by_centre(root).values()) == ["N1", "N2", "x1", "x2", "ŷ1", "ŷ2"]
    assert sorted(edges(parse(Network(network_222(bias=False))._repr_svg_()))) == sorted(EDGES_222)


def test_units_whose_activation_is_listed_are_listed_as_runs():
    """Every hidden unit of a 5-16-1 tanh network says tanh, on the figure or in the list under
    it, once; units in a row share one entry ("N2 to N15: tanh"), not one line each."""
    params = init_parameters(np.random.default_rng(0), 5, 16, "tanh")
    texts = ["".join(t.itertext()) for t in ET.fromstring(network_svg(params, [f"x{j}" for j in range(1, 6)])).iter(SVG + "text")]
    runs = sorted((int(m[1]), int(m[2] or m[1])) for m in (re.fullmatch(r"N(\d+)(?: to N(\d+))?: tanh", t) for t in texts) if m)
    listed = [unit for first, last in runs for unit in range(first, last + 1)]
    drawn = sum(text == "tanh" for text in texts)
    assert listed and len(listed) == len(set(listed)) and len(listed) + drawn == 16, (runs, drawn)
    assert all(later[0] != earlier[1] + 1 for earlier, later in zip(runs, runs[1:])), runs


@pytest.mark.parametrize(("start", "end"), [(6.02, 0.0098), (350.0, 2.0), (0.57, 0.3), (2.5, 1.25)])
def test_the_loss_axis_labels_the_highest_loss_and_its_labels_do_not_overlap(start, end):
    """A descent from `start` to `end`: the sample run's (2.8 decades, the axis's top under 10),
    another log axis whose top is under the next power of ten, and two linear ones. The highest
    loss lies at or under a labelled tick, so the first loss can be read off the axis, and no two
    of the axis's labels (12 px text) come closer than 12 px."""
    epochs = np.arange(1, 101)
    losses = start * (end / start) ** ((epochs - 1) / 99.0)
    root = parse(loss_svg(epochs, losses, final=float(losses[-1])))
    left = float(root.get("data-left"))
    labels = [(float(text.get("y")), "".join(text.itertext())) for text in root.iter(SVG + "text")
              if text.get("text-anchor") == "end" and float(text.get("x")) < left]
    y_low, y_high, log = float(root.get("data-y-low")), float(root.get("data-y-high")), root.get("data-y-log") == "1"
    top, bottom = float(root.get("data-top")), float(root.get("data-bottom"))

    def pixel(value: float) -> float:
        at = math.log10(value) if log else value
        return bottom + (at - y_low) / (y_high - y_low) * (top - bottom)

    highest_label = min(y for y, _ in labels)  # the label nearest the top; its baseline is 4 px below its tick
    assert highest_label - 4 <= pixel(start) + 0.05, (labels, pixel(start))
    assert any(float(label) >= start for _, label in labels)
    baselines = sorted(y for y, _ in labels)
    assert all(b - a >= 12 for a, b in zip(baselines, baselines[1:])), labels
