"""Reading exchange files in chunks, with a readable error for every kind of bad file.

A file is read a chunk of rows at a time (:func:`read_chunks`), so an import's memory does not
grow with the file. CSV is read with the standard :mod:`csv` module rather than pandas because
it reports what a person needs to fix a file: the line of a row with too many or too few
fields (pandas pads short rows silently), a NUL byte, an undecodable byte; Parquet with
pyarrow's ``iter_batches``.

Every failure is a :class:`lupuscell.errors.ValidationError` naming the file (and the line
when there is one): ragged rows, text that is not UTF-8 (a gzip or binary file named
``.csv``, a UTF-16 export), a 0-byte file, a directory where a file should be, a corrupt or
truncated Parquet file, a header with unknown columns or missing required ones.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lupuscell.errors import Problem, ValidationError

GZIP_MAGIC = b"\x1f\x8b"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
PARQUET_MAGIC = b"PAR1"
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class RawChunk:
    """Rows of one file: ``rows[i]`` is line/row ``numbers[i]`` (1 = first data row)."""

    rows: list[dict[str, Any]]
    numbers: list[int]


def _refuse(path: Path, field: str, message: str) -> ValidationError:
    return ValidationError(Problem(path.name, field, message))


def check_file(path: Path, fmt: str) -> None:
    """A readable regular file of the format (by its first bytes), else ValidationError."""
    if path.is_dir():
        raise _refuse(path, "(file)", f"{path} is a directory, not a {fmt} file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise _refuse(path, "(file)", f"cannot be read: {exc.strerror}") from None
    if fmt == "csv":
        if head.startswith(GZIP_MAGIC):
            raise _refuse(path, "(file)", "is a gzip-compressed file, not CSV text; decompress it first")
        if head.startswith(UTF16_BOMS):
            raise _refuse(path, "(file)", "is UTF-16 text; save it as UTF-8 CSV")
        if head.startswith(PARQUET_MAGIC):
            raise _refuse(path, "(file)", "is a Parquet file named .csv; rename it .parquet")
    elif not head:
        raise _refuse(path, "(file)", "is empty (0 bytes), not a Parquet file")
    elif head != PARQUET_MAGIC:
        raise _refuse(path, "(file)", "is not a Parquet file (it does not start with PAR1)")


def header(path: Path, fmt: str) -> list[str]:
    """The column names of a file (reads the header or the Parquet schema only)."""
    check_file(path, fmt)
    if fmt == "parquet":
        return list(_parquet(path).schema_arrow.names)
    with _open_text(path) as handle:
        try:
            first = next(csv.reader(handle), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _text_error(path, exc, 1) from None
    if first is None:
        raise _refuse(path, "(file)", "is empty: no header row")
    return [name.strip() for name in first]


def read_chunks(path: Path, fmt: str, rows_per_chunk: int) -> Iterator[RawChunk]:
    """The file's rows as dicts of raw cell values, ``rows_per_chunk`` at a time."""
    reader = _parquet_chunks if fmt == "parquet" else _csv_chunks
    yield from reader(path, rows_per_chunk)


def _open_text(path: Path) -> Any:
    return path.open("r", encoding="utf-8-sig", newline="")


def _text_error(path: Path, exc: Exception, line: int) -> ValidationError:
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start : exc.start + 1].hex()
        return _refuse(
            path, "(file)", f"is not UTF-8 text (byte 0x{byte} near line {line}); save it as UTF-8"
        )
    if "NUL" in str(exc):
        return _refuse(path, "(file)", f"line {line} contains a NUL byte: not a text CSV file")
    return _refuse(path, "(file)", f"line {line} is not valid CSV ({exc})")


def _csv_chunks(path: Path, rows_per_chunk: int) -> Iterator[RawChunk]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        line = 1
        try:
            names = [n.strip() for n in next(reader)]
            rows: list[dict[str, Any]] = []
            numbers: list[int] = []
            for number, cells in enumerate(reader, start=1):
                line = reader.line_num
                if not cells:
                    continue  # a blank line
                if len(cells) != len(names):
                    raise _refuse(
                        path,
                        "(file)",
                        f"line {line} has {len(cells)} fields but the header has {len(names)} "
                        "(a ragged row: check the delimiter and quoting)",
                    )
                rows.append(dict(zip(names, cells, strict=True)))
                numbers.append(number)
                if len(rows) == rows_per_chunk:
                    yield RawChunk(rows, numbers)
                    rows, numbers = [], []
        except StopIteration:
            raise _refuse(path, "(file)", "is empty: no header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _text_error(path, exc, line + 1) from None
    if rows:
        yield RawChunk(rows, numbers)


def _parquet(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise _refuse(path, "(file)", f"is not a readable Parquet file ({exc})") from None


def _parquet_chunks(path: Path, rows_per_chunk: int) -> Iterator[RawChunk]:
    import pyarrow as pa

    first = 1
    try:
        for batch in _parquet(path).iter_batches(batch_size=rows_per_chunk):
            rows = batch.to_pylist()
            yield RawChunk(rows, list(range(first, first + len(rows))))
            first += len(rows)
    except (pa.ArrowException, OSError) as exc:
        raise _refuse(path, "(file)", f"is not a readable Parquet file near row {first} ({exc})") from None
