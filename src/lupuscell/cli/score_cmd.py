"""CLI commands of the score group: ``lupuscell score`` and ``lupuscell score-table``.

Both are generic over :data:`lupuscell.instruments.catalog.CATALOG`: any module that publishes
``SPECS`` is listed, documented (``--schema``) and scored without changes here. JSON goes to
stdout; errors go to stderr with exit code 2 (invalid input) naming the field and the allowed
range. See docs/instruments/index.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
from lupuscell.cli.common import read_json as _read_json
from lupuscell.errors import LupuscellError, ValidationError
from lupuscell.instruments.base import InstrumentResult, validate_input

CHUNK_ROWS = 1_000_000
BULK_NAMES = ("sledai_2k", "clinical_sledai", "lldas", "doris_2021")


def _catalog() -> dict[str, Any]:
    from lupuscell.instruments.catalog import CATALOG

    return CATALOG


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


def score(
    name: str | None = typer.Argument(None, help="Instrument name (see --list)."),
    input_path: str | None = typer.Option(None, "--input", "-i", help="Input JSON file, or '-' for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    list_: bool = typer.Option(False, "--list", help="List the instruments of the catalog."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of NAME's input."),
) -> None:
    """Score one instrument from a JSON input (fields of spec section 16)."""
    catalog = _catalog()
    if list_:
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
        model = validate_input(spec.input_model, data, record=record)
        result = spec.scorer(model)
    except LupuscellError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_result(result)


# ------------------------------------------------------------------------------------ score-table


def _read_chunks(path: Path) -> Iterator[pd.DataFrame]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
            yield batch.to_pandas()
    elif suffix == ".csv":
        from lupuscell.instruments.bulk import DORIS_COLUMNS, LLDAS_COLUMNS, OPTIONAL_COLUMNS
        from lupuscell.instruments.sledai2k import DESCRIPTORS

        boolean = [*DESCRIPTORS, *LLDAS_COLUMNS, *DORIS_COLUMNS, *OPTIONAL_COLUMNS]
        for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS):
            for col in boolean:
                if col in chunk and col not in ("pga", "prednisolone_mg_per_day"):
                    try:
                        chunk[col] = chunk[col].astype("boolean")
                    except (TypeError, ValueError):
                        raise ValidationError.single(
                            path.name, col, "expected true/false, 1/0 or empty"
                        ) from None
            for col in ("pga", "prednisolone_mg_per_day"):
                if col in chunk:
                    try:
                        chunk[col] = pd.to_numeric(chunk[col], errors="raise").astype("float64")
                    except (TypeError, ValueError):
                        raise ValidationError.single(path.name, col, "expected numbers or empty") from None
            yield chunk
    else:
        raise ValidationError.single(str(path), "--input", "allowed formats: .parquet, .csv")


def _rows_of(path: Path) -> int | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def _flat_scores(frame: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """Per-row fallback for catalog instruments without a vectorised path (flat inputs only)."""
    fields = set(spec.input_model.model_fields)
    cols = [c for c in frame.columns if c in fields]
    records: list[dict[str, Any]] = []
    for position, row in enumerate(frame[cols].itertuples(index=False, name=None)):
        data = {
            c: (v.item() if hasattr(v, "item") else v)
            for c, v in zip(cols, row, strict=True)
            if not pd.isna(v)
        }
        result = spec.scorer(validate_input(spec.input_model, data, record=f"row {frame.index[position]}"))
        flat = {
            f"{spec.name}.{k}": v
            for k, v in result.values.items()
            if v is None or isinstance(v, bool | int | float | str)
        }
        flat[f"{spec.name}.complete"] = result.complete
        records.append(flat)
    return pd.concat([frame.reset_index(drop=True), pd.DataFrame.from_records(records)], axis=1)


def score_table(
    name: str = typer.Argument(
        ..., help="'all', a comma list of sledai_2k,clinical_sledai,lldas,doris_2021, or any catalog name."
    ),
    input_path: Path = typer.Option(
        ..., "--input", "-i", help="visits.parquet or visits.csv (one row per visit)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="scored.parquet or scored.csv."),
    prednisolone_rule: str = typer.Option("le_5", help="DORIS steroid rule: le_5 (default) or lt_5."),
    pga_rule: str = typer.Option("lt_0_5", help="DORIS PGA rule: lt_0_5 (default) or le_0_5."),
    failed_criteria: bool = typer.Option(False, "--failed-criteria", help="Add *_failed_criteria columns."),
    threshold_arithmetic: str = typer.Option(
        "round_to_precision",
        help="PGA/dose comparisons: round_to_precision (PGA 0.1, dose 0.01 mg; default) or exact_decimal.",
    ),
) -> None:
    """Score a whole visit table (vectorised for SLEDAI-2K, clinical SLEDAI, LLDAS, DORIS)."""
    from lupuscell.instruments.bulk import score_visit_table

    names = list(BULK_NAMES) if name == "all" else [n.strip() for n in name.split(",") if n.strip()]
    catalog = _catalog()
    bulk = all(n in BULK_NAMES for n in names)
    if not bulk and (len(names) != 1 or names[0] not in catalog):
        raise _fail(
            f"unknown instrument(s) {name!r}; use 'all', {', '.join(BULK_NAMES)} "
            f"or one of {', '.join(catalog)}"
        )
    if not input_path.exists():
        raise _fail(f"--input: {input_path} does not exist")
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise _fail("--out: allowed formats: .parquet, .csv")
    writer: Any = None
    rows = 0
    try:
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            TextColumn("{task.completed:,} visits"),
            TimeElapsedColumn(),
            console=_err,
            transient=True,
        ) as progress:
            task = progress.add_task("score", total=_rows_of(input_path))
            for index, chunk in enumerate(_read_chunks(input_path)):
                if bulk:
                    scored = score_visit_table(
                        chunk,
                        names,
                        prednisolone_rule=prednisolone_rule,
                        pga_rule=pga_rule,
                        failed_criteria=failed_criteria,
                        threshold_arithmetic=threshold_arithmetic,
                    )
                else:
                    scored = _flat_scores(chunk, catalog[names[0]])
                if out.suffix.lower() == ".csv":
                    scored.to_csv(out, mode="w" if index == 0 else "a", header=index == 0, index=False)
                else:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    table = pa.Table.from_pandas(scored, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(out, table.schema)
                    writer.write_table(table.cast(writer.schema))
                rows += len(chunk)
                progress.update(task, advance=len(chunk))
    except LupuscellError as exc:
        raise _fail(str(exc)) from None
    finally:
        if writer is not None:
            writer.close()
    _err.print(escape(f"scored {rows:,} visits -> {out}"), highlight=False)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("score")(score)
    app.command("score-table")(score_table)
