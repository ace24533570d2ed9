"""fwdback show: the network drawn in plain ASCII, its parameters, and the collapsed linear map;
and `show --format dot`, the network as Graphviz source.

Expected values come from the model file itself and from the collapsed map's formulas
written out by name here (c1 = w7*w1 + w8*w4, ...), never from fwdback's own output. The DOT
source is read back by pydot, an independent parser, and drawn by Graphviz's own `dot`.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from xml.etree import ElementTree

import numpy as np
import pydot
import pytest

PARAMETER_LINE = re.compile(r"^  (w\d+|b\d+) += (\S+) ")
COEFFICIENT_LINE = re.compile(r"^  (c\d+) += ([w\d*b +]+?) += (\S+)$")
EDGE_LABEL = re.compile(r"\b(w\d+|b\d+)=(\S+?)(?= |$)")


def read_model(path="model.json") -> dict:
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def full_precision(stdout: str) -> dict[str, str]:
    return {m[1]: m[2] for m in map(PARAMETER_LINE.match, stdout.splitlines()) if m}


def coefficients(stdout: str) -> dict[str, tuple[str, float]]:
    return {m[1]: (m[2].strip(), float(m[3])) for m in map(COEFFICIENT_LINE.match, stdout.splitlines()) if m}


def drawing(stdout: str) -> list[str]:
    """The lines of the drawing: from the first input line to the blank line after the last bias."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "--+--" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("N1 "))
    return lines[start : end - 1]


@pytest.fixture
def trained(run, small_csv):
    result = run(["train", small_csv, "--epochs", "300", "-q"])
    assert result.exit_code == 0, result.stderr
    return read_model()


def test_show_lists_every_parameter_at_full_precision(run, trained, names, no_crash):
    result = run(["show", "model.json"])
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    listed = full_precision(result.stdout)
    assert list(listed) == list(names)
    for name in names:
        assert float(listed[name]) == trained["weights"][name], name  # bit for bit


def test_the_drawing_labels_every_edge_and_node(run, trained, names):
    out = run(["show"]).stdout  # MODEL defaults to model.json
    lines = drawing(out)
    text = "\n".join(lines)
    labels = {m[1]: float(m[2]) for line in lines for m in EDGE_LABEL.finditer(line)}
    assert sorted(labels) == sorted(names)
    for name in names:
        assert math.isclose(labels[name], trained["weights"][name], rel_tol=5e-4), name  # 4 significant digits
    for node in ("x1", "x2", "x3", "N1", "N2", "yhat"):
        assert re.search(rf"\b{node}\b", text), node
    assert max(map(len, out.splitlines())) <= 80


def test_the_edges_lead_to_the_right_nodes(run, trained):
    """The edges w1..w3 end on one vertical line and w4..w6 on another; each line turns
    towards its node, N1 or N2, and both hidden nodes feed the line into yhat."""
    lines = drawing(run(["show"]).stdout)

    def row_of(text):
        return next(i for i, line in enumerate(lines) if text in line)

    def end_of_edge(name):
        line = lines[row_of(f"{name}=")]
        assert line.count(">+") == 1, line
        return line.index(">+") + 1

    bus_n1 = {end_of_edge(name) for name in ("w1", "w2", "w3")}
    bus_n2 = {end_of_edge(name) for name in ("w4", "w5", "w6")}
    assert len(bus_n1) == 1 and len(bus_n2) == 1 and bus_n1 != bus_n2
    (n1_column,), (n2_column,) = bus_n1, bus_n2
    for node, column in (("N1", n1_column), ("N2", n2_column)):
        row = row_of(f"> {node} ")
        assert lines[row][column] == "+"
        first = row_of("w1=") if node == "N1" else row_of("w4=")
        assert all(lines[r][column] in "|+" for r in range(first, row + 1)), f"the line into {node} is broken"
    assert "--> yhat" in lines[row_of("> N1 ") + 1]  # N1, yhat, N2 on consecutive rows of the output line


def test_the_input_nodes_are_the_models_features(run, workdir, small_xy, csv_text):
    X, y = small_xy
    (workdir / "abc.csv").write_text(csv_text(X, y, header=("a", "b", "c", "price")))
    assert run(["train", "abc.csv", "--features", "a,b,c", "--target", "price", "-q", "--epochs", "50"]).exit_code == 0
    out = run(["show"]).stdout
    lines = drawing(out)
    starts = [line.split("--")[0].strip() for line in lines if "--+--" in line and not line.startswith("   ")]
    assert starts == ["a", "b", "c"]
    assert "yhat predicts price" in out
    # One naming throughout: the columns' names in the equations and the collapsed map too, and
    # the lecture's name beside each column named otherwise.
    assert "N1   = w1*a + w2*b + w3*c + b1" in out and "N2   = w4*a + w5*b + w6*c + b2" in out
    assert "in the lecture's names: a is x1, b is x2, c is x3" in out
    assert "yhat = c1*a + c2*b + c3*c + c0" in out
    numeric = next(line for line in out.splitlines() if line.startswith("  yhat = ") and "c0" not in line)
    assert re.fullmatch(r"  yhat = \S+\*a [+-] \S+\*b [+-] \S+\*c [+-] \S+", numeric), numeric
    assert not re.search(r"\bx[123]\b", out.replace("a is x1, b is x2, c is x3", ""))


def test_columns_named_as_the_lecture_names_them_are_not_renamed(run, trained):
    assert "lecture's names" not in run(["show"]).stdout


def test_output_is_ascii_only(run, trained):
    out = run(["show"]).stdout
    assert out.isascii()
    assert "\x1b" not in out


def test_the_collapsed_map_is_w7_w1_plus_w8_w4(run, trained):
    w = trained["weights"]
    expected = {
        "c1": ("w7*w1 + w8*w4", w["w7"] * w["w1"] + w["w8"] * w["w4"]),
        "c2": ("w7*w2 + w8*w5", w["w7"] * w["w2"] + w["w8"] * w["w5"]),
        "c3": ("w7*w3 + w8*w6", w["w7"] * w["w3"] + w["w8"] * w["w6"]),
        "c0": ("w7*b1 + w8*b2 + b3", w["w7"] * w["b1"] + w["w8"] * w["b2"] + w["b3"]),
    }
    out = run(["show"]).stdout
    assert "yhat = c1*x1 + c2*x2 + c3*x3 + c0" in out
    shown = coefficients(out)
    assert list(shown) == ["c1", "c2", "c3", "c0"]
    for term, (formula, value) in expected.items():
        assert shown[term][0] == formula
        assert math.isclose(shown[term][1], value, rel_tol=1e-14, abs_tol=1e-15), term


def test_the_collapsed_map_is_the_data_s_linear_function(run, trained):
    """small_csv is y = 2 x1 - 3 x2 + 0.5 x3 + 1 exactly; 300 epochs find it to 6 digits."""
    out = run(["show"]).stdout
    assert "  yhat = 2*x1 - 3*x2 + 0.5*x3 + 1\n" in out


def test_a_tanh_model_has_no_collapsed_map(run, small_csv):
    assert run(["train", small_csv, "--activation", "tanh", "--hidden", "3", "--epochs", "20", "-q"]).exit_code == 0
    out = run(["show"]).stdout
    assert "N1   = tanh(w1*x1 + w2*x2 + w3*x3 + b1)" in out
    assert "N3" in out and "w12=" in out and "b4=" in out
    assert "no collapsed linear map" in out
    assert coefficients(out) == {}
    assert len(full_precision(out)) == 3 * 3 + 3 + 3 + 1
    assert out.isascii()


def test_a_standardized_model_shows_the_map_in_the_data_s_units_too(run, small_csv):
    assert run(["train", small_csv, "--standardize", "-q"]).exit_code == 0
    out = run(["show"]).stdout
    assert "z-scores" in out
    line = next(line for line in out.splitlines() if line.startswith("In the data's own units: y = "))
    assert line == "In the data's own units: y = 2*x1 - 3*x2 + 0.5*x3 + 1"


@pytest.mark.parametrize("output_format", ["text", "dot"])
@pytest.mark.parametrize(
    "content, message",
    [
        ('{"a": 1}', "weight w1 is missing for the network of 3 features"),
        ("not json", "is not valid JSON"),
        (None, "no such file"),
    ],
)
def test_show_of_something_else_is_one_error_line(run, workdir, content, message, output_format, no_crash):
    if content is not None:
        (workdir / "other.json").write_text(content)
    result = run(["show", "other.json", "--format", output_format])
    no_crash(result)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: other.json: ")
    assert message in lines[0]


def test_a_wider_network_still_fits_80_columns(run, workdir, csv_text):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(30, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])
    (workdir / "wide.csv").write_text(csv_text(X, y, header=("rooms", "area_sqm", "age", "floor", "price")))
    args = ["train", "wide.csv", "--features", "rooms,area_sqm,age,floor", "--target", "price", "--hidden", "4", "-q", "--epochs", "5"]
    assert run(args).exit_code == 0
    out = run(["show"]).stdout
    assert max(map(len, out.splitlines())) <= 80
    weights = read_model()["weights"]
    labels = {m[1]: float(m[2]) for line in drawing(out) for m in EDGE_LABEL.finditer(line)}
    assert sorted(labels) == sorted(weights) and len(labels) == 4 * 4 + 4 + 5
    for name, value in labels.items():
        assert math.isclose(value, weights[name], rel_tol=5e-4), name
    assert [line.split("--")[0].strip() for line in drawing(out) if "--+--" in line and line.lstrip()[0] != "+"] == [
        "rooms", "area_sqm", "age", "floor"
    ]


# show --format dot ------------------------------------------------------------------------

BLUE, ORANGE = "#2166ac", "#b35806"  # positive, negative: the colour-blind-safe pair of the issue
SVG = "{http://www.w3.org/2000/svg}"
# The lecture's figure, edge by edge: which weight joins which two nodes.
LECTURE_EDGES = {
    "w1": ("x1", "N1"), "w2": ("x2", "N1"), "w3": ("x3", "N1"),
    "w4": ("x1", "N2"), "w5": ("x2", "N2"), "w6": ("x3", "N2"),
    "w7": ("N1", "yhat"), "w8": ("N2", "yhat"),
}


@dataclass
class Edge:
    tail: str
    head: str
    value: float
    colour: str
    fontcolour: str
    penwidth: float


@dataclass
class DotNetwork:
    """What a DOT file says, read by pydot: node id -> label as shown, parameter name -> edge."""

    title: str
    nodes: dict[str, str]
    edges: dict[str, Edge]
    endpoints: set[str]  # every node any edge (invisible ones too) names


def shown(value: str) -> str:
    """A DOT quoted string as Graphviz shows it in a label: \\\\ a backslash, \\" a quote, \\n a line break."""
    assert value[0] == value[-1] == '"', value
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value[1:-1], flags=re.S)


def read_dot(source: str) -> DotNetwork:
    (graph,) = pydot.graph_from_dot_data(source)
    assert graph.get_type() == "digraph"
    graphs = [graph, *graph.get_subgraphs()]
    declared = [node for g in graphs for node in g.get_nodes() if node.get_name() not in ("node", "edge", "graph")]
    nodes = {node.get_name(): shown(node.get_label()) for node in declared}
    edges, endpoints = {}, set()
    for edge in (e for g in graphs for e in g.get_edges()):
        endpoints |= {edge.get_source(), edge.get_destination()}
        if edge.get_style() == "invis":
            continue
        name, value = shown(edge.get_label()).split(" = ")
        assert name not in edges, name
        edges[name] = Edge(edge.get_source(), edge.get_destination(), float(value), shown(edge.get("color")),
                           shown(edge.get("fontcolor")), float(edge.get("penwidth")))
    (defaults,) = graph.get_graph_defaults()
    assert defaults["rankdir"] == "LR"
    return DotNetwork(shown(defaults["label"]), nodes, edges, endpoints)


def bias_on(label: str) -> tuple[str, float]:
    """The `b1 = 0.0244708` line of a unit's label, as (name, value)."""
    name, value = label.splitlines()[-1].split(" = ")
    return name, float(value)


def write_model(path, weights: dict, features, target: str) -> None:
    """A model file written here, by hand, with weights the test chose."""
    document = {"format": "fwdback-model", "version": 2, "features": list(features), "target": target, "weights": weights}
    path.write_text(json.dumps(document))


@pytest.fixture
def graphviz():
    """Graphviz's `dot`; .ci/run installs it, so a missing one fails the test rather than skipping it."""
    path = shutil.which("dot")
    if path is None:
        pytest.fail("Graphviz's dot is not installed: apt-get install -y graphviz (.ci/run installs it)")
    return path


def drawn(graphviz: str, source: str) -> ElementTree.Element:
    """The SVG that `dot -Tsvg` draws of the source; Graphviz must take it without a word on stderr."""
    done = subprocess.run([graphviz, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode("utf-8", "replace")
    return ElementTree.fromstring(done.stdout)


def drawn_texts(svg: ElementTree.Element) -> list[str]:
    return [element.text for element in svg.iter(f"{SVG}text")]


def test_show_dot_puts_every_weight_on_its_edge_and_every_bias_on_its_unit(run, trained, no_crash):
    result = run(["show", "model.json", "--format", "dot"])
    no_crash(result)
    assert result.exit_code == 0 and result.stderr == ""
    weights = trained["weights"]
    network = read_dot(result.stdout)
    assert set(network.nodes) == {"x1", "x2", "x3", "N1", "N2", "yhat"}
    assert network.endpoints == set(network.nodes)
    assert sorted(network.edges) == sorted(LECTURE_EDGES)
    for name, (tail, head) in LECTURE_EDGES.items():
        edge = network.edges[name]
        assert (edge.tail, edge.head) == (tail, head), name
        assert math.isclose(edge.value, weights[name], rel_tol=5e-6), name  # 6 significant digits
    assert [network.nodes[x] for x in ("x1", "x2", "x3")] == ["x1", "x2", "x3"]  # columns named as the lecture's
    for node, bias in (("N1", "b1"), ("N2", "b2"), ("yhat", "b3")):
        name, value = bias_on(network.nodes[node])
        assert name == bias and math.isclose(value, weights[bias], rel_tol=5e-6), node
    assert network.nodes["yhat"].splitlines()[0] == "yhat (y)"
    assert "yhat predicts y" in network.title


def test_show_dot_colours_an_edge_by_its_sign_and_widens_it_by_its_magnitude(run, workdir):
    weights = {"w1": 0.5, "w2": -2.0, "w3": 1.0, "w4": 0.0, "w5": -0.25, "w6": 1.5,
               "w7": -1.0, "w8": 0.75, "b1": -0.5, "b2": 0.5, "b3": 3.0}
    write_model(workdir / "hand.json", weights, ["x1", "x2", "x3"], "y")
    network = read_dot(run(["show", "hand.json", "--format", "dot"]).stdout)
    largest = 2.0  # |w2|: the biases are no edges
    for name, edge in network.edges.items():
        value = weights[name]
        assert edge.value == value, name
        if value != 0:  # a zero weight has no sign to show; it is drawn thinnest
            assert edge.colour == (BLUE if value > 0 else ORANGE), name
        assert edge.colour in (BLUE, ORANGE) and edge.fontcolour == edge.colour, name
        assert edge.penwidth == pytest.approx(1 + 5 * abs(value) / largest, abs=1e-3), name
    assert network.edges["w2"].penwidth == 6 and network.edges["w4"].penwidth == 1


def test_show_dot_quotes_any_column_name(run, workdir, init_weights, graphviz):
    """A quote, a backslash (Graphviz reads \\N as the node's name), a line break, in the columns
    and the target: each label shows the name as it is (the line break as \\n, as on a terminal),
    and the file stays one graph of 6 nodes."""
    features = ['a"b', "C:\\data\\N", "two\nlines"]
    target = 'price "usd" \\'
    write_model(workdir / "odd.json", init_weights, features, target)
    result = run(["show", "odd.json", "--format", "dot"])
    assert result.exit_code == 0, result.stderr
    network = read_dot(result.stdout)
    assert set(network.nodes) == {"x1", "x2", "x3", "N1", "N2", "yhat"} and network.endpoints == set(network.nodes)
    assert [network.nodes[x] for x in ("x1", "x2", "x3")] == ['x1 (a"b)', "x2 (C:\\data\\N)", "x3 (two\\nlines)"]
    assert network.nodes["yhat"].splitlines()[0] == 'yhat (price "usd" \\)'
    texts = drawn_texts(drawn(graphviz, result.stdout))
    for line in ['x1 (a"b)', "x2 (C:\\data\\N)", "x3 (two\\nlines)", 'yhat (price "usd" \\)']:
        assert line in texts, line


def test_graphviz_draws_each_edge_in_its_colour(run, trained, graphviz):
    svg = drawn(graphviz, run(["show", "--format", "dot"]).stdout)
    weights = trained["weights"]
    strokes = {}
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == "edge":
            path = group.find(f"{SVG}path")
            if path is not None and path.get("stroke") != "transparent":
                strokes[group.find(f"{SVG}title").text] = path.get("stroke")
    assert strokes == {f"{tail}->{head}": BLUE if weights[name] > 0 else ORANGE for name, (tail, head) in LECTURE_EDGES.items()}
    texts = drawn_texts(svg)
    for name in LECTURE_EDGES:
        assert sum(text.startswith(f"{name} = ") for text in texts) == 1, name


def test_show_dot_of_a_wider_tanh_network(run, workdir, csv_text):
    """4 inputs and 3 tanh units: the README's naming rule, unit 1's 4 weights first (w1..w4),
    then the output weights w13..w15; biases b1..b3 on the units and b4 on yhat."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(30, 4))
    (workdir / "wide.csv").write_text(csv_text(X, X @ [1.0, -2.0, 0.5, 3.0], header=("rooms", "area", "age", "floor", "price")))
    assert run(["train", "wide.csv", "--features", "rooms,area,age,floor", "--target", "price",
                "--hidden", "3", "--activation", "tanh", "--epochs", "5", "-q"]).exit_code == 0
    weights = read_model()["weights"]
    network = read_dot(run(["show", "--format", "dot"]).stdout)
    expected = {f"w{4 * u + j + 1}": (f"x{j + 1}", f"N{u + 1}") for u in range(3) for j in range(4)}
    expected |= {f"w{12 + u + 1}": (f"N{u + 1}", "yhat") for u in range(3)}
    assert {name: (edge.tail, edge.head) for name, edge in network.edges.items()} == expected
    for name, edge in network.edges.items():
        assert math.isclose(edge.value, weights[name], rel_tol=5e-6), name
    assert [network.nodes[f"x{j}"] for j in range(1, 5)] == ["x1 (rooms)", "x2 (area)", "x3 (age)", "x4 (floor)"]
    for u in range(1, 4):
        assert network.nodes[f"N{u}"].splitlines()[0] == f"N{u} = tanh(z{u})"
        assert bias_on(network.nodes[f"N{u}"]) == (f"b{u}", pytest.approx(weights[f"b{u}"], rel=5e-6))
    assert bias_on(network.nodes["yhat"]) == ("b4", pytest.approx(weights["b4"], rel=5e-6))
    assert network.nodes["yhat"].startswith("yhat (price)\n")
    assert "4 inputs, 3 hidden units, tanh activation" in network.title


def test_show_dot_says_when_the_weights_are_in_z_scores(run, small_csv):
    assert run(["train", small_csv, "--standardize", "-q"]).exit_code == 0
    assert "z-scores" in read_dot(run(["show", "--format", "dot"]).stdout).title
    assert run(["train", small_csv, "--no-standardize", "-q"]).exit_code == 0
    assert "z-scores" not in read_dot(run(["show", "--format", "dot"]).stdout).title


def test_show_format_is_text_by_default_and_refuses_others(run, trained):
    assert run(["show"]).stdout == run(["show", "--format", "text"]).stdout
    result = run(["show", "--format", "png"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Invalid value for '--format'" in result.stderr


# The generalised network in show's text: several outputs, an output activation, no biases.


def model_222(bias: bool = True, output_activation: str = "identity"):
    """A 2-2-2 model whose parameter number i (1-based, in vector order) is (-1)^i * i / 10."""
    from fwdback.modelfile import Model
    from fwdback.network import Parameters

    size = 12 if bias else 8
    values = [(-1) ** i * i / 10 for i in range(1, size + 1)]
    params = Parameters(values, 2, 2, n_outputs=2, output_activation=output_activation, bias=bias)
    return Model(params, ("a", "b"), ("y1", "y2")), dict(zip(params.names, values))


def test_show_text_draws_every_output_with_its_equation_and_collapsed_map():
    from fwdback.diagram import model_text

    model, w = model_222()
    text = model_text(model)
    assert "yhat1, yhat2 predict y1, y2" in " ".join(text.split("\n\n", 1)[0].split())  # the header, wrapped at 80
    assert "yhat1 = w5*N1 + w6*N2 + b3" in text and "yhat2 = w7*N1 + w8*N2 + b4" in text
    labels = dict(re.findall(r"\b(w\d+|b\d+)=(-?[\d.]+(?:e[-+]?\d+)?)", text))
    assert sorted(labels) == sorted(w), "every parameter on the drawing"
    assert all(float(labels[name]) == pytest.approx(value, rel=1e-3) for name, value in w.items())
    assert re.search(r"--> yhat1\n +\| +b3=-1\.1\n +\+--> yhat2\n +b4=1\.2$", text, re.M), "each output bias under its output"
    # One line per output, from the lecture's formulas written out here:
    # yhat_j = sum_h w_out[j, h] * (w_h . x + b_h) + b_j.
    for output, (out1, out2, bias) in {"yhat1": ("w5", "w6", "b3"), "yhat2": ("w7", "w8", "b4")}.items():
        c_a = w[out1] * w["w1"] + w[out2] * w["w3"]
        c_b = w[out1] * w["w2"] + w[out2] * w["w4"]
        c_0 = w[out1] * w["b1"] + w[out2] * w["b2"] + w[bias]
        (line,) = [line for line in text.splitlines() if line.startswith(f"  {output} = (")]
        assert line == f"  {output} = ({out1}*w1 + {out2}*w3)*a + ({out1}*w2 + {out2}*w4)*b + ({out1}*b1 + {out2}*b2 + {bias})"
        values = text.splitlines()[text.splitlines().index(line) + 1]
        compact = values.split("= ", 1)[1].replace(" ", "")
        numbers = [float(n) for n in re.findall(r"([-+]?[\d.]+(?:e[-+]\d+)?)(?:\*[ab])?", compact)]
        assert numbers == pytest.approx([c_a, c_b, c_0], rel=1e-5)


def test_show_text_without_biases_or_with_an_output_activation():
    from fwdback.diagram import model_text

    text = model_text(model_222(bias=False)[0])
    assert not re.search(r"\bb\d", text), "no bias anywhere"
    assert "yhat2 = w7*N1 + w8*N2\n" in text
    text = model_text(model_222(output_activation="sigmoid")[0])
    assert "yhat1 = sigmoid(w5*N1 + w6*N2 + b3)" in text
    assert "no collapsed linear map" in text and "(w5*w1" not in text


# Bare weights, as --init takes them -----------------------------------------------------------

# Matt Mazur's worked example: his starting weights, and his network (README, "Reproducing a
# textbook example"): w1, w2 feed h1; w3, w4 h2; w5, w6 o1; w7, w8 o2.
MAZUR = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55,
         "b1": 0.35, "b2": 0.35, "b3": 0.60, "b4": 0.60}
MAZUR_EDGES = {"w1": ("x1", "N1"), "w2": ("x2", "N1"), "w3": ("x1", "N2"), "w4": ("x2", "N2"),
               "w5": ("N1", "yhat1"), "w6": ("N2", "yhat1"), "w7": ("N1", "yhat2"), "w8": ("N2", "yhat2")}
MAZUR_NETWORK = ["--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid", "--output-activation", "sigmoid"]


@pytest.mark.parametrize("document", [MAZUR, {"weights": MAZUR, "source": "Mazur (2015)"}], ids=["top level", "under weights"])
def test_show_draws_the_weights_init_takes_in_every_format(run, workdir, document, no_crash):
    (workdir / "mazur.json").write_text(json.dumps(document))
    (workdir / "mazur.csv").write_text("x1,x2,y1,y2\n0.05,0.10,0.01,0.99\n")
    assert run(["explain", "mazur.csv", *MAZUR_NETWORK, "--init", "mazur.json"]).exit_code == 0

    text = run(["show", "mazur.json", *MAZUR_NETWORK])
    no_crash(text)
    assert text.exit_code == 0 and text.stderr == "", text.stderr
    assert full_precision(text.stdout) == {name: repr(value) for name, value in MAZUR.items()}
    assert "yhat2 = sigmoid(w7*N1 + w8*N2 + b4)" in text.stdout

    dot = run(["show", "mazur.json", *MAZUR_NETWORK, "--format", "dot"])
    assert dot.exit_code == 0, dot.stderr
    network = read_dot(dot.stdout)
    for name, (tail, head) in MAZUR_EDGES.items():
        edge = network.edges[name]
        assert (edge.tail, edge.head, edge.value) == (tail, head, MAZUR[name]), name
    assert [bias_on(network.nodes[node]) for node in ("N1", "N2", "yhat1", "yhat2")] == [
        (bias, MAZUR[bias]) for bias in ("b1", "b2", "b3", "b4")]

    svg = run(["show", "mazur.json", *MAZUR_NETWORK, "--format", "svg"])
    assert svg.exit_code == 0, svg.stderr
    figure = ElementTree.fromstring(svg.stdout)
    labels = ["".join(element.itertext()) for element in figure.iter(f"{SVG}text")]
    for name, value in MAZUR.items():
        assert any(f"{name} = {value:g}" in label for label in labels), name


def test_bare_weights_of_another_network_name_the_network_show_assumed(run, workdir):
    (workdir / "mazur.json").write_text(json.dumps(MAZUR))
    result = run(["show", "mazur.json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Error: mazur.json: 'b4' is not a weight of the network of 3 features and 2 hidden units; "
                             "use only w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3\n")


def test_a_model_file_names_its_own_network_so_show_refuses_options_that_describe_one(run, trained):
    result = run(["show", "model.json", "--hidden", "3"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "model.json is a model file, which names its own columns and network; --hidden describes bare weights" in result.stderr


# --- a classifier: its outputs named by their classes, its prose wrapped to the terminal ----------

PETS = "x1,x2,animal\n0.5,1.0,dog\n-1.0,0.2,cat\n0.3,-0.7,emu\n1.2,0.4,dog\n-0.4,-1.1,emu\n0.1,0.9,cat\n"
# The classes sorted as scikit-learn's classes_ (text: by code point), one output each.
PETS_OUTPUTS = ("P(animal = cat)", "P(animal = dog)", "P(animal = emu)")


@pytest.fixture
def pets_model(run, workdir):
    (workdir / "pets.csv").write_text(PETS)
    result = run(["train", "pets.csv", "--features", "x1,x2", "--target", "animal", "--loss", "cross-entropy", "--epochs", "3",
                  "--report", "page.html", "--model", "pets.json", "-q"])
    assert result.exit_code == 0, result.output
    return workdir / "pets.json"


@pytest.mark.parametrize("columns", [80, 100])
def test_a_classifiers_show_names_each_output_by_its_class_within_the_terminals_width(pets_model, columns):
    from test_terminal_seen import in_terminal

    written, code = in_terminal(["show", str(pets_model)], pets_model.parent, columns)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", written.decode()).replace("\r", "")
    assert code == 0
    lines = text.split("\n")
    assert max(map(len, lines)) <= columns, [line for line in lines if len(line) > columns]
    header = " ".join(text.split("\n\n", 1)[0].split())
    assert all(f"yhat{j + 1} = {name}" in header for j, name in enumerate(PETS_OUTPUTS)), header
    assert header.endswith("through the softmax output activation.")


def test_a_bce_classifiers_show_names_its_one_output_the_second_classs_probability(run, workdir):
    (workdir / "ab.csv").write_text("x1,x2,kind\n0,1,no\n1,0,yes\n1,1,no\n0,0,yes\n")
    assert run(["train", "ab.csv", "--features", "x1,x2", "--target", "kind", "--loss", "bce", "--epochs", "2", "-q",
                "--model", "ab.json"]).exit_code == 0
    shown = run(["show", "ab.json"])
    header = " ".join(shown.stdout.split("\n\n", 1)[0].split())
    assert header.endswith("; yhat = P(kind = yes) through the sigmoid output activation."), header


def test_a_classifiers_figures_name_each_output_node_by_its_class(run, pets_model):
    SVG = "{http://www.w3.org/2000/svg}"
    figure = ElementTree.fromstring(run(["show", str(pets_model), "--format", "svg"]).stdout)
    page = (pets_model.parent / "page.html").read_text()
    network = ElementTree.fromstring(re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="network".*?</svg>', page, re.S).group(0))
    for drawn in (figure.find(f"{SVG}svg"), network):
        names = [text.text for text in drawn.iter(f"{SVG}text") if text.text and text.text.startswith("P(")]
        assert names == list(PETS_OUTPUTS)
