"""DATA in many parts: a glob, a directory or a list of files, each a CSV (plain or gzip) or Parquet.

Every part is read with the single-file reader's checks (data.py, reader.py): its header (or
Parquet schema) must hold the columns asked for, and every cell of them must be a finite
number. Errors name the part and its row, counted from 1 within that part. A CSV part's rows
are its data records after its header; a Parquet part's rows are its rows, in file order.

The parts are listed once, in a fixed order (a directory's files and a glob's matches sorted
by name, a list as given), so that training on them is the same computation on one machine
and on a Dask cluster. Parquet needs pyarrow (`pip install 'fwdback[dask]'`).
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .data import (
    NUMBER,
    Dataset,
    StreamedDataset,
    _check_names,
    _columns,
    _suggestion,
    _targets_of,
    _trimmed,
    iter_prediction_chunks,
    iter_training_chunks,
    labels_of,
    load_dataset,
    target_names,
)
from .classes import label_problem
from .errors import DataError, MissingColumn, TextTarget, UnreadableData, describe, display_name, path_problem
from .outputs import csv_line
from .reader import CsvReader, Header, quoted, where

PARQUET_MAGIC = b"PAR1"
GLOB_CHARACTERS = "*?["
# A Parquet part is read in batches of this many rows.
PARQUET_BATCH_ROWS = 1 << 17


@dataclass(frozen=True)
class Part:
    """One file of DATA: a CSV (plain or gzip) or, where `parquet`, a Parquet file.

    `path` is as DATA gave it, which messages show; `location` the absolute path it is read
    from, the same for a Dask worker, whose working directory is not the command's.
    """

    path: str
    parquet: bool
    location: str = ""

    @classmethod
    def of(cls, path: str) -> Part:
        return cls(path, is_parquet(path), os.path.abspath(path))

    @property
    def name(self) -> str:
        return display_name(self.path)


@dataclass(frozen=True)
class Parts:
    """DATA given as many files: `label` is DATA as typed (for messages and the model file)."""

    label: str
    parts: tuple[Part, ...]


def parts_of(data: Sequence[str]) -> Parts | None:
    """The parts DATA names, in order; None where DATA is one CSV source (a file, "-", a FIFO),
    which the single-file reader reads as ever.

    A directory gives its files sorted by name (hidden ones and those starting with "_", as
    Spark's _SUCCESS, left out); a glob, its matching files sorted by name; several arguments,
    each expanded in turn. DataError where a directory or glob gives no file, or a file is
    listed twice.
    """
    if len(data) == 1 and _one_csv(data[0]):
        return None
    paths: list[str] = []
    for given in data:
        paths += _expand(given)
    seen: dict[str, str] = {}
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            raise DataError(f"{display_name(path)}: is listed twice in DATA (also as {display_name(seen[real])}); "
                            "give each file once")
        seen[real] = path
    label = display_name(data[0]) if len(data) == 1 else f"{display_name(data[0])} and {len(data) - 1} more"
    return Parts(label, tuple(Part.of(path) for path in paths))


def _one_csv(source: str) -> bool:
    if source == "-":
        return True
    if os.path.isdir(source):
        return False
    if os.path.isfile(source):
        return not is_parquet(source)
    # a FIFO, a device or a process substitution is read once, by the single-file reader
    return os.path.exists(source) or not any(character in source for character in GLOB_CHARACTERS)


def _expand(given: str) -> list[str]:
    if given == "-":
        raise DataError("<stdin>: cannot be one of several parts of DATA; save it to a file and list that")
    if os.path.isdir(given):
        names = sorted(name for name in os.listdir(given) if not name.startswith((".", "_")))
        files = [os.path.join(given, name) for name in names if os.path.isfile(os.path.join(given, name))]
        if not files:
            raise DataError(f"{display_name(given)}: the directory holds no data files; give a directory of CSV or Parquet files")
        return files
    if not os.path.exists(given) and any(character in given for character in GLOB_CHARACTERS):
        files = sorted(path for path in glob.glob(given) if os.path.isfile(path))
        if not files:
            raise DataError(f"{display_name(given)}: matches no file; check the pattern")
        return files
    if os.path.exists(given) and not os.path.isfile(given):
        raise DataError(f"{display_name(given)}: is not a regular file, and the parts of DATA are read more than once; "
                        "save it to a file and list that")
    return [given]


def is_parquet(path: str) -> bool:
    """Whether the file starts with Parquet's magic bytes (an unreadable one is left to the CSV reader to report)."""
    try:
        with open(path, "rb") as file:
            return file.read(4) == PARQUET_MAGIC
    except (OSError, ValueError):
        return False


@dataclass
class StreamedParts(StreamedDataset):
    """Training data in parts whose headers were checked, read part by part, in chunks of at most
    `chunk_rows` rows, as often as asked; no row is kept."""

    parts: tuple[Part, ...] = ()
    sep_option: str | None = None

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for part in self.parts:
            yield from part_chunks(part, self.features, self.target, self.sep_option, self.chunk_rows, self.labels)

    def files(self) -> list:
        return [(part.name, functools.partial(part_chunks, part, self.features, self.target, self.sep_option,
                                              self.chunk_rows, self.labels)) for part in self.parts]


def stream_parts(parts: Parts, features: Sequence[str], target: str, sep: str | None, chunk_rows: int,
                 labels: bool = False) -> StreamedParts:
    """Check every part's header (or schema) now, to read the rows later, part by part (`labels`:
    the target column holds class labels)."""
    _check_names(features, target)
    sep_used, detected, trimmed = _headers([check_columns(part, features, target, sep) for part in parts.parts], [*features, target])
    return StreamedParts(tuple(features), target, parts.label, sep_used, chunk_rows, detected, trimmed, labels=labels,
                         parts=parts.parts, sep_option=sep)


def load_parts(parts: Parts, features: Sequence[str], target: str, sep: str | None, model_columns: bool = False,
               labels: bool = False) -> Dataset:
    """Every part's rows in memory, in order, as one Dataset (load_dataset's checks, part by part;
    `labels`: its target column of class labels, data.labels_of them all)."""
    _check_names(features, target)
    checked = [check_columns(part, features, target, sep, model_columns) for part in parts.parts]
    pieces = [read_part(part, features, target, sep, labels) for part in parts.parts]
    X = np.concatenate([X for X, _ in pieces])
    y = labels_of([y for _, y in pieces]) if labels else np.concatenate([y for _, y in pieces])
    return Dataset(X, y, tuple(features), target, parts.label, *_headers(checked, [*features, *target_names(target)]),
                   parts=tuple((part.name, len(X)) for part, (X, _) in zip(parts.parts, pieces)))


def _headers(headers: list[Header | None], required: list[str]) -> tuple[str, bool, list[str]]:
    """What the CSV parts' headers say together: the first one's separator, whether every
    separator was detected, and the required names that had spaces around them in any."""
    csv = [header for header in headers if header is not None]
    trimmed = sorted({name for header in csv for name in _trimmed(header, required)})
    return (csv[0].sep if csv else ","), bool(csv) and all(header.detected for header in csv), trimmed


def check_columns(part: Part, features: Sequence[str], target: str, sep: str | None,
                  model_columns: bool = False) -> Header | None:
    """A part's header (or Parquet schema) checked for the columns, as data.load_dataset checks
    a file's: the CSV header, or None for Parquet. MissingColumn names the part."""
    names = [*features, *target_names(target)]
    model_reads = {"trained_on": tuple(features), "target": target} if model_columns else {}
    if part.parquet:
        _parquet_positions(_parquet_file(part).schema_arrow.names, part, names, **model_reads)
        return None
    with CsvReader(part.location, sep, part.name) as reader:
        _columns(reader, names, **model_reads)
        return reader.header


def read_part(part: Part, features: Sequence[str], target: str, sep: str | None,
              labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A part's rows: X : shape (m, k), y : shape (m,) (or (m, t) for t targets), float64, every
    cell checked; with `labels`, y is the part's class labels (a piece of data.labels_of's)."""
    if part.parquet:
        names = list(features) if labels else [*features, *target_names(target)]
        block = np.concatenate(list(_parquet_blocks(part, names, PARQUET_BATCH_ROWS, target_names(target))), axis=1)
        if labels:
            return block.T, _parquet_labels(part, target)
        return block[: len(features)].T, _targets_of(block, len(features))
    dataset = load_dataset(part.location, features, target, sep, name=part.name, labels=labels)
    return dataset.X, dataset.y


def _parquet_labels(part: Part, column: str) -> np.ndarray:
    """A Parquet part's column of class labels, shape (m,): float64 for a column of numbers, else
    each cell's text, trimmed; DataError at its first empty cell, or for a column of neither."""
    import pyarrow
    import pyarrow.compute

    file = _parquet_file(part)
    pieces, rows_before = [], 0
    for batch in parquet_batches(part, file, PARQUET_BATCH_ROWS, [column]):
        array, kind = batch.column(column), batch.column(column).type
        if pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind):
            piece = np.array([None if text is None else text.strip(" \t") for text in array.to_pylist()], dtype=object)
            refused = np.array([label_problem(text) is not None for text in piece], dtype=bool)
        elif pyarrow.types.is_integer(kind) or pyarrow.types.is_floating(kind) or pyarrow.types.is_decimal(kind):
            piece = pyarrow.compute.cast(array, pyarrow.float64(), safe=False).to_numpy(zero_copy_only=False)
            refused = ~np.isfinite(piece)
        else:
            raise DataError(f"{part.name}, column {column}: holds {kind} values, not class labels; give a column of "
                            "numbers or text")
        if refused.any():
            index = int(np.argmax(refused))
            raise DataError(f"{where(part.name, rows_before + index + 1, None, column)}: {label_problem(piece[index])}")
        pieces.append(piece)
        rows_before += batch.num_rows
    return np.concatenate(pieces) if pieces else np.empty(0)


def part_chunks(part: Part, features: Sequence[str], target: str, sep: str | None,
                chunk_rows: int, labels: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A part's rows in chunks of at most chunk_rows: (X, y), X : shape (m, k), y : shape (m,)
    (with `labels`, the chunk's class labels as read: data.iter_training_chunks')."""
    if part.parquet and labels:
        read, first = _parquet_labels(part, target), 0
        for block in _parquet_blocks(part, list(features), chunk_rows):
            yield block.T, read[first : first + block.shape[1]]
            first += block.shape[1]
    elif part.parquet:
        for block in _parquet_blocks(part, [*features, target], chunk_rows, (target,)):
            yield block[:-1].T, block[-1]
    else:
        yield from iter_training_chunks(part.location, features, target, sep, chunk_rows, part.name, labels)


def _parquet_file(part: Part):
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DataError(f"{part.name}: is a Parquet file, and reading Parquet needs pyarrow; "
                        "install it with pip install 'fwdback[dask]'") from None
    try:
        return pyarrow.parquet.ParquetFile(part.location)
    except OSError as error:
        if not os.path.exists(part.location):
            raise DataError(f"{part.name}: {path_problem(error)}") from None
        raise DataError(f"{part.name}: is not a readable Parquet file ({error}); check that the file is intact") from None
    except pyarrow.ArrowException as error:
        raise DataError(f"{part.name}: is not a readable Parquet file ({error}); check that the file is intact") from None


def _parquet_positions(schema: list[str], part: Part, names: Sequence[str], trained_on=None, target=None) -> list[int]:
    """The schema positions of the columns `names`: data._columns' checks for a Parquet part."""
    counts: dict[str, int] = {}
    for name in schema:
        counts[name] = counts.get(name, 0) + 1
    for column in names:
        if counts.get(column, 0) > 1:
            raise DataError(f"{part.name}: column {quoted(column)} appears more than once; keep one")
        if column not in counts:
            raise MissingColumn(part.name, column, quoted(column), _suggestion(column, schema), trained_on, target)
    return [schema.index(column) for column in names]


def _parquet_blocks(part: Part, names: Sequence[str], batch_rows: int,
                    targets: Sequence[str] = ()) -> Iterator[np.ndarray]:
    """A Parquet part's columns `names` as float64 blocks, shape (len(names), m) each, every
    cell checked as a CSV cell is: present, a number (a text column's cells by the CSV grammar),
    finite; `targets`, the names among them of a regressor's targets (data._float_block's)."""
    file = _parquet_file(part)
    _parquet_positions(file.schema_arrow.names, part, names)
    rows_before = 0
    for batch in parquet_batches(part, file, batch_rows, list(names)):
        block = np.empty((len(names), batch.num_rows))
        for row, name in zip(block, names):
            row[:] = _parquet_column(batch.column(name), part, name, rows_before, name in targets)
        rows_before += batch.num_rows
        yield block
    if rows_before == 0:
        raise DataError(f"{part.name}: has no data rows; give a Parquet file with rows of {','.join(names)}")


def parquet_batches(part: Part, file, batch_rows: int, columns: list[str] | None = None) -> Iterator:
    """A Parquet part's record batches of at most batch_rows rows (of `columns`; None: all),
    row group by row group. Bytes that do not decode (a scrambled page under an intact footer)
    are errors.UnreadableData naming the part and the row group, here or on a Dask worker."""
    import pyarrow

    metadata = file.metadata
    first = 1
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        batches = file.iter_batches(batch_size=batch_rows, row_groups=[group], columns=columns)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except (OSError, pyarrow.ArrowException) as error:
                place = f"row group {group + 1} of {metadata.num_row_groups} (rows {first:,} to {first + rows - 1:,})"
                raise UnreadableData(part.name, describe(error), place) from None
            yield batch
        first += rows


def _parquet_column(array, part: Part, column: str, rows_before: int, target: bool = False) -> np.ndarray:
    """One column of a batch as float64, shape (m,); DataError at its first cell that is not a
    finite number, naming the part, the row and the column (TextTarget for text in a
    regressor's `target` column)."""
    import pyarrow
    import pyarrow.compute

    kind = array.type
    place = lambda index: where(part.name, rows_before + index + 1, None, column)  # noqa: E731
    if array.null_count:
        index = int(np.argmax(array.is_null().to_numpy(zero_copy_only=False)))
        raise DataError(f"{place(index)}: the cell is empty; fill it in or delete the row")
    if pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind):
        texts = array.to_pylist()
        numbers = np.array([float(text) if NUMBER.fullmatch(text) else np.nan for text in texts])
        finite = np.isfinite(numbers)
        if not finite.all():
            index = int(np.argmin(finite))
            text = texts[index].strip()
            if NUMBER.fullmatch(texts[index]):
                problem = "the value is infinite or beyond the float64 range (1.8e308); give a finite value or rescale the column"
            elif text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
                problem = f"{quoted(text)} is not a finite number; give a real value or delete the row"
            elif text == "":
                problem = "the cell is empty; fill it in or delete the row"
            elif target:
                raise TextTarget(place(index), quoted(text))
            else:
                problem = f"{quoted(text)} is not a number; fix the cell or delete the row"
            raise DataError(f"{place(index)}: {problem}")
        return numbers
    if not (pyarrow.types.is_integer(kind) or pyarrow.types.is_floating(kind) or pyarrow.types.is_decimal(kind)):
        raise DataError(f"{part.name}, column {column}: holds {kind} values, not numbers; give a column of numbers")
    numbers = pyarrow.compute.cast(array, pyarrow.float64(), safe=False).to_numpy(zero_copy_only=False)
    finite = np.isfinite(numbers)
    if not finite.all():
        index = int(np.argmin(finite))
        problem = ("the value is infinite or beyond the float64 range (1.8e308)" if np.isinf(numbers[index])
                   else "'nan' is not a finite number")
        raise DataError(f"{place(index)}: {problem}; give a finite value or delete the row")
    return numbers


@dataclass
class PredictedBlock:
    """Output of predict for some rows of a part: the CSV text to write (the header first, where
    asked for), and the header it goes under (bytes), to check that the parts' headers agree."""

    header: bytes
    text: bytes = field(repr=False)


def predicted_columns(model) -> list[str]:
    """The columns predict adds, named after the model's targets: price_hat for a model of price;
    y1_hat, y2_hat, ... for a model of several targets; for a classifier of y, each class's
    probability, y_prob_<label>, then the most probable class, y_hat."""
    if model.classes is not None:
        return [f"{model.target}_prob_{label}" for label in model.classes.labels] + [f"{model.target}_hat"]
    return [f"{name}_hat" for name in model.targets]


def _taken(columns, added: list[str], name: str) -> None:
    """A column of the name predict adds is refused: two columns of one name would leave every
    reader of the CSV to guess which is the prediction."""
    taken = next((column for column in added if column in columns), None)
    if taken:
        raise DataError(f"{name}: already has a {taken} column, the name of the predictions predict adds; "
                        "drop or rename that column first")


def predicted_blocks(source: str | Part, model, sep: str | None, with_header: bool) -> Iterator[PredictedBlock]:
    """DATA's rows with <target>_hat (y1_hat, y2_hat, ... for several; a classifier's
    predicted_columns) appended, as predict writes them, block by block: of one CSV source (a
    path, "-") or of a part.

    A CSV's records pass through as they were with `<sep><target>_hat` appended; a Parquet part's
    rows are written as CSV (comma-separated, its columns in order, numbers in round-trip
    form). `model` is a modelfile.Model.
    """
    if isinstance(source, Part) and source.parquet:
        yield from _predicted_parquet(source, model, with_header)
        return
    path, name = (source.location, source.name) if isinstance(source, Part) else (source, display_name(source))
    added = predicted_columns(model)
    for chunk in iter_prediction_chunks(path, model.features, sep, name):
        separator = chunk.sep.encode()
        header = chunk.header + separator + csv_line(added, chunk.sep).encode()
        if chunk.rows_before == 0:
            _taken(chunk.columns, added, name)
        predictions = _predictions(model, chunk.X, name, chunk.rows_before)
        if model.classes is None:
            tails = [b"%b%b\n" % (separator, separator.join(repr(value).encode() for value in row)) for row in predictions.tolist()]
        else:
            tails = [b"%b%b" % (separator, csv_line([*map(repr, row), label], chunk.sep).encode())
                     for row, label in zip(predictions.tolist(), model.classes.predicted(predictions))]
        text = b"".join(map(bytes.__add__, chunk.texts, tails))
        yield PredictedBlock(header, (header if with_header and chunk.rows_before == 0 else b"") + text)


def _predicted_parquet(part: Part, model, with_header: bool) -> Iterator[PredictedBlock]:
    import pyarrow

    file = _parquet_file(part)
    names = file.schema_arrow.names
    added = predicted_columns(model)
    _taken(names, added, part.name)
    _parquet_positions(names, part, model.features, trained_on=tuple(model.features))
    header = csv_line([*names, *added]).encode()
    # the frame's columns by position: those the model does not read pass through whatever their names, as a CSV's do
    positions = [str(index) for index in range(len(names) + len(added))]
    rows_before = 0
    for batch in parquet_batches(part, file, PARQUET_BATCH_ROWS):
        X = np.column_stack([_parquet_column(batch.column(column), part, column, rows_before) for column in model.features])
        try:
            frame = batch.rename_columns(positions[: len(names)]).to_pandas()
        except pyarrow.ArrowException as error:
            raise DataError(f"{part.name}: its columns cannot be written as CSV ({describe(error)}); give predict a "
                            "Parquet file of plain columns") from None
        predictions = _predictions(model, X, part.name, rows_before)
        if model.classes is not None:
            predictions = np.column_stack([predictions.astype(object), model.classes.predicted(predictions)])
        frame[positions[len(names) :]] = predictions
        text = frame.to_csv(index=False, header=False, lineterminator="\n").encode()
        yield PredictedBlock(header, (header if with_header and rows_before == 0 else b"") + text)
        rows_before += batch.num_rows
    if rows_before == 0:
        raise DataError(f"{part.name}: has no data rows; give a Parquet file with rows of {','.join(model.features)}")


def _predictions(model, X: np.ndarray, name: str, rows_before: int) -> np.ndarray:
    """yhat, shape (r, m) (m = 1 for one target), or a classifier's probabilities of its c
    classes, shape (r, c) (modelfile.Model.probabilities), for X : shape (r, k); DataError at the
    first row whose prediction overflows."""
    with np.errstate(all="ignore"):
        predictions = model.predict(X).reshape(len(X), -1) if model.classes is None else model.probabilities(X)
    finite = np.isfinite(predictions).all(axis=1)
    if not finite.all():
        index = int(np.argmin(finite))
        shown = predictions[index]
        raise DataError(
            f"{where(name, rows_before + index + 1)}: the prediction is {shown[0] if len(shown) == 1 else list(shown)}, beyond float64's "
            "range: the model's weights or this row's inputs are too large; check that the row is in the units the "
            "model was trained on, and the model's weights"
        )
    return predictions


def same_header(part: Part, header: bytes, first: bytes | None) -> bytes:
    """The header of predict's one CSV: the first part's; DataError where a later part's differs."""
    if first is not None and header != first:
        raise DataError(f"{part.name}: its columns ({header.decode().rstrip()}) differ from the first part's "
                        f"({first.decode().rstrip()}), and predict writes one CSV; give parts with the same header, "
                        "or write one CSV a part with --output-dir")
    return header


def own_header(part: Part, sep: str | None) -> bytes:
    """A part's columns as its file names them: a CSV's header line, a Parquet file's column names
    as a CSV record (what predict writes for it)."""
    if part.parquet:
        return csv_line(_parquet_file(part).schema_arrow.names).rstrip("\n").encode()
    with CsvReader(part.location, sep, part.name) as reader:
        return reader.header.text


def output_name(part: Part) -> str:
    """The name of predict --output-dir's CSV for a part: its file name, as .csv ('a.csv.gz',
    'a.parquet' -> 'a.csv')."""
    name = os.path.basename(part.path)
    for suffix in (".gz", ".parquet", ".pq", ".csv"):
        name = name.removesuffix(suffix)
    return name + ".csv"


def predicted_part(part: Part, model, sep: str | None, with_header: bool) -> tuple[bytes, bytes]:
    """A whole part's predict output: (its header, the CSV text), for a Dask worker to compute."""
    blocks = list(predicted_blocks(part, model, sep, with_header))
    return blocks[0].header, b"".join(block.text for block in blocks)
