"""Connect to OMOP CDM v5.4 data on DuckDB, PostgreSQL or Spark, and check it before any query.

:func:`open_source` returns an :class:`OmopSource`: an Ibis backend with the OMOP tables bound
to names. Sources:

* ``duckdb`` (the embedded default): a folder of Parquet files, one per table
  (``DIR/person.parquet``) or one folder per table (``DIR/person/*.parquet``, as
  ``lupuscell synth omop`` writes), or a ``.duckdb`` database file;
* ``postgres``: a ``postgresql://`` URL, tables in ``schema`` (OMOP's usual ``cdm``);
* ``spark``: a folder or URI of Parquet files (local, ``hdfs://``, ``s3a://``, as the cluster
  can read) or ``catalog:DATABASE`` for tables in the Spark catalog; the session runs in local
  mode unless ``spark_master`` names a cluster (``spark://host:7077``, ``yarn``, ...).

:func:`OmopSource.check` verifies, from metadata only, that every table and column the
protocol needs exists, and raises one :class:`~lupuscell.errors.ValidationError` naming each
missing table or column. Required columns are those marked ``isRequired`` in OHDSI
CommonDataModel ``inst/csv/OMOP_CDMv5.4_Field_Level.csv``, plus the optional columns the screen
reads (``measurement.value_as_number`` and ``unit_concept_id``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lupuscell.errors import ConfigurationError, Problem, ValidationError

ENGINES = ("duckdb", "postgres", "spark")

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth", "race_concept_id", "ethnicity_concept_id"),
    "observation_period": (
        "observation_period_id",
        "person_id",
        "observation_period_start_date",
        "observation_period_end_date",
        "period_type_concept_id",
    ),
    "condition_occurrence": (
        "condition_occurrence_id",
        "person_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_type_concept_id",
    ),
    "drug_exposure": (
        "drug_exposure_id",
        "person_id",
        "drug_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_end_date",
        "drug_type_concept_id",
    ),
    "measurement": (
        "measurement_id",
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "measurement_type_concept_id",
        "value_as_number",
        "unit_concept_id",
    ),
    "visit_occurrence": (
        "visit_occurrence_id",
        "person_id",
        "visit_concept_id",
        "visit_start_date",
        "visit_end_date",
        "visit_type_concept_id",
    ),
    "concept": (
        "concept_id",
        "concept_name",
        "domain_id",
        "vocabulary_id",
        "concept_class_id",
        "concept_code",
        "valid_start_date",
        "valid_end_date",
        "invalid_reason",
    ),
    "concept_ancestor": (
        "ancestor_concept_id",
        "descendant_concept_id",
        "min_levels_of_separation",
        "max_levels_of_separation",
    ),
}
ALWAYS = ("person", "observation_period", "concept", "concept_ancestor")
TABLE_OF_KIND = {
    "condition": "condition_occurrence",
    "drug_history": "drug_exposure",
    "measurement": "measurement",
    "visit_count": "visit_occurrence",
}


def tables_needed(kinds: Iterable[str]) -> tuple[str, ...]:
    """The OMOP tables a protocol with these criterion kinds reads."""
    return (*ALWAYS, *dict.fromkeys(TABLE_OF_KIND[k] for k in kinds if k in TABLE_OF_KIND))


@dataclass
class OmopSource:
    """An Ibis backend with OMOP tables bound by name; ``describe`` is shown to the user."""

    engine: str
    backend: Any
    describe: str
    _tables: dict[str, Any] = field(default_factory=dict)
    _columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spark: Any = None

    def table(self, name: str) -> Any:
        return self._tables[name]

    def check(self, needed: Iterable[str]) -> None:
        """Raise ValidationError naming every missing table or required column (metadata only)."""
        problems = []
        for name in needed:
            if name not in self._columns:
                problems.append(Problem(f"OMOP data {self.describe}", name, "required table is missing"))
                continue
            present = set(self._columns[name])
            for column in REQUIRED[name]:
                if column not in present:
                    problems.append(
                        Problem(
                            f"OMOP data {self.describe}", f"{name}.{column}", "required column is missing"
                        )
                    )
        if problems:
            raise ValidationError(problems)

    def small_table(self, name: str, frame: pd.DataFrame) -> Any:
        """A small helper table (criteria parameters) on the engine, as an Ibis table."""
        if self.engine == "spark":
            self.spark.createDataFrame(*_spark_rows(frame)).createOrReplaceTempView(name)
            return self.backend.table(name)
        return self.backend.create_table(name, frame, temp=True, overwrite=True)

    def close(self) -> None:
        if self.engine == "postgres":
            self.backend.disconnect()


def _spark_rows(frame: pd.DataFrame) -> tuple[list[tuple[Any, ...]], Any]:
    """Rows and an explicit Spark schema (inference fails on all-NULL columns)."""
    from pyspark.sql import types as T

    kinds = {
        "int64": T.LongType(),
        "int32": T.IntegerType(),
        "float64": T.DoubleType(),
        "bool": T.BooleanType(),
    }
    fields, columns = [], []
    for name, dtype in frame.dtypes.items():
        if str(dtype).startswith("datetime64"):
            fields.append(T.StructField(str(name), T.DateType()))
            columns.append([None if pd.isna(v) else v.date() for v in frame[name]])
        else:
            fields.append(T.StructField(str(name), kinds[str(dtype)]))
            columns.append(
                [None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in frame[name]]
            )
    return list(zip(*columns, strict=True)), T.StructType(fields)


def _parquet_target(directory: Path, table: str) -> tuple[str, bool] | None:
    """(path, is_folder) of a table's Parquet data in ``directory``, or None."""
    single = directory / f"{table}.parquet"
    if single.is_file():
        return str(single), False
    folder = directory / table
    if folder.is_dir() and glob.glob(str(folder / "**" / "*.parquet"), recursive=True):
        return str(folder), True
    return None


def _bind(source: OmopSource, tables: Mapping[str, Any]) -> OmopSource:
    for name, table in tables.items():
        source._tables[name] = table
        source._columns[name] = tuple(table.columns)
    return source


def _duckdb(location: str) -> OmopSource:
    import ibis

    path = Path(location)
    if path.suffix == ".duckdb":
        if not path.is_file():
            raise ConfigurationError(f"--omop: DuckDB file {location} does not exist")
        con = ibis.duckdb.connect(str(path), read_only=True)
        present = set(con.list_tables())
        return _bind(
            OmopSource("duckdb", con, str(path)), {t: con.table(t) for t in REQUIRED if t in present}
        )
    if not path.is_dir():
        raise ConfigurationError(
            f"--omop: {location} is neither a folder of Parquet files nor a .duckdb file"
        )
    con = ibis.duckdb.connect(threads=os.cpu_count() or 1)
    tables = {}
    for name in REQUIRED:
        target = _parquet_target(path, name)
        if target is not None:
            pattern = str(Path(target[0]) / "**" / "*.parquet") if target[1] else target[0]
            tables[name] = con.read_parquet(pattern, table_name=name, hive_partitioning=False)
    return _bind(OmopSource("duckdb", con, str(path)), tables)


def _postgres(url: str, schema: str) -> OmopSource:
    import ibis
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    try:
        con = ibis.postgres.connect(
            host=parsed.host or "localhost",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
    except Exception as exc:  # psycopg raises several types; the message is what the user needs
        raise ConfigurationError(
            f"--omop: cannot connect to PostgreSQL: {str(exc).splitlines()[0]}"
        ) from None
    present = set(con.list_tables(database=schema))
    shown = parsed.render_as_string(hide_password=True) + f" (schema {schema})"
    tables = {t: con.table(t, database=schema) for t in REQUIRED if t in present}
    return _bind(OmopSource("postgres", con, shown), tables)


def spark_session(master: str | None = None) -> Any:
    """A Spark session: local mode on this machine's cores unless ``master`` names a cluster."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("lupuscell-screen")
        .master(master or f"local[{os.cpu_count() or 1}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master is None:
        builder = builder.config("spark.sql.shuffle.partitions", str(os.cpu_count() or 1))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark(location: str, master: str | None, session: Any = None) -> OmopSource:
    import ibis

    session = session or spark_session(master)
    con = ibis.pyspark.connect(session)
    tables = {}
    if location.startswith("catalog:"):
        database = location.split(":", 1)[1]
        present = {t.name for t in session.catalog.listTables(database)}
        for name in REQUIRED:
            if name in present:
                session.table(f"{database}.{name}").createOrReplaceTempView(name)
                tables[name] = con.table(name)
    else:
        local = "://" not in location
        for name in REQUIRED:
            target = (
                _parquet_target(Path(location), name) if local else (f"{location.rstrip('/')}/{name}", True)
            )
            if target is None:
                continue
            try:
                frame = session.read.option("recursiveFileLookup", "true").parquet(target[0])
            except Exception as exc:  # a missing table folder is reported by check(), by name
                if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
                    continue
                raise
            frame.createOrReplaceTempView(name)
            tables[name] = con.table(name)
    source = _bind(OmopSource("spark", con, location), tables)
    source.spark = session
    return source


def open_source(
    location: str,
    engine: str = "duckdb",
    *,
    schema: str = "public",
    spark_master: str | None = None,
    spark_session: Any = None,
) -> OmopSource:
    """Open OMOP data on an engine (see the module docstring for what ``location`` may be)."""
    if engine not in ENGINES:
        raise ConfigurationError(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "postgres":
        if not location.startswith(("postgresql", "postgres://")):
            raise ConfigurationError("--omop: the postgres engine needs a postgresql:// URL")
        return _postgres(location, schema)
    if engine == "spark":
        return _spark(location, spark_master, spark_session)
    return _duckdb(location)
