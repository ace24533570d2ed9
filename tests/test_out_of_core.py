"""Out of core: `train --chunksize` streams a CSV through the Gram engine's statistics.

The expectations come from in-memory training (the literal engine, below GRAM_MIN_ROWS rows)
and from np.linalg.lstsq on the rows.
"""

import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fwdback import data
from fwdback.engines import GRAM_MIN_ROWS
from fwdback.engines.gram import GramEngine
from fwdback.network import init_parameters
from fwdback.scaling import RunningMoments
from fwdback.stepsize import RowStatistics, suggest_lr

ROWS, CHUNK = 5_500, 1_000  # five full chunks and a short last one


@pytest.fixture
def rows():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1.0, 1.0, size=(ROWS, 3)) * [1.0, 1.5, 0.5] + [0.0, 0.5, -0.3]
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0 + rng.normal(0.0, 0.1, size=ROWS)
    return X, y


@pytest.fixture
def big_csv(workdir, rows, csv_text):
    (workdir / "big.csv").write_text(csv_text(*rows))
    return "big.csv"


def chunks_of(X, y, size):
    return lambda: ((X[i : i + size], y[i : i + size]) for i in range(0, len(y), size))


def train_json(run, *args):
    result = run(["train", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("epochs", [50, 2000])
def test_streamed_training_equals_in_memory_training(run, big_csv, epochs):
    assert ROWS < GRAM_MIN_ROWS  # so in memory it is the literal engine, row by row
    args = [big_csv, "--epochs", epochs, "--lr", "0.02", "--tol", "0"]
    in_memory = train_json(run, *args, "--model", "memory.json")
    streamed = train_json(run, *args, "--chunksize", CHUNK, "--model", "streamed.json")
    losses = np.array([entry["loss"] for entry in in_memory["history"]])
    streamed_losses = np.array([entry["loss"] for entry in streamed["history"]])
    np.testing.assert_allclose(streamed_losses, losses, rtol=1e-9, atol=0)
    for key in ("weights", "gradients"):
        expected = np.array(list(in_memory[key].values()))
        got = np.array(list(streamed[key].values()))
        # At the optimum (2000 epochs) the gradients are rounding noise, about 1e-12.
        assert np.max(np.abs(got - expected)) <= 1e-9 * np.max(np.abs(expected)) + 1e-11, key
    assert streamed["final_loss"] == pytest.approx(in_memory["final_loss"], rel=1e-9)
    assert streamed["rows"] == ROWS


def test_streamed_yardstick_matches_lstsq(run, big_csv, rows):
    X, y = rows
    A = np.column_stack([X, np.ones(ROWS)])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    yardstick = train_json(run, big_csv, "--chunksize", CHUNK, "--epochs", "50")["yardstick"]
    assert list(yardstick["least_squares"].values()) == pytest.approx(solution.tolist(), rel=1e-12)
    assert yardstick["best_loss"] == pytest.approx(np.mean((A @ solution - y) ** 2), rel=1e-10)
    assert yardstick["constant_loss"] == pytest.approx(np.var(y), rel=1e-12)
    assert yardstick["unique"]


def test_chunked_statistics_equal_those_of_one_chunk(rows):
    X, y = rows
    whole, chunked = GramEngine(X, y), GramEngine.from_chunks(chunks_of(X, y, 777))
    np.testing.assert_allclose(chunked.G, whole.G, rtol=1e-13, atol=0)
    np.testing.assert_allclose(chunked.theta0, whole.theta0, rtol=1e-12)
    # The gradient at the least-squares solution is zero up to rounding: compare on the scale of b.
    np.testing.assert_allclose(chunked.gradient0, whole.gradient0, rtol=0, atol=1e-13 * np.abs(whole.G @ whole.theta0).max())
    assert chunked.loss0 == pytest.approx(whole.loss0, rel=1e-12)
    assert chunked.rows == ROWS


def test_streamed_least_squares_knows_a_constant_column(rows):
    X, y = rows
    X = X.copy()
    X[:, 1] = 4.0
    best = GramEngine.from_chunks(chunks_of(X, y, 1000)).least_squares()
    assert best.constant_columns == [1] and not best.unique
    A = np.column_stack([X, np.ones(ROWS)])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    assert best.loss == pytest.approx(np.mean((A @ solution - y) ** 2), rel=1e-9)
    assert best.zero_loss == pytest.approx(np.mean(y**2), rel=1e-12)


def test_the_divergence_suggestion_needs_only_the_statistics(rows):
    X, y = rows
    initial = init_parameters(np.random.default_rng(0), 3, 2)
    statistics = GramEngine.from_chunks(chunks_of(X, y, 1000))
    assert suggest_lr(statistics, initial, 5.0) == suggest_lr(RowStatistics(X, y), initial, 5.0)


def test_streamed_divergence_says_what_lr_to_try(run, big_csv, rows):
    in_memory = run(["train", big_csv, "--lr", "5"])
    streamed = run(["train", big_csv, "--lr", "5", "--chunksize", CHUNK])
    assert in_memory.exit_code == streamed.exit_code != 0
    suggestion = in_memory.stderr.split("--lr ")[-1].split()[0]
    assert f"--lr {suggestion}" in streamed.stderr


def test_streamed_z_scores_that_diverge_are_not_told_to_standardise(run, big_csv):
    # Streamed rows in z-scores once diverged with the advice to pass --standardize, given already.
    in_memory = run(["train", big_csv, "--standardize", "--lr", "5"])
    streamed = run(["train", big_csv, "--standardize", "--lr", "5", "--chunksize", CHUNK])
    assert in_memory.exit_code == streamed.exit_code == 3
    assert "training diverged" in streamed.stderr and "--standardize" not in streamed.stderr
    assert streamed.stderr == in_memory.stderr


def test_a_bad_cell_in_a_later_chunk_names_its_row_and_writes_no_model(run, workdir, rows, csv_text):
    lines = csv_text(*rows).splitlines()
    cells = lines[4321].split(",")  # data row 4321, in the fifth chunk
    cells[1] = "abc"
    lines[4321] = ",".join(cells)
    (workdir / "bad.csv").write_text("\n".join(lines) + "\n")
    result = run(["train", "bad.csv", "--chunksize", CHUNK])
    assert result.exit_code == 1
    assert result.stderr == "Error: bad.csv, row 4321, column x2: 'abc' is not a number; fix the cell or delete the row\n"
    assert not (workdir / "model.json").exists()


@pytest.mark.parametrize(
    "args, conflict",
    [
        (["--activation", "tanh"], "--activation tanh"),
        (["--batch-size", "32"], "--batch-size"),
        (["--val-split", "0.2"], "--val-split"),
        (["--history", "h.csv"], "--history"),
    ],
)
def test_chunksize_refuses_what_streaming_cannot_do(run, big_csv, args, conflict):
    result = run(["train", big_csv, "--chunksize", CHUNK, *args])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: --chunksize cannot be used with {conflict}:")


def test_chunksize_refuses_stdin(run, rows, csv_text):
    result = run(["train", "-", "--chunksize", CHUNK], input=csv_text(*rows))
    assert result.exit_code == 2
    assert "Error: --chunksize reads DATA twice, and stdin can be read only once" in result.stderr


def test_a_large_file_streams_by_itself(run, big_csv, monkeypatch):
    expected = train_json(run, big_csv, "--epochs", "100", "--chunksize", CHUNK, "--model", "chunked.json")
    monkeypatch.setattr(data, "STREAM_ABOVE_BYTES", 1000)
    monkeypatch.setattr(data, "TRAIN_CHUNK_ROWS", CHUNK)
    result = run(["train", big_csv, "--epochs", "100", "--format", "json"])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0].startswith(f"Streaming {big_csv} in chunks of {CHUNK:,} rows")
    assert json.loads(result.stdout)["history"] == expected["history"]
    # Where the options need the rows in memory, the file is read whole, as before.
    assert "Streaming" not in run(["train", big_csv, "--epochs", "10", "--batch-size", "100"]).stderr


def test_the_streamed_model_predicts(run, big_csv, rows):
    assert run(["train", big_csv, "--chunksize", CHUNK, "--quiet"]).exit_code == 0
    result = run(["predict", big_csv])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == ROWS + 1


def scaled_csv(workdir, csv_text, rows, scale, name):
    X, y = rows
    (workdir / name).write_text(csv_text(X * scale, y))
    return name


def test_streamed_standardised_training_equals_in_memory(run, workdir, csv_text, rows):
    # A column of populations (about 1e6) beside others of about 1: badly scaled, so without
    # --lr both train on z-scores, streamed too (the scaling taken in a first pass).
    data = scaled_csv(workdir, csv_text, rows, np.array([1e6, 1.0, 1.0]), "scaled.csv")
    in_memory = train_json(run, data, "--model", "memory.json")
    streamed = train_json(run, data, "--chunksize", CHUNK, "--model", "streamed.json")
    assert in_memory["scaling"] is not None and streamed["scaling"] is not None
    for part in ("mean", "std"):
        expected, got = in_memory["scaling"][part], streamed["scaling"][part]
        assert list(got.values()) == pytest.approx(list(expected.values()), rel=1e-12)
    assert streamed["lr"] == in_memory["lr"] and streamed["stop"] == in_memory["stop"] == "converged"
    X, y = rows
    A = np.column_stack([X * [1e6, 1.0, 1.0], np.ones(ROWS)])
    solution, *_ = np.linalg.lstsq(A / np.abs(A).max(axis=0), y, rcond=None)
    best = float(np.mean((A @ (solution / np.abs(A).max(axis=0)) - y) ** 2))
    y_std = in_memory["scaling"]["std"]["y"]
    for report in (in_memory, streamed):  # in z-score units: the loss is divided by y's variance
        assert report["final_loss"] * y_std**2 == pytest.approx(best, rel=1e-6)


def test_streamed_values_whose_squares_overflow_need_z_scores(run, workdir, csv_text, rows):
    data = scaled_csv(workdir, csv_text, rows, np.array([1e300, 1.0, 1.0]), "huge.csv")
    raw = run(["train", data, "--chunksize", CHUNK, "--no-standardize", "--lr", "0.01"])
    assert raw.exit_code == 1 and not (workdir / "model.json").exists()
    assert raw.stderr.startswith("Error: huge.csv: values this large (about 1e154 or more)") and raw.stderr.count("\n") == 1
    standardised = train_json(run, data, "--chunksize", CHUNK)
    assert standardised["stop"] == "converged" and standardised["yardstick"]["converged"]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8),
    scale=st.sampled_from([1e-3, 1.0, 1e9, 1e300]),
    offset=st.sampled_from([0.0, 1e6]),
    seed=st.integers(0, 2**16),
)
@example(sizes=[1, 1], scale=1.0, offset=1e6, seed=0)
@example(sizes=[1, 1], scale=1e-3, offset=1e6, seed=252)  # two rows 1.4e10 times their std from zero
@example(sizes=[40] * 8, scale=1e300, offset=1e6, seed=1)
@example(sizes=[1], scale=1.0, offset=1e6, seed=3)  # one row: std 0
def test_moments_taken_a_chunk_at_a_time_equal_those_of_all_the_rows(sizes, scale, offset, seed):
    """Both the running moments and the yardstick hold each column's values, its mean and its
    deviations in float64, so neither can be nearer the exact mean or std than a rounding of the
    column's largest value, eps * peak: the error is absolute, not relative to the std (two rows
    near 1e6 whose std is 1e-4 are each rounded by up to 1e-10, 1e-6 of their std). The yardstick's pairwise sum over n rows rounds up to log2(n) such units; each
    of the k chunks' merges rounds the running mean and std once; the final products twice."""
    A = np.random.default_rng(seed).normal(size=(sum(sizes), 3)) * scale + offset * scale
    moments = RunningMoments()
    for start, size in zip(np.cumsum([0, *sizes[:-1]]), sizes):
        moments.add(A[start : start + size])
    # The independent yardstick: mean and population std in units of each column's largest value.
    peak = np.abs(A).max(axis=0)
    expected_mean = np.mean(A / peak, axis=0) * peak
    expected_std = np.std(A / peak, axis=0) * peak
    rounding = (len(sizes) + np.log2(len(A)) + 2) * np.finfo(float).eps * peak
    np.testing.assert_array_less(np.abs(moments.mean - expected_mean), rounding)
    np.testing.assert_array_less(np.abs(moments.std - expected_std), rounding)


@pytest.mark.parametrize("over, streams", [(0, False), (1, True)], ids=["text of exactly the limit", "a byte over it"])
def test_a_file_streams_only_when_its_text_is_over_the_limit(run, workdir, big_csv, monkeypatch, over, streams):
    """STREAM_ABOVE_BYTES is a limit the text may reach: one byte more streams it, in chunks of
    TRAIN_CHUNK_ROWS, through the Gram engine's statistics, to the same losses (the Gram
    engine's agreement with the literal engine: 1e-9)."""
    in_memory = train_json(run, big_csv, "--epochs", "20", "--lr", "0.02", "--tol", "0", "--no-save")
    monkeypatch.setattr(data, "STREAM_ABOVE_BYTES", (workdir / big_csv).stat().st_size - over)
    monkeypatch.setattr(data, "TRAIN_CHUNK_ROWS", CHUNK)
    result = run(["train", big_csv, "--epochs", "20", "--lr", "0.02", "--tol", "0", "--no-save", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert ("Streaming" in result.stderr) is streams
    losses = [entry["loss"] for entry in json.loads(result.stdout)["history"]]
    np.testing.assert_allclose(losses, [entry["loss"] for entry in in_memory["history"]], rtol=1e-9, atol=0)
