"""Write a streamed synthetic cohort to one CSV or Parquet file per table.

Chunks are appended as they arrive (Parquet through ``pyarrow.parquet.ParquetWriter`` with
the schema fixed by the first chunk, CSV by appending without repeating the header), so the
cohort never sits in memory at once. List and JSON columns (organ involvement, prior
therapies, BILAG grades) are written as JSON text in both formats, as ``lupuscell export``
writes them, so ``lupuscell import`` reads either; dates are ISO ``YYYY-MM-DD`` (Parquet
``date32``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")
LIST_COLUMNS = frozenset({"organ_involvement", "prior_therapies"})


def _json_lists(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in LIST_COLUMNS & set(out.columns):
        out[col] = [json.dumps(v) for v in out[col]]
    return out


def _arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for f in table.schema:
        if pa.types.is_null(f.type):
            f = f.with_type(pa.string())
        elif pa.types.is_list(f.type) and pa.types.is_null(f.type.value_type):
            f = f.with_type(pa.list_(pa.string()))
        elif pa.types.is_timestamp(f.type):
            f = f.with_type(pa.date32())
        fields.append(f)
    return pa.schema(fields)


def write_cohort_files(
    chunks: Iterable[Mapping[str, pd.DataFrame]],
    out_dir: Path,
    fmt: str = "parquet",
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write every table to ``out_dir/<table>.<fmt>``; return the rows written per table."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Any] = {}
    schemas: dict[str, pa.Schema] = {}
    counts: dict[str, int] = {}
    try:
        for chunk in chunks:
            for name, frame in chunk.items():
                path = out_dir / f"{name}.{fmt}"
                if fmt == "csv":
                    first = name not in counts
                    _json_lists(frame).to_csv(
                        path, mode="w" if first else "a", header=first, index=False, date_format="%Y-%m-%d"
                    )
                else:
                    frame = _json_lists(frame)
                    if name not in schemas:
                        schemas[name] = _arrow_schema(frame)
                        writers[name] = pq.ParquetWriter(path, schemas[name])
                    table = pa.Table.from_pandas(
                        frame, schema=schemas[name], preserve_index=False, safe=False
                    )
                    writers[name].write_table(table)
                counts[name] = counts.get(name, 0) + len(frame)
            if progress is not None:
                progress(len(chunk.get("patients", ())))
    finally:
        for writer in writers.values():
            writer.close()
    return counts
