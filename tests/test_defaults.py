"""Right the first time: with no options, training ends at the least-squares optimum.

For the linear network no weights beat ordinary least squares on [x, 1], so numpy's lstsq is
the independent yardstick: over a varied set of data (feature scales from 1e-3 to 1e4, uneven
scales and offsets, populations and Unix times, values around 1e300, targets with a large
intercept or around 1e200, the diabetes data, a constant column, collinear columns, 4 to
1,000,000 rows), training with the defaults (the step chosen from the data, badly scaled columns
standardised, the convergence stop) must not diverge and must end within 1% of the best
loss, or of zero up to rounding where the best is an exact fit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fwdback.modelfile import Model, load_model
from fwdback.network import init_parameters
from fwdback.plan import TrainingPlan
from fwdback.synthetic import generate
from fwdback.training import fit_rows, prepare


def diabetes():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = sklearn_datasets.load_diabetes(return_X_y=True, scaled=False)
    return X.astype(float), y.astype(float)


def cases():
    yield "well scaled", lambda: generate(200, seed=42)
    for scale in (1e-3, 1e-1, 1e2, 1e4):
        yield f"x * {scale:g}", lambda scale=scale: (generate(500, seed=1)[0] * scale, generate(500, seed=1)[1])
        yield f"x and y * {scale:g}", lambda scale=scale: tuple(part * scale for part in generate(500, seed=1))
    yield "scales 1e-3, 1, 1e4", lambda: (generate(200, seed=6)[0] * np.array([1e-3, 1.0, 1e4]), generate(200, seed=6)[1])
    yield "means 1000, -500, 30", lambda: (generate(200, seed=6)[0] + np.array([1000.0, -500.0, 30.0]), generate(200, seed=6)[1])
    yield "every x around 1e6, spread 1", lambda: (generate(200, seed=2)[0] + 1e6, generate(200, seed=2)[1])
    yield "diabetes", diabetes
    yield "4 rows, a constant column of 5", lambda: (np.array([[1, 2, 5], [2, 1, 5], [3, 5, 5], [4, 3, 5.0]]), np.array([1.0, 2, 3, 5]))
    yield "4 rows", lambda: generate(4, seed=5)
    yield "x3 = x1 + x2", lambda: _collinear()
    yield "1,000,000 rows", lambda: generate(1_000_000, seed=7)
    yield "x1 a population, 2e5 to 3e6", lambda: _population()
    yield "x1 a Unix time, 1.7e9", lambda: (generate(300, seed=8)[0] * [1e7, 1.0, 1.0] + [1.7e9, 0.0, 0.0], generate(300, seed=8)[1])
    yield "intercept 20", lambda: generate(200, seed=0, coef=(2.0, -3.0, 0.5, 20.0))
    yield "intercept 100", lambda: generate(500, seed=4, coef=(2.0, -3.0, 0.5, 100.0))
    yield "y around 1e200", lambda: (generate(200, seed=9)[0], generate(200, seed=9)[1] * 1e200)
    yield "x1 around 1e300", lambda: (generate(100, seed=10)[0] * [1e300, 1.0, 1.0], generate(100, seed=10)[1])


def _population():
    rng = np.random.default_rng(5)
    population = rng.uniform(2e5, 3e6, 1000)
    X = np.column_stack([population, rng.normal(size=1000), rng.uniform(0, 1, 1000)])
    return X, 3e-6 * population + 2 * X[:, 1] - X[:, 2] + rng.normal(0, 0.1, 1000)


def _collinear():
    X, y = generate(300, seed=3)
    X[:, 2] = X[:, 0] + X[:, 1]
    return X, y


def best_loss(X, y):
    """The least-squares loss, in units of y's largest value, from lstsq on [X, 1] with every
    column divided by its largest value (else lstsq drops the directions of small columns)."""
    A = np.column_stack([X, np.ones(len(X))])
    A = A / np.abs(A).max(axis=0)
    size = np.abs(y).max()
    solution, *_ = np.linalg.lstsq(A, y / size, rcond=None)
    return float(np.mean((A @ solution - y / size) ** 2))


def within_one_percent(predictions, X, y):
    """Whether the predictions' loss is within 1% of the best, or of zero up to rounding."""
    size = np.abs(y).max()
    loss = float(np.mean((predictions / size - y / size) ** 2))
    return loss <= 1.01 * best_loss(X, y) + 1e-12 * float(np.mean((y / size) ** 2))


@pytest.mark.parametrize("make", [make for _, make in cases()], ids=[name for name, _ in cases()])
def test_the_defaults_reach_least_squares(make):
    X, y = make()
    initial = init_parameters(np.random.default_rng(0), X.shape[1], 2)
    plan = TrainingPlan()
    fitted = fit_rows(prepare(X, y, plan), initial, plan)
    features = tuple(f"x{j}" for j in range(1, X.shape[1] + 1))
    predictions = Model(fitted.result.final, features, "y", scaling=fitted.rows.scaling).predict(X)
    assert within_one_percent(predictions, X, y), (fitted.plan.lr, fitted.result.epochs_run, best_loss(X, y))
    assert fitted.result.epochs_run < TrainingPlan().epochs  # the convergence stop ended it


def test_the_command_line_defaults_reach_least_squares_on_the_diabetes_data(run, workdir):
    X, y = diabetes()
    names = [f"s{j}" for j in range(1, X.shape[1] + 1)]
    lines = [",".join([*names, "y"])] + [",".join(map(repr, [*row, target])) for row, target in zip(X.tolist(), y.tolist())]
    (workdir / "diabetes.csv").write_text("\n".join(lines) + "\n")
    result = run(["train", "diabetes.csv", "--features", ",".join(names), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "training on z-scores" in result.stderr  # said before training
    document = json.loads(result.stdout)
    assert document["lr_chosen"] is True and document["stop"] == "converged"
    model = load_model("model.json")
    assert within_one_percent(model.predict(X), X, y)


def test_with_a_learning_rate_badly_scaled_columns_get_a_note_before_training(run, workdir):
    X, y = generate(200, seed=6)
    X = X * np.array([1e-3, 1.0, 1e4])
    lines = ["x1,x2,x3,y"] + [",".join(map(repr, [*row, target])) for row, target in zip(X.tolist(), y.tolist())]
    (workdir / "d.csv").write_text("\n".join(lines) + "\n")
    result = run(["train", "d.csv", "--lr", "1e-9", "--epochs", "5", "--no-save"])
    assert result.exit_code == 0, result.stderr
    note = result.stderr.splitlines()[0]
    assert note.startswith("Note: d.csv: the columns' scales differ badly") and "--standardize" in note
