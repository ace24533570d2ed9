"""The third round of "nothing breaks" (issue 20), for what fwdback reads and writes.

Every case runs in a working directory fingerprinted (type, mode, inode, sha256 of every file)
before and after: a refused case leaves it as it was, a case that succeeds changes only the
files it names. The failure contract is test_robustness.py's (`refused`): one `Error:` line
naming the file, the documented exit code, no traceback and no warning.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_robustness import assets, csv_bytes, fingerprint, invoke, linear, refused, succeeded, ws  # noqa: F401

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
