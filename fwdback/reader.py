"""A CSV read strictly and once: its header, then blocks of whole records with exact row and line numbers.

pandas parses numbers fast but forgives what fwdback must not: it fills a short row with
empty cells, drops a trailing separator, and takes a field more than the header for an index
column. So the reader opens the data once (a file, stdin, a FIFO, a gzip stream), cuts it into
blocks of whole records, and checks every block's structure before its numbers are trusted:

- a block without quote characters is parsed by pandas (frame_of), in a thread ahead of the
  block being checked; it is accepted when pandas raised nothing, the first line it reads has
  no field more than the header (pandas raises for any later one) and the block holds exactly
  (fields - 1) separators for each row pandas found, so that no row can have more or fewer
  fields than the header;
- anything else (a quote, or a block that fails that check) is read by Python's csv module,
  record by record, which is the reference: the first row whose number of fields differs from
  the header's is named, with its row and line.

A plain file (not stdin, a pipe or gzip) is first read at once
(CsvReader.parsed_at_once): its bytes scanned, then one pandas.read_csv of the whole file,
its numbers straight to float64, taken only where it provably is the csv module's reading; anywhere else
the blocks above read it again and name the problem.

Rows are the file's data records counted from 1 after the header, blank lines not counted;
lines are the file's physical lines counted from 1. A block is at most BLOCK_BYTES and a record
at most MAX_RECORD_BYTES, so memory is bounded whatever the input, and the work is linear in
its size.
"""

from __future__ import annotations

import codecs
import collections
import csv
import gzip
import io
import os
import re
import stat
import sys
import warnings
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError, UnreadableData, describe, display_name, path_problem

BLOCK_BYTES = 4 << 20
# The first piece read, which holds the header of most files: a file parsed at once reads no more.
HEADER_PIECE_BYTES = 1 << 16
# The window in which a file parsed at once is scanned (as fast from 256 KiB to 4 MiB).
SCAN_BYTES = 1 << 20
PARSED_AHEAD = 2
MAX_RECORD_BYTES = 64 << 20
# Python's csv module refuses a field over 128 KiB; here a field may be as long as its record.
csv.field_size_limit(MAX_RECORD_BYTES)
DETECTED_SEPARATORS = (";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
CELL_CHARACTERS = 40
_BOM = codecs.BOM_UTF8
_GZIP_MAGIC = b"\x1f\x8b"


def separator_name(sep: str) -> str:
    return SEPARATOR_NAMES.get(sep, repr(sep))


def quoted(text: str) -> str:
    """A cell as a message shows it: in quotes, cut to CELL_CHARACTERS characters."""
    if len(text) > CELL_CHARACTERS:
        return repr(text[:CELL_CHARACTERS]) + f"... ({len(text):,} characters)"
    return repr(text)


def where(name: str, row: int | None, line: int | None = None, column: str | None = None) -> str:
    """'data.csv, row 3 (line 5), column x2': the line only where it is not row + 1; 'data.csv, line 9'
    where the row is not known."""
    if row is None:
        text = f"{name}, line {line}"
    else:
        text = f"{name}, row {row}"
        if line is not None and line != row + 1:
            text += f" (line {line})"
    return text + (f", column {column}" if column is not None else "")


@dataclass
class Header:
    """The header record: `names` trimmed of surrounding spaces, `raw` as written, `text` its bytes."""

    names: list[str]
    raw: list[str]
    sep: str
    detected: bool
    text: bytes
    lines: int

    @property
    def trimmed(self) -> list[str]:
        """The names that had spaces around them, as written."""
        return [raw for raw, name in zip(self.raw, self.names) if raw != name]


@dataclass
class Records:
    """The records of one block, parsed: every column as text or numbers, and where each row is.

    frame : one column per header field, labelled 0..N-1, one row per data record
    rows_before : data rows before this block; frame row i is data row rows_before + i + 1
    """

    frame: pd.DataFrame
    rows_before: int
    block: Block

    def __len__(self) -> int:
        return len(self.frame)

    def row(self, index: int) -> int:
        return self.rows_before + index + 1

    def line(self, index: int) -> int:
        """The physical line on which frame row `index` starts."""
        return self.block.line_of(index)

    def texts(self) -> list[bytes]:
        """Each record's bytes as written, without its line end (a quoted field may hold line ends)."""
        return self.block.record_texts()


class Block:
    """Whole records, as bytes whose lines all end in \\n, and where they sit in the file."""

    def __init__(self, data: bytes, header: Header, name: str, rows_before: int, lines_before: int, lines: int):
        """`lines`: the number of physical lines in `data` (Scanned's)."""
        self.data = data
        self.header = header
        self.name = name
        self.rows_before = rows_before
        self.lines_before = lines_before
        self.quoted = b'"' in data
        self.lines = lines
        self._records: list[tuple[int, int, list[str]]] | None = None

    def parse(self, frame: pd.DataFrame | None = None) -> Records:
        """The block's records as a frame, after checking that every row has the header's fields.
        `frame`: pandas' parse of the block (frame_of's), made in advance, or None where there is none."""
        if not self.quoted:
            if frame is not None:
                self.rows = len(frame)
                return Records(frame, self.rows_before, self)
        records = self._csv_records()
        fields = len(self.header.names)
        for row, line, cells in records:
            if len(cells) != fields:
                raise self._ragged(row, line, cells, fields)
        self.rows = len(records)
        frame = pd.DataFrame([cells for _, _, cells in records], columns=range(fields), dtype=object)
        return Records(frame, self.rows_before, self)

    def _csv_records(self) -> list[tuple[int, int, list[str]]]:
        """(row, line, fields) of every non-blank record, by Python's csv module."""
        if self._records is not None:
            return self._records
        lines = _lines(self.data.decode("utf-8"))
        consumed = 0

        def feed():
            nonlocal consumed
            for text in lines:
                consumed += 1
                yield text

        reader = csv.reader(feed(), delimiter=self.header.sep, strict=True, skipinitialspace=True)
        records, row, start = [], self.rows_before, 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise self._malformed(row + 1, self.lines_before + start + 1, str(error)) from None
            if cells and not (len(cells) == 1 and not cells[0].strip(" \t\r")):
                row += 1
                records.append((row, self.lines_before + start + 1, cells, start, consumed))
            start = consumed
        self._spans = [(first, last) for *_, first, last in records]
        self._records = [(row, line, cells) for row, line, cells, _, _ in records]
        return self._records

    def line_of(self, index: int) -> int:
        if self.lines == self.rows:
            return self.lines_before + index + 1
        return self._csv_records()[index][1]

    def record_texts(self) -> list[bytes]:
        if not self.quoted:
            texts = [line.rstrip(b"\r") for line in self.data.split(b"\n")]
            return [text for text in texts if text.strip(b" \t\r")]
        self._csv_records()
        lines = _lines(self.data.decode("utf-8"))
        return ["".join(lines[first:last]).rstrip("\n").rstrip("\r").encode("utf-8") for first, last in self._spans]

    def _ragged(self, row: int, line: int, cells: list[str], fields: int) -> DataError:
        detail = ""
        if len(cells) == fields + 1 and not cells[-1].strip():
            detail = " (it ends with a separator)"
        elif len(cells) < fields:
            detail = f" (it stops before {quoted(self.header.names[len(cells)])})"
        plural = "s" if len(cells) != 1 else ""
        return DataError(
            f"{where(self.name, row, line)}: has {len(cells)} field{plural} where the header has {fields}{detail}; "
            "give every row the header's number of fields"
        )

    def _malformed(self, row: int, line: int, problem: str) -> DataError:
        if "unexpected end of data" in problem:
            problem = "a quoted field is never closed"
        return DataError(f"{where(self.name, row, line)}: is not valid CSV ({problem}); check its quoting")


@dataclass
class Scanned:
    """What a block's turn needs from its bytes alone, so that it is made in a thread, ahead
    (CsvReader.records): whether they are clean text (no NUL byte, UTF-8), how many physical
    lines they hold, and pandas' parse where they are clean and unquoted (frame_of's)."""

    clean: bool
    lines: int
    frame: pd.DataFrame | None

    @classmethod
    def of(cls, data: bytes, sep: str, fields: int) -> Scanned:
        # np.count_nonzero of a comparison: ten times bytes.count's speed on megabytes
        lines = int(np.count_nonzero(np.frombuffer(data, np.uint8) == ord("\n"))) + (0 if data.endswith(b"\n") else 1)
        clean = b"\x00" not in data and (data.isascii() or _is_utf8(data))
        return cls(clean, lines, frame_of(data, sep, fields) if clean and b'"' not in data else None)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def frame_of(data: bytes, sep: str, fields: int) -> pd.DataFrame | None:
    """pandas' parse of an unquoted block of whole records, one column per header field, or None
    where it does not provably match the file: where pandas raised, or where the block does not
    hold (fields - 1) separators for each row pandas found.

    The cells are the ones the csv module's skipinitialspace gives, spaces after a separator
    dropped. pandas reads a number with spaces before it as that number, so the block is
    parsed first as it is written (a quarter faster than with skipinitialspace); only where a
    column came out as text and a cell may start with a space is it parsed again, dropping them.

    pandas raises for a line with more fields than the header's but for the first line it
    reads, whose extra fields it drops (with a warning where they hold text): that line's
    separators are counted first. Then no line holds more than (fields - 1) separators, and
    the count over the block leaves none with fewer. A function of the bytes alone, which
    catches no warning (that is not thread-safe), so that blocks are parsed in threads.
    """
    if _first_line(data, sep).count(sep.encode()) > fields - 1:
        return None
    frame = _read_csv(data, sep, fields, skip_spaces=False)
    text = frame is not None and not all(pd.api.types.is_numeric_dtype(frame[column]) for column in frame)
    if text and _spaced(data, sep):
        frame = _read_csv(data, sep, fields, skip_spaces=True)
    if frame is None:
        return None
    separators = np.count_nonzero(np.frombuffer(data, np.uint8) == ord(sep))
    return frame if separators == (fields - 1) * len(frame) else None


def _first_line(data: bytes, sep: str) -> bytes:
    """The first line of a block that holds a separator or more than spaces: the first pandas reads."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        line = data[start:] if end < 0 else data[start:end]
        if end < 0 or line.strip(b" \t\r") or sep.encode() in line:
            return line
        start = end + 1


def _read_csv(data: bytes, sep: str, fields: int, skip_spaces: bool) -> pd.DataFrame | None:
    """pandas' parse of a block, one column per header field, or None where pandas raised."""
    try:
        return pd.read_csv(
            io.BytesIO(data), sep=sep, header=None, names=range(fields), index_col=False, skipinitialspace=skip_spaces,
            keep_default_na=False, na_values=[""], low_memory=False, engine="c", encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None


def _spaced(data: bytes, sep: str) -> bool:
    """Whether a cell of a block may start with a space: one follows a separator or starts a line."""
    return data.startswith(b" ") or b"\n " in data or (sep + " ").encode() in data


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its \\n (the last without one if the text does not end in it)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


class CsvReader:
    """One CSV source, opened once: its header at once, then its blocks of records.

    Use as a context manager; `records()` reads the rest of the source once. `size` is the
    source's size in bytes where it is a plain file (None for stdin, a pipe or gzip), and
    `header_bytes` the bytes up to the first data row.
    """

    def __init__(self, source: str, sep: str | None = None, name: str | None = None):
        """`name` names the source in messages (default: its path as display_name shows it)."""
        self.source = source
        self.name = name or display_name(source)
        self._raw, self.stream = _open(source, self.name)
        self.bytes_read = 0
        self.size = _plain_file_size(self._raw, self.stream)
        try:
            self._pending = b""
            self._queued = 0  # bytes of blocks cut from the source and not yet handed out
            self._eof = False
            self._translate_cr = False
            self.header = self._read_header(sep)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._raw is not None and self._raw is not _stdin_buffer():
            self._raw.close()
        self._raw = None

    def _read(self, size: int) -> bytes:
        """The next `size` bytes of the source (decompressed), fewer at its end, b"" there."""
        try:
            piece = self.stream.read(size)
        except (OSError, EOFError, zlib.error) as error:
            raise UnreadableData(self.name, describe(error)) from None
        self.bytes_read += len(piece)
        if self._translate_cr:
            piece = piece.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return piece

    def _read_header(self, sep: str | None) -> Header:
        data = self._read(min(HEADER_PIECE_BYTES, BLOCK_BYTES))
        if data.startswith(_BOM):
            data = data[len(_BOM) :]
        if b"\n" not in data and b"\r" in data:
            self._translate_cr = True
            data = data.replace(b"\r", b"\n")
        if not data.strip():
            raise DataError(f"{self.name}: is empty; give a CSV file with a header line such as x1,x2,x3,y")
        blank = 0
        while True:
            end = data.find(b"\n")
            if end < 0 or data[:end].strip(b" \t\r"):
                break
            data, blank = data[end + 1 :], blank + 1
        self._pending = data
        text, lines = self._header_record()
        self.header_bytes = self.bytes_parsed
        unquoted = re.sub(r'"[^"]*"', "", text)  # a separator inside a quoted name separates nothing
        detected = sep is None
        if sep is None:
            sep = next((s for s in DETECTED_SEPARATORS if s in unquoted), ",") if "," not in unquoted else ","
        try:
            raw = next(csv.reader([text], delimiter=sep, skipinitialspace=True))
            # The spaces that skipinitialspace took (it lets ` "a,b"` be quoted) belong to the names as written.
            written = next(csv.reader([text], delimiter=sep))
        except (csv.Error, StopIteration):
            raise DataError(f"{self.name}: the header line is not valid CSV; check its quoting") from None
        if len(written) == len(raw):
            raw = [field if field.lstrip(" ") == name else name for field, name in zip(written, raw)]
        names = [name.strip() for name in raw]
        self._rows = 0
        self._lines = blank + lines
        return Header(names, raw, sep, detected, text.rstrip("\r").encode("utf-8"), blank + lines)

    def _header_record(self) -> tuple[str, int]:
        """The header's text (a quoted name may span lines) and how many lines it takes."""
        while True:
            data = self._pending
            cut = _record_end(data, first_only=True)
            if cut is not None or self._eof:
                break
            if len(data) > MAX_RECORD_BYTES:
                raise DataError(
                    f"{self.name}: the header line is longer than {MAX_RECORD_BYTES >> 20} MiB; "
                    "keep only the columns you need"
                )
            self._more()
        cut = len(data) if cut is None else cut
        record, self._pending = data[:cut], data[cut:]
        if len(record.rstrip(b"\r\n")) > MAX_RECORD_BYTES:
            raise DataError(
                f"{self.name}: the header line is longer than {MAX_RECORD_BYTES >> 20} MiB; keep only the columns you need"
            )
        if b"\x00" in record:
            raise DataError(f"{self.name}: is a binary file, not CSV text; give a CSV file (plain or .csv.gz)")
        text = _decode(record, self.name, 1)
        return text.rstrip("\n"), max(1, record.count(b"\n"))

    @property
    def rows_read(self) -> int:
        """Data rows read so far."""
        return self._rows

    @property
    def bytes_parsed(self) -> int:
        """Bytes of the source read into the header and the records handed out so far."""
        return self.bytes_read - len(self._pending) - self._queued

    def _more(self) -> None:
        piece = self._read(BLOCK_BYTES)
        if piece:
            self._pending += piece
        else:
            self._eof = True

    def parsed_at_once(self, numbers: Sequence[int]) -> pd.DataFrame | None:
        """Every record after the header: one pandas.read_csv of the file (which parses a large
        one in pieces on every core), one column per header field, labelled 0..N-1, the
        `numbers` columns float64 and the others as pandas reads them (text held as pandas
        holds it, whole: a column not asked for costs memory here, not in records()).

        None where the source is not a plain file whose header is its first line (stdin, a pipe
        and gzip are read once, by records()), or where a cell of `numbers` is not a number or
        a text is not UTF-8 (pandas raised) or pandas' reading may not be the csv module's:
        records() then reads the file and names the problem. The file after the header must
        hold no quote character, no NUL byte, no carriage return but before a line end and no
        line longer than MAX_RECORD_BYTES (_separators_after_header); its records are then its
        lines that are not blank (spaces, tabs), as pandas' are. pandas raises for a line with
        more fields than the header's but for the first it reads of each piece, whose extra
        fields it drops (with a warning, kept from the user), and fills a line with fewer fields
        with empty cells, which leaves the last column empty. So where pandas warned of nothing
        and no cell of the last column is empty, no line has fewer fields than the header, and
        where the file holds (fields - 1) separators for each row, no line has more.
        """
        if self.size is None or self.header.lines != 1:
            return None
        separators = self._separators_after_header()
        if separators is None:
            return None
        fields = len(self.header.names)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = pd.read_csv(
                    os.path.abspath(self.source), sep=self.header.sep, header=None, skiprows=1, names=range(fields),
                    index_col=False, keep_default_na=False, na_values=[""], engine="c", encoding="utf-8",
                    dtype=np.float64 if sorted(numbers) == list(range(fields)) else dict.fromkeys(numbers, np.float64),
                )
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError):
                return None
        if caught or frame[fields - 1].isna().any() or separators != (fields - 1) * len(frame):
            return None
        return frame

    def _separators_after_header(self) -> int | None:
        """The separators in the file after the header, or None where it holds a quote
        character, a NUL byte, a carriage return but before a line end (csv.reader and pandas
        read those differently) or a line longer than MAX_RECORD_BYTES.

        Read through a handle of its own (records() may read the file after), a window of
        whole lines at a time (\\r\\n is never cut), or of one line's bytes where a line is longer
        than a window: its length is then counted on. The window and its comparison's array are
        made once: fresh memory for each would cost more in page faults than the scan itself."""
        sep, count, at, run = ord(self.header.sep), 0, self.header_bytes, 0
        window = bytearray(min(SCAN_BYTES, MAX_RECORD_BYTES))
        equal = np.empty(len(window), dtype=bool)
        try:
            source = open(self.source, "rb", buffering=0)
        except OSError:
            return None
        with source:
            while at < self.size:
                source.seek(at)
                got = source.readinto(window)
                if not got:
                    break
                last = window.rfind(b"\n", 0, got)
                size = last + 1 if last >= 0 and at + got < self.size else got
                first = window.find(b"\n", 0, size)
                run += size if first < 0 else first
                if window.find(b'"', 0, size) >= 0 or window.find(b"\x00", 0, size) >= 0 or run > MAX_RECORD_BYTES:
                    return None
                run = run if first < 0 else size - 1 - last
                codes = np.frombuffer(window, np.uint8, size)
                if window.find(b"\r", 0, size) >= 0:
                    after = np.flatnonzero(codes == ord("\r")) + 1
                    if after[-1] == size or (codes[after] != ord("\n")).any():
                        return None
                count += int(np.count_nonzero(np.equal(codes, sep, out=equal[:size])))
                at += size
        return count

    def records(self) -> Iterator[Records]:
        """The records after the header, parsed block by block, read once.

        While a block is checked and handed out, the next PARSED_AHEAD blocks are scanned in as
        many threads (Scanned: pandas lets go of the GIL as it parses). A block's checks that
        name a row (its bytes, its fields, its cells) are made in its turn, once the rows before
        it are counted, so the first problem in the file is the one named, as without threads.
        """
        sep, fields = self.header.sep, len(self.header.names)
        ahead: collections.deque = collections.deque()
        with ThreadPoolExecutor(PARSED_AHEAD) as parsers:
            try:
                while True:
                    while len(ahead) < PARSED_AHEAD + 1 and (data := self._next_block(raising=not ahead)):
                        ahead.append((data, parsers.submit(Scanned.of, data, sep, fields)))
                    if not ahead:
                        return
                    data, scanning = ahead.popleft()
                    self._queued -= len(data)
                    scanned = scanning.result()
                    if len(data) > MAX_RECORD_BYTES:
                        self._check_lengths(data)
                    if not scanned.clean:
                        self._check_bytes(data)
                    block = Block(data, self.header, self.name, self._rows, self._lines, scanned.lines)
                    records = block.parse(scanned.frame)
                    self._rows += len(records)
                    self._lines += block.lines
                    yield records
            finally:
                parsers.shutdown(cancel_futures=True)

    def _next_block(self, raising: bool) -> bytes:
        """The source's next block of whole records, b"" at its end, or where the rest has no
        record end within MAX_RECORD_BYTES and not `raising` (that error names a row: it is
        raised once the blocks before it are counted)."""
        while True:
            while not self._eof and len(self._pending) < BLOCK_BYTES:
                self._more()
            data = self._pending
            if not data:
                return b""
            cut = len(data) if self._eof else _record_end(data)
            if cut is not None:
                break
            if len(data) > MAX_RECORD_BYTES:
                if not raising:
                    return b""
                raise DataError(
                    f"{where(self.name, self._rows + 1, self._lines + 1)}: is longer than "
                    f"{MAX_RECORD_BYTES >> 20} MiB without a line end (binary data, or a quote that never "
                    "closes?); fix the row or the quoting"
                )
            self._more()
        data, self._pending = data[:cut], data[cut:]
        self._queued += len(data)
        return data

    def _check_lengths(self, data: bytes) -> None:
        """A DataError at the first record of `data` (whole records) longer than MAX_RECORD_BYTES."""
        codes = np.frombuffer(data, np.uint8)
        ends = np.flatnonzero(codes == ord("\n"))
        if b'"' in data:
            ends = ends[~_inside_quotes(codes)[ends]]
        starts = np.concatenate([[0], ends + 1])
        long = np.flatnonzero(np.concatenate([ends, [len(data)]]) - starts > MAX_RECORD_BYTES)
        if len(long):
            row, line = self._position(data, int(starts[long[0]]))
            raise DataError(f"{where(self.name, row, line)}: is longer than {MAX_RECORD_BYTES >> 20} MiB, the most a row "
                            "may hold; shorten it or drop the column that holds so much")

    def _check_bytes(self, data: bytes) -> None:
        """A DataError at the first NUL byte or byte that is not UTF-8 of `data`, where there is one."""
        nul = data.find(b"\x00")
        if nul >= 0:
            row, line = self._position(data, nul)
            raise DataError(
                f"{where(self.name, row, line)}: holds a NUL byte (binary data, not CSV text); "
                "cut the file before it or export it again"
            )
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as error:
                row, line = self._position(data, error.start)
                raise DataError(
                    f"{where(self.name, row, line)}: is not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
                ) from None

    def _position(self, data: bytes, offset: int) -> tuple[int | None, int]:
        """The row and line of the byte at `offset` of a block about to be read; the row is None
        where quoted fields may span lines before it."""
        before = data[:offset]
        line = self._lines + before.count(b"\n") + 1
        if b'"' in before:
            return None, line
        blank = sum(1 for text in before.split(b"\n")[:-1] if not text.strip(b" \t\r"))
        return self._rows + before.count(b"\n") - blank + 1, line


def _record_end(data: bytes, first_only: bool = False) -> int | None:
    """The offset just after the last (or, with `first_only`, the first) \\n of `data` that ends a
    record: one with an even number of quote characters before it. None if there is none."""
    if b'"' not in data:
        end = data.find(b"\n") if first_only else data.rfind(b"\n")
        return None if end < 0 else end + 1
    codes = np.frombuffer(data, np.uint8)
    inside = _inside_quotes(codes)
    newlines = np.flatnonzero(codes == ord("\n"))
    outside = newlines[~inside[newlines]]
    if not len(outside):
        return None
    return int(outside[0 if first_only else -1]) + 1


def _inside_quotes(codes: np.ndarray) -> np.ndarray:
    """For each byte, shape (len(codes),) bool: whether an odd number of quote characters come
    up to it (a line end there is inside a quoted field); one byte a byte, however long the record."""
    return np.logical_xor.accumulate(codes == ord('"'))


def _decode(data: bytes, name: str, line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: is not UTF-8 text (byte 0x{data[error.start]:02x}, line {line}); save it as UTF-8") from None


def _plain_file_size(raw, stream) -> int | None:
    """The size in bytes of a regular, uncompressed file: the text to come, known in advance."""
    if raw is _stdin_buffer() or isinstance(getattr(stream, "raw", None), gzip.GzipFile):
        return None
    status = os.fstat(raw.fileno())
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _stdin_buffer():
    return getattr(sys.stdin, "buffer", None)


def _open(source: str, name: str):
    """(the handle to close, a buffered stream of the decompressed bytes); gzip is known by its magic bytes."""
    if source == "-":
        raw = _stdin_buffer()
        if raw is None:
            raise DataError("<stdin>: is closed; give DATA as a file path, or pipe the CSV in")
        stream = raw if hasattr(raw, "peek") else io.BufferedReader(raw, BLOCK_BYTES)
    else:
        try:
            raw = open(source, "rb", buffering=0)
        except (OSError, ValueError) as error:
            raise DataError(f"{name}: {path_problem(error)}") from None
        kind = os.fstat(raw.fileno()).st_mode
        if stat.S_ISDIR(kind):
            raw.close()
            raise DataError(f"{name}: is a directory, not a CSV file; give the path of a file")
        stream = io.BufferedReader(raw, HEADER_PIECE_BYTES)
    try:
        magic = stream.peek(2)[:2]
    except OSError as error:
        raise DataError(f"{name}: cannot be read ({describe(error)}); check the path") from None
    if magic == _GZIP_MAGIC:
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"), BLOCK_BYTES)
    return raw, stream
