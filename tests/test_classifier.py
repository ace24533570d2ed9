"""FwdbackClassifier: probabilities and training against the formulas worked by hand, class labels
as scikit-learn takes them, its refusals, warm starts, model files, and scikit-learn's checks.

The doors' parity for every setting (`fwdback train --loss bce|cross-entropy` and fit) is
tests/test_settings.py's.
"""

import json
import pickle
import warnings

import numpy as np
import pytest

import fwdback
from fwdback import FwdbackClassifier, FwdbackRegressor, Network
from fwdback.errors import ResumeConflict, UnknownClass

EPS = np.finfo(np.float64).eps


def blobs(n: int = 30, seed: int = 0, labels=("a", "b", "c")):
    """(X, y): n rows of two features around one centre per label, and their labels."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])[: len(labels)]
    index = np.arange(n) % len(labels)
    X = centres[index] + rng.normal(scale=0.7, size=(n, 2))
    return X, np.array(labels)[index]


def softmax_network_by_hand(w: dict, X: np.ndarray, hidden: int, classes: int, activation):
    """(N, logits, P) of a k-H-m network by the README's names: w1..w(kH) into the hidden units
    (unit h's k weights together), then the output weights class by class (class j's H weights
    together), b1..bH the hidden biases, b(H+1)..b(H+m) the outputs'. N : shape (n, H), logits and
    P = softmax(logits) : shape (n, m)."""
    n, k = X.shape
    N = np.column_stack([activation(sum(w[f"w{h * k + i + 1}"] * X[:, i] for i in range(k)) + w[f"b{h + 1}"])
                         for h in range(hidden)])
    logits = np.column_stack([sum(w[f"w{hidden * k + j * hidden + h + 1}"] * N[:, h] for h in range(hidden))
                              + w[f"b{hidden + j + 1}"] for j in range(classes)])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return N, logits, exp / exp.sum(axis=1, keepdims=True)


def test_predict_proba_is_the_softmax_of_the_logits_worked_by_hand():
    X, y = blobs(30, seed=1)
    model = FwdbackClassifier(hidden=3, activation="tanh", epochs=40, random_state=2).fit(X, y)
    _, _, P = softmax_network_by_hand(model.weights_, X, 3, 3, np.tanh)
    # A few roundings (of sums of three products, tanh, exp, a quotient) of numbers about 1: 20 eps.
    np.testing.assert_allclose(model.predict_proba(X), P, rtol=0, atol=20 * EPS)
    assert list(model.classes_) == ["a", "b", "c"]
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(P, axis=1)])
    assert model.score(X, y) == np.mean(model.predict(X) == y)


def test_bce_predict_proba_is_one_minus_the_sigmoid_and_the_sigmoid():
    X, y = blobs(30, seed=3, labels=("no", "yes"))
    model = FwdbackClassifier(loss="bce", epochs=40, random_state=1).fit(X, y)
    w = model.weights_
    N = [w[f"w{2 * h + 1}"] * X[:, 0] + w[f"w{2 * h + 2}"] * X[:, 1] + w[f"b{h + 1}"] for h in range(2)]
    p = 1 / (1 + np.exp(-(w["w5"] * N[0] + w["w6"] * N[1] + w["b3"])))
    np.testing.assert_allclose(model.predict_proba(X), np.column_stack([1 - p, p]), rtol=0, atol=20 * EPS)
    np.testing.assert_array_equal(model.predict(X), np.where(p > 0.5, "yes", "no"))


@pytest.mark.parametrize("loss, labels", [("cross-entropy", ("a", "b", "c")), ("bce", ("a", "b"))])
def test_training_is_gradient_descent_on_the_log_loss_worked_by_hand(loss, labels):
    X, y = blobs(24, seed=5, labels=labels)
    m = len(labels) if loss == "cross-entropy" else 1
    Y = (y[:, None] == np.array(labels)[None, :]).astype(float) if m > 1 else (y == labels[1]).astype(float)[:, None]
    lr, epochs, n = 0.5, 6, len(y)
    start = Network.random(n_inputs=2, hidden=2, activation="tanh", seed=4, n_outputs=m,
                           output_activation="softmax" if m > 1 else "sigmoid").weights
    W1 = np.array([[start["w1"], start["w2"]], [start["w3"], start["w4"]]])
    b1 = np.array([start["b1"], start["b2"]])
    W2 = np.array([[start[f"w{5 + 2 * j}"], start[f"w{6 + 2 * j}"]] for j in range(m)])
    b2 = np.array([start[f"b{3 + j}"] for j in range(m)])
    losses = []
    for _ in range(epochs):
        N = np.tanh(X @ W1.T + b1)  # (n, 2)
        A = N @ W2.T + b2  # (n, m), the logits
        if m > 1:
            P = np.exp(A - A.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            losses.append(float(np.mean(-np.sum(Y * np.log(P), axis=1))))
        else:
            P = 1 / (1 + np.exp(-A))
            losses.append(float(np.mean(-(Y * np.log(P) + (1 - Y) * np.log(1 - P)))))
        dA = (P - Y) / n  # the cancellation: sigmoid' times BCE's derivative, or the softmax Jacobian times CE's
        dZ = (dA @ W2) * (1 - N**2)
        W2, b2, W1, b1 = W2 - lr * dA.T @ N, b2 - lr * dA.sum(axis=0), W1 - lr * dZ.T @ X, b1 - lr * dZ.sum(axis=0)
    expected = dict(zip(["w1", "w2", "w3", "w4"], W1.ravel())) | {f"w{5 + i}": v for i, v in enumerate(W2.ravel())} \
        | {"b1": b1[0], "b2": b1[1]} | {f"b{3 + j}": b2[j] for j in range(m)}

    model = FwdbackClassifier(loss=loss, hidden=2, activation="tanh", lr=lr, epochs=epochs, tol=0.0,
                              random_state=4).fit(X, y)

    # The same operations in another order: each sum of 24 rows within 24 eps of the other's, over
    # six steps of at most lr * 1/2 times the curvature; 1e-12 of the largest weight leaves room for that.
    assert list(model.weights_) == list(expected)
    values = np.array(list(expected.values()))
    np.testing.assert_allclose(list(model.weights_.values()), values, rtol=0, atol=1e-12 * np.abs(values).max())
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-12)


@pytest.mark.parametrize("labels, classes", [
    ([10, 9, 2, 9, 10, 2], [2, 9, 10]),  # numbers by value, not as text
    (["b", "a", "c", "a", "b", "c"], ["a", "b", "c"]),
    ([2.0, 1.0, 1.0, 2.0, 1.0, 2.0], [1.0, 2.0]),
    ([True, False, True, False, True, False], [False, True]),
])
def test_classes_are_sorted_as_scikit_learn_sorts_them_and_predicted_as_given(labels, classes):
    X = np.arange(12.0).reshape(6, 2)
    model = FwdbackClassifier(epochs=3).fit(X, labels)
    assert model.classes_.tolist() == classes
    assert set(model.predict(X).tolist()) <= set(classes)
    assert model.predict_proba(X).shape == (6, len(classes))


def test_a_pandas_series_of_strings_fits_as_a_list_does_and_names_the_target():
    pandas = pytest.importorskip("pandas")
    X, y = blobs(30, seed=6)
    frame = pandas.DataFrame(X, columns=["height", "width"])
    model = FwdbackClassifier(epochs=30).fit(frame, pandas.Series(y, name="species"))
    assert model.target_name_ == "species" and list(model.feature_names_in_) == ["height", "width"]
    assert model.weights_ == FwdbackClassifier(epochs=30).fit(X, list(y)).weights_
    assert list(model.predict(frame)) == list(FwdbackClassifier(epochs=30).fit(X, list(y)).predict(X))


def test_each_estimator_refuses_the_other_s_losses_and_names_it():
    X, y = blobs(12)
    with pytest.raises(ValueError, match=r"FwdbackRegressor\(loss='bce'\): bce is a classifier's loss; use "
                                         r"FwdbackClassifier\(loss='bce'\)"):
        FwdbackRegressor(loss="bce").fit(X, np.arange(12.0))
    with pytest.raises(ValueError, match=r"FwdbackClassifier\(loss='mse'\): mse is a regressor's loss; use "
                                         r"FwdbackRegressor\(loss='mse'\), or give loss one of 'bce', 'cross-entropy'"):
        FwdbackClassifier(loss="mse").fit(X, y)
    with pytest.raises(TypeError, match=r"FwdbackClassifier\(\) takes no argument 'output_activation'"):
        FwdbackClassifier(output_activation="sigmoid")  # its loss's link
    with pytest.raises(ValueError, match="y holds 'b', which is not a number: FwdbackRegressor regresses numbers; "
                                         "for class labels use FwdbackClassifier"):
        FwdbackRegressor().fit(X, np.array(["1", "b"] * 6, dtype=object))


@pytest.mark.parametrize("y, message", [
    (np.linspace(0, 1, 12), r"Unknown label type: continuous \(y\[1\] is 0.0909"),
    (["a"] * 12, r"loss='cross-entropy' needs at least 2 classes, and it has 1 class \(a\)"),
    (["a", "b", "c"] * 4, r"loss='bce' needs exactly 2 classes, and it has 3 classes \(a, b, c\); for more than two "
                          r"classes use loss='cross-entropy'"),
    (["a", None] * 6, r"y\[1\] is None, not a class label"),
    (np.array([1, "a"] * 6, dtype=object), r"y mixes numbers and strings \(1 and 'a'\); give labels of one kind"),
    ([[0, 1]] * 12, r"y should be a 1d array of class labels"),
    (["a", "b"] * 5, "X has 12 rows but y has 10 values"),
])
def test_labels_a_classifier_cannot_learn_are_refused_with_what_to_fix(y, message):
    X = np.arange(24.0).reshape(12, 2)
    with pytest.raises(ValueError, match=message):
        FwdbackClassifier(loss="bce" if "bce" in message else "cross-entropy", epochs=2).fit(X, y)


def test_a_column_of_labels_is_flattened_with_a_warning():
    X, y = blobs(12)
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        model = FwdbackClassifier(epochs=3).fit(X, y[:, None])
    assert model.weights_ == FwdbackClassifier(epochs=3).fit(X, y).weights_


def test_a_warm_start_goes_on_as_one_unbroken_run_with_the_fitted_classes():
    X, y = blobs(30, seed=7)
    whole = FwdbackClassifier(epochs=12, tol=0.0, optimizer="adam").fit(X, y)
    warm = FwdbackClassifier(epochs=5, tol=0.0, optimizer="adam", warm_start=True).fit(X, y)
    warm.set_params(epochs=7).fit(X, y)
    assert warm.weights_ == whole.weights_ and warm.loss_curve_ == whole.loss_curve_ and warm.n_iter_ == 12
    warm.set_params(epochs=2).fit(X[y != "c"], y[y != "c"])  # rows of some of its classes: its network keeps three outputs
    assert warm.classes_.tolist() == ["a", "b", "c"] and warm.predict_proba(X).shape == (30, 3)
    with pytest.raises(UnknownClass, match=r"row 3: 'd' is not one of the model's classes \(a, b, c\)"):
        warm.fit(X, np.where(y == "c", "d", y))
    with pytest.raises(ResumeConflict, match="leave out loss='bce'"):
        warm.set_params(loss="bce").fit(X[y != "c"], y[y != "c"])


def test_a_warm_start_of_a_model_file_is_train_s_resume(run, workdir):
    X, y = blobs(18, seed=14, labels=("no", "yes"))
    (workdir / "d.csv").write_text("x1,x2,y\n" + "".join(f"{a!r},{b!r},{label}\n" for (a, b), label in zip(X.tolist(), y)))
    options = ["--features", "x1,x2", "--loss", "bce", "--optimizer", "adam", "-q"]
    assert run(["train", "d.csv", *options, "--epochs", "6", "--tol", "0", "--model", "a.json"]).exit_code == 0
    assert run(["train", "d.csv", *options, "--resume", "a.json", "--epochs", "9", "--model", "b.json"]).exit_code == 0
    warm = FwdbackClassifier.from_model("a.json").set_params(warm_start=True, epochs=9).fit(X, y)
    resumed = json.loads((workdir / "b.json").read_text())
    assert warm.weights_ == resumed["weights"] and warm.n_iter_ == 15  # adam's moments went on too


def test_pickling_and_clone_keep_what_the_classifier_is():
    X, y = blobs(30, seed=8)
    model = FwdbackClassifier(hidden=3, epochs=20).fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    assert copy.classes_.tolist() == model.classes_.tolist() and copy.get_params() == model.get_params()
    unfitted = FwdbackClassifier(**model.get_params())
    assert not hasattr(unfitted, "classes_") and unfitted.fit(X, y).weights_ == model.weights_


def test_a_saved_classifier_is_what_fwdback_train_writes_and_loads_back(run, workdir):
    X, y = blobs(20, seed=9, labels=(3, 1, 2))
    (workdir / "d.csv").write_text("x1,x2,y\n" + "".join(f"{a!r},{b!r},{label}\n" for (a, b), label in zip(X.tolist(), y)))
    assert run(["train", "d.csv", "--features", "x1,x2", "--loss", "cross-entropy", "--epochs", "25", "--model",
                "cli.json", "-q"]).exit_code == 0
    model = FwdbackClassifier(epochs=25).fit(X, y)
    model.save("api.json")
    saved, written = (json.loads((workdir / name).read_text()) for name in ("api.json", "cli.json"))
    assert saved["classes"] == written["classes"] == [1, 2, 3] and saved["weights"] == written["weights"]
    loaded = FwdbackClassifier.from_model("cli.json")
    assert loaded.classes_.tolist() == [1, 2, 3]
    assert loaded.get_params() == model.get_params() | {"lr": model.lr_, "standardize": False}  # as the run decided
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    with pytest.raises(ValueError, match="cli.json is a classifier's model .*; load it with FwdbackClassifier.from_model"):
        FwdbackRegressor.from_model("cli.json")
    result = run(["predict", "d.csv", "--model", "api.json"])
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header == "x1,x2,y,y_prob_1,y_prob_2,y_prob_3,y_hat"
    written = [line.split(",") for line in lines]
    np.testing.assert_array_equal([[float(cell) for cell in row[3:6]] for row in written], model.predict_proba(X))
    assert [int(row[6]) for row in written] == model.predict(X).tolist()


def test_fwdback_fit_with_a_classifier_s_loss_is_the_classifier_s_fit():
    X, y = blobs(20, seed=10, labels=("x", "y"))
    model = fwdback.fit(X, y, loss="bce", epochs=15)
    assert isinstance(model, FwdbackClassifier)
    assert model.weights_ == FwdbackClassifier(loss="bce", epochs=15).fit(X, y).weights_
    assert isinstance(fwdback.fit(X, np.arange(20.0), epochs=2), FwdbackRegressor)


def test_the_fitted_network_gives_the_probabilities_and_the_loss():
    X, y = blobs(30, seed=11)
    model = FwdbackClassifier(epochs=30).fit(X, y)
    network = model.network_
    np.testing.assert_array_equal(network.predict(X), model.predict_proba(X))
    one_hot = (y[:, None] == model.classes_[None, :]).astype(float)
    assert network.loss_of(X, one_hot, "cross-entropy") == pytest.approx(model.final_loss_, rel=1e-14)


def test_the_fitted_network_works_the_next_epoch_by_hand_as_fit_trains_it():
    X, y = blobs(15, seed=13)
    model = FwdbackClassifier(epochs=5, lr=0.1, tol=0.0).fit(X, y)
    one_hot = (y[:, None] == model.classes_[None, :]).astype(float)
    worked = model.network_.explain(X, one_hot, loss="cross-entropy", lr=0.1, rows=1).document()
    # Gradient descent's sixth step from the fifth's weights: the same operations, so the same numbers.
    assert worked["weights_after"] == FwdbackClassifier(epochs=6, lr=0.1, tol=0.0).fit(X, y).weights_
    assert worked["loss"] == model.final_loss_


# scikit-learn's checks, where it is installed. They test the API, and a score above 0.83 on
# their blobs, which 300 epochs reach: so the default run takes them at 300 epochs (some three
# seconds in all); at the defaults (up to 10,000 epochs, fits of a second or more each, some
# fifty seconds in all) they run in the slow step.
sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Estimator FwdbackClassifier does not inherit from", category=UserWarning)
    _all_checks = parametrize_with_checks([FwdbackClassifier(epochs=300), FwdbackClassifier()])
_names, _cases = _all_checks.args
# Every check runs but check_array_api_input (fwdback computes with NumPy alone), as the regressor's.
_cases = [pytest.param(*case, marks=[pytest.mark.slow] if case[0].epochs == 10_000 else [])
          for case in _cases if case[1].func.__name__ != "check_array_api_input"]


@pytest.mark.parametrize(_names, _cases, **_all_checks.kwargs)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_is_a_classifier_that_sklearn_can_clone():
    model = FwdbackClassifier(hidden=3, loss="bce", random_state=4)
    assert is_classifier(model) and clone(model).get_params() == model.get_params()


def test_in_a_pipeline_and_a_grid_search():
    X, y = blobs(60, seed=12)
    off_scale = X * np.array([1000.0, 0.01])  # columns the scaler brings back to one scale
    pipeline = make_pipeline(StandardScaler(), FwdbackClassifier(epochs=200)).fit(off_scale, y)
    assert pipeline.score(off_scale, y) > 0.9
    search = GridSearchCV(FwdbackClassifier(epochs=3, lr=0.5), {"hidden": [1, 3]}, cv=StratifiedKFold(3)).fit(X, y)
    assert search.best_params_["hidden"] in (1, 3) and search.best_estimator_.classes_.tolist() == ["a", "b", "c"]
