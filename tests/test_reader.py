"""The strict reader against a reference: Python's csv module, record by record.

Whatever the blocks (their size is drawn too) and whichever path a block takes (pandas for
unquoted blocks, the csv module for the rest), the data rows, their numbering and the first
problem found must be the reference's.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwdback import data, reader
from fwdback.data import iter_prediction_chunks, load_dataset
from fwdback.errors import DataError

COLUMNS = ["x1", "x2", "x3", "y"]
CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", " 1.5", "abc", '"2.5"', '"1,5"', '"a\nb"', "1e400", "nan", " ", "-0.0"]),
)


def reference(text: str):
    """(rows, problems): the data records as lists of cells, and every problem a strict reading
    finds: ("fields", row) for a row without the header's number of fields, ("cell", row, column)
    for a cell of x1, x2, x3 or y that is not a finite number."""
    lines = text.replace("\r\n", "\n").split("\n")
    records = [
        cells
        for cells in csv.reader([line + "\n" for line in lines], strict=True, skipinitialspace=True)
        if cells and not (len(cells) == 1 and not cells[0].strip(" \t\r"))
    ]
    header, rows = [name.strip() for name in records[0]], records[1:]
    problems = set()
    for number, cells in enumerate(rows, start=1):
        if len(cells) != len(header):
            problems.add(("fields", number))
            continue
        for column in COLUMNS:
            value = pd.to_numeric(pd.Series([cells[header.index(column)]], dtype=object), errors="coerce").iloc[0]
            if not np.isfinite(float(value)):
                problems.add(("cell", number, column))
    return rows, problems


@st.composite
def csv_files(draw):
    header = draw(st.permutations(COLUMNS + ["note"]))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        fields = len(header) + draw(st.sampled_from([0, 0, 0, 0, 0, 0, -1, 1]))
        rows.append([draw(CELLS) for _ in range(fields)])
        if draw(st.integers(0, 9)) == 0:
            rows.append([])  # a blank line
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(",".join(cells) for cells in [header, *rows]) + eol
    return text, draw(st.sampled_from([16, 40, 1 << 20]))


@pytest.mark.slow  # 300 generated files: 12 s of a 2-core run
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=csv_files())
def test_the_reader_reads_what_the_csv_module_reads(tmp_path, monkeypatch, case):
    text, block_bytes = case
    monkeypatch.setattr(reader, "BLOCK_BYTES", block_bytes)
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode())
    rows, problems = reference(text)
    if not problems:
        dataset = load_dataset(str(path))
        header = [name.strip() for name in next(csv.reader(io.StringIO(text)))]
        expected = np.array([[float(cells[header.index(c)]) for c in COLUMNS] for cells in rows])
        np.testing.assert_array_equal(np.column_stack([dataset.X, dataset.y]), expected)
        texts = [t for chunk in iter_prediction_chunks(str(path), COLUMNS[:3]) for t in chunk.texts]
        assert len(texts) == len(rows)
        assert [next(csv.reader([t.decode()], skipinitialspace=True)) for t in texts] == rows
        return
    with pytest.raises(DataError) as caught:
        load_dataset(str(path))
    # Blocks are checked in order, each for its rows' fields and then its cells: the problem
    # named is a real one, and no row before the first problem's block is named.
    message = str(caught.value)
    found = re.search(r"row (\d+)(?: \(line \d+\))?(?:, column (\w+))?: (.*)", message)
    row, column, what = int(found[1]), found[2], found[3]
    named = ("fields", row) if column is None else ("cell", row, column)
    assert named in problems, (problems, message)
    assert ("fields where the header has 5" in what) == (column is None)
    if block_bytes > len(text):
        first = min(problems, key=lambda problem: (problem[0] == "cell", problem[1:]))
        assert named == first, (first, message)


def test_rows_and_lines_are_counted_across_blank_and_quoted_lines(tmp_path):
    text = 'x1,x2,x3,y,note\n1,2,3,4,a\n\n\n5,6,7,8,"two\nlines"\n1,abc,3,4,b\n'
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match=r"d\.csv, row 3 \(line 7\), column x2: 'abc' is not a number"):
        load_dataset(str(tmp_path / "d.csv"))


@pytest.mark.parametrize(
    "rows,fragment",
    [
        (["1,2,3,4,5", "5,6,7,8,9"], "row 1: has 5 fields where the header has 4"),
        (["1,2,3,4", "5,6,7,8,"], "row 2: has 5 fields where the header has 4 (it ends with a separator)"),
        (["1,2,3,4,", "5,6,7,8,"], "row 1: has 5 fields where the header has 4 (it ends with a separator)"),
        (["1,2,3,4", "5,6"], "row 2: has 2 fields where the header has 4 (it stops before 'x3')"),
        (['1,2,"3,4', "5,6,7,8"], "a quoted field is never closed"),
    ],
)
def test_a_row_without_the_headers_number_of_fields_is_refused(tmp_path, rows, fragment):
    (tmp_path / "d.csv").write_text("x1,x2,x3,y\n" + "\n".join(rows) + "\n")
    for read in (lambda p: load_dataset(p), lambda p: list(iter_prediction_chunks(p, ("x1", "x2", "x3")))):
        with pytest.raises(DataError, match=re.escape(fragment)):
            read(str(tmp_path / "d.csv"))


def test_a_long_cell_is_cut_in_the_message(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,x3,y\n1,2,3,4\n1," + "z" * 100_000 + ",3,4\n")
    with pytest.raises(DataError) as caught:
        load_dataset(str(tmp_path / "d.csv"))
    message = str(caught.value)
    assert len(message) - len(str(tmp_path / "d.csv")) < 150 and "100,000 characters" in message


def test_a_record_longer_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(reader, "BLOCK_BYTES", 100)
    (tmp_path / "d.csv").write_text("x1,x2,x3,y\n1,2,3,4\n" + "7" * 5000 + "\n")
    with pytest.raises(DataError, match=r"row 2: is longer than"):
        load_dataset(str(tmp_path / "d.csv"))


def test_a_nul_byte_is_named_by_its_row(tmp_path):
    (tmp_path / "d.csv").write_bytes(b"x1,x2,x3,y\n1,2,3,4\n5,6,7,8\n" + b"\x00" * 5000)
    with pytest.raises(DataError, match=r"row 3: holds a NUL byte"):
        load_dataset(str(tmp_path / "d.csv"))


def test_header_names_are_compared_without_their_spaces(tmp_path):
    """Spaces before a name are noted as those after it are, the first name's too."""
    (tmp_path / "d.csv").write_text(' x1 ,x2\t,"x3\n",  y\n1,2,3,4\n')
    dataset = load_dataset(str(tmp_path / "d.csv"))
    assert dataset.trimmed == [" x1 ", "x2\t", "x3\n", "  y"]
    np.testing.assert_array_equal(dataset.X, [[1, 2, 3]])


def test_a_wrong_case_gets_a_suggestion(tmp_path):
    (tmp_path / "d.csv").write_text("X1,x2,x3,y\n1,2,3,4\n")
    with pytest.raises(DataError, match="did you mean 'X1'"):
        load_dataset(str(tmp_path / "d.csv"))


def test_the_header_check_is_linear_in_the_number_of_names(tmp_path):
    # 200,000 equal names and 50,000 distinct ones: one Counter and one index, not a count per name.
    (tmp_path / "same.csv").write_text(",".join(["a"] * 200_000) + "\n" + ",".join(["1"] * 200_000) + "\n")
    with pytest.raises(DataError, match="no column 'x1'"):
        load_dataset(str(tmp_path / "same.csv"))
    names = [f"c{i}" for i in range(50_000)] + COLUMNS
    (tmp_path / "wide.csv").write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    assert load_dataset(str(tmp_path / "wide.csv")).X.shape == (1, 3)


def test_cells_after_a_space_read_as_the_csv_module_reads_them(tmp_path):
    # Unquoted, so pandas parses the block: its cells must be csv.reader(skipinitialspace=True)'s,
    # text without the spaces after a separator and numbers with them.
    text = "x1,x2,x3,y,note\n 1.5,2, 3,4,  a b\n5, 6,7,8, c\n"
    (tmp_path / "d.csv").write_text(text)
    expected = list(csv.reader(io.StringIO(text), skipinitialspace=True))[1:]
    with reader.CsvReader(str(tmp_path / "d.csv")) as source:
        (records,) = list(source.records())
    cells = [[float(cell) for cell in row[:4]] + [row[4]] for row in expected]
    assert records.frame.values.tolist() == cells


def test_a_row_with_a_field_too_many_is_named_when_a_short_row_evens_the_separators_out(tmp_path):
    # Row 1 has 5 fields, row 2 has 3: 6 separators in all, as two rows of 4 fields have. The
    # csv module (the reference) names row 1; counting the block's separators as a whole did not.
    (tmp_path / "d.csv").write_text("x1,x2,x3,y\n1,2,3,4,\n5,6,7\n")
    with pytest.raises(DataError, match=re.escape("d.csv, row 1: has 5 fields where the header has 4 (it ends with a separator)")):
        load_dataset(str(tmp_path / "d.csv"))


def test_blocks_parsed_ahead_name_the_first_problem_of_the_file(tmp_path, monkeypatch):
    # Blocks of about 40 bytes, parsed in threads ahead of the one being checked: the problems in
    # later blocks (a NUL byte, text in a cell) must not be named before the first one.
    monkeypatch.setattr(reader, "BLOCK_BYTES", 40)
    rows = [f"{i},{i + 1},{i + 2},{i + 3}" for i in range(1, 40)]
    rows[20] = "1,2,abc,4"
    rows[30] = "1,2,\x00,4"
    (tmp_path / "d.csv").write_text("x1,x2,x3,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=re.escape("d.csv, row 21, column x3: 'abc' is not a number")):
        load_dataset(str(tmp_path / "d.csv"))


# --- a plain file parsed at once ----------------------------------------------------------------


def parsed_at_once(path, numbers=(0, 1, 2, 3)):
    with reader.CsvReader(str(path)) as source:
        return source.parsed_at_once(list(numbers))


def csv_module_numbers(text: str) -> np.ndarray:
    """x1, x2, x3, y of every record as the csv module (the reference) reads them, as floats."""
    records = [cells for cells in csv.reader(io.StringIO(text.lstrip("\ufeff")), skipinitialspace=True)
               if cells and not (len(cells) == 1 and not cells[0].strip(" \t\r"))]
    header = [name.strip() for name in records[0]]
    return np.array([[float(cells[header.index(column)]) for column in COLUMNS] for cells in records[1:]])


@pytest.mark.parametrize("text", [
    "x1,x2,x3,y\n1,2,3,4\n 5.5, -6e1,7 ,+.25\n",
    "x1,x2,x3,y\r\n1,2,3,4\r\n5,6,7,8\r\n",
    "x1,x2,x3,y\n1,2,3,4\n\n  \n5,6,7,8\n\t\n",
    "\ufeffx1,x2,x3,y\n1,2,3,4\n5,6,7,8",
    "y,x3,x2,x1\n1,2,3,4\n6,7,8,9\n",
    "y,note,x3,x2,x1\n1,a b,3,4,5\n6,,8,9,10\n",
])
def test_a_clean_plain_file_is_parsed_at_once_as_the_csv_module_reads_it(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode())
    with reader.CsvReader(str(path)) as source:
        numbers = [source.header.names.index(column) for column in COLUMNS]
        frame = source.parsed_at_once(numbers)
    assert frame is not None
    expected = csv_module_numbers(text)
    np.testing.assert_array_equal(frame[numbers].to_numpy(), expected)
    dataset = load_dataset(str(path))
    np.testing.assert_array_equal(np.column_stack([dataset.X, dataset.y]), expected)


def test_a_file_of_the_wanted_columns_alone_gives_writable_arrays(tmp_path):
    text = "x1,x2,x3,y\n1,2,3,4\n5,6.5,-7,8e1\n0.1,0.2,0.3,0.4\n"
    path = tmp_path / "d.csv"
    path.write_text(text)
    dataset = load_dataset(str(path))
    np.testing.assert_array_equal(np.column_stack([dataset.X, dataset.y]), csv_module_numbers(text))
    assert dataset.X.flags.writeable and dataset.y.flags.writeable


def test_pandas_own_array_of_float_columns_is_taken_over_feature_major_and_writable():
    # A frame of one block of float64 columns (as read_csv makes of a large file) gives its array,
    # no copy, which pandas hands out read-only; a frame of one array a column, the copy pandas
    # makes of them.
    rows = np.arange(12.0).reshape(3, 4)
    frame = pd.DataFrame(rows)
    block = data._owned_block(frame)
    np.testing.assert_array_equal(block, rows.T)
    assert block.flags.c_contiguous and block.flags.writeable and np.shares_memory(block, frame.to_numpy())
    columns = data._owned_block(pd.DataFrame({name: rows[:, name] for name in range(4)}))
    np.testing.assert_array_equal(columns, rows.T)
    assert columns.flags.c_contiguous and columns.flags.writeable


@pytest.mark.parametrize("data", [
    b'"1",2,3,4,a\n',  # a quote: the csv module's quoting, not pandas'
    b"1,2,3,4,a\r5,6,7,8,b\n",  # a carriage return that ends no line: pandas ends a record there
    b"1,2,3,4,a\n5,6,7,8,b\r",
    b"1,2,3,4,a,\n5,6,7,8,b\n",  # the first line pandas reads: it drops the extra field
    b"1,2,3,4,a,b\n5,6,7,8\n",  # a field too many (dropped, with a warning) and one too few
    b"1,2,3,4,\n",  # an empty last cell, which is also what a short row leaves
    b"1,2,3,4," + b"z" * 100 + b"\n",  # a row longer than MAX_RECORD_BYTES
    b"1,2,3,4,a\x00\n",  # a NUL byte, in the column of text
    b"1,2,3,4,\xe9\n",  # text that is not UTF-8
])
def test_a_file_that_pandas_may_read_otherwise_than_the_csv_module_is_left_to_the_blocks(tmp_path, monkeypatch, data):
    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 64)
    path = tmp_path / "d.csv"
    path.write_bytes(b"x1,x2,x3,y,note\n" + data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert parsed_at_once(path) is None
    assert not caught  # pandas' warning of the fields it drops is not the user's


def test_a_row_is_measured_across_the_windows_of_the_scan(tmp_path, monkeypatch):
    # Windows of MAX_RECORD_BYTES: a row of 60 bytes is read at once, one of 70 is not.
    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 64)
    for length, read in ((60, True), (70, False)):
        row = b"1,2,3," + b"4" * (length - 6)
        (tmp_path / "d.csv").write_bytes(b"x1,x2,x3,y\n" + b"5,6,7,8\n" * 9 + row + b"\n" + b"5,6,7,8\n" * 9)
        assert (parsed_at_once(tmp_path / "d.csv") is not None) == read


def test_only_a_plain_file_whose_header_is_its_first_line_is_parsed_at_once(tmp_path):
    # pandas would skip the blank line, not the header, and read the header (here as text, and
    # of one column: no separator to count) as a row.
    (tmp_path / "blank.csv").write_text("\n1\n2\n")
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(b"x1,x2,x3,y\n1,2,3,4\n"))
    assert parsed_at_once(tmp_path / "blank.csv", numbers=()) is None
    assert parsed_at_once(tmp_path / "d.csv.gz") is None
