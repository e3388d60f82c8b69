"""CLI: ``lupuscell evidence questions`` and ``lupuscell evidence patient-info`` (reports).

``questions`` writes the open-questions report (HTML, PDF, JSON) built by
:mod:`lupuscell.reports.evidence_questions`; ``patient-info`` writes the self-contained
plain-language page of :mod:`lupuscell.reports.patient_page`. Both read the curated evidence
with the same filters and local rows as every evidence command.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from lupuscell.cli.common import fail, lazy_module

studies = lazy_module("lupuscell.evidence.studies")
local_mod = lazy_module("lupuscell.evidence.local")
questions_report = lazy_module("lupuscell.reports.evidence_questions")
patient_page = lazy_module("lupuscell.reports.patient_page")

LEVEL_HELP = "Keep only rows of this evidence level (repeatable)."
NO_LEVEL_HELP = "Leave out rows of this evidence level (repeatable)."
GROUP_HELP = "Keep only rows of this cohort group (repeatable; 'none' = rows in no group)."
NO_GROUP_HELP = "Leave out rows of this cohort group (repeatable)."
LOCAL_HELP = "Merge the local evidence file written by 'lupuscell evidence add' (marked local)."


def register(evidence_app: typer.Typer) -> None:
    """Attach the evidence report commands to the ``evidence`` sub-app."""
    from lupuscell.cli.evidence_cmd import guard, load, study_filter

    @evidence_app.command("questions")
    def questions_cmd(
        out: Path = typer.Option(Path("evidence_questions"), "--out", help="Folder for the report files."),
        evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
        exclude_evidence_level: list[str] = typer.Option(
            None, "--exclude-evidence-level", help=NO_LEVEL_HELP
        ),
        cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
        exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
        use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
    ) -> None:
        """Write the open-questions report (questions.html, questions.pdf, questions.json)."""
        filt = study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group)
        df = guard(lambda: filt.apply(load(None, use_local)))
        if out.exists() and not out.is_dir():
            raise fail(f"--out: {out} exists and is not a folder")
        spinner = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), transient=True, console=Console(stderr=True)
        )
        with spinner as progress:
            progress.add_task("pooling, plotting and writing the questions report", total=None)
            summary = guard(lambda: questions_report.write_questions_report(df, out, filters=filt.describe()))
        for key, q in summary["questions"].items():
            typer.echo(f"{key}: {q['sentence']}")
        typer.echo(f"written: {out / 'questions.html'}, {out / 'questions.pdf'}, {out / 'questions.json'}")

    @evidence_app.command("patient-info")
    def patient_info_cmd(
        out: Path = typer.Option(..., "--out", help="Folder for patient_info.html."),
        evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
        exclude_evidence_level: list[str] = typer.Option(
            None, "--exclude-evidence-level", help=NO_LEVEL_HELP
        ),
        cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
        exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
        use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
    ) -> None:
        """Write the plain-language patient page (one self-contained HTML file)."""
        filt = study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group)
        df = guard(lambda: filt.apply(load(None, use_local)))
        html = guard(lambda: patient_page.render_patient_page(df))
        path = out / "patient_info.html"
        guard(lambda: out.mkdir(parents=True, exist_ok=True))
        guard(lambda: path.write_text(html, encoding="utf-8"))
        typer.echo(f"written: {path}")
