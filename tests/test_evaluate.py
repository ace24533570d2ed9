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


# --- a classifier ------------------------------------------------------------------------------


def _classifier_scores(model_file, X, true):
    """The model file's probabilities of X, by the oracle's network from its named weights (on
    the z-scores its "scaling" records) and scipy's sigmoid or softmax of the logits, then
    sklearn.metrics of them; independent of fwdback's forward pass and scores."""
    from scipy.special import expit, softmax
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support

    from oracle import Shape, forward

    document = json.loads(model_file.read_text())
    classes = document["classes"]
    binary = document["output_activation"] == "sigmoid"
    if document["scaling"]:
        mean, std = document["scaling"]["mean"], document["scaling"]["std"]
        X = (X - [mean[name] for name in document["features"]]) / [std[name] for name in document["features"]]
    shape = Shape(k=X.shape[1], H=document["hidden"], m=1 if binary else len(classes), hidden=document["activation"])
    A = forward(document["weights"], X, shape).A
    P = np.column_stack([expit(-A[:, 0]), expit(A[:, 0])]) if binary else softmax(A, axis=1)
    predicted = P.argmax(axis=1)
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    # scipy's log p and fwdback's log-sum-exp of the logits agree within a few roundings of each term (|a| + log m).
    bound = 8 * np.finfo(float).eps * (np.abs(A).max() + np.log(len(classes)) + 1)
    return {"accuracy": accuracy_score(true, predicted), "log_loss": log_loss(true, P, labels=labels),
            "confusion_matrix": confusion_matrix(true, predicted, labels=labels).tolist(), "precision": precision.tolist(),
            "recall": recall.tolist(), "f1": f1.tolist(), "support": support.tolist()}, bound


def _labelled_csv(X, labels, target="y"):
    return "x1,x2," + target + "\n" + "".join(f"{a!r},{b!r},{label}\n" for (a, b), label in zip(X.tolist(), labels))


@pytest.mark.parametrize("loss, names, options", [
    ("bce", ("0", "1"), []),
    ("cross-entropy", ("iris", "lily", "rose"), ["--standardize", "--hidden", "3"]),
])
def test_a_classifiers_scores_are_scikit_learns_of_its_probabilities(run, workdir, loss, names, options):
    rng = np.random.default_rng(11)
    X, X_test = rng.normal(0, 2, size=(60, 2)), rng.normal(0, 2, size=(41, 2))
    m = len(names)
    centres = np.array([[np.cos(2 * np.pi * j / m), np.sin(2 * np.pi * j / m)] for j in range(m)])
    true, true_test = (np.argmax(points @ centres.T, axis=1) for points in (X, X_test))
    (workdir / "train.csv").write_text(_labelled_csv(X, [names[j] for j in true]))
    (workdir / "test.csv").write_text(_labelled_csv(X_test, [names[j] for j in true_test]))
    trained = run(["train", "train.csv", "--features", "x1,x2", "--loss", loss, "--activation", "tanh", "--epochs", "200",
                   "-q", "--model", "c.json", *options])
    assert trained.exit_code == 0, trained.stderr
    result = run(["evaluate", "test.csv", "--model", "c.json", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    expected, bound = _classifier_scores(workdir / "c.json", X_test, true_test)
    assert document["rows"] == 41 and document["target"] == "y"
    assert document["classes"] == ([int(name) for name in names] if loss == "bce" else list(names))
    scores = document["scores"]["model"]
    assert scores["log_loss"] == pytest.approx(expected.pop("log_loss"), rel=0, abs=bound)
    assert {name: scores[name] for name in expected} == expected
    counts = np.bincount(true_test, minlength=m)
    majority = int(counts.argmax())
    assert document["majority_class"] == document["classes"][majority]
    frequencies = counts[counts > 0] / 41
    assert document["scores"]["majority"]["accuracy"] == counts[majority] / 41
    assert document["scores"]["majority"]["log_loss"] == pytest.approx(-(frequencies * np.log(frequencies)).sum(), rel=1e-14)


@pytest.fixture
def circle(run, workdir):
    """circle.json, a 2-4-1 tanh bce classifier of the Playground's circle, and test.csv: 40 rows of it."""
    (workdir / "train.csv").write_text(run(["generate", "--shape", "circle", "--rows", "100", "--seed", "1"]).stdout)
    (workdir / "test.csv").write_text(run(["generate", "--shape", "circle", "--rows", "40", "--seed", "2"]).stdout)
    trained = run(["train", "train.csv", "--features", "x1,x2", "--loss", "bce", "--hidden", "4", "--activation", "tanh",
                   "--epochs", "300", "-q", "--model", "circle.json"])
    assert trained.exit_code == 0, trained.stderr
    return json.loads(run(["evaluate", "test.csv", "--model", "circle.json", "--format", "json"]).stdout)


def test_a_classifiers_table_and_csv_hold_the_json_scores(run, circle):
    scores, majority = circle["scores"]["model"], circle["majority_class"]
    table = run(["evaluate", "test.csv", "--model", "circle.json"])
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "circle.json on test.csv (40 rows)"
    assert lines[1].split() == ["predictor", "accuracy", "log", "loss"]
    assert lines[2].split() == ["circle.json", f"{scores['accuracy']:.6f}", f"{scores['log_loss']:.6g}"]
    assert lines[3].startswith(f" the majority class ({majority}) for every row")
    assert lines[5].split() == ["class", "precision", "recall", "F1", "support", "predicted", "0", "predicted", "1"]
    for j, line in enumerate(lines[6:8]):
        assert line.split() == [str(j), *(f"{scores[name][j]:.6f}" for name in ("precision", "recall", "f1")),
                                str(scores["support"][j]), *map(str, scores["confusion_matrix"][j])]
    csv = run(["evaluate", "test.csv", "--model", "circle.json", "--format", "csv"])
    assert csv.exit_code == 0, csv.stderr
    rows = [line.split(",") for line in csv.stdout.splitlines()]
    assert rows[0] == ["predictor", "score", "class", "predicted", "value"]
    found = {tuple(row[:4]): float(row[4]) for row in rows[1:]}
    assert len(found) == len(rows) - 1 == 2 * (2 + 4 * 2 + 4)
    for key in ("model", "majority"):
        each = circle["scores"][key]
        assert found[key, "accuracy", "", ""] == each["accuracy"] and found[key, "log_loss", "", ""] == each["log_loss"]
        for j in range(2):
            for name in ("precision", "recall", "f1", "support"):
                assert found[key, name, str(j), ""] == each[name][j]
            for k in range(2):
                assert found[key, "confusion_matrix", str(j), str(k)] == each["confusion_matrix"][j][k]


def test_a_label_the_classifier_does_not_know_is_named(run, no_crash, circle, workdir):
    (workdir / "other.csv").write_text("x1,x2,y\n0.5,0.5,1\n1.5,-2,2\n")
    result = run(["evaluate", "other.csv", "--model", "circle.json"])
    no_crash(result)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Error: other.csv, row 2, column y: 2 is not one of the model's classes (0, 1); give rows of "
                             "those classes, or train a model on these labels afresh\n")


def test_a_classifiers_logits_beyond_float64_are_named_by_row(run, no_crash, circle, workdir):
    # Row 2: four tanh units at 1 times output weights of 1.5e308 each, a = 6e308, beyond float64
    # (1.8e308); row 1, at the origin with no hidden biases: N = 0 and a = b5.
    document = json.loads((workdir / "circle.json").read_text())
    document["weights"].update({f"w{j}": 1e300 for j in range(1, 9)} | {f"w{j}": 1.5e308 for j in range(9, 13)}
                               | {f"b{j}": 0.0 for j in range(1, 5)})
    (workdir / "over.json").write_text(json.dumps(document))
    (workdir / "far.csv").write_text("x1,x2,y\n0,0,0\n1e10,1e10,1\n")
    result = run(["evaluate", "far.csv", "--model", "over.json"])
    no_crash(result)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: far.csv, row 2: the prediction overflows float64")


def test_an_unknown_label_in_data_of_several_files_is_named_by_its_file_and_row(run, no_crash, circle, workdir):
    (workdir / "more.csv").write_text("x1,x2,y\n0.5,0.5,1\n1,2,0\n1,1,7\n")
    result = run(["evaluate", "test.csv", "more.csv", "--model", "circle.json"])
    no_crash(result)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: more.csv, row 3, column y: 7 is not one of the model's classes (0, 1)")


@pytest.mark.parametrize("loss", ["bce", "cross-entropy"])
def test_the_majority_log_loss_of_rows_of_one_class_is_zero_not_minus_zero(run, workdir, loss):
    """Rows all of one class: the majority's probability of it is 1, its log loss -1 log 1 = 0,
    written 0 (table), 0.0 (JSON, CSV), never with a minus sign."""
    (workdir / "train.csv").write_text("x1,x2,y\n1,2,a\n3,4,b\n5,6,a\n")
    (workdir / "one.csv").write_text("x1,x2,y\n1,2,b\n3,4,b\n")
    trained = run(["train", "train.csv", "--features", "x1,x2", "--loss", loss, "--epochs", "2", "-q", "--model", "c.json"])
    assert trained.exit_code == 0, trained.stderr
    shown = {form: run(["evaluate", "one.csv", "--model", "c.json", "--format", form]) for form in ("table", "json", "csv")}
    assert all(result.exit_code == 0 for result in shown.values()), {form: result.stderr for form, result in shown.items()}
    assert shown["table"].stdout.splitlines()[3].split()[-2:] == ["1.000000", "0"]
    log_loss = json.loads(shown["json"].stdout)["scores"]["majority"]["log_loss"]
    assert log_loss == 0 and np.copysign(1, log_loss) == 1
    assert "majority,log_loss,,,0.0" in shown["csv"].stdout.splitlines()
