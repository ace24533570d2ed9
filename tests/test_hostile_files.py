"""The third round of "nothing breaks" (issue 20), for what fwdback reads and writes.

Every case runs in a working directory fingerprinted (type, mode, inode, sha256 of every file)
before and after: a refused case leaves it as it was, a case that succeeds changes only the
files it names. The failure contract is hostile.py's (`refused`): one `Error:` line
naming the file, the documented exit code, no traceback and no warning.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile import assets, csv_bytes, fingerprint, invoke, linear, refused, succeeded, ws  # noqa: F401

from fwdback.errors import UnreadableData
from fwdback.sources import Part, read_part

# ---------------------------------------------------------------------------------------------
# Parquet whose data pages are scrambled under an intact footer
# ---------------------------------------------------------------------------------------------

PARQUET_ROWS, GROUP_ROWS, DAMAGED_GROUP = 2000, 500, 2


def _parquet(X, y, **options) -> bytes:
    table = pa.table({"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "y": y})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=GROUP_ROWS, **options)
    return buffer.getvalue()


def _scrambled(data: bytes, fill: int) -> bytes:
    """`data` with the second half of every column chunk of row group DAMAGED_GROUP overwritten
    by `fill`: its pages no longer decode, and the footer (and every other row group) is intact."""
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    damaged = bytearray(data)
    for column in range(metadata.num_columns):
        chunk = metadata.row_group(DAMAGED_GROUP).column(column)
        start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
        end = start + chunk.total_compressed_size
        middle = (start + end) // 2
        damaged[middle:end] = bytes([fill]) * (end - middle)
    assert pq.ParquetFile(io.BytesIO(bytes(damaged))).metadata.num_rows == PARQUET_ROWS  # the footer reads
    return bytes(damaged)


SCRAMBLES = {
    "zstd pages": ({"compression": "zstd"}, 0x41),
    "gzip pages": ({"compression": "gzip"}, 0xFF),
    "snappy page headers": ({"compression": "snappy"}, 0x00),
    "plain page headers": ({"compression": "none"}, 0x41),
}
PARQUET_USES = {
    "train": ["train", "bad.parquet", "--epochs", "3"],
    "train --chunksize": ["train", "bad.parquet", "--epochs", "3", "--chunksize", "1000"],
    "predict": ["predict", "bad.parquet"],
    "predict --output-dir": ["predict", "bad.parquet", "--output-dir", "out"],
    "evaluate": ["evaluate", "bad.parquet"],
    "train, a directory of parts": ["train", "parts", "--epochs", "3"],
}


@pytest.fixture
def damaged(ws):
    """bad.parquet (and parts/ holding it after an intact part), scrambled as each case says."""

    def make(kind: str):
        options, fill = SCRAMBLES[kind]
        data = _scrambled(_parquet(*linear(PARQUET_ROWS), **options), fill)
        (ws / "bad.parquet").write_bytes(data)
        (ws / "parts").mkdir()
        (ws / "parts" / "a.parquet").write_bytes(_parquet(*linear(40, seed=3)))
        (ws / "parts" / "b.parquet").write_bytes(data)

    return make


@pytest.mark.parametrize("use", list(PARQUET_USES))
@pytest.mark.parametrize("kind", list(SCRAMBLES))
def test_a_parquet_part_with_scrambled_pages_is_refused_by_its_row_group(invoke, ws, damaged, kind, use):
    damaged(kind)
    before = fingerprint(ws)
    o = invoke(*PARQUET_USES[use])
    name = "parts/b.parquet" if use.endswith("parts") else "bad.parquet"
    first = DAMAGED_GROUP * GROUP_ROWS + 1
    refused(o, 1, [name, f"row group {DAMAGED_GROUP + 1} of {PARQUET_ROWS // GROUP_ROWS}",
                   f"rows {first:,} to {first + GROUP_ROWS - 1:,}", "cannot be read"],
            root=ws, before=before, train=use.startswith("train"))


def test_the_unreadable_part_error_survives_a_dask_worker(ws, damaged):
    # A Dask worker raises the error in its own process; the client receives it pickled.
    damaged("zstd pages")
    with pytest.raises(UnreadableData) as caught:
        read_part(Part.of("bad.parquet"), ("x1", "x2", "x3"), "y", None)
    received = pickle.loads(pickle.dumps(caught.value))
    assert type(received) is UnreadableData and str(received) == str(caught.value)
    assert "bad.parquet, row group 3 of 4 (rows 1,001 to 1,500)" in str(received)


def test_a_damaged_gzip_csv_is_the_same_error(invoke, ws):
    import gzip

    data = bytearray(gzip.compress(csv_bytes(*linear(2000))))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    (ws / "bad.csv.gz").write_bytes(bytes(data))
    before = fingerprint(ws)
    o = invoke("train", "bad.csv.gz", "--epochs", "3")
    refused(o, 1, ["bad.csv.gz", "cannot be read"], root=ws, before=before, train=True)


# ---------------------------------------------------------------------------------------------
# Columns the model does not read pass through predict whatever their names
# ---------------------------------------------------------------------------------------------


def _yhat_and_bound(weights: dict, x) -> tuple[float, float]:
    """The lecture's network by hand, and a bound on the rounding of any order of its sums: each
    of its 11 products and sums rounds by at most eps of the magnitudes it adds."""
    w = weights
    n1 = [w["w1"] * x[0], w["w2"] * x[1], w["w3"] * x[2], w["b1"]]
    n2 = [w["w4"] * x[0], w["w5"] * x[1], w["w6"] * x[2], w["b2"]]
    terms = [w["w7"] * sum(n1), w["w8"] * sum(n2), w["b3"]]
    size = abs(w["w7"]) * sum(map(abs, n1)) + abs(w["w8"]) * sum(map(abs, n2)) + abs(w["b3"])
    return sum(terms), 16 * np.finfo(float).eps * size


def _notes_table(X) -> pa.Table:
    """x1, x2, x3 and two columns named note (text, then integers) that the model does not read."""
    notes = [f"r{index}" for index in range(len(X))]
    return pa.table([pa.array(X[:, 0]), pa.array(X[:, 1]), pa.array(X[:, 2]), pa.array(notes),
                     pa.array(list(range(len(X))))], names=["x1", "x2", "x3", "note", "note"])


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_predict_passes_two_columns_of_one_name_through(invoke, ws, assets, kind):
    import csv
    import json

    X, _ = linear(5, seed=9)
    table = _notes_table(X)
    if kind == "parquet":
        pq.write_table(table, ws / "dup.parquet")
    else:
        lines = ["x1,x2,x3,note,note"] + [f"{a!r},{b!r},{c!r},r{index},{index}" for index, (a, b, c) in enumerate(X.tolist())]
        (ws / "dup.csv").write_text("\n".join(lines) + "\n")
    before = fingerprint(ws)
    o = invoke("predict", f"dup.{kind}")
    succeeded(o)
    assert fingerprint(ws) == before
    rows = list(csv.reader(io.StringIO(o.stdout)))
    assert rows[0] == ["x1", "x2", "x3", "note", "note", "y_hat"]
    weights = json.loads(assets.model)["weights"]
    assert json.loads(assets.model)["scaling"] is None
    for index, (x, written) in enumerate(zip(X.tolist(), rows[1:], strict=True)):
        assert [float(cell) for cell in written[:3]] == x and written[3:5] == [f"r{index}", str(index)]
        expected, bound = _yhat_and_bound(weights, x)
        assert abs(float(written[5]) - expected) <= bound


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_a_feature_column_named_twice_is_refused_alike(invoke, ws, kind):
    X, _ = linear(5, seed=9)
    if kind == "parquet":
        table = pa.table([pa.array(X[:, 0]), pa.array(X[:, 1]), pa.array(X[:, 2]), pa.array(X[:, 2])],
                         names=["x1", "x2", "x3", "x3"])
        pq.write_table(table, ws / "dup.parquet")
    else:
        (ws / "dup.csv").write_text("x1,x2,x3,x3\n1,2,3,3\n")
    before = fingerprint(ws)
    o = invoke("predict", f"dup.{kind}")
    refused(o, 1, [f"dup.{kind}", "'x3' appears more than once", "keep one"], root=ws, before=before)


def test_train_and_evaluate_read_parquet_beside_two_columns_of_one_name(invoke, ws):
    X, y = linear(40, seed=9)
    table = _notes_table(X).append_column("y", pa.array(y))
    pq.write_table(table, ws / "dup.parquet")
    succeeded(invoke("train", "dup.parquet", "--epochs", "20", "-q", "--model", "dup.json"))
    o = invoke("evaluate", "dup.parquet", "--model", "dup.json", "--format", "csv")
    succeeded(o)
    assert o.stdout.startswith("predictor,mse,rmse,mae,r2\nmodel,")


# ---------------------------------------------------------------------------------------------
# A field may be as long as its row (64 MiB), quoted or not
# ---------------------------------------------------------------------------------------------

# Not word characters: check_clean's search for warnings (\w+Warning) would take quadratic time on them.
LONG_FIELD = "-" * (200 * 1024)


@pytest.mark.parametrize("quoting", ['"{}"', "{}"], ids=["quoted", "unquoted"])
@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_200_kib_field_in_a_column_not_read_is_accepted(invoke, ws, command, quoting):
    X, y = linear(12)
    lines = csv_bytes(X, y).decode().splitlines()
    text = "\n".join([lines[0] + ",note"] + [line + "," + quoting.format(LONG_FIELD if index == 3 else "n")
                                            for index, line in enumerate(lines[1:])]) + "\n"
    (ws / "long.csv").write_text(text)
    o = invoke(command, "long.csv", *(["--epochs", "5", "--model", "long.json"] if command == "train" else []))
    succeeded(o)
    if command == "predict":  # every record passes through as it was written
        written = o.stdout.splitlines()
        assert [line.rsplit(",", 1)[0] for line in written] == text.splitlines()


def test_a_200_kib_quoted_column_name_is_accepted(invoke, ws):
    X, y = linear(12)
    lines = csv_bytes(X, y).decode().splitlines()
    (ws / "named.csv").write_text("\n".join([lines[0] + f',"{LONG_FIELD}"'] + [line + ",1" for line in lines[1:]]) + "\n")
    succeeded(invoke("train", "named.csv", "--epochs", "5", "-q", "--model", "named.json"))


@pytest.mark.slow
@pytest.mark.parametrize("quoting", ['"{}"', "{}"], ids=["quoted", "unquoted"])
def test_a_row_just_over_64_mib_is_refused_by_its_row(invoke, ws, quoting):
    # The record ends (a line end follows it), so only the length of the row is wrong.
    field = "z" * ((64 << 20) + 10)
    (ws / "huge.csv").write_text("x1,x2,x3,y,note\n1,2,3,4,a\n2,3,1,5," + quoting.format(field) + "\n3,1,2,6,b\n")
    before = fingerprint(ws)
    o = invoke("train", "huge.csv", "--epochs", "5")
    refused(o, 1, ["huge.csv, row 2", "longer than 64 MiB"], root=ws, before=before, train=True)


# ---------------------------------------------------------------------------------------------
# Every CSV header through the csv module; every JSON through one strict writer
# ---------------------------------------------------------------------------------------------

HOSTILE_NAME = 'a,"b"\nc'


def test_predict_of_parquet_quotes_a_column_name_that_holds_a_separator(invoke, ws):
    import csv

    X, _ = linear(4, seed=2)
    table = pa.table([pa.array(X[:, 0]), pa.array(X[:, 1]), pa.array(X[:, 2]), pa.array(["p", "q", "r", "s"])],
                     names=["x1", "x2", "x3", HOSTILE_NAME])
    pq.write_table(table, ws / "q.parquet")
    before = fingerprint(ws)
    o = invoke("predict", "q.parquet")
    succeeded(o)
    assert fingerprint(ws) == before
    rows = list(csv.reader(io.StringIO(o.stdout)))
    assert rows[0] == ["x1", "x2", "x3", HOSTILE_NAME, "y_hat"]
    assert [len(row) for row in rows] == [5] * 5


def test_several_targets_named_with_separators_are_quoted_by_predict_and_evaluate(invoke, ws):
    import csv

    import pandas as pd

    from fwdback import FwdbackRegressor

    X, y = linear(30, seed=4)
    targets = pd.DataFrame({HOSTILE_NAME: y, "t;2": -y})
    FwdbackRegressor(epochs=50).fit(pd.DataFrame(X, columns=["x1", "x2", "x3"]), targets).save(str(ws / "two.json"))
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"]).assign(**{HOSTILE_NAME: y, "t;2": -y})
    for sep, name in ((",", "two.csv"), (";", "two-semicolon.csv")):
        frame.to_csv(ws / name, index=False, sep=sep)
        o = invoke("predict", name, "--model", "two.json")
        succeeded(o)
        rows = list(csv.reader(io.StringIO(o.stdout), delimiter=sep))
        assert rows[0] == ["x1", "x2", "x3", HOSTILE_NAME, "t;2", f"{HOSTILE_NAME}_hat", "t;2_hat"]
        assert {len(row) for row in rows} == {7}
    o = invoke("evaluate", "two.csv", "--model", "two.json", "--format", "csv")
    succeeded(o)
    rows = list(csv.reader(io.StringIO(o.stdout)))
    assert rows[0] == ["target", "predictor", "mse", "rmse", "mae", "r2"]
    assert [row[:2] for row in rows[1:]] == [[target, key] for target in (HOSTILE_NAME, "t;2")
                                             for key in ("model", "least_squares", "mean")]


def _strict(text: str):
    import json

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_evaluate_json_writes_null_for_scores_whose_squares_overflow(invoke, ws, assets):
    import json
    import math

    # Inputs of 1e160: the model's errors are about 1e160, their squares about 1e320, beyond float64.
    X, y = linear(20, seed=6, scale=1e160)
    (ws / "over.csv").write_bytes(csv_bytes(X, y))
    weights = json.loads(assets.model)["weights"]
    errors = [target - _yhat_and_bound(weights, x)[0] for x, target in zip(X.tolist(), y.tolist())]
    assert all(math.isfinite(error) for error in errors) and math.isinf(sum(error * error for error in errors))
    before = fingerprint(ws)
    o = invoke("evaluate", "over.csv", "--format", "json")
    succeeded(o)
    assert fingerprint(ws) == before
    model = _strict(o.stdout)["scores"]["model"]
    assert model["mse"] is None and model["rmse"] is None and model["r2"] is None
    mae = sum(abs(error) for error in errors) / len(errors)
    assert math.isclose(model["mae"], mae, rel_tol=64 * np.finfo(float).eps)
    table = invoke("evaluate", "over.csv")
    succeeded(table)
    assert "inf" in table.stdout


def test_the_json_writer_turns_every_non_finite_float_into_null():
    from fwdback.outputs import json_text

    document = {"a": [1.5, float("inf"), {"b": float("nan"), "c": (-float("inf"), 2)}], "d": np.float64("nan"), "e": None}
    assert _strict(json_text(document)) == {"a": [1.5, None, {"b": None, "c": [None, 2]}], "d": None, "e": None}
    assert json_text({"x": 1.0}) == '{\n  "x": 1.0\n}\n' and json_text({"x": [1.0]}, compact=True) == '{"x":[1.0]}'


# ---------------------------------------------------------------------------------------------
# No model file fwdback writes is one it refuses: the loader reads every one back first
# ---------------------------------------------------------------------------------------------

MAX_EPOCHS = 2**62  # the most epochs a model file counts (README, "The model file")


def _with_epochs(assets, epochs: int) -> str:
    import json

    document = json.loads(assets.model)
    document["training"]["epochs"] = epochs
    return json.dumps(document)


@pytest.mark.parametrize("epochs, more, left", [(MAX_EPOCHS - 1, 3, 1), (MAX_EPOCHS, 1, 0)], ids=["one left", "none left"])
def test_resume_refuses_epochs_past_what_a_model_file_counts(invoke, ws, assets, epochs, more, left):
    (ws / "far.json").write_text(_with_epochs(assets, epochs))
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--resume", "far.json", "--epochs", str(more))
    fix = f"--epochs {left} or fewer" if left else "no epoch is left"
    refused(o, 2, ["far.json", f"{epochs:,} epochs", fix, "--init far.json"], root=ws, before=before, train=True)


def test_resume_up_to_the_last_epoch_a_model_file_counts_writes_a_file_that_loads(invoke, ws, assets):
    import json

    (ws / "far.json").write_text(_with_epochs(assets, MAX_EPOCHS - 1))
    succeeded(invoke("train", "d.csv", "--resume", "far.json", "--epochs", "1", "-q", "--model", "far.json"))
    assert json.loads((ws / "far.json").read_text())["training"]["epochs"] == MAX_EPOCHS
    succeeded(invoke("show", "far.json"))


@pytest.mark.parametrize("columns, target", [(["a", "a", "b"], "y"), (["", "b", "c"], "y"), (["a", "y", "c"], "y")],
                         ids=["a name twice", "an empty name", "the target's name"])
def test_the_estimator_never_saves_a_file_it_would_refuse(ws, assets, columns, target):
    import pandas as pd

    from fwdback import FwdbackRegressor
    from fwdback.errors import ModelFileError

    X, y = linear(20, seed=8)
    estimator = FwdbackRegressor(epochs=20).fit(pd.DataFrame(X, columns=columns), pd.Series(y, name=target))
    before = fingerprint(ws)
    for path in ("model.json", "new.json"):  # over a model that loads, and where there is none
        with pytest.raises(ModelFileError) as caught:
            estimator.save(str(ws / path))
        assert "not saved" in str(caught.value) and "distinct, non-empty column names" in str(caught.value)
    assert fingerprint(ws) == before


def test_a_model_that_would_not_load_is_not_written():
    from fwdback.errors import ModelFileError
    from fwdback.modelfile import Model, TrainingRecord, model_json
    from fwdback.network import Parameters

    weights = Parameters([0.5] * 11)
    with pytest.raises(ModelFileError, match=rf'm\.json: not saved.*"epochs" is {MAX_EPOCHS + 2}, not a whole number'):
        model_json(Model(weights, ("x1", "x2", "x3"), "y", TrainingRecord(epochs=MAX_EPOCHS + 2)), "m.json")
    with pytest.raises(ModelFileError, match=r"m\.json: not saved.*weight w1 is null"):
        model_json(Model(Parameters([float("nan")] + [0.5] * 10), ("x1", "x2", "x3"), "y"), "m.json")


# ---------------------------------------------------------------------------------------------
# The model loader checks the update rule's state; --resume appends only to its own history
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adam_model(assets):
    """A model trained with adam (its file holds t, m and s for every parameter), as a dict."""
    import json

    from click.testing import CliRunner

    from fwdback.cli import cli

    path = assets.root / "adam.json"
    result = CliRunner().invoke(cli, ["train", str(assets.root / "d.csv"), "--optimizer", "adam", "--lr", "0.01",
                                      "--epochs", "30", "-q", "--model", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text())


def _state_edits():
    def edit(change):
        def apply(document):
            change(document["training"]["optimizer_state"])
            return document
        return apply

    def replace(value):
        def apply(document):
            document["training"]["optimizer_state"] = value
            return document
        return apply

    def as_gd(document):
        document["training"]["plan"]["optimizer"] = "gd"
        for name in ("beta1", "beta2", "epsilon"):
            document["training"]["plan"].pop(name, None)
        return document

    return {
        "a negative second moment": (edit(lambda state: state["s"].update(w3=-1e-3)), "negative second moment for w3"),
        "a list": (replace([1, 2]), "not a JSON object"),
        "a parameter missing": (edit(lambda state: state["m"].pop("b2")), "does not hold adam's state"),
        "a negative t": (edit(lambda state: state.update(t=-1)), "does not hold adam's state"),
        "momentum's state": (replace({"t": 3, "v": {name: 0.0 for name in NAMES}}), "does not hold adam's state"),
        "a state for gd": (as_gd, "gd keeps no state"),
    }


NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")
STATE_EDITS = _state_edits()
STATE_USES = {"--resume": ["train", "d.csv", "--resume", "bad.json", "--epochs", "5"], "show": ["show", "bad.json"],
              "predict": ["predict", "d.csv", "--model", "bad.json"], "--init": ["train", "d.csv", "--init", "bad.json"]}


@pytest.mark.parametrize("use", list(STATE_USES))
@pytest.mark.parametrize("kind", list(STATE_EDITS))
def test_a_damaged_optimizer_state_is_refused_by_the_loader(invoke, ws, adam_model, kind, use):
    import copy
    import json

    edit, fragment = STATE_EDITS[kind]
    (ws / "bad.json").write_text(json.dumps(edit(copy.deepcopy(adam_model))))
    before = fingerprint(ws)
    o = invoke(*STATE_USES[use])
    refused(o, 1, ["bad.json", '"optimizer_state"', fragment], root=ws, before=before, train=use.startswith("--"))


def _history_runs(invoke):
    """A.json (identity) and B.json (tanh), the same header, each trained with its --history."""
    succeeded(invoke("train", "d.csv", "--epochs", "5", "-q", "--model", "A.json", "--history", "hA.csv"))
    succeeded(invoke("train", "d.csv", "--activation", "tanh", "--epochs", "5", "--tol", "0", "-q", "--model", "B.json",
                     "--history", "hB.csv"))


def test_resume_refuses_the_history_of_another_network_with_the_same_header(invoke, ws):
    _history_runs(invoke)
    assert (ws / "hA.csv").read_text().split("\n", 1)[0] == (ws / "hB.csv").read_text().split("\n", 1)[0]
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--resume", "B.json", "--epochs", "3", "--model", "B.json", "--history", "hA.csv")
    refused(o, 2, ["hA.csv", "B.json", "--history"], root=ws, before=before, train=True)


def test_resume_refuses_a_history_edited_since_or_one_the_model_does_not_record(invoke, ws):
    _history_runs(invoke)
    succeeded(invoke("train", "d.csv", "--epochs", "5", "-q", "--model", "C.json"))
    text = (ws / "hB.csv").read_text()
    (ws / "hB.csv").write_text(text[:-2] + ("1" if text[-2] != "1" else "2") + "\n")
    before = fingerprint(ws)
    for model, history in (("B.json", "hB.csv"), ("C.json", "hA.csv")):
        o = invoke("train", "d.csv", "--resume", model, "--epochs", "3", "--model", model, "--history", history)
        refused(o, 2, [history, model, "--history"], root=ws, before=before, train=True)


def test_resume_appends_to_its_own_history_run_after_run(invoke, ws):
    import csv

    _history_runs(invoke)
    for _ in range(2):
        succeeded(invoke("train", "d.csv", "--resume", "B.json", "--epochs", "3", "-q", "--model", "B.json",
                         "--history", "hB.csv"))
    rows = list(csv.reader(io.StringIO((ws / "hB.csv").read_text())))
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 12))


# ---------------------------------------------------------------------------------------------
# Output options: none is stdout, a directory gets a name of its kind, --output-dir leaves nothing
# ---------------------------------------------------------------------------------------------

OUTPUT_OPTIONS = {
    "--history": (["train", "d.csv", "--epochs", "3"], ".csv"),
    "--report": (["train", "d.csv", "--epochs", "3"], ".html"),
    "--plot": (["train", "d.csv", "--epochs", "3"], ".svg"),
    "--model": (["train", "d.csv", "--epochs", "3"], ".json"),
    "--output-dir": (["predict", "d.csv"], None),
}


@pytest.mark.parametrize("path", ["-", "/dev/stdout"])
@pytest.mark.parametrize("option", [option for option in OUTPUT_OPTIONS if option != "--model"])
def test_no_output_option_writes_a_file_named_after_stdout(invoke, ws, option, path):
    # --model - alone is stdout by design: the model goes there (README, "Usage").
    command, _ = OUTPUT_OPTIONS[option]
    before = fingerprint(ws)
    o = invoke(*command, option, path)
    refused(o, 2, [f"{option} {path} is stdout"], root=ws, before=before, train=command[0] == "train")


@pytest.mark.parametrize("option", [option for option in OUTPUT_OPTIONS if option != "--output-dir"])
def test_an_output_aimed_at_a_directory_is_given_a_name_of_its_kind(invoke, ws, option):
    command, suffix = OUTPUT_OPTIONS[option]
    (ws / "dir").mkdir()
    before = fingerprint(ws)
    o = invoke(*command, option, "dir")
    line = refused(o, 1, ["dir: is a directory", f"give {option} a file name in it, e.g. "], root=ws, before=before,
                   train=True)
    assert line.rstrip(".").endswith(suffix), line


@pytest.mark.parametrize("failure", ["a bad row in the second part", "no model"])
def test_a_failing_predict_leaves_no_directory_of_output_dir(invoke, ws, failure):
    (ws / "parts").mkdir()
    (ws / "parts" / "a.csv").write_bytes((ws / "d.csv").read_bytes())
    (ws / "parts" / "b.csv").write_text("x1,x2,x3,y\n1,2,3,4\n1,x,3,4\n")
    if failure == "no model":
        (ws / "parts" / "b.csv").write_bytes((ws / "d.csv").read_bytes())
        (ws / "model.json").unlink()
    before = fingerprint(ws)
    o = invoke("predict", "parts", "--output-dir", "nest/b/c")
    refused(o, 1, ["parts/b.csv, row 2" if failure != "no model" else "model.json"], root=ws, before=before)


def test_a_predict_that_succeeds_makes_every_directory_of_output_dir(invoke, ws):
    (ws / "nest").mkdir()
    succeeded(invoke("predict", "d.csv", "--output-dir", "nest/b/c"))
    assert sorted(path.name for path in (ws / "nest" / "b" / "c").iterdir()) == ["d.csv"]


# ---------------------------------------------------------------------------------------------
# stdin used twice: one rule, in every command
# ---------------------------------------------------------------------------------------------

STDIN_TWICE = {
    "train --resume": (["train", "-", "--resume", "-", "--epochs", "3"], "--resume"),
    "train --init": (["train", "-", "--init", "-", "--epochs", "3"], "--init"),
    "explain --init": (["explain", "-", "--init", "-"], "--init"),
    "gradcheck --init": (["gradcheck", "-", "--init", "-"], "--init"),
    "predict --model": (["predict", "-", "--model", "-"], "--model"),
    "evaluate --model": (["evaluate", "--model", "-"], "--model"),
}


@pytest.mark.parametrize("use", list(STDIN_TWICE))
def test_stdin_named_twice_is_one_usage_error_in_every_command(invoke, ws, assets, use):
    args, option = STDIN_TWICE[use]
    before = fingerprint(ws)
    o = invoke(*args, input=assets.model)
    refused(o, 2, [f"DATA and {option} cannot both come from stdin", "give one of them as a file"], absent=["empty", "swap"],
            root=ws, before=before, train=use.startswith("train"))


@pytest.mark.parametrize("script, option", [
    ("cat model.json | fwdback train /dev/stdin --resume - --epochs 3", "--resume"),
    ("cat d.csv | fwdback predict - --model /dev/stdin", "--model"),
], ids=["/dev/stdin as DATA", "/dev/stdin as --model"])
def test_dev_stdin_on_a_pipe_is_stdin_too(ws, script, option):
    from hostile import shell

    before = fingerprint(ws)
    o = shell(script, ws)
    refused(o, 2, [f"DATA and {option} cannot both come from stdin"], root=ws, before=before)


def test_dev_stdin_of_a_redirected_file_is_read_from_its_start(ws):
    # `< model.json` makes stdin a regular file, which /dev/stdin opens afresh from its start:
    # one input reads stdin, and predict runs.
    from hostile import shell

    o = shell("fwdback predict d.csv --model /dev/stdin < model.json", ws)
    succeeded(o)
    assert o.stdout.splitlines()[0] == "x1,x2,x3,y,y_hat"


def test_every_data_error_a_worker_raises_reaches_the_client_whole():
    # A Dask worker's exception is pickled to the client: each must come back with its message.
    from fwdback import errors

    raised = [errors.MissingColumn("p.parquet", "x9", "'x9'", "columns are 'x1'", ("x9",), "y", None),
              errors.UnreadableData("p.parquet", "ZSTD decompression failed", "row group 1 of 1 (rows 1 to 5)"),
              errors.DataError("p.csv, row 3, column x1: 'a' is not a number"), errors.DataTooLarge("p.csv", 5, 3)]
    for error in raised:
        received = pickle.loads(pickle.dumps(error))
        assert type(received) is type(error) and str(received) == str(error)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_scrambled_parquet_part_read_on_a_dask_worker_is_named(invoke, ws, damaged, command):
    distributed = pytest.importorskip("distributed")
    local = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None, silence_logs=50)
    try:
        damaged("zstd pages")
        before = fingerprint(ws)
        o = invoke(command, "parts", *(["--epochs", "3"] if command == "train" else []), f"--dask={local.scheduler_address}")
        refused(o, 1, ["parts/b.parquet", "row group 3 of 4 (rows 1,001 to 1,500)", "cannot be read"], root=ws,
                before=before, train=command == "train")
    finally:
        local.close()
