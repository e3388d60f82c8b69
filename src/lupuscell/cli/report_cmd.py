"""CLI: ``lupuscell report`` — the outcomes report of the registry (HTML, PDF, summary.json)."""

from __future__ import annotations

from pathlib import Path

import typer

from lupuscell.cli.common import err, fail, registry_read_failed
from lupuscell.errors import LupuscellError


def register(app: typer.Typer) -> None:
    """Attach ``report`` to the root app."""

    @app.command("report")
    def report(
        out: Path = typer.Option(
            ..., "--out", help="Directory for report.html, report.pdf, summary.json, datasets/."
        ),
        db: str | None = typer.Option(
            None, "--db", help="Registry URL (default: LUPUSCELL_DATABASE_URL or the embedded SQLite file)."
        ),
        therapy: str | None = typer.Option(
            None, "--therapy", help="Only this therapy (e.g. autologous_hsct, msc)."
        ),
        site: str | None = typer.Option(None, "--site", help="Only this site code."),
        datasets_format: str = typer.Option(
            "parquet", "--datasets-format", help="Format of datasets/adsl, adtte, adrs: parquet or csv."
        ),
        bootstrap: int = typer.Option(
            50,
            "--bootstrap",
            min=10,
            help="Bootstrap resamples of the prediction models' optimism correction (at least 10; "
            "200 for a final analysis, each adds a few seconds).",
        ),
    ) -> None:
        """Derive endpoints from the registry and write the outcomes report."""
        from sqlalchemy.exc import DBAPIError

        from lupuscell.registry import pro_read
        from lupuscell.registry.session import default_database_url, make_engine
        from lupuscell.registry.snapshot import data_snapshot
        from lupuscell.registry.tables import from_registry
        from lupuscell.reports.pipeline import report_from_cohort

        if datasets_format not in ("csv", "parquet"):
            raise fail(f"--datasets-format: {datasets_format!r}; use parquet or csv")
        url = db or default_database_url()
        try:
            with err.status("Reading the registry…"):
                engine = make_engine(url)
                cohort = from_registry(engine)
                snapshot = data_snapshot(engine)
            with err.status(f"Deriving endpoints and writing the report for {cohort.n_patients} patients…"):
                summary, _ = report_from_cohort(
                    cohort,
                    out,
                    source=_redact(url),
                    as_of=snapshot["as_of"],
                    therapy=therapy,
                    site=site,
                    datasets_format="csv" if datasets_format == "csv" else "parquet",
                    n_bootstrap=bootstrap,
                    pro=pro_read.cohort_frame(engine),
                )
        except LupuscellError as exc:
            raise fail(str(exc)) from exc
        except DBAPIError as exc:  # e.g. an uninitialised database: a hint, never a traceback
            raise registry_read_failed(exc) from None
        typer.echo(
            f"Report for {summary['n_patients']} patients written to {out}/ "
            "(report.html, report.pdf, summary.json, datasets/)"
        )


def _redact(url: str) -> str:
    """The database URL without a password, for the report's data-snapshot line."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "database"
