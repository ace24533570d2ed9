"""The Python API against least squares, the lecture's formulas by hand, and the CLI itself."""

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from fwdback import FwdbackRegressor, Network, collapsed_linear_map
from fwdback.errors import FwdbackError, NotEnoughMemory, TrainingDiverged
from fwdback.estimator import DataConversionWarning, NotFittedError
from fwdback.synthetic import generate


def least_squares(X, y):
    """The solution on A = [X, 1], and the predictions A @ solution."""
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    return solution, A @ solution


def test_fit_reaches_least_squares_and_scores_its_r2():
    X, y = generate(200, seed=1, noise=0.1)
    solution, best = least_squares(X, y)

    model = FwdbackRegressor(lr=0.1, epochs=3000).fit(X, y)

    # As in test_training: 3000 epochs at eta 0.1 bring the collapsed map within 1e-6 of it.
    coef, intercept = collapsed_linear_map(model.params_)
    np.testing.assert_allclose(np.append(coef, intercept), solution, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict(X), best, rtol=0, atol=1e-5)
    # With an intercept, least squares' R^2 is the squared correlation of y with its fit.
    assert model.score(X, y) == pytest.approx(np.corrcoef(y, best)[0, 1] ** 2, abs=1e-9)
    assert model.score(X, y) > 0.99


def test_standardize_fits_off_scale_columns_and_predicts_in_y_units():
    X, y = generate(200, seed=2, noise=0.1)
    X = X * np.array([1000.0, 0.001, 1.0]) + np.array([5000.0, 0.0, -3.0])  # y is the same function of the old X
    solution, best = least_squares(X, y)

    model = FwdbackRegressor(standardize=True, lr=0.1, epochs=3000).fit(X, y)

    coef, intercept = model.scaling_.original_linear_map(*collapsed_linear_map(model.params_))
    np.testing.assert_allclose(coef, solution[:-1], rtol=1e-6)
    assert intercept == pytest.approx(solution[-1], rel=1e-6)
    np.testing.assert_allclose(model.predict(X), best, rtol=0, atol=1e-6)
    assert model.score(X, y) > 0.99


def test_off_scale_columns_diverge_at_a_given_lr_and_the_error_says_what_to_try():
    X, y = generate(50, seed=2)
    with pytest.raises(TrainingDiverged) as caught:
        FwdbackRegressor(lr=0.05).fit(X * 100.0, y)
    error = caught.value
    assert isinstance(error, FwdbackError)
    assert f"try lr={float(f'{error.suggested_lr:.2g}')!r}, or standardize=True" in str(error)


def test_off_scale_columns_train_at_the_default_lr():
    # No lr: the step is chosen from the data, and badly scaled columns are standardised.
    X, y = generate(50, seed=2)
    model = FwdbackRegressor().fit(X * np.array([100.0, 1.0, 0.01]), y)
    assert model.scaling_ is not None and model.lr_ > 0
    assert model.score(X * np.array([100.0, 1.0, 0.01]), y) > 0.99


def test_fitted_attributes(hand, names):
    X, y = generate(40, seed=3)
    model = FwdbackRegressor(epochs=30, random_state=4).fit(X, y)

    assert model.n_iter_ == len(model.loss_curve_) == 30
    assert model.n_features_in_ == 3 and model.seed_ == 4
    assert model.best_epoch_ is None and model.validation_loss_curve_ is None and model.scaling_ is None
    assert list(model.weights_) == list(names)
    assert model.weights_ == model.params_.as_dict()
    # Epoch 1's loss is the loss of the seed's initial weights, written out by hand.
    initial = Network.random(seed=4).weights
    assert model.loss_curve_[0] == pytest.approx(hand.loss(initial, X, y), rel=1e-13)
    assert model.final_loss_ == pytest.approx(hand.loss(model.weights_, X, y), rel=1e-13)
    assert model.final_loss_ < model.loss_curve_[0]


def test_early_stopping_keeps_the_best_epoch():
    X, y = generate(60, seed=5, noise=0.5)
    model = FwdbackRegressor(val_split=0.25, patience=3, epochs=1000).fit(X, y)

    assert len(model.loss_curve_) == len(model.validation_loss_curve_) == model.n_iter_
    curve = model.validation_loss_curve_
    assert model.best_epoch_ == 1 + curve.index(min(curve))
    assert model.n_iter_ == model.best_epoch_ + 3 < 1000  # stopped after 3 epochs without improvement


def test_get_params_and_set_params_round_trip():
    model = FwdbackRegressor(hidden=4, activation="tanh", lr=0.01, batch_size=8, random_state=3)
    params = model.get_params()
    assert params == {
        "hidden": 4, "activation": "tanh", "lr": 0.01, "epochs": 10_000, "tol": 1e-12, "batch_size": 8,
        "standardize": None, "val_split": None, "patience": None, "min_delta": 0.0, "random_state": 3,
        "output_activation": "identity", "bias": True, "loss": "mse", "shuffle": True, "freeze": (),
        "optimizer": "gd", "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "warm_start": False,
    }
    assert FwdbackRegressor(**params).get_params() == params  # what scikit-learn's clone does

    other = FwdbackRegressor()
    assert other.set_params(**params) is other
    assert other.get_params() == params
    assert repr(other) == "FwdbackRegressor(hidden=4, activation='tanh', lr=0.01, batch_size=8, random_state=3)"
    assert repr(FwdbackRegressor()) == "FwdbackRegressor()"


def test_set_params_refuses_an_unknown_name_and_changes_nothing():
    model = FwdbackRegressor()
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'.*Valid parameters are"):
        model.set_params(lr=0.2, learning_rate=0.2)
    assert model.lr is None


def test_a_copy_from_get_params_is_unfitted_and_fits_the_same():
    X, y = generate(30, seed=6)
    model = FwdbackRegressor(epochs=20, random_state=9).fit(X, y)
    copy = FwdbackRegressor(**model.get_params())

    assert not any(name.endswith("_") for name in vars(copy))
    assert copy.fit(X, y).weights_ == model.weights_


def test_predict_before_fit_raises():
    X, _ = generate(5)
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        FwdbackRegressor().predict(X)
    with pytest.raises(ValueError):  # as scikit-learn's NotFittedError, also a ValueError
        FwdbackRegressor().score(X, np.zeros(5))


@pytest.mark.parametrize(
    "params",
    [
        {"hidden": 0}, {"hidden": 2.0}, {"activation": "softmax"}, {"lr": -1.0}, {"lr": float("nan")},
        {"epochs": 0}, {"batch_size": 0}, {"standardize": "yes"}, {"val_split": 1.0}, {"patience": 0},
        {"min_delta": -0.1}, {"random_state": -1}, {"random_state": "seed"},
    ],
)
def test_bad_parameters_are_refused_by_fit_not_by_init(params):
    (name,) = params
    model = FwdbackRegressor(**params)  # scikit-learn's rule: __init__ and set_params only store
    model.set_params(**params)
    X, y = generate(10)
    with pytest.raises(ValueError, match=f"{name}"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.ones(10), np.ones(10), r"X must be 2-D.*Reshape your data"),
        (np.ones((10, 3)), np.ones(9), "X has 10 rows but y has 9 values"),
        (np.ones((10, 3)), None, "requires y to be passed"),
        (np.ones((10, 3)), np.ones((10, 2, 1)), r"y should be a 1d array \(one target\) or 2-D \(one column per target\), got shape \(10, 2, 1\)"),
        (np.ones((0, 3)), np.ones(0), r"0 sample\(s\)"),
        (np.ones((10, 0)), np.ones(10), r"0 feature\(s\)"),
        (np.where(np.arange(30).reshape(10, 3) == 7, np.nan, 1.0), np.ones(10), r"X contains NaN or inf \(X\[2, 1\] is nan\)"),
        (np.ones((10, 3)), np.where(np.arange(10) == 4, np.inf, 1.0), r"y contains NaN or inf \(y\[4\] is inf\)"),
        (np.ones((10, 3)) * 1j, np.ones(10), "Complex data not supported"),
    ],
)
def test_bad_data_is_refused_with_what_to_fix(X, y, message):
    with pytest.raises(ValueError, match=message):
        FwdbackRegressor().fit(X, y)


def test_predict_checks_the_columns_it_was_fitted_on():
    X, y = generate(20)
    model = FwdbackRegressor(epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but FwdbackRegressor is expecting 3 features as input"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="Reshape your data"):
        model.predict(X[0])


def test_lists_dataframes_and_a_column_y_fit_the_same():
    import pandas as pd  # a dependency of fwdback's CLI, so always installed; the estimator does not import it

    X, y = generate(20)
    expected = FwdbackRegressor(epochs=10).fit(X, y).weights_
    assert FwdbackRegressor(epochs=10).fit(X.tolist(), y.tolist()).weights_ == expected
    assert FwdbackRegressor(epochs=10).fit(pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y)).weights_ == expected
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        assert FwdbackRegressor(epochs=10).fit(X, y[:, None]).weights_ == expected


def test_random_state_none_draws_a_seed_that_repeats_the_fit():
    X, y = generate(20)
    model = FwdbackRegressor(random_state=None, epochs=10).fit(X, y)
    assert isinstance(model.seed_, int)
    assert FwdbackRegressor(random_state=model.seed_, epochs=10).fit(X, y).weights_ == model.weights_

    drawn = FwdbackRegressor(random_state=np.random.default_rng(1), epochs=10).fit(X, y)
    assert drawn.seed_ == int(np.random.default_rng(1).integers(2**32))


def test_the_defaults_are_the_clis(workdir):
    from fwdback.cli import cli

    options = cli.commands["train"].make_context("train", ["data.csv"]).params
    params = FwdbackRegressor().get_params()
    params["seed"] = params.pop("random_state")
    assert params.pop("warm_start") is False and options["resume_path"] is None  # warm_start is --resume MODEL's
    assert params == {name: options[name] for name in params}


def dyadic_rows(n=40, seed=11):
    """X, y whose every value is a multiple of 1/1024, so any CSV parser reads back exactly what was written."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-64, 65, size=(n, 3)) / 64
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0 + rng.integers(-64, 65, size=n) / 1024
    return X, y


@pytest.mark.parametrize(
    "options, params",
    [
        ([], {}),
        (
            ["--standardize", "--batch-size", 16, "--val-split", 0.25, "--seed", 5, "--epochs", 50],
            {"standardize": True, "batch_size": 16, "val_split": 0.25, "random_state": 5, "epochs": 50},
        ),
        (
            ["--hidden", 3, "--activation", "tanh", "--lr", 0.1, "--val-split", 0.2, "--patience", 5, "--seed", 2],
            {"hidden": 3, "activation": "tanh", "lr": 0.1, "val_split": 0.2, "patience": 5, "random_state": 2},
        ),
    ],
)
def test_the_cli_and_the_api_give_identical_weights(run, workdir, csv_text, options, params):
    X, y = dyadic_rows()
    (workdir / "data.csv").write_text(csv_text(X, y))

    result = run(["train", "data.csv", "--format", "json", "--model", "m.json", *options])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    model = FwdbackRegressor(**params).fit(X, y)

    assert model.weights_ == document["weights"]
    assert model.loss_curve_ == [entry["loss"] for entry in document["history"]]
    assert model.validation_loss_curve_ == ([entry["val_loss"] for entry in document["history"]] if "val_split" in params else None)
    assert model.final_loss_ == document["final_loss"]
    assert model.best_epoch_ == document["best_epoch"]

    predicted = run(["predict", "data.csv", "--model", "m.json"])
    assert predicted.exit_code == 0, predicted.stderr
    y_hat = [float(line.rsplit(",", 1)[1]) for line in predicted.stdout.splitlines()[1:]]
    assert model.predict(X).tolist() == y_hat


def test_the_api_imports_neither_click_rich_pandas_nor_sklearn():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from fwdback import FwdbackClassifier, FwdbackRegressor, Network
        X = np.random.default_rng(0).uniform(-1, 1, (30, 3)); y = X.sum(axis=1)
        try:
            FwdbackRegressor().predict(X)
        except ValueError:
            pass
        model = FwdbackRegressor(epochs=20, batch_size=8, val_split=0.2, patience=5, standardize=True).fit(X, y)
        model.score(X, y)
        Network.random().backward(X, y)
        FwdbackClassifier(epochs=20).fit(X, np.where(y > 0, "up", "down")).score(X, np.where(y > 0, "up", "down"))
        print(sorted(name for name in ("click", "rich", "pandas", "sklearn", "scipy") if name in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_network_forward_backward_step_by_the_lectures_formulas(hand, names):
    X, y = generate(25, seed=8)
    net = Network.random(seed=3)
    weights = net.weights
    assert list(weights) == list(names) and net["w7"] == weights["w7"]

    _, _, yhat = hand.forward(weights, X[:, 0], X[:, 1], X[:, 2])
    np.testing.assert_allclose(net.predict(X), yhat, rtol=1e-13)
    assert net.loss_of(X, y) == pytest.approx(hand.loss(weights, X, y), rel=1e-13)
    grads = net.backward(X, y)
    expected = hand.gradients(weights, X, y)
    for name in names:
        assert grads.as_dict()[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-14)

    net.step(grads, lr=0.1)
    stepped = hand.step(weights, X, y, 0.1)
    for name in names:
        assert net[name] == pytest.approx(stepped[name], rel=1e-12, abs=1e-14)


def test_network_from_weights_names_what_is_missing_or_unknown(init_weights):
    assert Network.from_weights(init_weights).weights == init_weights
    weights = dict(init_weights, w9=1.0)
    del weights["b3"]
    with pytest.raises(ValueError, match="missing: b3, unknown: w9"):
        Network.from_weights(weights)


def test_a_cli_model_loads_into_python_and_back(run, workdir, csv_text):
    X, y = generate(60, seed=12)
    (workdir / "d.csv").write_text(csv_text(X, y))
    assert run(["train", "d.csv", "--activation", "tanh", "--hidden", 3, "--standardize", "-q"]).exit_code == 0
    model = FwdbackRegressor.from_model("model.json")
    assert (model.hidden, model.activation, model.standardize) == (3, "tanh", True)
    assert list(model.feature_names_in_) == ["x1", "x2", "x3"] and model.n_features_in_ == 3
    predicted = run(["predict", "d.csv"]).stdout.splitlines()[1:]
    np.testing.assert_array_equal(model.predict(X), [float(line.split(",")[-1]) for line in predicted])
    # ... and out again: the file it saves is one predict reads, with the same predictions.
    model.save("again.json")
    assert run(["predict", "d.csv", "--model", "again.json"]).stdout == run(["predict", "d.csv"]).stdout


def test_from_model_gives_back_every_setting_of_the_run_and_refits_to_the_same_weights(workdir):
    X, y = generate(80, seed=14)
    settings = dict(epochs=300, tol=1e-9, val_split=0.25, patience=7, min_delta=1e-6, lr=0.05, batch_size=16,
                    random_state=4, loss="half-mse", optimizer="momentum", momentum=0.5, freeze=("b3",), hidden=3)
    fitted = FwdbackRegressor(**settings).fit(X, y)
    fitted.save("m.json")
    loaded = FwdbackRegressor.from_model("m.json")
    # standardize=None resolves to what the run did: with an lr given, the raw values.
    assert loaded.get_params() == FwdbackRegressor(**settings, standardize=False).get_params()
    refitted = FwdbackRegressor(**loaded.get_params()).fit(X, y)
    assert refitted.weights_ == loaded.weights_ == fitted.weights_


def test_from_model_of_cli_runs_has_their_epochs_tol_split_and_patience(run, workdir, csv_text):
    X, y = generate(60, seed=15)
    (workdir / "d.csv").write_text(csv_text(X, y))
    split = ["--val-split", "0.2", "--patience", "5", "--tol", "1e-10", "--lr", "0.04"]
    assert run(["train", "d.csv", "--epochs", "40", *split, "--model", "a.json", "-q"]).exit_code == 0
    model = FwdbackRegressor.from_model("a.json")
    assert (model.epochs, model.tol, model.val_split, model.patience, model.lr) == (40, 1e-10, 0.2, 5, 0.04)
    # A resumed run's epochs count from the model's first: those of the one unbroken run like it.
    assert run(["train", "d.csv", "--epochs", "40", "--lr", "0.04", "--tol", "0", "--model", "c.json", "-q"]).exit_code == 0
    assert run(["train", "d.csv", "--resume", "c.json", "--epochs", "25", "--model", "e.json", "-q"]).exit_code == 0
    resumed = FwdbackRegressor.from_model("e.json")
    assert (resumed.epochs, resumed.tol, resumed.val_split, resumed.patience) == (65, 0, None, None)
    assert FwdbackRegressor(**resumed.get_params()).fit(X, y).weights_ == resumed.weights_


def test_a_fitted_estimator_saves_a_model_predict_reads(run, workdir, csv_text):
    X, y = generate(50, seed=13)
    model = FwdbackRegressor(epochs=200, random_state=2).fit(X, y)
    model.save("m.json")
    (workdir / "new.csv").write_text(csv_text(X[:5], y[:5]))
    result = run(["predict", "new.csv", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal([float(line.split(",")[-1]) for line in result.stdout.splitlines()[1:]], model.predict(X[:5]))


@pytest.mark.parametrize("content", [b"x1,x2,x3,y\n1,2,3,4\n", b'{"format": "keras"}\n', b"\x00\x01binary"])
def test_save_never_replaces_a_file_that_is_not_a_model(workdir, content):
    X, y = generate(30, seed=15)
    model = FwdbackRegressor(epochs=20).fit(X, y)
    (workdir / "data.csv").write_bytes(content)
    with pytest.raises(ValueError) as caught:
        model.save("data.csv")
    assert isinstance(caught.value, FwdbackError)
    assert str(caught.value) == "data.csv exists and is not a fwdback model; give save(path) another path, or move that file away"
    assert (workdir / "data.csv").read_bytes() == content
    assert sorted(path.name for path in workdir.iterdir()) == ["data.csv"]


def test_save_replaces_a_model_or_an_empty_file(workdir):
    X, y = generate(30, seed=15)
    first, second = FwdbackRegressor(epochs=20).fit(X, y), FwdbackRegressor(epochs=20, random_state=4).fit(X, y)
    first.save("m.json")
    second.save("m.json")
    (workdir / "empty.json").write_bytes(b"")
    second.save("empty.json")
    for name in ("m.json", "empty.json"):
        assert json.loads((workdir / name).read_text())["weights"] == second.weights_


def test_the_target_keeps_the_name_of_a_series(run, workdir):
    import pandas

    X, y = generate(40, seed=16)
    frame = pandas.DataFrame(X, columns=["age", "bmi", "bp"]).assign(target=y)
    model = FwdbackRegressor(epochs=50).fit(frame.drop(columns="target"), frame.target)
    assert model.target_name_ == "target"
    model.save("dd.json")
    assert json.loads((workdir / "dd.json").read_text())["target"] == "target"
    frame.to_csv(workdir / "diabetes.csv", index=False)
    result = run(["evaluate", "diabetes.csv", "--model", "dd.json", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["target"] == "target"
    # Unnamed, or named like a feature, y is "y"; a refit forgets the name of the one before.
    assert model.fit(X, y).target_name_ == "y"
    assert model.fit(frame[["age", "bmi", "bp"]], frame.age.rename("age")).target_name_ == "y"
    assert model.fit(X, pandas.Series(y, name=0)).target_name_ == "y"


def test_a_network_too_wide_for_memory_is_refused_before_any_allocation(monkeypatch):
    monkeypatch.setattr("fwdback.training.available_memory", lambda: 8 << 30)
    monkeypatch.setattr("fwdback.estimator.init_parameters", lambda *a, **k: pytest.fail("allocated the weights"))
    X, y = generate(20, seed=17)
    with pytest.raises(NotEnoughMemory) as caught:
        FwdbackRegressor(hidden=10**9).fit(X, y)
    assert isinstance(caught.value, MemoryError)
    assert "hidden units (hidden)" in str(caught.value) and "--" not in str(caught.value)


def test_feature_names_come_from_a_data_frame():
    import pandas

    X, y = generate(40, seed=14)
    frame = pandas.DataFrame(X, columns=["size", "age", "rooms"])
    model = FwdbackRegressor(epochs=50).fit(frame, y)
    assert list(model.feature_names_in_) == ["size", "age", "rooms"]
    np.testing.assert_array_equal(model.predict(frame), model.predict(X))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame[["age", "size", "rooms"]])
    assert not hasattr(FwdbackRegressor(epochs=5).fit(X, y), "feature_names_in_")


@pytest.mark.parametrize("make_error", [
    lambda X, y: FwdbackRegressor(val_split=0.1).fit(X[:3], y[:3]),
    lambda X, y: FwdbackRegressor(lr=1e6, standardize=False, epochs=50).fit(X * 100, y),
])  # fmt: skip
def test_library_errors_speak_in_the_estimators_parameters(make_error):
    X, y = generate(50, seed=1)
    with pytest.raises(FwdbackError) as caught:
        make_error(X, y)
    message = str(caught.value)
    assert "--" not in message
    assert "val_split=0.1" in message or ("lr=" in message and "standardize=True" in message)


def test_the_same_errors_speak_in_flags_on_the_command_line(run, workdir, csv_text):
    X, y = generate(3, seed=1)
    (workdir / "three.csv").write_text(csv_text(X, y))
    result = run(["train", "three.csv", "--val-split", "0.1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --val-split 0.1 of 3 rows leaves 0 for validation")
    split = FwdbackRegressor(val_split=0.1)
    with pytest.raises(ValueError, match=r"^val_split=0.1 of 3 rows leaves 0 for validation"):
        split.fit(X, y)


@pytest.mark.parametrize("scale_y,scale_x", [(1e307, 1.0), (1.0, 1e307), (1e200, 1e-200)], ids=["y * 1e307", "X * 1e307", "y * 1e200, X / 1e200"])
def test_values_near_float64s_largest_fit_predict_and_score_without_a_warning(scale_y, scale_x):
    r2_score = pytest.importorskip("sklearn.metrics").r2_score
    X, y = generate(100, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, NumPy's RuntimeWarning among them, fails the test
        model = FwdbackRegressor(epochs=50).fit(X * scale_x, y * scale_y)
        predictions = model.predict(X * scale_x)
        score = model.score(X * scale_x, y * scale_y)
    assert np.isfinite(predictions).all()
    # R^2 does not change with the units: scikit-learn's, on y and the predictions brought back to y's.
    assert score == pytest.approx(r2_score(y, predictions / scale_y), rel=1e-12)


def test_data_too_large_for_the_loss_raise_the_librarys_error_and_no_warning():
    X, y = generate(100, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FwdbackError, match="too large for float64"):
            FwdbackRegressor(epochs=5, lr=0.1, standardize=False).fit(X, y * 1e307)
        network = Network.random()
        assert network.loss_of(X * 1e300, y) == np.inf  # the squares overflow: the loss is inf, as NumPy computes it
        assert np.isnan(network.predict(np.full((4, 3), np.inf))).all()  # inf - inf in every row
