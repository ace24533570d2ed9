"""`fwdback explain`: one epoch worked by hand, checked against the engine and against arithmetic.

The tiny example's expected values are worked out by hand in the comments and written as
plain arithmetic; the random-data tests compare with network.forward/backward/update and
with the lecture's formulas written out by name (the `hand` fixture).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import oracle
from conftest import flat

from fwdback.data import load_dataset
from fwdback.explain import work_epoch
from fwdback.reports.explain import explanation
from fwdback.reports.explain_json import explain_document
from fwdback.network import backward, forward, init_parameters, mse_loss, update
from fwdback.notation import Num, number
from fwdback.plan import TrainingPlan
from fwdback.render.markdown import markdown
from fwdback.training import fit_rows, prepare, resolve

BOX_CHARS = set("─│╭╮╰╯┃━┏┓┗┛┡┩╇═║")
LATEX_NAMES = {
    "w1": "w_1", "w2": "w_2", "w3": "w_3", "w4": "w_4", "w5": "w_5", "w6": "w_6",
    "w7": "w_7", "w8": "w_8", "b1": "b_1", "b2": "b_2", "b3": "b_3",
}

# The tiny example: two rows and weights simple enough to work everything out by hand.
TINY_CSV = "x1,x2,x3,y\n1,2,0,1\n2,0,1,0\n"
TINY_WEIGHTS = {
    "w1": 0.5, "w2": -1.0, "w3": 0.0, "w4": 1.0, "w5": 0.0, "w6": 2.0,
    "w7": 1.0, "w8": -1.0, "b1": 0.0, "b2": 1.0, "b3": 0.5,
}
TINY_LR = 0.1


@pytest.fixture
def tiny(workdir):
    (workdir / "tiny.csv").write_text(TINY_CSV)
    (workdir / "tiny-init.json").write_text(json.dumps(TINY_WEIGHTS))
    return ["tiny.csv", "--init", "tiny-init.json", "--lr", TINY_LR]


def explain_json(run, args) -> dict:
    """explain's JSON, with the lecture's learning rate 0.05 unless the test gives one."""
    lr = [] if "--lr" in args else ["--lr", 0.05]
    result = run(["explain", *args, *lr, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def work(X, y, params, lr, epoch=1, **settings):
    """work_epoch on the raw rows X, y with learning rate lr (and TrainingPlan `settings`)."""
    plan = TrainingPlan(lr=lr, standardize=False, **settings)
    prepared = prepare(X, y, plan)
    return work_epoch(prepared, params, resolve(plan, prepared, params), epoch)


def trained(X, y, initial, lr, epochs, **settings):
    """The weights after `epochs` epochs, every one of them run."""
    plan = TrainingPlan(lr=lr, epochs=epochs, tol=0, standardize=False, **settings)
    return fit_rows(prepare(X, y, plan), initial, plan).result.final


# --- (b) the tiny example, by hand ---------------------------------------------------------


def test_tiny_example_matches_the_hand_calculation(run, tiny):
    doc = explain_json(run, tiny)
    row1, row2 = doc["rows"]
    # Row 1, x = (1, 2, 0), y = 1:
    #   N1 = 0.5*1 + (-1)*2 + 0*0 + 0 = -1.5,  N2 = 1*1 + 0*2 + 2*0 + 1 = 2
    #   yhat = 1*(-1.5) + (-1)*2 + 0.5 = -3,   y - yhat = 4
    assert (row1["N1"], row1["N2"], row1["yhat"], row1["error"]) == (-1.5, 2.0, -3.0, 4.0)
    # Row 2, x = (2, 0, 1), y = 0:
    #   N1 = 0.5*2 + 0 + 0 + 0 = 1,  N2 = 1*2 + 0 + 2*1 + 1 = 5,  yhat = 1 - 5 + 0.5 = -3.5,  y - yhat = 3.5
    assert (row2["N1"], row2["N2"], row2["yhat"], row2["error"]) == (1.0, 5.0, -3.5, 3.5)
    # L = (4^2 + 3.5^2) / 2 = (16 + 12.25) / 2
    assert doc["loss"] == 14.125
    # dL/dyhat_i = -(2/2)(y_i - yhat_i) = -4, -3.5; dL/dN1_i = that * w7 (= 1); dL/dN2_i = that * w8 (= -1)
    assert [row1["dL_dyhat"], row2["dL_dyhat"]] == [-4.0, -3.5]
    assert [row1["dL_dN1"], row2["dL_dN1"]] == [-4.0, -3.5]
    assert [row1["dL_dN2"], row2["dL_dN2"]] == [4.0, 3.5]
    expected_gradients = {
        "w7": (-4) * (-1.5) + (-3.5) * 1,  # sum dL/dyhat_i * N1_i = 2.5
        "w8": (-4) * 2 + (-3.5) * 5,  # -25.5
        "b3": -4 + -3.5,  # -7.5
        "w1": (-4) * 1 + (-3.5) * 2,  # sum dL/dN1_i * x1_i = -11
        "w2": (-4) * 2 + (-3.5) * 0,  # -8
        "w3": (-4) * 0 + (-3.5) * 1,  # -3.5
        "w4": 4 * 1 + 3.5 * 2,  # sum dL/dN2_i * x1_i = 11
        "w5": 4 * 2 + 3.5 * 0,  # 8
        "w6": 4 * 0 + 3.5 * 1,  # 3.5
        "b1": -4 + -3.5,  # -7.5
        "b2": 4 + 3.5,  # 7.5
    }
    assert doc["gradients"] == pytest.approx(expected_gradients, abs=1e-12)
    # w <- w - 0.1 * dL/dw
    expected_after = {
        "w1": 1.6, "w2": -0.2, "w3": 0.35, "w4": -0.1, "w5": -0.8, "w6": 1.65,
        "w7": 0.75, "w8": 1.55, "b1": 0.75, "b2": 0.25, "b3": 1.25,
    }
    assert doc["weights_after"] == pytest.approx(expected_after, abs=1e-12)
    # After the update: row 1 N1 = 1.6 - 0.4 + 0.75 = 1.95, N2 = -0.1 - 1.6 + 0.25 = -1.45,
    #   yhat = 0.75*1.95 + 1.55*(-1.45) + 1.25 = 0.465, error 0.535;
    # row 2 N1 = 3.2 + 0.35 + 0.75 = 4.3, N2 = -0.2 + 1.65 + 0.25 = 1.7,
    #   yhat = 0.75*4.3 + 1.55*1.7 + 1.25 = 7.11, error -7.11.
    assert doc["loss_after"] == pytest.approx((0.535**2 + 7.11**2) / 2, rel=1e-12)
    assert doc["weights"] == TINY_WEIGHTS
    # The seed is reported with --init too: it still draws the shuffles and the split.
    assert (doc["epoch"], doc["lr"], doc["n"], doc["init"], doc["seed"]) == (1, TINY_LR, 2, "tiny-init.json", 0)


def test_tiny_example_markdown_shows_the_hand_arithmetic(run, tiny):
    result = run(["explain", *tiny, "--format", "markdown"])
    assert result.exit_code == 0, result.stderr
    md = flat(result.stdout)
    expected = [
        r"N_1 = w_1 x_1 + w_2 x_2 + w_3 x_3 + b_1 = 0.5 \cdot 1 + (-1) \cdot 2 + 0 \cdot 0 + 0 = -1.5",
        r"\hat{y} = w_7 N_1 + w_8 N_2 + b_3 = 1 \cdot (-1.5) + (-1) \cdot 2 + 0.5 = -3",
        r"y - \hat{y} = 1 - (-3) = 4",
        r"\left( 4^2 + 3.5^2 \right) = 14.125",
        r"= (-4) \cdot (-1.5) + (-3.5) \cdot 1 = 2.5$$",
        r"x_{1,i} = (-4) \cdot 1 + (-3.5) \cdot 2 = -11$$",
        r"= (-4) + (-3.5) = -7.5$$",
        r"w_1 \leftarrow w_1 - \eta \frac{\partial L}{\partial w_1} = 0.5 - 0.1 \cdot (-11) = 1.6$$",
        r"w_8 \leftarrow w_8 - \eta \frac{\partial L}{\partial w_8} = -1 - 0.1 \cdot (-25.5) = 1.55$$",
        r"L_{\text{before}} = 14.125, \quad L_{\text{after}} = 25.4192",
        # (0.535^2 + 7.11^2) / 2 - 14.125 = 25.4191625 - 14.125: the loss went up
        r"L_{\text{after}} - L_{\text{before}} = 11.2942",
    ]
    for text in expected:
        assert text in md
    assert r"\cdots" not in md, "with every row shown, every sum is written out in full"
    assert "did not go down" in md


# --- (a) the engine's own results --------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_json_equals_the_engine(run, small_csv, seed, hand, names):
    doc = explain_json(run, [small_csv, "--seed", seed, "--lr", "0.03"])
    dataset = load_dataset(small_csv)
    X, y = dataset.X, dataset.y
    params = init_parameters(np.random.default_rng(seed))
    fwd = forward(params, X)
    grads = backward(params, X, y, fwd).gradients
    after = update(params, grads, 0.03)

    assert doc["weights"] == params.as_dict()
    assert doc["loss"] == mse_loss(y, fwd.yhat)
    assert doc["gradients"] == grads.as_dict()
    assert doc["weights_after"] == after.as_dict()
    assert doc["loss_after"] == mse_loss(y, forward(after, X).yhat)
    assert [row["row"] for row in doc["rows"]] == list(range(1, len(y) + 1))
    rows = {key: np.array([row[key] for row in doc["rows"]]) for key in doc["rows"][0]}
    assert np.array_equal(np.column_stack([rows["x1"], rows["x2"], rows["x3"]]), X)
    assert np.array_equal(rows["y"], y)
    assert np.array_equal(rows["N1"], fwd.N[0]) and np.array_equal(rows["N2"], fwd.N[1])
    assert np.array_equal(rows["yhat"], fwd.yhat)
    assert np.array_equal(rows["error"], y - fwd.yhat)

    # The per-row links of the chain, against the lecture's formulas, and summed into the gradients.
    n = len(y)
    np.testing.assert_allclose(rows["dL_dyhat"], -2.0 / n * (y - fwd.yhat), rtol=1e-13)
    np.testing.assert_allclose(rows["dL_dN1"], rows["dL_dyhat"] * params.as_dict()["w7"], rtol=1e-13)
    np.testing.assert_allclose(rows["dL_dN2"], rows["dL_dyhat"] * params.as_dict()["w8"], rtol=1e-13)
    sums = {
        "w7": rows["dL_dyhat"] @ rows["N1"], "w8": rows["dL_dyhat"] @ rows["N2"], "b3": rows["dL_dyhat"].sum(),
        "w1": rows["dL_dN1"] @ rows["x1"], "w2": rows["dL_dN1"] @ rows["x2"], "w3": rows["dL_dN1"] @ rows["x3"],
        "w4": rows["dL_dN2"] @ rows["x1"], "w5": rows["dL_dN2"] @ rows["x2"], "w6": rows["dL_dN2"] @ rows["x3"],
        "b1": rows["dL_dN1"].sum(), "b2": rows["dL_dN2"].sum(),
    }
    by_hand = hand.gradients(doc["weights"], X, y)
    for name in names:
        assert math.isclose(sums[name], doc["gradients"][name], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(by_hand[name], doc["gradients"][name], rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(hand.loss(doc["weights"], X, y), doc["loss"], rel_tol=1e-13)


def test_work_epoch_holds_the_lectures_values(linear_rows, hand, names):
    X, y = linear_rows(9, seed=3)
    params = init_parameters(np.random.default_rng(11))
    worked = work(X, y, params, 0.07)
    w = params.as_dict()
    N1, N2, yhat = hand.forward(w, X[:, 0], X[:, 1], X[:, 2])
    np.testing.assert_allclose(worked.forward.N, [N1, N2], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(worked.forward.yhat, yhat, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(worked.error, y - yhat, rtol=1e-13, atol=1e-15)
    assert math.isclose(worked.loss, hand.loss(w, X, y), rel_tol=1e-13)
    expected = hand.gradients(w, X, y)
    after = {name: w[name] - 0.07 * expected[name] for name in names}
    for name in names:
        assert math.isclose(worked.gradients.as_dict()[name], expected[name], rel_tol=1e-12, abs_tol=1e-15), name
        assert math.isclose(worked.new_params.as_dict()[name], after[name], rel_tol=1e-12, abs_tol=1e-15), name
    assert math.isclose(worked.loss_after, hand.loss(after, X, y), rel_tol=1e-12)
    document = explain_document(worked, ("x1", "x2", "x3"))
    assert json.loads(json.dumps(document)) == document, "floats survive JSON exactly"


# --- (d) --epoch K ---------------------------------------------------------------------------


def test_epoch_3_is_two_epochs_of_training_then_one_explained(run, small_csv):
    doc = explain_json(run, [small_csv, "--epoch", 3, "--seed", 5])
    dataset = load_dataset(small_csv)
    initial = init_parameters(np.random.default_rng(5))
    start = trained(dataset.X, dataset.y, initial, 0.05, 2)
    worked = work(dataset.X, dataset.y, start, 0.05)
    assert doc["epoch"] == 3
    assert doc["weights"] == start.as_dict()
    assert doc["gradients"] == worked.gradients.as_dict()
    assert doc["weights_after"] == worked.new_params.as_dict()

    # ... and it is the third epoch that `train` runs.
    result = run(["train", small_csv, "--epochs", 3, "--lr", 0.05, "--seed", 5, "--quiet", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    with open("m.json", encoding="utf-8") as stream:
        model = json.load(stream)
    assert doc["weights_after"] == model["weights"]
    assert doc["loss_after"] == model["training"]["final_loss"]


def test_epoch_1_trains_nothing(linear_rows):
    X, y = linear_rows(5)
    params = init_parameters(np.random.default_rng(0))
    assert np.array_equal(work(X, y, params, 0.05, 1).params.vector, params.vector)


# --- (c) markdown ----------------------------------------------------------------------------


def _markdown(seed=0, scale=1.0, rows=5, n=30):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 3)) * scale
    y = (X @ np.array([2.0, -3.0, 0.5]) + 1.0) * scale
    worked = work(X, y, init_parameters(np.random.default_rng(seed)), 0.05)
    return worked, flat(markdown(explanation(worked, ("x1", "x2", "x3"), rows, source="data.csv", start=("random, seed 0",))))


def test_markdown_has_a_gradient_and_an_update_equation_for_all_11_parameters(names):
    worked, md = _markdown()
    lines = md.splitlines()
    gradients = worked.gradients.as_dict()
    new = worked.new_params.as_dict()
    for name in names:
        symbol = LATEX_NAMES[name]
        gradient_lines = [line for line in lines if line.startswith(rf"$$\frac{{\partial L}}{{\partial {symbol}}} = ")]
        assert len(gradient_lines) == 1, name
        assert gradient_lines[0].endswith(f"= {number(gradients[name])}$$")
        update_lines = [line for line in lines if line.startswith(rf"$${symbol} \leftarrow {symbol} - \eta")]
        assert len(update_lines) == 1, name
        assert update_lines[0].endswith(f"= {number(new[name])}$$")
    for heading in ("## 1. Forward pass", "## 2. Loss", "## 3. Backward", "## 4. Backward", "## 5. Update", "## 6."):
        assert any(line.startswith(heading) for line in lines), heading
    assert r"\times 10" not in md
    assert md.count("$$") % 2 == 0 and all(line.count("$") % 2 == 0 for line in lines)


def test_markdown_shows_the_chosen_rows_and_elides_long_sums():
    worked, md = _markdown(rows=2, n=30)
    assert "**Row 2:**" in md and "**Row 3:**" not in md
    assert r"\cdots" in md
    assert "rows 1 to 2 of 30" in md


def test_markdown_writes_tiny_numbers_in_e_notation_never_times_ten():
    _, md = _markdown(scale=1e-7)
    assert re.search(r"\d\.\d+e-\d\d", md), "e-notation like 1.23457e-08"
    assert r"\times" not in md and "10^" not in md


# --- (e) the table format --------------------------------------------------------------------


def test_table_is_plain_and_names_every_parameter(run, small_csv, names, no_crash):
    result = run(["explain", small_csv, "--rows", 2])
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert not BOX_CHARS & set(out), "box drawing in piped output"
    assert "\x1b" not in out
    for name in names:
        assert re.search(rf"^\s*dL/d{name} = .* = \S+$", out, re.MULTILINE), name
        assert re.search(rf"^\s*{name}\s+<- {name} - eta \* dL/d{name}\s+= ", out, re.MULTILINE), name
    assert "Row 2:" in out and "Row 3:" not in out
    for step in ("1. Forward pass", "2. Loss", "3. Backward pass", "4. Backward pass", "5. Update", "6. The loss after"):
        assert step in out


def test_table_numbers_agree_with_json(run, tiny):
    out = run(["explain", *tiny]).stdout
    assert "N1 = w1*x1 + w2*x2 + w3*x3 + b1 = 0.5*1 + (-1)*2 + 0*0 + 0 = -1.5" in out
    assert "dL/dw7 = (1/n) sum_i -2 (y_i - yhat_i)*N1_i = sum_i dL/dyhat_i * N1_i = (-4)*(-1.5) + (-3.5)*1 = 2.5" in out
    assert re.search(r"w1\s+<- w1 - eta \* dL/dw1\s+= 0\.5 - 0\.1\*\(-11\)\s+= 1\.6$", out, re.MULTILINE)


def test_other_column_names_are_mapped_to_the_lecture_names(run, workdir):
    (workdir / "named.csv").write_text("price,a,b,c\n1,1,2,0\n0,2,0,1\n")
    (workdir / "w.json").write_text(json.dumps(TINY_WEIGHTS))
    args = ["named.csv", "--features", "a,b,c", "--target", "price", "--init", "w.json", "--lr", TINY_LR]
    doc = explain_json(run, args)
    assert doc["features"] == ["a", "b", "c"] and doc["target"] == "price"
    assert doc["loss"] == 14.125  # the tiny example again
    md = flat(run(["explain", *args, "--format", "markdown"]).stdout)
    assert "$x_1$ is column `a`" in md and "$y$ is column `price`" in md


# --- (f) errors ------------------------------------------------------------------------------


def test_missing_file_is_one_error_line(run, workdir, no_crash):
    result = run(["explain", "nope.csv"])
    no_crash(result)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "nope.csv" in lines[0]


@pytest.mark.parametrize("args", [["--epoch", "0"], ["--rows", "0"], ["--format", "docx"], ["--lr", "-1"]])
def test_bad_options_are_usage_errors(run, small_csv, args, no_crash):
    result = run(["explain", small_csv, *args])
    no_crash(result)
    assert result.exit_code == 2


def test_divergence_before_the_explained_epoch_exits_3(run, small_csv, no_crash):
    result = run(["explain", small_csv, "--lr", "50", "--epoch", "30"])
    no_crash(result)
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: training diverged") and "--lr" in result.stderr


def test_reads_stdin_and_help_has_a_pipe(run, small_csv, workdir):
    text = (workdir / small_csv).read_text()
    result = run(["explain", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data"] == "<stdin>"
    help_text = run(["explain", "--help"]).stdout
    assert "|" in help_text and "--epoch" in help_text and "--rows" in help_text



# --- (g) activations, any width and inputs -------------------------------------------------

def loss_by_name(w: dict, X, y, k: int, hidden: int, activation: str) -> float:
    """The MSE loss by the naming rule (unit h's weights w(h*k+1)..w(h*k+k) and bias b(h+1); the
    output weights w(kH+1)..w(kH+H) and bias b(H+1)): the oracle's."""
    return oracle.loss(w, X, y, oracle.Shape(k, hidden, hidden=activation))


def central_differences(w: dict, X, y, k: int, hidden: int, activation: str) -> tuple[dict, dict]:
    """dL/d(name) for every name, and its error bound, by the oracle's central differences."""
    return oracle.central_differences(w, X, y, oracle.Shape(k, hidden, hidden=activation))


def _columns(doc: dict) -> dict:
    return {key: np.array([row[key] for row in doc["rows"]]) for key in doc["rows"][0]}


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("hidden", [2, 3])
def test_every_activation_gives_the_engines_gradients_and_the_finite_differences(run, small_csv, activation, hidden):
    seed = 4
    doc = explain_json(run, [small_csv, "--activation", activation, "--hidden", hidden, "--seed", seed])
    dataset = load_dataset(small_csv)
    X, y = dataset.X, dataset.y
    params = init_parameters(np.random.default_rng(seed), 3, hidden, activation)
    fwd = forward(params, X)
    assert (doc["activation"], doc["hidden"]) == (activation, hidden)
    assert doc["weights"] == params.as_dict()
    assert doc["gradients"] == backward(params, X, y, fwd).gradients.as_dict()
    assert doc["loss"] == mse_loss(y, fwd.yhat)

    w = doc["weights"]
    rows = _columns(doc)
    z = np.column_stack([X @ [w[f"w{h * 3 + j + 1}"] for j in range(3)] + w[f"b{h + 1}"] for h in range(hidden)])
    if activation == "relu":
        assert np.abs(z).min() > 1e-3, "no row sits on relu's kink, where the difference quotient is meaningless"
    numeric, bound = central_differences(w, X, y, 3, hidden, activation)
    assert set(numeric) == set(doc["gradients"])
    for name, value in numeric.items():
        assert abs(doc["gradients"][name] - value) <= bound[name], name
    assert math.isclose(loss_by_name(w, X, y, 3, hidden, activation), doc["loss"], rel_tol=1e-13)

    # The per-row links, against the calculus, and summed into the gradients.
    N = oracle.ACTIVATIONS[activation][0](z)
    np.testing.assert_allclose(np.column_stack([rows[f"N{h + 1}"] for h in range(hidden)]), N, rtol=1e-12, atol=1e-15)
    if activation == "identity":
        assert not any(key.startswith(("z", "dN", "dL_dz")) for key in rows)
        dZ = np.column_stack([rows[f"dL_dN{h + 1}"] for h in range(hidden)])
    else:
        np.testing.assert_allclose(np.column_stack([rows[f"z{h + 1}"] for h in range(hidden)]), z, rtol=1e-12, atol=1e-15)
        slope = oracle.ACTIVATIONS[activation][1](z)
        for h in range(1, hidden + 1):
            np.testing.assert_allclose(rows[f"dN{h}_dz{h}"], slope[:, h - 1], rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(rows[f"dL_dN{h}"], rows["dL_dyhat"] * w[f"w{3 * hidden + h}"], rtol=1e-13)
            np.testing.assert_allclose(rows[f"dL_dz{h}"], rows[f"dL_dN{h}"] * slope[:, h - 1], rtol=1e-12, atol=1e-18)
        dZ = np.column_stack([rows[f"dL_dz{h + 1}"] for h in range(hidden)])
    for h in range(hidden):
        for j in range(3):
            assert math.isclose(dZ[:, h] @ X[:, j], doc["gradients"][f"w{h * 3 + j + 1}"], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(dZ[:, h].sum(), doc["gradients"][f"b{h + 1}"], rel_tol=1e-12, abs_tol=1e-15)


def test_tanh_markdown_shows_the_slope_of_every_hidden_unit(run, small_csv):
    args = [small_csv, "--activation", "tanh", "--hidden", 3, "--rows", 2]
    md = flat(run(["explain", *args, "--format", "markdown"]).stdout)
    doc = explain_json(run, args)
    X = load_dataset(small_csv).X
    w = doc["weights"]
    assert "A 3-3-1 network with tanh hidden units" in md
    for h in range(1, 4):
        # The rule: dL/dz_h,i = dL/dN_h,i * dN_h,i/dz_h,i = dL/dN_h,i * (1 - N_h,i^2) ...
        rule = (
            rf"$$\frac{{\partial L}}{{\partial z_{{{h},i}}}} = \frac{{\partial L}}{{\partial N_{{{h},i}}}} "
            rf"\frac{{\partial N_{{{h},i}}}}{{\partial z_{{{h},i}}}} = \frac{{\partial L}}{{\partial N_{{{h},i}}}} \cdot (1 - N_{{{h},i}}^2)$$"
        )
        assert rule in md, h
        # ... with row 1's numbers: z_h computed here, N_h = tanh(z_h), dL/dN_h = dL/dyhat * w(9 + h).
        z = sum(w[f"w{3 * (h - 1) + j + 1}"] * X[0, j] for j in range(3)) + w[f"b{h}"]
        N = math.tanh(z)
        dN = doc["rows"][0]["dL_dyhat"] * w[f"w{9 + h}"]
        plugged = rf"\frac{{\partial L}}{{\partial z_{h}}} = {Num(dN).latex()} \cdot (1 - {Num(N).latex()}^2) = {Num(dN).latex()} \cdot {Num(1 - N * N).latex()} = {number(dN * (1 - N * N))}$$"
        assert plugged in md, h
        assert rf"$$N_{h} = \tanh(z_{h}) = \tanh({number(z)}) = {number(N)}$$" in md, h
        # ... and the chain for the unit's first weight passes through it.
        assert (
            rf"$$\frac{{\partial L}}{{\partial w_{3 * (h - 1) + 1}}} = \sum_{{i=1}}^{{n}} \frac{{\partial L}}{{\partial N_{{{h},i}}}} "
            rf"\frac{{\partial N_{{{h},i}}}}{{\partial z_{{{h},i}}}} \frac{{\partial z_{{{h},i}}}}{{\partial w_{3 * (h - 1) + 1}}}"
        ) in md, h
    assert md.count("$$") % 2 == 0 and all(line.count("$") % 2 == 0 for line in md.splitlines())


def test_tanh_table_shows_the_slope_too(run, small_csv, no_crash):
    result = run(["explain", small_csv, "--activation", "tanh", "--rows", 1])
    no_crash(result)
    out = result.stdout
    for h in (1, 2):
        assert f"dL/dz{h}_i = dL/dN{h}_i * dN{h}_i/dz{h}_i = dL/dN{h}_i * (1 - N{h}_i^2)" in out
        assert re.search(rf"^\s*N{h} = tanh\(z{h}\) = tanh\(\S+\) = \S+$", out, re.MULTILINE)
        assert re.search(rf"^\s*dL/dz{h} = \S+\*\(1 - \S+\^2\) = \S+\*\S+ = \S+$", out, re.MULTILINE)


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_two_inputs_and_three_hidden_units_name_all_13_parameters(run, workdir, csv_text, activation):
    X = np.random.default_rng(1).uniform(-1, 1, size=(9, 2))
    y = X @ [1.5, -2.0] + 0.5
    (workdir / "two.csv").write_text(csv_text(X, y, header=("x1", "x2", "y")))
    args = ["two.csv", "--features", "x1,x2", "--hidden", 3, "--activation", activation, "--rows", 2, "--lr", 0.05]
    md = flat(run(["explain", *args, "--format", "markdown"]).stdout)
    doc = explain_json(run, args)
    names = [f"w{i}" for i in range(1, 10)] + [f"b{i}" for i in range(1, 5)]  # 2*3 + 3 + 3 + 1 = 13
    assert list(doc["gradients"]) == names
    numeric, bound = central_differences(doc["weights"], X, y, 2, 3, activation)
    lines = md.splitlines()
    for name in names:
        symbol = f"{name[0]}_{name[1:]}"
        gradient_lines = [line for line in lines if line.startswith(rf"$$\frac{{\partial L}}{{\partial {symbol}}} = ")]
        assert len(gradient_lines) == 1, name
        shown = float(gradient_lines[0].rsplit("= ", 1)[1].rstrip("$"))  # 6 significant digits: within 5e-6 of itself
        assert abs(shown - numeric[name]) <= 5e-6 * abs(shown) + bound[name], name
        update_lines = [line for line in lines if line.startswith(rf"$${symbol} \leftarrow {symbol} - \eta")]
        assert len(update_lines) == 1, name
        assert update_lines[0].endswith(f"= {number(doc['weights_after'][name])}$$")
    assert "all 13 parameters" in md
    assert r"\hat{y} = w_7 N_1 + w_8 N_2 + w_9 N_3 + b_4" in md
    assert "w_{10}" not in md and "b_5" not in md and "x_3" not in md


def _linear(n):
    X = np.random.default_rng(2).uniform(-1, 1, size=(n, 3))
    return X, X @ [2.0, -3.0, 0.5] + 1.0


def test_a_tenth_weight_is_written_with_braces():
    worked = work(*_linear(6), init_parameters(np.random.default_rng(0), 3, 4), 0.05)
    md = flat(markdown(explanation(worked, ("x1", "x2", "x3"), 2)))
    assert r"w_{16} \leftarrow w_{16}" in md and r"\frac{\partial L}{\partial w_{13}} = " in md


# --- (h) standardisation, validation split, mini-batches, early stopping ---------------------


def test_standardize_works_the_epoch_on_z_scores(run, small_csv, small_xy, hand):
    doc = explain_json(run, [small_csv, "--standardize", "--seed", 2])
    X, y = small_xy
    Xs = (X - X.mean(axis=0)) / np.sqrt(((X - X.mean(axis=0)) ** 2).mean(axis=0))  # population std
    ys = (y - y.mean()) / math.sqrt(((y - y.mean()) ** 2).mean())
    assert doc["standardized"] is True
    rows = _columns(doc)
    np.testing.assert_allclose(np.column_stack([rows["x1"], rows["x2"], rows["x3"]]), Xs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rows["y"], ys, rtol=1e-12, atol=1e-15)
    expected = hand.gradients(doc["weights"], Xs, ys)
    for name, value in expected.items():
        assert math.isclose(doc["gradients"][name], value, rel_tol=1e-10, abs_tol=1e-14), name
    assert doc["scaling"]["std"]["y"] == pytest.approx(math.sqrt(((y - y.mean()) ** 2).mean()), rel=1e-14)
    md = flat(run(["explain", small_csv, "--standardize", "--seed", 2, "--format", "markdown"]).stdout)
    opening = md.splitlines()[2]
    assert "the standardised rows of `data.csv`" in opening


def test_val_split_explains_the_training_rows_numbered_as_in_the_file(run, small_csv, small_xy):
    doc = explain_json(run, [small_csv, "--val-split", "0.25", "--seed", 3])
    X, y = small_xy
    numbers = [row["row"] for row in doc["rows"]]
    assert (doc["n"], doc["training_rows"], doc["validation_rows"]) == (9, 9, 3)
    assert numbers == sorted(set(numbers)) and all(1 <= r <= 12 for r in numbers)
    kept = np.array(numbers) - 1
    rows = _columns(doc)
    assert np.array_equal(np.column_stack([rows["x1"], rows["x2"], rows["x3"]]), X[kept])
    params = init_parameters(np.random.default_rng(3))
    assert doc["gradients"] == backward(params, X[kept], y[kept], forward(params, X[kept])).gradients.as_dict()
    out = run(["explain", small_csv, "--val-split", "0.25", "--seed", 3, "--rows", 2]).stdout
    assert f"Row {numbers[1]}: x1 = " in out and "3 rows are held out for validation" in out


def test_batch_size_explains_the_first_mini_batch_of_epoch_k(run, small_csv, small_xy):
    seed, lr = 6, 0.1
    doc = explain_json(run, [small_csv, "--batch-size", 6, "--epoch", 2, "--seed", seed, "--lr", lr])
    X, y = small_xy
    batch = np.array(doc["batch"]["rows"]) - 1
    assert doc["n"] == 6 and len(set(batch)) == 6 and [row["row"] - 1 for row in doc["rows"]] == batch.tolist()
    rows = _columns(doc)
    assert np.array_equal(np.column_stack([rows["x1"], rows["x2"], rows["x3"]]), X[batch])

    # Epoch 1 ran as train runs it, in mini-batches ...
    initial = init_parameters(np.random.default_rng(seed))
    start = trained(X, y, initial, lr, 1, batch_size=6, seed=seed)
    assert doc["weights"] == start.as_dict()
    # ... the step is the engine's on the batch's rows ...
    grads = backward(start, X[batch], y[batch], forward(start, X[batch])).gradients
    assert doc["gradients"] == grads.as_dict()
    assert doc["weights_after"] == update(start, grads, lr).as_dict()
    assert doc["loss_after"] == mse_loss(y[batch], forward(update(start, grads, lr), X[batch]).yhat)
    # ... and it is the batch train takes first in epoch 2: the other 6 rows then finish the epoch as train does.
    rest = np.setdiff1d(np.arange(12), batch)
    after = update(start, grads, lr)
    finished = update(after, backward(after, X[rest], y[rest], forward(after, X[rest])).gradients, lr)
    two = trained(X, y, initial, lr, 2, batch_size=6, seed=seed)
    np.testing.assert_allclose(finished.vector, two.vector, rtol=1e-12, atol=1e-15)

    md = flat(run(["explain", small_csv, "--batch-size", 6, "--epoch", 2, "--seed", seed, "--lr", lr, "--format", "markdown"]).stdout)
    assert "the first mini-batch of epoch 2 ($n = 6$ rows), drawn from the 12 rows of `data.csv`" in md
    assert "data rows " + ", ".join(str(r + 1) for r in batch) + ", in the order drawn" in md
    assert f"**Row {batch[0] + 1}:**" in md


def test_one_batch_an_epoch_is_exactly_trains_epoch(run, small_csv, small_xy):
    doc = explain_json(run, [small_csv, "--batch-size", 50, "--epoch", 3, "--seed", 1])
    X, y = small_xy
    assert sorted(row["row"] for row in doc["rows"]) == list(range(1, 13))
    three = trained(X, y, init_parameters(np.random.default_rng(1)), 0.05, 3, batch_size=50, seed=1)
    assert doc["weights_after"] == three.as_dict()


def test_patience_that_stops_before_epoch_k_is_an_error(run, small_csv, no_crash):
    result = run(["explain", small_csv, "--patience", 2, "--min-delta", 100, "--epoch", 10])
    no_crash(result)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: early stopping ends training after epoch 3") and "--epoch 3 or less" in result.stderr
    assert run(["explain", small_csv, "--patience", 2, "--min-delta", 100, "--epoch", 3]).exit_code == 0


def test_patience_that_does_not_stop_changes_nothing(run, small_csv):
    plain = explain_json(run, [small_csv, "--epoch", 4])
    patient = explain_json(run, [small_csv, "--epoch", 4, "--patience", 50, "--val-split", "0.25"])
    with_split = explain_json(run, [small_csv, "--epoch", 4, "--val-split", "0.25"])
    assert patient["weights"] == with_split["weights"] and patient["gradients"] == with_split["gradients"]
    assert plain["n"] == 12 and patient["n"] == 9


def test_a_step_at_the_minimum_changes_the_loss_only_within_rounding(run, small_csv):
    # 500 epochs reach least squares on this noise-free data; the loss then moves by rounding
    # alone, and explain says so instead of asking for a smaller learning rate.
    md = flat(run(["explain", small_csv, "--epoch", 500, "--lr", 0.1, "--format", "markdown"]).stdout)
    assert "did not change beyond float64's rounding" in md and "try a smaller learning rate" not in md
    table = run(["explain", small_csv, "--epoch", 500, "--lr", 0.1]).stdout
    assert "did not change beyond float64's rounding" in table


def test_a_step_that_raises_the_loss_says_to_try_a_smaller_learning_rate(run, small_csv):
    md = flat(run(["explain", small_csv, "--lr", 2.0, "--format", "markdown"]).stdout)
    assert "did not go down: try a smaller learning rate" in md


def test_a_students_numbers_are_shown_as_typed_where_train_would_take_z_scores(run, workdir):
    # Small integers far from zero: badly scaled for gradient descent, so train would standardise.
    (workdir / "student.csv").write_text("x1,x2,x3,y\n1,2,10,3\n2,4,9,5\n3,3,8,7\n4,6,10,9\n")
    result = run(["explain", "student.csv", "--rows", "1", "--format", "markdown"])
    assert result.exit_code == 0, result.stderr
    assert "**Row 1:** $x_1 = 1$, $x_2 = 2$, $x_3 = 10$, $y = 3$" in result.stdout
    assert "Standardised" not in result.stdout
    assert "explain shows the rows as they are, where train would take z-scores" in result.stderr
    scaled = run(["explain", "student.csv", "--rows", "1", "--format", "markdown", "--standardize"])
    assert scaled.exit_code == 0, scaled.stderr
    assert "Standardised, as train --standardize does" in scaled.stdout and "$x_1 = 1$" not in scaled.stdout
    trained = run(["train", "student.csv", "--no-save", "--format", "json"])
    assert json.loads(trained.stdout)["scaling"] is not None


def test_long_equations_are_aligned_rows_that_fit_a_page(run, small_csv):
    md = run(["explain", small_csv, "--hidden", "6", "--activation", "tanh", "--format", "markdown"]).stdout
    aligned = [line for line in md.splitlines() if line.startswith(r"$$\begin{aligned}")]
    assert aligned, "the forward pass of a 3-6-1 network has equations too wide for one line"
    for line in aligned:
        assert line.endswith(r"\end{aligned}$$") and line.count("$$") == 2
        for row in line[len(r"$$\begin{aligned} ") : -len(r" \end{aligned}$$")].split(r" \\ "):
            assert row.count("&") == 1, row  # one alignment point a row: its relation
            visible = re.sub(r"\\[a-z]+|[{}_^&]", "", row)  # roughly what is drawn
            assert len(visible) <= 110, row


@pytest.mark.parametrize("rows, words", [(1, "the first term is written out"), (2, "the first 2 terms are written out")])
def test_the_loss_says_how_many_of_its_terms_are_written_out_in_words(run, small_csv, rows, words):
    result = run(["explain", small_csv, "--rows", str(rows)])
    assert result.exit_code == 0, result.stderr
    assert words in result.stdout


@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
def test_the_frozen_parameters_notes_line_up_in_a_column(run, small_csv, optimizer):
    """explain --freeze w1,w2,b3: the update lines of the three frozen parameters, whose values
    are written in different widths, have their "(frozen: kept)" at one offset."""
    result = run(["explain", small_csv, "--freeze", "w1,w2,b3", "--optimizer", optimizer])
    assert result.exit_code == 0, result.stderr
    noted = [line for line in result.stdout.splitlines() if "(frozen: kept)" in line]
    assert [line.split()[0] for line in noted] == ["w1", "w2", "b3"]
    assert len({line.index("(frozen: kept)") for line in noted}) == 1, "\n".join(noted)
