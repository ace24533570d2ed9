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
    assert "0: within float64 rounding" in table


def test_the_chart_takes_a_log_epoch_axis_when_the_descent_is_early(run, small_csv):
    early = run(["train", small_csv, "--epochs", 3000, "--tol", 0, "--lr", 0.1, "--no-save"]).stdout
    assert "epoch (log scale)" in early
    # A slow descent spread over the run keeps the linear axis.
    slow = run(["train", small_csv, "--epochs", 100, "--tol", 0, "--lr", 0.001, "--no-save"]).stdout
    assert "epoch (log scale)" not in slow and "  epoch" in slow


def noisy(n=60, seed=21, noise=0.3):
    """X : shape (n, 3) uniform on [-1, 1], y = 2 x1 - 3 x2 + 0.5 x3 + 1 + normal(0, noise)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    return X, X @ np.array([2.0, -3.0, 0.5]) + 1.0 + rng.normal(0, noise, size=n)


def least_squares_loss(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(np.mean((A @ solution - y) ** 2))


def summary_row(stdout: str, label: str) -> str:
    line = next(line for line in stdout.splitlines() if line.strip().startswith(label))
    return line.strip()[len(label):].strip()


def test_a_gap_within_rounding_is_shown_as_zero(run, workdir):
    X, y = noisy(200)
    (workdir / "d.csv").write_text(csv_text(X, y))
    result = run(["train", "d.csv", "--no-save", "--format", "json"])
    final, best = json.loads(result.stdout)["final_loss"], least_squares_loss(X, y)
    assert abs(final - best) <= 16 * np.finfo(float).eps * best  # converged to rounding: the premise
    table = run(["train", "d.csv", "--no-save"]).stdout
    assert summary_row(table, "gap to the best") == "0 (within float64 rounding)"


def test_a_gap_beyond_rounding_is_shown_with_its_share(run, workdir):
    X, y = noisy(200)
    (workdir / "d.csv").write_text(csv_text(X, y))
    document = json.loads(run(["train", "d.csv", "--no-save", "--epochs", 5, "--format", "json"]).stdout)
    gap = document["final_loss"] - least_squares_loss(X, y)
    shown = summary_row(run(["train", "d.csv", "--no-save", "--epochs", 5]).stdout, "gap to the best")
    assert float(shown.split()[0]) == pytest.approx(gap, rel=1e-3)
    assert shown.endswith(f"({gap / least_squares_loss(X, y):.2%})")


def test_a_target_of_zeros_fitted_to_rounding_gets_no_note(run, workdir):
    X, _ = noisy(200)
    (workdir / "zero.csv").write_text(csv_text(X, np.zeros(200)))
    result = run(["train", "zero.csv", "--no-save", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stop"] == "converged" and document["final_loss"] < 1e-28 * document["initial_loss"]
    assert "Note: training stopped" not in result.stderr


@pytest.mark.parametrize(
    "options, helps, not_helps",
    [
        (["--lr", 0.001, "--val-split", 0.25, "--patience", 3, "--min-delta", 0.5], "a larger --patience", "--epochs"),
        (["--lr", 0.05, "--batch-size", 7, "--tol", 0, "--epochs", 30], "a smaller --lr, or full batches (without --batch-size)", "--epochs"),
        (["--lr", 0.001, "--tol", 0.1], "a smaller --tol", "--epochs"),
        (["--lr", 0.001, "--epochs", 5], "more --epochs", "--patience"),
    ],
    ids=["early stopping", "mini-batches", "a loose --tol", "too few epochs"],
)
def test_the_advice_fits_why_training_stopped_short(run, workdir, options, helps, not_helps):
    X, y = noisy(200)
    (workdir / "d.csv").write_text(csv_text(X, y))
    result = run(["train", "d.csv", "--no-save", *options])
    assert result.exit_code == 0, result.stderr
    note = next(line for line in result.stderr.splitlines() if line.startswith("Note: training stopped at loss"))
    assert helps in note and not_helps not in note


def test_a_network_no_better_than_the_mean_says_so(run, workdir):
    # Every column about 1e150, varying by 1%: on the raw values the sigmoid units saturate.
    rng = np.random.default_rng(0)
    X = 1e150 * (1 + 0.01 * rng.uniform(-1, 1, size=(100, 3)))
    y = X @ np.array([2.0, -3.0, 0.5]) + 1e148 * rng.normal(size=100)
    (workdir / "huge.csv").write_text(csv_text(X, y))
    result = run(["train", "huge.csv", "--activation", "sigmoid", "--lr", 0.01, "--no-save", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    mean_loss = float(np.mean((y - y.mean()) ** 2))
    assert json.loads(result.stdout)["final_loss"] >= mean_loss * (1 - 1e-6)  # the premise, by numpy
    note = next(line for line in result.stderr.splitlines() if "predicting the mean of y" in line)
    assert "no lower than" in note and "--standardize" in note
    fitted = run(["train", "huge.csv", "--activation", "sigmoid", "--no-save"])  # z-scores, chosen
    assert fitted.exit_code == 0 and "predicting the mean of y" not in fitted.stderr
