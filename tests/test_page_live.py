"""The page's own arithmetic (fwdback/render/network.js) against network.py, and the live page.

Chromium computes with the JavaScript of a page `fwdback train --report` wrote; Python computes
the same with network.py and optimizers.py (or runs `fwdback train` itself) and compares.
Hypothesis draws the networks (inputs, hidden units, outputs, activations, output activations,
loss conventions, biases or none, frozen parameters) and their data; classifiers too (bce with its
sigmoid output and 0/1 targets, cross-entropy with its softmax and one-hot targets), whose loss and
dL/da come from the logits (magnitudes says how they round).

The bound, from the arithmetic: both sides do the same operations on the same float64s, but
BLAS and numpy may sum in another order (blocked, pairwise, fused multiply-adds), and the two
libms' tanh may differ in the last place. Each operation rounds by at most eps relative to its
result, a sum of terms in another order differs by at most (terms - 1) eps times the sum of
their absolute values, and the activations' slopes are at most 1, so a quantity reached through
K operations differs by at most K eps times the same quantity computed on absolute values
(`magnitudes`: every sum taken of |terms|, every error of |y| + |yhat|). The networks drawn have
K < 100, so K eps < 2.3e-14: TOL = 1e-12 of the magnitude holds with room, and where nothing
cancels the magnitude is the value itself, so that this is the relative 1e-12 of the issue.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cases import slow_after
from conftest import BrowserPage
from fwdback.activations import ACTIVATION_NAMES, OUTPUT_ACTIVATION_NAMES as OUTPUT_ACTIVATIONS
from fwdback.losses import LOSS_NAMES, LOSSES, REGRESSION_LOSS_NAMES
from fwdback.network import Parameters, as_rows, backward, forward, loss, loss_divisor
from fwdback.optimizers import OptimizerSettings
from fwdback.plan import TrainingPlan

SAMPLE = Path(__file__).parent.parent / "sample_data" / "linear.csv"
TOL = 1e-12


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory) -> Path:
    """The page of 30 epochs on the README's sample data, by the command line."""
    import subprocess
    import sys

    directory = tmp_path_factory.mktemp("live")
    subprocess.run([sys.executable, "-m", "fwdback", "train", str(SAMPLE), "--epochs", "30", "--tol", "0", "--lr", "0.05",
                    "--report", "run.html", "--history", "h.csv", "--no-save", "-q"], cwd=directory, check=True)
    return directory / "run.html"


@pytest.fixture(scope="module")
def js(chromium, sample_page):
    """The sample page open in Chromium, every request blocked: its network.js to call."""
    context = chromium.new_context(service_workers="block")
    context.set_default_timeout(15_000)
    recorder = BrowserPage.in_context(context)
    recorder.open(sample_page)
    yield recorder
    assert recorder.requests == [] and recorder.errors == []
    context.close()


@st.composite
def networks(draw, most_rows: int = 12, losses: tuple[str, ...] = REGRESSION_LOSS_NAMES):
    """(Parameters, X : shape (n, k), y : shape (n,) or (n, m), convention, frozen names), the
    convention one of `losses`. A classifier's network has its loss's output (sigmoid, one output,
    y of 0/1 for bce; softmax over 2 to 4 outputs, y one-hot, for cross-entropy)."""
    convention = draw(st.sampled_from(losses))
    spec = LOSSES[convention]
    k, h = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    m = (1 if spec.binary else draw(st.integers(2, 4))) if spec.classifies else draw(st.integers(1, 3))
    activation = draw(st.sampled_from(ACTIVATION_NAMES))
    output_activation = spec.link or draw(st.sampled_from(OUTPUT_ACTIVATIONS))
    bias = draw(st.booleans())
    n = draw(st.integers(1, most_rows))
    number = st.floats(-2.0, 2.0, allow_subnormal=False)
    size = Parameters(np.zeros(h * (k + m) + (h + m) * bias), k, h, n_outputs=m, bias=bias).vector.size
    params = Parameters(draw(st.lists(number, min_size=size, max_size=size)), k, h, activation,
                        n_outputs=m, output_activation=output_activation, bias=bias)
    X = np.array(draw(st.lists(st.lists(number, min_size=k, max_size=k), min_size=n, max_size=n)))
    if spec.classifies:
        classes = np.array(draw(st.lists(st.integers(0, max(m, 2) - 1), min_size=n, max_size=n)))
        Y = classes[:, None].astype(float) if spec.binary else np.eye(m)[classes]
    else:
        Y = np.array(draw(st.lists(st.lists(number, min_size=m, max_size=m), min_size=n, max_size=n)))
    frozen = draw(st.lists(st.sampled_from(params.names), unique=True, max_size=3))
    return params, X, Y[:, 0] if m == 1 else Y, convention, frozen


def shape(params: Parameters) -> dict:
    return {"k": params.n_inputs, "H": params.n_hidden, "m": params.n_outputs, "activation": params.activation,
            "output_activation": params.output_activation, "bias": params.bias}


def magnitudes(params: Parameters, X, y, convention: str) -> dict:
    """Each quantity of the passes computed on absolute values (module docstring): the scale of
    the rounding of each, Z, A, the loss, the gradients (shape (P,)) and the per-row terms dL_dA,
    dL_dN, dL_dZ (shapes (m, n), (H, n), (H, n)).

    A classifier's row term log(1 + exp(a)) - y a, or max_j a_j + log(sum_j exp(a_j - max_j a_j))
    - sum_j y_j a_j, moves with each a_j by a slope of at most 1 + |y_j| and has a logarithm of at
    most log(m + 1): its scale is max_j |a_j| + log(m + 1) + sum_j (1 + |y_j|) |a_j|. Its dL/da =
    (yhat - y)/d(n), where yhat = sigmoid(a) (computed as (1 + tanh(a/2))/2, an absolute rounding)
    or softmax(a) moves with the a's by a slope of at most 1: scale (1 + |y| + yhat + max_j |a_j|)/d(n)."""
    spec = LOSSES[convention]
    a = params.like(np.abs(params.vector))
    fwd = forward(params, X)
    Wh, Wo, bh, bo = a.layers
    Zm = Wh @ np.abs(X).T + bh[:, None]
    Nm = Zm + np.abs(fwd.N)
    Am = Wo @ Nm + bo[:, None]
    Y, d = np.abs(as_rows(y)), loss_divisor(convention, len(y))
    back = backward(params, X, y, fwd, convention)
    if spec.classifies:
        top = Am.max(axis=0)
        loss_size = float((top + np.log(len(Am) + 1) + ((1 + Y) * Am).sum(axis=0)).sum()) / d
        dAm = (1 + Y + fwd.Yhat + top) / d
    else:
        Em = Y + Am + np.abs(fwd.Yhat)
        loss_size = float((Em * Em).sum()) / d
        out_slope = 1.0 if back.dYhat_dA is None else np.abs(back.dYhat_dA)
        dAm = 2.0 / d * Em * (out_slope + np.abs(as_rows(y) - fwd.Yhat))
    dNm = Wo.T @ dAm
    slope = 1.0 if back.dN_dZ is None else np.abs(back.dN_dZ)
    dZm = dNm * slope + np.abs(back.dL_dN) * Zm
    grads = params.flat(dZm @ np.abs(X), dAm @ Nm.T, dZm.sum(axis=1), dAm.sum(axis=1))
    return {"Z": Zm, "A": Am, "loss": loss_size, "gradients": grads, "dL_dA": dAm, "dL_dN": dNm, "dL_dZ": dZm}


PASSES = """([net, w, X, Y, convention]) => {
  const M = fwdbackNetwork;
  const fwd = M.forward(net, w, X);
  const back = M.backward(net, w, X, Y, fwd, convention);
  return { Z: fwd.Z, N: fwd.N, A: fwd.A, Yhat: fwd.Yhat, loss: M.loss(Y, fwd, convention),
           dL_dA: back.dL_dA, dL_dZ: back.dL_dZ, gradients: back.gradients };
}"""


def within(got, expected, magnitude, what: str) -> float:
    """Assert |got - expected| <= TOL * magnitude everywhere; the largest relative difference."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    difference = np.abs(got - expected)
    assert np.all(difference <= TOL * np.asarray(magnitude)), (what, got, expected)
    scale = np.abs(expected)
    return float(np.max(np.where(scale > 0, difference / np.where(scale > 0, scale, 1), difference), initial=0.0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=networks(losses=LOSS_NAMES))
def test_the_pages_forward_loss_and_gradients_are_network_pys(js, drawn):
    params, X, y, convention, _ = drawn
    fwd = forward(params, X)
    size = magnitudes(params, X, y, convention)
    if params.activation == "relu":  # at a kink of relu the slope is 0 or 1 by the last bit of z: no test there
        assume(np.all(np.abs(fwd.Z) > TOL * size["Z"]))
    got = js.page.evaluate(PASSES, [shape(params), params.vector.tolist(), X.tolist(), as_rows(y).tolist(), convention])
    back = backward(params, X, y, fwd, convention)
    within(got["Z"], fwd.Z, size["Z"], "Z")
    within(got["A"], fwd.A, size["A"], "A")
    within(got["Yhat"], fwd.Yhat, size["A"] + 1, "Yhat")
    within(got["loss"], loss(y, fwd, convention), size["loss"], "loss")
    within(got["gradients"], back.gradients.vector, size["gradients"], "gradients")


def test_the_bound_is_the_issues_relative_one_where_nothing_cancels(js):
    """The lecture's network on the sample rows (no sum near zero): page and network.py agree
    to 1e-12 relative, each number itself."""
    data = np.loadtxt(SAMPLE, delimiter=",", skiprows=1)
    X, y = data[:, :3], data[:, 3]
    params = Parameters(np.linspace(-0.9, 1.1, 11))
    got = js.page.evaluate(PASSES, [shape(params), params.vector.tolist(), X.tolist(), as_rows(y).tolist(), "mse"])
    fwd = forward(params, X)
    assert got["loss"] == pytest.approx(loss(y, fwd), rel=TOL)
    assert got["gradients"] == pytest.approx(backward(params, X, y, fwd).gradients.vector.tolist(), rel=TOL)


UPDATES = """([P, frozen, plan, steps]) => {
  const optimizer = new fwdbackNetwork.Optimizer(plan, P, frozen);
  let w = steps[0][0];
  return steps.map(function (step) { w = optimizer.step(w, step[1]).vector; return w; });
}"""


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adam"])
def test_each_update_rule_is_optimizers_py_step_for_step(js, name):
    """Ten steps of each rule from the same weights and gradients, two parameters frozen: the
    same operations in the same order, so equal to the last bit but for pow (beta^t), whose
    libms may differ by an ulp: 1e-12 relative of the weights."""
    rng = np.random.default_rng(5)
    params = Parameters(rng.uniform(-1, 1, 11))
    gradients = [rng.uniform(-1, 1, 11) for _ in range(10)]
    frozen = np.zeros(11, bool)
    frozen[[1, 9]] = True
    plan = {"optimizer": name, "lr": 0.1, "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    optimizer = OptimizerSettings.of(TrainingPlan(optimizer=name)).optimizer(0.1, 11, frozen)
    expected, w = [], params
    for g in gradients:
        w = optimizer.step(w, params.like(g))
        expected.append(w.vector.tolist())
    got = js.page.evaluate(UPDATES, [11, frozen.tolist(), plan, [[params.vector.tolist(), g.tolist()] for g in gradients]])
    assert np.array(got) == pytest.approx(np.array(expected), rel=TOL)
    assert [row[1] for row in got] == [params.vector[1]] * 10 and [row[9] for row in got] == [params.vector[9]] * 10


TRAIN = """([net, w, X, Y, plan, epochs, frozen]) => {
  const n = X.length;
  const order = Array.from({ length: n }, function (_, i) { return i; });
  return fwdbackNetwork.train(net, w, X, Y, plan, epochs, function () { return order; }, frozen);
}"""


def cli_training(directory: Path, params: Parameters, X, y, convention, frozen, optimizer, lr, batch_size, epochs):
    """`fwdback train --init --epochs EPOCHS --tol 0` on X, y: its --history rows, shape (epochs, 1 + 2P)
    (loss, weights at the epoch's start, gradients), and the weights it saved, or None if it diverged."""
    from click.testing import CliRunner

    from fwdback.cli import cli

    k, m = params.n_inputs, params.n_outputs
    classifies = LOSSES[convention].classifies  # one column of class labels: 0/1, or the one-hot's class index
    targets = ["y"] if m == 1 or classifies else [f"y{j}" for j in range(1, m + 1)]
    columns = np.column_stack([X, y if y.ndim == 1 or not classifies else y.argmax(axis=1)])
    header = [f"x{j}" for j in range(1, k + 1)] + targets
    (directory / "d.csv").write_text("\n".join([",".join(header)] + [",".join(map(repr, row)) for row in columns.tolist()]) + "\n")
    (directory / "w.json").write_text(json.dumps(params.as_dict()))
    args = ["train", str(directory / "d.csv"), "--features", ",".join(header[:k]), "--target", ",".join(targets),
            "--init", str(directory / "w.json"), "--activation", params.activation,
            *([] if classifies else ["--output-activation", params.output_activation]), "--hidden", str(params.n_hidden), "--bias" if params.bias else "--no-bias", "--loss", convention, "--optimizer", optimizer,
            "--lr", repr(lr), "--epochs", str(epochs), "--tol", "0", "--no-standardize", "--history", str(directory / "h.csv"),
            "--model", str(directory / "m.json"), "-q"]
    args += ["--freeze", ",".join(frozen)] if frozen else []
    args += ["--batch-size", str(batch_size), "--no-shuffle"] if batch_size else []
    result = CliRunner().invoke(cli, args)
    if "diverge" in (result.stderr or "") or "overflow" in (result.stderr or ""):
        return None, None
    assert result.exit_code == 0, (args, result.stderr)
    history = np.loadtxt(directory / "h.csv", delimiter=",", skiprows=1, ndmin=2)[:, 1 : 2 + 2 * params.vector.size]
    final = json.loads((directory / "m.json").read_text())["weights"]
    return history, np.array([final[name] for name in params.names])


def train_both(js, directory, drawn, optimizer, lr, batch_size, epochs=100):
    """The command line's run and the page's from the same weights: (history, final weights, the
    page's record, P), or None where the command line's diverged."""
    params, X, y, convention, frozen = drawn
    history, final = cli_training(directory, params, X, y, convention, frozen, optimizer, lr, batch_size, epochs)
    if history is None:
        return None
    plan = {"optimizer": optimizer, "lr": lr, "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
            "loss": convention, "batch_size": batch_size}
    got = js.page.evaluate(TRAIN, [shape(params), params.vector.tolist(), X.tolist(), as_rows(y).tolist(), plan, epochs,
                                   [name in frozen for name in params.names]])
    P = params.vector.size
    return history, final, got, P


def assert_same_run(history, final, got, P, growth: float = 1.0):
    """Every epoch's loss, weights and gradients, and the final weights: 1e-12 of the largest
    of each (an epoch adds eta times its gradients' rounding, module docstring, to the weights;
    a stable descent does not amplify it), times `growth`, how much the run amplifies a rounding
    of its weights (rounding_growth), where it does."""
    losses, weights, gradients = history[:, 0], history[:, 1 : 1 + P], history[:, 1 + P :]
    bound = TOL * max(1.0, growth)
    assert np.abs(np.array(got["losses"]) - losses).max() <= bound * max(1.0, np.abs(losses).max())
    scale = max(1.0, np.abs(weights).max())
    assert np.abs(np.array(got["weights"]) - weights).max() <= bound * scale
    assert np.abs(np.array(got["final"]) - final).max() <= bound * scale
    assert np.abs(np.array(got["gradients"]) - gradients).max() <= bound * max(1.0, np.abs(gradients).max())


def rounding_growth(directory, drawn, optimizer, lr, batch_size, history, epochs=100) -> float:
    """How much the run amplifies one rounding of its weights: the command line's run again from the
    starting weights moved by one unit in the last place each (random signs), its weights' largest
    departure over the epochs in units of eps times the weights' scale. Two implementations that
    round differently in each epoch differ by about that much more than a run that does not
    amplify (a descent that is not stable, or adam's early steps of about eta, can)."""
    params, X, y, convention, frozen = drawn
    nudged = params.like(np.nextafter(params.vector, np.where(np.random.default_rng(0).random(params.vector.size) < 0.5, -np.inf, np.inf)))
    again, _ = cli_training(directory, nudged, X, y, convention, frozen, optimizer, lr, batch_size, epochs)
    if again is None:
        return np.inf
    P = params.vector.size
    scale = max(1.0, np.abs(history[:, 1 : 1 + P]).max())
    return float(np.abs(again[:, 1 : 1 + P] - history[:, 1 : 1 + P]).max() / (np.finfo(float).eps * scale))


@pytest.mark.parametrize("optimizer", slow_after(1, ["gd", "momentum", "nesterov", "adam"]))
def test_a_hundred_epochs_in_the_page_are_fwdback_trains(js, tmp_path, optimizer):
    """The lecture's network on the sample rows, full batches: `fwdback train --init W --epochs
    100 --tol 0` and the page's training from W, epoch by epoch."""
    data = np.loadtxt(SAMPLE, delimiter=",", skiprows=1)
    params = Parameters(np.linspace(-0.5, 0.5, 11))
    drawn = (params, data[:, :3], data[:, 3], "mse", ["b2"])
    both = train_both(js, tmp_path, drawn, optimizer, 0.02, None)
    assert both is not None
    assert_same_run(*both)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=networks(most_rows=8, losses=LOSS_NAMES), optimizer=st.sampled_from(["gd", "momentum", "nesterov", "adam"]),
       lr=st.sampled_from([0.003, 0.01, 0.03]), batch=st.integers(0, 8))
def test_a_hundred_epochs_of_any_network_in_the_page_are_fwdback_trains(js, tmp_path, drawn, optimizer, lr, batch):
    """Networks hypothesis draws, classifiers too (every class among the rows, as fwdback train
    needs: it makes one output per class it finds), any optimizer, full batches or batches in file order."""
    params, X, y, convention, frozen = drawn
    if LOSSES[convention].classifies:
        assume(len(np.unique(y if y.ndim == 1 else y.argmax(axis=1))) == max(params.n_outputs, 2))
    assume(params.activation != "relu" or np.all(np.abs(forward(params, X).Z) > 1e-6))
    assume(batch < len(y))
    # adam's claim below reads the history's gradients, each epoch's full-batch ones: with batches
    # adam steps by others, which the history does not hold, so it is checked on full batches.
    assume(optimizer != "adam" or not batch)
    both = train_both(js, tmp_path, drawn, optimizer, lr, batch or None)
    assume(both is not None)
    if optimizer == "adam":
        # adam steps by m/sqrt(s): a gradient at the rounding level of the others is a whole step of
        # eta in a direction its rounding picks, which no two implementations share; the claim is
        # for runs whose gradients are not (module docstring's rounding of a gradient: 1e-12 here).
        history, P = both[0], both[3]
        gradients = np.abs(history[:, 1 + P :][:, [name not in drawn[4] for name in drawn[0].names]])
        assume(np.all((gradients == 0) | (gradients > TOL * gradients.max())) and gradients.max() > 0)
    growth = rounding_growth(tmp_path, drawn, optimizer, lr, batch or None, both[0])
    assume(np.isfinite(growth))
    assert_same_run(*both, growth=growth)


# The live page: a person's weights, everything recomputed; training on from them ----------------

RUNS = {
    "lecture": [],
    "tanh, two sigmoid outputs, half-mse, no biases, frozen": [
        "--target", "y1,y2", "--activation", "tanh", "--hidden", "3", "--output-activation", "sigmoid", "--loss", "half-mse",
        "--no-bias", "--freeze", "w2,w9"],
    "relu, sse, b1 frozen, nesterov": ["--activation", "relu", "--loss", "sse", "--freeze", "b1", "--optimizer", "nesterov"],
    "sigmoid, adam": ["--activation", "sigmoid", "--optimizer", "adam", "--beta1", "0.8"],
    "momentum": ["--optimizer", "momentum", "--momentum", "0.5"],
}


def write_rows(path: Path, n: int = 20, seed: int = 3) -> None:
    """x1,x2,x3,y,y1,y2 rows: y linear in x, y1 and y2 in (0, 1) for sigmoid outputs."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    y = X @ [2.0, -3.0, 0.5] + 1.0
    columns = np.column_stack([X, y, 1 / (1 + np.exp(-X @ [1.0, 0.5, -1.0])), 1 / (1 + np.exp(X @ [0.3, -0.7, 0.2]))])
    path.write_text("x1,x2,x3,y,y1,y2\n" + "".join(",".join(map(repr, row)) + "\n" for row in columns.tolist()))


def write_classes(path: Path, labels: tuple[str, ...], n: int = 20, seed: int = 3) -> None:
    """x1,x2,y rows of a classifier: y one of `labels` by the angle of (x1, x2) (every label in the
    first rows), so that a network can learn it."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    sector = (np.arctan2(X[:, 1], X[:, 0]) + np.pi) / (2 * np.pi) * len(labels)
    y = [labels[int(s) % len(labels)] for s in sector]
    y[: len(labels)] = labels
    path.write_text("x1,x2,y\n" + "".join(f"{a!r},{b!r},{label}\n" for (a, b), label in zip(X.tolist(), y)))


def classifier_page(browser_page, run, workdir, loss: str, labels: tuple[str, ...], *options: str):
    """The live page of a classifier of `loss` (5 epochs, tanh hidden units, rows in the data's
    units) on write_classes' d.csv, open in the browser."""
    write_classes(workdir / "d.csv", labels)
    result = run(["train", "d.csv", "--features", "x1,x2", "--loss", loss, "--activation", "tanh", "--hidden", "3", "--lr", "0.5",
                  "--epochs", "5", "--tol", "0", "--no-standardize", *options, "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    return browser_page.open(workdir / "run.html")


def trained_in_the_page_and_by_its_command(page, run, workdir) -> tuple[list[float], list[float]]:
    """Train in the page for some epochs (Train from here, then stop), and run the train command line
    it showed before on the files it saved, for as many epochs: the page's weights and the command
    line's, in the network's order."""
    command = page.locator("#command-train").inner_text().split()[2:]
    page.locator("#train").click()
    page.wait_for_function("/trained ([6-9]|\\d\\d+) epochs/.test(document.getElementById('epoch-label').textContent)")
    page.locator("#train").click()
    epochs = int(TRAINED.search(page.locator("#epoch-label").inner_text())[1])
    names = page.evaluate("JSON.parse(document.getElementById('fwdback-data').textContent).network.names")
    shown = [float(page.get_by_label(name, exact=True).input_value()) for name in names]
    result = run(["train", *command, "--epochs", str(epochs), "--model", "m.json", "-q"])
    assert result.exit_code == 0, result.stderr
    trained = json.loads((workdir / "m.json").read_text())["weights"]
    return shown, [trained[name] for name in names]


def trained_page(browser_page, run, workdir, lr: str, epochs: int, *options: str, rows: int = 20):
    """The live page of `fwdback train` on write_rows' d.csv of `rows` rows for `epochs` epochs
    (--tol 0, nothing saved but run.html), open in the browser."""
    write_rows(workdir / "d.csv", n=rows)
    result = run(["train", "d.csv", "--lr", lr, "--epochs", str(epochs), "--tol", "0", *options, "--report", "run.html",
                  "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    return browser_page.open(workdir / "run.html")


def save_weights_and_rows(page, workdir: Path) -> list[str]:
    """Click the page's two save buttons; each download is kept in workdir under the name the
    page gives it. Returns those names."""
    names = []
    for button in ("#save-weights", "#save-rows"):
        with page.expect_download() as saving:
            page.locator(button).click()
        names.append(saving.value.suggested_filename)
        saving.value.save_as(workdir / names[-1])
    return names


def numbers(page, selector: str) -> dict[str, float]:
    """The data-value of each element matched, by its accessible name (aria-label)."""
    return page.evaluate("""selector => Object.fromEntries(Array.from(document.querySelectorAll(selector))
        .map(e => [e.getAttribute('aria-label'), Number(e.getAttribute('data-value'))]))""", selector)


@pytest.mark.parametrize("options", slow_after(1, list(RUNS.values())), ids=list(RUNS))
def test_weights_typed_in_give_what_fwdback_explain_prints_for_them(browser_page, run, workdir, options):
    """Every parameter typed into its field (found by its lecture name): the loss, every
    gradient and every parameter's update are explain's for those weights (--format json)."""
    page = trained_page(browser_page, run, workdir, "0.01", 5, *options)
    names = page.evaluate("JSON.parse(document.getElementById('fwdback-data').textContent).network.names")
    chosen = dict(zip(names, np.random.default_rng(len(options)).uniform(-1, 1, len(names)).tolist()))
    for name, value in chosen.items():
        page.get_by_label(name, exact=True).fill(repr(value))
    (workdir / "w.json").write_text(json.dumps(chosen))
    explained = run(["explain", "d.csv", "--init", "w.json", "--lr", "0.01", "--format", "json", *options])
    assert explained.exit_code == 0, explained.stderr
    expected = json.loads(explained.stdout)
    loss = float(page.get_by_label("loss", exact=True).get_attribute("data-value"))
    gradients = numbers(page, "#parameters td[aria-label^='dL/d']")
    assert loss == pytest.approx(expected["loss"], rel=TOL)
    assert gradients == pytest.approx({f"dL/d{name}": value for name, value in expected["gradients"].items()}, rel=TOL, abs=TOL)
    for name in names:
        page.get_by_label(name, exact=True).focus()
        update = page.locator('#detail [data-role="update"]')
        after = expected["weights_after"][name]
        if name in expected["frozen"]:
            assert "is frozen" in update.inner_text() and after == chosen[name]
        else:
            assert float(update.locator(f"span[data-q='{name} after']").get_attribute("data-value")) == pytest.approx(after, rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
@pytest.mark.parametrize("loss, labels, options", [("bce", ("no", "yes"), ["--optimizer", "adam"]),
                                                   ("cross-entropy", ("cat", "dog", "eel"), ["--freeze", "w2,b4"])],
                         ids=["bce, adam", "cross-entropy, 3 classes, frozen"])
def test_weights_typed_into_a_classifiers_page_give_what_its_explain_command_prints(browser_page, run, workdir, loss, labels, options):
    """Every parameter of a classifier typed into its field: the loss, every gradient and every
    parameter's update are what the explain command line the page shows prints (--format json)
    on the weights and rows it saves."""
    page = classifier_page(browser_page, run, workdir, loss, labels, *options)
    names = page.evaluate("fwdbackPage.names")
    for name, value in zip(names, np.random.default_rng(7).uniform(-1, 1, len(names)).tolist()):
        page.get_by_label(name, exact=True).fill(repr(value))
    save_weights_and_rows(page, workdir)
    command = page.locator("#command-explain").inner_text().split()[2:]
    explained = run(["explain", *command, "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    expected = json.loads(explained.stdout)
    assert float(page.get_by_label("loss", exact=True).get_attribute("data-value")) == pytest.approx(expected["loss"], rel=TOL)
    gradients = numbers(page, "#parameters td[aria-label^='dL/d']")
    assert gradients == pytest.approx({f"dL/d{name}": value for name, value in expected["gradients"].items()}, rel=TOL, abs=TOL)
    page.mouse.move(0, 0)  # clear of the figure, whose hover would show another parameter as a field's focus scrolls
    for name in names:
        page.get_by_label(name, exact=True).focus()
        update = page.locator('#detail [data-role="update"]')
        if name in expected["frozen"]:
            assert "is frozen" in update.inner_text()
        else:
            after = float(update.locator(f"span[data-q='{name} after']").get_attribute("data-value"))
            assert after == pytest.approx(expected["weights_after"][name], rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


def test_the_arrow_keys_on_a_focused_edge_step_its_weight_and_everything_follows(browser_page, run, workdir):
    """Keyboard alone: Tab to an edge, ↑ adds 0.01, Page Down takes 0.1; the loss is network.py's
    at the weights the fields then hold."""
    page = trained_page(browser_page, run, workdir, "0.05", 5)
    start = float(page.get_by_label("w7", exact=True).input_value())
    page.locator('svg.network [data-param="w7"]').focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("PageDown")
    w7 = float(page.get_by_label("w7", exact=True).input_value())
    assert w7 == start + 0.01 + 0.01 - 0.1
    assert page.locator("#detail h3").inner_text().startswith("w7 at your weights")
    weights = np.array([float(page.get_by_label(name, exact=True).input_value()) for name in Parameters(np.zeros(11)).names])
    data = np.loadtxt(workdir / "d.csv", delimiter=",", skiprows=1)
    X, y = data[:, :3], data[:, 3]
    params = Parameters(weights)
    expected = loss(y, forward(params, X))
    assert float(page.get_by_label("loss", exact=True).get_attribute("data-value")) == pytest.approx(expected, rel=TOL)
    page.locator("#reset").focus()
    page.keyboard.press("Enter")
    assert float(page.get_by_label("w7", exact=True).input_value()) == start
    assert browser_page.requests == [] and browser_page.errors == []


TRAINED = re.compile(r"trained (\d+) epochs in the page")


@pytest.mark.parametrize("options", slow_after(1, [[], ["--optimizer", "momentum", "--momentum", "0.5", "--batch-size", "6", "--no-shuffle"],
                                     ["--optimizer", "adam", "--batch-size", "7", "--seed", "4"],
                                     ["--standardize", "--val-split", "0.25", "--activation", "tanh"],
                                     ["--loss", "half-sse", "--lr", "0.005"], ["--no-bias"], ["--freeze", "b1,w2"],
                                     ["--optimizer", "nesterov", "--momentum", "0.5", "--batch-size", "5", "--no-shuffle"],
                                     ["--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--epsilon", "1e-6"],
                                     ["--target", "y1,y2"], ["--activation", "relu", "--hidden", "3"]]),
                         ids=["gd, full batches", "momentum, batches in file order", "adam, shuffled batches",
                              "z-scores, rows held out", "half-sse", "no bias", "frozen", "nesterov, momentum 0.5",
                              "adam, other betas", "two targets", "relu, 3 hidden units"])
def test_train_from_here_is_the_command_line_the_page_shows_on_the_files_it_saves(browser_page, run, workdir, options):
    """Set a weight, save the weights and the rows, train in the page for some epochs: the command
    line the page shows, run on the saved files for as many epochs, ends at the page's weights."""
    page = trained_page(browser_page, run, workdir, "0.05", 30, *options)
    page.locator("#last").click()
    page.get_by_label("w3", exact=True).fill("0.25")
    assert save_weights_and_rows(page, workdir) == ["weights.json", "rows.csv"]
    shown, trained = trained_in_the_page_and_by_its_command(page, run, workdir)
    assert shown == pytest.approx(trained, rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
@pytest.mark.parametrize("loss, labels", [("bce", ("no", "yes")), ("cross-entropy", ("cat", "dog", "eel"))],
                         ids=["bce", "cross-entropy, 3 classes"])
def test_train_from_here_for_a_classifier_is_the_command_line_the_page_shows(browser_page, run, workdir, loss, labels):
    """A classifier's page: set a weight, save the weights and the rows (each row's class label),
    train in the page for some epochs; its command line (with --loss) on the saved files, for as
    many epochs, ends at the page's weights."""
    page = classifier_page(browser_page, run, workdir, loss, labels)
    assert f"--loss {loss}" in page.locator("#command-train").inner_text()
    page.get_by_label("w3", exact=True).fill("0.25")
    assert save_weights_and_rows(page, workdir) == ["weights.json", "rows.csv"]
    assert (workdir / "rows.csv").read_text() == (workdir / "d.csv").read_text()
    shown, trained = trained_in_the_page_and_by_its_command(page, run, workdir)
    assert shown == pytest.approx(trained, rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


def test_a_run_on_more_rows_than_the_page_holds_plays_back_and_says_so(browser_page, run, workdir):
    from fwdback.playback import LIVE_ROWS

    page = trained_page(browser_page, run, workdir, "0.05", 2, rows=LIVE_ROWS + 1)
    assert page.locator("#parameters input").count() == 0
    assert "plays the run back: it trained on 10,001 rows, more than the 10,000 a page holds" in page.locator("#weights").inner_text()
    assert page.locator("#rows tbody tr").count() == 8
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_dragging_an_edge_up_moves_its_weight_a_hundredth_a_pixel(browser_page, run, workdir):
    page = trained_page(browser_page, run, workdir, "0.05", 5)
    start = float(page.get_by_label("w7", exact=True).input_value())
    box = page.locator('svg.network [data-param="w7"] .hit').bounding_box()
    x, y = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 25, steps=5)
    page.mouse.move(x, y - 50, steps=5)
    page.mouse.up()
    assert float(page.get_by_label("w7", exact=True).input_value()) == pytest.approx(start + 0.5, rel=1e-15)
    assert "(pinned)" not in page.locator("#detail").inner_text(), "a drag is not a click"
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_the_keyboard_alone_reaches_every_field_edge_and_button(browser_page, run, workdir):
    """Tab from the top of the page: every parameter's field and edge, and every button of the
    live page, take the focus in turn."""
    page = trained_page(browser_page, run, workdir, "0.05", 5)
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => { const e = document.activeElement;
            return e.closest('svg') ? 'edge ' + e.getAttribute('data-param') : (e.getAttribute('aria-label') || e.id || e.textContent); }"""))
    names = Parameters(np.zeros(11)).names
    assert {f"edge {name}" for name in names} <= reached
    assert set(names) <= reached
    assert {"train", "reset", "save-weights", "save-rows"} <= reached
    assert browser_page.errors == []


@pytest.mark.slow
def test_training_on_past_the_shuffles_the_page_carries_stops_and_says_so(browser_page, run, workdir):
    """A shuffled mini-batch run of 3 epochs carries those 3 epochs' orders of the rows: the
    page trains 3 epochs from here, then stops and says why."""
    page = trained_page(browser_page, run, workdir, "0.01", 3, "--batch-size", "5")
    page.locator("#train").click()
    page.wait_for_function("document.getElementById('train').getAttribute('aria-pressed') === 'false'")
    assert TRAINED.search(page.locator("#epoch-label").inner_text())[1] == "3"
    assert "shuffled orders of the rows for 3 epochs" in page.locator("#live-status").inner_text()
    assert browser_page.errors == []


@pytest.mark.slow
def test_columns_with_spaces_and_quotes_save_and_quote_so_the_command_runs(browser_page, run, workdir):
    """The rows CSV quotes a name with a quote in it, the command line quotes names for the shell:
    the command, as a shell splits it, runs on the saved files and gives the page's loss."""
    import shlex

    (workdir / "d.csv").write_text("x one,it's,\"q\"\"uote\",target y\n1,2,3,4\n2,1,0,1\n0.5,0.25,3,2\n1,1,1,1\n")
    result = run(["train", "d.csv", "--features", "x one,it's,q\"uote", "--target", "target y", "--lr", "0.01", "--epochs", "3",
                  "--tol", "0", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.get_by_label("w1", exact=True).fill("0.5")
    save_weights_and_rows(page, workdir)
    command = shlex.split(page.locator("#command-explain").inner_text())
    assert command[:2] == ["fwdback", "explain"]
    explained = run([*command[1:], "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    expected = json.loads(explained.stdout)
    assert expected["features"] == ["x one", "it's", 'q"uote'] and expected["target"] == "target y"
    assert float(page.get_by_label("loss", exact=True).get_attribute("data-value")) == pytest.approx(expected["loss"], rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_a_mini_batch_pages_explain_command_gives_its_full_batch_numbers(browser_page, run, workdir):
    """At a person's weights the page shows the loss and gradients over every row: the explain
    command it shows for a mini-batch run works the full batch, and gives those numbers."""
    import shlex

    page = trained_page(browser_page, run, workdir, "0.01", 3, "--batch-size", "6", "--optimizer", "adam")
    page.get_by_label("b3", exact=True).fill("-0.75")
    save_weights_and_rows(page, workdir)
    explained = run([*shlex.split(page.locator("#command-explain").inner_text())[1:], "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    expected = json.loads(explained.stdout)
    assert expected["batch"] is None and expected["optimizer"]["name"] == "adam"
    assert float(page.get_by_label("loss", exact=True).get_attribute("data-value")) == pytest.approx(expected["loss"], rel=TOL)
    gradients = numbers(page, "#parameters td[aria-label^='dL/d']")
    assert gradients == pytest.approx({f"dL/d{name}": value for name, value in expected["gradients"].items()}, rel=TOL, abs=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_play_on_a_persons_weights_trains_from_them_and_back_to_the_run_returns(browser_page, run, workdir):
    page = trained_page(browser_page, run, workdir, "0.05", 5)
    recorded = page.locator("#epoch-label").inner_text()
    page.locator('svg.network [data-param="b3"]').focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.wait_for_function("/trained ([3-9]|\\d\\d+) epochs/.test(document.getElementById('epoch-label').textContent)")
    page.keyboard.press("Space")
    assert page.locator("#train").get_attribute("aria-pressed") == "false"
    page.locator("#reset").click()
    assert page.locator("#epoch-label").inner_text() == recorded
    assert browser_page.errors == []


def _flags(command: str) -> dict[str, str]:
    """A command line's options and their values ("" for a flag), as a shell splits it."""
    options, words = {}, shlex.split(command)
    for at, word in enumerate(words):
        if word.startswith("--"):
            following = words[at + 1] if at + 1 < len(words) else "--"
            options[word] = "" if following.startswith("--") else following
    return options


@pytest.mark.parametrize("options, explain, train", [
    (["--lr", "0.05", "--epochs", "3", "--tol", "0", "--standardize", "--val-split", "0.25", "--patience", "2",
      "--min-delta", "0.1", "--seed", "3"],
     {"--lr": "0.05", "--no-standardize": "", "--seed": "3"},
     {"--lr": "0.05", "--no-standardize": "", "--seed": "3", "--tol": "0"}),
    (["--lr", "0.05", "--epochs", "3", "--tol", "0", "--features", "x3,x1", "--target", "y1,y2", "--hidden", "3",
      "--activation", "tanh", "--output-activation", "sigmoid", "--no-bias", "--loss", "half-mse", "--batch-size", "4",
      "--no-shuffle", "--freeze", "w1,w8", "--optimizer", "momentum", "--momentum", "0.5"],
     {"--features": "x3,x1", "--target": "y1,y2", "--hidden": "3", "--activation": "tanh", "--output-activation": "sigmoid",
      "--no-bias": "", "--lr": "0.05", "--no-standardize": "", "--loss": "half-mse", "--freeze": "w1,w8",
      "--optimizer": "momentum", "--momentum": "0.5"},
     {"--features": "x3,x1", "--target": "y1,y2", "--hidden": "3", "--activation": "tanh", "--output-activation": "sigmoid",
      "--no-bias": "", "--lr": "0.05", "--no-standardize": "", "--loss": "half-mse", "--freeze": "w1,w8",
      "--optimizer": "momentum", "--momentum": "0.5", "--batch-size": "4", "--no-shuffle": "", "--tol": "0"}),
    (["--lr", "0.05", "--epochs", "3", "--tol", "0", "--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.999",
      "--epsilon", "1e-6", "--batch-size", "7"],
     {"--lr": "0.05", "--no-standardize": "", "--optimizer": "adam", "--beta1": "0.8", "--epsilon": "1e-06"},
     {"--lr": "0.05", "--no-standardize": "", "--optimizer": "adam", "--beta1": "0.8", "--epsilon": "1e-06",
      "--batch-size": "7", "--tol": "0"}),
], ids=["what the page decides itself", "the network's shape and the rule's settings", "adam, a default left out"])
def test_the_pages_command_lines_give_the_settings_the_run_differs_in_and_the_page_uses(run, workdir, options, explain, train):
    """The page's explain and train command lines (its data's, which page.js shows after
    `rows.csv --init FILE`) name exactly the settings that differ from their defaults and that the
    page's run uses: the run's learning rate and --no-standardize (rows.csv is in training's units),
    no rows held out and no early stop (so no --min-delta either: the command line refuses a
    setting its run does not use), --tol 0 for train, no batches for explain, nothing at its
    default (adam's beta2)."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--report", "run.html", "--no-save", "-q", *options])
    assert result.exit_code == 0, result.stderr
    html = (workdir / "run.html").read_text()
    data = json.loads(re.search(r'<script id="fwdback-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert _flags(data["commands"]["explain"]) == explain
    assert _flags(data["commands"]["train"]) == train


@pytest.mark.parametrize("loss, labels", [("bce", ("no", "yes")), ("cross-entropy", ("cat", "dog", "eel"))])
def test_a_classifiers_page_carries_its_classes_and_its_command_lines_its_loss(run, workdir, loss, labels):
    """A classifier's page data: its target column and sorted labels, its rows' targets as the loss
    reads them (0/1, or one-hot), and command lines that name --loss and leave the output
    activation to it (softmax is no --output-activation choice)."""
    write_classes(workdir / "d.csv", tuple(reversed(labels)))
    result = run(["train", "d.csv", "--features", "x1,x2", "--loss", loss, "--lr", "0.5", "--epochs", "3", "--tol", "0",
                  "--no-standardize", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    html = (workdir / "run.html").read_text()
    data = json.loads(re.search(r'<script id="fwdback-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert data["classes"] == {"column": "y", "labels": list(labels)}
    file_labels = [line.rsplit(",", 1)[1] for line in (workdir / "d.csv").read_text().splitlines()[1:]]
    index = [labels.index(label) for label in file_labels]
    assert data["rows"]["y"] == (index if len(labels) == 2 else np.eye(len(labels))[index].tolist())
    flags = {"--features": "x1,x2", "--lr": "0.5", "--no-standardize": "", "--loss": loss}
    assert _flags(data["commands"]["explain"]) == flags
    assert _flags(data["commands"]["train"]) == flags | {"--tol": "0"}


def test_a_kept_epoch_after_edited_rows_is_the_run_on_its_rows_as_explain_of_the_saved_files(browser_page, run, workdir):
    """Add a point, then step to epoch 3: the page goes back to the run's rows with its weights
    (a note says so), the label says what was changed while it was, and the loss and every
    gradient shown are what `fwdback explain` prints on the rows and weights the page then saves,
    run as the page's own command line; the saved rows are the run's 20."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--features", "x1,x2", "--activation", "tanh", "--lr", "0.05", "--epochs", "5", "--tol", "0",
                  "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator("#add-point").click()
    assert page.locator("#epoch-label").inner_text().startswith("the run's weights at epoch 1 of 5, on your 21 rows, loss ")
    page.get_by_label("w1", exact=True).fill("0.25")
    assert page.locator("#epoch-label").inner_text().startswith("your weights and your 21 rows, set at epoch 1 of 5, loss ")
    page.locator("#forward").click()
    page.locator("#forward").click()
    assert page.locator("#epoch-label").inner_text().startswith("epoch 3 of 5")
    assert "rows are back" in page.locator("#live-status").inner_text()
    assert page.evaluate("fwdbackPage.X.length") == 20 and page.locator("#data-plot .point").count() == 20
    for button in ("#save-weights", "#save-rows"):
        with page.expect_download() as saving:
            page.locator(button).click()
        saving.value.save_as(workdir / saving.value.suggested_filename)
    run_rows = np.loadtxt(workdir / "d.csv", delimiter=",", skiprows=1)[:, [0, 1, 3]]
    assert np.array_equal(np.loadtxt(workdir / "rows.csv", delimiter=",", skiprows=1), run_rows)
    result = run([*page.locator("#command-explain").inner_text().split()[1:], "--format", "json"])
    assert result.exit_code == 0, result.stderr
    expected = json.loads(result.stdout)
    assert float(page.get_by_label("loss", exact=True).get_attribute("data-value")) == pytest.approx(expected["loss"], rel=TOL)
    gradients = numbers(page, "#parameters td[aria-label^='dL/d']")
    assert gradients == pytest.approx({f"dL/d{name}": value for name, value in expected["gradients"].items()}, rel=TOL, abs=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


def test_training_in_the_page_draws_its_losses_on_the_chart_and_its_command_counts_the_epochs(browser_page, run, workdir):
    """Train from here at epoch 2 of 200 for some epochs (fewer than
    198: all on the chart): the loss chart gets a second line, one
    point an epoch from epoch 2 (the loss at each weights gradient descent goes through from
    epoch 2's, by network.py, at the chart's scale, to its 0.1 px rounding), and the marker at the last; the train command line says --epochs N, N the epochs
    trained. The label says the run's weights, not a person's."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--lr", "0.05", "--epochs", "200", "--tol", "0", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator("#forward").click()
    start = page.evaluate("fwdbackPage.weights().slice()")
    page.locator("#train").click()
    page.wait_for_function("/trained ([3-9]|\\d\\d+) epochs/.test(document.getElementById('epoch-label').textContent)")
    page.locator("#train").click()
    label = page.locator("#epoch-label").inner_text()
    assert label.startswith("the run's weights at epoch 2 of 200, trained ")
    epochs = int(TRAINED.search(label)[1])
    assert f"--epochs {epochs} " in page.locator("#command-train").inner_text()
    path = page.locator("#loss-trained path").get_attribute("d")
    points = [tuple(map(float, point.split(","))) for point in re.findall(r"[-\d.]+,[-\d.]+", path)]
    assert len(points) == epochs + 1
    marker = page.locator("#loss-marker")
    assert (float(marker.get_attribute("cx")), float(marker.get_attribute("cy"))) == points[-1]
    chart = page.evaluate("""Object.fromEntries(Array.from(document.querySelector('svg.loss-plot').attributes)
        .filter(a => a.name.startsWith('data-')).map(a => [a.name.slice(5), Number(a.value)]))""")

    def pixel(v, axis, low, high):
        t = ((np.log10(v) if chart[f"{axis}-log"] == 1 else v) - chart[f"{axis}-low"]) / (chart[f"{axis}-high"] - chart[f"{axis}-low"])
        return low + t * (high - low)
    rows = np.loadtxt(workdir / "d.csv", delimiter=",", skiprows=1)
    X, y = rows[:, :3], rows[:, 3]
    params = Parameters(np.array(start))
    for epoch, (x_px, y_px) in enumerate(points, start=2):
        fwd = forward(params, X)
        assert abs(pixel(epoch, "x", chart["left"], chart["right"]) - x_px) <= 0.05 + 1e-9
        assert abs(pixel(loss(y, fwd), "y", chart["bottom"], chart["top"]) - y_px) <= 0.05 + 1e-9
        params = params.like(params.vector - 0.05 * backward(params, X, y, fwd).gradients.vector)
    assert browser_page.requests == [] and browser_page.errors == []


def live_run_page(browser_page, run, workdir, *options):
    """The live page of 5 epochs on write_rows' 20 rows, open."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--lr", "0.05", "--epochs", "5", "--tol", "0", "--report", "run.html", "--no-save", "-q", *options])
    assert result.exit_code == 0, result.stderr
    return browser_page.open(workdir / "run.html")


@pytest.mark.slow
def test_a_field_holding_no_number_is_marked_and_the_page_keeps_its_last_valid_value(browser_page, run, workdir):
    """Typed key by key, "1e400" passes through 1e40 (a number) to past float64's largest (none):
    the field is marked invalid, says what to type and that the page computes with w1 = 1e40,
    and the loss stays 1e40's; "-" alike after 0.25; a number again clears the mark."""
    page = live_run_page(browser_page, run, workdir)
    field = page.get_by_label("w1", exact=True)
    loss = lambda: float(page.locator("#loss").get_attribute("data-value"))  # noqa: E731
    for valid, typed, kept in (("1e40", "1e400", "1e+40"), ("0.25", "-", "0.25")):
        field.fill(valid)
        at_valid = loss()
        field.fill("")
        field.press_sequentially(typed)
        assert field.get_attribute("aria-invalid") == "true"
        note = page.locator("#" + field.get_attribute("aria-describedby")).inner_text()
        assert "Type a number" in note and f"w1 = {kept}, its last valid value" in note
        assert loss() == at_valid
        assert page.evaluate("fwdbackPage.weights()[0]") == float(valid)
    field.fill("0.5")
    assert field.get_attribute("aria-invalid") is None and field.get_attribute("aria-describedby") is None
    assert page.locator(".field-note").count() == 0
    assert browser_page.requests == [] and browser_page.errors == []


def test_the_arrow_keys_in_a_weight_field_step_it_as_on_its_edge(browser_page, run, workdir):
    """↑ in the field adds 0.01, Page Down takes 0.1, as on the focused edge (not the browser's
    step of 1), the same float64 additions Python makes; the caption says so."""
    page = live_run_page(browser_page, run, workdir)
    field = page.get_by_label("w4", exact=True)
    start = float(field.input_value())
    field.press("ArrowUp")
    assert float(field.input_value()) == start + 0.01
    assert page.evaluate("fwdbackPage.weights()[3]") == start + 0.01
    field.press("PageDown")
    assert float(field.input_value()) == start + 0.01 - 0.1
    assert "or the field and press ↑ or ↓ to step it by 0.01 (Page Up, Page Down: by 0.1)" in page.locator("#weights").inner_text()
    assert browser_page.errors == []


def test_frozen_parameters_are_marked_in_the_parameters_table(browser_page, run, workdir):
    page = live_run_page(browser_page, run, workdir, "--freeze", "b1,b3")
    marked = {name for name in Parameters(np.zeros(11)).names
              if "(frozen: keeps its value)" in page.locator(f'#parameters tr[data-param="{name}"] td').first.inner_text()}
    assert marked == {"b1", "b3"}


@pytest.mark.slow
def test_a_playback_pages_save_button_is_styled_and_saves_the_file_its_text_names(browser_page, run, workdir):
    from fwdback.playback import LIVE_ROWS

    write_rows(workdir / "d.csv", n=LIVE_ROWS + 1)
    result = run(["train", "d.csv", "--lr", "0.05", "--epochs", "2", "--tol", "0", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    style = "b => [getComputedStyle(b).borderRadius, getComputedStyle(b).padding, getComputedStyle(b).backgroundColor]"
    assert page.locator("#save-weights").evaluate(style) == page.locator("#play").evaluate(style)
    for _ in range(2):
        with page.expect_download() as saved:
            page.locator("#save-weights").click()
        named = page.locator("#weights").inner_text()
        assert f"--init {saved.value.suggested_filename} to start from" in named
        page.locator("#forward").click()
    assert browser_page.requests == [] and browser_page.errors == []


def test_at_390_px_every_weight_field_shows_its_whole_value_on_the_screen(browser_page, run, workdir):
    """On a phone's width each field is as wide as its value (no text scrolled out of it) and
    lies inside the screen, the table with it (nothing to scroll sideways to)."""
    browser_page.page.set_viewport_size({"width": 390, "height": 800})
    page = live_run_page(browser_page, run, workdir)
    fields = page.evaluate("""() => Array.from(document.querySelectorAll('#parameters input')).map(f =>
        [f.value, f.scrollWidth <= f.clientWidth, f.getBoundingClientRect().right <= window.innerWidth])""")
    assert len(fields) == 11 and all(len(value) > 15 and whole and inside for value, whole, inside in fields), fields
    table = page.locator("#parameters")
    assert table.evaluate("t => t.scrollWidth <= t.parentNode.clientWidth")
