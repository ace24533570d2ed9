"""The live page's pieces of issue 22 in Chromium: stepping through one epoch (stepper.js), the
graph of one row (rowgraph.js) and the edited data (dataplot.js), against `fwdback explain
--format json` and network.py.

The tolerance is test_page_live's, from the same arithmetic (its module docstring): the page
and Python do the same float64 operations, perhaps summed in another order, fewer than 100 of
them to any quantity, so they differ by less than TOL = 1e-12 of the quantity's magnitude (the
quantity computed on absolute values), which is the quantity itself where nothing cancels.
"""

from __future__ import annotations

import json
from pathlib import Path
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from cases import slow_after
from fwdback.losses import LOSS_NAMES, LOSSES
from fwdback.network import Parameters, as_rows, backward, forward, loss, loss_divisor, output_names
from fwdback.playback import network_document
from test_page_live import RUNS, TOL, TRAINED, classifier_page, js, trained_in_the_page_and_by_its_command, magnitudes, networks, sample_page, within, write_rows  # noqa: F401 (fixtures)

def state_of(explained: dict) -> dict:
    """The update rule's numbers explain prints, by the page's data-q names: "t", "v_w1", "m_w1",
    "s_w1" (the state after the update) and "mhat_w1", "shat_w1" (the moments over 1 - beta^t)."""
    rule = explained["optimizer"]
    numbers = {f"{kind}_{name}": value for kind, values in rule.get("after", {}).items() for name, value in values.items()}
    if rule["name"] == "adam":
        for name, value in rule["after"]["m"].items():
            numbers[f"mhat_{name}"] = value / (1 - rule["beta1"] ** rule["t"])
            numbers[f"shat_{name}"] = rule["after"]["s"][name] / (1 - rule["beta2"] ** rule["t"])
    if rule["name"] != "gd":
        numbers["t"] = rule["t"]
    return numbers


def live_page(browser_page, run, workdir, options):
    """A live page of 5 epochs on write_rows' 20 rows, open; its weights written to w.json."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--lr", "0.01", "--epochs", "5", "--tol", "0", "--report", "run.html", "--no-save", "-q", *options])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    weights = page.evaluate("Object.fromEntries(fwdbackPage.names.map((name, i) => [name, fwdbackPage.weights()[i]]))")
    (workdir / "w.json").write_text(json.dumps(weights))
    return page


def explained(run, options) -> dict:
    result = run(["explain", "d.csv", "--init", "w.json", "--lr", "0.01", "--format", "json", *options])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def every_step(page) -> dict[str, float]:
    """Step through the whole epoch with the keyboard alone (] for the next step): every number
    the steps show, by its quantity's name (data-q)."""
    seen = {}
    total = int(page.locator("#step-where").inner_text().split(" of ")[1].split(":")[0])
    for at in range(total):
        assert page.locator("#step-shown").get_attribute("data-step") == str(at)
        seen.update(page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('#step-shown [data-q]'))
            .map(e => [e.getAttribute('data-q'), Number(e.getAttribute('data-value'))]))"""))
        page.keyboard.press("]")
    return seen


@pytest.mark.parametrize("options", slow_after(1, [RUNS["lecture"], RUNS["tanh, two sigmoid outputs, half-mse, no biases, frozen"],
                                     RUNS["relu, sse, b1 frozen, nesterov"]]), ids=["lecture", "tanh-sigmoid-2-outputs", "relu-sse-nesterov"])
def test_each_steps_numbers_are_what_explain_prints_for_the_same_weights(browser_page, run, workdir, options):
    """Every number of every step, the forward pass's per row, the loss, each gradient and each
    weight after the update, is explain's for the page's weights (a row term that explain does
    not print, dL/dz1 * x1 of row 1, is network.py's)."""
    page = live_page(browser_page, run, workdir, options)
    expected = explained(run, options)
    seen = every_step(page)
    rows = expected["rows"]
    compared = set()
    for key, got in seen.items():
        if key == "loss":
            want = expected["loss"]
        elif key.endswith(" after"):
            want = expected["weights_after"][key[:-len(" after")]]
        elif key in state_of(expected):
            want = state_of(expected)[key]
        elif "," in key and "·" not in key:
            name, row = key.split(",")
            want = rows[int(row) - 1][name.replace("dL/d", "dL_d")]
        elif "," not in key:
            want = expected["gradients"][key[len("dL/d"):]]
        else:
            continue
        compared.add(key)
        assert got == pytest.approx(want, rel=TOL, abs=TOL), key
    names = expected["gradients"]
    assert {"loss", *(f"dL/d{name}" for name in names), "N1,1", "N1,2"} <= compared
    if expected["optimizer"]["name"] == "gd" or not expected["frozen"]:
        assert {f"{name} after" for name in names if name not in expected["frozen"]} <= compared
    assert browser_page.requests == [] and browser_page.errors == []


def by_hand(page, workdir) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """The page's weights (the run's at epoch 1) on d.csv, worked in plain NumPy from the lecture's
    equations, each parameter placed by the names the page's figure draws: the probabilities P,
    shape (m, n) (sigmoid's 1/(1 + exp(-a)) for one output, exp(a_j)/sum_l exp(a_l) for several),
    the targets Y, shape (m, n) (0/1, or one-hot by the sorted labels), the labels, n."""
    data = page.evaluate("JSON.parse(document.getElementById('fwdback-data').textContent)")
    net, w = data["network"], dict(zip(data["network"]["names"], data["epochs"]["weights"][0]))
    rows = [line.split(",") for line in (workdir / "d.csv").read_text().splitlines()[1:]]
    X = np.array([[float(a), float(b)] for a, b, _ in rows])
    value = np.vectorize(lambda name: w[name])
    N = np.tanh(value(np.array(net["W_hidden"])) @ X.T + value(np.array(net["b_hidden"]))[:, None])
    A = value(np.array(net["W_out"])) @ N + value(np.array(net["b_outputs"]))[:, None]
    labels = sorted({label for _, _, label in rows})
    classes = np.array([labels.index(label) for _, _, label in rows])
    if len(A) == 1:
        return 1 / (1 + np.exp(-A)), classes[None, :].astype(float), labels, len(rows)
    return np.exp(A) / np.exp(A).sum(axis=0), np.eye(len(labels))[classes].T, labels, len(rows)


@pytest.mark.parametrize("loss, labels", slow_after(1, [("bce", ("no", "yes")), ("cross-entropy", ("cat", "dog", "eel"))], unpack=True),
                         ids=["bce", "cross-entropy, 3 classes"])
def test_the_cancellation_step_is_the_chain_rules_product_with_row_1s_numbers(browser_page, run, workdir, loss, labels):
    """The stepper's loss terms and its cancellation, against the same worked by hand: bce's
    dL/dyhat = -(1/n)(y/yhat - (1 - y)/(1 - yhat)) and dyhat/da = yhat (1 - yhat); cross-entropy's
    dL/dyhat_c = -(1/n)/yhat_c for row 1's class c and the softmax Jacobian yhat_c (delta_cj -
    yhat_j); their products, and (yhat - y)/n, which they equal. Each quantity is fewer than 30
    roundings from the weights, each magnified at most 1/min(yhat, 1 - yhat) <= 20 by the
    divisions and logarithms for the probabilities asserted in (0.05, 0.95): within 600 eps <
    1.4e-13 of itself, so TOL relative holds."""
    page = classifier_page(browser_page, run, workdir, loss, labels)
    P, Y, found, n = by_hand(page, workdir)
    assert np.all((P > 0.05) & (P < 0.95))
    seen = every_step(page)
    terms = -(Y * np.log(P)).sum(axis=0) if len(P) > 1 else -(Y * np.log(P) + (1 - Y) * np.log(1 - P))[0]
    expected = {"term,1": terms[0], "term,2": terms[1], "loss": terms.sum() / n}
    if len(P) == 1:
        p, y = P[0, 0], Y[0, 0]
        expected |= {"dL/dyhat,1": -(y / p - (1 - y) / (1 - p)) / n, "dyhat/da,1": p * (1 - p),
                     "dL/dyhat·dyhat/da,1": -(y / p - (1 - y) / (1 - p)) / n * p * (1 - p), "dL/da,1": (p - y) / n}
    else:
        c = int(np.argmax(Y[:, 0]))
        expected[f"dL/dyhat{c + 1},1"] = -1 / (n * P[c, 0])
        for j in range(len(P)):
            expected[f"dL/dyhat{c + 1}·dyhat{c + 1}/da{j + 1},1"] = -1 / (n * P[c, 0]) * P[c, 0] * ((j == c) - P[j, 0])
            expected[f"dL/da{j + 1},1"] = (P[j, 0] - Y[j, 0]) / n
    for key, want in expected.items():
        assert seen[key] == pytest.approx(want, rel=TOL), key
    cancelled = [key for key in expected if "·" in key]
    assert cancelled and all(expected[key] == pytest.approx(expected["dL/da" + key.rsplit("/da", 1)[1]], rel=TOL) for key in cancelled)
    first = found[int(np.argmax(Y[:, 0])) if len(P) > 1 else int(Y[0, 0])]
    assert page.locator("#data-plot [data-row]").nth(0).get_attribute("aria-label").endswith(f"class {first}")
    assert browser_page.requests == [] and browser_page.errors == []


def test_a_backward_step_lights_its_edges_and_units(browser_page, run, workdir):
    """The step of dL/dw1 lights w1 and the output weights it flows through, x1, N1 and ŷ; the
    forward step of row 2 lights row 2 of the rows table."""
    page = live_page(browser_page, run, workdir, ["--activation", "tanh"])
    page.get_by_role("button", name="Next step").focus()
    while "Backward: w1" not in page.locator("#step-where").inner_text():
        page.keyboard.press("Enter")
    lit = page.evaluate("Array.from(document.querySelectorAll('svg.network [data-param].lit')).map(e => e.getAttribute('data-param'))")
    assert sorted(lit) == ["w1", "w7"]
    units = page.evaluate("Array.from(document.querySelectorAll('svg.network g.node.lit text:first-of-type')).map(e => e.textContent)")
    assert sorted(units) == ["N1", "x1", "ŷ"]
    page.get_by_role("button", name="Previous step").click()
    while "Forward, row 2" not in page.locator("#step-where").inner_text():
        page.get_by_role("button", name="Previous step").click()
    assert page.evaluate("Array.from(document.querySelectorAll('#rows tbody tr')).findIndex(tr => tr.classList.contains('lit'))") == 1
    assert browser_page.requests == [] and browser_page.errors == []


def classifier_nodes(fwd, Y, i, j, suffix: str, output: str, convention: str, size: dict) -> dict:
    """A classifier's row-graph nodes of output j at row i, as (value, gradient, value's scale,
    gradient's scale): yhat_j, whose gradient is the loss's derivative taken apart from the link's,
    (1/n)(-y/yhat + (1 - y)/(1 - yhat)) for bce, -(1/n) y_j/yhat_j for cross-entropy; y_j, whose
    gradient is (1/n)(-log yhat_j) (bce: -a/n); and the row's term, with gradient 1/n. 1/yhat
    magnifies the absolute rounding of yhat (at most the logits' scale + 1, as magnitudes) by
    1/yhat: the gradient's scale is |itself| (scale + 1)/min(yhat, 1 - yhat)."""
    n, P, A = len(Y[0]), fwd.Yhat, fwd.A
    p, t = P[j, i], Y[j, i]
    over = lambda top, bottom: 0.0 if top == 0 else top / bottom  # noqa: E731  (0 y_j: no term, whatever yhat_j)
    binary = len(Y) == 1
    dyhat = (over(-t, p) + over(1 - t, 1 - p) if binary else over(-t, p)) / n
    top = A[:, i].max()
    log_sum = top + np.log(np.exp(A[:, i] - top).sum())
    logit_scale = size["A"][:, i]
    minus_log = np.logaddexp(0.0, A[0, i]) - A[0, i] if binary else log_sum - A[j, i]  # -log yhat_j from the logits
    nodes = {output: (p, dyhat, logit_scale[j] + 1, abs(dyhat) * (logit_scale[j] + 1) / min(p, 1 - p)),
             f"y{suffix}": (t, (-A[0, i] if binary else minus_log) / n, None, (logit_scale.max() + np.log(len(Y) + 1) + logit_scale[j]) / n)}
    if j == len(Y) - 1:
        term = np.logaddexp(0.0, A[0, i]) - t * A[0, i] if binary else log_sum - Y[:, i] @ A[:, i]
        nodes["term"] = (term, 1 / n, logit_scale.max() + np.log(len(Y) + 1) + ((1 + np.abs(Y[:, i])) * logit_scale).sum(), None)
    return nodes


GRAPH = """([net, w, X, Y, i, convention]) => Object.fromEntries(
    fwdbackRowGraph.build(net, w, X, Y, i, convention).map(node => [node.key, [node.value, node.grad]]))"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=networks(losses=LOSS_NAMES))
def test_the_row_graphs_values_and_gradients_are_network_pys_per_row_terms(js, drawn):
    """Each node of a row's graph: its value is network.py's forward pass's, its gradient
    network.py's per-row term (dL/dz_h,i; dL/dw = dL/dz_h,i * x_c,i; dL/dx_c,i = sum_h w_hc dL/dz_h,i;
    ...), on networks hypothesis draws (classifiers too: classifier_nodes), for their last row; L is the loss."""
    params, X, y, convention, _ = drawn
    fwd = forward(params, X)
    size = magnitudes(params, X, y, convention)
    if params.activation == "relu" or params.output_activation == "relu":
        assume(np.all(np.abs(fwd.Z) > TOL * size["Z"]) and np.all(np.abs(fwd.A) > TOL * size["A"]))
    m = params.n_outputs
    net = network_document(params, [f"x{c + 1}" for c in range(params.n_inputs)], output_names("y", m))
    i = len(X) - 1
    got = js.page.evaluate(GRAPH, [net, params.vector.tolist(), X.tolist(), as_rows(y).tolist(), i, convention])
    back = backward(params, X, y, fwd, convention)
    Wh, Wo, _, _ = params.layers
    value_of = dict(zip(params.names, params.vector.tolist()))
    dYm = 2 / loss_divisor(convention, len(X)) * (np.abs(as_rows(y)) + size["A"] + np.abs(fwd.Yhat))
    expected = {"L": (loss(y, fwd, convention), None, size["loss"], None)}
    hidden = "identity" if params.activation == "identity" else None
    for h in range(params.n_hidden):
        dz, dzm = back.dL_dZ[h, i], size["dL_dZ"][h, i]
        for c, name in enumerate(net["W_hidden"][h]):
            expected[name] = (Wh[h, c], dz * X[i, c], abs(value_of[name]), dzm * abs(X[i, c]))
            expected[f"{name}*x{c + 1}"] = (Wh[h, c] * X[i, c], dz, abs(value_of[name]) * abs(X[i, c]), dzm)
        if params.bias:
            expected[net["b_hidden"][h]] = (value_of[net["b_hidden"][h]], dz, None, dzm)
        if hidden is None:
            expected[f"z{h + 1}"] = (fwd.Z[h, i], dz, size["Z"][h, i], dzm)
        expected[f"N{h + 1}"] = (fwd.N[h, i], back.dL_dN[h, i], size["Z"][h, i] + abs(fwd.N[h, i]), size["dL_dN"][h, i])
    for c in range(params.n_inputs):
        expected[f"x{c + 1}"] = (X[i, c], Wh[:, c] @ back.dL_dZ[:, i], abs(X[i, c]), np.abs(Wh[:, c]) @ size["dL_dZ"][:, i])
    suffix = [""] if m == 1 else [str(j + 1) for j in range(m)]
    for j, output in enumerate(net["outputs"]):
        da, dam = back.dL_dA[j, i], size["dL_dA"][j, i]
        for h, name in enumerate(net["W_out"][j]):
            expected[name] = (Wo[j, h], da * fwd.N[h, i], abs(value_of[name]), dam * (size["Z"][h, i] + abs(fwd.N[h, i])))
            expected[f"{name}*N{h + 1}"] = (Wo[j, h] * fwd.N[h, i], da, abs(Wo[j, h]) * (size["Z"][h, i] + abs(fwd.N[h, i])), dam)
        if params.output_activation != "identity":
            expected[f"a{suffix[j]}"] = (fwd.A[j, i], da, size["A"][j, i], dam)
        if LOSSES[convention].classifies:
            expected |= classifier_nodes(fwd, as_rows(y), i, j, suffix[j], output, convention, size)
            continue
        error = as_rows(y)[j, i] - fwd.Yhat[j, i]
        expected[output] = (fwd.Yhat[j, i], back.dL_dYhat[j, i], size["A"][j, i] + abs(fwd.Yhat[j, i]), dYm[j, i])
        expected[f"e{suffix[j]}"] = (error, -back.dL_dYhat[j, i], size["A"][j, i] + abs(fwd.Yhat[j, i]) + abs(as_rows(y)[j, i]), dYm[j, i])
    for key, (value, gradient, value_size, gradient_size) in expected.items():
        assert key in got, (key, sorted(got))
        within(got[key][0], value, abs(value) if value_size is None else value_size, f"{key} value")
        if gradient is not None:
            within(got[key][1], gradient, abs(gradient) if gradient_size is None else gradient_size, f"dL/d{key}")
    assert got["L"][1] == 1.0


def rows_file(path, k: int, n: int = 12) -> np.ndarray:
    """n rows of k inputs and y, written as a CSV; the rows, shape (n, k + 1)."""
    rng = np.random.default_rng(11 + k)
    rows = rng.uniform(-1, 1, (n, k + 1))
    header = [f"x{c + 1}" for c in range(k)] + ["y"]
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(repr, row)) + "\n" for row in rows.tolist()))
    return rows


@pytest.mark.parametrize("k", slow_after(1, [1, 2]))
def test_the_edited_rows_are_what_the_page_computes_on_and_saves(browser_page, run, workdir, k):
    """With the keyboard, remove row 3 (Delete on its point), set row 1's y in its field, add a
    row and type its coordinates: the page's loss and gradients are network.py's on the rows so
    edited (worked here from the file's rows), and Save the rows writes exactly them; Back to the
    run puts the file's rows back, with their loss."""
    original = rows_file(workdir / "d.csv", k)
    features = ",".join(f"x{c + 1}" for c in range(k))
    result = run(["train", "d.csv", "--features", features, "--hidden", "3", "--activation", "tanh", "--epochs", "3", "--tol", "0",
                  "--no-standardize", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator('#data-plot [data-row="3"]').focus()
    page.keyboard.press("Delete")
    page.locator('#data-plot [data-row="1"]').focus()
    page.keyboard.press("Enter")
    page.get_by_label("y of the chosen row", exact=True).fill("0.5")
    page.get_by_role("button", name="Add a point").click()
    added = [0.25, -0.125][:k] + [-0.75]
    for name, value in zip([f"x{c + 1}" for c in range(k)] + ["y"], added):
        page.get_by_label(f"{name} of the chosen row", exact=True).fill(repr(value))
    expected = np.delete(original, 2, axis=0)
    expected[0, -1] = 0.5
    expected = np.vstack([expected, added])
    names = page.evaluate("fwdbackPage.names")
    params = Parameters(page.evaluate("fwdbackPage.weights()"), k, 3, "tanh")
    assert list(params.names) == names
    X, y = expected[:, :-1], expected[:, -1]
    fwd = forward(params, X)
    size = magnitudes(params, X, y, "mse")
    within(float(page.get_by_label("loss", exact=True).get_attribute("data-value")), loss(y, fwd, "mse"), size["loss"], "loss")
    gradients = page.evaluate("""names => names.map(name => Number(document.querySelector(`#parameters td[aria-label="dL/d${name}"]`)
        .getAttribute('data-value')))""", names)
    within(gradients, backward(params, X, y, fwd, "mse").gradients.vector, size["gradients"], "gradients")
    with page.expect_download() as download:
        page.get_by_role("button", name="Save the rows").click()
    saved = Path(download.value.path()).read_text().splitlines()
    assert saved[0] == ",".join([f"x{c + 1}" for c in range(k)] + ["y"])
    assert np.array_equal(np.array([[float(v) for v in line.split(",")] for line in saved[1:]]), expected)
    assert page.locator("#data-plot [data-row]").count() == len(expected)
    page.get_by_role("button", name="Back to the run").click()
    assert page.locator("#data-plot [data-row]").count() == len(original)
    X, y = original[:, :-1], original[:, -1]
    within(float(page.get_by_label("loss", exact=True).get_attribute("data-value")), loss(y, forward(params, X), "mse"),
           magnitudes(params, X, y, "mse")["loss"], "the run's loss")
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_a_classifiers_rows_edited_by_class_are_what_the_page_computes_on_and_saves(browser_page, run, workdir):
    """A 3-class page of two inputs: row 1's class chosen as "eel" in its field, row 2 removed by
    Delete, a point added (it takes the chosen row's class) at the plot's centre and moved by typed
    coordinates: the loss and gradients are network.py's on the rows so edited, with their one-hot
    targets by the sorted labels, and Save the rows writes them with their labels."""
    page = classifier_page(browser_page, run, workdir, "cross-entropy", ("cat", "dog", "eel"))
    rows = [line.split(",") for line in (workdir / "d.csv").read_text().splitlines()[1:]]
    page.locator('#data-plot [data-row="2"]').focus()
    page.keyboard.press("Delete")
    page.locator('#data-plot [data-row="1"]').focus()
    page.keyboard.press("Enter")
    page.get_by_label("y of the chosen row", exact=True).select_option("eel")
    page.get_by_role("button", name="Add a point").click()
    page.get_by_label("x1 of the chosen row", exact=True).fill("0.25")
    page.get_by_label("x2 of the chosen row", exact=True).fill("-0.125")
    edited = [[rows[0][0], rows[0][1], "eel"], *rows[2:], ["0.25", "-0.125", "eel"]]
    X = np.array([[float(a), float(b)] for a, b, _ in edited])
    Y = np.eye(3)[[("cat", "dog", "eel").index(label) for _, _, label in edited]]
    params = Parameters(page.evaluate("fwdbackPage.weights()"), 2, 3, "tanh", n_outputs=3, output_activation="softmax")
    assert list(params.names) == page.evaluate("fwdbackPage.names")
    fwd = forward(params, X)
    size = magnitudes(params, X, Y, "cross-entropy")
    within(float(page.get_by_label("loss", exact=True).get_attribute("data-value")), loss(Y, fwd, "cross-entropy"), size["loss"], "loss")
    gradients = page.evaluate("""names => names.map(name => Number(document.querySelector(`#parameters td[aria-label="dL/d${name}"]`)
        .getAttribute('data-value')))""", list(params.names))
    within(gradients, backward(params, X, Y, fwd, "cross-entropy").gradients.vector, size["gradients"], "gradients")
    with page.expect_download() as saving:
        page.locator("#save-rows").click()
    saving.value.save_as(workdir / "rows.csv")
    assert (workdir / "rows.csv").read_text().splitlines() == ["x1,x2,y", *(",".join(row) for row in edited)]
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_a_click_on_an_empty_place_adds_a_row_and_a_drag_moves_one(browser_page, run, workdir):
    """The mouse: a click where no point is adds a row there; dragging a point moves its row, the
    point following the pointer to where it lets go."""
    rows_file(workdir / "d.csv", 1)
    result = run(["train", "d.csv", "--features", "x1", "--epochs", "3", "--tol", "0", "--no-standardize", "--report", "run.html",
                  "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator("#data-plot svg").scroll_into_view_if_needed()
    plane = page.locator("#data-plot .plane").bounding_box()
    page.mouse.click(plane["x"] + 3, plane["y"] + 3)
    assert page.locator("#data-plot [data-row]").count() == 13
    before = page.evaluate("fwdbackPage.X.map(x => x[0])")
    point = page.locator('#data-plot [data-row="2"]').bounding_box()
    page.mouse.move(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)
    page.mouse.down()
    end = (point["x"] + point["width"] / 2 + 40, point["y"] + point["height"] / 2 - 30)
    page.mouse.move(*end, steps=4)
    page.mouse.up()
    after = page.evaluate("fwdbackPage.X.map(x => x[0])")
    assert after[1] > before[1] and after[:1] + after[2:] == before[:1] + before[2:], "a drag adds no row"
    moved = page.locator('#data-plot [data-row="2"]').bounding_box()  # where the pointer let go, to the drawing's 0.1 px
    assert abs(moved["x"] + moved["width"] / 2 - end[0]) < 1 and abs(moved["y"] + moved["height"] / 2 - end[1]) < 1
    assert browser_page.requests == [] and browser_page.errors == []


def test_choosing_a_node_of_the_row_graph_lights_its_chain_to_the_loss(browser_page, run, workdir):
    """Keyboard alone: Enter on the node w1·x1 of the lecture's network (tanh) lights it and the
    nodes it flows through to the loss, the chain the lecture writes (z1, N1, w7·N1, yhat, the
    error, its square, the sum over the rows, L), and the edges between them; Enter again lets go.
    Another row's graph holds that row's x1."""
    page = live_page(browser_page, run, workdir, ["--activation", "tanh", "--no-standardize"])
    node = page.locator('#row-graph [data-node="w1*x1"]')
    node.focus()
    page.keyboard.press("Enter")
    lit = set(page.evaluate("Array.from(document.querySelectorAll('#row-graph [data-node].lit')).map(e => e.getAttribute('data-node'))"))
    assert lit == {"w1*x1", "sum z1", "z1", "N1", "w7*N1", "sum a", "yhat", "e", "e^2", "sum", "L"}
    edges = page.evaluate("Array.from(document.querySelectorAll('#row-graph line.lit')).map(e => e.getAttribute('data-from') + '>' + e.getAttribute('data-to'))")
    assert sorted(edges) == sorted(["w1*x1>sum z1", "sum z1>z1", "z1>N1", "N1>w7*N1", "w7*N1>sum a", "sum a>yhat", "yhat>e", "e>e^2",
                                    "e^2>sum", "sum>L"])
    page.keyboard.press("Enter")
    assert page.locator("#row-graph .lit").count() == 0
    page.get_by_label("Row of the graph", exact=True).fill("4")
    x1 = float(page.locator('#row-graph [data-node="x1"]').get_attribute("data-value"))
    assert x1 == float((workdir / "d.csv").read_text().splitlines()[4].split(",")[0])
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_train_from_here_trains_on_the_edited_rows(browser_page, run, workdir):
    """Edit the rows (remove row 2, add one), save the weights and the rows, train in the page:
    the saved rows are the file's so edited, and the page's command line on them, for as many
    epochs, ends at the page's weights."""
    original = rows_file(workdir / "d.csv", 1)
    result = run(["train", "d.csv", "--features", "x1", "--activation", "tanh", "--lr", "0.05", "--epochs", "5", "--tol", "0",
                  "--no-standardize", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator('#data-plot [data-row="2"]').focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Remove the chosen point").click()
    page.get_by_role("button", name="Add a point").click()
    page.get_by_label("x1 of the chosen row", exact=True).fill("0.375")
    page.get_by_label("y of the chosen row", exact=True).fill("-0.5")
    for name in ("Save these weights", "Save the rows"):
        with page.expect_download() as saving:
            page.get_by_role("button", name=name).click()
        saving.value.save_as(workdir / saving.value.suggested_filename)
    saved = (workdir / "rows.csv").read_text().splitlines()
    expected = np.vstack([np.delete(original, 1, axis=0), [0.375, -0.5]])
    assert np.array_equal(np.array([[float(v) for v in line.split(",")] for line in saved[1:]]), expected)
    shown, trained = trained_in_the_page_and_by_its_command(page, run, workdir)
    assert shown == pytest.approx(trained, rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_the_curve_through_the_data_is_the_networks_function_at_the_weights_typed(browser_page, run, workdir):
    """Type a weight: the curve is redrawn through network.py's yhat(x1) at the weights the fields
    hold, at x1 evenly spaced across the plot, to the drawing's rounding (0.05 px, a half of its
    0.1 px, in the plot's units)."""
    rows_file(workdir / "d.csv", 1)
    result = run(["train", "d.csv", "--features", "x1", "--activation", "tanh", "--hidden", "3", "--epochs", "3", "--tol", "0",
                  "--no-standardize", "--report", "run.html", "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.get_by_label("w4", exact=True).fill("1.5")
    names = page.evaluate("fwdbackPage.names")
    params = Parameters([float(page.get_by_label(name, exact=True).input_value()) for name in names], 1, 3, "tanh")
    assert params.vector[names.index("w4")] == 1.5
    plot = page.locator("#data-plot svg")
    across, up = json.loads(plot.get_attribute("data-across")), json.loads(plot.get_attribute("data-up"))
    plane = {key: float(page.locator("#data-plot .plane").get_attribute(key)) for key in ("x", "y", "width", "height")}
    path = page.locator("#data-plot .curve").get_attribute("d")
    assert path.startswith("M") and "M" not in path[1:], "the curve stays inside the plot here"
    points = np.array([[float(v) for v in pair.split(",")] for pair in path[1:].split(" L")])
    x1 = np.linspace(across[0], across[1], len(points))  # the curve samples x1 evenly, end to end
    assert np.all(np.abs(plane["x"] + (x1 - across[0]) / (across[1] - across[0]) * plane["width"] - points[:, 0]) <= 0.05 + 1e-9)
    drawn = up[0] + (plane["y"] + plane["height"] - points[:, 1]) / plane["height"] * (up[1] - up[0])
    expected = forward(params, x1[:, None]).yhat
    assert np.all(np.abs(drawn - expected) <= 0.05 / plane["height"] * (up[1] - up[0]) * (1 + 1e-9))
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.parametrize("options, divisor, rule", slow_after(1, [
    (["--loss", "half-mse", "--optimizer", "nesterov"], ("2n", "40"), "w1 ← w1 + μ·vw1 − η ∂L/∂w1 = "),
    (["--loss", "sse", "--optimizer", "adam"], ("1", "1"), "w1 ← w1 − η m̂/(√ŝ + ε), m̂ = "),
], unpack=True), ids=["half-mse, nesterov", "sse, adam"])
def test_the_loss_step_and_the_update_are_written_in_the_runs_own_convention_and_rule(browser_page, run, workdir, options,
                                                                                     divisor, rule):
    """The loss step divides by the loss's d(n) (1/(2n) of the squares for half-mse: 2n, 40 for
    write_rows' 20 rows; the plain sum for sse: 1), the output layer's step scales by 2/d(n), and
    w1's panel at a person's weights writes the update of the run's rule (Nesterov's look-ahead
    step, adam's corrected moments), as the page's data carries them."""
    page = live_page(browser_page, run, workdir, options)
    page.get_by_role("button", name="Next step").focus()
    while "The loss" not in page.locator("#step-where").inner_text():
        page.keyboard.press("Enter")
    loss = page.locator("#step-shown").inner_text()
    assert f"(y − ŷ)²) / {divisor[0]} = (" in loss and f") / {divisor[1]} = " in loss
    page.keyboard.press("Enter")
    assert f"−(2/{divisor[0]})(" in page.locator("#step-shown").inner_text()
    page.get_by_label("w2", exact=True).fill("0.25")
    page.locator('svg.network [data-param="w1"]').focus()
    assert rule in page.locator("#detail").inner_text()


@pytest.mark.parametrize("optimizer", slow_after(1, [["--optimizer", "momentum", "--momentum", "0.5"], ["--optimizer", "nesterov", "--freeze", "b1"],
                                       ["--optimizer", "adam", "--beta1", "0.8"]]), ids=["momentum", "nesterov-b1-frozen", "adam"])
def test_the_update_at_a_kept_epoch_carries_the_runs_optimizer_state_as_explain_epoch_k(browser_page, run, workdir, optimizer):
    """At kept epoch 3 of a stateful rule, the update step and the chain-rule panel work the rule
    from the state training had then (v, or m, s and t = 3), not a fresh one: every number is
    `fwdback explain --epoch 3` from the run's first weights, run as the page's command line
    shows it on the files the page saves (weights-epoch-1.json saved at epoch 1)."""
    write_rows(workdir / "d.csv")
    result = run(["train", "d.csv", "--activation", "tanh", "--lr", "0.05", "--epochs", "5", "--tol", "0", "--report", "run.html",
                  "--no-save", "-q", *optimizer])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    for button in ("#save-weights", "#save-rows"):
        with page.expect_download() as saving:
            page.locator(button).click()
        saving.value.save_as(workdir / saving.value.suggested_filename)
    page.locator("#forward").click()
    page.locator("#forward").click()
    command = page.locator("#command-explain").inner_text().split()
    assert command[:7] == ["fwdback", "explain", "rows.csv", "--init", "weights-epoch-1.json", "--epoch", "3"]
    result = run([*command[1:], "--format", "json"])
    assert result.exit_code == 0, result.stderr
    expected = json.loads(result.stdout)
    last = int(page.locator("#step-where").inner_text().split(" of ")[1].split(":")[0])
    for _ in range(last - 1):
        page.keyboard.press("]")
    shown = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('#step-shown [data-q]'))
        .map(e => [e.getAttribute('data-q'), Number(e.getAttribute('data-value'))]))""")
    free = [name for name in expected["weights_after"] if name not in expected["frozen"]]
    state = {key: value for key, value in state_of(expected).items() if key == "t" or key.split("_")[1] in free}
    want = {**state, **{f"{name} after": expected["weights_after"][name] for name in free}}
    assert set(shown) == set(want)
    for key, got in shown.items():
        assert got == pytest.approx(want[key], rel=TOL, abs=TOL), key
    assert shown["t"] == 3
    page.get_by_label("w1", exact=True).focus()
    update = page.locator('#detail [data-role="update"]')
    assert float(update.locator("span[data-q='w1 after']").get_attribute("data-value")) == pytest.approx(want["w1 after"], rel=TOL)
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.slow
def test_the_steppers_buttons_stop_at_its_ends_and_the_focus_moves_to_the_other(browser_page, run, workdir):
    page = live_page(browser_page, run, workdir, [])
    previous, following = page.get_by_role("button", name="Previous step"), page.get_by_role("button", name="Next step")
    assert previous.is_disabled() and following.is_enabled()
    following.focus()
    for _ in range(100):
        if following.is_disabled():
            break
        page.keyboard.press("Enter")
    where = page.locator("#step-where").inner_text()
    count = where.split(":")[0].split(" of ")[1]
    assert where.startswith(f"step {count} of {count}:") and previous.is_enabled()
    assert page.evaluate("document.activeElement.id") == "step-previous"
    page.keyboard.press("Enter")
    assert following.is_enabled()
    assert browser_page.errors == []


def small_columns(path, k: int, n: int = 12) -> None:
    """Columns named otherwise than x1, x2, y, their values around 1e-3 (tick labels as long as 0.000637)."""
    rng = np.random.default_rng(11)
    X = rng.uniform(0, 0.002, (n, k))
    y = X @ [3.0, -2.0][:k] + 0.0005
    names = ["hours", "sleep"][:k] + ["score"]
    path.write_text(",".join(names) + "\n" + "".join(",".join(map(repr, row)) + "\n" for row in np.column_stack([X, y]).tolist()))


@pytest.mark.parametrize("k", slow_after(1, [1, 2]))
def test_the_data_plot_names_its_axes_by_the_columns_clear_of_the_ticks_and_says_its_units(browser_page, run, workdir, k):
    """The axis titles are the data's column names, and no title's box meets a tick label's (as
    Chromium lays them out); the units the plot is in are said by it: the data's own, or z-scores."""
    small_columns(workdir / "d.csv", k)
    features = ",".join(["hours", "sleep"][:k])
    for scaling, units in (["--no-standardize"], "In the data's own units."), ([], "In z-scores"):
        result = run(["train", "d.csv", "--features", features, "--target", "score", "--epochs", "2", "--tol", "0",
                      "--report", "run.html", "--no-save", "-q", *scaling])
        assert result.exit_code == 0, result.stderr
        page = browser_page.open(workdir / "run.html")
        texts = page.evaluate("""() => Array.from(document.querySelectorAll('#data-plot .ticks text')).map(t => {
            const box = t.getBoundingClientRect(); return [t.textContent, t.classList.contains('axis-title'), box.left, box.top, box.right, box.bottom]; })""")
        titles = [t for t in texts if t[1]]
        assert [t[0] for t in titles] == ["hours", ("sleep" if k == 2 else "score") + " ↑"]
        for title in titles:
            for tick in (t for t in texts if not t[1]):
                apart = title[4] <= tick[2] or tick[4] <= title[2] or title[5] <= tick[3] or tick[5] <= title[3]
                assert apart, (title, tick)
        assert units in page.locator('#data-plot [data-role="units"]').inner_text()
        assert page.get_by_label("hours of the chosen row", exact=True).count() == 1
        assert browser_page.errors == []


@pytest.mark.slow
def test_every_text_of_the_row_graph_fits_its_box(browser_page, run, workdir):
    """At weights whose values print long (e-notation, minus signs), each node's texts end inside
    its box, 'Σ others' e²' among them, by Chromium's measure of the drawn text."""
    page = live_page(browser_page, run, workdir, ["--activation", "tanh"])
    page.get_by_label("w1", exact=True).fill("-123456.789")
    page.get_by_label("w7", exact=True).fill("-9.87654e-5")
    spill = page.evaluate("""() => Array.from(document.querySelectorAll('#row-graph [data-node]')).flatMap(g => {
        const box = g.querySelector('rect').getBBox();
        return Array.from(g.querySelectorAll('text')).map(t => { const b = t.getBBox(); return [t.textContent, box.x + box.width - (b.x + b.width)]; });
    })""")
    assert any(text.startswith("Σ others' e² = ") for text, _ in spill)
    assert all(room > 0 for _, room in spill), [s for s in spill if s[1] <= 0]
    assert browser_page.errors == []


@pytest.mark.slow
def test_a_row_outside_the_rows_is_marked_and_the_graph_keeps_the_last_valid_one(browser_page, run, workdir):
    page = live_page(browser_page, run, workdir, [])
    field = page.get_by_label("Row of the graph", exact=True)
    field.fill("3")
    for typed in ("0", "21", "2.5", ""):
        field.fill(typed)
        assert field.get_attribute("aria-invalid") == "true"
        note = page.locator("#" + field.get_attribute("aria-describedby")).inner_text()
        assert note == "Type a whole row number from 1 to 20; the graph shows row 3."
        assert page.locator("#row-graph svg").get_attribute("aria-label") == "The graph of row 3"
    field.fill("20")
    assert field.get_attribute("aria-invalid") is None
    assert page.locator("#row-graph svg").get_attribute("aria-label") == "The graph of row 20"
    assert browser_page.errors == []
