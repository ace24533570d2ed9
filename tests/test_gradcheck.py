"""fwdback gradcheck: the backward pass against central finite differences of the loss.

Expected gradients are worked out by hand or taken from the lecture's formulas written out
by name (the `hand` fixture); a broken backward pass is simulated by patching the
`backward` that fwdback.gradcheck looks up.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

from fwdback import gradcheck, network
from fwdback.activations import ACTIVATIONS
from fwdback.cli import cli
from fwdback.gradcheck import check_gradients, relative_error
from fwdback.network import Parameters, init_parameters

KEYS = {"parameter", "analytic", "numeric", "step", "uncertainty", "relative_error", "ok", "by_rounding", "pattern_held", "kink"}


@pytest.fixture
def sample_like_csv(workdir, csv_text):
    """'sample.csv': 200 rows like sample_data/linear.csv, y = 2 x1 - 3 x2 + 0.5 x3 + 1 + N(0, 0.1)."""
    rng = np.random.default_rng(11)
    X = rng.uniform(-1.0, 1.0, size=(200, 3))
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0 + rng.normal(0.0, 0.1, size=200)
    (workdir / "sample.csv").write_text(csv_text(X, y))
    return "sample.csv"


def table_rows(stdout: str, names) -> dict[str, list[str]]:
    """parameter -> [analytic, numeric, relative error, check] from the plain-text table."""
    rows = {}
    for line in stdout.splitlines():
        tokens = line.split()
        if tokens and tokens[0] in names:
            rows[tokens[0]] = tokens[1:]
    return rows


def run_json(run, args) -> tuple[int, list[dict], str]:
    result = run(["gradcheck", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


# --- passes on the engine ----------------------------------------------------------------


@pytest.mark.parametrize("data", ["sample_like_csv", "small_csv"])
def test_passes_at_the_initial_weights(run, request, names, no_crash, data):
    result = run(["gradcheck", request.getfixturevalue(data)])
    no_crash(result)
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = table_rows(result.stdout, names)
    assert list(rows) == list(names)
    assert all(row[-1] == "ok" for row in rows.values())
    assert all(float(row[2]) < 1e-6 for row in rows.values())
    assert result.stderr.startswith("gradcheck: all 11 gradients ok (largest relative error ")
    assert "Error" not in result.stderr


@pytest.mark.parametrize("data", ["sample_like_csv", "small_csv"])
def test_passes_at_a_converged_point(run, request, data):
    """After 2000 epochs every gradient is rounding noise: the floor must keep it from failing.

    small_csv is noise-free, so its loss falls to about 1e-30: the hardest case.
    """
    code, rows, stderr = run_json(run, [request.getfixturevalue(data), "--epochs", "2000"])
    assert code == 0, stderr
    assert max(abs(row["analytic"]) for row in rows) < 1e-12, "not converged: the test would not test the floor"
    # Both sides are rounding noise, so the plain relative error is large; they pass because
    # they differ by less than the difference quotient's uncertainty, and are marked so.
    assert all(row["ok"] and abs(row["analytic"] - row["numeric"]) <= row["uncertainty"] for row in rows)
    assert all(row["by_rounding"] for row in rows if row["relative_error"] >= 1e-6)


def test_the_gradients_are_the_lectures(run, small_csv, small_xy, hand, names):
    """The analytic column is dL/dw by the chain rule, and the numeric one agrees with it."""
    X, y = small_xy
    w = dict(zip(names, init_parameters(np.random.default_rng(5)).vector.tolist()))
    expected = hand.gradients(w, X, y)
    code, rows, _ = run_json(run, [small_csv, "--seed", "5"])
    assert code == 0
    for row in rows:
        assert math.isclose(row["analytic"], expected[row["parameter"]], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(row["numeric"], expected[row["parameter"]], rel_tol=1e-7)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("epochs", ["0", "1000"])
def test_passes_with_an_activation(run, sample_like_csv, activation, epochs):
    code, rows, stderr = run_json(run, [sample_like_csv, "--activation", activation, "--hidden", "3", "--epochs", epochs])
    assert code == 0, stderr
    assert len(rows) == 3 * 3 + 3 + 3 + 1


def test_passes_on_z_scores_and_from_init(run, sample_like_csv, init_file):
    assert run(["gradcheck", sample_like_csv, "--standardize", "--epochs", "50"]).exit_code == 0
    result = run(["gradcheck", sample_like_csv, "--init", init_file])
    assert result.exit_code == 0
    assert "--init init.json" in result.stdout


# --- fails when the backward pass is wrong -------------------------------------------------


def broken_backward(name: str, change):
    """network.backward with the gradient of `name` replaced by change(gradient)."""
    real = network.backward

    def backward(params, X, y, fwd, *convention):
        back = real(params, X, y, fwd, *convention)
        vector = back.gradients.vector.copy()
        j = params.names.index(name)
        vector[j] = change(vector[j])
        return dataclasses.replace(back, gradients=back.gradients.like(vector))

    return backward


def test_fails_when_one_gradient_is_wrong(run, sample_like_csv, names, monkeypatch, no_crash):
    monkeypatch.setattr(gradcheck, "backward", broken_backward("w3", lambda g: g * 1.001))
    result = run(["gradcheck", sample_like_csv])
    no_crash(result)
    assert result.exit_code == 1
    rows = table_rows(result.stdout, names)
    assert rows["w3"][-1] == "FAIL"
    assert 5e-4 < float(rows["w3"][2]) < 2e-3, "relative error of a gradient 0.1% off"
    assert all(rows[name][-1] == "ok" for name in names if name != "w3")
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and not lines[0].startswith("Error")
    assert lines[0].startswith("gradcheck: 1 of 11 gradients FAIL (largest relative error ")
    assert " at w3; max error 1e-06)" in lines[0]


def test_fails_at_a_converged_point_too(run, sample_like_csv, monkeypatch):
    """The floor for tiny gradients is rounding-sized: an error of 1e-7 still shows."""
    monkeypatch.setattr(gradcheck, "backward", broken_backward("b2", lambda g: g + 1e-7))
    code, rows, stderr = run_json(run, [sample_like_csv, "--epochs", "2000"])
    assert code == 1
    assert [row["parameter"] for row in rows if not row["ok"]] == ["b2"]
    assert "1 of 11 gradients FAIL" in stderr


def test_a_wrong_activation_derivative_fails_in_the_hidden_layer_only(run, sample_like_csv, names, monkeypatch):
    """tanh' = 1 - N^2; with 1 - N instead, w1..w6, b1, b2 go wrong and w7, w8, b3 stay right."""
    wrong = dataclasses.replace(ACTIVATIONS["tanh"], derivative=lambda Z, N: 1.0 - N)
    monkeypatch.setitem(ACTIVATIONS, "tanh", wrong)
    code, rows, _ = run_json(run, [sample_like_csv, "--activation", "tanh"])
    assert code == 1
    failed = {row["parameter"] for row in rows if not row["ok"]}
    assert failed == {"w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2"}


# --- the JSON document and the options -----------------------------------------------------


def test_json_has_one_entry_per_parameter(run, sample_like_csv, names):
    code, rows, _ = run_json(run, [sample_like_csv])
    assert code == 0
    assert len(rows) == 11
    assert [row["parameter"] for row in rows] == list(names)
    for row in rows:
        assert set(row) == KEYS
        assert row["ok"] is True and row["kink"] is False
        assert row["relative_error"] == relative_error(row["analytic"], row["numeric"])
        assert row["step"] > 0 and row["uncertainty"] > 0


@pytest.mark.parametrize("max_error", ["0", "-1", "nan", "inf"])
def test_max_error_must_be_positive_and_finite(run, sample_like_csv, max_error):
    result = run(["gradcheck", sample_like_csv, "--max-error", max_error])
    assert result.exit_code == 2
    assert "--max-error" in result.stderr


def test_a_tighter_max_error_fails_where_the_default_passes(run, sample_like_csv, monkeypatch):
    monkeypatch.setattr(gradcheck, "backward", broken_backward("w7", lambda g: g * (1 + 1e-7)))
    assert run(["gradcheck", sample_like_csv]).exit_code == 0
    assert run(["gradcheck", sample_like_csv, "--max-error", "1e-8"]).exit_code == 1


def test_bad_data_is_an_error_not_a_fail(run, workdir):
    (workdir / "bad.csv").write_text("x1,x2,x3,y\n1,2,abc,4\n")
    result = run(["gradcheck", "bad.csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert result.stdout == ""


# --- the numbers, by hand --------------------------------------------------------------------


def hand_network() -> tuple[Parameters, np.ndarray, np.ndarray]:
    """w1 = 0.5, w7 = 2, all else 0; one row x = (1, 2, 3), y = 0.

    N1 = 0.5, N2 = 0, yhat = w7 * N1 = 1, L = (y - yhat)^2 = 1, dL/dyhat = 2 (yhat - y) = 2.
    """
    w = dict.fromkeys(network.parameter_names(), 0.0) | {"w1": 0.5, "w7": 2.0}
    return Parameters.from_dict(w), np.array([[1.0, 2.0, 3.0]]), np.array([0.0])


def test_numeric_gradient_of_a_case_worked_by_hand():
    """dL/dw_j = dL/dyhat * w7 * x_j for w1..w3 (2 * 2 * x_j = 4, 8, 12), dL/dw7 = 2 * N1 = 1,
    dL/db1 = 2 * w7 = 4, dL/db3 = 2; w4..w6 and b2 carry w8 = 0, and w8 carries N2 = 0."""
    expected = {"w1": 4.0, "w2": 8.0, "w3": 12.0, "w4": 0.0, "w5": 0.0, "w6": 0.0,
                "w7": 1.0, "w8": 0.0, "b1": 4.0, "b2": 0.0, "b3": 2.0}
    rows = check_gradients(*hand_network())
    for row in rows:
        assert math.isclose(row.numeric, expected[row.parameter], rel_tol=1e-9, abs_tol=1e-12), row
        assert row.analytic == expected[row.parameter]
        assert row.ok


def test_central_difference_is_exact_for_the_quadratic_along_one_axis():
    """Along w1 alone, L(w1) = (w7 * w1 * x1)^2 = 4 w1^2: ((2(w1+h))^2 - (2(w1-h))^2) / 2h = 8 w1
    for every h, so even a step of 0.25 gives 4 (all numbers here are exact binary fractions)."""
    params, X, y = hand_network()
    numeric, rounding = gradcheck.central_difference(params, X, y, 0, 0.25)
    assert numeric == 4.0
    assert rounding > 0


def test_the_step_is_the_cube_root_of_eps_scaled_by_the_parameter():
    eps = np.finfo(float).eps
    assert gradcheck.step_size(0.3) == eps ** (1 / 3)
    assert gradcheck.step_size(-250.0) == eps ** (1 / 3) * 250.0


def test_relative_error_definition():
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert relative_error(-2.0, 2.0) == 2.0
    assert relative_error(1e-15, -1e-15) == 2.0  # both tiny: the uncertainty, not the ratio, decides
    assert relative_error(0.0, 0.0) == 0.0


def test_the_relative_error_does_not_depend_on_max_error_and_a_finer_one_only_marks_rounding(run, sample_like_csv):
    # The reviewer's case: at --max-error 1e-12 (then --tol) gradients of size about 1 were called "about 0".
    _, default, _ = run_json(run, [sample_like_csv])
    code, fine, stderr = run_json(run, [sample_like_csv, "--max-error", "1e-12"])
    assert code == 0, stderr
    assert [row["relative_error"] for row in fine] == [row["relative_error"] for row in default]
    for row in fine:
        assert row["by_rounding"] == (row["relative_error"] >= 1e-12)
    assert "about 0 here" not in stderr


@pytest.mark.parametrize("gap", [1e-7, 1e-12, 1e-15])
def test_relu_near_a_kink_differentiates_the_piece_it_lies_on(gap):
    """Row 0's hidden input z1 is `gap` above 0, well inside the step: the check holds every row's
    side of the kink and passes, for the derivative exists (z1 > 0)."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(20, 3))
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0
    params = init_parameters(np.random.default_rng(0), activation="relu")
    vector = params.vector.copy()
    vector[8] = gap - X[0] @ vector[:3]  # b1
    params = params.like(vector)
    rows = {row.parameter: row for row in check_gradients(params, X, y)}
    assert all(row.ok and not row.kink for row in rows.values())
    assert rows["b1"].pattern_held and rows["w1"].pattern_held  # both move z1 of row 0
    assert not rows["w7"].pattern_held and not rows["b2"].pattern_held  # neither moves z1
    # The derivative, by the chain rule written out here: relu passes row 0's z1 (it is above 0).
    v = vector
    z = X @ np.array([v[0:3], v[3:6]]).T + v[8:10]
    assert z[0, 0] > 0
    yhat = np.maximum(z, 0) @ v[6:8] + v[10]
    dL_dz1 = 2 / len(y) * (yhat - y) * v[6] * (z[:, 0] > 0)
    assert rows["b1"].numeric == pytest.approx(dL_dz1.sum(), rel=1e-6)
    assert rows["w1"].numeric == pytest.approx(dL_dz1 @ X[:, 0], rel=1e-6)


def test_relu_exactly_at_a_kink_is_flagged():
    """x = 0 and b1 = 0 put z1 exactly at 0, where relu has no derivative."""
    X = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, -0.5]])
    y = np.array([1.0, 2.0])
    w = dict.fromkeys(network.parameter_names(), 0.5) | {"b1": 0.0}
    rows = {row.parameter: row for row in check_gradients(Parameters.from_dict(w, activation="relu"), X, y)}
    assert rows["b1"].kink
    assert not rows["b2"].kink and not rows["w7"].kink


def test_a_gradient_that_passes_by_rounding_only_says_so(run, small_csv):
    # At a converged point every gradient is about 0: with an impossibly small --max-error they pass
    # only within the finite difference's rounding, and gradcheck says so.
    code, rows, stderr = run_json(run, [small_csv, "--epochs", "2000", "--max-error", "1e-300"])
    assert code == 0, stderr
    assert all(row["ok"] and row["by_rounding"] for row in rows)
    assert "agree within the finite difference's rounding" in stderr


def test_the_schedule_options_shape_the_epochs_before_the_check(run, sample_like_csv):
    options = ["--epochs", "30", "--batch-size", "7", "--val-split", "0.25", "--patience", "3", "--standardize", "--seed", "4"]
    checked = run(["gradcheck", sample_like_csv, *options, "--format", "json"])
    assert checked.exit_code == 0, checked.stderr
    trained = run(["train", sample_like_csv, *options, "--tol", "0", "--model", "m.json", "-q"])
    assert trained.exit_code == 0, trained.stderr
    # gradcheck's --epochs run as train runs them, early stopping's choice of weights
    # included, so its analytic column is the backward pass at the weights train saves.
    from fwdback.data import load_dataset
    from fwdback.plan import TrainingPlan
    from fwdback.training import prepare

    dataset = load_dataset(sample_like_csv)
    prepared = prepare(dataset.X, dataset.y, TrainingPlan(seed=4, val_split=0.25, standardize=True))
    rows = json.loads(checked.stdout)
    assert [row["parameter"] for row in rows] == list(network.parameter_names())
    assert all(row["ok"] for row in rows)
    model = json.loads(open("m.json", encoding="utf-8").read())
    params = Parameters.from_dict(model["weights"])
    fwd = network.forward(params, prepared.X)
    expected = network.backward(params, prepared.X, prepared.y, fwd).gradients.as_dict()
    assert [row["analytic"] for row in rows] == pytest.approx([expected[row["parameter"]] for row in rows], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("columns", [40, 50, 64])
def test_the_title_breaks_between_phrases_on_a_narrow_terminal(workdir, small_csv, init_file, columns):
    env = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_INTERACTIVE": None, "COLUMNS": str(columns)}
    result = CliRunner().invoke(cli, ["gradcheck", small_csv, "--init", init_file, "--epochs", "3", "--lr", "0.1"], env=env)
    assert result.exit_code == 0, result.output
    title = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines():
        if line.startswith("╭"):
            break
        title.append(line.strip())
    phrases = ["Gradient check", "after 3 epochs", f"(eta 0.1, --init {init_file}),", "loss "]
    assert " ".join(title).startswith(" ".join(phrases[:3]) + " loss ")
    # Each line holds whole phrases: it starts where one starts.
    assert all(any(line.startswith(phrase) for phrase in phrases) for line in title), title
    assert all(len(line) <= columns for line in title)
