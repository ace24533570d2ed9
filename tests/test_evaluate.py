"""`fwdback evaluate`: a saved model's errors on other rows, beside least squares and the mean."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fwdback.modelfile import load_model


@pytest.fixture
def trained(run, workdir, csv_text):
    """model.json trained on 40 noisy rows; test.csv: 30 other rows of the same function."""
    rng = np.random.default_rng(4)
    X, X_test = rng.uniform(-1, 1, size=(40, 3)), rng.uniform(-1, 1, size=(30, 3))
    coef = np.array([2.0, -3.0, 0.5])
    y, y_test = X @ coef + 1 + rng.normal(0, 0.2, 40), X_test @ coef + 1 + rng.normal(0, 0.2, 30)
    (workdir / "train.csv").write_text(csv_text(X, y))
    (workdir / "test.csv").write_text(csv_text(X_test, y_test))
    assert run(["train", "train.csv", "-q"]).exit_code == 0
    return X_test, y_test


def expected_scores(y, predictions):
    """MSE, RMSE, MAE and R^2 written out."""
    residual = y - predictions
    mse = np.mean(residual**2)
    return {"mse": mse, "rmse": np.sqrt(mse), "mae": np.mean(np.abs(residual)), "r2": 1 - np.sum(residual**2) / np.sum((y - y.mean()) ** 2)}


def test_the_scores_and_the_baselines(run, trained):
    X, y = trained
    result = run(["evaluate", "test.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows"] == 30 and document["target"] == "y" and document["model"] == "model.json"
    scores = document["scores"]
    model = load_model("model.json")
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    for key, predictions in (("model", model.predict(X)), ("least_squares", A @ solution), ("mean", np.full(30, y.mean()))):
        for name, value in expected_scores(y, predictions).items():
            assert scores[key][name] == pytest.approx(value, rel=1e-12, abs=1e-15), (key, name)
    assert scores["mean"]["r2"] == pytest.approx(0.0, abs=1e-15)
    # Least squares on these very rows is the floor of any linear map: the model cannot beat it.
    assert scores["least_squares"]["mse"] <= scores["model"]["mse"] < scores["mean"]["mse"]


def test_table_and_csv(run, trained):
    table = run(["evaluate", "test.csv"])
    assert table.exit_code == 0, table.stderr
    assert "model.json on test.csv (30 rows)" in table.stdout
    assert "least squares fitted to test.csv" in table.stdout and "the mean of y" in table.stdout
    csv = run(["evaluate", "test.csv", "--format", "csv"]).stdout.splitlines()
    assert csv[0] == "predictor,mse,rmse,mae,r2"
    assert [line.split(",")[0] for line in csv[1:]] == ["model", "least_squares", "mean"]


def test_the_model_from_stdin(run, trained):
    with open("model.json", encoding="utf-8") as stream:
        text = stream.read()
    piped = run(["evaluate", "test.csv", "--model", "-", "--format", "csv"], input=text)
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == run(["evaluate", "test.csv", "--format", "csv"]).stdout
    both = run(["evaluate", "-", "--model", "-"], input=text)
    assert both.exit_code == 2 and "cannot both come from stdin" in both.stderr


def test_data_without_the_target_is_an_error(run, trained, workdir):
    (workdir / "no_y.csv").write_text("x1,x2,x3\n1,2,3\n")
    result = run(["evaluate", "no_y.csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no_y.csv: no column 'y'")


def test_a_missing_column_is_named_with_the_columns_the_model_reads(run, trained, workdir):
    result = run(["evaluate", "--model", "model.json"], input="x1,x2,x3\n1,2,3\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: <stdin>: no column 'y'")
    assert "the model reads the columns x1,x2,x3 and its target y" in result.stderr
    assert "--features" not in result.stderr and "--target" not in result.stderr


def test_r2_is_undefined_for_a_constant_target(run, workdir, csv_text):
    X = np.random.default_rng(8).uniform(-1, 1, size=(20, 3))
    y = np.full(20, 5.0)
    (workdir / "c.csv").write_text(csv_text(X, y))
    assert run(["train", "c.csv", "-q"]).exit_code == 0
    table = run(["evaluate", "c.csv"])
    assert table.exit_code == 0, table.stderr
    rows = {line.split()[0]: line.split()[-1] for line in table.stdout.splitlines()[2:5]}
    assert list(rows.values()) == ["undefined"] * 3
    assert "R^2 undefined: y is constant" in table.stdout
    document = json.loads(run(["evaluate", "c.csv", "--format", "json"]).stdout)
    assert [document["scores"][key]["r2"] for key in ("model", "least_squares", "mean")] == [None] * 3
    assert document["scores"]["mean"]["mse"] == 0.0
    csv = run(["evaluate", "c.csv", "--format", "csv"]).stdout.splitlines()
    assert [line.rsplit(",", 1)[1] for line in csv[1:]] == ["", "", ""]


def test_r2_is_defined_whenever_y_varies(run, trained):
    table = run(["evaluate", "test.csv"]).stdout
    assert "undefined" not in table
