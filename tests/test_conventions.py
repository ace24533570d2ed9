"""Beyond the lecture's conventions: several outputs, an output activation, the loss conventions,
no biases, frozen parameters, updates in file order and the next lecture's optimizers.

Every expected value comes from computations independent of fwdback: the oracle's network
(tests/oracle.py), its central differences and its update rules (which test_oracle.py checks
against the papers' own forms).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import oracle
from fwdback import FwdbackRegressor
from fwdback.network import Architecture, Parameters, backward, forward, init_parameters, loss
from fwdback.optimizers import OptimizerSettings
from fwdback.plan import TrainingPlan

def by_hand(p: dict, X, Y, k: int, H: int, m: int, hidden: str, out: str, bias: bool, convention: str) -> float:
    """The loss of a k-H-m network by the documented naming order: the oracle's."""
    return oracle.loss(p, X, Y, oracle.Shape(k, H, m, hidden, out, bias), convention)


def test_the_names_extend_the_lecture_s_order():
    a = Architecture(2, 2, 2)
    assert a.names == ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3", "b4")
    params = Parameters.of(np.arange(1.0, 13.0), a)
    assert params.W_hidden.tolist() == [[1, 2], [3, 4]]  # w1, w2 feed N1; w3, w4 feed N2
    assert params.W_out.tolist() == [[5, 6], [7, 8]]  # w5, w6 feed yhat1; w7, w8 feed yhat2
    assert params.b_hidden.tolist() == [9, 10] and params.b_outputs.tolist() == [11, 12]
    assert Architecture().names == ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")
    assert Architecture(3, 2, bias=False).names == tuple(f"w{i}" for i in range(1, 9))


SHAPES = [
    (2, 2, 2, "sigmoid", "sigmoid", True, "half-sse"),
    (3, 2, 1, "identity", "identity", True, "half-mse"),
    (3, 3, 2, "tanh", "tanh", False, "sse"),
    (2, 4, 3, "relu", "identity", True, "mse"),
    (1, 2, 1, "identity", "sigmoid", False, "half-sse"),
]


@pytest.mark.parametrize("k, H, m, hidden, out, bias, convention", SHAPES)
def test_forward_and_backward_agree_with_plain_loops_and_finite_differences(k, H, m, hidden, out, bias, convention):
    rng = np.random.default_rng(k * 100 + H * 10 + m)
    X, Y = rng.normal(size=(7, k)), rng.normal(size=(7, m))
    y = Y[:, 0] if m == 1 else Y
    params = init_parameters(rng, k, H, hidden, n_outputs=m, output_activation=out, bias=bias)
    p = params.as_dict()
    expected = by_hand(p, X, Y, k, H, m, hidden, out, bias, convention)
    fwd = forward(params, X)
    assert loss(y, fwd, convention) == pytest.approx(expected, rel=1e-13)
    gradients = backward(params, X, y, fwd, convention).gradients.as_dict()
    numeric, bound = oracle.central_differences(p, X, Y, oracle.Shape(k, H, m, hidden, out, bias), convention)
    for name in params.names:
        assert abs(gradients[name] - numeric[name]) <= bound[name], name


@pytest.mark.parametrize("convention, factor", [("mse", 2 / 4), ("half-mse", 1 / 4), ("sse", 2), ("half-sse", 1)])
def test_each_loss_convention_has_its_own_derivative_factor(convention, factor):
    params = init_parameters(np.random.default_rng(1))
    X, y = np.random.default_rng(2).normal(size=(4, 3)), np.array([1.0, -2.0, 0.5, 3.0])
    fwd = forward(params, X)
    np.testing.assert_allclose(backward(params, X, y, fwd, convention).dL_dyhat, -factor * (y - fwd.yhat), rtol=1e-15)


def _steps(name, settings, g_of, w0, lr, steps, frozen=None):
    optimizer = OptimizerSettings.of(TrainingPlan(optimizer=name, **settings)).optimizer(lr, len(w0), frozen)
    params = Parameters.of(w0, Architecture())
    for _ in range(steps):
        params = optimizer.step(params, params.like(g_of(params.vector)))
    return params.vector


def quadratic_gradient(w):
    """The gradient of an uneven quadratic, 0.5 sum c_i (w_i - 1)^2: each coordinate its own curvature."""
    return np.linspace(0.5, 3.0, len(w)) * (w - 1.0)


W0 = np.linspace(-1.0, 1.0, 11)


@pytest.mark.parametrize("name, settings, steps", [("gd", {}, 4), ("momentum", {"momentum": 0.8}, 6),
                                                  ("nesterov", {"momentum": 0.7}, 5), ("adam", {}, 7)])
def test_each_update_rule_is_the_oracle_s(name, settings, steps):
    """Heavy ball, Sutskever's look-ahead, Kingma and Ba's bias-corrected adam (tests/oracle.py,
    checked there against the papers' own forms), on an uneven quadratic."""
    names = [f"p{i}" for i in range(11)]
    rule = oracle.Update(name, 0.1, mu=settings.get("momentum", 0.9))
    w = dict(zip(names, W0))
    for _ in range(steps):
        w = rule.step(w, dict(zip(names, quadratic_gradient(np.array(list(w.values()))))))
    np.testing.assert_allclose(_steps(name, settings, quadratic_gradient, W0, 0.1, steps), list(w.values()), rtol=1e-13)


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adam"])
def test_a_frozen_parameter_keeps_its_value_under_every_rule(name):
    frozen = np.zeros(11, dtype=bool)
    frozen[[0, 10]] = True
    w = _steps(name, {}, quadratic_gradient, W0, 0.1, 5, frozen)
    assert w[0] == W0[0] and w[10] == W0[10]
    assert (w[1:10] != W0[1:10]).all()


def _rows(n=8, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, np.column_stack([0.3 * X[:, 0] - X[:, 1], 0.5 + X[:, 0] * X[:, 1]])


def _csv(X, Y, names=("x1", "x2", "y1", "y2")):
    lines = [",".join(names)] + [",".join(map(repr, [*x, *t])) for x, t in zip(X.tolist(), Y.tolist())]
    return "\n".join(lines) + "\n"


def test_row_by_row_updates_in_file_order_are_the_unrolled_loop(run, workdir):
    X, Y = _rows()
    (workdir / "d.csv").write_text(_csv(X, Y))
    args = ["train", "d.csv", "--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid",
            "--output-activation", "sigmoid", "--loss", "half-sse", "--lr", "0.5", "--batch-size", "1", "--no-shuffle",
            "--epochs", "3", "--tol", "0", "--model", "m.json"]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    params = init_parameters(np.random.default_rng(0), 2, 2, "sigmoid", n_outputs=2, output_activation="sigmoid")
    p = params.as_dict()
    names = params.names
    shape = oracle.Shape(2, 2, 2, "sigmoid", "sigmoid")
    rule = oracle.Update("gd", 0.5)
    for _ in range(3):
        for i in range(len(X)):  # one example at a time, in the file's order, eta = 0.5
            p = rule.step(p, oracle.gradients(p, X[i : i + 1], Y[i : i + 1], shape, "half-sse"))
    weights = json.loads((workdir / "m.json").read_text())["weights"]
    for name in names:
        assert weights[name] == pytest.approx(p[name], rel=1e-12, abs=1e-15), name


def test_frozen_parameters_keep_their_values_and_unknown_names_are_refused(run, workdir, csv_text, linear_rows):
    (workdir / "d.csv").write_text(csv_text(*linear_rows()))
    start = init_parameters(np.random.default_rng(0)).as_dict()
    result = run(["train", "d.csv", "--freeze", "w7,b3", "--optimizer", "adam", "--epochs", "50", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    weights = json.loads((workdir / "m.json").read_text())["weights"]
    assert weights["w7"] == start["w7"] and weights["b3"] == start["b3"] and weights["w8"] != start["w8"]
    refused = run(["train", "d.csv", "--freeze", "w9", "--no-save"])
    assert refused.exit_code == 2 and refused.stderr.startswith("Error: --freeze w9: the network has no parameter w9")
    cased = run(["train", "d.csv", "--freeze", "W1", "--no-save"])
    assert cased.exit_code == 2 and "no parameter W1 (did you mean w1?)" in cased.stderr


@pytest.mark.parametrize("options", [
    ["--optimizer", "momentum", "--lr", "0.02"],
    ["--optimizer", "nesterov", "--batch-size", "3", "--lr", "0.02"],
    ["--optimizer", "adam", "--batch-size", "5", "--lr", "0.01", "--freeze", "b1"],
    ["--loss", "half-sse", "--batch-size", "1", "--no-shuffle", "--lr", "0.01"],
])
def test_a_resumed_run_equals_an_unbroken_one_bit_for_bit(run, workdir, csv_text, linear_rows, options):
    (workdir / "d.csv").write_text(csv_text(*linear_rows()))
    whole = run(["train", "d.csv", *options, "--epochs", "40", "--tol", "0", "--model", "whole.json", "--history", "whole.csv"])
    assert whole.exit_code == 0, whole.stderr
    first = run(["train", "d.csv", *options, "--epochs", "25", "--tol", "0", "--model", "half.json", "--history", "half.csv"])
    assert first.exit_code == 0, first.stderr
    second = run(["train", "d.csv", "--resume", "half.json", "--epochs", "15", "--model", "half.json", "--history", "half.csv"])
    assert second.exit_code == 0, second.stderr
    assert json.loads((workdir / "half.json").read_text())["weights"] == json.loads((workdir / "whole.json").read_text())["weights"]
    assert (workdir / "half.csv").read_text() == (workdir / "whole.csv").read_text()


def test_the_history_records_the_optimizer_state_after_each_epoch(run, workdir, csv_text, linear_rows):
    X, y = linear_rows()
    (workdir / "d.csv").write_text(csv_text(X, y))
    result = run(["train", "d.csv", "--optimizer", "momentum", "--momentum", "0.5", "--lr", "0.01", "--epochs", "4",
                  "--tol", "0", "--no-save", "--history", "h.csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO((workdir / "h.csv").read_text())))
    names = init_parameters(np.random.default_rng(0)).names
    v = np.zeros(11)
    for row, following in zip(rows, rows[1:]):
        g = np.array([float(row[f"dL/d{name}"]) for name in names])
        v = 0.5 * v - 0.01 * g  # the velocity after this epoch's update
        np.testing.assert_allclose([float(row[f"v_{name}"]) for name in names], v, rtol=1e-12, atol=1e-300)
        w, w_next = (np.array([float(r[name]) for name in names]) for r in (row, following))
        np.testing.assert_allclose(w_next, w + v, rtol=1e-12)


def test_several_targets_train_predict_and_evaluate(run, workdir):
    X, Y = _rows(40)
    (workdir / "d.csv").write_text(_csv(X, Y))
    result = run(["train", "d.csv", "--features", "x1,x2", "--target", "y1,y2", "--hidden", "3", "--activation", "tanh",
                  "--lr", "0.05", "--epochs", "30", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads((workdir / "m.json").read_text())
    assert document["target"] == ["y1", "y2"] and len(document["weights"]) == 2 * 3 + 3 * 2 + 3 + 2
    predicted = run(["predict", "d.csv", "--model", "m.json"])
    assert predicted.exit_code == 0, predicted.stderr
    rows = list(csv.DictReader(io.StringIO(predicted.stdout)))
    assert list(rows[0]) == ["x1", "x2", "y1", "y2", "y1_hat", "y2_hat"]
    expected = oracle.forward(document["weights"], X, oracle.Shape(2, 3, 2, "tanh")).yhat
    for row, (y1_hat, y2_hat) in zip(rows, expected):
        assert float(row["y1_hat"]) == pytest.approx(y1_hat, rel=1e-12, abs=1e-15)
        assert float(row["y2_hat"]) == pytest.approx(y2_hat, rel=1e-12, abs=1e-15)
    scored = run(["evaluate", "d.csv", "--model", "m.json", "--format", "json"])
    assert scored.exit_code == 0, scored.stderr
    scores = json.loads(scored.stdout)["scores"]
    for o, target in enumerate(("y1", "y2")):
        yhat = np.array([float(row[f"{target}_hat"]) for row in rows])
        assert scores[target]["model"]["mse"] == pytest.approx(float(np.mean((Y[:, o] - yhat) ** 2)), rel=1e-12)


def test_the_lecture_s_model_file_says_nothing_of_the_new_options(run, workdir, csv_text, linear_rows):
    (workdir / "d.csv").write_text(csv_text(*linear_rows()))
    assert run(["train", "d.csv", "--epochs", "5", "--model", "m.json"]).exit_code == 0
    document = json.loads((workdir / "m.json").read_text())
    assert set(document) == {"format", "version", "features", "target", "activation", "hidden", "weights", "scaling", "training"}
    assert set(document["training"]["plan"]) == {"epochs", "lr", "batch_size", "val_split", "patience", "min_delta", "tol",
                                                 "standardize", "seed"}
    assert "optimizer_state" not in document["training"]


@pytest.mark.parametrize("option", [["--target", "y1,y2"], ["--no-bias"], ["--output-activation", "sigmoid"]])
def test_streaming_refuses_the_networks_it_does_not_train(run, workdir, option):
    X, Y = _rows(20)
    (workdir / "d.csv").write_text(_csv(X, Y))
    result = run(["train", "d.csv", "--features", "x1,x2", "--target", "y1", *option, "--chunksize", "1000", "--no-save"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: --chunksize cannot be used with")


def test_the_estimator_takes_the_same_options_and_several_targets():
    X, Y = _rows(60)
    options = dict(hidden=3, activation="tanh", output_activation="identity", loss="half-mse", optimizer="adam", lr=0.02,
                   epochs=300, tol=0.0, batch_size=10, shuffle=False, freeze=("b1",))
    model = FwdbackRegressor(**options).fit(X, Y)
    assert model.predict(X).shape == (60, 2)
    assert model.weights_["b1"] == init_parameters(np.random.default_rng(0), 2, 3, "tanh", n_outputs=2).as_dict()["b1"]
    again = FwdbackRegressor(**options).fit(X, Y)
    assert again.weights_ == model.weights_
    with pytest.raises(ValueError, match="optimizer"):
        FwdbackRegressor(optimizer="sgd").fit(X, Y)


def test_a_resumed_run_refuses_settings_the_model_does_not_have(run, workdir):
    X, Y = _rows(30)
    (workdir / "d.csv").write_text(_csv(X, Y))
    base = ["d.csv", "--features", "x1,x2", "--target", "y1,y2"]
    assert run(["train", *base, "--epochs", "5", "--model", "gd.json"]).exit_code == 0
    assert run(["train", *base, "--epochs", "5", "--batch-size", "10", "--freeze", "b1,b2", "--model", "fb.json"]).exit_code == 0
    cases = [
        (["--resume", "gd.json", "--loss", "sse"], "the model's loss, mse; leave out --loss sse"),
        (["--resume", "gd.json", "--optimizer", "momentum"], "the model's optimizer, gd; leave out --optimizer momentum"),
        (["--resume", "fb.json", "--freeze", "b1"], "the model's freeze, b1,b2; leave out --freeze b1"),
        (["--resume", "fb.json", "--no-shuffle"], "the model's shuffle, shuffled batches; leave out --no-shuffle"),
    ]
    for options, message in cases:
        result = run(["train", "d.csv", *options, "--epochs", "2", "--no-save"])
        assert result.exit_code == 2 and message in result.stderr, (options, result.stderr)
    same = run(["train", "d.csv", "--resume", "fb.json", "--freeze", "b2,b1", "--epochs", "2", "--no-save"])
    assert same.exit_code == 0, same.stderr  # the same names in another order


@pytest.mark.parametrize("options, message", [
    (["--momentum", "0.5"], "--momentum is a setting of --optimizer momentum and nesterov, and the update rule is gd"),
    (["--optimizer", "momentum", "--beta1", "0.5"], "--beta1 is a setting of --optimizer adam"),
    (["--epsilon", "1e-3"], "--epsilon is a setting of --optimizer adam"),
    (["--no-shuffle"], "--no-shuffle orders the rows of mini-batches; give --batch-size"),
])
def test_a_setting_the_run_would_not_use_is_a_usage_error(run, workdir, csv_text, linear_rows, options, message):
    (workdir / "d.csv").write_text(csv_text(*linear_rows()))
    for command in ("train", "explain", "gradcheck"):
        result = run([command, "d.csv", *options] + (["--no-save"] if command == "train" else []))
        assert result.exit_code == 2 and message in result.stderr, (command, result.stderr)


def test_the_divergence_hint_is_in_the_loss_convention_s_units(run, workdir, csv_text, linear_rows):
    (workdir / "d.csv").write_text(csv_text(*linear_rows(200)))
    diverged = run(["train", "d.csv", "--loss", "sse", "--lr", "0.5", "--no-save"])
    assert diverged.exit_code == 3, diverged.stderr
    suggested = diverged.stderr.split("try --lr ")[1].split(",")[0]
    followed = run(["train", "d.csv", "--loss", "sse", "--lr", suggested, "--no-save", "--format", "json"])
    assert followed.exit_code == 0, followed.stderr


def test_init_from_a_model_of_another_shape_says_what_to_give(run, workdir):
    X, Y = _rows(30)
    (workdir / "d.csv").write_text(_csv(X, Y, ("x1", "x2", "y1", "y")))
    assert run(["train", "d.csv", "--features", "x1,x2", "--target", "y1,y", "--epochs", "2", "--model", "two.json"]).exit_code == 0
    result = run(["train", "d.csv", "--features", "x1,x2", "--init", "two.json", "--no-save"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: two.json: is a model of 2 features, 2 hidden units and 2 outputs; to start from its "
                             "weights give --target y1,y\n")


def test_predict_of_parts_whose_headers_differ_writes_nothing(run, workdir):
    X, Y = _rows(10)
    (workdir / "a.csv").write_text(_csv(X, Y))
    (workdir / "b.csv").write_text(_csv(X, Y, ("x2", "x1", "y1", "y2")))
    assert run(["train", "a.csv", "--features", "x1,x2", "--target", "y1,y2", "--epochs", "2", "--model", "m.json"]).exit_code == 0
    result = run(["predict", "a.csv", "b.csv", "--model", "m.json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: b.csv: its columns (x2,x1,y1,y2) differ from the first part's (x1,x2,y1,y2)")


@pytest.mark.parametrize("shape", [{"n_outputs": 0}, {"n_hidden": 0}, {"n_outputs": True}, {"n_inputs": 2.5}])
def test_a_network_of_no_units_is_refused_by_name(shape):
    with pytest.raises(ValueError, match=f"{next(iter(shape))} is .*: a network needs a whole number of at least 1"):
        Architecture(**({"n_inputs": 3, "n_hidden": 2} | shape))


def test_adam_s_divergence_hint_is_at_most_its_default_step(run, workdir, csv_text, linear_rows):
    (workdir / "d.csv").write_text(csv_text(*linear_rows(200)))
    diverged = run(["train", "d.csv", "--optimizer", "adam", "--lr", "1e300", "--no-save"])
    assert diverged.exit_code == 3 and "try --lr 0.001," in diverged.stderr, diverged.stderr


def test_a_run_too_short_to_learn_is_told_to_train_longer_not_to_standardize(run, workdir):
    X, Y = _rows(40)
    (workdir / "d.csv").write_text(_csv(X, Y))
    result = run(["train", "d.csv", "--features", "x1,x2", "--target", "y1,y2", "--lr", "1e-6", "--epochs", "2", "--no-save"])
    assert result.exit_code == 0
    note = result.stderr.splitlines()[0]
    assert "predicting the means of y1, y2" in note and "more --epochs" in note and "--standardize" not in note
