"""CLI commands of the score group: ``lupuscell score`` and ``lupuscell score-table``.

Both are generic over :data:`lupuscell.instruments.catalog.CATALOG`: any module that publishes
``SPECS`` is listed, documented (``--schema``) and scored without changes here. JSON goes to
stdout; errors go to stderr with exit code 2 (invalid input) naming the field and the allowed
range, through :mod:`lupuscell.cli.common`. See docs/instruments/index.md.

``score-table`` never destroys data: an ``--out`` that is the ``--input`` file (by any spelling,
symbolic or hard link) is refused before anything is opened for writing, and the output is
written to a temporary file beside the target and moved into place (``os.replace``, atomic on
one file system) only after the last chunk was scored, so a failure leaves an existing output
file as it was.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.cli.common import err as _err
from lupuscell.cli.common import fail as _fail
from lupuscell.cli.common import fail_validation as _fail_validation
from lupuscell.cli.common import read_json as _read_json
from lupuscell.errors import LupuscellError, ValidationError
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, validate_input

CHUNK_ROWS = 1_000_000
TABLE_FORMATS = (".parquet", ".csv")


def _catalog() -> dict[str, InstrumentSpec]:
    from lupuscell.instruments.catalog import CATALOG

    return CATALOG


def _failure(exc: LupuscellError) -> typer.Exit:
    """One ``error:`` line per problem of a rejection, or the message of any other error."""
    return _fail_validation(exc) if isinstance(exc, ValidationError) else _fail(str(exc))


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(map(_cell, value)) or "-"
    return "null" if value is None else str(value)


def _print_result(result: InstrumentResult) -> None:
    console = Console()
    data = result.to_dict()
    head = Table(title=f"{result.instrument} ({result.version})", show_header=False)
    head.add_column("field", style="bold")
    head.add_column("value")
    for key, value in data.items():
        if key not in ("items", "instrument", "version"):
            head.add_row(escape(key), escape(_cell(value)))
    console.print(head)
    if result.items:
        items = Table(title="items")
        for col in ("item", "points", "reason"):
            items.add_column(col)
        for item in result.items:
            items.add_row(escape(item.name), _cell(item.points), escape(item.reason))
        console.print(items)


def _print_catalog(catalog: dict[str, InstrumentSpec], as_json: bool) -> None:
    if as_json:
        rows = [
            {"name": s.name, "version": s.version, "summary": s.summary, "source": s.source}
            for s in catalog.values()
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"lupuscell instruments ({len(catalog)})")
    for col in ("name", "version", "summary"):
        table.add_column(col)
    for s in catalog.values():
        table.add_row(s.name, s.version, escape(s.summary))
    Console().print(table)


def score(
    name: str | None = typer.Argument(None, help="Instrument name (see --list)."),
    input_path: str | None = typer.Option(None, "--input", "-i", help="Input JSON file, or '-' for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    list_: bool = typer.Option(False, "--list", help="List the instruments of the catalog."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of NAME's input."),
) -> None:
    """Score one instrument from a JSON input.

    Input fields and worked examples: docs/instruments/NAME.md (index: docs/instruments/index.md).

    --schema prints the input fields as JSON Schema.
    """
    catalog = _catalog()
    if list_:
        _print_catalog(catalog, as_json)
        return
    if name is None:
        raise _fail("give an instrument NAME (see 'lupuscell score --list')")
    if name not in catalog:
        raise _fail(f"unknown instrument {name!r}; known: {', '.join(catalog)}")
    spec = catalog[name]
    if schema:
        typer.echo(json.dumps(spec.input_model.model_json_schema(), indent=2, ensure_ascii=False))
        return
    if input_path is None:
        raise _fail("--input FILE.json (or '-') is required")
    data = _read_json(input_path)
    record = "stdin" if input_path == "-" else Path(input_path).name
    try:
        result = spec.scorer(validate_input(spec.input_model, data, record=record))
    except LupuscellError as exc:
        raise _failure(exc) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_result(result)


# ------------------------------------------------------------------------------------ score-table


def _read_csv_chunks(path: Path) -> Iterator[pd.DataFrame]:
    from lupuscell.instruments.bulk import DORIS_COLUMNS, LLDAS_COLUMNS, OPTIONAL_COLUMNS
    from lupuscell.instruments.sledai2k import DESCRIPTORS

    numbers = ("pga", "prednisolone_mg_per_day")
    boolean = [c for c in (*DESCRIPTORS, *LLDAS_COLUMNS, *DORIS_COLUMNS, *OPTIONAL_COLUMNS) if c not in numbers]
    with pd.read_csv(path, chunksize=CHUNK_ROWS) as reader:  # closes the file on error or early exit
        for chunk in reader:
            for col in (c for c in boolean if c in chunk):
                try:
                    chunk[col] = chunk[col].astype("boolean")
                except (TypeError, ValueError):
                    raise ValidationError.single(path.name, col, "expected true/false, 1/0 or empty") from None
            for col in (c for c in numbers if c in chunk):
                try:
                    chunk[col] = pd.to_numeric(chunk[col], errors="raise").astype("float64")
                except (TypeError, ValueError):
                    raise ValidationError.single(path.name, col, "expected numbers or empty") from None
            yield chunk


def _read_chunks(path: Path) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
            yield batch.to_pandas()
    elif suffix == ".csv":
        yield from _read_csv_chunks(path)
    else:
        raise ValidationError.single(str(path), "--input", "allowed formats: .parquet, .csv")


def _rows_of(path: Path) -> int | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def _flat_scores(frame: pd.DataFrame, spec: InstrumentSpec) -> pd.DataFrame:
    """Per-row scoring for catalog instruments without a vectorised path.

    Each row's non-missing cells go through ``spec.input_from_row`` (the columns named like the
    input fields, or the instrument's own row reader); the scalar headline values come back as
    ``NAME.field`` columns beside the input.
    """
    records: list[dict[str, Any]] = []
    for position, row in enumerate(frame.itertuples(index=False, name=None)):
        cells = {
            str(c): (v.item() if hasattr(v, "item") else v)
            for c, v in zip(frame.columns, row, strict=True)
            if not pd.isna(v)
        }
        data = spec.input_from_row(cells)
        result = spec.scorer(validate_input(spec.input_model, data, record=f"row {frame.index[position]}"))
        flat = {
            f"{spec.name}.{k}": v
            for k, v in result.values.items()
            if v is None or isinstance(v, bool | int | float | str)
        }
        flat[f"{spec.name}.complete"] = result.complete
        records.append(flat)
    return pd.concat([frame.reset_index(drop=True), pd.DataFrame.from_records(records)], axis=1)


def _same_file(a: Path, b: Path) -> bool:
    """True if ``a`` and ``b`` name one file: same inode (links, any spelling) or same real path."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _new_file_mode(target: Path) -> int:
    """Permissions for the output: those of the file it replaces, else 0666 minus the umask."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def _replaced_atomically(out: Path) -> Iterator[Path]:
    """A temporary file beside ``out``'s real target, moved onto it when the block succeeds.

    A symbolic link given as ``--out`` stays a link: its target is replaced. On any failure the
    temporary file is removed and the target is left as it was.
    """
    target = out.resolve()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise _fail(f"--out: cannot write in {target.parent}: {exc.strerror}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _new_file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _check_paths(input_path: Path, out: Path) -> None:
    if not input_path.exists():
        raise _fail(f"--input: {input_path} does not exist")
    if out.suffix.lower() not in TABLE_FORMATS:
        raise _fail("--out: allowed formats: .parquet, .csv")
    if _same_file(input_path, out):
        raise _fail(f"--out: {out} is the same file as --input {input_path}; choose another output file")
    if out.is_dir():
        raise _fail(f"--out: {out} is a folder; give a file name ending in .parquet or .csv")
    if not out.resolve().parent.is_dir():
        raise _fail(f"--out: the folder {out.resolve().parent} does not exist")


class _TableWriter:
    """Appends scored chunks to one CSV or Parquet file (the Parquet schema set by chunk 1)."""

    def __init__(self, path: Path, csv: bool) -> None:
        self.path, self.csv = path, csv
        self.writer: Any = None
        self.chunks = 0

    def write(self, scored: pd.DataFrame) -> None:
        if self.csv:
            scored.to_csv(self.path, mode="w" if self.chunks == 0 else "a", header=self.chunks == 0, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(scored, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
        self.chunks += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _score_chunks(input_path: Path, writer: _TableWriter, score_chunk: Any) -> int:
    """Score ``input_path`` chunk by chunk into ``writer`` with a progress bar; rows scored."""
    rows = 0
    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        TextColumn("{task.completed:,} visits"),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as progress:
        task = progress.add_task("score", total=_rows_of(input_path))
        for chunk in _read_chunks(input_path):
            writer.write(score_chunk(chunk))
            rows += len(chunk)
            progress.update(task, advance=len(chunk))
    return rows


def score_table(
    name: str = typer.Argument(
        ..., help="'all', a comma list of sledai_2k,clinical_sledai,lldas,doris_2021, or any catalog name."
    ),
    input_path: Path = typer.Option(
        ..., "--input", "-i", help="visits.parquet or visits.csv (one row per visit)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="scored.parquet or scored.csv (never the --input file; replaced atomically)."
    ),
    prednisolone_rule: str = typer.Option("le_5", help="DORIS steroid rule: le_5 (default) or lt_5."),
    pga_rule: str = typer.Option("lt_0_5", help="DORIS PGA rule: lt_0_5 (default) or le_0_5."),
    failed_criteria: bool = typer.Option(False, "--failed-criteria", help="Add *_failed_criteria columns."),
    threshold_arithmetic: str = typer.Option(
        "round_to_precision",
        help="PGA/dose comparisons: round_to_precision (PGA 0.1, dose 0.01 mg; default) or exact_decimal.",
    ),
) -> None:
    """Score a whole visit table (vectorised for SLEDAI-2K, clinical SLEDAI, LLDAS, DORIS)."""
    from lupuscell.instruments.bulk import INSTRUMENTS as BULK_NAMES
    from lupuscell.instruments.bulk import score_visit_table

    names = list(BULK_NAMES) if name == "all" else [n.strip() for n in name.split(",") if n.strip()]
    catalog = _catalog()
    bulk = all(n in BULK_NAMES for n in names)
    if not bulk and (len(names) != 1 or names[0] not in catalog):
        raise _fail(
            f"unknown instrument(s) {name!r}; use 'all', {', '.join(BULK_NAMES)} "
            f"or one of {', '.join(catalog)}"
        )
    _check_paths(input_path, out)

    def score_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
        if not bulk:
            return _flat_scores(chunk, catalog[names[0]])
        return score_visit_table(
            chunk,
            names,
            prednisolone_rule=prednisolone_rule,
            pga_rule=pga_rule,
            failed_criteria=failed_criteria,
            threshold_arithmetic=threshold_arithmetic,
        )

    try:
        with _replaced_atomically(out) as temporary:
            writer = _TableWriter(temporary, csv=out.suffix.lower() == ".csv")
            try:
                rows = _score_chunks(input_path, writer, score_chunk)
            finally:
                writer.close()
    except LupuscellError as exc:
        raise _failure(exc) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or out}: {exc.strerror or exc}") from None
    _err.print(escape(f"scored {rows:,} visits -> {out}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("score")(score)
    app.command("score-table")(score_table)
