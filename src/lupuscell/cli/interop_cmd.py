"""CLI subcommands of ``import`` and ``export`` for other systems: REDCap, FHIR R4, CDISC, OMOP.

``lupuscell import redcap --dictionary D.csv --records R.csv --mapping M.yaml`` (or ``--url URL
--token-env VAR`` for the REDCap API), ``lupuscell import fhir --bundle FILE.json``,
``lupuscell export redcap|fhir|cdisc|omop --out ...``. The groups and their own options
(``lupuscell import --from DIR``, ``lupuscell export --out DIR``) are
:mod:`lupuscell.cli.registry_cmd`'s; this module adds the subcommands.

Thin: parse, call :mod:`lupuscell.interop`, render. Imports are all or nothing unless
``--partial`` (the rejects, with reasons, go to ``--rejects FILE``); every export is audited and
de-identified unless ``--identified --reason``. JSON results go to stdout, messages to stderr;
invalid input exits with code 2 and a message naming the record, field and reason. The REDCap
API token is read from the environment variable named by ``--token-env``, never from the
command line, and never printed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from lupuscell.cli import registry_cmd
from lupuscell.cli.common import fail
from lupuscell.cli.common import registry_errors as _errors
from lupuscell.cli.registry_options import ACTOR_OPTION, DB_OPTION, err
from lupuscell.cli.registry_options import actor_of as _actor
from lupuscell.cli.registry_options import emit as _emit
from lupuscell.cli.registry_options import engine_of as _engine

REASON_IMPORT = typer.Option(..., "--reason", help="Why the data are loaded (audit log).", show_default=False)
PARTIAL = typer.Option(
    False, "--partial", help="Load the valid records and write the rejected ones, with reasons, to --rejects."
)
REJECTS = typer.Option(
    Path("rejects.csv"),
    "--rejects",
    help="File for the rejected records of a --partial import (must not exist).",
)
IDENTIFIED = typer.Option(
    False, "--identified", help="Export as stored (codes, dates); requires --reason; audited."
)
REASON_EXPORT = typer.Option(None, "--reason", help="Why (required with --identified).")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing export at --out.")


def _check_rejects(partial: bool, rejects: Path) -> None:
    if partial and rejects.exists():
        raise fail(f"--rejects: {rejects} exists; choose a new file")


def _write_rejects(path: Path, rejects: list[Any]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record", "table", "field", "reason"])
        for r in rejects:
            writer.writerow([r.location, r.table, r.field, r.reason])


def _report(report: Any, partial: bool, rejects: Path, source: str) -> None:
    if partial:
        _write_rejects(rejects, report.rejects)
        err.print(
            f"{len(report.rejects)} rejected record(s) written to {rejects}", highlight=False, markup=False
        )
    err.print(f"imported {sum(report.counts.values())} rows from {source}", highlight=False, markup=False)


@contextmanager
def _engine_of(db: str | None) -> Iterator[Any]:
    engine = _engine(db)
    try:
        yield engine
    finally:
        engine.dispose()


def _step() -> tuple[Any, Callable[[str, int], None]]:
    from rich.progress import Progress

    progress = Progress(console=err, transient=True)
    task = progress.add_task("importing", total=8)

    def step(table: str, rows: int) -> None:
        progress.update(task, advance=1, description=f"{table}: {rows} rows")

    return progress, step


def import_redcap(
    dictionary: Path | None = typer.Option(None, "--dictionary", help="REDCap data dictionary (CSV)."),
    records: Path | None = typer.Option(None, "--records", help="REDCap records export (CSV, raw values)."),
    mapping: Path = typer.Option(..., "--mapping", help="Mapping file (YAML), see docs/interop/redcap.md."),
    url: str | None = typer.Option(None, "--url", help="REDCap API URL (instead of --dictionary/--records)."),
    token_env: str | None = typer.Option(
        None, "--token-env", help="Name of the environment variable holding the API token."
    ),
    reason: str = REASON_IMPORT,
    partial: bool = PARTIAL,
    rejects: Path = REJECTS,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Import a REDCap project (files or API) through a mapping file, all or nothing."""
    from lupuscell.interop.redcap import import_redcap_api, import_redcap_files

    files = dictionary is not None and records is not None
    api = url is not None and token_env is not None
    if files == api:
        raise fail("give --dictionary and --records, or --url and --token-env")
    _check_rejects(partial, rejects)
    common: dict[str, Any] = {
        "mapping": mapping,
        "actor": _actor(actor),
        "reason": reason,
        "partial": partial,
    }
    with _errors(), _engine_of(db) as engine:
        progress, step = _step()
        with progress:
            if files:
                assert dictionary is not None and records is not None
                report = import_redcap_files(
                    engine, dictionary=dictionary, records=records, progress=step, **common
                )
            else:
                assert url is not None and token_env is not None
                report = import_redcap_api(engine, url=url, token_env=token_env, progress=step, **common)
    _report(report, partial, rejects, str(records or url))
    _emit({"imported": report.counts, "rejected": len(report.rejects), "source": report.source})


def import_fhir(
    bundle: Path = typer.Option(..., "--bundle", help="FHIR R4 Bundle (JSON)."),
    reason: str = REASON_IMPORT,
    site: str | None = typer.Option(
        None, "--site", help="Site code for patients without a managing organisation."
    ),
    identifier_system: str | None = typer.Option(
        None, "--identifier-system", help="Patient identifier system holding the registry code."
    ),
    partial: bool = PARTIAL,
    rejects: Path = REJECTS,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Import a FHIR R4 Bundle (Patient, Condition, Observation, Procedure, ...), all or nothing."""
    from lupuscell.interop.fhir_common import PATIENT_CODE
    from lupuscell.interop.fhir_import import import_fhir as run

    _check_rejects(partial, rejects)
    with _errors(), _engine_of(db) as engine:
        progress, step = _step()
        with progress:
            result = run(
                engine,
                bundle,
                actor=_actor(actor),
                reason=reason,
                site=site,
                partial=partial,
                identifier_system=identifier_system or PATIENT_CODE,
                progress=step,
            )
    _report(result.report, partial, rejects, str(bundle))
    if result.skipped:
        err.print(
            "skipped (not registry data): " + ", ".join(f"{k} x{v}" for k, v in result.skipped.items()),
            highlight=False,
            markup=False,
        )
    _emit(
        {"imported": result.report.counts, "rejected": len(result.report.rejects), "skipped": result.skipped}
    )


def _mode(identified: bool) -> str:
    return "identified" if identified else "de-identified"


def export_redcap(
    out: Path = typer.Option(..., "--out", help="Folder to write (dictionary, records, mapping)."),
    identified: bool = IDENTIFIED,
    reason: str | None = REASON_EXPORT,
    overwrite: bool = OVERWRITE,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export the registry as a REDCap project (data dictionary, records, mapping back)."""
    from lupuscell.interop.redcap_export import export_redcap as run

    with _errors(), _engine_of(db) as engine:
        result = run(
            engine, out, identified=identified, actor=_actor(actor), reason=reason, overwrite=overwrite
        )
    err.print(f"wrote {_mode(identified)} REDCap project to {out}", highlight=False, markup=False)
    _emit(
        {
            "exported": result.rows,
            "files": result.files,
            "mode": _mode(identified),
            "out": str(out),
            "repeating_instruments": result.repeating_instruments,
        }
    )


def export_fhir(
    out: Path = typer.Option(..., "--out", help="Bundle file to write (JSON)."),
    patient: str | None = typer.Option(
        None, "--patient", help="Only this patient (code; subject id if de-identified)."
    ),
    identified: bool = IDENTIFIED,
    reason: str | None = REASON_EXPORT,
    overwrite: bool = OVERWRITE,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export one patient or the cohort as a FHIR R4 Bundle."""
    from lupuscell.interop.fhir_export import export_fhir as run

    with _errors(), _engine_of(db) as engine:
        result = run(
            engine,
            out,
            patient=patient,
            identified=identified,
            actor=_actor(actor),
            reason=reason,
            overwrite=overwrite,
        )
    err.print(
        f"wrote {_mode(identified)} FHIR Bundle of {result.patients} patient(s) to {out}",
        highlight=False,
        markup=False,
    )
    _emit(
        {
            "patients": result.patients,
            "resources": result.resources,
            "mode": _mode(identified),
            "out": str(out),
        }
    )


def export_cdisc(
    out: Path = typer.Option(..., "--out", help="Folder to write (XPT, CSV, Parquet, define.xml)."),
    study: str = typer.Option("LUPUSCELL", "--study", help="STUDYID of the datasets."),
    identified: bool = IDENTIFIED,
    reason: str | None = REASON_EXPORT,
    overwrite: bool = OVERWRITE,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export ADSL, ADTTE and ADRS as CDISC ADaM (SAS transport v5, CSV, Parquet) with Define-XML."""
    from lupuscell.interop.cdisc import export_cdisc as run

    with _errors(), _engine_of(db) as engine, err.status("deriving endpoints and writing ADaM datasets"):
        result = run(
            engine,
            out,
            study=study,
            identified=identified,
            actor=_actor(actor),
            reason=reason,
            overwrite=overwrite,
        )
    err.print(f"wrote {_mode(identified)} ADaM datasets to {out}", highlight=False, markup=False)
    _emit({"exported": result.rows, "files": result.files, "mode": _mode(identified), "out": str(out)})


def export_omop(
    out: Path = typer.Option(..., "--out", help="Folder to write (one Parquet file per OMOP table)."),
    identified: bool = IDENTIFIED,
    reason: str | None = REASON_EXPORT,
    overwrite: bool = OVERWRITE,
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Export the registry as OMOP CDM v5.4 tables (Parquet), readable by ``lupuscell screen``."""
    from lupuscell.interop.omop_export import export_omop as run

    with _errors(), _engine_of(db) as engine:
        result = run(
            engine, out, identified=identified, actor=_actor(actor), reason=reason, overwrite=overwrite
        )
    err.print(f"wrote {_mode(identified)} OMOP CDM tables to {out}", highlight=False, markup=False)
    _emit(
        {
            "exported": result.rows,
            "left_out": len(result.left_out),
            "mode": _mode(identified),
            "out": str(out),
        }
    )


def register(app: typer.Typer) -> None:
    """Attach the subcommands to the ``import`` and ``export`` groups of :mod:`registry_cmd`."""
    registry_cmd.import_app.command("redcap")(import_redcap)
    registry_cmd.import_app.command("fhir")(import_fhir)
    for name, command in (
        ("redcap", export_redcap),
        ("fhir", export_fhir),
        ("cdisc", export_cdisc),
        ("omop", export_omop),
    ):
        registry_cmd.export_app.command(name)(command)
