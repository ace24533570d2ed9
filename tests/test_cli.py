"""The fwdback commands end to end through click's CliRunner.

Expected numbers come from the lecture's formulas written out by name (the `hand` fixture),
never from fwdback's own output.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import math
import os
import re
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from hostile import assets, fingerprint, invoke, refused, short, succeeded, ws  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
from fwdback.modelfile import load_model
from cases import slow_after

BOX_CHARS = set("─│╭╮╰╯┃━┏┓┗┛┡┩╇═║")


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def loss_table(stdout: str) -> list[tuple[int, float]]:
    """(epoch, loss) rows of the loss table: the lines after its header, up to a blank line; an
    epoch is written as everywhere else a person reads one, its thousands separated (1,000)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "epoch" in line and "change" in line)
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or not line.split()[0].replace(",", "").isdigit():
            break
        tokens = line.split()
        epoch = int(tokens[0].replace(",", ""))
        assert tokens[0] == f"{epoch:,}", line
        rows.append((epoch, float(tokens[1])))
    return rows


def weights_table(stdout: str, names) -> dict[str, tuple[float, float, float]]:
    """name -> (initial, final, final gradient) from the rows that start with a parameter name."""
    table = {}
    for line in stdout.splitlines():
        tokens = line.split()
        if tokens and tokens[0] in names and len(tokens) == 4:
            table[tokens[0]] = tuple(float(t) for t in tokens[1:])
    return table


def csv_losses(stdout: str) -> list[tuple[int, float]]:
    lines = stdout.splitlines()
    assert lines[0] == "epoch,loss"
    return [(int(e), float(v)) for e, v in (line.split(",") for line in lines[1:])]


def read_model(path="model.json") -> dict:
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


# --- train: the three output formats -----------------------------------------------------


def test_train_table_is_plain_text_with_loss_weights_and_summary(run, small_csv, small_xy, hand, names, no_crash):
    result = run(["train", small_csv, "--epochs", "1000", "--tol", "0"])
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert not BOX_CHARS & set(out), "box drawing in piped output"
    assert "\x1b" not in out and "\x1b" not in result.stderr, "ANSI escapes in piped output"

    rows = loss_table(out)
    epochs = [epoch for epoch, _ in rows]
    assert epochs[0] == 1 and epochs[-1] == 1000
    assert 10 <= len(rows) <= 30, f"about 20 rows, got {len(rows)}"
    assert epochs == sorted(set(epochs))

    model = read_model()
    X, y = small_xy
    initial = model["training"]["initial_weights"]
    assert close(rows[0][1], hand.loss(initial, X, y), rel=1e-9)

    table = weights_table(out, names)
    assert set(table) == set(names)
    gradients = hand.gradients(model["weights"], X, y)
    for name in names:
        first, final, gradient = table[name]
        assert close(first, initial[name], rel=1e-9)
        assert close(final, model["weights"][name], rel=1e-9)
        assert math.isclose(gradient, gradients[name], rel_tol=1e-3, abs_tol=1e-12)

    assert small_csv in out  # the summary names the data


@pytest.mark.parametrize("epochs", [1, 7, 30, 123, 5000])
def test_loss_table_always_has_first_and_last_epoch(run, small_csv, epochs):
    result = run(["train", small_csv, "--epochs", epochs, "--lr", "0.01", "--tol", "0"])
    assert result.exit_code == 0, result.stderr
    shown = [epoch for epoch, _ in loss_table(result.stdout)]
    assert shown[0] == 1 and shown[-1] == epochs
    assert len(shown) <= 30
    assert len(shown) == epochs or len(shown) >= 10
    assert shown[:5] == [1, 2, 3, 5, 7] or len(shown) == epochs  # the early epochs, where the loss moves most


def test_every_sets_the_loss_table_rows(run, small_csv):
    result = run(["train", small_csv, "--epochs", "30", "--every", "7"])
    assert result.exit_code == 0, result.stderr
    assert [epoch for epoch, _ in loss_table(result.stdout)] == [1, 7, 14, 21, 28, 30]


def test_table_losses_agree_with_csv_losses(run, small_csv):
    table = run(["train", small_csv, "--epochs", "40", "--every", "1"])
    as_csv = run(["train", small_csv, "--epochs", "40", "--format", "csv"])
    for (e1, shown), (e2, exact) in zip(loss_table(table.stdout), csv_losses(as_csv.stdout), strict=True):
        assert e1 == e2
        assert close(shown, exact, rel=1e-9)


def test_train_csv_has_one_row_per_epoch(run, small_csv, small_xy, hand):
    result = run(["train", small_csv, "--epochs", "25", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 26
    losses = csv_losses(result.stdout)
    assert [epoch for epoch, _ in losses] == list(range(1, 26))
    X, y = small_xy
    initial = read_model()["training"]["initial_weights"]
    assert close(losses[0][1], hand.loss(initial, X, y))
    assert losses[-1][1] < losses[0][1]


def test_train_json_has_history_weights_and_settings(run, small_csv, small_xy, hand, names):
    result = run(["train", small_csv, "--epochs", "15", "--lr", "0.02", "--seed", "4", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    for key in ("history", "initial_weights", "weights", "final_loss", "epochs", "lr", "seed"):
        assert key in document
    assert document["epochs"] == 15 and document["lr"] == 0.02 and document["seed"] == 4
    assert [entry["epoch"] for entry in document["history"]] == list(range(1, 16))
    assert set(document["weights"]) == set(names) == set(document["initial_weights"])

    model = read_model()
    assert document["weights"] == model["weights"]
    assert document["initial_weights"] == model["training"]["initial_weights"]
    assert document["final_loss"] == model["training"]["final_loss"]
    X, y = small_xy
    assert close(document["final_loss"], hand.loss(document["weights"], X, y))

    as_csv = run(["train", small_csv, "--epochs", "15", "--lr", "0.02", "--seed", "4", "--format", "csv"])
    assert [(h["epoch"], h["loss"]) for h in document["history"]] == csv_losses(as_csv.stdout)


def test_quiet_prints_nothing_and_saves(run, small_csv, workdir):
    result = run(["train", small_csv, "--epochs", "5", "--quiet"])
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""
    assert (workdir / "model.json").exists()


def test_model_file_holds_weights_columns_and_training(run, small_csv, small_xy, hand, names):
    result = run(["train", small_csv, "--epochs", "20", "--lr", "0.03", "--seed", "2", "--model", "m.json", "-q"])
    assert result.exit_code == 0, result.stderr
    model = read_model("m.json")
    assert model["format"] == "fwdback-model" and isinstance(model["version"], int)
    assert set(model["weights"]) == set(names)
    assert model["features"] == ["x1", "x2", "x3"] and model["target"] == "y"
    training = model["training"]
    assert training["plan"]["seed"] == 2 and training["epochs"] == 20 and training["plan"]["lr"] == 0.03
    assert training["lr_chosen"] is False and training["stop"] == "epochs"
    assert set(training["initial_weights"]) == set(names)
    X, y = small_xy
    assert close(training["final_loss"], hand.loss(model["weights"], X, y))


def test_saved_model_loads_to_the_same_weights(run, small_csv, names):
    assert run(["train", small_csv, "--epochs", "10", "-q"]).exit_code == 0
    document = read_model()
    model = load_model("model.json")
    assert model.params.as_dict() == document["weights"]
    assert list(model.params.as_dict()) == list(names)
    assert model.features == ("x1", "x2", "x3") and model.target == "y"


# --- seeds and initial weights -------------------------------------------------------------


def test_same_seed_same_weights_different_seed_different(run, small_csv):
    for seed, path in [(5, "a.json"), (5, "b.json"), (6, "c.json")]:
        assert run(["train", small_csv, "--epochs", "10", "--seed", seed, "--model", path, "-q"]).exit_code == 0
    a, b, c = (read_model(p) for p in ("a.json", "b.json", "c.json"))
    assert a["weights"] == b["weights"]
    assert a["training"]["initial_weights"] == b["training"]["initial_weights"]
    assert a["training"]["initial_weights"] != c["training"]["initial_weights"]
    assert a["weights"] != c["weights"]


def test_default_seed_is_zero(run, small_csv):
    run(["train", small_csv, "--epochs", "3", "--model", "default.json", "-q"])
    run(["train", small_csv, "--epochs", "3", "--seed", "0", "--model", "zero.json", "-q"])
    assert read_model("default.json")["weights"] == read_model("zero.json")["weights"]


@pytest.mark.parametrize("nested", [False, True], ids=["top-level", "under-weights"])
def test_init_one_epoch_is_one_gradient_step(run, small_csv, small_xy, init_weights, hand, workdir, nested, names):
    document = {"weights": init_weights, "note": "hand-written"} if nested else init_weights
    (workdir / "start.json").write_text(json.dumps(document))
    lr = 0.1
    result = run(["train", small_csv, "--init", "start.json", "--epochs", "1", "--lr", lr, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    X, y = small_xy
    assert close(csv_losses(result.stdout)[0][1], hand.loss(init_weights, X, y))

    model = read_model()
    assert model["training"]["initial_weights"] == init_weights
    expected = hand.step(init_weights, X, y, lr)
    for name in names:
        assert close(model["weights"][name], expected[name]), name
    assert close(model["training"]["final_loss"], hand.loss(expected, X, y))


def test_saved_model_works_as_init(run, small_csv, small_xy, hand, names):
    assert run(["train", small_csv, "--epochs", "5", "--seed", "3", "--model", "first.json", "-q"]).exit_code == 0
    first = read_model("first.json")
    result = run(["train", small_csv, "--init", "first.json", "--epochs", "1", "--lr", "0.05", "--model", "second.json", "-q"])
    assert result.exit_code == 0, result.stderr
    second = read_model("second.json")
    assert second["training"]["initial_weights"] == first["weights"]
    X, y = small_xy
    expected = hand.step(first["weights"], X, y, 0.05)
    for name in names:
        assert close(second["weights"][name], expected[name]), name


def test_init_then_more_epochs_continues_training(run, small_csv, init_file):
    """Two runs of 3 epochs, the second from the first's model, equal one run of 6."""
    run(["train", small_csv, "--init", init_file, "--epochs", "3", "--model", "half.json", "-q"])
    run(["train", small_csv, "--init", "half.json", "--epochs", "3", "--model", "whole.json", "-q"])
    run(["train", small_csv, "--init", init_file, "--epochs", "6", "--model", "once.json", "-q"])
    twice, once = read_model("whole.json")["weights"], read_model("once.json")["weights"]
    assert all(close(twice[name], once[name]) for name in once)


@pytest.fixture
def standardised_model(run, workdir, small_xy, csv_text):
    """'wide.csv', small_xy with x1 in the thousands, and 'z.json', a model trained on its z-scores."""
    X, y = small_xy
    X = X * np.array([1000.0, 1.0, 1.0])
    y = y * 50 + 300
    (workdir / "wide.csv").write_text(csv_text(X, y))
    assert run(["train", "wide.csv", "--standardize", "--epochs", "30", "--model", "z.json", "-q"]).exit_code == 0
    return X, y, read_model("z.json")


def z_scores(X, y, scaling, features=("x1", "x2", "x3"), target="y"):
    """X and y as the model file's scaling says: (value - mean) / std, column by column."""
    mean, std = scaling["mean"], scaling["std"]
    Xz = np.column_stack([(X[:, j] - mean[name]) / std[name] for j, name in enumerate(features)])
    return Xz, (y - mean[target]) / std[target]


def test_init_from_a_standardised_model_trains_on_rows_scaled_as_it_says(run, standardised_model, hand, names):
    X, y, model = standardised_model
    Xz, yz = z_scores(X, y, model["scaling"])
    result = run(["train", "wide.csv", "--init", "z.json", "--epochs", "1", "--lr", "0.05", "--format", "csv", "--model", "next.json"])
    assert result.exit_code == 0, result.stderr
    assert close(csv_losses(result.stdout)[0][1], hand.loss(model["weights"], Xz, yz))
    assert "Note: z.json was trained on z-scores" in result.stderr
    saved = read_model("next.json")
    assert saved["scaling"] == model["scaling"]
    expected = hand.step(model["weights"], Xz, yz, 0.05)
    assert all(close(saved["weights"][name], expected[name]) for name in names)
    # gradcheck and explain start from the same place: the gradients are those on the z-scores.
    checks = json.loads(run(["gradcheck", "wide.csv", "--init", "z.json", "--format", "json"]).stdout)
    gradients = hand.gradients(model["weights"], Xz, yz)
    assert all(close(check["analytic"], gradients[check["parameter"]], rel=1e-9) for check in checks)
    assert "Note: z.json was trained on z-scores" in run(["explain", "wide.csv", "--init", "z.json"]).stderr


@pytest.mark.parametrize("command", ["train", "explain", "gradcheck"])
def test_init_from_a_standardised_model_with_no_standardize_is_a_usage_error(run, standardised_model, workdir, command):
    before = (workdir / "z.json").read_bytes()
    result = run([command, "wide.csv", "--init", "z.json", "--no-standardize"])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "--init z.json" in result.stderr and "--no-standardize" in result.stderr and "z-score" in result.stderr
    assert (workdir / "z.json").read_bytes() == before


def test_init_from_raw_weights_says_nothing_of_scaling(run, small_csv, init_file):
    result = run(["train", small_csv, "--init", init_file, "--epochs", "2", "--no-standardize", "--no-save"])
    assert result.exit_code == 0, result.stderr
    assert "z-scores" not in result.stderr


# --- where the model goes --------------------------------------------------------------------


@pytest.mark.parametrize("options, model", [(["--no-save"], None), (["--model", "x.json"], "x.json"), ([], "model.json")])
def test_the_json_report_names_the_model_file_only_when_one_is_written(run, small_csv, workdir, options, model):
    result = run(["train", small_csv, "--epochs", "3", "--format", "json", *options])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["model"] == model
    assert (workdir / model).exists() if model else not (workdir / "model.json").exists()


def test_train_never_replaces_a_file_that_is_not_a_model(run, small_csv, workdir, no_crash):
    (workdir / "notes.csv").write_text("a,b\n1,2\n")
    result = run(["train", small_csv, "--epochs", "3", "--model", "notes.csv"])
    no_crash(result)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: notes.csv exists and is not a fwdback model; give --model another path, "
                             "or move that file away\n")
    assert (workdir / "notes.csv").read_text() == "a,b\n1,2\n"


def test_a_history_path_that_is_a_directory_suggests_a_history_file(run, small_csv, workdir):
    (workdir / "logs").mkdir()
    result = run(["train", small_csv, "--epochs", "3", "--history", "logs"])
    assert result.exit_code == 1
    assert "e.g. history.csv" in result.stderr and "model.json" not in result.stderr


# --- columns -------------------------------------------------------------------------------


def test_column_order_and_extra_columns_do_not_matter(run, small_csv, small_xy, workdir):
    X, y = small_xy
    lines = ["note,y,x3,id,x1,x2"]
    lines += [f"row {i},{t!r},{c!r},{i:03d},{a!r},{b!r}" for i, ((a, b, c), t) in enumerate(zip(X.tolist(), y.tolist()))]
    (workdir / "shuffled.csv").write_text("\n".join(lines) + "\n")
    run(["train", small_csv, "--epochs", "20", "--model", "plain.json", "-q"])
    result = run(["train", "shuffled.csv", "--epochs", "20", "--model", "shuffled.json", "-q"])
    assert result.exit_code == 0, result.stderr
    assert read_model("shuffled.json")["weights"] == read_model("plain.json")["weights"]


def test_features_and_target_name_other_columns(run, small_csv, small_xy, workdir):
    X, y = small_xy
    lines = ["price,c,label,a,b"]
    lines += [f"{t!r},{z!r},item{i},{u!r},{v!r}" for i, ((u, v, z), t) in enumerate(zip(X.tolist(), y.tolist()))]
    (workdir / "named.csv").write_text("\n".join(lines) + "\n")
    run(["train", small_csv, "--epochs", "20", "--model", "plain.json", "-q"])
    result = run(["train", "named.csv", "--features", "a,b,c", "--target", "price", "--epochs", "20", "--model", "named.json", "-q"])
    assert result.exit_code == 0, result.stderr
    named = read_model("named.json")
    assert named["features"] == ["a", "b", "c"] and named["target"] == "price"
    assert named["weights"] == read_model("plain.json")["weights"]

    predicted = run(["predict", "named.csv", "--model", "named.json"])
    assert predicted.exit_code == 0, predicted.stderr
    header = predicted.stdout.splitlines()[0]
    assert header == "price,c,label,a,b,price_hat"

    (workdir / "again.csv").write_text(predicted.stdout)
    clash = run(["predict", "again.csv", "--model", "named.json"])
    assert clash.exit_code == 1 and clash.stdout == ""
    assert clash.stderr.startswith("Error: again.csv: already has a price_hat column") and clash.stderr.count("\n") == 1


def test_train_reads_stdin(run, small_csv, workdir):
    text = (workdir / small_csv).read_text()
    from_file = run(["train", small_csv, "--epochs", "5", "--format", "csv", "--model", "f.json"])
    from_stdin = run(["train", "-", "--epochs", "5", "--format", "csv", "--model", "s.json"], input=text)
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout
    assert read_model("s.json")["weights"] == read_model("f.json")["weights"]


def test_a_wrong_separator_is_hinted_with_the_sep_option(run, workdir):
    (workdir / "semi.csv").write_text("x1;x2;x3;y\n1,5;2;3;4\n2;3;4;5\n")
    read_with_commas = run(["train", "semi.csv", "--sep", ","])
    assert read_with_commas.exit_code == 1
    assert "the header is one column holding semicolons" in read_with_commas.stderr and "--sep" in read_with_commas.stderr
    decimal_comma = run(["train", "semi.csv"])
    assert decimal_comma.exit_code == 1 and "'1,5' is not a number (if its comma is a decimal mark, write 1.5)" in decimal_comma.stderr


@pytest.mark.parametrize("args", [["predict", "--model", "data.csv", "data.csv"], ["train", "data.csv", "--init", "data.csv"]])
def test_a_csv_given_as_the_model_asks_whether_they_were_swapped(run, small_csv, args):
    result = run(args)
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: data.csv: is not valid JSON") and "did you swap the data and the" in result.stderr


def test_an_empty_init_on_stdin_is_called_empty(run, small_csv):
    result = run(["train", small_csv, "--init", "-"], input="")
    assert result.exit_code == 1
    assert result.stderr == "Error: <stdin>: is empty; give an init JSON file\n"


# --- predict -------------------------------------------------------------------------------


def _expected_yhat(weights, x1, x2, x3):
    """yhat of one row by the oracle's lecture network."""
    return float(oracle.forward(weights, [[x1, x2, x3]]).yhat[0, 0])


def _check_predictions(stdout: str, input_text: str, weights: dict) -> None:
    out_lines = stdout.splitlines()
    in_lines = input_text.splitlines()
    assert out_lines[0] == in_lines[0] + ",y_hat"
    assert len(out_lines) == len(in_lines)
    header = in_lines[0].split(",")
    for in_line, out_line in zip(in_lines[1:], out_lines[1:], strict=True):
        prefix, _, text = out_line.rpartition(",")
        assert prefix == in_line, "input columns must pass through unchanged"
        row = dict(zip(header, in_line.split(",")))
        value = float(text)
        assert repr(value) == text, f"{text!r} is not a shortest round-trip float"
        expected = _expected_yhat(weights, float(row["x1"]), float(row["x2"]), float(row["x3"]))
        assert close(value, expected), (value, expected)


def test_predict_from_file_and_stdin(run, small_csv, workdir):
    assert run(["train", small_csv, "--epochs", "30", "-q"]).exit_code == 0
    weights = read_model()["weights"]
    text = (workdir / small_csv).read_text()

    from_file = run(["predict", small_csv])
    assert from_file.exit_code == 0, from_file.stderr
    _check_predictions(from_file.stdout, text, weights)

    for args in (["predict"], ["predict", "-"], ["predict", "--model", "model.json", "-"]):
        from_stdin = run(args, input=text)
        assert from_stdin.exit_code == 0, from_stdin.stderr
        assert from_stdin.stdout == from_file.stdout


def test_predict_values_round_trip_to_the_bit(run, init_weights, workdir):
    """Awkward weights and inputs: y_hat text is the shortest repr of a float64 near the expected value."""
    weights = {name: value * (1 + 1e-9 * i) / 3 for i, (name, value) in enumerate(init_weights.items())}
    document = {"format": "fwdback-model", "version": 1, "features": ["x1", "x2", "x3"], "target": "y", "weights": weights}
    (workdir / "model.json").write_text(json.dumps(document))
    rows = [(0.1, 0.2, 0.3), (1e-300, -1e300, 7.0), (1 / 3, 2 / 3, -5e-324), (123456.789, -0.0, 1e15)]
    text = "x1,x2,x3\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in rows)
    result = run(["predict", "-"], input=text)
    assert result.exit_code == 0, result.stderr
    _check_predictions(result.stdout, text, weights)


def test_predict_passes_other_columns_through_as_text(run, small_csv):
    assert run(["train", small_csv, "--epochs", "10", "-q"]).exit_code == 0
    weights = read_model()["weights"]
    text = (
        "id,x1,name,x2,x3,comment\n"
        "007,1.50,Ann Lee,2,-0.000,\n"
        '010,1e-3,"Smith, J",+3,4.0,NA\n'
    )
    result = run(["predict", "-"], input=text)
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "id,x1,name,x2,x3,comment,y_hat"
    assert out[1].startswith("007,1.50,Ann Lee,2,-0.000,,")
    assert out[2].startswith('010,1e-3,"Smith, J",+3,4.0,NA,')
    parsed = list(csv.reader(io.StringIO(result.stdout)))
    assert parsed[1][:6] == ["007", "1.50", "Ann Lee", "2", "-0.000", ""]
    assert close(float(parsed[1][6]), _expected_yhat(weights, 1.5, 2.0, -0.0))
    assert close(float(parsed[2][6]), _expected_yhat(weights, 1e-3, 3.0, 4.0))


def test_predict_keeps_spaces_in_cells(run, small_csv):
    """Unchanged means unchanged: a cell's leading spaces are part of its text."""
    assert run(["train", small_csv, "--epochs", "3", "-q"]).exit_code == 0
    text = "x1,x2,x3,name\n1,2,3,  padded  \n"
    result = run(["predict", "-"], input=text)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("1,2,3,  padded  ,")


def test_predict_with_renamed_features_in_any_order(run, small_csv, workdir):
    assert run(["train", small_csv, "--epochs", "10", "-q"]).exit_code == 0
    weights = read_model()["weights"]
    text = "x3,extra,x2,x1\n0.5,a,-1.25,2\n"
    result = run(["predict", "-"], input=text)
    assert result.exit_code == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header == "x3,extra,x2,x1,y_hat"
    assert row.startswith("0.5,a,-1.25,2,")
    assert close(float(row.split(",")[-1]), _expected_yhat(weights, 2.0, -1.25, 0.5))


def test_predict_names_the_parquet_part_s_predictions_after_the_target_and_refuses_a_clash(run, small_csv, workdir):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(small_csv).rename(columns={"y": "sale_price"})
    frame.to_csv(workdir / "sales.csv", index=False)
    assert run(["train", "sales.csv", "--target", "sale_price", "--epochs", "10", "-q"]).exit_code == 0
    weights = read_model()["weights"]
    frame.to_parquet(workdir / "sales.parquet")
    result = run(["predict", "sales.parquet"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "x1,x2,x3,sale_price,sale_price_hat" and len(lines) == len(frame) + 1
    first = frame.iloc[0]
    assert close(float(lines[1].split(",")[-1]), _expected_yhat(weights, first.x1, first.x2, first.x3))

    frame.assign(sale_price_hat=0.0).to_parquet(workdir / "predicted.parquet")
    clash = run(["predict", "predicted.parquet"])
    assert clash.exit_code == 1 and clash.stdout == ""
    assert clash.stderr.startswith("Error: predicted.parquet: already has a sale_price_hat column")


@pytest.mark.parametrize("header,missing", [("x1,x3", ["x2"]), ("x1,id", ["x2", "x3"])])
def test_predict_missing_feature_columns_are_named(run, small_csv, header, missing):
    assert run(["train", small_csv, "--epochs", "3", "-q"]).exit_code == 0
    values = ",".join("1" for _ in header.split(","))
    result = run(["predict", "-"], input=f"{header}\n{values}\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1
    for column in missing:
        assert column in result.stderr


def test_predict_blames_the_weights_or_the_inputs_for_an_overflow(run, small_csv, workdir):
    assert run(["train", small_csv, "--epochs", "3", "-q"]).exit_code == 0
    model = read_model()
    model["weights"] |= {"w1": 1e300, "w7": 1e300}
    (workdir / "huge.json").write_text(json.dumps(model))
    result = run(["predict", small_csv, "--model", "huge.json"])
    assert result.exit_code == 1
    assert "row 1" in result.stderr and "weights" in result.stderr and "inputs" in result.stderr


# --- divergence ----------------------------------------------------------------------------


def test_divergence_exits_3_with_a_smaller_lr(run, small_csv, workdir, no_crash):
    result = run(["train", small_csv, "--lr", "5", "--epochs", "200"])
    no_crash(result)
    assert result.exit_code == 3
    assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1
    assert re.search(r"epoch \d+", result.stderr)
    match = re.search(r"--lr\s+([0-9][0-9.eE+-]*)", result.stderr)
    assert match, result.stderr
    suggested = float(match.group(1).rstrip("."))
    assert 0 < suggested < 5
    assert not (workdir / "model.json").exists()
    assert not [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")]

    retry = run(["train", small_csv, "--lr", match.group(1).rstrip("."), "--epochs", "200", "-q"])
    assert retry.exit_code == 0, f"the suggested --lr {match.group(1)} diverged too: {retry.stderr}"


def test_divergence_leaves_an_existing_model_alone(run, small_csv, workdir):
    assert run(["train", small_csv, "--epochs", "5", "-q"]).exit_code == 0
    before = (workdir / "model.json").read_bytes()
    result = run(["train", small_csv, "--lr", "50", "--epochs", "100", "--format", "json"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert (workdir / "model.json").read_bytes() == before


# --- help, version, generate ---------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["predict", "--help"], ["generate", "--help"], ["-h"]])
def test_help_shows_a_pipeline_example(run, args):
    result = run(args)
    assert result.exit_code == 0
    assert "|" in result.stdout
    assert "fwdback" in result.stdout


def test_train_help_lists_the_options(run):
    out = run(["train", "--help"]).stdout
    for option in ("--epochs", "--lr", "--seed", "--init", "--features", "--target", "--model", "--format", "--every", "--quiet"):
        assert option in out


def test_version(run):
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"fwdback {importlib.metadata.version('fwdback')}"


def test_generate_writes_the_linear_function(run):
    result = run(["generate", "--rows", "50", "--seed", "3", "--noise", "0", "--coef", "1.5,-2,0.25,4"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "x1,x2,x3,y" and len(lines) == 51
    data = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert np.all(np.abs(data[:, :3]) <= 1)
    expected = 1.5 * data[:, 0] - 2 * data[:, 1] + 0.25 * data[:, 2] + 4
    np.testing.assert_allclose(data[:, 3], expected, rtol=1e-12, atol=1e-12)


def test_generate_is_reproducible_and_noisy(run):
    a = run(["generate", "--rows", "200", "--seed", "1", "--noise", "0.5"]).stdout
    b = run(["generate", "--rows", "200", "--seed", "1", "--noise", "0.5"]).stdout
    c = run(["generate", "--rows", "200", "--seed", "2", "--noise", "0.5"]).stdout
    assert a == b != c
    data = np.array([[float(v) for v in line.split(",")] for line in a.splitlines()[1:]])
    residual = data[:, 3] - (data[:, :3] @ np.array([2.0, -3.0, 0.5]) + 1.0)  # the default --coef
    assert 0.3 < residual.std() < 0.7


def test_generate_digits_writes_each_number_rounded_to_d_decimal_places(run):
    # seed 0's first rows in full, then rounded by hand: 0.2739233746429086 -> 0.27, 0.08724998293084574 -> 0.09
    full = run(["generate", "--rows", "3"]).stdout.splitlines()
    assert full[1] == "0.2739233746429086,-0.4604265724722594,-0.9180529521276106,2.343557843534185"
    assert full[3] == "0.21327155153435973,0.4589931219679968,0.08724998293084574,0.09732132656487628"
    assert run(["generate", "--rows", "3", "--digits", "2"]).stdout.splitlines() == [
        "x1,x2,x3,y", "0.27,-0.46,-0.92,2.34", "-0.97,0.63,0.83,-2.46", "0.21,0.46,0.09,0.10"]
    # xor's seed 0 in full, then by hand to 1 place; the class as it was
    assert run(["generate", "--rows", "3", "--shape", "xor"]).stdout.splitlines()[1:] == [
        "0.736249914654229,4.650724237877681,1", "3.4327023920027235,4.427555772777217,1",
        "1.669616873214543,-2.6021328623612967,0"]
    assert run(["generate", "--rows", "3", "--shape", "xor", "--digits", "1"]).stdout.splitlines() == [
        "x1,x2,y", "0.7,4.7,1", "3.4,4.4,1", "1.7,-2.6,0"]
    # y = 0.001 * x1 is under 0.005 in size: 0.00 at 2 places, never -0.00
    tiny = run(["generate", "--rows", "20", "--coef", "0.001,0,0,0", "--noise", "0", "--digits", "2"]).stdout.splitlines()
    assert {line.split(",")[3] for line in tiny[1:]} == {"0.00"}
    # every cell of 50 rows: the float written in full, rounded exactly in decimal (half to even) to 3 places
    from decimal import ROUND_HALF_EVEN, Decimal

    full = run(["generate", "--rows", "50", "--seed", "5"]).stdout.splitlines()
    short = run(["generate", "--rows", "50", "--seed", "5", "--digits", "3"]).stdout.splitlines()
    assert short[0] == full[0]
    for long_line, short_line in zip(full[1:], short[1:]):
        assert short_line.split(",") == [
            str(Decimal(float(cell)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)).replace("-0.000", "0.000")
            for cell in long_line.split(",")]


@pytest.mark.parametrize("args", [["--coef", "1e308,1e308,1e308,1e308"], ["--coef", "1,1,1,1.7e308"], ["--noise", "1e307"]])
def test_generate_refuses_settings_whose_y_overflows(run, args):
    result = run(["generate", "--rows", "1000", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and args[0] in result.stderr and "overflow" in result.stderr


def test_generate_with_huge_coefficients_writes_what_train_reads(run, workdir):
    result = run(["generate", "--rows", "50", "--coef", "1e300,-1e300,1,1e300"])
    assert result.exit_code == 0, result.stderr
    data = np.array([[float(v) for v in line.split(",")] for line in result.stdout.splitlines()[1:]])
    assert np.isfinite(data).all() and np.abs(data[:, 3]).max() > 1e299
    (workdir / "huge.csv").write_text(result.stdout)
    assert run(["train", "huge.csv", "--epochs", "5", "--standardize", "--no-save", "-q"]).exit_code == 0


def test_generate_then_train_recovers_the_coefficients(run, workdir):
    """Gradient descent on noise-free data reaches the least-squares fit, i.e. the true map."""
    text = run(["generate", "--rows", "100", "--seed", "9", "--noise", "0", "--coef", "1,2,-1,0.5"]).stdout
    (workdir / "gen.csv").write_text(text)
    assert run(["train", "gen.csv", "--epochs", "3000", "--lr", "0.05", "-q"]).exit_code == 0
    w = read_model()["weights"]
    coef = [w["w7"] * w["w1"] + w["w8"] * w["w4"], w["w7"] * w["w2"] + w["w8"] * w["w5"], w["w7"] * w["w3"] + w["w8"] * w["w6"]]
    intercept = w["w7"] * w["b1"] + w["w8"] * w["b2"] + w["b3"]
    np.testing.assert_allclose([*coef, intercept], [1, 2, -1, 0.5], atol=1e-4)


def test_an_epoch_reads_alike_wherever_a_person_sees_it(run, small_csv):
    """Thousands separated in the loss table, the chart, the summary, explain's prose and the
    errors, as on the progress bar; a flag's value as it is typed."""
    from fwdback.errors import EpochNotReached, TrainingDiverged

    def flag(name, value=None):
        return f"--{name}" + ("" if value is None else f" {value}")

    result = run(["train", small_csv, "--epochs", "1200", "--tol", "0", "--lr", "0.01", "--no-save"])
    assert result.exit_code == 0, result.stderr
    assert loss_table(result.stdout)[-1][0] == 1200  # written 1,200: loss_table checks the separators
    assert re.search(r"^ +1 +1,200  epoch$", result.stdout, flags=re.M)  # the chart's axis
    assert re.search(r"^ epochs +1,200$", result.stdout, flags=re.M)
    assert re.search(r"^ loss at epoch 1,200 ", result.stdout, flags=re.M)
    explained = run(["explain", small_csv, "--epoch", "1001", "--lr", "0.01", "--rows", "1"])
    assert explained.exit_code == 0, explained.stderr
    assert explained.stdout.startswith("Epoch 1,001 of forward and backward propagation")
    assert "(after 1,000 epochs of training)" in explained.stdout
    assert TrainingDiverged(12345, float("inf"), 0.01, False).message().startswith("training diverged at epoch 12,345 ")
    assert EpochNotReached(20000, 1500, "training", 0.0, 1000).message(flag) == (
        "early stopping ends training after epoch 1,500, so there is no epoch 20,000 to explain (the training loss did "
        "not improve by more than 0 for 1,000 epochs); use --epoch 1500 or less, or a larger --patience")


# --- Strict reading (the command line's failure contract: hostile.py)


SEEDED = {
    "train": ["train", "d.csv", "--epochs", "5", "-q"],
    "explain": ["explain", "d.csv"],
    "gradcheck": ["gradcheck", "d.csv"],
    "generate": ["generate", "--rows", "5"],
}


@pytest.mark.parametrize("command", list(SEEDED))
def test_a_negative_seed_is_a_usage_error(invoke, ws, command):
    before = fingerprint(ws)
    o = invoke(*SEEDED[command], "--seed", "-1")
    refused(o, 2, ["--seed"], root=ws, before=before)
    assert o.stdout == ""


@pytest.mark.parametrize("command", ["train", "generate"])
def test_a_huge_seed_is_a_seed(invoke, ws, command):
    succeeded(invoke(*SEEDED[command], "--seed", "1" + "0" * 30))


# --- Numbers (the command line's failure contract: hostile.py)


NOT_A_NUMBER = [
    (["train", "d.csv", "--min-delta", "nan"], "--min-delta"),
    (["generate", "--noise", "nan"], "--noise"),
    (["train", "d.csv", "--lr", "inf"], "--lr"),
    (["gradcheck", "d.csv", "--max-error", "nan"], "--max-error"),
    (["train", "d.csv", "--val-split", "nan"], "--val-split"),
    (["generate", "--coef", "1,2,3,nan"], "--coef"),
]


@pytest.mark.parametrize("args, option", NOT_A_NUMBER, ids=[" ".join(a[0:1] + a[-2:]) for a, _ in NOT_A_NUMBER])
def test_nan_and_inf_options_are_usage_errors(invoke, ws, args, option):
    before = fingerprint(ws)
    o = invoke(*args)
    refused(o, 2, [option], root=ws, before=before)
    assert o.stdout == ""


# --- Random option values, in-process (the command line's failure contract: hostile.py)


FLAG = object()
JUNK = st.text(max_size=10)
ODD_NUMBERS = st.sampled_from(["nan", "-nan", "NaN", "inf", "-inf", "1e308", "1e400", "-0.0", "0", "-1", "5e-324", "1_000", "0x10", " 3", "3 ", "1" + "0" * 40])


def _ints(low, high):
    return st.one_of(st.integers(low, high).map(str), ODD_NUMBERS, JUNK)


def _epochs(low, high):
    """Like _ints, but never a count of epochs or rows that would honestly run for ever (10**40)."""
    return st.one_of(st.integers(low, high).map(str), ODD_NUMBERS.filter(lambda text: len(text) < 30), JUNK)


SEEDS = st.one_of(st.integers().map(str), st.sampled_from([str(-(2**63)), str(2**64), "1" + "0" * 30]), ODD_NUMBERS, JUNK)
FLOATS = st.one_of(st.floats().map(repr), st.sampled_from(["1e308", "-0.0", "5e-324", "-1e308"]), ODD_NUMBERS, JUNK)
READ_PATHS = st.one_of(st.sampled_from(["m.json", "model.json", "d.csv", "missing.json", "dir", "", "-"]), JUNK)
WRITE_PATHS = st.sampled_from(["out.json", "model.json", "m.json", "d.csv", "dir", "nodir/x.json", "", "h.csv"])


def _choice(*names):
    return st.one_of(st.sampled_from(names), JUNK)


TRAINING_OPTIONS = {
    "--lr": FLOATS,
    "--seed": SEEDS,
    "--init": READ_PATHS,
    "--features": _choice("x1,x2,x3", "x3,x1", "x1", "a,b", "", ",", "x1,x1", "y", "x1, x2 ,x3"),
    "--target": _choice("y", "x1", "", "z"),
    "--sep": _choice(",", ";", "\t", "\\t", "", ",,", "|", " ", "."),
    "--activation": _choice("identity", "tanh", "relu", "sigmoid"),
    "--hidden": _ints(-2, 6),
    "--standardize": FLAG,
    "--batch-size": _ints(-3, 10**6),
    "--val-split": FLOATS,
    "--patience": _ints(-3, 10**6),
    "--min-delta": FLOATS,
}

RANDOM_OPTIONS = {
    "train": {
        **TRAINING_OPTIONS,
        "--resume": READ_PATHS,
        "--model": WRITE_PATHS,
        "--history": WRITE_PATHS,
        "--format": _choice("table", "csv", "json"),
        "--every": _ints(-3, 10**6),
        "--no-chart": FLAG,
        "--quiet": FLAG,
        "--save-on-interrupt": FLAG,
        "--chunksize": _ints(-10, 5000),
    },
    "explain": {**TRAINING_OPTIONS, "--epoch": _epochs(-2, 25), "--rows": _ints(-2, 50), "--format": _choice("table", "markdown", "json")},
    "gradcheck": {**TRAINING_OPTIONS, "--epochs": _epochs(-2, 25), "--max-error": FLOATS, "--format": _choice("table", "json")},
    "generate": {
        "--rows": _epochs(-2, 50),
        "--seed": SEEDS,
        "--noise": FLOATS,
        "--coef": st.one_of(st.lists(st.floats().map(repr), max_size=5).map(",".join), JUNK),
    },
    "show": {},
    "predict": {"--model": READ_PATHS, "--sep": _choice(",", ";", "\t", "\\t", "", ",,", "|", " ", ".")},
}
POSITIONAL = {
    "train": "d.csv",
    "explain": "d.csv",
    "gradcheck": "d.csv",
    "generate": None,
    "show": READ_PATHS,
    "predict": st.one_of(st.sampled_from(["d.csv", "m.json", "missing.csv", "dir", "-"]), JUNK),
}


def _reset(root, assets):
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    (root / "d.csv").write_bytes(assets.data)
    (root / "m.json").write_bytes(assets.model)
    (root / "model.json").write_bytes(assets.model)
    (root / "dir").mkdir()


@pytest.mark.parametrize("command", slow_after(3, list(RANDOM_OPTIONS)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_option_values_end_in_a_documented_way(invoke, workdir, assets, command, data):
    _reset(workdir, assets)
    args = [command]
    if command in ("show", "predict"):  # their DATA/MODEL may be left out
        positional = data.draw(st.one_of(st.none(), POSITIONAL[command]), label="positional")
    else:
        positional = POSITIONAL[command]
    if positional is not None:
        args.append(positional)
    if command == "train":  # always bounded: a few epochs, or a value that is no number
        args += ["--epochs", data.draw(_epochs(-2, 25), label="--epochs")]
    options = RANDOM_OPTIONS[command]
    for name in data.draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=6) if options else st.just([]), label="options"):
        if options[name] is FLAG:
            args.append(name)
        else:
            args += [name, data.draw(options[name], label=name)]
    o = invoke(*args)
    if o.exception is not None and not isinstance(o.exception, SystemExit):
        pytest.fail(f"{args!r} crashed:\n{o.trace[-4000:]}")
    assert o.code in (0, 1, 2, 3), f"{args!r}: exit code {o.code}; stderr: {short(o.stderr)}"
    assert "Traceback" not in o.stdout and "Traceback" not in o.stderr
    if o.code != 0:
        lines = [line for line in o.stderr.splitlines() if line.strip()]
        assert lines, f"{args!r}: exit code {o.code} with nothing on stderr"
        gradient_failed = command == "gradcheck" and o.code == 1 and lines[-1].startswith("gradcheck:")
        assert lines[-1].startswith("Error:") or gradient_failed, f"{args!r}: {short(o.stderr)}"
