"""fwdback show: the network drawn in plain ASCII, its parameters, and the collapsed linear map.

Expected values come from the model file itself and from the collapsed map's formulas
written out by name here (c1 = w7*w1 + w8*w4, ...), never from fwdback's own output.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
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


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"a": 1}', 'is not a fwdback model file'),
        ("not json", "is not valid JSON"),
        (None, "no such file"),
    ],
)
def test_show_of_something_else_is_one_error_line(run, workdir, content, message, no_crash):
    if content is not None:
        (workdir / "other.json").write_text(content)
    result = run(["show", "other.json"])
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
