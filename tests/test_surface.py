"""The decision surface (fwdback/surface.py, render/surface.py, render/surface.js, show --data).

Expected values come from the lecture's formulas written out with math.tanh and math.exp at
each point (`by_hand`), and from the figures read back: a cell's colour and opacity decoded
into a probability, a point's place into its row's inputs.

Tolerances: a probability by hand and by the network are each within a few float64 roundings
of the exact value, about 10 operations of relative error 2^-53 on numbers of size 1 or so:
HAND = 64 * eps is ample. A figure writes an opacity to 4 decimals, so that a probability read
back from it is within 0.5e-4 of the cell's (times 1 - 1/q <= 1); OPACITY = 0.5e-4 + HAND.
A point's place is written to 2 decimals of a pixel: read back, within 0.005 px, that is
0.005 / FIELD_SIZE of the plane's width.
"""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from fwdback.network import Parameters
from fwdback.scaling import Scaling
from fwdback.surface import Plane, field

EPS = np.finfo(float).eps
HAND = 64 * EPS
OPACITY = 0.5e-4 + HAND
SVG = "{http://www.w3.org/2000/svg}"

# A 2-3-1 tanh network with a sigmoid output and a 2-2-3 relu network with a softmax: w by unit.
BINARY = dict(W=[[1.5, -2.0], [0.7, 0.9], [-1.1, 0.4]], V=[[2.0, -1.5, 1.0]], b=[0.1, -0.2, 0.3], c=[-0.25],
              activation="tanh", output="sigmoid")
SOFTMAX = dict(W=[[1.0, -1.0], [0.5, 2.0]], V=[[1.0, -2.0], [-1.5, 0.5], [0.3, 1.2]], b=[0.2, -0.1], c=[0.1, 0.0, -0.2],
               activation="relu", output="softmax")


def params_of(net) -> Parameters:
    W, V = np.array(net["W"]), np.array(net["V"])
    vector = np.concatenate([W.ravel(), V.ravel(), net["b"], net["c"]])
    return Parameters(vector, 2, len(W), net["activation"], n_outputs=len(V), output_activation=net["output"])


def by_hand(net, x1: float, x2: float) -> tuple[list[float], list[float]]:
    """(each class's probability, each hidden unit's N) at (x1, x2), the lecture's formulas one by one."""
    act = {"tanh": math.tanh, "relu": lambda z: max(z, 0.0)}[net["activation"]]
    N = [act(w[0] * x1 + w[1] * x2 + b) for w, b in zip(net["W"], net["b"])]
    a = [sum(v_h * n_h for v_h, n_h in zip(v, N)) + c for v, c in zip(net["V"], net["c"])]
    if net["output"] == "sigmoid":
        p = 1 / (1 + math.exp(-a[0]))
        return [1 - p, p], N
    top = max(a)
    e = [math.exp(v - top) for v in a]
    return [v / sum(e) for v in e], N


def centre(low: float, high: float, i: int, cells: int) -> float:
    return low + (i + 0.5) / cells * (high - low)


@pytest.mark.parametrize("net", [BINARY, SOFTMAX], ids=["sigmoid", "softmax"])
def test_field_is_the_forward_pass_at_each_cells_centre(net):
    plane = Plane(np.array([-2.0, -1.0]), np.array([3.0, 1.5]))
    cells = 7
    computed = field(params_of(net), plane, cells)
    assert computed.probabilities.shape == (len(net["V"]) if len(net["V"]) > 1 else 2, cells, cells)
    for r, s in [(0, 0), (0, 6), (3, 2), (6, 6), (5, 1)]:
        x1, x2 = centre(-2.0, 3.0, s, cells), centre(-1.0, 1.5, r, cells)
        assert computed.x1[s] == pytest.approx(x1, abs=HAND) and computed.x2[r] == pytest.approx(x2, abs=HAND)
        probabilities, N = by_hand(net, x1, x2)
        np.testing.assert_allclose(computed.probabilities[:, r, s], probabilities, rtol=0, atol=HAND)
        np.testing.assert_allclose(computed.N[:, r, s], N, rtol=0, atol=HAND * 8)


def test_a_network_trained_on_z_scores_reads_the_plane_through_its_scaling():
    scaling = Scaling(np.array([10.0, -3.0]), np.array([4.0, 0.5]), 0.0, 1.0)
    plane = Plane.of_scaling(scaling)
    assert plane.low.tolist() == [10.0 - 12.0, -3.0 - 1.5] and plane.high.tolist() == [10.0 + 12.0, -3.0 + 1.5]
    computed = field(params_of(BINARY), plane, 5, scaling)
    x1, x2 = centre(-2.0, 22.0, 4, 5), centre(-4.5, -1.5, 1, 5)
    probabilities, _ = by_hand(BINARY, (x1 - 10.0) / 4.0, (x2 + 3.0) / 0.5)
    np.testing.assert_allclose(computed.probabilities[:, 1, 4], probabilities, rtol=0, atol=HAND * 16)


def test_the_plane_of_rows_reaches_a_twentieth_beyond_them():
    plane = Plane.of_rows(np.array([[0.0, 5.0], [10.0, 5.0], [4.0, 5.0]]))
    assert plane.low.tolist() == [-0.5, 4.0] and plane.high.tolist() == [10.5, 6.0]  # a constant column: 1 either side


def test_a_surface_needs_a_classifier_of_two_inputs():
    from fwdback.errors import NoSurface

    with pytest.raises(NoSurface, match="this network has 3"):
        field(Parameters(np.zeros(11), 3, 2), Plane(np.zeros(2), np.ones(2)))
    for params in (Parameters(np.zeros(9), 2, 2), Parameters(np.zeros(12), 2, 2, n_outputs=2, output_activation="sigmoid")):
        with pytest.raises(NoSurface, match="outputs are not"):
            field(params, Plane(np.zeros(2), np.ones(2)))


# --- the SVG ------------------------------------------------------------------------------


def class_colours_in(root) -> dict[str, str]:
    """Each class's colour (k0, k1, ...) as the figure's style gives it in the light scheme, by its palette role."""
    from fwdback.render.svg import PALETTE

    style = root.find(f"{SVG}style").text
    return {f"k{j}": PALETTE["light"][role] for j, role in re.findall(r"svg\.surface \.k(\d+) \{ fill: var\(--(\w+)\); \}", style)}


def decoded(rect, q: int) -> tuple[int, float]:
    """(the cell's class, that class's probability) read from its class and opacity."""
    strength = float(rect.get("fill-opacity"))
    return int(rect.get("class")[1:]), 1 / q + strength * (1 - 1 / q)


@pytest.mark.parametrize("net", [BINARY, SOFTMAX], ids=["sigmoid", "softmax"])
def test_the_figures_cells_read_back_as_the_probabilities_and_its_points_as_the_rows(net):
    from fwdback.render.surface import classifier_figures

    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(30, 2))
    q = max(2, len(net["V"]))
    classes = rng.integers(0, q, size=30)
    plane = Plane.of_rows(X)
    inside, figure = classifier_figures(params_of(net), ("height", "weight"), [f"c{j}" for j in range(q)], plane, X, classes)
    root = ET.fromstring(figure)
    colours = class_colours_in(root)
    assert len(colours) >= q
    rects = root.findall(f".//{SVG}g[@class='field']/{SVG}rect")
    cells = round(math.sqrt(len(rects)))
    assert cells * cells == len(rects)
    read, expected = [], []
    for rect in rects:
        r, s = map(int, rect.get("data-cell").split(","))
        kind, p = decoded(rect, q)
        assert rect.get("fill") == colours[f"k{kind}"]
        probabilities, _ = by_hand(net, centre(plane.low[0], plane.high[0], s, cells), centre(plane.low[1], plane.high[1], r, cells))
        assert p == pytest.approx(max(probabilities), abs=OPACITY)
        assert probabilities[kind] == pytest.approx(max(probabilities), abs=HAND)
        read.append(p), expected.append(max(probabilities))
    order = np.argsort(expected, kind="stable")
    assert np.all(np.diff(np.array(read)[order]) >= -2 * OPACITY)  # the opacity grows with the likeliest's probability
    # The cells of row r are drawn at the height of x2's r-th centre, from the bottom up.
    frame = root.find(f".//{SVG}rect[@class='frame']")
    left, top, size = (float(frame.get(name)) for name in ("x", "y", "width"))
    points = root.findall(f".//{SVG}circle")
    assert len(points) == len(X)
    for point, x, j in zip(points, X, classes):
        x1 = plane.low[0] + (float(point.get("cx")) - left) / size * (plane.high[0] - plane.low[0])
        x2 = plane.high[1] - (float(point.get("cy")) - top) / size * (plane.high[1] - plane.low[1])
        assert x1 == pytest.approx(x[0], abs=0.005 / size * (plane.high[0] - plane.low[0]) + HAND * 8)
        assert x2 == pytest.approx(x[1], abs=0.005 / size * (plane.high[1] - plane.low[1]) + HAND * 8)
        assert point.get("class") == f"point k{j}" and point.get("fill") == colours[f"k{j}"]
    assert sorted(inside) == [f"N{h + 1}" for h in range(len(net["W"]))]


def test_many_rows_are_drawn_as_at_most_most_points_evenly_spaced_first_and_last_among_them():
    from fwdback.render.surface import MOST_POINTS, surface_svg

    X = np.column_stack([np.arange(MOST_POINTS + 501, dtype=float), np.zeros(MOST_POINTS + 501)])
    figure = surface_svg(field(params_of(BINARY), Plane.of_rows(X), 4), ("x1", "x2"), ["a", "b"], X, np.zeros(len(X), dtype=int))
    cx = [float(point.get("cx")) for point in ET.fromstring(figure).iter(f"{SVG}circle")]
    assert len(cx) == MOST_POINTS and cx == sorted(cx)
    frame = ET.fromstring(figure).find(f"{SVG}rect[@class='frame']")
    left, size = float(frame.get("x")), float(frame.get("width"))
    plane = Plane.of_rows(X)
    # Row i is at x1 = i: a point read back within 0.005 px, 0.04 rows here, names its row.
    rows = np.round([plane.low[0] + (x - left) / size * (plane.high[0] - plane.low[0]) for x in cx]).astype(int)
    assert rows[0] == 0 and rows[-1] == len(X) - 1 and set(np.diff(rows)) == {1, 2}  # 2501 rows in 2000 even steps


def test_each_hidden_units_field_is_its_N_over_its_largest():
    from fwdback.render.surface import unit_fields
    from fwdback.surface import UNIT_CELLS

    plane = Plane(np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    fragments = unit_fields(field(params_of(BINARY), plane, UNIT_CELLS))
    for h in range(3):
        group = ET.fromstring(fragments[f"N{h + 1}"].replace("<g ", f'<g xmlns="{SVG[1:-1]}" ', 1))
        N = {}
        for rect in group:
            r, s = map(int, rect.get("data-cell").split(","))
            N[r, s] = by_hand(BINARY, centre(-1, 1, s, UNIT_CELLS), centre(-1, 1, r, UNIT_CELLS))[1][h]
        largest = max(abs(v) for v in N.values())
        for rect in group:
            r, s = map(int, rect.get("data-cell").split(","))
            sign = 1 if rect.get("class") == "positive" else -1
            assert sign * float(rect.get("fill-opacity")) == pytest.approx(N[r, s] / largest, abs=OPACITY)


def test_a_points_ring_stands_out_from_its_fill_in_both_schemes():
    from fwdback.render.surface import CLASS_ROLES, class_colours, contrast, ring
    from fwdback.render.svg import PALETTE

    for scheme in ("light", "dark"):
        for role in CLASS_ROLES:
            colour = PALETTE[scheme][role]
            assert contrast(ring(colour), colour) >= 3.0, (scheme, role)
    assert all(contrast(ring(colour), colour) >= 3.0 for colour in class_colours(12))
    assert len(set(class_colours(12))) == 12


# --- show --data ----------------------------------------------------------------------------


def labelled_csv(path: Path, X, labels, header=("x1", "x2", "y")) -> None:
    path.write_text(",".join(header) + "\n" + "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(X.tolist(), labels)))


@pytest.fixture
def binary_weights(workdir):
    """weights.json: BINARY's weights by name (w1..w6 hidden, w7..w9 output, b1..b4)."""
    values = dict(zip(params_of(BINARY).names, params_of(BINARY).vector.tolist()))
    (workdir / "weights.json").write_text(json.dumps(values))
    return ["weights.json", "--features", "x1,x2", "--hidden", "3", "--activation", "tanh", "--output-activation", "sigmoid"]


def test_show_data_draws_the_surface_over_the_rows_beside_the_network(run, workdir, binary_weights, no_crash):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(25, 2))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    labelled_csv(workdir / "rows.csv", X, labels)
    result = run(["show", *binary_weights, "--format", "svg", "--data", "rows.csv"])
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(result.stdout)
    network, surface = root.findall(f"{SVG}svg")
    assert network.get("class") == "network" and surface.get("class") == "surface"
    assert len(network.findall(f".//{SVG}g[@class='unit-field']")) == 3
    points = surface.findall(f".//{SVG}circle")
    assert [point.get("class") for point in points] == [f"point k{int(label == 'yes')}" for label in labels]  # no < yes
    assert [text.text for text in surface.findall(f".//{SVG}g[@class='key']//{SVG}text")] == ["no", "yes"]


@pytest.mark.parametrize("standardize", ["--standardize", "--no-standardize"])
def test_show_without_data_draws_a_classifiers_field_alone_over_three_deviations(run, workdir, standardize):
    X = np.random.default_rng(8).normal(loc=[5.0, -2.0], scale=[2.0, 0.5], size=(30, 2))
    labelled_csv(workdir / "rows.csv", X, np.where(X[:, 0] > 5.0, "b", "a"))
    trained = run(["train", "rows.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "3", standardize, "-q", "--model", "m.json"])
    assert trained.exit_code == 0, trained.stderr
    result = run(["show", "m.json", "--format", "svg"])
    assert result.exit_code == 0, result.stderr
    surface = ET.fromstring(result.stdout).findall(f"{SVG}svg")[1]
    # The population's mean and deviation, as --standardize takes them, summed here in another order: the two
    # differ by a few roundings of 30 terms, 30 eps relative or so, well inside rtol 1e-13.
    mean, std = X.mean(axis=0), X.std(axis=0)
    low, high = (mean - 3 * std, mean + 3 * std) if standardize == "--standardize" else (np.full(2, -3.0), np.full(2, 3.0))
    np.testing.assert_allclose([float(v) for v in surface.get("data-low").split()], low, rtol=1e-13)
    np.testing.assert_allclose([float(v) for v in surface.get("data-high").split()], high, rtol=1e-13)
    assert surface.findall(f".//{SVG}circle") == []
    assert [text.text for text in surface.findall(f".//{SVG}g[@class='key']//{SVG}text")] == ["a", "b"]


def test_show_data_reads_a_standardised_classifiers_plane_through_its_scaling(run, workdir):
    X = np.random.default_rng(9).normal(loc=[50.0, 2.0], scale=[10.0, 0.1], size=(40, 2))
    labelled_csv(workdir / "rows.csv", X, np.where(X[:, 0] + 100 * (X[:, 1] - 2.0) > 50.0, 1, 0))
    trained = run(["train", "rows.csv", "--features", "x1,x2", "--loss", "bce", "--hidden", "3", "--activation", "tanh",
                   "--epochs", "20", "--standardize", "-q", "--model", "m.json"])
    assert trained.exit_code == 0, trained.stderr
    model = json.loads((workdir / "m.json").read_text())
    weights, scaling = model["weights"], model["scaling"]
    net = dict(W=[[weights["w1"], weights["w2"]], [weights["w3"], weights["w4"]], [weights["w5"], weights["w6"]]],
               V=[[weights["w7"], weights["w8"], weights["w9"]]], b=[weights["b1"], weights["b2"], weights["b3"]], c=[weights["b4"]],
               activation="tanh", output="sigmoid")
    result = run(["show", "m.json", "--format", "svg", "--data", "rows.csv"])
    assert result.exit_code == 0, result.stderr
    surface = ET.fromstring(result.stdout).findall(f"{SVG}svg")[1]
    low, high = (list(map(float, surface.get(name).split())) for name in ("data-low", "data-high"))
    rects = surface.findall(f".//{SVG}g[@class='field']/{SVG}rect")
    cells = round(math.sqrt(len(rects)))
    for rect in rects[::53]:
        r, s = map(int, rect.get("data-cell").split(","))
        x1, x2 = centre(low[0], high[0], s, cells), centre(low[1], high[1], r, cells)
        z1 = (x1 - scaling["mean"]["x1"]) / scaling["std"]["x1"]
        z2 = (x2 - scaling["mean"]["x2"]) / scaling["std"]["x2"]
        probabilities, _ = by_hand(net, z1, z2)
        kind, p = decoded(rect, 2)
        assert probabilities[kind] == pytest.approx(max(probabilities), abs=HAND) and p == pytest.approx(max(probabilities), abs=OPACITY)


MAZUR = ["--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid", "--output-activation", "sigmoid"]
# What `fwdback show weights.json NETWORK --format svg` wrote before the decision surface: tests/golden/show-ID.svg,
# made by the starting commit's code (git archive 584c273 fwdback, run on the same weights.json).
BEFORE = Path(__file__).parent / "golden"


@pytest.mark.parametrize("network", [[], MAZUR, ["--features", "x1,x2", "--output-activation", "sigmoid"]],
                         ids=["lecture", "mazur", "one-sigmoid-output"])
def test_show_of_a_regression_network_is_as_the_starting_commit_drew_it(run, workdir, network, request):
    """Without a classifier's model file or --data, show --format svg is byte for byte what the code before the
    surface wrote, for networks of two inputs with sigmoid outputs too (the textbook's, regressions)."""
    k, m = (3, 1) if not network else (2, 2 if "y1,y2" in network else 1)
    names = Parameters(np.zeros(2 * (k + m) + 2 + m), k, 2, n_outputs=m).names
    (workdir / "weights.json").write_text(json.dumps({name: 0.1 * (i + 1) * (-1) ** i for i, name in enumerate(names)}))
    result = run(["show", "weights.json", *network, "--format", "svg"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (BEFORE / f"show-{request.node.callspec.id}.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, words", [
    (["--format", "svg"], "this network has 3: leave out --data"),
    (["--format", "text"], "only --format svg draws"),
])
def test_show_data_is_refused_for_a_network_without_a_surface(run, workdir, init_file, small_csv, args, words):
    before = {path.name: path.read_bytes() for path in workdir.iterdir()}
    result = run(["show", init_file, *args, "--data", small_csv])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ") and words in result.stderr
    assert {path.name: path.read_bytes() for path in workdir.iterdir()} == before


def test_show_data_with_more_classes_than_the_network_has_names_the_file_and_column(run, workdir, binary_weights):
    labelled_csv(workdir / "rows.csv", np.zeros((3, 2)), ["a", "b", "c"])
    result = run(["show", *binary_weights, "--format", "svg", "--data", "rows.csv"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: rows.csv, column y:")
    assert "it has 3 classes (a, b, c)" in result.stderr


# --- the run page ---------------------------------------------------------------------------


def circle_rows(n: int, seed: int, classes: int) -> tuple[np.ndarray, list[str]]:
    """n rows of (x1, x2) about the origin, labelled by their distance from it: "in", "out" (and "far")."""
    X = np.random.default_rng(seed).normal(size=(n, 2))
    bands = np.digitize(np.hypot(X[:, 0], X[:, 1]), [1.0, 1.6][: classes - 1])
    return X, [("in", "out", "far")[band] for band in bands]


@pytest.fixture(scope="module", params=[("bce", 2), pytest.param(("cross-entropy", 3), marks=pytest.mark.slow)],
                ids=["bce", "cross-entropy"])
def classifier_page(request, tmp_path_factory):
    """(the --report page of a 2-3-q tanh classifier trained 40 epochs on 40 rows, its data block)."""
    loss, classes = request.param
    directory = tmp_path_factory.mktemp(loss)
    X, labels = circle_rows(40, 11, classes)
    labelled_csv(directory / "rows.csv", X, labels, header=("x1", "x2", "ring"))
    from click.testing import CliRunner

    from fwdback.cli import cli

    before = os.getcwd()
    os.chdir(directory)
    try:
        trained = CliRunner().invoke(cli, ["train", "rows.csv", "--features", "x1,x2", "--target", "ring", "--loss", loss, "--hidden", "3",
                                           "--activation", "tanh", "--epochs", "40", "--report", "page.html", "--no-save", "-q"])
    finally:
        os.chdir(before)
    assert trained.exit_code == 0, trained.output
    text = (directory / "page.html").read_text()
    block = text.split('<script id="fwdback-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    return directory / "page.html", json.loads(block)


def by_hand_of(data: dict, vector: list[float]) -> dict:
    """The network of the page's data block at `vector`, as by_hand takes it (weights placed by their names)."""
    network = data["network"]
    value = dict(zip(network["names"], vector))
    return dict(W=[[value[name] for name in unit] for unit in network["W_hidden"]],
                V=[[value[name] for name in output] for output in network["W_out"]],
                b=[value[name] for name in network["b_hidden"]], c=[value[name] for name in network["b_outputs"]],
                activation=network["activation"], output=network["output_activation"])


READ_FIELDS = """() => {
  const figure = document.querySelector("svg.surface");
  const cells = Array.from(figure.querySelectorAll("g.field rect")).map(r => [r.dataset.cell, r.getAttribute("class"), r.getAttribute("fill-opacity")]);
  const units = Array.from(document.querySelectorAll("svg.network g.unit-field")).map(g =>
    Array.from(g.querySelectorAll("rect")).map(r => [r.dataset.cell, r.getAttribute("class"), r.getAttribute("fill-opacity")]));
  return { low: figure.dataset.low, high: figure.dataset.high, cells: cells, units: units };
}"""


def assert_fields_are_the_forward_pass(drawn: dict, net: dict) -> None:
    low, high = (list(map(float, drawn[name].split())) for name in ("low", "high"))
    q = max(2, len(net["V"]))
    cells = round(math.sqrt(len(drawn["cells"])))
    for cell, kind, opacity in drawn["cells"][:: 37]:  # every 37th cell: each row and column of the 40 met
        r, s = map(int, cell.split(","))
        probabilities, _ = by_hand(net, centre(low[0], high[0], s, cells), centre(low[1], high[1], r, cells))
        j = int(kind[1:])
        assert probabilities[j] == pytest.approx(max(probabilities), abs=HAND)
        assert 1 / q + float(opacity) * (1 - 1 / q) == pytest.approx(max(probabilities), abs=OPACITY)
    for h, unit in enumerate(drawn["units"]):
        side = round(math.sqrt(len(unit)))
        N = {}
        for cell, _, _ in unit:
            r, s = map(int, cell.split(","))
            N[r, s] = by_hand(net, centre(low[0], high[0], s, side), centre(low[1], high[1], r, side))[1][h]
        largest = max(abs(v) for v in N.values())
        for cell, kind, opacity in unit:
            r, s = map(int, cell.split(","))
            assert (1 if kind == "positive" else -1) * float(opacity) == pytest.approx(N[r, s] / largest, abs=OPACITY)


def test_the_pages_surface_moves_with_the_epoch_slider(browser_page, classifier_page):
    path, data = classifier_page
    page = browser_page.open(path)
    last = len(data["epochs"]["epochs"]) - 1
    seen = []
    for index in (0, last // 2, last):
        page.evaluate("i => { const s = document.getElementById('epoch'); s.value = String(i); s.dispatchEvent(new Event('input')); }", index)
        drawn = page.evaluate(READ_FIELDS)
        assert_fields_are_the_forward_pass(drawn, by_hand_of(data, data["epochs"]["weights"][index]))
        seen.append([opacity for _, _, opacity in drawn["cells"]])
    assert seen[0] != seen[-1], "the field moved"
    # A weight a person types moves it too: the last epoch's weights with w1 = 2.5.
    page.fill('#parameters input[data-set="w1"]', "2.5")
    typed = list(data["epochs"]["weights"][last])
    typed[data["network"]["names"].index("w1")] = 2.5
    assert_fields_are_the_forward_pass(page.evaluate(READ_FIELDS), by_hand_of(data, typed))
    points = page.evaluate("() => Array.from(document.querySelectorAll('svg.surface circle.point')).map(c => c.getAttribute('class'))")
    expected = circle_rows(40, 11, max(2, len(data["network"]["outputs"])))[1]
    classes = sorted(set(expected))
    assert points == [f"point k{classes.index(label)}" for label in expected]
    # A row a person moves (and gives another class) on the live page moves its point: row 1 to (0.5, -0.25), class 1 (or 0).
    moved = page.evaluate("""() => {
      const page = window.fwdbackPage, y = page.data.rows.y[0];
      page.X[0] = [0.5, -0.25];
      page.data.rows.y[0] = Array.isArray(y) ? y.map((v, j) => (j === (y.indexOf(1) === 1 ? 0 : 1) ? 1 : 0)) : 1 - y;
      page.rowsEdited();
      const first = document.querySelector("svg.surface g.points circle");
      return [first.getAttribute("cx"), first.getAttribute("cy"), first.getAttribute("class"), page.classOf(0),
              document.querySelectorAll("svg.surface g.points circle").length];
    }""")
    low, high = (list(map(float, page.evaluate(f"document.querySelector('svg.surface').dataset.{name}").split())) for name in ("low", "high"))
    frame = [float(page.evaluate(f"document.querySelector('svg.surface rect.frame').getAttribute('{a}')")) for a in ("x", "y", "width")]
    x1 = low[0] + (float(moved[0]) - frame[0]) / frame[2] * (high[0] - low[0])
    x2 = high[1] - (float(moved[1]) - frame[1]) / frame[2] * (high[1] - low[1])
    assert (x1, x2) == pytest.approx((0.5, -0.25), abs=0.005 / frame[2] * max(high[0] - low[0], high[1] - low[1]))
    assert moved[2] == f"point k{moved[3]}" and moved[3] != classes.index(expected[0]) and moved[4] == len(expected)
    assert browser_page.errors == [] and browser_page.requests == []


@pytest.mark.parametrize("scheme", ["light", pytest.param("dark", marks=pytest.mark.slow)])
def test_the_pages_surface_fits_390_px_and_its_points_rings_stand_out(chromium, classifier_page, scheme):
    from test_page_seen import CONTRASTS, OVERFLOWS, TEXT_CONTRAST, open_page

    recorder, page = open_page(chromium, classifier_page[0], 390, scheme)
    found = page.evaluate(OVERFLOWS)
    assert found["scrollWidth"] <= 390 and found["loose"] == [], found["loose"][:10]
    texts = page.evaluate(CONTRASTS, ["svg.surface text", []])
    assert len(texts) >= 8 and min(text["ratio"] for text in texts) >= TEXT_CONTRAST, texts
    rings = page.evaluate("""() => Array.from(document.querySelectorAll('svg.surface .point')).map(p => {
      const style = getComputedStyle(p); return [style.fill, style.stroke]; })""")
    ratios = page.evaluate("""(pairs) => { """ + CONTRAST_OF + """ return pairs.map(([fill, stroke]) => ratio(rgb(fill), rgb(stroke))); }""", rings)
    assert rings and min(ratios) >= 3.0, list(zip(rings, ratios))[:5]
    assert recorder.errors == []


CONTRAST_OF = """
  const rgb = text => /rgba?\\(([^)]*)\\)/.exec(text)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number).slice(0, 3);
  const luminance = c => {
    const l = c.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
"""


def test_a_streamed_classifiers_page_draws_its_surface_over_three_z_scores_without_points(run, workdir):
    """Streamed rows are not held for the page: the field covers z-scores -3 to 3 (the rows' means +- 3 deviations), no points."""
    X, labels = circle_rows(1200, 12, 2)
    labelled_csv(workdir / "rows.csv", X, labels)
    result = run(["train", "rows.csv", "--features", "x1,x2", "--loss", "bce", "--standardize", "--epochs", "2", "--chunksize", "1000",
                  "--report", "page.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    text = (workdir / "page.html").read_text()
    surface = ET.fromstring(re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="surface".*?</svg>', text, re.S).group(0))
    assert surface.get("data-low") == "-3.0 -3.0" and surface.get("data-high") == "3.0 3.0"
    assert surface.findall(f".//{SVG}circle") == []


def _wcag_ratio(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two "#rrggbb", computed here apart from render/surface.py's."""
    def luminance(colour):
        linear = [(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4) for v in (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _over(colour: str, back: str, alpha: float) -> str:
    """`colour` at opacity `alpha` over `back`, blended per sRGB channel as browsers composite."""
    return "#" + "".join(f"{round(alpha * int(colour[i:i + 2], 16) + (1 - alpha) * int(back[i:i + 2], 16)):02x}" for i in (1, 3, 5))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_point_stands_out_from_any_field_under_it(scheme):
    """Each class's point (full colour) on each class's cell at every strength up to sure, with the
    field's opacity as the figure draws it: at least 3:1, for 9 classes (palette roles and hues)."""
    from fwdback.render.surface import classifier_figures, class_colours
    from fwdback.render.svg import PALETTE

    q = 9
    root = ET.fromstring(classifier_figures(params_of(BINARY), ("x1", "x2"), ["a", "b"], Plane(np.zeros(2), np.ones(2)))[1])
    most = float(root.find(f".//{SVG}g[@class='field']").get("opacity"))
    back = PALETTE[scheme]["back"]
    colours = class_colours(q, scheme)
    worst = min((_wcag_ratio(point, _over(cell, back, most * t / 10)), point, cell, t)
                for point in colours for cell in colours for t in range(11))
    assert worst[0] >= 3.0, worst


SATURATE_AND_PLACE = """(j) => {
  const figure = document.querySelector("svg.surface");
  figure.querySelectorAll("g.field rect").forEach(rect => { rect.setAttribute("class", "k" + j); rect.setAttribute("fill-opacity", "1"); });
  const frame = figure.querySelector("rect.frame").getBoundingClientRect();
  const circles = Array.from(figure.querySelectorAll("circle.point")).map(c => {
    const box = c.getBoundingClientRect(); return [box.x + box.width / 2, box.y + box.height / 2, box.width / 2]; });
  return { frame: [frame.x + scrollX, frame.y + scrollY, frame.width, frame.height], points: circles.map(([x, y, r], i) => {
    const away = r + 4;
    const covered = circles.some(([p, q, s], k) => k !== i && Math.hypot(x - p, y - q) <= s + 2);  /* under another point */
    const samples = covered ? [] : [0, 1, 2, 3, 4, 5, 6, 7].map(a => [x + away * Math.cos(a * Math.PI / 4), y + away * Math.sin(a * Math.PI / 4)])
      .filter(([u, v]) => u > frame.x + 2 && u < frame.right - 2 && v > frame.y + 2 && v < frame.bottom - 2 &&
              circles.every(([p, q, s], k) => k === i || Math.hypot(u - p, v - q) > s + 3));
    return { centre: [x + scrollX, y + scrollY], field: samples.map(([u, v]) => [u + scrollX, v + scrollY]) };
  }) };
}"""


@pytest.mark.slow  # screenshots, about 15 s each; the default suite has test_every_point_stands_out_from_any_field_under_it
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_points_stand_out_from_a_sure_field_of_either_class_in_its_pixels(chromium, classifier_page, scheme):
    """Every cell made sure of class j (each j in turn): each point's centre pixel against the field's
    pixels just beyond its ring, 3:1 or more (WCAG), as Chromium paints them."""
    from test_html import png_pixels
    from test_page_seen import open_page

    recorder, page = open_page(chromium, classifier_page[0], 1280, scheme)
    page.locator("svg.surface").scroll_into_view_if_needed()
    q = max(2, len(classifier_page[1]["network"]["outputs"]))
    measured = 0
    for j in range(q):
        placed = page.evaluate(SATURATE_AND_PLACE, j)
        left, top, width, height = (round(v) for v in placed["frame"])
        pixels = png_pixels(page.screenshot(full_page=True, clip={"x": left, "y": top, "width": width, "height": height}))
        channels = len(pixels) // (width * height)

        def colour(x, y):
            at = (int(y - top) * width + int(x - left)) * channels
            return "#" + "".join(f"{v:02x}" for v in pixels[at:at + 3])

        for point in placed["points"]:
            for x, y in point["field"]:
                ratio = _wcag_ratio(colour(*point["centre"]), colour(x, y))
                assert ratio >= 3.0, (j, point, colour(*point["centre"]), colour(x, y), ratio)
                measured += 1
    assert measured >= 40 * q
    assert recorder.errors == []


SATURATE_DATA_PLOT = """(j) => {
  const plot = document.querySelector("#data-plot svg");
  const most = Number(document.querySelector("svg.surface g.field").getAttribute("opacity"));
  const colour = getComputedStyle(document.querySelectorAll("svg.surface g.key rect")[j]).fill;
  plot.querySelectorAll("g.field rect").forEach(r => { r.setAttribute("fill", colour); r.setAttribute("fill-opacity", String(most)); });
  return Array.from(plot.querySelectorAll("circle.point")).map(c => {
    const box = c.getBoundingClientRect(); return [box.x + box.width / 2 + scrollX, box.y + box.height / 2 + scrollY, box.width / 2]; });
}"""


@pytest.mark.slow  # a full-page screenshot per class: slow on a loaded machine
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_data_plots_points_stand_out_from_a_sure_field_of_either_class_in_its_pixels(chromium, classifier_page, scheme):
    """The data plot's field made as sure as it gets (the surface's opacity) of class j, each j: each
    point apart from the others, its centre pixel against the field's 4 pixels beyond its ring, 3:1 or more."""
    from test_html import png_pixels
    from test_page_seen import open_page

    recorder, page = open_page(chromium, classifier_page[0], 1280, scheme)
    q = max(2, len(classifier_page[1]["network"]["outputs"]))
    measured = 0
    for j in range(q):
        circles = page.evaluate(SATURATE_DATA_PLOT, j)
        pixels = png_pixels(page.screenshot(full_page=True))
        width = page.evaluate("document.documentElement.scrollWidth")
        channels = len(pixels) // (width * page.evaluate("document.documentElement.scrollHeight"))

        def colour(x, y):
            at = (int(y) * width + int(x)) * channels
            return "#" + "".join(f"{v:02x}" for v in pixels[at:at + 3])

        for i, (x, y, r) in enumerate(circles):
            if any(k != i and math.hypot(x - p, y - v) < s + r + 8 for k, (p, v, s) in enumerate(circles)):
                continue
            for dx, dy in ((r + 5, 0), (-r - 5, 0), (0, r + 5), (0, -r - 5)):
                ratio = _wcag_ratio(colour(x, y), colour(x + dx, y + dy))
                assert ratio >= 3.0, (j, colour(x, y), colour(x + dx, y + dy), ratio)
                measured += 1
    assert measured >= 4 * q
    assert recorder.errors == []
