"""CLI commands ``patients list`` and ``patients show``: browse the registry.

Thin by design: :mod:`lupuscell.registry.views` reads, :mod:`lupuscell.instruments.sledai2k`
scores, this module renders. Every stored value reaches the terminal as plain text
(:func:`lupuscell.cli.registry_options.text`), never as Rich markup.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import DB_OPTION, MAX_LIMIT, emit, engine_of, out, print_table, text
from lupuscell.errors import ValidationError

patients_app = typer.Typer(help="Browse patients in the registry.", no_args_is_help=True)

LIST_COLUMNS = (
    "code",
    "site",
    "sex",
    "birth year",
    "therapies",
    "day 0",
    "visits",
    "follow-up (d)",
    "status",
)
PHASES: tuple[tuple[str, str], ...] = (
    ("mobilisation_date", "mobilisation"),
    ("harvest_date", "apheresis / harvest"),
    ("conditioning_start_date", "conditioning / lymphodepletion"),
    ("infusion_date", "infusion (day 0 of the course)"),
    ("discharge_date", "discharge"),
)


@patients_app.command("list")
def patients_list(
    therapy: str | None = typer.Option(None, help="Only patients with a course of this therapy."),
    site: str | None = typer.Option(None, help="Only patients of this site code."),
    limit: int = typer.Option(50, min=1, max=MAX_LIMIT, help="At most this many patients."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """List patients: site, sex, birth year, therapies, day 0, visits, follow-up, status."""
    from lupuscell import vocab
    from lupuscell.registry.views import patient_summaries

    with registry_errors():
        if therapy is not None and therapy not in vocab.THERAPIES:
            raise ValidationError.single(
                "--therapy", "therapy", f"unknown therapy {therapy!r}; allowed: {', '.join(vocab.THERAPIES)}"
            )
        engine = engine_of(db)
        try:
            rows = patient_summaries(engine, therapy=therapy, site=site, limit=limit)
        finally:
            engine.dispose()
    if as_json:
        emit({"patients": rows})
        return
    table = Table(title=text(f"Patients ({len(rows)} shown, limit {limit})"))
    for column in LIST_COLUMNS:
        table.add_column(column, no_wrap=column in ("code", "day 0"))
    for r in rows:
        cells = (r["code"], r["site"], r["sex"], r["birth_year"], ", ".join(r["therapies"]), r["day0"])
        table.add_row(*(text(c) for c in (*cells, r["visits"], r["follow_up_days"], r["status"])))
    out.print(table)


def sledai_text(visit: dict[str, Any]) -> str:
    """SLEDAI-2K of a stored visit as shown: the total; ``>=n`` when a descriptor was not
    assessed (n = the score of the assessed ones, the instrument's ``sledai_2k_min``); ``''``
    when none was assessed. Scored by :func:`lupuscell.instruments.sledai2k.score_sledai_2k`
    (Gladman 2002 weights), the one SLEDAI-2K implementation."""
    from lupuscell.instruments.sledai2k import DESCRIPTORS, score_sledai_2k

    descriptors = {name: visit.get(name) for name in DESCRIPTORS}
    if all(value is None for value in descriptors.values()):
        return ""
    values = score_sledai_2k({"descriptors": descriptors}).values
    if values["sledai_2k"] is not None:
        return str(values["sledai_2k"])
    return f">={values['sledai_2k_min']}"


@patients_app.command("show")
def patients_show(
    code: str = typer.Argument(..., help="Patient code."),
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of the timeline."),
    db: str | None = DB_OPTION,
) -> None:
    """Show one patient's timeline: therapy phases, visits with SLEDAI-2K, labs, AEs, events."""
    from lupuscell.registry.views import patient_timeline

    with registry_errors():
        engine = engine_of(db)
        try:
            tl = patient_timeline(engine, code)
        finally:
            engine.dispose()
    for visit in tl["visits"]:
        visit["sledai_2k"] = sledai_text(visit)
    if as_json:
        emit(tl)
        return
    _print_header(tl)
    _print_treatment(tl)
    _print_follow_up(tl)


def _print_header(tl: dict[str, Any]) -> None:
    p = tl["patient"]
    organs = ", ".join(p["organ_involvement"]) or "-"
    diagnosed = p["sle_diagnosis_date"] or "?"
    line = (
        f"[bold]{escape(p['code'])}[/]  site {escape(p['site_code'])}  sex {p['sex']}  born {p['birth_year']}  "
        f"SLE diagnosed {diagnosed}  organs: {escape(organs)}"
    )
    if p["nephritis_class"]:
        line += f"  LN class {escape(p['nephritis_class'])}"
    out.print(line + f"\nday 0 = {tl['day0'] or 'no therapy course'}", highlight=False)


def _print_treatment(tl: dict[str, Any]) -> None:
    from lupuscell.registry.views import study_day

    print_table(
        "Therapy phases",
        ("course", "therapy", "phase", "date", "day"),
        [
            (c["course_no"], c["therapy"], label, c[f], study_day(c[f], tl["day0"]))
            for c in tl["courses"]
            for f, label in PHASES
            if c[f] is not None
        ],
    )
    print_table(
        "Drugs",
        ("course", "date", "day", "drug", "dose", "purpose"),
        [
            (
                c["course_no"],
                d["admin_date"],
                d["study_day"],
                d["drug"],
                f"{d['dose']:g} {d['unit']}",
                d["purpose"],
            )
            for c in tl["courses"]
            for d in c["drugs"]
        ],
    )


def _print_follow_up(tl: dict[str, Any]) -> None:
    from lupuscell import vocab

    print_table(
        "Visits",
        ("date", "day", "SLEDAI-2K", "PGA", "prednisone mg/d", "descriptors present"),
        [
            (
                v["visit_date"],
                v["study_day"],
                v["sledai_2k"],
                v["pga"],
                v["prednisone_mg_per_day"],
                ", ".join(name for name in vocab.SLEDAI_2K_DESCRIPTORS if v.get(name) is True),
            )
            for v in tl["visits"]
        ],
    )
    print_table(
        "Labs",
        ("date", "day", "analyte", "as entered", "canonical"),
        [
            (
                lab["result_date"],
                lab["study_day"],
                lab["analyte"],
                f"{lab['value']:g} {lab['unit']}",
                f"{lab['value_canonical']:.4g} {lab['unit_canonical']}",
            )
            for lab in tl["labs"]
        ],
    )
    print_table(
        "Adverse events",
        ("onset", "day", "term", "category", "grade", "serious", "resolved"),
        [
            (
                a["onset_date"],
                a["study_day"],
                a["term"],
                a["category"],
                f"{a['grade']} ({a['grading_system']})",
                "yes" if a["serious"] else "no",
                a["resolution_date"],
            )
            for a in tl["adverse_events"]
        ],
    )
    print_table(
        "Clinical events",
        ("date", "day", "event", "detail"),
        [
            (
                e["event_date"],
                e["study_day"],
                e["event_type"],
                "; ".join(str(e[k]) for k in ("severity", "cause") if e[k]),
            )
            for e in tl["clinical_events"]
        ],
    )
