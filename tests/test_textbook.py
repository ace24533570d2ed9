"""Textbook examples reproduced by `fwdback explain`, every expected number computed here.

Matt Mazur's "A Step by Step Backpropagation Example" (2015) is worked by hand below in plain
Python floats, one named quantity at a time, as the post does; the post's own published values
are checked against the hand computation, and explain (JSON at full precision, the terminal
text to every printed digit) against both. The other tests unroll mini-batch steps and the
next lecture's optimizers with the textbook update equations written out here.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import oracle
from conftest import NAMES, csv_text, flat

from fwdback.network import Parameters, backward, forward


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def printed(value: float) -> str:
    """A number as explain prints it: 6 significant digits."""
    return f"{value:.6g}"


# --- Mazur's worked example ---------------------------------------------------------------------

# Two inputs, two sigmoid hidden units, two sigmoid outputs, one training example. His w1..w8 are
# fwdback's in the same order (w1: i1 -> h1, w2: i2 -> h1, w3: i1 -> h2, w4: i2 -> h2, w5: h1 -> o1,
# w6: h2 -> o1, w7: h1 -> o2, w8: h2 -> o2); each of his layers shares one bias, which he does not
# update: fwdback's b1 = b2 = 0.35 and b3 = b4 = 0.60, frozen.
I1, I2, T1, T2 = 0.05, 0.10, 0.01, 0.99
W = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
B_HIDDEN, B_OUTPUT = 0.35, 0.60
ETA = 0.5
MAZUR_ARGS = ["mazur.csv", "--features", "x1,x2", "--target", "y1,y2", "--hidden", "2", "--activation", "sigmoid",
              "--output-activation", "sigmoid", "--loss", "half-sse", "--lr", str(ETA), "--freeze", "b1,b2,b3,b4",
              "--init", "mazur.json"]


def mazur_by_hand(w: dict) -> dict:
    """Every quantity of the post's forward and backward pass, in its names, from weights `w`."""
    v = {}
    v["net_h1"] = w["w1"] * I1 + w["w2"] * I2 + B_HIDDEN
    v["out_h1"] = sigmoid(v["net_h1"])
    v["net_h2"] = w["w3"] * I1 + w["w4"] * I2 + B_HIDDEN
    v["out_h2"] = sigmoid(v["net_h2"])
    v["net_o1"] = w["w5"] * v["out_h1"] + w["w6"] * v["out_h2"] + B_OUTPUT
    v["out_o1"] = sigmoid(v["net_o1"])
    v["net_o2"] = w["w7"] * v["out_h1"] + w["w8"] * v["out_h2"] + B_OUTPUT
    v["out_o2"] = sigmoid(v["net_o2"])
    v["E_total"] = 0.5 * (T1 - v["out_o1"]) ** 2 + 0.5 * (T2 - v["out_o2"]) ** 2
    # The output layer: dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5.
    v["dE_dout_o1"] = -(T1 - v["out_o1"])
    v["dE_dout_o2"] = -(T2 - v["out_o2"])
    v["dout_o1_dnet_o1"] = v["out_o1"] * (1 - v["out_o1"])
    v["dout_o2_dnet_o2"] = v["out_o2"] * (1 - v["out_o2"])
    delta_o1 = v["dE_dout_o1"] * v["dout_o1_dnet_o1"]
    delta_o2 = v["dE_dout_o2"] * v["dout_o2_dnet_o2"]
    v["dE_dw5"], v["dE_dw6"] = delta_o1 * v["out_h1"], delta_o1 * v["out_h2"]
    v["dE_dw7"], v["dE_dw8"] = delta_o2 * v["out_h1"], delta_o2 * v["out_h2"]
    # The hidden layer: dE/dw1 = dE/dout_h1 * dout_h1/dnet_h1 * dnet_h1/dw1, with
    # dE/dout_h1 = dE_o1/dout_h1 + dE_o2/dout_h1 = delta_o1 * w5 + delta_o2 * w7.
    v["dEo1_dout_h1"], v["dEo2_dout_h1"] = delta_o1 * w["w5"], delta_o2 * w["w7"]
    v["dE_dout_h1"] = v["dEo1_dout_h1"] + v["dEo2_dout_h1"]
    v["dE_dout_h2"] = delta_o1 * w["w6"] + delta_o2 * w["w8"]
    v["dout_h1_dnet_h1"] = v["out_h1"] * (1 - v["out_h1"])
    v["dout_h2_dnet_h2"] = v["out_h2"] * (1 - v["out_h2"])
    v["dE_dw1"] = v["dE_dout_h1"] * v["dout_h1_dnet_h1"] * I1
    v["dE_dw2"] = v["dE_dout_h1"] * v["dout_h1_dnet_h1"] * I2
    v["dE_dw3"] = v["dE_dout_h2"] * v["dout_h2_dnet_h2"] * I1
    v["dE_dw4"] = v["dE_dout_h2"] * v["dout_h2_dnet_h2"] * I2
    # Every weight moves at once: w+ = w - eta * dE/dw.
    v["new"] = {name: w[name] - ETA * v[f"dE_d{name}"] for name in W}
    return v


@pytest.fixture
def mazur(workdir):
    (workdir / "mazur.csv").write_text(f"x1,x2,y1,y2\n{I1},{I2},{T1},{T2}\n")
    weights = {**W, "b1": B_HIDDEN, "b2": B_HIDDEN, "b3": B_OUTPUT, "b4": B_OUTPUT}
    (workdir / "mazur.json").write_text(json.dumps(weights))
    return mazur_by_hand(W)


def test_the_hand_computation_is_the_posts():
    """The hand computation above gives the numbers the post publishes, to the digits it prints."""
    v = mazur_by_hand(W)
    published = {
        "net_h1": 0.3775, "out_h1": 0.593269992, "out_h2": 0.596884378, "net_o1": 1.105905967, "out_o1": 0.75136507,
        "out_o2": 0.772928465, "E_total": 0.298371109, "dE_dout_o1": 0.74136507, "dout_o1_dnet_o1": 0.186815602,
        "dE_dw5": 0.082167041, "dEo1_dout_h1": 0.055399425, "dEo2_dout_h1": -0.019049119, "dE_dout_h1": 0.036350306,
        "dout_h1_dnet_h1": 0.241300709, "dE_dw1": 0.000438568,
    }
    for name, value in published.items():
        assert math.isclose(v[name], value, rel_tol=0, abs_tol=1.5e-9), name
    new = {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229, "w5": 0.35891648,
           "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}
    for name, value in new.items():
        assert math.isclose(v["new"][name], value, rel_tol=0, abs_tol=1.5e-8), name
    # "the total error ... down to 0.291027924" after the first round of backpropagation: the post
    # works it from its rounded new weights, so it agrees to 6 decimal places only.
    assert math.isclose(mazur_by_hand(v["new"])["E_total"], 0.291027924, abs_tol=5e-7)


def test_explain_json_is_the_worked_example(run, mazur):
    result = run(["explain", *MAZUR_ARGS, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    v = mazur
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)  # noqa: E731
    (row,) = doc["rows"]
    expected_row = {
        "x1": I1, "x2": I2, "y1": T1, "y2": T2, "z1": v["net_h1"], "z2": v["net_h2"], "N1": v["out_h1"], "N2": v["out_h2"],
        "a1": v["net_o1"], "a2": v["net_o2"], "yhat1": v["out_o1"], "yhat2": v["out_o2"],
        "error1": T1 - v["out_o1"], "error2": T2 - v["out_o2"],
        # the chain's factors: dL/dyhat (half-sse: factor 1), dyhat/da, dyhat/dN = dyhat/da * w, dN/dz
        "dL_dyhat1": v["dE_dout_o1"], "dL_dyhat2": v["dE_dout_o2"],
        "dyhat1_da1": v["dout_o1_dnet_o1"], "dyhat2_da2": v["dout_o2_dnet_o2"],
        "dyhat1_dN1": v["dout_o1_dnet_o1"] * W["w5"], "dyhat2_dN1": v["dout_o2_dnet_o2"] * W["w7"],
        "dyhat1_dN2": v["dout_o1_dnet_o1"] * W["w6"], "dyhat2_dN2": v["dout_o2_dnet_o2"] * W["w8"],
        "dL_dN1": v["dE_dout_h1"], "dL_dN2": v["dE_dout_h2"],
        "dN1_dz1": v["dout_h1_dnet_h1"], "dN2_dz2": v["dout_h2_dnet_h2"],
    }
    for key, value in expected_row.items():
        assert close(row[key], value), key
    assert close(doc["loss"], v["E_total"])
    for name in W:
        assert close(doc["gradients"][name], v[f"dE_d{name}"]), name
        assert close(doc["weights_after"][name], v["new"][name]), name
    for bias, value in (("b1", B_HIDDEN), ("b2", B_HIDDEN), ("b3", B_OUTPUT), ("b4", B_OUTPUT)):
        assert doc["weights_after"][bias] == value, "frozen: not updated"
    assert close(doc["loss_after"], mazur_by_hand(v["new"])["E_total"])
    assert (doc["outputs"], doc["output_activation"], doc["loss_convention"], doc["derivative_factor"]) == (2, "sigmoid", "half-sse", 1.0)
    assert doc["frozen"] == ["b1", "b2", "b3", "b4"] and doc["target"] == ["y1", "y2"]


def test_explain_prints_the_worked_example_to_every_digit(run, mazur):
    result = run(["explain", *MAZUR_ARGS])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    v = mazur
    p = {name: printed(value) for name, value in v.items() if isinstance(value, float)}
    lines = [
        f"z1 = w1*x1 + w2*x2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = {p['net_h1']}",
        f"N1 = sigmoid(z1) = sigmoid({p['net_h1']}) = {p['out_h1']}",
        f"yhat1 = sigmoid(a1) = sigmoid({p['net_o1']}) = {p['out_o1']}",
        f"yhat2 = sigmoid(a2) = sigmoid({p['net_o2']}) = {p['out_o2']}",
        f"y1 - yhat1 = 0.01 - {p['out_o1']} = {printed(T1 - v['out_o1'])}",
        f"= (1/2)*(({printed(T1 - v['out_o1'])})^2 + {printed(T2 - v['out_o2'])}^2) = {p['E_total']}",
        # The output weights: dE/dout_o1 * dout_o1/dnet_o1 * out_h1.
        f"dL/dw5 = sum_i dL/dyhat1_i * dyhat1_i/da1_i * da1_i/dw5 = sum_i dL/dyhat1_i * dyhat1_i/da1_i * N1_i = "
        f"{p['dE_dout_o1']}*{p['dout_o1_dnet_o1']}*{p['out_h1']} = {p['dE_dw5']}",
        # The hidden weights: the three factors, summed over the outputs, then multiplied.
        f"= sum_i (dL/dyhat1_i * dyhat1_i/dN1_i + dL/dyhat2_i * dyhat2_i/dN1_i) * dN1_i/dz1_i * dz1_i/dw1 = "
        f"sum_i (dL/dyhat1_i * yhat1_i*(1 - yhat1_i) * w5 + dL/dyhat2_i * yhat2_i*(1 - yhat2_i) * w7) * N1_i*(1 - N1_i) * x1_i = "
        f"({p['dE_dout_o1']}*{p['dout_o1_dnet_o1']}*0.4 + ({p['dE_dout_o2']})*{p['dout_o2_dnet_o2']}*0.5)"
        f"*{p['dout_h1_dnet_h1']}*0.05 = ",
        f"= {p['dE_dw1']}",
    ]
    for line in lines:
        assert line in out, line
    for name in W:
        update = rf"^\s*{name}\s+<- {name} - eta \* dL/d{name}\s+= {W[name]:g} - 0\.5\*\(?{re.escape(printed(v[f'dE_d{name}']))}\)?\s+= {re.escape(printed(v['new'][name]))}$"
        assert re.search(update, out, re.MULTILINE), name
    for bias, value in (("b1", "0.35"), ("b3", "0.6")):
        assert re.search(rf"^\s*{bias}\s+<- {bias}\s+= {value}\s+\(frozen: kept\)$", out, re.MULTILINE), bias
    assert f"L_before = {p['E_total']},  L_after = {printed(mazur_by_hand(v['new'])['E_total'])}" in out


def test_markdown_and_html_show_the_three_factors(run, mazur):
    md = flat(run(["explain", *MAZUR_ARGS, "--format", "markdown"]).stdout)
    v = mazur
    chain = (r"\frac{\partial L}{\partial \hat{y}_{1,i}} \frac{\partial \hat{y}_{1,i}}{\partial N_{1,i}} + "
             r"\frac{\partial L}{\partial \hat{y}_{2,i}} \frac{\partial \hat{y}_{2,i}}{\partial N_{1,i}} \right) "
             r"\frac{\partial N_{1,i}}{\partial z_{1,i}} \frac{\partial z_{1,i}}{\partial w_1}")
    assert chain in md
    numbers = (rf"\left( {printed(v['dE_dout_o1'])} \cdot {printed(v['dout_o1_dnet_o1'])} \cdot 0.4 + "
               rf"({printed(v['dE_dout_o2'])}) \cdot {printed(v['dout_o2_dnet_o2'])} \cdot 0.5 \right) \cdot "
               rf"{printed(v['dout_h1_dnet_h1'])} \cdot 0.05")
    assert numbers in md
    assert rf"b_1 \leftarrow b_1 = 0.35 \quad (\text{{frozen: kept}})$$" in md
    page = run(["explain", *MAZUR_ARGS, "--format", "html"]).stdout
    assert f"<mn>{printed(v['dout_h1_dnet_h1'])}</mn>" in page and "<mtext>frozen: kept</mtext>" in page
    assert ('<mfrac><mrow><mo>∂</mo><msub><mover accent="true"><mi>y</mi><mo>^</mo></mover><mrow><mn>1</mn><mo>,</mo>'
            "<mi>i</mi></mrow></msub></mrow><mrow><mo>∂</mo><msub><mi>N</mi><mrow><mn>1</mn><mo>,</mo><mi>i</mi></mrow>") in page


# --- the lecture's network: the three factors and the loss conventions ----------------------------

TINY_CSV = "x1,x2,x3,y\n1,2,0,1\n2,0,1,0\n"
TINY_WEIGHTS = {"w1": 0.5, "w2": -1.0, "w3": 0.0, "w4": 1.0, "w5": 0.0, "w6": 2.0,
                "w7": 1.0, "w8": -1.0, "b1": 0.0, "b2": 1.0, "b3": 0.5}


@pytest.fixture
def tiny(workdir):
    (workdir / "tiny.csv").write_text(TINY_CSV)
    (workdir / "tiny.json").write_text(json.dumps(TINY_WEIGHTS))
    return ["tiny.csv", "--init", "tiny.json", "--lr", "0.1"]


def test_the_lectures_hidden_gradient_names_and_values_its_three_factors(run, tiny):
    out = run(["explain", *tiny]).stdout
    # dL/dyhat_i = -(y_i - yhat_i) = -4, -3.5 (the tiny example of test_explain); dyhat/dN1 = w7 = 1, dN1/dw1 = x1_i = 1, 2.
    assert ("dL/dw1 = sum_i dL/dN1_i * dN1_i/dw1 = sum_i dL/dyhat_i * dyhat_i/dN1_i * dN1_i/dw1 = "
            "sum_i dL/dyhat_i * w7 * x1_i = (-4)*1*1 + (-3.5)*1*2 = sum_i dL/dN1_i * x1_i = (-4)*1 + (-3.5)*2 = -11") in out
    # w8 = -1 feeds N2's chain.
    assert "sum_i dL/dyhat_i * w8 * x3_i = (-4)*(-1)*0 + (-3.5)*(-1)*1 = " in out
    doc = json.loads(run(["explain", *tiny, "--format", "json"]).stdout)
    assert [row["dyhat_dN1"] for row in doc["rows"]] == [1.0, 1.0] and [row["dyhat_dN2"] for row in doc["rows"]] == [-1.0, -1.0]


@pytest.mark.parametrize("convention, divisor, factor", [
    ("mse", 2, "(2/n) (y_i - yhat_i) = -(2/2)"), ("half-mse", 4, "(1/n) (y_i - yhat_i) = -(1/2)"),
    ("sse", 1, "-2 (y_i - yhat_i)"), ("half-sse", 2, "-1 (y_i - yhat_i)"),
])
def test_each_loss_convention_has_its_own_derivative_factor(run, tiny, convention, divisor, factor):
    """L = (sum of squared errors) / d: d = n, 2n, 1, 2 for n = 2 rows; dL/dyhat_i = -(2/d)(y_i - yhat_i)."""
    doc = json.loads(run(["explain", *tiny, "--loss", convention, "--format", "json"]).stdout)
    errors = [4.0, 3.5]  # y - yhat of the tiny example, by hand in test_explain
    assert doc["loss"] == pytest.approx((16 + 12.25) / divisor, rel=1e-15)
    assert [row["dL_dyhat"] for row in doc["rows"]] == pytest.approx([-2 / divisor * e for e in errors], rel=1e-15)
    # dL/dw1 = sum_i dL/dyhat_i * w7 * x1_i with w7 = 1, x1 = 1, 2.
    assert doc["gradients"]["w1"] == pytest.approx(-2 / divisor * (4 * 1 + 3.5 * 2), rel=1e-15)
    assert doc["weights_after"]["w1"] == pytest.approx(0.5 + 0.1 * 2 / divisor * 11, rel=1e-15)
    out = run(["explain", *tiny, "--loss", convention]).stdout
    assert f"dL/dyhat_i = {'-' if convention.endswith('mse') else ''}{factor}" in out
    if convention != "mse":
        assert f"(--loss {convention})" in out and f"is c = {({'half-mse': '(1/n)', 'sse': '2', 'half-sse': '1'})[convention]}" in out


def test_no_bias_drops_every_bias(run, tiny, workdir):
    weights = {name: value for name, value in TINY_WEIGHTS.items() if name.startswith("w")}
    (workdir / "nobias.json").write_text(json.dumps(weights))
    doc = json.loads(run(["explain", "tiny.csv", "--init", "nobias.json", "--lr", "0.1", "--no-bias", "--format", "json"]).stdout)
    # Row 1, x = (1, 2, 0): N1 = 0.5 - 2 = -1.5, N2 = 1, yhat = -1.5 - 1 = -2.5; row 2, x = (2, 0, 1): N1 = 1, N2 = 2 + 2 = 4, yhat = 1 - 4 = -3.
    assert [(row["N1"], row["N2"], row["yhat"]) for row in doc["rows"]] == [(-1.5, 1.0, -2.5), (1.0, 4.0, -3.0)]
    assert list(doc["gradients"]) == [f"w{i}" for i in range(1, 9)] and doc["bias"] is False
    # dL/dyhat_i = -(2/2)(y_i - yhat_i) = -3.5, -3; dL/dw7 = sum_i dL/dyhat_i * N1_i = 5.25 - 3.
    assert doc["gradients"]["w7"] == pytest.approx(-3.5 * -1.5 + -3.0 * 1.0, rel=1e-15)
    out = run(["explain", "tiny.csv", "--init", "nobias.json", "--lr", "0.1", "--no-bias"]).stdout
    assert "N1 = w1*x1 + w2*x2 + w3*x3,  N2 = w4*x1 + w5*x2 + w6*x3,  yhat = w7*N1 + w8*N2" in out
    assert "without biases" in out and "b1" not in out


def test_several_outputs_without_biases_against_finite_differences(run, workdir):
    """A 2-3-2 network, tanh hidden, tanh outputs, no biases, the sum of squares: every gradient
    explain shows against the oracle's central differences of the loss."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(6, 2))
    Y = np.column_stack([np.sin(X[:, 0]), X[:, 0] * X[:, 1]])
    lines = ["a,b,t,u"] + [",".join(repr(v) for v in (*x, *t)) for x, t in zip(X.tolist(), Y.tolist())]
    (workdir / "two.csv").write_text("\n".join(lines) + "\n")
    args = ["two.csv", "--features", "a,b", "--target", "t,u", "--hidden", "3", "--activation", "tanh",
            "--output-activation", "tanh", "--no-bias", "--loss", "sse", "--lr", "0.05", "--seed", "2"]
    doc = json.loads(run(["explain", *args, "--format", "json"]).stdout)
    names = [f"w{i}" for i in range(1, 13)]  # 2*3 hidden weights, then 3 for output 1 and 3 for output 2
    assert list(doc["gradients"]) == names

    shape = oracle.Shape(2, 3, 2, "tanh", "tanh", bias=False)
    w = doc["weights"]
    assert doc["loss"] == pytest.approx(oracle.loss(w, X, Y, shape, "sse"), rel=1e-13)
    numeric, bound = oracle.central_differences(w, X, Y, shape, "sse")
    for name in names:
        assert abs(doc["gradients"][name] - numeric[name]) <= bound[name], name
    md = flat(run(["explain", *args, "--format", "markdown"]).stdout)
    assert r"\hat{y}_1 &= \tanh(w_7 N_1 + w_8 N_2 + w_9 N_3)" in run(["explain", *args, "--format", "markdown"]).stdout
    assert r"$t$" not in md and "$y_1$ is column `t`, $y_2$ is column `u`" in md


def test_several_targets_take_train_s_step_and_z_scores(run, workdir):
    """Without --lr, explain takes the step train takes; --standardize scales every target column."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2)) * [1.0, 2.0]
    Y = np.column_stack([X[:, 0] - 0.2 * X[:, 1], 3.0 + X[:, 0] * 0.5])
    lines = ["x1,x2,y1,y2"] + [",".join(map(repr, [*x, *t])) for x, t in zip(X.tolist(), Y.tolist())]
    (workdir / "two.csv").write_text("\n".join(lines) + "\n")
    args = ["two.csv", "--features", "x1,x2", "--target", "y1,y2", "--format", "json"]
    trained = run(["train", *args, "--epochs", "1", "--no-save"])
    explained = run(["explain", *args])
    assert trained.exit_code == 0 and explained.exit_code == 0, trained.stderr + explained.stderr
    assert json.loads(explained.stdout)["lr"] == json.loads(trained.stdout)["lr"]
    scaled = json.loads(run(["explain", *args, "--standardize", "--rows", "30"]).stdout)
    for target in ("y1", "y2"):
        column = np.array([row[target] for row in scaled["rows"]])
        assert abs(column.mean()) < 1e-12 and column.std() == pytest.approx(1.0, rel=1e-12)
    adam = run(["explain", *args, "--optimizer", "adam"])
    assert adam.exit_code == 0 and json.loads(adam.stdout)["lr"] == 0.001, "Adam's step is its own"


# --- updates in order: --epoch K --step S -------------------------------------------------------

def _data(workdir, n=7, seed=5):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3
    (workdir / "d.csv").write_text(csv_text(X, y))
    return X, y


def _start(workdir):
    weights = dict(zip(NAMES, np.random.default_rng(9).uniform(-0.5, 0.5, size=11).tolist()))
    (workdir / "w.json").write_text(json.dumps(weights))
    return Parameters.from_dict(weights)


def test_a_step_of_per_example_updates_in_file_order_is_the_unrolled_loop(run, workdir):
    """--batch-size 1 --no-shuffle: the rows one at a time, in the file's order, every epoch."""
    X, y = _data(workdir, n=5)
    params, lr = _start(workdir), 0.05
    # Epoch 1 all five rows, then epoch 2's rows 1, 2, 3: gradient descent by hand, one row at a time.
    for row in [0, 1, 2, 3, 4, 0, 1, 2]:
        grads = backward(params, X[[row]], y[[row]], forward(params, X[[row]])).gradients
        params = params.like(params.vector - lr * grads.vector)
    doc = json.loads(run(["explain", "d.csv", "--init", "w.json", "--lr", lr, "--batch-size", 1, "--no-shuffle",
                          "--epoch", 2, "--step", 4, "--format", "json"]).stdout)
    assert doc["weights"] == pytest.approx(params.as_dict(), rel=1e-13, abs=1e-15)
    assert [row["row"] for row in doc["rows"]] == [4] and doc["batch"]["step"] == 4 and doc["batch"]["steps"] == 5
    grads = backward(params, X[[3]], y[[3]], forward(params, X[[3]])).gradients
    assert doc["gradients"] == pytest.approx(grads.as_dict(), rel=1e-12, abs=1e-15)
    assert doc["weights_after"] == pytest.approx((params.like(params.vector - lr * grads.vector)).as_dict(), rel=1e-12, abs=1e-15)


def test_a_step_with_momentum_replays_the_velocity_in_trains_shuffled_order(run, workdir):
    """--batch-size 3 on 7 rows: batches of 3, 3, 1 in the order default_rng([1, seed, epoch])
    draws (the README's stream); momentum's velocity carried over every step before."""
    X, y = _data(workdir)
    params, lr, mu, seed = _start(workdir), 0.1, 0.8, 4
    v = np.zeros(11)
    batches = []
    for epoch in (1, 2, 3):
        order = np.random.default_rng([1, seed, epoch]).permutation(7)
        batches += [(epoch, order[first:first + 3]) for first in range(0, 7, 3)]
    explained = batches.index(next(b for b in batches if b[0] == 3)) + 1  # epoch 3's step 2
    for _, rows in batches[:explained]:
        g = backward(params, X[rows], y[rows], forward(params, X[rows])).gradients.vector
        v = mu * v - lr * g  # v <- mu v - eta g
        params = params.like(params.vector + v)  # w <- w + v
    rows = batches[explained][1]
    doc = json.loads(run(["explain", "d.csv", "--init", "w.json", "--lr", lr, "--batch-size", 3, "--seed", seed,
                          "--optimizer", "momentum", "--momentum", mu, "--epoch", 3, "--step", 2, "--format", "json"]).stdout)
    assert [row["row"] - 1 for row in doc["rows"]] == rows.tolist(), "the batch's rows in the order visited"
    assert doc["weights"] == pytest.approx(params.as_dict(), rel=1e-12, abs=1e-15)
    assert list(doc["optimizer"]["before"]["v"].values()) == pytest.approx(v.tolist(), rel=1e-12, abs=1e-15)
    g = backward(params, X[rows], y[rows], forward(params, X[rows])).gradients.vector
    v_after = mu * v - lr * g
    assert list(doc["optimizer"]["after"]["v"].values()) == pytest.approx(v_after.tolist(), rel=1e-12, abs=1e-15)
    assert list(doc["weights_after"].values()) == pytest.approx((params.vector + v_after).tolist(), rel=1e-12, abs=1e-15)
    assert doc["optimizer"]["t"] == explained + 1


def test_a_step_beyond_the_epoch_is_a_usage_error_naming_its_updates(run, workdir):
    _data(workdir)
    result = run(["explain", "d.csv", "--lr", "0.1", "--batch-size", 3, "--step", 4])
    assert result.exit_code == 2 and result.stdout == ""
    assert "epoch 1 makes 3 updates, so there is no step 4" in result.stderr and "--step 3 or less" in result.stderr
    full = run(["explain", "d.csv", "--lr", "0.1", "--step", 2])
    assert full.exit_code == 2 and "makes 1 update" in full.stderr and "--batch-size" in full.stderr


# --- the next lecture's optimizers: explain's numbers against the textbook equations ---------------

def _two_epochs(hand, rule):
    """The tiny example's weights, optimizer state before and after epoch 2's update, by the
    textbook equations of `rule`, and epoch 2's gradient: (w1, g2, before, after, w2)."""
    X = np.array([[1.0, 2, 0], [2, 0, 1]])
    y = np.array([1.0, 0.0])
    lr, mu, b1, b2, eps = 0.07, 0.9, 0.9, 0.999, 1e-8
    w = dict(TINY_WEIGHTS)
    state = {name: {"v": 0.0, "m": 0.0, "s": 0.0} for name in NAMES}
    for t in (1, 2):
        g = hand.gradients(w, X, y)
        before = {name: dict(state[name]) for name in NAMES}
        new = {}
        for name in NAMES:
            s = state[name]
            if rule in ("momentum", "nesterov"):
                s["v"] = mu * s["v"] - lr * g[name]
                new[name] = w[name] + (s["v"] if rule == "momentum" else mu * s["v"] - lr * g[name])
            else:
                s["m"] = b1 * s["m"] + (1 - b1) * g[name]
                s["s"] = b2 * s["s"] + (1 - b2) * g[name] ** 2
                s["mhat"], s["shat"] = s["m"] / (1 - b1**t), s["s"] / (1 - b2**t)
                new[name] = w[name] - lr * s["mhat"] / (math.sqrt(s["shat"]) + eps)
        start, w = w, new
    return start, g, before, state, w


@pytest.mark.parametrize("rule", ["momentum", "nesterov", "adam"])
def test_optimizer_numbers_are_the_textbook_update(run, tiny, hand, rule):
    tiny = [*tiny[:-1], "0.07"]  # eta = 0.07: no printed number of these steps sits on a rounding tie
    doc = json.loads(run(["explain", *tiny, "--optimizer", rule, "--epoch", 2, "--format", "json"]).stdout)
    start, g, before, after, new = _two_epochs(hand, rule)
    assert doc["weights"] == pytest.approx(start, rel=1e-13)
    assert doc["weights_after"] == pytest.approx(new, rel=1e-12)
    assert doc["optimizer"]["t"] == 2
    states = ("v",) if rule != "adam" else ("m", "s")
    for state in states:
        assert doc["optimizer"]["before"][state] == pytest.approx({n: before[n][state] for n in NAMES}, rel=1e-12)
        assert doc["optimizer"]["after"][state] == pytest.approx({n: after[n][state] for n in NAMES}, rel=1e-12)
    out = run(["explain", *tiny, "--optimizer", rule, "--epoch", 2]).stdout
    gp, neg = printed(g["w1"]), lambda x: f"({printed(x)})" if x < 0 else printed(x)  # noqa: E731
    if rule == "adam":
        s = after["w1"]
        expected = [
            rf"m_w1\s+<- beta1\*m_w1 \+ \(1 - beta1\) \* dL/dw1\s+= 0\.9\*{re.escape(neg(before['w1']['m']))} \+ \(1 - 0\.9\)\*{re.escape(neg(g['w1']))}\s+= {re.escape(printed(s['m']))}$",
            rf"s_w1\s+<- beta2\*s_w1 \+ \(1 - beta2\) \* \(dL/dw1\)\^2\s+= 0\.999\*{re.escape(neg(before['w1']['s']))} \+ \(1 - 0\.999\)\*{re.escape(neg(g['w1']))}\^2\s+= {re.escape(printed(s['s']))}$",
            rf"mhat_w1\s+= \(m_w1/\(1 - beta1\^t\)\)\s+= \({re.escape(printed(s['m']))}/\(1 - 0\.9\^2\)\)\s+= {re.escape(printed(s['mhat']))}$",
            rf"shat_w1\s+= \(s_w1/\(1 - beta2\^t\)\)\s+= \({re.escape(printed(s['s']))}/\(1 - 0\.999\^2\)\)\s+= {re.escape(printed(s['shat']))}$",
            rf"w1\s+<- w1 - eta \* \(mhat_w1/\(sqrt\(shat_w1\) \+ epsilon\)\)\s+= {re.escape(printed(start['w1']))} - 0\.07 \* \({re.escape(printed(s['mhat']))}/\(sqrt\({re.escape(printed(s['shat']))}\) \+ 1e-08\)\)\s+= {re.escape(printed(new['w1']))}$",
        ]
        assert "this is update t = 2 of the run" in out
    else:
        v0, v = before["w1"]["v"], after["w1"]["v"]
        expected = [rf"v_w1\s+<- mu\*v_w1 - eta \* dL/dw1\s+= 0\.9\*{re.escape(neg(v0))} - 0\.07\*{re.escape(neg(g['w1']))}\s+= {re.escape(printed(v))}$"]
        if rule == "momentum":
            expected.append(rf"w1\s+<- w1 \+ v_w1\s+= {re.escape(neg(start['w1']))} \+ {re.escape(neg(v))}\s+= {re.escape(printed(new['w1']))}$")
        else:
            expected.append(rf"w1\s+<- w1 \+ mu\*v_w1 - eta \* dL/dw1\s+= {re.escape(neg(start['w1']))} \+ 0\.9\*{re.escape(neg(v))} - 0\.07\*{re.escape(neg(g['w1']))}\s+= {re.escape(printed(new['w1']))}$")
    for pattern in expected:
        assert re.search(r"^\s*" + pattern, out, re.MULTILINE), pattern
    assert gp in out


def test_a_frozen_parameter_keeps_its_value_and_its_velocity_stays_zero(run, tiny, hand):
    doc = json.loads(run(["explain", *tiny, "--optimizer", "momentum", "--freeze", "w1,b3", "--epoch", 3, "--format", "json"]).stdout)
    assert doc["weights"]["w1"] == 0.5 and doc["weights_after"]["w1"] == 0.5 and doc["weights_after"]["b3"] == 0.5
    assert doc["optimizer"]["after"]["v"]["w1"] == 0.0 and doc["optimizer"]["after"]["v"]["b3"] == 0.0
    assert doc["gradients"]["w1"] == pytest.approx(hand.gradients(doc["weights"], np.array([[1.0, 2, 0], [2, 0, 1]]), np.array([1.0, 0]))["w1"], rel=1e-12)
    out = run(["explain", *tiny, "--optimizer", "momentum", "--freeze", "w1,b3", "--epoch", 3]).stdout
    assert re.search(r"^\s*w1\s+<- w1\s+= 0\.5\s+\(frozen: kept\)$", out, re.MULTILINE)
    assert "v_w1" not in out and "for the 9 parameters not frozen (of 11)" in out
    bad = run(["explain", *tiny, "--freeze", "w9"])
    assert bad.exit_code == 2 and "the network has no parameter w9" in bad.stderr


@pytest.mark.parametrize("options", [
    ["--optimizer", "adam"], ["--optimizer", "nesterov", "--loss", "half-mse"], ["--loss", "sse", "--optimizer", "momentum"],
])
def test_every_new_equation_is_well_formed_mathml(run, mazur, options):
    import xml.etree.ElementTree as ET

    result = run(["explain", *MAZUR_ARGS, *options, "--format", "html"])
    assert result.exit_code == 0, result.stderr
    blocks = re.findall(r"<math[^>]*>.*?</math>", result.stdout, re.S)
    assert len(blocks) > 40
    for block in blocks:
        ET.fromstring(block.replace("&#x2061;", "").replace("&#x2062;", "").replace("&#xA0;", " "))
    assert "<msqrt>" in result.stdout or options[1] != "adam"
