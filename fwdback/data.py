"""CSV -> float64 arrays with pandas, and every check of the user's data.

Every problem raises DataError with a message that names the file, the data row (1-based,
the header not counted) and the column, and says how to fix it.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import itertools
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError

FEATURES = ("x1", "x2", "x3")
TARGET = "y"
PREDICT_CHUNK_ROWS = 100_000
# `train` streams a file larger than this, TRAIN_CHUNK_ROWS rows at a time, where its options allow.
STREAM_ABOVE_BYTES = 2 * 2**30
TRAIN_CHUNK_ROWS = 100_000
_SNIFF_BYTES = 1 << 20  # the header line must fit in this
_TRAINING_COLUMNS_FIX = "rename it in the header or choose columns with --features/--target"
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class Dataset:
    """Training data.  X : shape (n, k), y : shape (n,); `sep` is the separator the file used.

    X and y are views into one float64 block, so the rows are held once.
    """

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str
    source: str
    sep: str


def separator_name(sep: str) -> str:
    return _SEPARATOR_NAMES.get(sep, repr(sep))


def display_name(source: str) -> str:
    return "<stdin>" if source == "-" else source


def load_dataset(
    source: str, features: Sequence[str] = FEATURES, target: str = TARGET, sep: str | None = None
) -> Dataset:
    """Read the feature and target columns of a CSV file ("-" for stdin) as float64.

    With sep=None the separator is the comma, or the one the header line clearly uses.
    """
    name = display_name(source)
    _check_names(name, features, target)
    with _open_binary(source) as opened:
        sep, header = _sniff(opened.stream, name, sep)
        _check_header(name, header, [*features, target], sep, _TRAINING_COLUMNS_FIX)
        # All columns, not usecols: with usecols pandas lets a row with too many fields pass.
        frame = _read_csv(opened.for_pandas, name, sep)
    if frame.empty:
        raise DataError(f"{name}: has a header but no data rows; add rows of {','.join(header)} values")
    X, y = _training_arrays(frame, features, target, name, 0)
    return Dataset(X, y, tuple(features), target, name, sep)


def _training_arrays(frame: pd.DataFrame, features, target: str, name: str, rows_before: int):
    """X : shape (n, k), y : shape (n,) of a frame whose first row is data row rows_before + 1.

    One feature-major block holds the data once: X is its transposed view, y its last row.
    """
    block = np.empty((len(features) + 1, len(frame)))
    for row, column in zip(block, [*features, target]):
        row[:] = _float_column(frame, column, name, rows_before)
    return block[:-1].T, block[-1]


@dataclass
class StreamedDataset:
    """Training data read from a file in chunks of `chunk_rows` rows, as often as asked; no row is kept."""

    features: tuple[str, ...]
    target: str
    source: str
    sep: str
    chunk_rows: int

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """A fresh pass over the file: (X, y) per chunk, X : shape (m, k), y : shape (m,), float64."""
        return iter_training_chunks(self.source, self.features, self.target, self.sep, self.chunk_rows)


def stream_dataset(
    source: str, features: Sequence[str], target: str, sep: str | None, chunk_rows: int
) -> StreamedDataset:
    """Check a training CSV's header now, to read its rows in chunks later (load_dataset's checks).

    Training reads the file twice, so it has to be a file: stdin can be read only once.
    """
    name = display_name(source)
    if source == "-":
        raise DataError("streaming reads the data twice, and stdin can be read only once; save it to a file and give its path")
    _check_names(name, features, target)
    with _open_binary(source) as opened:
        sep, header = _sniff(opened.stream, name, sep)
        _check_header(name, header, [*features, target], sep, _TRAINING_COLUMNS_FIX)
    return StreamedDataset(tuple(features), target, name, sep, chunk_rows)


def iter_training_chunks(
    source: str, features: Sequence[str], target: str, sep: str | None, chunk_rows: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream a training CSV in chunks of `chunk_rows` rows: (X, y) as load_dataset makes them.

    The checks and messages are load_dataset's, with rows numbered from the file's first.
    """
    name = display_name(source)
    with _open_binary(source) as opened:
        sep, header = _sniff(opened.stream, name, sep)
        _check_header(name, header, [*features, target], sep, _TRAINING_COLUMNS_FIX)
        reader = _read_csv(opened.for_pandas, name, sep, chunksize=chunk_rows)
        rows_before = 0
        with reader:
            while True:
                try:
                    chunk = next(reader)
                except StopIteration:
                    break
                except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError, EOFError) as error:
                    raise _parse_error(name, error) from None
                if chunk.empty:
                    continue
                yield _training_arrays(chunk, features, target, name, rows_before)
                rows_before += len(chunk)
        if rows_before == 0:
            raise DataError(f"{name}: has a header but no data rows; add rows of {','.join(header)} values")


@dataclass
class PredictionChunk:
    """Rows of a CSV read for prediction: their text as it was, and their features as floats.

    header : the header line, without its line end (and without a byte-order mark)
    lines : this chunk's records, without their line ends (a quoted field may hold a newline)
    X : shape (len(lines), k), the model's feature columns
    """

    header: str
    columns: list[str]
    sep: str
    lines: list[str]
    X: np.ndarray


def iter_prediction_chunks(
    source: str, features: Sequence[str], sep: str | None = None, chunk_rows: int = PREDICT_CHUNK_ROWS
) -> Iterator[PredictionChunk]:
    """Stream a CSV in chunks of records, each with its features parsed by pandas.

    The records pass through as text, so predict can write them back unchanged; only the
    feature columns are converted. Memory stays bounded by the chunk size whatever the
    file's length. `features` are the columns a model was trained on.
    """
    name = display_name(source)
    with _open_binary(source) as opened:
        sep, columns = _sniff(opened.stream, name, sep)
        _check_header(name, columns, features, sep, f"the model was trained on the columns {','.join(features)}")
        text = io.TextIOWrapper(opened.stream, encoding="utf-8-sig", newline=None)
        try:
            records = _records(text)
            header = next(records)
            rows_before = 0
            while lines := list(itertools.islice(records, chunk_rows)):
                frame = _read_csv(io.StringIO("\n".join([header, *lines])), name, sep, rows_before)
                if len(frame) != len(lines):
                    raise DataError(f"{name}: rows {rows_before + 1} to {rows_before + len(lines)} do not parse as CSV; check their quoting")
                X = np.column_stack(
                    [_float_column(frame, _column_named(frame, feature), name, rows_before, feature) for feature in features]
                )
                yield PredictionChunk(header, columns, sep, lines, X)
                rows_before += len(lines)
        except UnicodeDecodeError as error:
            raise _parse_error(name, error) from None
        except (OSError, EOFError) as error:
            raise DataError(f"{name}: cannot be read ({error}); check that the file is intact") from None
        finally:
            text.detach()
        if rows_before == 0:
            raise DataError(f"{name}: has a header but no data rows; add rows of {','.join(columns)} values")


def _records(text) -> Iterator[str]:
    """The CSV records of a text stream, without line ends; a quoted field may span lines.

    Blank lines are passed over, as pandas passes them over.
    """
    pending = ""
    for line in text:
        pending += line
        if pending.count('"') % 2:  # inside a quoted field: the record goes on
            continue
        record, pending = pending.rstrip("\n"), ""
        if record.strip():
            yield record
    if pending.strip():
        yield pending.rstrip("\n")


def _column_named(frame: pd.DataFrame, name: str) -> str:
    """The frame's column whose name, stripped of spaces, is `name`."""
    return next(column for column in frame.columns if column.strip() == name)


def _check_names(name: str, features: Sequence[str], target: str) -> None:
    if not features:
        raise DataError("no feature columns given; name them with --features, e.g. --features x1,x2,x3")
    repeated = sorted({column for column in [*features, target] if [*features, target].count(column) > 1})
    if repeated:
        raise DataError(f"column {repeated[0]!r} is named twice in --features/--target; name each column once")


def _open_binary(source: str):
    """The source as a binary stream; gzip is recognised by its magic bytes, not its name."""
    name = display_name(source)
    try:
        raw = sys.stdin.buffer if source == "-" else open(source, "rb", buffering=_SNIFF_BYTES)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory, not a CSV file; give the path of a file") from None
    except PermissionError:
        raise DataError(f"{name}: permission denied; make the file readable (chmod +r)") from None
    except OSError as error:
        raise DataError(f"{name}: cannot be opened ({error.strerror}); check the path") from None
    stream = io.BufferedReader(raw, _SNIFF_BYTES) if source == "-" else raw
    gzipped = stream.peek(2)[:2] == b"\x1f\x8b"
    if gzipped:
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream), _SNIFF_BYTES)
    return _Opened(stream, raw, None if source == "-" or gzipped else source)


class _Opened:
    """An opened source: `stream` to sniff, `for_pandas` to parse; closes what it opened, never stdin.

    pandas parses a plain file fastest from an unbuffered handle of its own: no Python-level
    buffer copies, and (unlike a path) no copy of the whole file in memory.
    """

    def __init__(self, stream, raw, path):
        self.stream, self.raw, self.path = stream, raw, path
        self.unbuffered = None

    @property
    def for_pandas(self):
        if self.path is None:
            return self.stream
        if self.unbuffered is None:
            self.unbuffered = open(self.path, "rb", buffering=0)
        return self.unbuffered

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.unbuffered is not None:
            self.unbuffered.close()
        if self.raw is not sys.stdin.buffer:
            self.raw.close()


def _sniff(stream, name: str, sep: str | None) -> tuple[str, list[str]]:
    """Check that the stream starts like a CSV with a header; return its separator and header."""
    try:
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{name}: cannot be read ({error}); check that the file is intact") from None
    if not head.strip():
        raise DataError(f"{name}: is empty; give a CSV file with a header line such as x1,x2,x3,y")
    if b"\x00" in head:
        raise DataError(f"{name}: is a binary file, not CSV text; give a CSV file (plain or .csv.gz)")
    text = _decode(head, name, cut=len(head) == _SNIFF_BYTES).lstrip("\r\n")
    if not text.strip():
        raise DataError(f"{name}: is empty; give a CSV file with a header line such as x1,x2,x3,y")
    lines = text.splitlines()
    if len(lines) == 1 and len(head) == _SNIFF_BYTES:
        raise DataError(f"{name}: the header line is longer than {_SNIFF_BYTES >> 20} MiB; keep only the columns you need")
    first_line = lines[0]
    if sep is None:
        sep = ","
        if "," not in first_line:
            for candidate in (";", "\t", "|"):
                if candidate in first_line:
                    sep = candidate
                    break
    header = next(csv.reader([first_line], delimiter=sep))
    return sep, [column.strip() for column in header]


def _decode(head: bytes, name: str, cut: bool) -> str:
    """The sniffed bytes as text; with `cut`, a character split at their end is dropped."""
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if cut and error.start >= len(head) - 3:
            return head[: error.start].decode("utf-8-sig")
        raise DataError(
            f"{name}: is not UTF-8 text (byte 0x{head[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8"
        ) from None


def _check_header(name: str, header: list[str], required: Sequence[str], sep: str, fix: str) -> None:
    if all(_is_number(cell) for cell in header):
        raise DataError(
            f"{name}: the first line holds numbers, not column names; "
            f"add a header line such as {sep.join(required)}"
        )
    duplicated = sorted({column for column in header if header.count(column) > 1 and column in required})
    if duplicated:
        raise DataError(f"{name}: column {duplicated[0]!r} appears more than once in the header; keep one")
    for column in required:
        if column not in header:
            close = difflib.get_close_matches(column, header, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            available = ", ".join(repr(c) for c in header[:12]) + (", ..." if len(header) > 12 else "")
            raise DataError(
                f"{name}: no column {column!r} ({hint}columns are {available}); {fix}"
            )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_csv(stream, name: str, sep: str, rows_before: int | None = None, **options):
    """pd.read_csv with fwdback's settings, its errors as DataError. `rows_before` is given when
    the text is a chunk of records after that many data rows (pandas counts lines from its
    own first)."""
    try:
        return pd.read_csv(
            stream,
            sep=sep,
            encoding="utf-8-sig",
            **({"keep_default_na": False, "na_values": [""], "skipinitialspace": True} | options),
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: is empty; give a CSV file with a header line such as x1,x2,x3,y") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError, EOFError) as error:
        raise _parse_error(name, error, rows_before) from None


def _parse_error(name: str, error: Exception, rows_before: int | None = None) -> DataError:
    if isinstance(error, UnicodeDecodeError):
        return DataError(f"{name}: is not UTF-8 text (byte 0x{error.object[error.start]:02x}); save it as UTF-8")
    message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if ragged:
        expected, line, seen = (int(number) for number in ragged.groups())
        where = f"row {line - 1} (line {line})" if rows_before is None else f"row {rows_before + line - 1}"
        return DataError(
            f"{name}, {where}: has {seen} fields where the header has {expected}; give every row the same number of fields"
        )
    return DataError(f"{name}: is not a readable CSV file ({message}); check its format")


def _to_float(cell) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError, OverflowError):
        return np.inf if str(cell).strip().lstrip("+-").isdigit() else np.nan


def _float_column(frame: pd.DataFrame, column: str, name: str, rows_before: int, label: str | None = None) -> np.ndarray:
    """The column as float64, or a DataError naming the first cell that is not a finite number."""
    series = frame[column]
    column = label or column
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        values = series.to_numpy(dtype=np.float64)
    else:
        try:
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        except OverflowError:  # an integer too long for float64
            values = np.array([_to_float(cell) for cell in series])
    finite = np.isfinite(values)
    if finite.all():
        return values
    index = int(np.argmin(finite))
    where = f"{name}, row {rows_before + index + 1}, column {column}"
    cell = series.iloc[index]
    empty = f"{where}: the cell is empty (or the row has fewer fields than the header); fill it in or delete the row"
    beyond = f"{where}: the value is infinite or beyond the float64 range (1.8e308); give a finite value or rescale the column"
    if isinstance(cell, (float, np.floating)):  # the parser made it a number; its text is gone
        raise DataError(empty if np.isnan(cell) else beyond)
    text = str(cell).strip()
    if text == "":
        raise DataError(empty)
    if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise DataError(f"{where}: {text!r} is not a finite number; give a real value or delete the row")
    if np.isnan(values[index]):
        raise DataError(f"{where}: {text!r} is not a number; fix the cell or delete the row")
    raise DataError(beyond)
