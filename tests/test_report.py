"""What train shows besides the losses: the history file, the chart, the least-squares yardstick."""

import csv
import json

import numpy as np
import pytest

from fwdback.network import Parameters, update

import oracle
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
    assert "Loss per epoch (loss: log scale" in shown.stdout  # 300 epochs span many decades here
    assert shown.stdout.index("Loss per epoch (loss: log scale") > shown.stdout.index("loss (before update)")
    assert "Loss per epoch (loss: log scale" not in hidden.stdout
    chart = shown.stdout.split("Loss per epoch (loss: log scale")[1].split("\n\n")[0].splitlines()
    assert sum(line.count("*") for line in chart) == 60  # one mark per column, fixed width
    assert all(ord(character) < 128 for character in shown.stdout)


def test_a_flat_loss_gets_a_linear_chart(run, workdir):
    X = np.linspace(-1, 1, 30).reshape(10, 3)
    y = np.full(10, 5.0)
    (workdir / "flat.csv").write_text(csv_text(X, y))
    result = run(["train", "flat.csv", "--epochs", 3, "--lr", 1e-6])
    assert "Loss per epoch (loss: linear scale, epochs: linear scale)" in result.stdout


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
    assert "Loss per epoch (loss: log scale, epochs: log scale)" in early
    # A slow descent spread over the run keeps the linear axis.
    slow = run(["train", small_csv, "--epochs", 100, "--tol", 0, "--lr", 0.001, "--no-save"]).stdout
    assert "epochs: linear scale)" in slow and "  epoch" in slow
    # The scale is stated once, in the title: not again under the axis.
    assert all(out.count("scale") == 2 for out in (early, slow))


@pytest.mark.parametrize("epochs", [20, 30])
def test_the_terminal_chart_and_the_loss_figure_choose_their_scale_by_one_rule(run, workdir, epochs):
    # At lr 0.05 the loss of these rows falls by a factor of about 5 in 20 epochs and 39 in 30:
    # either side of the one decade beyond which a loss axis turns logarithmic. The chart shows
    # the losses; the figure shows them, the final loss and least squares too.
    X, y = noisy()
    (workdir / "d.csv").write_text(csv_text(X, y))
    shown = run(["train", "d.csv", "--epochs", epochs, "--lr", 0.05, "--no-save", "--plot", "loss.svg"])
    document = json.loads(run(["train", "d.csv", "--epochs", epochs, "--lr", 0.05, "--no-save", "--format", "json"]).stdout)
    losses = [entry["loss"] for entry in document["history"]]
    charted = "log" if max(losses) / min(losses) > 10 else "linear"
    drawn = [*losses, document["final_loss"], least_squares_loss(X, y)]
    assert f"Loss per epoch (loss: {charted} scale" in shown.stdout
    with open("loss.svg", encoding="utf-8") as figure:
        assert ("loss (log scale)" in figure.read()) == (max(drawn) / min(drawn) > 10)


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
    resolution = 16 * np.finfo(float).eps  # a --tol at float64's resolution: training runs to rounding
    result = run(["train", "d.csv", "--no-save", "--tol", resolution, "--format", "json"])
    final, best = json.loads(result.stdout)["final_loss"], least_squares_loss(X, y)
    assert abs(final - best) <= resolution * best  # converged to rounding: the premise
    table = run(["train", "d.csv", "--no-save", "--tol", resolution]).stdout
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


def by_hand(weights: dict, scaling: dict | None, X: np.ndarray) -> np.ndarray:
    """The lecture's 3-2-1 network by the oracle, on z-scores where the model has them,
    its prediction turned back into y's units."""
    if scaling is not None:
        X = (X - [scaling["mean"][f"x{j}"] for j in (1, 2, 3)]) / [scaling["std"][f"x{j}"] for j in (1, 2, 3)]
    yhat = oracle.forward(weights, X).yhat[:, 0]
    return yhat if scaling is None else yhat * scaling["std"]["y"] + scaling["mean"]["y"]


def rmse_and_r2(y: np.ndarray, yhat: np.ndarray) -> tuple[float, float]:
    residual, centred = y - yhat, y - y.mean()
    return float(np.sqrt(np.mean(residual**2))), float(1 - residual @ residual / (centred @ centred))


def test_a_standardised_run_reports_rmse_and_r2_in_the_data_s_units(run, workdir):
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, size=(300, 3)) * [1000.0, 0.001, 1.0] + [5000.0, 0.0, 0.0]
    y = X @ [2.0, -3000.0, 0.5] + 1e5 + rng.normal(0, 5.0, 300)
    (workdir / "d.csv").write_text(csv_text(X, y))
    result = run(["train", "d.csv", "--standardize", "--val-split", 0.25, "--format", "json", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    document, model = json.loads(result.stdout), json.loads((workdir / "m.json").read_text())
    # The rows held out: the first round(0.25 n) of default_rng([2, seed]).permutation(n) (README).
    held = np.sort(np.random.default_rng([2, 0]).permutation(300)[:75])
    kept = np.setdiff1d(np.arange(300), held)
    yhat = by_hand(model["weights"], model["scaling"], X)
    expected = rmse_and_r2(y[kept], yhat[kept])
    expected_validation = rmse_and_r2(y[held], yhat[held])
    # fwdback takes the errors in z-scores, y - yhat by hand in y's units: y's rounding (eps |y|)
    # is the larger, relative to errors of size rmse, on either side.
    tol = 16 * np.finfo(float).eps * np.max(np.abs(y)) / expected[0]
    for fit, (rmse, r2) in ((document["fit"]["y"], expected), (document["validation_fit"]["y"], expected_validation)):
        assert fit["rmse"] == pytest.approx(rmse, rel=tol) and fit["r2"] == pytest.approx(r2, abs=tol)
    # In y's units, and converged: least squares on the raw training rows is what it reached (the
    # default stop reaches its loss to 1e-12; 1e-6 on the RMSE leaves room for any machine's rounding).
    A = np.column_stack([X[kept], np.ones(len(kept))])
    solution, *_ = np.linalg.lstsq(A, y[kept], rcond=None)
    assert document["fit"]["y"]["rmse"] == pytest.approx(rmse_and_r2(y[kept], A @ solution)[0], rel=1e-6)
    # The summary shows them to 10 significant digits.
    table = run(["train", "d.csv", "--standardize", "--val-split", 0.25, "--no-save"]).stdout
    shown = dict(line[1:].split("  ", 1) for line in table.splitlines() if "RMSE" in line or "R^2" in line)
    assert {label: float(value) for label, value in shown.items()} == pytest.approx(
        {"RMSE, in y's units": expected[0], "R^2": expected[1],
         "validation RMSE, in y's units": expected_validation[0], "validation R^2": expected_validation[1]}, rel=1e-9)


def test_a_streamed_run_reports_its_rmse_and_r2_from_the_losses(run, workdir):
    rng = np.random.default_rng(12)
    X = rng.uniform(-1, 1, size=(3000, 3))
    y = X @ [2.0, -3.0, 0.5] + 1 + rng.normal(0, 0.1, 3000)
    (workdir / "d.csv").write_text(csv_text(X, y))
    result = run(["train", "d.csv", "--chunksize", 1000, "--format", "json", "--model", "m.json"])
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)["fit"]["y"]
    rmse, r2 = rmse_and_r2(y, by_hand(json.loads((workdir / "m.json").read_text())["weights"], None, X))
    # Streamed, the loss comes from the Gram matrix, as a difference of sums of size mean(y^2): its
    # rounding relative to the loss is about eps mean(y^2) / mse (16 eps for the terms added).
    tol = 16 * np.finfo(float).eps * np.mean(y**2) / rmse**2
    assert fit["rmse"] == pytest.approx(rmse, rel=tol) and fit["r2"] == pytest.approx(r2, abs=tol * (1 - r2))


def test_the_summary_calls_the_target_by_its_column_name(run, workdir, small_xy):
    """Beside "RMSE, in price's units", the mean's loss is that of price too, not of a 'y' the data lacks."""
    X, y = small_xy
    (workdir / "p.csv").write_text(csv_text(X, y, header=("x1", "x2", "x3", "price")))
    result = run(["train", "p.csv", "--target", "price", "--no-save"])
    assert result.exit_code == 0, result.stderr
    assert "RMSE, in price's units" in result.stdout and "loss of predicting the mean of price" in result.stdout
    assert "mean of y" not in result.stdout
