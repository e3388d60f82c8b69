"""Load a folder of OMOP Parquet files (``lupuscell synth omop`` output) into PostgreSQL.

For demonstrations, tests and benchmarks of the PostgreSQL engine: a site screens its own OMOP
database in place and never needs this. Tables are created with SQLAlchemy Core from the Parquet
schema (one transaction per table) and filled with PostgreSQL ``COPY`` through psycopg, with
identifiers composed by ``psycopg.sql`` (never pasted into SQL text).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import sqlalchemy as sa

from lupuscell.screening.omop import REQUIRED

_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "int64": sa.BigInteger,
    "int32": sa.Integer,
    "date32[day]": sa.Date,
    "double": sa.Float,
    "string": sa.Text,
    "large_string": sa.Text,
}


def _table(metadata: sa.MetaData, name: str, schema: pa.Schema, db_schema: str) -> sa.Table:
    columns = [sa.Column(f.name, _TYPES.get(str(f.type), sa.Text)()) for f in schema]
    return sa.Table(name, metadata, *columns, schema=db_schema)


def load_parquet_folder(
    folder: Path,
    url: str,
    schema: str = "public",
    tables: Iterable[str] = tuple(REQUIRED),
    person_limit: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy each table found in ``folder`` into ``schema``; rows per table.

    ``person_limit`` keeps persons with ``person_id <= person_limit`` (a sample for benchmarks).
    """
    from psycopg import sql

    from lupuscell.registry.session import normalise_url

    engine = sa.create_engine(normalise_url(url))
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        for name in tables:
            path = folder / name
            if not path.exists():
                continue
            dataset = ds.dataset(str(path), format="parquet")
            metadata = sa.MetaData()
            table = _table(metadata, name, dataset.schema, schema)
            limit = person_limit is not None and "person_id" in dataset.schema.names
            scanner = (
                dataset.scanner(filter=ds.field("person_id") <= person_limit) if limit else dataset.scanner()
            )
            with engine.begin() as conn:
                table.drop(conn, checkfirst=True)
                table.create(conn)
                raw: Any = conn.connection.driver_connection
                statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
                    sql.Identifier(schema, name),
                    sql.SQL(", ").join(sql.Identifier(f.name) for f in dataset.schema),
                )
                rows = 0
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    for batch in scanner.to_batches():
                        if batch.num_rows == 0:
                            continue
                        buffer = io.BytesIO()
                        pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                        copy.write(buffer.getvalue())
                        rows += batch.num_rows
            counts[name] = rows
            if progress is not None:
                progress(name, rows)
        with engine.begin() as conn:
            raw_conn: Any = conn.connection.driver_connection
            with raw_conn.cursor() as cursor:
                for name in counts:
                    cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
    finally:
        engine.dispose()
    return counts
