"""CSV -> arrays: the shapes of good files it accepts, and DataError (never anything else) for the rest."""

from __future__ import annotations

import gzip
import io
import json
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import oracle
from hostile import (  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
    assets,
    csv_bytes,
    csv_lines,
    fingerprint,
    invoke,
    linear,
    lines_bytes,
    refused,
    row,
    saved_model,
    shell,
    succeeded,
    ws,
)
from fwdback import reader
from fwdback.data import Dataset, iter_prediction_chunks, load_dataset
from fwdback.errors import DataError, MissingColumn
from fwdback.sources import PARQUET_BATCH_ROWS

X = np.array([[0.5, -1.25, 3.0], [1e-3, 2.0, -0.0], [7.0, 0.1, 0.2]])
Y = np.array([1.0, -2.5, 1e10])
PLAIN = "x1,x2,x3,y\n0.5,-1.25,3,1\n1e-3,2,-0.0,-2.5\n7,0.1,0.2,1e10\n"


def write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def assert_data(dataset: Dataset, X_expected=X, y_expected=Y):
    assert dataset.X.dtype == np.float64 and dataset.y.dtype == np.float64
    assert dataset.X.shape == X_expected.shape and dataset.y.shape == y_expected.shape
    np.testing.assert_array_equal(dataset.X, X_expected)
    np.testing.assert_array_equal(dataset.y, y_expected)


# --- good files ----------------------------------------------------------------------------


def test_plain_csv(tmp_path):
    path = write(tmp_path, "d.csv", PLAIN)
    dataset = load_dataset(path)
    assert_data(dataset)
    assert dataset.features == ("x1", "x2", "x3") and dataset.target == "y" and dataset.sep == ","
    assert np.signbit(dataset.X[1, 2]), "-0.0 keeps its sign"


def test_floats_read_back_exactly(tmp_path):
    values = np.random.default_rng(3).normal(size=(50, 4)) * 10.0 ** np.random.default_rng(4).integers(-300, 300, size=(50, 4))
    text = "x1,x2,x3,y\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in values.tolist())
    dataset = load_dataset(write(tmp_path, "d.csv", text))
    np.testing.assert_array_equal(dataset.X, values[:, :3])
    np.testing.assert_array_equal(dataset.y, values[:, 3])


def test_column_order_and_extra_columns(tmp_path):
    text = "id,y,note,x3,x1,x2\n001,1,a b,3,0.5,-1.25\n002,-2.5,,-0.0,1e-3,2\n003,1e10,\"c, d\",0.2,7,0.1\n"
    assert_data(load_dataset(write(tmp_path, "d.csv", text)))


def test_named_features_and_target(tmp_path):
    text = "price,a,b,c\n1,0.5,-1.25,3\n-2.5,1e-3,2,-0.0\n1e10,7,0.1,0.2\n"
    dataset = load_dataset(write(tmp_path, "d.csv", text), features=("a", "b", "c"), target="price")
    assert_data(dataset)
    assert dataset.features == ("a", "b", "c") and dataset.target == "price"


def test_feature_order_follows_the_argument(tmp_path):
    dataset = load_dataset(write(tmp_path, "d.csv", PLAIN), features=("x3", "x1", "x2"))
    np.testing.assert_array_equal(dataset.X, X[:, [2, 0, 1]])


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="CRLF"),
        pytest.param(lambda t: t.replace("\n", "\r"), id="CR"),
        pytest.param(lambda t: "\ufeff" + t, id="BOM"),
        pytest.param(lambda t: "\ufeff" + t.replace("\n", "\r\n"), id="BOM+CRLF"),
        pytest.param(lambda t: t.rstrip("\n"), id="no final newline"),
        pytest.param(lambda t: t + "\n\n", id="blank lines at the end"),
        pytest.param(lambda t: t.replace(",", ", "), id="space after commas"),
        pytest.param(lambda t: t.replace(",", ";"), id="semicolons"),
        pytest.param(lambda t: t.replace(",", "\t"), id="tabs"),
        pytest.param(lambda t: t.replace(",", "|"), id="pipes"),
    ],
)
def test_dialects(tmp_path, variant):
    dataset = load_dataset(write(tmp_path, "d.csv", variant(PLAIN)))
    assert_data(dataset)


def test_semicolon_header_is_detected(tmp_path):
    dataset = load_dataset(write(tmp_path, "d.csv", PLAIN.replace(",", ";")))
    assert dataset.sep == ";"


def test_semicolon_file_with_decimal_points_and_commas_in_text(tmp_path):
    text = "x1;x2;x3;y;note\n0.5;-1.25;3;1;a, b\n1e-3;2;-0.0;-2.5;c\n7;0.1;0.2;1e10;d\n"
    dataset = load_dataset(write(tmp_path, "d.csv", text))
    assert dataset.sep == ";"
    assert_data(dataset)


def test_explicit_separator(tmp_path):
    dataset = load_dataset(write(tmp_path, "d.csv", PLAIN.replace(",", ";")), sep=";")
    assert_data(dataset)


@pytest.mark.parametrize("name", ["d.csv.gz", "d.csv"])
def test_gzip_is_recognised_by_content(tmp_path, name):
    assert_data(load_dataset(write(tmp_path, name, gzip.compress(PLAIN.encode()))))


def test_gzip_with_bom_and_crlf(tmp_path):
    data = gzip.compress(("\ufeff" + PLAIN.replace("\n", "\r\n")).encode())
    assert_data(load_dataset(write(tmp_path, "d.csv.gz", data)))


def test_a_header_longer_than_the_sniffing_buffer(tmp_path):
    names = [f"extra_column_{i}" for i in range(8000)]
    header = ",".join([*names, "x1", "x2", "x3", "y"])
    rows = [",".join(["0"] * len(names) + [f"{a!r}" for a in [*row, t]]) for row, t in zip(X.tolist(), Y.tolist())]
    assert_data(load_dataset(write(tmp_path, "wide.csv", header + "\n" + "\n".join(rows) + "\n")))


def test_multibyte_characters_at_the_sniffing_boundary(tmp_path):
    filler = "é" * 40_000  # 80,000 bytes: the sniffed 64 KiB ends inside the text column
    text = "x1,x2,x3,y,note\n" + f"0.5,-1.25,3,1,{filler}\n1e-3,2,-0.0,-2.5,a\n7,0.1,0.2,1e10,b\n"
    assert_data(load_dataset(write(tmp_path, "d.csv", text)))


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PLAIN.encode())))
    dataset = load_dataset("-")
    assert_data(dataset)
    assert dataset.source == "<stdin>"


def test_gzip_on_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(PLAIN.encode()))))
    assert_data(load_dataset("-"))


# --- errors name the row across blocks ------------------------------------------------------


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of about 24 bytes, so that a few rows span several blocks."""
    monkeypatch.setattr(reader, "BLOCK_BYTES", 24)


def test_chunks_keep_text_and_count_rows_across_chunks(tmp_path, small_blocks):
    lines = ["id,x1,x2,x3"] + [f"{i:03d},{i},{i}.50,-{i}" for i in range(1, 8)]
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    chunks = list(iter_prediction_chunks(path, ("x1", "x2", "x3")))
    assert len(chunks) > 2
    assert [text.decode() for chunk in chunks for text in chunk.texts] == lines[1:]
    assert [chunk.rows_before for chunk in chunks] == list(np.cumsum([0] + [len(chunk.texts) for chunk in chunks[:-1]]))
    assert chunks[0].header == lines[0].encode()
    X_all = np.vstack([chunk.X for chunk in chunks])
    np.testing.assert_array_equal(X_all, [[i, i + 0.5, -i] for i in range(1, 8)])


@pytest.mark.parametrize("bad_row", [1, 3, 4, 7])
def test_chunked_errors_give_the_data_row(tmp_path, small_blocks, bad_row):
    lines = ["x1,x2,x3"] + [f"{i},{'oops' if i == bad_row else i},{i}" for i in range(1, 8)]
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"row {bad_row}, column x2"):
        list(iter_prediction_chunks(path, ("x1", "x2", "x3")))


def test_load_dataset_gives_the_data_row(tmp_path):
    lines = ["x1,x2,x3,y"] + [f"{i},{i},{'' if i == 150 else i},{i}" for i in range(1, 201)]
    with pytest.raises(DataError, match=r"row 150, column x3"):
        load_dataset(write(tmp_path, "d.csv", "\n".join(lines) + "\n"))


# --- anything else: a Dataset or a DataError -----------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load_or_data_error(path: str):
    """load_dataset and a full pass of iter_prediction_chunks: each returns or raises DataError."""
    try:
        dataset = load_dataset(path)
    except DataError as error:
        assert str(error).strip() and "\n" not in str(error).strip()
    else:
        assert isinstance(dataset, Dataset)
        assert dataset.X.shape == (len(dataset.y), 3) and len(dataset.y) >= 1
        assert np.isfinite(dataset.X).all() and np.isfinite(dataset.y).all()
    try:
        for chunk in iter_prediction_chunks(path, ("x1", "x2", "x3")):
            assert chunk.X.shape == (len(chunk.texts), 3) and np.isfinite(chunk.X).all()
    except DataError:
        pass


@SETTINGS
@given(data=st.binary(max_size=300))
@example(data=b"\xef\xbb\xbf")  # only a BOM
@example(data=b"\x80")  # one byte that is not UTF-8
@example(data=b"\x1f\x8b")  # gzip magic and nothing else
def test_random_bytes(tmp_path, data):
    load_or_data_error(write(tmp_path, "fuzz.csv", data))


@SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_after_a_good_header(tmp_path, data):
    load_or_data_error(write(tmp_path, "fuzz.csv", b"x1,x2,x3,y\n" + data))


CELLS = st.one_of(
    st.floats().map(repr),
    st.integers(-(10**330), 10**330).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "NA", "null", "abc", '"1"', '"1,5"', '"', "1,5", "0x10", "1_000", "١٢", "é", "\x00", "1e", "--1", "True"]),
    st.text(alphabet="0123456789.eE+- ,;\t\"'\r\nabcxy", max_size=8),
)
HEADERS = st.lists(st.sampled_from(["x1", "x2", "x3", "y", "id", "x1", " x2", "", "Y", '"x3"', "x1;x2"]), min_size=1, max_size=7)


@st.composite
def csv_like(draw):
    header = draw(st.one_of(st.just(["x1", "x2", "x3", "y"]), st.permutations(["x1", "x2", "x3", "y", "id"]), HEADERS))
    sep = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(len(header) - 1, 0), max_size=len(header) + 1), max_size=6))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join([sep.join(header)] + [sep.join(row) for row in rows]) + draw(st.sampled_from(["", eol]))
    if draw(st.booleans()) and draw(st.booleans()):
        text = "\ufeff" + text
    data = text.encode("utf-8", "surrogatepass")
    return gzip.compress(data) if draw(st.integers(0, 9)) == 0 else data


@settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking these takes too long
@given(data=csv_like())
@example(data=b"x1,x2,x3,y\n0,0," + b"9" * 320 + b",1\n")  # an integer beyond float64
@example(data=b"\xef\xbb\xbfx1,x2,x3,y\r\n1,2,3,4,5\r\n")
def test_random_csv_like_text(tmp_path, data):
    load_or_data_error(write(tmp_path, "fuzz.csv", data))


@SETTINGS
@given(data=st.text(alphabet="x123y,;\t\n\r\" .-+eE0123456789naifNA\ufeff\x00", max_size=80))
def test_random_text_from_csv_characters(tmp_path, data):
    load_or_data_error(write(tmp_path, "fuzz.csv", data.encode("utf-8")))


def test_a_ragged_row_in_a_later_prediction_chunk_gives_its_data_row(tmp_path, small_blocks):
    lines = ["x1,x2,x3"] + [f"{i},{i},{i}" + (",9" if i == 8 else "") for i in range(1, 11)]
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"row 8: has 4 fields where the header has 3"):
        list(iter_prediction_chunks(path, ("x1", "x2", "x3")))


def test_prediction_records_may_hold_quoted_newlines_and_keep_their_quoting(tmp_path, small_blocks):
    lines = ['note,x1,x2,x3', '"two\nlines",1,2,3', '"a, b",4,5,6', 'plain,7,8,9']
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    chunks = list(iter_prediction_chunks(path, ("x1", "x2", "x3")))
    assert [text.decode() for chunk in chunks for text in chunk.texts] == lines[1:]
    np.testing.assert_array_equal(np.vstack([chunk.X for chunk in chunks]), [[1, 2, 3], [4, 5, 6], [7, 8, 9]])


@pytest.mark.parametrize("later", ["alike", "shorter"], ids=["rows as the first block foresees", "more rows than foreseen"])
def test_a_file_read_in_blocks_is_gathered_into_one_contiguous_block(tmp_path, monkeypatch, later):
    # The block is allocated from the first block's bytes per row; later rows shorter than those
    # make more rows than foreseen, gathered piece by piece instead. Either way: the same numbers.
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1000)
    rng = np.random.default_rng(5)
    first = rng.uniform(-1, 1, size=(20, 4))
    rest = rng.uniform(-1, 1, size=(20, 4)) if later == "alike" else np.round(rng.uniform(-1, 1, size=(60, 4)), 1)
    values = np.vstack([first, rest])
    text = "x1,x2,x3,y\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in values.tolist())
    dataset = load_dataset(write(tmp_path, "d.csv", text))
    np.testing.assert_array_equal(np.column_stack([dataset.X, dataset.y]), values)
    assert dataset.X.T.flags.c_contiguous


def test_a_file_left_to_the_blocks_is_gathered_into_one_contiguous_block(tmp_path, monkeypatch):
    # A quoted cell leaves a plain file to the blocks (it is not parsed at once): the block is
    # allocated from the first block's bytes per row, the same numbers as a plain reading.
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1000)
    values = np.random.default_rng(6).uniform(-1, 1, size=(60, 4))
    rows = [",".join(repr(v) for v in row) for row in values.tolist()]
    rows[0] = '"' + rows[0].replace(",", '",', 1)
    dataset = load_dataset(write(tmp_path, "d.csv", "x1,x2,x3,y\n" + "\n".join(rows) + "\n"))
    np.testing.assert_array_equal(np.column_stack([dataset.X, dataset.y]), values)
    assert dataset.X.T.flags.c_contiguous


# --- the grammar of a number -------------------------------------------------------------


def is_csv_number(text: str) -> bool:
    """The CSV number grammar written out by hand: an optional sign, ASCII digits with at most one
    decimal point (a digit on at least one side), an optional exponent e or E with an optional
    sign and ASCII digits; spaces and tabs around."""
    body = text.strip(" \t")
    if body[:1] in ("+", "-"):
        body = body[1:]
    mantissa, marker, exponent = body.replace("E", "e").partition("e")
    whole, _, fraction = mantissa.partition(".")
    ascii_digits = lambda part: all(character in "0123456789" for character in part)  # noqa: E731
    if not (ascii_digits(whole) and ascii_digits(fraction) and (whole or fraction)):
        return False
    if marker:
        exponent = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        return exponent != "" and ascii_digits(exponent)
    return True


NUMBER_LIKE = st.one_of(
    st.text(alphabet="0123456789.eE+- \t_١٢３４०x", max_size=10),
    st.sampled_from(["1_000", "١٢", "１２", "۱.۵", "1e5", ".5", "5.", "+.5e-3", "1e400", "-1e-400", "1.2.3", "1e", "e5", "."]),
    st.sampled_from(["inf", "-Infinity", "nan", "NaN"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
# Words for values that are not finite numbers: refused, with a message of their own.
NOT_FINITE = {"inf", "infinity", "nan"}


@SETTINGS
@given(cell=NUMBER_LIKE)
@example(cell="1_000")
@example(cell="１２")
def test_a_cell_is_a_number_exactly_when_the_grammar_says_so(tmp_path, cell):
    """What Python's float() takes and the grammar does not (digit separators, other scripts'
    digits) is 'not a number', in a column of numbers and alone alike."""
    for rows in ([f"{cell},2,3,4"], ["1,2,3,4", f"{cell},2,3,4"]):
        path = write(tmp_path, "d.csv", "\n".join(["x1,x2,x3,y", *rows]) + "\n")
        value = float(cell.strip(" \t")) if is_csv_number(cell) else None
        if value is not None and np.isfinite(value):
            assert load_dataset(path).X[-1, 0] == value
            assert next(iter_prediction_chunks(path, ("x1", "x2", "x3"))).X[-1, 0] == value
            continue
        with pytest.raises(DataError) as caught:
            load_dataset(path)
        message = str(caught.value)
        assert f"row {len(rows)}, column x1" in message
        if cell.strip(" \t").lower().lstrip("+-") in NOT_FINITE:
            assert "infinite" in message or "not a finite number" in message
        elif value is not None:
            assert "infinite or beyond the float64 range" in message
        elif cell.strip(" \t"):
            assert "is not a number" in message


def test_a_header_read_as_one_column_suggests_its_separator(tmp_path):
    path = write(tmp_path, "d.csv", "x1;x2;x3;y\n1;2;3;4\n")
    with pytest.raises(MissingColumn) as caught:
        load_dataset(path, sep=",")
    assert caught.value.other_separator == "semicolon"
    assert "the header is one column holding semicolons" in str(caught.value) and "sep" in str(caught.value)
    tabs = write(tmp_path, "t.csv", "x1\tx2\tx3\ty\n1\t2\t3\t4\n")
    with pytest.raises(MissingColumn, match="holding tabs"):
        load_dataset(tabs, sep="|")
    with pytest.raises(MissingColumn) as other:
        load_dataset(write(tmp_path, "o.csv", "a,b,c,d\n1,2,3,4\n"))
    assert other.value.other_separator is None and "separator" not in str(other.value)


# --- Strict reading (the command line's failure contract: hostile.py)


MALFORMED = [
    pytest.param(
        "extra.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4,5", "2,3,4,5,6", "3,4,5,6,7"),
        [row(1), re.compile(r"\b5\b"), re.compile(r"\b4\b")], [], id="every row has one field more than the header",
    ),
    pytest.param(
        "trailing.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4,", "2,3,4,5,", "3,4,5,6,"),
        [row(1), re.compile(r"\b5\b"), "field"], ["fewer"], id="rows end with a separator",
    ),
    pytest.param(
        "short.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4", "5,6,7", "8,9,10,11"),
        [row(2)], [], id="a row with fewer fields",
    ),
    pytest.param(
        "blank.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4", "", "", "5,6,7,8", "1,abc,3,4"),
        [row(3), re.compile(r"\bline 6\b"), "x2"], [], id="blank lines before a bad cell",
    ),
    pytest.param(
        "quoted.csv", lambda: lines_bytes("x1,x2,x3,y,note", '1,2,3,4,"a', "b", 'c"', "5,6,7,8,ok", "1,abc,3,4,z"),
        [row(3), "x2"], [row(5)], id="a quoted field spans lines",
    ),
    pytest.param(
        "nul.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n2,3,4,5\n" + b"\0" * (10 * 2**20),
        [re.compile(r"\brow \d+\b")], [], id="10 MB of NUL bytes at the end",
    ),
    pytest.param(
        "cell.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n1," + b"1" * 50_000_000 + b",3,4\n",
        [row(2)], [], id="a 50 MB cell of digits", marks=pytest.mark.slow,  # 50 MB read twice: about 1 s each
    ),
    pytest.param(
        "cell.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n1," + b"a" * 50_000_000 + b",3,4\n",
        [row(2)], [], id="a 50 MB cell of letters", marks=pytest.mark.slow,  # 50 MB read twice: about 1 s each
    ),
]


@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("name, content, fragments, absent", MALFORMED)
def test_a_malformed_row_is_refused_by_its_number(invoke, ws, command, name, content, fragments, absent):
    (ws / name).write_bytes(content())
    before = fingerprint(ws)
    o = invoke(command, name, *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, [name, *fragments], absent, root=ws, before=before, train=command == "train")


LONG_LINE = 100 * 2**20 + 1


@pytest.mark.slow  # 100 MB written and read four times: about 4 s
@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("head", [b"x1,x2,x3,y,", b"x1,x2,x3,y\n1,2,3,"], ids=["the only line", "a data row"])
def test_a_line_over_100_mb_without_a_newline_is_refused(ws, command, head):
    path = ws / "long.csv"
    with open(path, "wb") as stream:
        stream.write(head)
        block = b"9" * 2**20
        for _ in range(LONG_LINE // len(block)):
            stream.write(block)
        stream.write(b"9" * (LONG_LINE % len(block)))
    try:
        before = fingerprint(ws)
        o = shell(f"fwdback {command} long.csv" + (" --epochs 5" if command == "train" else ""), ws)
        refused(o, 1, ["long.csv"], root=ws, before=before, train=command == "train")
    finally:
        path.unlink()


def test_streamed_training_names_a_ragged_row_deep_in_the_file(invoke, ws):
    lines = csv_lines(*linear(5000, seed=3))
    lines[4001] += ",9"  # lines[0] is the header
    (ws / "ragged.csv").write_text("\n".join(lines) + "\n")
    before = fingerprint(ws)
    o = invoke("train", "ragged.csv", "--chunksize", "1000", "--epochs", "5")
    refused(o, 1, ["ragged.csv", row(4001)], root=ws, before=before, train=True)


@pytest.mark.parametrize("header", ["x1 ,x2\t,x3,y", '"x1\n",x2,x3,y'], ids=["trailing space and tab", "a quoted newline"])
def test_header_names_are_compared_after_trimming(invoke, ws, header):
    body = csv_bytes(*linear(12)).split(b"\n", 1)[1]
    (ws / "h.csv").write_bytes(header.encode() + b"\n" + body)
    o = invoke("train", "h.csv", "--epochs", "20", "-q", "--model", "h.json")
    succeeded(o)
    saved_model(ws / "h.json")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_column_in_the_wrong_case_is_suggested(invoke, ws, command):
    (ws / "case.csv").write_bytes(csv_bytes(*linear(12), header=("X1", "x2", "x3", "y")))
    before = fingerprint(ws)
    o = invoke(command, "case.csv", *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, ["case.csv", "did you mean 'X1'"], root=ws, before=before, train=command == "train")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_literal_backslash_t_separator_is_a_tab(invoke, ws, command):
    (ws / "t.tsv").write_bytes(csv_bytes(*linear(12), sep="\t"))
    o = invoke(command, "t.tsv", "--sep", "\\t", *(["--epochs", "20", "-q"] if command == "train" else []))
    succeeded(o)
    if command == "predict":
        lines = o.stdout.splitlines()
        assert lines[0] == "x1\tx2\tx3\ty\ty_hat" and len(lines) == 13


@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("sep", ["", ",,"], ids=["empty", "two characters"])
def test_an_impossible_separator_is_a_usage_error(invoke, ws, command, sep):
    before = fingerprint(ws)
    o = invoke(command, "d.csv", "--sep", sep, *(["--epochs", "5"] if command == "train" else []))
    refused(o, 2, ["--sep"], root=ws, before=before)
    assert o.stdout == ""


# --- Numbers (the command line's failure contract: hostile.py)


def test_a_column_that_turns_to_text_late_gives_no_dtype_warning(invoke, ws):
    X, y = linear(1000, seed=5)
    block = csv_lines(X, y, header=("x1", "x2", "x3", "y"))[1:]
    with open(ws / "late.csv", "w") as stream:
        stream.write("x1,x2,x3,y,note\n")
        for repeat in range(300):
            note = ",7\n" if repeat < 200 else ",abc\n"
            stream.write(note.join(block) + note)
    o = invoke("train", "late.csv", "--epochs", "10", "-q")
    succeeded(o)
    assert saved_model(ws / "model.json")["training"]["rows"] == 300_000


# --- Parquet read a batch at a time (sources.PARQUET_BATCH_ROWS) ------------------------------


@pytest.mark.slow  # 131,072 rows predicted and read again, twice: about 8 s
@pytest.mark.parametrize("extra", [0, 1], ids=["one batch", "one batch and a row"])
def test_a_parquet_file_either_side_of_a_read_batch(run, workdir, assets, extra):
    """Parquet is read PARQUET_BATCH_ROWS rows at a time: predict writes every row, in order, with
    the oracle's prediction, and an empty cell in the last row is named by that row's number."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow

    n = PARQUET_BATCH_ROWS + extra
    X, y = linear(n)
    columns = {"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "y": y}
    pq.write_table(pyarrow.table(columns), workdir / "rows.parquet")
    (workdir / "model.json").write_bytes(assets.model)
    predicted = run(["predict", "rows.parquet"])
    assert predicted.exit_code == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == "x1,x2,x3,y,y_hat" and len(lines) == n + 1
    weights = json.loads(assets.model)["weights"]
    expected = oracle.forward(weights, X).yhat[:, 0]
    shown = np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]])
    np.testing.assert_allclose(shown, expected, rtol=1e-13, atol=1e-15)
    holed = pyarrow.table(columns | {"y": pyarrow.array([*y[:-1], None], type=pyarrow.float64())})
    pq.write_table(holed, workdir / "holed.parquet")
    refused_run = run(["train", "holed.parquet", "--epochs", "1"])
    assert refused_run.exit_code == 1
    assert refused_run.stderr == f"Error: holed.parquet, row {n}, column y: the cell is empty; fill it in or delete the row\n"
