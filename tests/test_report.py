"""What train shows besides the losses: the history file, the chart, the least-squares yardstick."""

import csv
import json

import numpy as np
import pytest

from fwdback.network import Parameters, update

from conftest import csv_text


def test_the_history_file_has_one_row_per_epoch_and_replays_training(run, small_csv):
    result = run(["train", small_csv, "--epochs", 40, "--history", "history.csv", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    with open("history.csv", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    names = [f"w{i}" for i in range(1, 9)] + ["b1", "b2", "b3"]
    assert [int(row["epoch"]) for row in rows] == list(range(1, 41))
    assert [float(row["loss"]) for row in rows] == [entry["loss"] for entry in document["history"]]
    assert {name: float(rows[0][name]) for name in names} == document["initial_weights"]
    # Each row's parameters minus eta times its gradients are the next row's parameters.
    params = [Parameters([float(row[name]) for name in names]) for row in rows]
    grads = [Parameters([float(row[f"dL/d{name}"]) for name in names]) for row in rows]
    lr = document["lr"]
    for epoch in range(39):
        assert np.array_equal(update(params[epoch], grads[epoch], lr).vector, params[epoch + 1].vector)
    last = update(params[-1], grads[-1], lr).as_dict()
    assert last == document["weights"]


def test_the_chart_sits_under_the_loss_table_and_can_be_hidden(run, small_csv):
    shown = run(["train", small_csv, "--epochs", 300])
    hidden = run(["train", small_csv, "--epochs", 300, "--no-chart"])
    assert "Loss per epoch, log scale" in shown.stdout  # 300 epochs span many decades here
    assert shown.stdout.index("Loss per epoch, log scale") > shown.stdout.index("loss (before update)")
    assert "Loss per epoch, log scale" not in hidden.stdout
    chart = shown.stdout.split("Loss per epoch, log scale")[1].split("\n\n")[0].splitlines()
    assert sum(line.count("*") for line in chart) == 60  # one mark per column, fixed width
    assert all(ord(character) < 128 for character in shown.stdout)


def test_a_flat_loss_gets_a_linear_chart(run, workdir):
    X = np.linspace(-1, 1, 30).reshape(10, 3)
    y = np.full(10, 5.0)
    (workdir / "flat.csv").write_text(csv_text(X, y))
    result = run(["train", "flat.csv", "--epochs", 3, "--lr", 1e-6])
    assert "Loss per epoch, linear scale" in result.stdout


def test_the_yardstick_matches_least_squares(run, workdir):
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, size=(50, 3))
    y = X @ np.array([1.5, -2.0, 0.25]) + 0.75 + rng.normal(0, 0.2, size=50)
    (workdir / "d.csv").write_text(csv_text(X, y))
    document = json.loads(run(["train", "d.csv", "--format", "json"]).stdout)
    A = np.column_stack([X, np.ones(50)])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    best = np.mean((A @ solution - y) ** 2)
    yardstick = document["yardstick"]
    assert list(yardstick["least_squares"].values()) == pytest.approx(solution.tolist(), rel=1e-12)
    assert yardstick["best_loss"] == pytest.approx(best, rel=1e-12)
    assert yardstick["constant_loss"] == pytest.approx(np.var(y), rel=1e-12)
    assert yardstick["gap"] == pytest.approx(document["final_loss"] - best, abs=1e-15)
    assert yardstick["converged"] and yardstick["unique"]
    # The network's collapsed map, from its weights by the formulas in the lecture's names.
    w = document["weights"]
    collapsed = [
        w["w7"] * w["w1"] + w["w8"] * w["w4"],
        w["w7"] * w["w2"] + w["w8"] * w["w5"],
        w["w7"] * w["w3"] + w["w8"] * w["w6"],
        w["w7"] * w["b1"] + w["w8"] * w["b2"] + w["b3"],
    ]
    assert list(yardstick["linear_map"].values()) == pytest.approx(collapsed, rel=1e-12)
    assert collapsed == pytest.approx(solution.tolist(), rel=1e-6)


def test_training_stopped_early_is_said_and_a_constant_column_is_explained(run, workdir):
    rng = np.random.default_rng(12)
    X = rng.uniform(-1, 1, size=(40, 3))
    X[:, 2] = 4.0
    y = X[:, 0] - X[:, 1] + rng.normal(0, 0.1, size=40)
    (workdir / "c.csv").write_text(csv_text(X, y))
    result = run(["train", "c.csv", "--epochs", 5, "--lr", 0.001])
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note:")]
    assert any("above the best achievable loss" in note and "--epochs" in note for note in notes)
    assert any("x3 is constant" in note for note in notes)
    assert "best achievable loss (least squares)" in result.stdout
    assert "loss of predicting the mean of y" in result.stdout


def test_changes_within_rounding_are_shown_as_zero(run, small_csv):
    # Noise-free data: after a few hundred epochs the loss moves by rounding alone.
    out = run(["train", small_csv, "--epochs", 3000, "--tol", 0, "--lr", 0.1, "--no-save"]).stdout
    table = out.split("Loss per epoch")[1].split("\n\n")[0]
    changes = [line.split()[2] for line in table.splitlines() if len(line.split()) == 3 and line.split()[0].isdigit()]
    assert changes[-1] == "0" and changes[0].startswith("-")
    assert "0: within float64 rounding (16 eps)" in table


def test_the_chart_takes_a_log_epoch_axis_when_the_descent_is_early(run, small_csv):
    early = run(["train", small_csv, "--epochs", 3000, "--tol", 0, "--lr", 0.1, "--no-save"]).stdout
    assert "epoch (log scale)" in early
    # A slow descent spread over the run keeps the linear axis.
    slow = run(["train", small_csv, "--epochs", 100, "--tol", 0, "--lr", 0.001, "--no-save"]).stdout
    assert "epoch (log scale)" not in slow and "  epoch" in slow
