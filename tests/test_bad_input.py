"""Every kind of bad input ends in one `Error: ...` line that names the file, row and column,
with exit code 1 (2 for usage errors), no traceback, and an existing model.json untouched.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile

import numpy as np
import pytest

GOOD = b"x1,x2,x3,y\n1,2,3,4\n2,3,4,5\n"
WEIGHTS = {"w1": 0.5, "w2": -0.25, "w3": 0.125, "w4": 1.0, "w5": -1.0, "w6": 0.0, "w7": 2.0, "w8": -0.5, "b1": 0.1, "b2": 0.2, "b3": 0.3}
MODEL = {"format": "fwdback-model", "version": 1, "features": ["x1", "x2", "x3"], "target": "y", "weights": WEIGHTS, "training": {}}


def rows_with(bad_row: int, column: str, cell: str) -> bytes:
    """x1,x2,x3,y with four good data rows and `cell` in data row `bad_row` (1-based), `column`."""
    header = ["x1", "x2", "x3", "y"]
    lines = [",".join(header)]
    for row in range(1, 5):
        cells = [str(row + k) for k in range(4)]
        if row == bad_row:
            cells[header.index(column)] = cell
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def truncated_gzip() -> bytes:
    """A gzip CSV cut in half, larger than any sniffing buffer once decompressed."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(20_000, 4))
    text = "x1,x2,x3,y\n" + "".join(f"{a!r},{b!r},{c!r},{d!r}\n" for a, b, c, d in X.tolist())
    data = gzip.compress(text.encode(), compresslevel=1)
    return data[: len(data) // 2]


def model_with(**changes) -> bytes:
    document = json.loads(json.dumps(MODEL))
    for key, value in changes.items():
        if key in WEIGHTS:
            document["weights"][key] = value
        else:
            document[key] = value
    return json.dumps(document).encode()


# (id, files to write, data file argument, fragments the message must contain)
# Each runs for both train and predict: the same file problems, the same message.
DATA_CASES = [
    ("missing file", {}, "nope.csv", ["nope.csv"]),
    ("empty file", {"empty.csv": b""}, "empty.csv", ["empty.csv"]),
    ("blank lines only", {"blank.csv": b"\n \n\r\n"}, "blank.csv", ["blank.csv"]),
    ("only a BOM", {"bom.csv": b"\xef\xbb\xbf"}, "bom.csv", ["bom.csv"]),
    ("header only", {"head.csv": b"x1,x2,x3,y\n"}, "head.csv", ["head.csv"]),
    ("header only, no newline", {"head.csv": b"x1,x2,x3,y"}, "head.csv", ["head.csv"]),
    ("numbers for a header", {"nohead.csv": b"1,2,3,4\n5,6,7,8\n"}, "nohead.csv", ["nohead.csv"]),
    ("missing column", {"cols.csv": b"x1,x2,y\n1,2,3\n"}, "cols.csv", ["cols.csv", "x3"]),
    ("duplicate column", {"dup.csv": b"x1,x2,x2,x3,y\n1,2,2,3,4\n"}, "dup.csv", ["dup.csv", "x2"]),
    ("text in a cell", {"text.csv": rows_with(3, "x2", "abc")}, "text.csv", ["text.csv", "row 3", "x2", "abc"]),
    ("empty cell", {"hole.csv": rows_with(3, "x3", "")}, "hole.csv", ["hole.csv", "row 3", "x3"]),
    ("spaces in a cell", {"hole.csv": rows_with(2, "x1", "  ")}, "hole.csv", ["hole.csv", "row 2", "x1"]),
    ("nan", {"nan.csv": rows_with(4, "x1", "nan")}, "nan.csv", ["nan.csv", "row 4", "x1"]),
    ("NaN", {"nan.csv": rows_with(2, "x2", "NaN")}, "nan.csv", ["nan.csv", "row 2", "x2"]),
    ("inf", {"inf.csv": rows_with(3, "x2", "inf")}, "inf.csv", ["inf.csv", "row 3", "x2"]),
    ("-inf", {"inf.csv": rows_with(1, "x3", "-inf")}, "inf.csv", ["inf.csv", "row 1", "x3"]),
    ("overflow", {"huge.csv": rows_with(3, "x1", "1e400")}, "huge.csv", ["huge.csv", "row 3", "x1"]),
    ("integer beyond float64", {"huge.csv": rows_with(2, "x3", "9" * 320)}, "huge.csv", ["huge.csv", "row 2", "x3"]),
    ("comma decimal", {"de.csv": b'x1,x2,x3,y\n1,2,3,4\n"1,5",2,3,4\n'}, "de.csv", ["de.csv", "row 2", "x1", "decimal", "1.5"]),
    # Python's float() reads these; a CSV number is ASCII digits.
    ("digits grouped by _", {"u.csv": rows_with(2, "x1", "1_000")}, "u.csv", ["u.csv, row 2, column x1: '1_000' is not a number"]),
    ("Arabic-Indic digits", {"a.csv": rows_with(3, "x2", "١٢")}, "a.csv", ["a.csv, row 3, column x2: '١٢' is not a number"]),
    ("full-width digits", {"f.csv": rows_with(1, "x3", "１２")}, "f.csv", ["f.csv, row 1, column x3: '１２' is not a number"]),
    ("too many fields", {"ragged.csv": b"x1,x2,x3,y\n1,2,3,4\n1,2,3,4,5\n3,4,5,6\n"}, "ragged.csv", ["ragged.csv", "row 2"]),
    ("too few fields", {"short.csv": b"x1,x2,x3,y\n1,2,3,4\n5,6,7,8\n1,2\n"}, "short.csv", ["short.csv", "row 3", "x3"]),
    ("binary file", {"blob.bin": bytes(range(256)) * 8}, "blob.bin", ["blob.bin"]),
    ("not UTF-8", {"latin1.csv": "x1,x2,x3,y,name\n1,2,3,4,café\n".encode("latin-1")}, "latin1.csv", ["latin1.csv"]),
    ("a lone bad byte", {"byte.csv": b"\xa7"}, "byte.csv", ["byte.csv"]),
    ("a directory", {"folder/keep": b""}, "folder", ["folder"]),
    ("truncated gzip", {"cut.csv.gz": truncated_gzip()}, "cut.csv.gz", ["cut.csv.gz"]),
    ("gzip of nothing", {"none.csv.gz": gzip.compress(b"")}, "none.csv.gz", ["none.csv.gz"]),
]

# Problems only training has: the target column, --features/--target, --init, --model.
TRAIN_CASES = [
    ("nan in target", {"t.csv": rows_with(2, "y", "nan")}, ["t.csv", "--epochs", "3"], ["t.csv", "row 2", "column y"]),
    ("text in target", {"t.csv": rows_with(4, "y", "n/a")}, ["t.csv", "--epochs", "3"], ["t.csv", "row 4", "column y"]),
    ("no target column", {"t.csv": b"x1,x2,x3,z\n1,2,3,4\n"}, ["t.csv"], ["t.csv", "'y'"]),
    ("--features not in file", {"d.csv": GOOD}, ["d.csv", "--features", "a,b,c"], ["d.csv", "'a'"]),
    ("--target not in file", {"d.csv": GOOD}, ["d.csv", "--target", "price"], ["d.csv", "price"]),
    ("--init missing file", {"d.csv": GOOD}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init missing weight", {"d.csv": GOOD, "start.json": json.dumps({k: v for k, v in WEIGHTS.items() if k != "w4"}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w4"]),
    ("--init extra weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w9": 1.0}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w9"]),
    ("--init extra weight nested", {"d.csv": GOOD, "start.json": json.dumps({"weights": WEIGHTS | {"b4": 1.0}}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "b4"]),
    ("--init text weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w3": "abc"}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w3"]),
    ("--init numeric string", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w6": "0.5"}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w6"]),
    ("--init boolean weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w1": True}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w1"]),
    ("--init null weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"b2": None}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "b2"]),
    ("--init list weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w7": [1, 2]}).encode()}, ["d.csv", "--init", "start.json"], ["start.json", "w7"]),
    ("--init NaN weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS | {"w8": float("nan")}).encode()}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init huge weight", {"d.csv": GOOD, "start.json": json.dumps(WEIGHTS).replace("0.125", "1e999").encode()}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init a JSON list", {"d.csv": GOOD, "start.json": b"[1, 2, 3]"}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init not JSON", {"d.csv": GOOD, "start.json": b"w1 = 0.5\n"}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init binary", {"d.csv": GOOD, "start.json": bytes(range(256))}, ["d.csv", "--init", "start.json"], ["start.json"]),
    ("--init is the data", {"d.csv": GOOD}, ["d.csv", "--init", "d.csv"], ["d.csv"]),
    ("--init is a directory", {"d.csv": GOOD, "out/keep": b""}, ["d.csv", "--init", "out"], ["out", "directory"]),
    ("--model is a directory", {"d.csv": GOOD, "out/keep": b""}, ["d.csv", "--model", "out"], ["out", "directory"]),
]

# Problems only prediction has: the model file.
PREDICT_CASES = [
    ("model missing", {"d.csv": GOOD}, ["d.csv", "--model", "other.json"], ["other.json"]),
    ("model is a CSV", {"d.csv": GOOD}, ["d.csv", "--model", "d.csv"], ["d.csv"]),
    ("model is a directory", {"d.csv": GOOD, "out/keep": b""}, ["d.csv", "--model", "out"], ["out", "directory"]),
    ("model is not fwdback's", {"d.csv": GOOD, "m.json": b'{"weights": {}, "name": "resnet"}'}, ["d.csv", "--model", "m.json"], ["m.json", "fwdback"]),
    ("model is a bare init", {"d.csv": GOOD, "m.json": json.dumps(WEIGHTS).encode()}, ["d.csv", "--model", "m.json"], ["m.json"]),
    ("model is a list", {"d.csv": GOOD, "m.json": b"[]"}, ["d.csv", "--model", "m.json"], ["m.json"]),
    ("model is empty", {"d.csv": GOOD, "m.json": b""}, ["d.csv", "--model", "m.json"], ["m.json"]),
    ("model from the future", {"d.csv": GOOD, "m.json": model_with(version=99)}, ["d.csv", "--model", "m.json"], ["m.json", "99"]),
    ("model without version", {"d.csv": GOOD, "m.json": model_with(version=None)}, ["d.csv", "--model", "m.json"], ["m.json"]),
    ("model missing a weight", {"d.csv": GOOD, "m.json": json.dumps(MODEL | {"weights": {k: v for k, v in WEIGHTS.items() if k != "w5"}}).encode()}, ["d.csv", "--model", "m.json"], ["m.json", "w5"]),
    ("model with a text weight", {"d.csv": GOOD, "m.json": model_with(w2="x")}, ["d.csv", "--model", "m.json"], ["m.json", "w2"]),
    ("model with 2 features", {"d.csv": GOOD, "m.json": model_with(features=["x1", "x2"])}, ["d.csv", "--model", "m.json"], ["m.json", "features"]),
    ("data has no y_hat room", {"d.csv": b"x1,x2,x3,y_hat\n1,2,3,4\n"}, ["d.csv"], ["d.csv", "y_hat"]),
]


@pytest.fixture
def existing_model(workdir):
    """A valid model.json already in the directory; returns its bytes."""
    data = (json.dumps(MODEL, indent=2) + "\n").encode()
    (workdir / "model.json").write_bytes(data)
    return data


def write_files(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def assert_one_error_line(result, exit_code, fragments, no_crash):
    no_crash(result)
    assert result.exit_code == exit_code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), f"want one line on stderr, got {result.stderr!r}"
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.stdout == ""


def assert_untouched(workdir, before):
    assert (workdir / "model.json").read_bytes() == before
    assert not [p.name for p in workdir.iterdir() if p.name.startswith(".fwdback-") or p.name.endswith(".tmp")]


@pytest.mark.parametrize("case_id,files,data,fragments", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_train_rejects_bad_data(run, workdir, existing_model, no_crash, case_id, files, data, fragments):
    write_files(workdir, files)
    result = run(["train", data, "--epochs", "3"])
    assert_one_error_line(result, 1, fragments, no_crash)
    assert_untouched(workdir, existing_model)


@pytest.mark.parametrize("case_id,files,data,fragments", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_predict_rejects_bad_data(run, workdir, existing_model, no_crash, case_id, files, data, fragments):
    write_files(workdir, files)
    result = run(["predict", data])
    assert_one_error_line(result, 1, fragments, no_crash)
    assert_untouched(workdir, existing_model)


STDIN_CASES = [c for c in DATA_CASES if c[0] in {"empty file", "header only", "missing column", "text in a cell", "nan", "binary file"}]


@pytest.mark.parametrize("case_id,files,data,fragments", STDIN_CASES, ids=[c[0] for c in STDIN_CASES])
def test_bad_data_on_stdin_is_named_stdin(run, workdir, existing_model, no_crash, case_id, files, data, fragments):
    write_files(workdir, files)
    content = (workdir / data).read_bytes()
    expected = ["<stdin>" if fragment == data else fragment for fragment in fragments]
    for command in ("train", "predict"):
        result = run([command, "-"], input=content)
        assert_one_error_line(result, 1, expected, no_crash)
    assert_untouched(workdir, existing_model)


@pytest.mark.parametrize("case_id,files,args,fragments", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_train_rejects_bad_options_and_init(run, workdir, existing_model, no_crash, case_id, files, args, fragments):
    write_files(workdir, files)
    result = run(["train", *args])
    assert_one_error_line(result, 1, fragments, no_crash)
    assert_untouched(workdir, existing_model)


@pytest.mark.parametrize("case_id,files,args,fragments", PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES])
def test_predict_rejects_bad_models(run, workdir, existing_model, no_crash, case_id, files, args, fragments):
    write_files(workdir, files)
    result = run(["predict", *args])
    assert_one_error_line(result, 1, fragments, no_crash)
    assert_untouched(workdir, existing_model)


def test_a_model_that_is_not_fwdback_is_also_refused_as_default(run, workdir, no_crash):
    """The default --model path holding some other JSON: refuse it, and leave it."""
    (workdir / "d.csv").write_bytes(GOOD)
    other = b'{"layers": [64, 64], "format": "keras"}\n'
    (workdir / "model.json").write_bytes(other)
    result = run(["predict", "d.csv"])
    assert_one_error_line(result, 1, ["model.json"], no_crash)
    assert (workdir / "model.json").read_bytes() == other


USAGE_CASES = [
    (["train", "d.csv", "--epochs", "0"], "--epochs"),
    (["train", "d.csv", "--epochs", "-3"], "--epochs"),
    (["train", "d.csv", "--epochs", "ten"], "--epochs"),
    (["train", "d.csv", "--lr", "-1"], "--lr"),
    (["train", "d.csv", "--lr", "0"], "--lr"),
    (["train", "d.csv", "--lr", "nan"], "--lr"),
    (["train", "d.csv", "--lr", "inf"], "--lr"),
    (["train", "d.csv", "--lr", "fast"], "--lr"),
    (["train", "d.csv", "--seed", "1.5"], "--seed"),
    (["train", "d.csv", "--every", "0"], "--every"),
    (["train", "d.csv", "--format", "xml"], "--format"),
    (["train", "d.csv", "--features", "x1,,x2"], "--features"),
    (["train", "d.csv", "--features", "x1,,x3"], "--features"),
    # Columns that contradict each other whatever the data holds.
    (["train", "d.csv", "--target", "x1"], "--target"),
    (["train", "d.csv", "--features", "x1,x1,x2"], "--features"),
    (["train", "d.csv", "--features", "y"], "--features"),
    (["train", "d.csv", "--target", ""], "--target"),
    (["train", "d.csv", "--target", " "], "--target"),
    (["explain", "d.csv", "--target", "x2"], "--target"),
    (["gradcheck", "d.csv", "--features", "x3,x3"], "--features"),
    # An empty path names no file, whichever command and option.
    (["train", "", "--epochs", "2"], "DATA"),
    (["train", "d.csv", "--init", ""], "--init"),
    (["train", "d.csv", "--resume", ""], "--resume"),
    (["train", "d.csv", "--history", ""], "--history"),
    (["train", "d.csv", "--model", ""], "--model"),
    (["predict", ""], "DATA"),
    (["predict", "d.csv", "--model", ""], "--model"),
    (["evaluate", ""], "DATA"),
    (["evaluate", "d.csv", "--model", ""], "--model"),
    (["explain", ""], "DATA"),
    (["explain", "d.csv", "--init", ""], "--init"),
    (["gradcheck", ""], "DATA"),
    (["gradcheck", "d.csv", "--init", ""], "--init"),
    (["show", ""], "MODEL"),
    (["train", "d.csv", "--no-such-option"], "--no-such-option"),
    (["generate", "--rows", "0"], "--rows"),
    (["generate", "--noise", "-1"], "--noise"),
    (["generate", "--coef", "1,2"], "--coef"),
    (["generate", "--coef", "1,2,x,4"], "--coef"),
    (["generate", "--coef", "1,2,nan,4"], "--coef"),
]


@pytest.mark.parametrize("args,option", USAGE_CASES, ids=[" ".join(c[0]) for c in USAGE_CASES])
def test_usage_errors_exit_2(run, workdir, existing_model, no_crash, args, option):
    (workdir / "d.csv").write_bytes(GOOD)
    (workdir / "out").mkdir()
    result = run(args)
    no_crash(result)
    assert result.exit_code == 2, result.stderr
    assert "Error:" in result.stderr and option in result.stderr
    assert result.stdout == ""
    assert_untouched(workdir, existing_model)


def test_unwritable_directory_fails_before_training(run, workdir, no_crash, monkeypatch):
    # CI runs as root, which may write into a mode-0500 directory, so the refusal is simulated
    # where the check meets the file system: creating a file in that directory.
    (workdir / "d.csv").write_bytes(GOOD)
    (workdir / "locked").mkdir()
    real_mkstemp = tempfile.mkstemp

    def refuse_locked(*args, dir=None, **kwargs):
        if dir is not None and os.path.basename(dir) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    started = []
    monkeypatch.setattr(tempfile, "mkstemp", refuse_locked)
    monkeypatch.setattr("fwdback.training.train", lambda *a, **k: started.append(1))
    result = run(["train", "d.csv", "--model", "locked/m.json"])
    assert_one_error_line(result, 1, ["locked", "permission denied"], no_crash)
    assert started == []
    assert os.listdir(workdir / "locked") == []
