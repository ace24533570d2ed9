"""Issue 5, beyond the lecture: activations, any width and inputs, mini-batches,
standardisation, a validation split, early stopping and resuming.

Every expected value is computed independently of fwdback's matrices: the network is the
oracle's (tests/oracle.py), written out from the naming rule (w1..w(kH) hidden weights, unit
1's k weights first, then w(kH+1)..w(kH+H) output weights, b1..bH hidden biases, b(H+1) the
output bias), gradients are checked by its central differences, and the CLI is checked
against a second route.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import oracle
from fwdback.engines import SHUFFLE_STREAM
from fwdback.network import Parameters, backward, forward, init_parameters, mse_loss, parameter_names
from fwdback.plan import TrainingPlan
from fwdback.training import fit_rows, prepare

ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid")


# --- the network written from the naming rule: the oracle -----------------------------------


def names_by_rule(k: int, H: int) -> list[str]:
    """w1..w(kH+H), then b1..b(H+1)."""
    return oracle.Shape(k, H).names


def network_by_names(p: dict, X: np.ndarray, H: int, activation: str):
    """The oracle's Z : shape (n, H) and yhat : shape (n,)."""
    fwd = oracle.forward(p, X, oracle.Shape(X.shape[1], H, hidden=activation))
    return fwd.Z, fwd.yhat[:, 0]


def loss_by_names(p: dict, X: np.ndarray, y: np.ndarray, H: int, activation: str) -> float:
    """L = (1/n) sum (y_i - yhat_i)^2, by the oracle."""
    return oracle.loss(p, X, y, oracle.Shape(X.shape[1], H, hidden=activation))


# --- CSV helpers --------------------------------------------------------------------------


def write_csv(path, header, columns) -> None:
    """Columns of floats (or strings) under `header`; floats as repr, so they read back exactly."""
    rows = zip(*columns)
    lines = [",".join(header)] + [",".join(v if isinstance(v, str) else repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [row for row in reader if row]


def column(text: str, name: str) -> np.ndarray:
    header, rows = read_csv(text)
    index = header.index(name)
    return np.array([float(row[index]) for row in rows])


def ok(result):
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def noisy_linear(n: int, k: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, k))
    y = X @ np.linspace(1.0, -1.0, k) + 0.5 + noise * rng.normal(size=n)
    return X, y


# --- 1. gradients by finite differences, and the naming rule --------------------------------


def gradient_problem(activation: str, k: int, H: int):
    """Named parameters, X, y; for relu, drawn again until no |z| is near the kink at 0."""
    rng = np.random.default_rng([k, H, ACTIVATIONS.index(activation)])
    names = names_by_rule(k, H)
    for _ in range(100):
        p = dict(zip(names, rng.normal(scale=0.8, size=len(names))))
        X = rng.normal(size=(7, k))
        y = rng.normal(size=7)
        Z, _ = network_by_names(p, X, H, activation)
        # central_differences steps a parameter by at most 2 U^(1/3) max(1, |w|), about 1e-5: z moves far less than 0.05.
        if activation != "relu" or (np.abs(Z).min() > 0.05 and (Z > 0).any(axis=0).all()):
            return p, X, y
    raise AssertionError("no relu problem clear of the kink")  # pragma: no cover


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("H", [1, 2, 5])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_gradients_match_central_finite_differences(activation, H, k):
    p, X, y = gradient_problem(activation, k, H)
    names = names_by_rule(k, H)
    params = Parameters([p[name] for name in names], k, H, activation)

    # The engine's loss agrees with the one written from the names (a second route).
    fwd = forward(params, X)
    assert mse_loss(y, fwd.yhat) == pytest.approx(loss_by_names(p, X, y, H, activation), rel=1e-12)

    grads = backward(params, X, y, fwd).gradients.as_dict()
    assert list(grads) == names
    numeric, bound = oracle.central_differences(p, X, y, oracle.Shape(k, H, hidden=activation))
    for name in names:
        assert abs(grads[name] - numeric[name]) <= bound[name], name


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_each_name_is_the_weight_the_rule_says(activation):
    k, H = 4, 3
    expected = [f"w{i}" for i in range(1, 16)] + ["b1", "b2", "b3", "b4"]
    assert names_by_rule(k, H) == expected
    assert list(parameter_names(k, H)) == expected
    assert parameter_names() == ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")

    rng = np.random.default_rng(11)
    base = dict(zip(expected, rng.normal(size=len(expected))))
    X = rng.normal(size=(5, k))
    Z0, yhat0 = network_by_names(base, X, H, activation)
    N0 = oracle.ACTIVATIONS[activation][0](Z0)
    delta = 0.25
    for name in expected:
        changed = dict(base)
        changed[name] += delta
        params = Parameters.from_dict(changed, k, H, activation)
        fwd = forward(params, X)
        i = int(name[1:])
        Z_expected, yhat_expected = Z0.copy(), yhat0.copy()
        if name.startswith("w") and i <= k * H:  # hidden unit h's weight on input j
            h, j = divmod(i - 1, k)
            assert params.W_hidden[h, j] == changed[name]
            Z_expected[:, h] += delta * X[:, j]
        elif name.startswith("w"):  # output weight of hidden unit h
            h = i - k * H - 1
            assert params.w_out[h] == changed[name]
        elif i <= H:  # hidden unit's bias
            assert params.b_hidden[i - 1] == changed[name]
            Z_expected[:, i - 1] += delta
        else:  # the output bias
            assert i == H + 1 and params.b_out == changed[name]
        if name.startswith("w") and i > k * H:
            yhat_expected = yhat0 + delta * N0[:, i - k * H - 1]
        elif name == f"b{H + 1}":
            yhat_expected = yhat0 + delta
        else:
            yhat_expected = network_by_names(changed, X, H, activation)[1]
        np.testing.assert_allclose(fwd.Z.T, Z_expected, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(fwd.yhat, yhat_expected, rtol=1e-13, atol=1e-13)

    # The example spelled out: w5 is unit 2's first input weight, w13 unit 1's output weight.
    params = Parameters.from_dict(base, k, H, activation)
    assert params.W_hidden[1, 0] == base["w5"] and params.W_hidden[0, 3] == base["w4"]
    assert params.w_out[0] == base["w13"] and params.b_hidden[2] == base["b3"] and params.b_out == base["b4"]
    assert params.as_dict() == base


@pytest.mark.parametrize("k, H", [(1, 1), (4, 3), (6, 5)])
def test_init_parameters_has_the_network_shape_and_pytorch_ranges(k, H):
    params = init_parameters(np.random.default_rng(5), k, H, "sigmoid")
    assert params.activation == "sigmoid"
    values = params.as_dict()
    assert list(values) == names_by_rule(k, H)
    hidden = [values[f"w{i}"] for i in range(1, k * H + 1)] + [values[f"b{h}"] for h in range(1, H + 1)]
    output = [values[f"w{k * H + h}"] for h in range(1, H + 1)] + [values[f"b{H + 1}"]]
    assert max(map(abs, hidden)) <= 1 / np.sqrt(k)
    assert max(map(abs, output)) <= 1 / np.sqrt(H)
    # Seeded: the same seed, the same weights.
    np.testing.assert_array_equal(init_parameters(np.random.default_rng(5), k, H, "sigmoid").vector, params.vector)


# --- 2. mini-batches ----------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["identity", "tanh"])
@pytest.mark.parametrize("extra", [0, 7])
def test_one_batch_of_all_rows_is_full_batch_descent(activation, extra):
    X, y = noisy_linear(10, 3, seed=2)
    initial = init_parameters(np.random.default_rng(1), 3, 2, activation)
    plan = TrainingPlan(lr=0.05, epochs=200, tol=0)
    full = fit_rows(prepare(X, y, plan), initial, plan).result
    batches = plan.replace(batch_size=len(y) + extra, seed=0)
    batched = fit_rows(prepare(X, y, batches), initial, batches).result

    # The same sums in another row order: equal up to rounding, not bit for bit.
    np.testing.assert_allclose(batched.losses, full.losses, rtol=1e-12, atol=0)
    np.testing.assert_allclose(batched.final.vector, full.final.vector, rtol=1e-12, atol=1e-14)
    assert batched.final_loss == pytest.approx(full.final_loss, rel=1e-12)


def scalar_step(values: list[float], X, y, lr: float, n_hidden: int, activation: str) -> tuple[float, list[float]]:
    """The loss of rows X, y and the weights after one gradient-descent step on them, by the
    oracle. `values` are in the lecture's order, w1..w(kH) (unit 1's k weights first),
    w(kH+1)..w(kH+H), b1..bH, b(H+1)."""
    shape = oracle.Shape(len(X[0]), n_hidden, hidden=activation)
    p = dict(zip(shape.names, values))
    stepped = oracle.Update("gd", lr).step(p, oracle.gradients(p, X, y, shape))
    return oracle.loss(p, X, y, shape), [stepped[name] for name in shape.names]


def replay_minibatches(X, y, initial: Parameters, lr, epochs, batch_size, seed):
    """The epoch losses and final weights, replaying the documented shuffle batch by batch.

    Epoch e: the permutation default_rng([SHUFFLE_STREAM, seed, e]).permutation(n), consecutive
    batches of `batch_size` rows (the last may be smaller), each batch's loss before its update.
    Returns (weighted epoch losses, unweighted means of the batch losses, final weights).
    """
    values = initial.vector.tolist()
    weighted, plain = [], []
    for epoch in range(1, epochs + 1):
        order = np.random.default_rng([SHUFFLE_STREAM, seed, epoch]).permutation(len(y))
        losses, sizes = [], []
        for start in range(0, len(y), batch_size):
            rows = order[start : start + batch_size]
            loss, values = scalar_step(values, X[rows].tolist(), y[rows].tolist(), lr, initial.n_hidden, initial.activation)
            losses.append(loss)
            sizes.append(len(rows))
        weighted.append(np.dot(losses, sizes) / np.sum(sizes))
        plain.append(np.mean(losses))
    return np.array(weighted), np.array(plain), np.array(values)


@pytest.mark.parametrize("activation", ["identity", "sigmoid"])
def test_minibatch_epoch_loss_is_the_size_weighted_mean_of_batch_losses(activation):
    X, y = noisy_linear(10, 3, seed=4, noise=0.5)
    initial = init_parameters(np.random.default_rng(2), 3, 3, activation)
    seed, batch_size, epochs = 4, 3, 30  # batches of 3, 3, 3 and 1 rows
    plan = TrainingPlan(lr=0.05, epochs=epochs, tol=0, batch_size=batch_size, seed=seed)
    result = fit_rows(prepare(X, y, plan), initial, plan).result

    weighted, plain, final = replay_minibatches(X, y, initial, 0.05, epochs, batch_size, seed)
    np.testing.assert_allclose(result.losses, weighted, rtol=1e-12, atol=0)
    np.testing.assert_allclose(result.final.vector, final, rtol=1e-12, atol=1e-14)
    # The weighting matters here: the unweighted mean would be told apart.
    assert np.abs(plain - weighted).max() > 1e-4


def test_cli_batch_size_shuffles_with_the_seeded_stream(run, workdir):
    X, y = noisy_linear(11, 3, seed=6, noise=0.3)
    write_csv(workdir / "data.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    document = json.loads(ok(run(["train", "data.csv", "--batch-size", 4, "--seed", 9, "--epochs", 20, "--lr", 0.05, "--format", "json"])).stdout)
    initial = Parameters.from_dict(document["initial_weights"])
    weighted, _, final = replay_minibatches(X, y, initial, 0.05, 20, 4, seed=9)
    np.testing.assert_allclose([entry["loss"] for entry in document["history"]], weighted, rtol=1e-12, atol=0)
    np.testing.assert_allclose(Parameters.from_dict(document["weights"]).vector, final, rtol=1e-12, atol=1e-14)
    assert document["batch_size"] == 4


# --- 3. standardisation --------------------------------------------------------------------


def test_standardized_training_equals_training_on_scaled_data(run, workdir):
    rng = np.random.default_rng(21)
    n = 30
    header = ["size", "age", "rate", "dose", "price"]
    X = rng.normal(loc=[100.0, -5.0, 0.01, 3.0], scale=[20.0, 0.5, 0.001, 2.0], size=(n, 4))
    y = 50.0 + (X - [100.0, -5.0, 0.01, 3.0]) / [20.0, 0.5, 0.001, 2.0] @ [3.0, -1.0, 2.0, 0.5] + rng.normal(size=n)
    write_csv(workdir / "raw.csv", header, [*X.T, y])

    # z-scores by hand: population standard deviation (ddof = 0) over all (training) rows.
    x_mean = X.sum(axis=0) / n
    x_std = np.sqrt(((X - x_mean) ** 2).sum(axis=0) / n)
    y_mean = y.sum() / n
    y_std = np.sqrt(((y - y_mean) ** 2).sum() / n)
    write_csv(workdir / "scaled.csv", header, [*((X - x_mean) / x_std).T, (y - y_mean) / y_std])

    common = ["--features", "size,age,rate,dose", "--target", "price", "--seed", 3, "--epochs", 200,
              "--activation", "tanh", "--hidden", 3, "--quiet"]
    ok(run(["train", "scaled.csv", *common, "--model", "scaled.json"]))
    ok(run(["train", "raw.csv", *common, "--standardize", "--model", "standardized.json"]))
    scaled_model = json.loads((workdir / "scaled.json").read_text())
    standardized_model = json.loads((workdir / "standardized.json").read_text())

    assert scaled_model["scaling"] is None
    assert list(standardized_model["weights"]) == names_by_rule(4, 3)
    a = np.array(list(scaled_model["weights"].values()))
    b = np.array(list(standardized_model["weights"].values()))
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())

    scaling = standardized_model["scaling"]
    assert set(scaling) >= {"mean", "std"}
    for part, expected in (("mean", [*x_mean, y_mean]), ("std", [*x_std, y_std])):
        assert list(scaling[part]) == header
        np.testing.assert_allclose([scaling[part][name] for name in header], expected, rtol=1e-13)

    # predict undoes the scaling: raw rows in, the target's own units out.
    raw_out = ok(run(["predict", "raw.csv", "--model", "standardized.json"])).stdout
    scaled_out = ok(run(["predict", "scaled.csv", "--model", "scaled.json"])).stdout
    expected = column(scaled_out, "price_hat") * y_std + y_mean
    np.testing.assert_allclose(column(raw_out, "price_hat"), expected, rtol=1e-12, atol=0)
    # ... and passes the raw columns through as they were.
    np.testing.assert_array_equal(column(raw_out, "size"), X[:, 0])
    # A sanity check of the units: the fit is of y itself, not of its z-scores.
    assert np.mean((column(raw_out, "price_hat") - y) ** 2) < np.var(y)


def test_scaling_is_fitted_on_the_training_rows_only():
    X, y = noisy_linear(20, 3, seed=8)
    X = X * [1.0, 10.0, 0.1] + [5.0, -2.0, 0.0]
    plain = prepare(X, y, TrainingPlan(seed=3, val_split=0.25, standardize=False))
    scaled = prepare(X, y, TrainingPlan(seed=3, val_split=0.25, standardize=True))
    X_train, y_train = plain.X, plain.y
    X_val, y_val = plain.validation
    m, s = X_train.mean(axis=0), np.sqrt(((X_train - X_train.mean(axis=0)) ** 2).mean(axis=0))
    my, sy = y_train.mean(), np.sqrt(((y_train - y_train.mean()) ** 2).mean())
    np.testing.assert_allclose(scaled.scaling.x_mean, m, rtol=1e-13)
    np.testing.assert_allclose(scaled.scaling.x_std, s, rtol=1e-13)
    assert scaled.scaling.y_mean == pytest.approx(my, rel=1e-13)
    assert scaled.scaling.y_std == pytest.approx(sy, rel=1e-13)
    np.testing.assert_allclose(scaled.X, (X_train - m) / s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaled.y, (y_train - my) / sy, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaled.validation[0], (X_val - m) / s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaled.validation[1], (y_val - my) / sy, rtol=1e-12, atol=1e-12)
    # Not the statistics of all rows.
    assert abs(scaled.scaling.y_mean - y.mean()) > 1e-6


# --- 4. early stopping -----------------------------------------------------------------------


def early_stopping_data(workdir) -> None:
    """20 noisy rows: on 12 training rows, the validation loss falls, then rises as the fit chases noise."""
    rng = np.random.default_rng(101)
    X = rng.uniform(-1, 1, size=(20, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.8 * rng.normal(size=20)
    write_csv(workdir / "data.csv", ["x1", "x2", "x3", "y"], [*X.T, y])


def best_by_rule(val_losses, min_delta: float, patience: int):
    """The epoch (from 1) kept and the epoch stopped at: an improvement beats the best by more than min_delta."""
    best, waited = 1, 0
    for epoch in range(2, len(val_losses) + 1):
        if val_losses[epoch - 1] < val_losses[best - 1] - min_delta:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited == patience:
                return best, epoch
    return best, None


@pytest.mark.parametrize("min_delta", [0.0, 0.005])
def test_early_stopping_keeps_the_best_epochs_weights(run, workdir, min_delta):
    early_stopping_data(workdir)
    patience, epochs = 10, 400
    result = ok(run(["train", "data.csv", "--val-split", 0.4, "--seed", 1, "--epochs", epochs, "--patience", patience,
                     "--min-delta", min_delta, "--history", "history.csv", "--format", "json"]))
    document = json.loads(result.stdout)
    val_losses = [entry["val_loss"] for entry in document["history"]]

    best, stopped = best_by_rule(val_losses, min_delta, patience)
    assert stopped is not None and stopped < epochs, "the data should make training stop early"
    assert len(val_losses) == stopped == best + patience  # stopped exactly `patience` epochs after the best
    if min_delta == 0:
        assert best == int(np.argmin(val_losses)) + 1  # first occurrence of the smallest
    else:
        assert best != int(np.argmin(val_losses)) + 1  # min_delta changed the choice
    assert 1 < best < stopped
    assert document["best_epoch"] == best
    model = json.loads((workdir / "model.json").read_text())
    assert model["training"]["best_epoch"] == best
    assert "early stopping" in document["stop_reason"]

    header, rows = read_csv((workdir / "history.csv").read_text())
    assert [int(row[0]) for row in rows] == list(range(1, stopped + 1))
    row = rows[best - 1]
    assert int(row[0]) == best
    at_best = {name: float(row[header.index(name)]) for name in names_by_rule(3, 2)}
    assert model["weights"] == at_best
    assert document["weights"] == at_best
    # The kept weights are not those of the last epoch run.
    last = {name: float(rows[-1][header.index(name)]) for name in names_by_rule(3, 2)}
    assert last != at_best


def test_early_stopping_without_validation_watches_the_training_loss():
    # The training loss of full-batch descent falls every epoch, so only min_delta can stop it.
    X, y = noisy_linear(12, 3, seed=5)
    initial = init_parameters(np.random.default_rng(0))
    started = []
    plan = TrainingPlan(lr=0.05, epochs=2000, tol=0, patience=3, min_delta=1e-4)
    result = fit_rows(prepare(X, y, plan), initial, plan, on_epoch=lambda record: started.append(record.params.vector)).result
    best, stopped = best_by_rule(result.losses, 1e-4, 3)
    assert stopped is not None and result.epochs_run == stopped
    assert result.best_epoch == best
    np.testing.assert_array_equal(result.final.vector, started[best - 1])


# --- 5. the validation split -------------------------------------------------------------------


@pytest.mark.parametrize("n, fraction", [(10, 0.2), (7, 0.5), (25, 0.3), (9, 0.25), (40, 0.15)])
def test_validation_rows_are_a_seeded_disjoint_hold_out(n, fraction):
    ids = np.arange(n, dtype=float)
    X = np.column_stack([ids, ids**2, -ids])
    y = 3.0 * ids + 1.0
    split = prepare(X, y, TrainingPlan(seed=3, val_split=fraction, standardize=False))
    train_ids, val_ids = split.X[:, 0], split.validation[0][:, 0]
    assert len(val_ids) == round(fraction * n)
    assert len(train_ids) == n - round(fraction * n)
    assert not set(train_ids) & set(val_ids)
    assert sorted([*train_ids, *val_ids]) == list(ids)
    # Rows stay whole: each row's features and target travel together.
    for part_X, part_y in ((split.X, split.y), split.validation):
        np.testing.assert_array_equal(part_X, X[part_X[:, 0].astype(int)])
        np.testing.assert_array_equal(part_y, y[part_X[:, 0].astype(int)])
    again = prepare(X, y, TrainingPlan(seed=3, val_split=fraction, standardize=False))
    np.testing.assert_array_equal(again.validation[0], split.validation[0])


def test_validation_split_depends_on_the_seed():
    ids = np.arange(40, dtype=float)
    X = np.column_stack([ids, ids, ids])
    splits = {tuple(prepare(X, ids, TrainingPlan(seed=s, val_split=0.25, standardize=False)).validation[1]) for s in range(4)}
    assert len(splits) > 1


def test_validation_loss_in_json_csv_and_table(run, workdir):
    X, y = noisy_linear(16, 3, seed=12, noise=0.3)
    write_csv(workdir / "data.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    args = ["train", "data.csv", "--val-split", 0.25, "--seed", 5, "--epochs", 15]
    document = json.loads(ok(run([*args, "--format", "json"])).stdout)
    assert len(document["history"]) == 15
    assert all(set(entry) == {"epoch", "loss", "val_loss"} and np.isfinite(entry["val_loss"]) for entry in document["history"])
    assert document["validation_rows"] == round(0.25 * 16) == 4
    assert document["rows"] == 12

    # Epoch 1's losses are those of the initial weights on the two parts of the split.
    split = prepare(X, y, TrainingPlan(seed=5, val_split=0.25, standardize=False))
    initial = document["initial_weights"]
    assert document["history"][0]["val_loss"] == pytest.approx(loss_by_names(initial, *split.validation, 2, "identity"), rel=1e-12)
    assert document["history"][0]["loss"] == pytest.approx(loss_by_names(initial, split.X, split.y, 2, "identity"), rel=1e-12)

    out = ok(run([*args, "--format", "csv"])).stdout
    header, rows = read_csv(out)
    assert header == ["epoch", "loss", "val_loss"]
    assert [int(row[0]) for row in rows] == list(range(1, 16))
    assert column(out, "val_loss").tolist() == [entry["val_loss"] for entry in document["history"]]

    table = ok(run([*args, "--no-chart"])).stdout
    assert "validation loss" in table


# --- 6. resume --------------------------------------------------------------------------------


def test_resume_continues_exactly_where_training_stopped(run, workdir, small_csv):
    ok(run(["train", small_csv, "--epochs", 100, "--seed", 4, "--model", "first.json", "--history", "resumed.csv", "--quiet"]))
    resumed = ok(run(["train", small_csv, "--resume", "first.json", "--epochs", 100, "--model", "second.json",
                      "--history", "resumed.csv", "--format", "csv"])).stdout
    whole = ok(run(["train", small_csv, "--epochs", 200, "--seed", 4, "--model", "whole.json", "--history", "whole.csv",
                    "--format", "csv"])).stdout

    second = json.loads((workdir / "second.json").read_text())
    one_go = json.loads((workdir / "whole.json").read_text())
    assert second["weights"] == one_go["weights"]  # full batch: the same operations, bit for bit
    assert second["training"]["epochs"] == 200

    header, rows = read_csv(resumed)
    assert header == ["epoch", "loss"]
    assert [int(row[0]) for row in rows] == list(range(101, 201))
    assert rows == read_csv(whole)[1][100:]

    history = (workdir / "resumed.csv").read_text()
    header, rows = read_csv(history)
    assert history.count("epoch,loss") == 1
    assert [int(row[0]) for row in rows] == list(range(1, 201))
    assert history == (workdir / "whole.csv").read_text()


def test_resume_keeps_the_network_and_its_scaling(run, workdir):
    X, y = noisy_linear(15, 2, seed=14)
    write_csv(workdir / "data.csv", ["a", "b", "t"], [*X.T, 10 * y + 3])
    shape = ["--features", "a,b", "--target", "t", "--activation", "sigmoid", "--hidden", 3, "--standardize", "--seed", 2, "--quiet"]
    ok(run(["train", "data.csv", *shape, "--epochs", 40, "--model", "first.json"]))
    ok(run(["train", "data.csv", "--resume", "first.json", "--epochs", 40, "--model", "second.json", "--quiet"]))
    ok(run(["train", "data.csv", *shape, "--epochs", 80, "--model", "whole.json"]))
    second = json.loads((workdir / "second.json").read_text())
    whole = json.loads((workdir / "whole.json").read_text())
    assert (second["activation"], second["hidden"], second["features"], second["target"]) == ("sigmoid", 3, ["a", "b"], "t")
    assert second["scaling"] == whole["scaling"]
    assert second["weights"] == whole["weights"]


# --- 7. any number of features, any width, an activation, end to end ---------------------------


@pytest.mark.parametrize("k, output_format", [(2, "table"), (5, "json")])
def test_cli_trains_and_predicts_with_tanh_and_any_number_of_features(run, workdir, k, output_format):
    H = 4
    features = [f"f{j}" for j in range(1, k + 1)]
    X, y = noisy_linear(25, k, seed=30 + k)
    write_csv(workdir / "data.csv", [*features, "out"], [*X.T, y])
    result = ok(run(["train", "data.csv", "--features", ",".join(features), "--target", "out", "--activation", "tanh",
                     "--hidden", H, "--epochs", 60, "--seed", 7, "--format", output_format]))
    if output_format == "json":
        assert json.loads(result.stdout)["activation"] == "tanh"
    model = json.loads((workdir / "model.json").read_text())
    assert list(model["weights"]) == names_by_rule(k, H)
    assert len(model["weights"]) == k * H + H + H + 1
    assert (model["activation"], model["hidden"], model["features"], model["target"]) == ("tanh", H, features, "out")
    assert model["scaling"] is None

    # New rows, the columns in another order and an extra one passed through.
    X_new = np.random.default_rng(99).uniform(-2, 2, size=(6, k))
    order = list(reversed(range(k)))
    ids = [f"row{i}" for i in range(6)]
    write_csv(workdir / "new.csv", ["id", *[features[j] for j in order]], [ids, *X_new[:, order].T])
    out = ok(run(["predict", "new.csv"])).stdout
    header, rows = read_csv(out)
    assert header == ["id", *[features[j] for j in order], "out_hat"]
    assert [row[0] for row in rows] == ids

    _, expected = network_by_names(model["weights"], X_new, H, "tanh")
    np.testing.assert_allclose(column(out, "out_hat"), expected, rtol=1e-12, atol=1e-14)


# --- 8. the defaults are the lecture's network ------------------------------------------------


def test_the_lectures_learning_rate_reproduces_the_lecture_network(run, workdir, small_csv, small_xy, hand, names):
    document = json.loads(ok(run(["train", small_csv, "--epochs", 50, "--lr", 0.05, "--format", "json"])).stdout)
    assert (document["activation"], document["hidden"]) == ("identity", 2)
    assert list(document["weights"]) == list(names)
    X, y = small_xy

    # The lecture's loop, by name: N1, N2, yhat, the chain rule, w <- w - 0.05 dL/dw.
    w = document["initial_weights"]
    losses = []
    for _ in range(50):
        losses.append(hand.loss(w, X, y))
        w = hand.step(w, X, y, lr=0.05)

    # Equal up to rounding: the engine sums over rows in matrix products, in another order,
    # so bit-for-bit equality is not promised; 1e-12 relative is.
    expected = np.array([w[name] for name in names])
    got = np.array([document["weights"][name] for name in names])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([entry["loss"] for entry in document["history"]], losses, rtol=1e-12, atol=0)
    model = json.loads((workdir / "model.json").read_text())
    assert model["weights"] == document["weights"]
    assert model.get("activation", "identity") == "identity" and model.get("hidden", 2) == 2


def test_resumed_minibatch_training_shuffles_as_an_unbroken_run(run, workdir):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    common = ["--batch-size", 6, "--seed", 3, "-q"]
    ok(run(["train", "d.csv", "--epochs", 10, "--model", "a.json", *common]))
    ok(run(["train", "d.csv", "--resume", "a.json", "--epochs", 10, "--model", "b.json", *common]))
    ok(run(["train", "d.csv", "--epochs", 20, "--model", "c.json", *common]))
    resumed = json.loads((workdir / "b.json").read_text())
    unbroken = json.loads((workdir / "c.json").read_text())
    assert resumed["weights"] == unbroken["weights"]
    assert resumed["training"]["epochs"] == unbroken["training"]["epochs"] == 20


def test_resume_carries_the_whole_plan(run, workdir):
    # Given once, the learning rate, the batches, the split and the stop carry on: a resumed run
    # without them equals an unbroken one, bit for bit.
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    plan = ["--batch-size", 6, "--lr", 0.03, "--val-split", 0.2, "--tol", 0, "--seed", 3]
    ok(run(["train", "d.csv", "--epochs", 10, "--model", "a.json", *plan, "-q"]))
    ok(run(["train", "d.csv", "--resume", "a.json", "--epochs", 10, "--model", "b.json", "-q"]))
    ok(run(["train", "d.csv", "--epochs", 20, "--model", "c.json", *plan, "-q"]))
    resumed, unbroken = (json.loads((workdir / name).read_text()) for name in ("b.json", "c.json"))
    assert resumed["weights"] == unbroken["weights"]
    assert resumed["training"]["plan"] == unbroken["training"]["plan"]
    assert resumed["training"]["plan"]["batch_size"] == 6 and resumed["training"]["plan"]["lr"] == 0.03


@pytest.mark.parametrize("option", [["--lr", 0.1], ["--batch-size", 4], ["--no-standardize"], ["--val-split", 0.5], ["--tol", 1e-6]])
def test_resume_refuses_an_option_that_disagrees_with_the_model(run, workdir, option):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--epochs", 5, "--batch-size", 6, "--lr", 0.03, "--val-split", 0.2, "--standardize",
            "--model", "a.json", "-q"]))
    before = (workdir / "a.json").read_bytes()
    result = run(["train", "d.csv", "--resume", "a.json", *option, "--model", "a.json"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --resume goes on with the model's") and "--init" in result.stderr
    assert (workdir / "a.json").read_bytes() == before
    # The same value given again agrees.
    same = {"--lr": 0.03, "--batch-size": 6, "--val-split": 0.2}.get(option[0])
    if same is not None:
        ok(run(["train", "d.csv", "--resume", "a.json", option[0], same, "--epochs", 2, "--model", "b.json", "-q"]))


def test_resume_goes_on_with_the_models_seed(run, workdir):
    X, y = noisy_linear(30, 3, seed=2, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--val-split", 0.3, "--seed", 3, "--epochs", 5, "--model", "v.json", "-q"]))
    ok(run(["train", "d.csv", "--val-split", 0.3, "--resume", "v.json", "--epochs", 5, "--model", "r.json", "-q"]))
    ok(run(["train", "d.csv", "--val-split", 0.3, "--seed", 3, "--epochs", 10, "--model", "u.json", "-q"]))
    assert json.loads((workdir / "r.json").read_text())["weights"] == json.loads((workdir / "u.json").read_text())["weights"]
    clash = run(["train", "d.csv", "--resume", "v.json", "--seed", 4, "--model", "x.json"])
    assert clash.exit_code == 2 and "seed, 3" in clash.stderr


def test_a_model_kept_by_early_stopping_counts_the_epochs_in_its_weights(run, workdir):
    X, y = noisy_linear(40, 3, seed=5, noise=1.0)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    document = json.loads(ok(run(["train", "d.csv", "--val-split", 0.25, "--patience", 5, "--epochs", 3000, "--lr", 0.2, "--format", "json"])).stdout)
    best = document["best_epoch"]
    assert best is not None and document["history"][-1]["epoch"] == best + 5
    model = json.loads((workdir / "model.json").read_text())
    assert model["training"]["epochs"] == best - 1  # the weights at the start of epoch `best`
    resumed = ok(run(["train", "d.csv", "--resume", "model.json", "--epochs", 2, "--format", "csv", "--model", "r.json"]))
    assert resumed.stdout.splitlines()[1].split(",")[0] == str(best)


@pytest.mark.parametrize(
    "option, model_says",
    [
        (["--hidden", 3], "hidden units, 2"),
        (["--activation", "tanh"], "activation, identity"),
        (["--features", "x1,x2"], "features, x1,x2,x3"),
        (["--features", "x1,x2,y", "--target", "x3"], "features, x1,x2,x3"),
        (["--target", "x3"], "target, y"),
    ],
    ids=["--hidden", "--activation", "--features", "--features and --target", "--target"],
)
def test_resume_refuses_a_network_or_columns_other_than_the_models(run, workdir, option, model_says):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--epochs", 5, "--model", "a.json", "-q"]))
    before = (workdir / "a.json").read_bytes()
    result = run(["train", "d.csv", "--resume", "a.json", *option, "--model", "a.json"])
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: --resume goes on with the model's {model_says};")
    assert f"leave out {option[0]} " in result.stderr and "--init" in result.stderr
    assert (workdir / "a.json").read_bytes() == before


def test_resume_takes_the_models_own_network_and_columns_given_again(run, workdir):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--epochs", 5, "--model", "a.json", "-q"]))
    same = ["--hidden", 2, "--activation", "identity", "--features", "x1, x2,x3", "--target", " y"]
    ok(run(["train", "d.csv", "--resume", "a.json", *same, "--epochs", 5, "--model", "b.json", "-q"]))
    assert json.loads((workdir / "b.json").read_text())["training"]["epochs"] == 10


def _history_of_another_network(run, workdir):
    ok(run(["train", "d.csv", "--epochs", 3, "--hidden", 3, "--no-save", "--history", "h.csv", "-q"]))


def _notes(run, workdir):
    (workdir / "h.csv").write_text("hello\n")


def _a_data_file(run, workdir):
    (workdir / "h.csv").write_text((workdir / "d.csv").read_text())


@pytest.mark.parametrize("setup", [_notes, _history_of_another_network, _a_data_file])
def test_resume_appends_history_only_to_a_history_of_this_network(run, workdir, setup):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--epochs", 5, "--model", "a.json", "-q"]))
    setup(run, workdir)
    before = {path.name: path.read_bytes() for path in workdir.iterdir()}
    result = run(["train", "d.csv", "--resume", "a.json", "--epochs", 5, "--history", "h.csv", "--model", "a.json"])
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: h.csv exists and is neither empty nor")
    assert "--history" in result.stderr
    assert {path.name: path.read_bytes() for path in workdir.iterdir()} == before


def test_resume_appends_history_to_an_empty_file_or_its_own(run, workdir):
    X, y = noisy_linear(20, 3, seed=1, noise=0.3)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    ok(run(["train", "d.csv", "--epochs", 5, "--model", "a.json", "-q"]))
    (workdir / "h.csv").write_text("")
    ok(run(["train", "d.csv", "--resume", "a.json", "--epochs", 3, "--history", "h.csv", "--model", "a.json", "-q"]))
    ok(run(["train", "d.csv", "--resume", "a.json", "--epochs", 3, "--history", "h.csv", "--model", "a.json", "-q"]))
    header, rows = read_csv((workdir / "h.csv").read_text())
    assert header == ["epoch", "loss", *names_by_rule(3, 2), *(f"dL/d{name}" for name in names_by_rule(3, 2))]
    assert [int(row[0]) for row in rows] == list(range(6, 12))


def test_resuming_a_model_that_early_stopping_ended_says_it_stops_again(run, workdir):
    X, y = noisy_linear(40, 3, seed=5, noise=1.0)
    write_csv(workdir / "d.csv", ["x1", "x2", "x3", "y"], [*X.T, y])
    first = json.loads(ok(run(["train", "d.csv", "--val-split", 0.25, "--patience", 5, "--lr", 0.2, "--format", "json"])).stdout)
    assert first["stop"] == "early_stopping"
    resumed = ok(run(["train", "d.csv", "--resume", "model.json", "--format", "json", "--model", "r.json"]))
    again = json.loads(resumed.stdout)
    # Resumed, the same epochs run from the kept weights and stop at the same epoch: the note says so first.
    assert again["best_epoch"] == first["best_epoch"] and again["weights"] == first["weights"]
    note = next(line for line in resumed.stderr.splitlines() if "model.json's training" in line)
    assert f"epoch {first['best_epoch']}" in note and "--init model.json" in note and "--patience" in note
    fresh = ok(run(["train", "d.csv", "--epochs", 5, "--model", "f.json", "-q"]))
    assert "early stopping" not in ok(run(["train", "d.csv", "--resume", "f.json", "--epochs", 2, "--model", "f.json"])).stderr
    assert fresh.stderr == ""
