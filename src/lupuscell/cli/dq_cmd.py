"""CLI commands ``dq rules`` and ``dq run``: the data-quality rules and a run over the registry.

Thin layer over :mod:`lupuscell.registry.dq`: ``dq rules`` lists the rules (table or ``--json``);
``dq run`` evaluates every rule in SQL over the registry (or one site), with a progress bar on
stderr, prints a table per rule (count, examples) or the JSON report, and writes the report to
``--out`` (``.csv``, ``.json`` or ``.html``). Exit code 0 when the run completed, whatever it
found; 2 for invalid input (a bad rules file, an unknown site, an unsupported ``--out``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lupuscell.cli.common import fail, registry_errors
from lupuscell.cli.registry_options import DB_OPTION, emit, engine_of, err, print_table

dq_app = typer.Typer(help="Data-quality rules: list them, run them over the registry.", no_args_is_help=True)

RULES_OPTION = typer.Option(None, "--rules", help="A rules YAML file instead of the shipped rules.")
RULE_COLUMNS = ("id", "entity", "severity", "fields", "when", "expression", "message")
RUN_COLUMNS = ("rule", "entity", "severity", "field", "count", "examples (record: value)")


def _rules(path: Path | None) -> Any:
    from lupuscell.registry.dq.rules import load_rules

    return load_rules(path)


@dq_app.command("rules")
def dq_rules(
    rules: Path | None = RULES_OPTION,
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
) -> None:
    """List the data-quality rules (id, entity, severity, fields, expression, message, source)."""
    with registry_errors():
        ruleset = _rules(rules)
    if as_json:
        emit({"rules": [rule.model_dump() for rule in ruleset.rules]})
        return
    rows = [
        (r.id, r.entity, r.severity, ", ".join(r.fields), r.when or "", r.expression, r.message)
        for r in ruleset.rules
    ]
    print_table(f"data-quality rules ({len(rows)})", RULE_COLUMNS, rows)


def _check_site(engine: Any, site: str) -> None:
    import sqlalchemy as sa

    from lupuscell.registry.models import Site

    with engine.connect() as conn:
        if conn.execute(sa.select(Site.id).where(Site.code == site)).first() is None:
            raise fail(f"unknown site {site!r}")


def _examples(result: Any) -> str:
    return "; ".join(
        f"{v.entity} {v.record_id} ({v.patient_code}): {v.field} = {v.as_dict()['value']}"
        for v in result.violations[:3]
    )


@dq_app.command("run")
def dq_run(
    db: str | None = DB_OPTION,
    site: str | None = typer.Option(None, "--site", help="Only this site's records."),
    rules: Path | None = RULES_OPTION,
    out: Path | None = typer.Option(None, "--out", help="Write the report to FILE (.csv, .json or .html)."),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON on stdout."),
) -> None:
    """Run every rule over the registry in SQL and report, per rule, the count and examples."""
    from lupuscell.registry.dq.batch import run
    from lupuscell.reports.dq_report import FORMATS, write_report

    if out is not None and out.suffix.lower() not in FORMATS:
        raise fail(f"--out {out}: the file must end in {', '.join(FORMATS)}")
    with registry_errors():
        ruleset = _rules(rules)
        engine = engine_of(db)
        try:
            if site is not None:
                _check_site(engine, site)
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err, transient=False) as bar:
                task = bar.add_task("data-quality rules", total=len(ruleset.rules))
                report = run(engine, ruleset, site=site, progress=lambda _rule: bar.advance(task))
        finally:
            engine.dispose()
    if out is not None:
        write_report(report, out)
        err.print(f"report written to {out}", markup=False, highlight=False)
    if as_json:
        emit(report.as_dict())
        return
    rows = [
        (r.rule.id, r.rule.entity, r.rule.severity, r.rule.field, r.count, _examples(r))
        for r in report.results
    ]
    total = sum(r.count for r in report.results)
    print_table(f"data-quality run: {total} violation(s) in {report.seconds:.2f} s", RUN_COLUMNS, rows)


def register(app: typer.Typer) -> None:
    app.add_typer(dq_app, name="dq")
