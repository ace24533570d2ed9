"""The Python API a notebook user guesses: fwdback.fit, the Network's forward pass with N, one
name per idea across the Network, the estimator and the command line, and warm_start.

The CLI, FwdbackRegressor and fwdback.fit run one training code on the same float64 rows (CSV
written with repr reads back exactly), in the same order and layout, so their weights are
compared for equality: any difference is a different computation, not rounding. The forward
pass is checked against the lecture's formulas written out by hand.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import fwdback
from fwdback import FwdbackRegressor, Network
from fwdback.errors import ResumeConflict
from fwdback.estimator import NotFittedError
from fwdback.settings import SETTINGS
from fwdback.synthetic import generate

SCIKIT_LEARN_PAGE = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "scikit-learn.md"


def train(run, *options) -> dict:
    """`fwdback train data.csv --format json OPTIONS`'s document."""
    result = run(["train", "data.csv", "--format", "json", *options])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_fit_with_the_defaults_is_the_estimator_s_fit_and_train_s(run, workdir, csv_text):
    X, y = generate(60, seed=21, noise=0.1)
    (workdir / "data.csv").write_text(csv_text(X, y))
    fitted = fwdback.fit(X, y)
    assert type(fitted) is FwdbackRegressor and fitted.get_params() == FwdbackRegressor().get_params()
    assert fitted.stop_ == "converged"  # the defaults' run: the convergence stop, not the 10,000 epochs
    document = train(run, "--model", "m.json")
    assert fitted.weights_ == FwdbackRegressor().fit(X, y).weights_ == document["weights"]
    assert fitted.loss_curve_ == [entry["loss"] for entry in document["history"]]
    assert fitted.network_.weights == fitted.weights_


def test_fit_takes_the_settings_by_the_estimator_s_names(run, workdir, csv_text):
    X, y = generate(40, seed=22, noise=0.1)
    (workdir / "data.csv").write_text(csv_text(X, y))
    settings = {"hidden": 3, "activation": "tanh", "lr": 0.05, "epochs": 30, "random_state": 4, "loss": "half-mse",
                "optimizer": "momentum", "momentum": 0.5, "batch_size": 8, "freeze": ["b1"]}
    document = train(run, "--hidden", 3, "--activation", "tanh", "--lr", 0.05, "--epochs", 30, "--seed", 4,
                     "--loss", "half-mse", "--optimizer", "momentum", "--momentum", 0.5, "--batch-size", 8,
                     "--freeze", "b1")
    assert fwdback.fit(X, y, **settings).weights_ == document["weights"]


@pytest.mark.parametrize("name", ["seed", "n_hidden", "convention"])
def test_fit_refuses_a_name_that_is_not_a_setting(name):
    X, y = generate(10, seed=1)
    with pytest.raises(TypeError, match=name):
        fwdback.fit(X, y, **{name: 1})


def by_hand(w: dict, X: np.ndarray, activation) -> tuple[list, list, np.ndarray]:
    """z_h = w . x + b_h and N_h = act(z_h) for the hidden units h = 1..H of a k-H-1 network, and
    yhat = sum_h w_out_h N_h + b_out, the lecture's numbering: w1..wk into unit 1, ..., then the
    H output weights, b1..bH the hidden biases, b_(H+1) the output's."""
    n, k = X.shape
    H = (len(w) - 1) // (k + 2)
    z = [sum(w[f"w{h * k + j + 1}"] * X[:, j] for j in range(k)) + w[f"b{h + 1}"] for h in range(H)]
    N = [activation(zh) for zh in z]
    yhat = sum(w[f"w{H * k + h + 1}"] * N[h] for h in range(H)) + w[f"b{H + 1}"]
    return z, N, yhat


@pytest.mark.parametrize("hidden, activation, act", [(2, "identity", lambda z: z), (3, "tanh", np.tanh),
                                                     (2, "sigmoid", lambda z: 1 / (1 + np.exp(-z)))])
def test_forward_gives_the_hidden_units_before_and_after_their_activation(hidden, activation, act):
    X, _ = generate(7, seed=23)
    net = Network.random(hidden=hidden, activation=activation, seed=5)
    fwd = net.forward(X)
    z, N, yhat = by_hand(net.weights, X, act)
    # One product and one sum per input, in another order than the matrices': a few units in the
    # last place of values of order 1, and tanh, exp and the output's sum add a few more.
    assert fwd.Z.shape == fwd.N.shape == (hidden, len(X))
    np.testing.assert_allclose(fwd.Z, z, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(fwd.N, N, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(fwd.yhat, yhat, rtol=1e-13, atol=1e-14)
    assert net.predict(X).tolist() == fwd.yhat.tolist()


def test_the_lecture_s_forward_pass_n1_n2_by_hand(hand):
    X, _ = generate(5, seed=24)
    net = Network.random(seed=0)
    N1, N2, yhat = hand.forward(net.weights, X[:, 0], X[:, 1], X[:, 2])
    fwd = net.forward(X)
    np.testing.assert_allclose(fwd.N, [N1, N2], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(fwd.Z, fwd.N, rtol=0, atol=0)  # identity: what comes out is what went in
    np.testing.assert_allclose(fwd.yhat, yhat, rtol=1e-13, atol=1e-14)


def test_network_names_hidden_units_seed_and_loss_as_the_estimator_does(run, workdir, csv_text, hand):
    X, y = generate(30, seed=25)
    (workdir / "data.csv").write_text(csv_text(X, y))
    assert Network.random(hidden=4).params.n_hidden == 4
    assert Network.from_weights(Network.random(hidden=3).weights, hidden=3).params.n_hidden == 3
    with pytest.raises(TypeError):
        Network.random(n_hidden=4)
    assert not hasattr(Network, "loss")  # the method is loss_of; `loss` is the convention, as in the estimator

    net = Network.random(seed=6)  # seed: train's --seed, the estimator's random_state
    initial = train(run, "--seed", 6, "--epochs", 1, "--lr", 0.01, "--model", "m.json")
    assert json.loads((workdir / "m.json").read_text())["training"]["initial_weights"] == net.weights
    estimator = FwdbackRegressor(random_state=6, epochs=1, lr=0.01).fit(X, y)
    assert estimator.loss_curve_ == [initial["history"][0]["loss"]]

    mse = hand.loss(net.weights, X, y)
    assert net.loss_of(X, y) == pytest.approx(mse, rel=1e-13)
    assert net.loss_of(X, y, loss="sse") == pytest.approx(len(y) * mse, rel=1e-13)
    halved = net.backward(X, y, loss="half-mse").as_dict()
    for name, gradient in hand.gradients(net.weights, X, y).items():
        assert halved[name] == pytest.approx(gradient / 2, rel=1e-12, abs=1e-15)
    with pytest.raises(TypeError):
        net.backward(X, y, convention="mse")


def test_explain_chooses_the_step_as_the_command_line_does(run, workdir, csv_text):
    X, y = generate(40, seed=26)
    (workdir / "data.csv").write_text(csv_text(X, y))
    result = run(["explain", "data.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    cli = json.loads(result.stdout)
    worked = Network.random(seed=0).explain(X, y).document()
    assert cli["lr_chosen"] and worked["lr"] == cli["lr"]
    assert worked["gradients"] == cli["gradients"]
    assert Network.random(seed=0).explain(X, y, lr=0.01).document()["lr"] == 0.01


def test_network_of_an_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError, match="call fit"):
        FwdbackRegressor().network_  # noqa: B018


# Settings under which a run of A + B epochs is one of A and one of B: no convergence stop (tol 0)
# and no early stopping (which would keep an earlier epoch's weights), whose counts restart.
WARM = [
    {},
    {"optimizer": "adam", "batch_size": 16},
    {"optimizer": "nesterov", "val_split": 0.2, "standardize": True},
    {"optimizer": "momentum", "batch_size": 10, "shuffle": False, "lr": 0.005, "loss": "sse"},
]


@pytest.mark.parametrize("settings", WARM, ids=["gd", "adam mini-batches", "nesterov split scaled", "momentum sse in order"])
def test_a_warm_start_goes_on_as_one_unbroken_run(run, workdir, csv_text, settings):
    X, y = generate(50, seed=27, noise=0.2)
    (workdir / "data.csv").write_text(csv_text(X, y))
    whole = FwdbackRegressor(epochs=20, tol=0, **settings).fit(X, y)
    warm = FwdbackRegressor(epochs=8, tol=0, warm_start=True, **settings).fit(X, y)
    warm.set_params(epochs=12).fit(X, y)
    assert warm.weights_ == whole.weights_
    assert warm.loss_curve_ == whole.loss_curve_ and warm.n_iter_ == whole.n_iter_ == 20
    assert warm.validation_loss_curve_ == whole.validation_loss_curve_
    options = [part for name, value in settings.items() for part in
               ([f"--{'' if value else 'no-'}{name}"] if isinstance(value, bool)
                else [f"--{name.replace('_', '-')}", value])]
    assert train(run, "--epochs", 20, "--tol", 0, *options)["weights"] == whole.weights_


def test_a_warm_start_of_a_model_file_is_train_s_resume(run, workdir, csv_text):
    X, y = generate(40, seed=28, noise=0.2)
    (workdir / "data.csv").write_text(csv_text(X, y))
    train(run, "--epochs", 6, "--tol", 0, "--optimizer", "adam", "--model", "a.json")
    resumed = train(run, "--resume", "a.json", "--epochs", 9, "--model", "b.json")
    warm = FwdbackRegressor.from_model("a.json").set_params(warm_start=True, epochs=9).fit(X, y)
    assert warm.weights_ == resumed["weights"] and warm.n_iter_ == 15
    assert warm.loss_curve_ == [entry["loss"] for entry in resumed["history"]]  # from_model: this fit's epochs


def test_a_warm_start_refuses_what_the_fitted_run_contradicts():
    X, y = generate(30, seed=29)
    model = FwdbackRegressor(epochs=5, lr=0.01, warm_start=True).fit(X, y)
    with pytest.raises(ResumeConflict, match=r"model's lr, 0.01; leave out lr=0.02"):
        model.set_params(lr=0.02).fit(X, y)
    with pytest.raises(ValueError, match="hidden units, 2; leave out hidden=3"):
        model.set_params(lr=None, hidden=3).fit(X, y)
    with pytest.raises(ResumeConflict, match=r"model's seed, 0; leave out random_state=5"):  # the estimator's name
        model.set_params(hidden=2, random_state=5).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted network, which takes 3 columns of X \(n_features_in_\), not 2"):
        model.set_params(random_state=0).fit(X[:, :2], y)
    assert model.fit(X, y).n_iter_ == 10  # refused fits changed nothing


def test_a_warm_start_refuses_a_default_the_fitted_run_did_not_have():
    X, y = generate(30, seed=34)
    model = FwdbackRegressor(epochs=3, hidden=3, optimizer="adam", warm_start=True).fit(X, y)
    with pytest.raises(ResumeConflict, match="model's optimizer, adam; leave out optimizer='gd'"):
        model.set_params(optimizer="gd").fit(X, y)
    with pytest.raises(ResumeConflict, match="model's hidden units, 3; leave out hidden=2"):
        model.set_params(optimizer="adam", hidden=2).fit(X, y)


def test_warm_start_on_an_unfitted_estimator_fits_from_the_seed():
    X, y = generate(30, seed=30)
    assert FwdbackRegressor(epochs=5, warm_start=True).fit(X, y).weights_ == FwdbackRegressor(epochs=5).fit(X, y).weights_


def python_blocks() -> list[str]:
    """The scikit-learn page's Python examples, in order."""
    page = SCIKIT_LEARN_PAGE.read_text(encoding="utf-8")
    return [part.split("```", 1)[0] for part in page.split("```python\n")[1:]]


def test_the_scikit_learn_page_s_python_example_runs_as_written(run, workdir, csv_text):
    X, y = generate(30, seed=31)
    (workdir / "data.csv").write_text(csv_text(X, y))
    assert run(["train", "data.csv", "--epochs", "5", "--model", "model.json", "-q"]).exit_code == 0  # from_model's
    block = python_blocks()[0]
    namespace = {}
    exec(compile(block, "docs/how-to/scikit-learn.md", "exec"), namespace)  # noqa: S102
    model, X, y = namespace["model"], namespace["X"], namespace["y"]
    # What its comments say: 50 epochs and 30 warm ones are the fit of 80, as train's of 80.
    assert model.n_iter_ == len(model.loss_curve_) == 80
    assert model.weights_ == fwdback.fit(X, y, epochs=80, random_state=3).weights_
    assert namespace["fwd"].N.shape == (2, 200)
    assert (workdir / "python.json").exists()
    classifier = namespace["clf"]
    assert isinstance(classifier, fwdback.FwdbackClassifier) and classifier.classes_.tolist() == ["down", "up"]


def test_warm_start_is_a_setting_checked_as_the_others():
    X, y = generate(10, seed=32)
    with pytest.raises(ValueError, match=r"^FwdbackRegressor\(warm_start='yes'\): warm_start must be True or False"):
        FwdbackRegressor(warm_start="yes").fit(X, y)


def test_a_warm_start_on_a_dask_cluster_goes_on_as_one_unbroken_run():
    distributed = pytest.importorskip("distributed", reason="the dask extra: pip install '.[dask]'")
    import dask.array

    X, y = generate(300, seed=33)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        assert distributed.default_client() is client
        blocks = dask.array.from_array(X, chunks=(100, 3)), dask.array.from_array(y, chunks=100)
        whole = FwdbackRegressor(epochs=20, tol=0).fit(*blocks)
        warm = FwdbackRegressor(epochs=8, tol=0, warm_start=True).fit(*blocks)
        warm.set_params(epochs=12).fit(*blocks)
    assert warm.weights_ == whole.weights_ and warm.loss_curve_ == whole.loss_curve_ and warm.n_iter_ == 20


@pytest.mark.parametrize("call, words", [
    (lambda net, X, y: net.loss_of(X, y, loss="mae"), r"loss='mae'\): loss must be one of 'mse'"),
    (lambda net, X, y: net.backward(X, y, loss="mae"), r"loss='mae'\): loss must be one of 'mse'"),
    (lambda net, X, y: net.forward(X[:, :2]), r"X has shape \(30, 2\).*shape \(n, 3\)"),
    (lambda net, X, y: net.predict(X[0]), r"X has shape \(3,\).*shape \(n, 3\)"),
    (lambda net, X, y: net.explain(X, np.c_[y, y]), r"y has shape \(30, 2\).*shape \(30,\)"),
    (lambda net, X, y: net.backward(X, y[:-1]), r"y has shape \(29,\).*shape \(30,\)"),
    (lambda net, X, y: net.loss_of(X, y[:-1]), r"y has shape \(29,\).*shape \(30,\)"),
    (lambda net, X, y: Network.random(n_hidden=3), r"no argument 'n_hidden'; give hidden="),
    (lambda net, X, y: Network.random(random_state=1), r"no argument 'random_state'; give seed="),
    (lambda net, X, y: Network.random(hidden=0), r"hidden=0\): hidden must be an integer of at least 1"),
    (lambda net, X, y: Network.random(output_activation="relu"), r"output_activation must be one of 'identity'"),
    (lambda net, X, y: Network.from_weights(net.weights, n_hidden=2), r"no argument 'n_hidden'; give hidden="),
    (lambda net, X, y: net.explain(X, y, seed=1), r"no argument 'seed'; give random_state="),
    (lambda net, X, y: net.explain(X, y, optimizer="sgd"), r"optimizer='sgd'\): optimizer must be one of 'gd'"),
])
def test_a_network_refuses_a_wrong_argument_with_a_value_error_naming_it(call, words):
    X, y = generate(30, seed=27)
    with pytest.raises(ValueError, match=words):
        call(Network.random(seed=0), X, y)


def _close(ours, theirs, path=""):
    """Every number of `ours` (a JSON document) is `theirs`' at the same place, to 1e-12 relative."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict) and set(ours) <= set(theirs), path
        for key, value in ours.items():
            _close(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs), path
        for j, (a, b) in enumerate(zip(ours, theirs)):
            _close(a, b, f"{path}[{j}]")
    elif isinstance(ours, float) and not isinstance(theirs, bool):
        # One computation on the same float64 rows; the command line's rows are in its own memory
        # layout, whose sums BLAS may order otherwise: a few units in the last place, far below 1e-12.
        assert theirs == pytest.approx(ours, rel=1e-12, abs=1e-300), path
    else:
        assert ours == theirs, path


@pytest.mark.parametrize("shape, settings", [
    ({}, {"loss": "sse", "optimizer": "momentum", "momentum": 0.5, "freeze": ("b1", "w3"), "batch_size": 8,
          "random_state": 3}),
    ({"hidden": 3, "activation": "tanh"}, {"loss": "half-mse", "optimizer": "adam", "beta1": 0.8, "epsilon": 1e-6,
                                           "lr": 0.01, "batch_size": 5, "shuffle": False, "val_split": 0.25,
                                           "standardize": True}),
    ({}, {"loss": "half-sse", "optimizer": "nesterov", "patience": 3, "min_delta": 0.1}),
])
def test_explain_takes_the_run_s_settings_and_works_the_step_explain_works(run, workdir, csv_text, shape, settings):
    X, y = generate(30, seed=28)
    (workdir / "data.csv").write_text(csv_text(X, y))
    net = Network.random(seed=7, **shape)
    (workdir / "w.json").write_text(json.dumps(net.weights))
    by_parameter = {setting.estimator_name: setting for setting in SETTINGS}
    options = []
    for name, value in (shape | settings).items():
        setting = by_parameter[name]
        if isinstance(value, bool):
            options.append(setting.flag if value else f"--no-{setting.flag[2:]}")
        else:
            options += [setting.flag, ",".join(value) if isinstance(value, tuple) else str(value)]
    result = run(["explain", "data.csv", "--init", "w.json", "--format", "json", *options])
    assert result.exit_code == 0, result.stderr
    cli = json.loads(result.stdout)
    worked = net.explain(X, y, **settings).document()
    _close(worked, cli)
    assert net.weights == json.loads((workdir / "w.json").read_text())  # explain changes no weight
    plain = net.explain(X, y).document()
    assert plain["gradients"] != worked["gradients"]  # the settings changed what was worked


@pytest.mark.slow  # 12 fits and a refit: about 4 s of a loaded 2-core run
def test_the_scikit_learn_page_s_grid_search_runs_as_written():
    pytest.importorskip("sklearn")
    (block,) = python_blocks()[1:]
    namespace = {}
    exec(compile(block, "docs/how-to/scikit-learn.md", "exec"), namespace)  # noqa: S102
    search = namespace["search"]
    assert len(search.cv_results_["params"]) == 4 and search.n_splits_ == 3
    # y is linear in x plus noise of sd 0.1 (var 0.01 of y's var about 4.4): the best R^2 is near 1
    assert search.best_score_ > 0.99
