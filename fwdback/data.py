"""CSV -> float64 arrays, and every check of the user's data: its columns, every cell, its size.

The file's structure (opened once, blocks of whole records, every row's number of fields) is
reader.py's. Here the header is matched against the columns asked for, and every cell of those
columns must be a finite number. Every problem raises DataError with a message that names the
file, the data row (1-based, the header and blank lines not counted) and the column, and says
how to fix it.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .classes import label_problem
from .errors import ColumnChoice, DataError, DataTooLarge, MissingColumn, TextTarget, display_name
from .reader import SEPARATOR_NAMES, CsvReader, Header, Records, quoted, separator_name, where

# The numbers a cell may hold: ASCII decimal digits, a sign, a decimal point and an exponent
# (1, -2.5, .5, 5., 1e-3, +1.5E+10), with spaces or tabs around. Python's float() takes more,
# which a CSV must not: 1_000, Arabic-Indic or full-width digits. The words inf and nan are
# refused with their own message; a number beyond float64's range (1e400) is "infinite".
NUMBER = re.compile(r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")
# A number written with a decimal comma: 1,5.
_DECIMAL_COMMA = re.compile(r"[ \t]*[+-]?[0-9]+,[0-9]+[ \t]*")

FEATURES = ("x1", "x2", "x3")
TARGET = "y"
# `train` streams a file whose text is larger than this, TRAIN_CHUNK_ROWS rows at a time, where its options allow.
STREAM_ABOVE_BYTES = 2 * 2**30
TRAIN_CHUNK_ROWS = 100_000
_LISTED_COLUMNS = 12


class TextLargerThan(Exception):
    """load_dataset read more text than its `stream_above`: the caller streams the file instead."""

    def __init__(self, source: str, text_bytes: int):
        super().__init__(source, text_bytes)
        self.source, self.text_bytes = source, text_bytes


@dataclass
class Dataset:
    """Training data.  X : shape (n, k), y : shape (n,), or (n, m) for a tuple of m target
    names; `sep` is the separator the file used. A classifier's target column read as class
    labels (load_dataset's `labels`): y is an object array, shape (n,), of them (labels_of).

    X and y are views into one float64 block, so the rows are held once. `trimmed` lists the
    header names that had spaces around them; `sep_detected` says the separator was detected.
    `parts`: data read from many files, each one's name and rows (place).
    """

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str | tuple[str, ...]
    source: str
    sep: str
    sep_detected: bool = False
    trimmed: list[str] = field(default_factory=list)
    parts: tuple[tuple[str, int], ...] = ()

    def place(self, row: int) -> tuple[str, int]:
        """Where the data's `row` (counted from 1) is: its file, and its row there (a part's name and
        row within it, where the data is in `parts`: (name, rows) of each, in order)."""
        for name, rows in self.parts:
            if row <= rows:
                return name, row
            row -= rows
        return self.source, row


def target_names(target: str | tuple[str, ...]) -> tuple[str, ...]:
    """The target columns: one name (the lecture's y), or a tuple of several for several outputs."""
    return (target,) if isinstance(target, str) else tuple(target)


def _targets_of(block: np.ndarray, k: int) -> np.ndarray:
    """y from a (k + m, n) block of columns: shape (n,) for one target, (n, m) for several."""
    return block[k] if len(block) == k + 1 else block[k:].T


def load_dataset(
    source: str,
    features: Sequence[str] = FEATURES,
    target: str | tuple[str, ...] = TARGET,
    sep: str | None = None,
    stream_above: int | None = None,
    model_columns: bool = False,
    name: str | None = None,
    labels: bool = False,
) -> Dataset:
    """Read the feature and target columns of a CSV file ("-" for stdin) as float64: X shape
    (n, k), y shape (n,) for one target, (n, m) for a tuple of m target names. With `labels`,
    the one target column holds a classifier's class labels, numbers or text: y is then an object
    array, shape (n,), of them (labels_of), and only the features need be numbers.

    With sep=None the separator is the comma, or the one the header line clearly uses. With
    `stream_above`, raises TextLargerThan as soon as more than that many bytes of text have been
    read (decompressed), so that the caller can stream the file instead. `model_columns` says
    that the columns are a model's (evaluate's), not the caller's choice, for the message when
    one is missing. `name` names the file in messages (default: its path).
    """
    _check_names(features, target)
    names = [*features, *target_names(target)]
    with CsvReader(source, sep, name) as reader:
        model_reads = {"trained_on": tuple(features), "target": target} if model_columns else {}
        columns = _columns(reader, names, **model_reads)
        numbers = columns[:-1] if labels else columns
        read = None
        if stream_above is None or (reader.size or 0) <= stream_above:
            read = _read_at_once(reader, numbers, columns[-1] if labels else None)
        if read is not None:
            block, label_pieces = read
        else:
            gathered, label_pieces = _Gathered(len(numbers), reader), []
            for records in reader.records():
                if labels:
                    piece, read_labels = _labelled_block(records, columns, names, reader.name)
                    gathered.add(piece)
                    label_pieces.append(read_labels)
                else:
                    targets = () if model_columns else target_names(target)
                    gathered.add(_float_block(records, columns, names, reader.name, targets))
                if stream_above is not None and reader.bytes_read > stream_above:
                    raise TextLargerThan(reader.name, reader.bytes_read)
            if reader.rows_read == 0:
                raise DataError(f"{reader.name}: has a header but no data rows; add rows of {','.join(reader.header.names)} values")
            block = gathered.block()
        header = reader.header
    k = len(features)
    y = labels_of(label_pieces) if labels else _targets_of(block, k)
    return Dataset(block[:k].T, y, tuple(features), target, reader.name, header.sep, header.detected,
                   _trimmed(header, names))


def _read_at_once(reader: CsvReader, numbers: list[int], label: int | None) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """The `numbers` columns of every record as one feature-major float64 block, shape
    (len(numbers), n), and the `label` column's class labels as numbers, [shape (n,)] (labels_of's
    pieces; [] where `label` is None), from a plain file parsed at once
    (CsvReader.parsed_at_once). None where it was not, where it has no rows, or where a cell
    is not a finite number or a label is text: then records() reads the file block by block
    and names the cell (or reads the text labels).
    """
    wanted = numbers if label is None else [*numbers, label]
    frame = reader.parsed_at_once(wanted)
    if frame is None or not len(frame):
        return None
    block = _owned_block(frame) if wanted == list(range(frame.shape[1])) else None
    if block is None:
        try:
            block = np.empty((len(wanted), len(frame)))
        except MemoryError:
            return None
        for row, column in zip(block, wanted):
            row[:] = frame[column].to_numpy()
    if not np.isfinite(block).all():
        return None
    return (block, []) if label is None else (block[:-1], [block[-1]])


def _owned_block(frame: pd.DataFrame) -> np.ndarray | None:
    """A frame of float64 columns as one feature-major array, shape (columns, n): pandas' own,
    where it holds them so (read_csv's one block of a large file), taken over and made writable
    (the frame is dropped), with no copy; else the copy to_numpy makes. None where to_numpy's
    array is not feature-major."""
    values = frame.to_numpy().T
    if values.dtype != np.float64 or not values.flags.c_contiguous:
        return None
    try:
        values.flags.writeable = True
    except ValueError:
        return None
    return values


def labels_of(pieces: list[np.ndarray], text: bool | None = None) -> np.ndarray:
    """The class labels of a target column read in `pieces`, each shape (m,), float64 (a block
    pandas read as numbers) or object (its cells' text, trimmed): an object array, shape (n,),
    of numbers where every cell is one by the CSV grammar (NUMBER; a whole number as an int, so
    that 0 and 1.0 are the classes 0 and 1), else of every cell's text. `text` decides instead,
    for pieces of a column whose kind was found over all of it (a file streamed in chunks)."""
    numbers = [None if text else _label_numbers(piece) for piece in pieces]
    if not text and all(piece is not None for piece in numbers):
        values = np.concatenate(numbers) if numbers else np.empty(0)
        labels = values.astype(object)
        whole = (values == np.round(values)) & (np.abs(values) < 2.0**53)
        labels[whole] = values[whole].astype(np.int64).astype(object)
        return labels
    return np.concatenate([_label_texts(piece) for piece in pieces])


def distinct_labels(piece: np.ndarray) -> np.ndarray:
    """The distinct labels of a piece of a label column as read (labels_of's), shape (d,): what
    the classes of a column read in pieces (chunks, a cluster's partitions) are found from."""
    return np.unique(piece) if piece.dtype != object else np.array(list(set(piece.tolist())), dtype=object)


def _label_numbers(piece: np.ndarray) -> np.ndarray | None:
    """A piece's labels as finite numbers, shape (m,), or None where a cell is not one (an object
    piece holds text, or labels already read: numbers and text)."""
    if piece.dtype != object:
        return piece if np.isfinite(piece).all() else None
    if not all(not isinstance(cell, str) or NUMBER.fullmatch(cell) for cell in piece):
        return None
    values = np.array([float(cell) for cell in piece])
    return values if np.isfinite(values).all() else None


def _label_texts(piece: np.ndarray) -> np.ndarray:
    """A piece's labels as text, shape (m,) of str: a number read as one keeps its shortest form (2, 2.5)."""
    return np.array([cell if isinstance(cell, str) else str(int(cell)) if cell == round(cell) else repr(float(cell))
                     for cell in piece.tolist()], dtype=object)


def _labelled_block(records: Records, columns: list[int], names: list[str], source: str) -> tuple[np.ndarray, np.ndarray]:
    """A block's feature columns as _float_block makes them, shape (k, m), and its last column's
    class labels (a piece of labels_of's), shape (m,): the first cell in the file's order that is
    not a finite number (a feature's) or is empty (the label's) is the DataError."""
    series = records.frame[columns[-1]]
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        labels = series.to_numpy(dtype=np.float64)
        refused = ~np.isfinite(labels)
    else:
        labels = np.array([cell.strip(" \t") if isinstance(cell, str) else "" for cell in series], dtype=object)
        refused = np.array([label_problem(label) is not None for label in labels], dtype=bool)
    first_refused = int(np.argmax(refused)) if refused.any() else None
    try:
        block, first_bad = _float_columns(records, columns[:-1], names[:-1])
    except MemoryError:
        raise DataTooLarge(source, None, records.row(len(records) - 1)) from None
    if first_bad is not None and (first_refused is None or first_bad[0] <= first_refused):
        raise _bad_cell(records, *first_bad, source)
    if first_refused is not None:
        place = where(source, records.row(first_refused), records.line(first_refused), names[-1])
        raise DataError(f"{place}: {label_problem(labels[first_refused])}")
    return block, labels


class _Gathered:
    """Blocks of columns, shape (c, m) each, gathered into one float64 block, shape (c, n).

    Where the reader knows the file's size, the block is allocated once, from the rows the
    first block of records suggests (with a margin), so that the data is held about once;
    elsewhere, or when the estimate falls short, the pieces are joined at the end.
    """

    MARGIN = 1.05

    def __init__(self, width: int, reader: CsvReader):
        self.width, self.reader = width, reader
        self.buffer, self.filled, self.pieces = None, 0, []

    def add(self, block: np.ndarray) -> None:
        reader, m = self.reader, block.shape[1]
        try:
            foreseeable = reader.size and reader.rows_read and reader.bytes_parsed < reader.size
            if self.buffer is None and not self.pieces and foreseeable:
                per_row = (reader.bytes_parsed - reader.header_bytes) / reader.rows_read
                expected = int((reader.size - reader.header_bytes) / per_row * self.MARGIN) + 1
                self.buffer = np.empty((self.width, expected))
            if self.buffer is not None and self.filled + m <= self.buffer.shape[1]:
                self.buffer[:, self.filled : self.filled + m] = block
                self.filled += m
                return
            if self.buffer is not None:
                self.pieces, self.buffer = [self.buffer[:, : self.filled]], None
            self.pieces.append(block)
        except MemoryError:
            raise DataTooLarge(reader.name, reader.bytes_read, reader.rows_read) from None

    def block(self) -> np.ndarray:
        """The gathered block, C-contiguous: rows of the allocation moved together in place."""
        if self.buffer is not None:
            capacity, n = self.buffer.shape[1], self.filled
            flat = self.buffer.reshape(-1)
            for row in range(1, self.width):
                flat[row * n : row * n + n] = flat[row * capacity : row * capacity + n]
            return flat[: self.width * n].reshape(self.width, n)
        try:
            return np.concatenate(self.pieces, axis=1) if len(self.pieces) > 1 else self.pieces[0]
        except MemoryError:
            raise DataTooLarge(self.reader.name, self.reader.bytes_read, self.reader.rows_read) from None


def _float_block(records: Records, columns: list[int], names: list[str], source: str,
                 targets: Sequence[str] = ()) -> np.ndarray:
    """The columns of a block of records as one feature-major float64 block, shape (len(columns), m).

    A DataError names the first cell that is not a finite number, in the order of the file:
    the first such row, and in it the first such column. `targets`: the names among `names` of
    a regressor's target columns, where text may be class labels (TextTarget says so).
    """
    try:
        block, first_bad = _float_columns(records, columns, names)
    except MemoryError:
        raise DataTooLarge(source, None, records.row(len(records) - 1)) from None
    if first_bad is not None:
        raise _bad_cell(records, *first_bad, source, target=first_bad[2] in targets)
    return block


def _float_columns(records: Records, columns: list[int], names: list[str]) -> tuple[np.ndarray, tuple | None]:
    """The columns as float64, shape (len(columns), m), and (frame row, column, name) of the first
    cell in the file's order that is not a finite number, or None."""
    block = np.empty((len(columns), len(records)))
    first_bad = None
    for row, column, name in zip(block, columns, names):
        row[:] = _float_column(records, column)
        finite = np.isfinite(row)
        if not finite.all():
            index = int(np.argmin(finite))
            if first_bad is None or index < first_bad[0]:
                first_bad = (index, column, name)
    return block, first_bad


@dataclass
class StreamedDataset:
    """Training data read from a file in chunks of `chunk_rows` rows, as often as asked; no row is kept."""

    features: tuple[str, ...]
    target: str
    source: str
    sep: str
    chunk_rows: int
    sep_detected: bool = False
    trimmed: list[str] = field(default_factory=list)
    labels: bool = False

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """A fresh pass over the file: (X, y) per chunk, X : shape (m, k), y : shape (m,), float64
        (with `labels`, the chunk's class labels as read: iter_training_chunks')."""
        return iter_training_chunks(self.source, self.features, self.target, self.sep, self.chunk_rows, labels=self.labels)

    def files(self) -> list[tuple[str, Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]]]:
        """Each file of the data, by the name messages give it, and a fresh pass over its chunks
        (chunks' of that file alone), in order: a row is counted within its file."""
        return [(self.source, self.chunks)]


def rereadable(source: str) -> bool:
    """Whether `source` can be read twice: a regular file (plain or gzip), not stdin, a FIFO or a pipe."""
    if source == "-":
        return False
    try:
        return stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def stream_dataset(
    source: str, features: Sequence[str], target: str, sep: str | None, chunk_rows: int, labels: bool = False
) -> StreamedDataset:
    """Check a training CSV's header now, to read its rows in chunks later (load_dataset's checks;
    `labels`: its target column holds class labels).

    Training reads the file twice, so it has to be a regular file: stdin or a pipe can be read once.
    """
    name = display_name(source)
    _check_names(features, target)
    if not rereadable(source):
        raise DataError(
            f"{name}: streaming reads the data twice, and stdin or a pipe can be read only once; "
            "save it to a file and give its path"
        )
    with CsvReader(source, sep) as reader:
        _columns(reader, [*features, target])
        header = reader.header
    return StreamedDataset(tuple(features), target, name, header.sep, chunk_rows, header.detected,
                           _trimmed(header, [*features, target]), labels)


def iter_training_chunks(
    source: str, features: Sequence[str], target: str, sep: str | None, chunk_rows: int, name: str | None = None,
    labels: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream a training CSV in chunks of `chunk_rows` rows: (X, y) as load_dataset makes them;
    with `labels`, y is the chunk's class labels as read (a piece of labels_of's: the column's kind,
    numbers or text, is known only once every chunk has been read).

    The checks and messages are load_dataset's, with rows numbered from the file's first.
    """
    names = [*features, target]
    with CsvReader(source, sep, name) as reader:
        columns = _columns(reader, names)
        pending, rows = [], 0
        for records in reader.records():
            if labels:
                block, read = _labelled_block(records, columns, names, reader.name)
                pending.append((block, read))
            else:
                pending.append((_float_block(records, columns, names, reader.name, (target,)), None))
            rows += len(records)
            while rows >= chunk_rows:
                X, y, rest = _chunk_of(pending, chunk_rows, labels)
                yield X, y
                pending, rows = [rest], rows - chunk_rows
        if rows:
            X, y, _ = _chunk_of(pending, rows, labels)
            yield X, y
        if reader.rows_read == 0:
            raise DataError(f"{reader.name}: has a header but no data rows; add rows of {','.join(reader.header.names)} values")


def _chunk_of(pending: list, rows: int, labels: bool) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The first `rows` rows of the pending (block, labels) pieces, as (X, y), and the rest as one
    piece. A block is feature-major, shape (columns, m), with the target last unless `labels`
    holds it apart, shape (m,)."""
    block = np.concatenate([piece for piece, _ in pending], axis=1)
    if labels:
        read = np.concatenate([piece for _, piece in pending])
        return block[:, :rows].T, read[:rows], (block[:, rows:], read[rows:])
    return block[:-1, :rows].T, block[-1, :rows], (block[:, rows:], None)


@dataclass
class PredictionChunk:
    """Rows of a CSV read for prediction: their text as it was, and their features as floats.

    header : the header record's bytes, without its line end (and without a byte-order mark)
    texts : this chunk's records as bytes, without their line ends (a quoted field may hold one)
    X : shape (len(texts), k), the model's feature columns
    rows_before : data rows before this chunk
    """

    header: bytes
    columns: list[str]
    sep: str
    texts: list[bytes]
    X: np.ndarray
    rows_before: int


def iter_prediction_chunks(source: str, features: Sequence[str], sep: str | None = None,
                           name: str | None = None) -> Iterator[PredictionChunk]:
    """Stream a CSV in blocks of records, each with its feature columns parsed.

    The records pass through as bytes, so predict can write them back unchanged; only the
    feature columns are converted. Memory stays bounded by the block size whatever the file's
    length. `features` are the columns a model was trained on; `name` names the file in messages.
    """
    with CsvReader(source, sep, name) as reader:
        header = reader.header
        columns = _columns(reader, features, trained_on=tuple(features))
        for records in reader.records():
            X = _float_block(records, columns, list(features), reader.name).T
            yield PredictionChunk(header.text, header.names, header.sep, records.texts(), X, records.rows_before)
        if reader.rows_read == 0:
            raise DataError(f"{reader.name}: has a header but no data rows; add rows of {','.join(header.names)} values")


def _check_names(features: Sequence[str], target: str | tuple[str, ...]) -> None:
    if not features:
        raise ColumnChoice()
    counts = Counter([*features, *target_names(target)])
    repeated = sorted(column for column, count in counts.items() if count > 1)
    if repeated:
        raise ColumnChoice(repeated[0])


def _columns(reader: CsvReader, required: Sequence[str], trained_on: tuple[str, ...] | None = None,
             target: str | None = None) -> list[int]:
    """The header positions of the required columns, in their order; every check of the header
    (`trained_on`, `target`: the feature columns of the model that reads them and the target it
    is scored against, for the message when one is missing).

    Linear in the number of header names: one Counter, one index, and a "did you mean" search
    only when a name is missing.
    """
    name, header = reader.name, reader.header
    names = header.names
    if all(_is_number(cell) for cell in names):
        raise DataError(
            f"{name}: the first line holds numbers, not column names; add a header line such as {header.sep.join(required)}"
        )
    counts = Counter(names)
    duplicated = [column for column in required if counts[column] > 1]
    if duplicated:
        raise DataError(f"{name}: column {quoted(duplicated[0])} appears more than once in the header; keep one")
    position = {column: index for index, column in enumerate(names)}
    for column in required:
        if column not in position:
            raise MissingColumn(name, column, quoted(column), _suggestion(column, names), trained_on, target,
                                _other_separator(header))
    return [position[column] for column in required]


def _other_separator(header: Header) -> str | None:
    """The name of a separator other than the one used that a header of one column holds: the
    file likely uses it ("x1;x2;x3;y" read with commas). None where there is none."""
    if len(header.names) != 1:
        return None
    return next((separator_name(other) for other in SEPARATOR_NAMES if other != header.sep and other in header.names[0]), None)


def _suggestion(column: str, names: list[str]) -> str:
    """'did you mean 'X1'? columns are 'a', 'b', ...': the closest header name, then the first few."""
    folded = {name.casefold(): name for name in reversed(names)}
    close = [folded[column.casefold()]] if column.casefold() in folded else difflib.get_close_matches(column, names, n=1)
    listed = ", ".join(quoted(c) for c in names[:_LISTED_COLUMNS]) + (", ..." if len(names) > _LISTED_COLUMNS else "")
    hint = f"did you mean {quoted(close[0])}? " if close else ""
    return f"{hint}columns are {listed}"


def _trimmed(header: Header, required: Sequence[str]) -> list[str]:
    """The required columns whose header names had spaces around them."""
    wanted = set(required)
    return [raw for raw, name in zip(header.raw, header.names) if raw != name and name in wanted]


def _is_number(cell: str) -> bool:
    """Whether a cell's text is a number of the CSV grammar, NUMBER."""
    return NUMBER.fullmatch(cell) is not None


def _to_float(cell) -> float:
    """A cell's number by the CSV grammar (NUMBER): NaN where it is none, inf beyond float64's range."""
    text = str(cell)
    return float(text) if _is_number(text) else np.nan


def _float_column(records: Records, column: int) -> np.ndarray:
    """A column as float64: NaN where a cell is empty or not a number, inf beyond float64's range."""
    series = records.frame[column]
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        return series.to_numpy(dtype=np.float64)
    try:
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    except OverflowError:  # an integer too long for float64
        return np.array([_to_float(cell) for cell in series])


def _bad_cell(records: Records, index: int, column: int, label: str, name: str, target: bool = False) -> DataError:
    """The DataError for the cell at frame row `index` of `column`, which is not a finite number
    (TextTarget for text in a regressor's `target` column)."""
    place = where(name, records.row(index), records.line(index), label)
    cell = records.frame[column].iloc[index]
    empty = f"{place}: the cell is empty; fill it in or delete the row"
    beyond = f"{place}: the value is infinite or beyond the float64 range (1.8e308); give a finite value or rescale the column"
    if isinstance(cell, (float, np.floating)):  # the parser made it a number; its text is gone
        return DataError(empty if np.isnan(cell) else beyond)
    text = str(cell).strip()
    if text == "":
        return DataError(empty)
    if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        return DataError(f"{place}: {quoted(text)} is not a finite number; give a real value or delete the row")
    if _is_number(text):
        return DataError(beyond)
    comma = f" (if its comma is a decimal mark, write {text.replace(',', '.')})" if _DECIMAL_COMMA.fullmatch(text) else ""
    if target and not comma:
        return TextTarget(place, quoted(text))
    return DataError(f"{place}: {quoted(text)} is not a number{comma}; fix the cell or delete the row")
