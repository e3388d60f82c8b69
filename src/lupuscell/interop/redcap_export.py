"""Export the registry as a REDCap project: data dictionary, records and the mapping back.

``lupuscell export redcap --out DIR`` writes three files a centre loads into a new REDCap
project (Project Setup, "Upload a data dictionary"; then the Data Import Tool):

* ``lupuscell_dictionary.csv``: one form per registry table (``patient``, then the
  repeating instruments ``therapy_course``, ``drug_administration``, ``visit``,
  ``lab_result``, ``adverse_event``, ``clinical_event``); field names are the registry
  field names with a form prefix (``vi_proteinuria``); code lists become dropdowns (or
  checkboxes for organ involvement) with numbered choices labelled by the registry code,
  booleans yes/no, dates ``date_ymd``, numbers ``number``/``integer``;
* ``lupuscell_records.csv``: raw records in REDCap's import format (one row for the patient
  form, one row per instance of each repeating instrument; ``redcap_repeat_instrument``,
  ``redcap_repeat_instance``; checkboxes as ``field___code``), every form marked complete;
* ``lupuscell_mapping.yaml``: the mapping that imports those files back
  (``lupuscell import redcap``), so a REDCap project and the registry can be kept in step.

The instruments must be enabled as repeating (Project Setup, "Repeating instruments and
events") before the records are imported; ``manifest.json`` lists them. The BILAG-2004
grades of a visit are one text field holding JSON (``{"renal": "B"}``), as in the registry's
own exchange files.

De-identified by default, like every export (the registry's de-identification:
:data:`lupuscell.interop._registry_io.DEIDENTIFICATION`): records carry subject ids and study
days instead of codes and dates, so no mapping is written (such a project cannot be imported
back as the same patients). ``identified=True`` writes the records as stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy.engine import Engine

from lupuscell import __version__, vocab
from lupuscell.interop import _registry_io as rio
from lupuscell.registry.repository import SPECS

FORMS: dict[str, tuple[str, str]] = {
    "patients": ("patient", "pt"),
    "therapy_courses": ("therapy_course", "tc"),
    "drug_administrations": ("drug_administration", "da"),
    "visits": ("visit", "vi"),
    "lab_results": ("lab_result", "lr"),
    "adverse_events": ("adverse_event", "ae"),
    "clinical_events": ("clinical_event", "ce"),
}
"""Registry table -> (REDCap form name, field prefix)."""

CODE_LISTS: dict[str, tuple[str, ...]] = {
    "sex": vocab.SEXES,
    "classification_criteria": vocab.CLASSIFICATION_CRITERIA,
    "nephritis_class": vocab.NEPHRITIS_CLASSES,
    "therapy": vocab.THERAPIES,
    "cell_source": vocab.CELL_SOURCES,
    "donor_type": vocab.DONOR_TYPES,
    "route": vocab.ROUTES,
    "purpose": vocab.DRUG_PURPOSES,
    "category": vocab.AE_CATEGORIES,
    "relatedness": vocab.RELATEDNESS,
    "event_type": vocab.CLINICAL_EVENT_TYPES,
    "severity": vocab.FLARE_SEVERITIES,
    "organ_involvement": vocab.ORGAN_INVOLVEMENT,
    "cause_category": rio.DEATH_CAUSE_CATEGORIES,
    "grading_system": vocab.AE_GRADING_SYSTEMS,
}
"""Registry fields exported as REDCap choices (numbered 1.. in the order of the code list)."""

HEADERS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""REDCap data dictionary columns, in REDCap's order."""
RECORD_ID = "record_id"
FILES = ("lupuscell_dictionary.csv", "lupuscell_records.csv", "lupuscell_mapping.yaml")


@dataclass(frozen=True)
class Column:
    """One REDCap field made from one registry column."""

    table: str
    source: str
    name: str
    kind: str
    validation: str = ""
    choices: tuple[str, ...] = ()
    note: str = ""

    @property
    def form(self) -> str:
        return FORMS[self.table][0]


def _annotation(table: str, column: str) -> str:
    schema = SPECS[rio.LAYOUT[table].entity].schema
    info = schema.model_fields.get(column)
    return str(info.annotation) if info is not None else ""


def _column(table: str, source: str) -> Column:
    prefix = FORMS[table][1]
    name = f"{prefix}_{source}"
    kind = _annotation(table, source)
    if source in CODE_LISTS:
        return Column(
            table, source, name, "checkbox" if "list" in kind else "dropdown", choices=CODE_LISTS[source]
        )
    if source in rio.layout.LIST_FIELDS:
        return Column(table, source, name, "notes", note="separate items with ;")
    if source in rio.layout.JSON_FIELDS:
        example = '{"pga": "not_done"}' if source == "missing" else '{"renal": "B"}'
        return Column(table, source, name, "notes", note=f"JSON, e.g. {example}")
    if source.endswith("_date") or "datetime.date" in kind:
        return Column(table, source, name, "text", "date_ymd")
    if source.endswith("_day") or source == "age_at_day0" or source == "course_no" or "int" in kind:
        return Column(table, source, name, "text", "integer")
    if "bool" in kind:
        return Column(table, source, name, "yesno")
    if "float" in kind:
        return Column(table, source, name, "text", "number")
    return Column(table, source, name, "notes" if source in ("cause", "cause_category") else "text")


def _columns(frames: Mapping[str, pd.DataFrame]) -> dict[str, list[Column]]:
    skip = {"code", "subject_id", "patient_code"}
    out: dict[str, list[Column]] = {}
    for table in FORMS:
        names = [c for c in frames[table].columns if c not in skip]
        if table == "therapy_courses":
            names = [c for c in names if c != "course_no"]  # the repeat instance is the course number
        out[table] = [_column(table, c) for c in names]
    return out


def _dictionary_rows(columns: Mapping[str, list[Column]], record_label: str) -> Iterator[dict[str, str]]:
    yield {
        "Variable / Field Name": RECORD_ID,
        "Form Name": "patient",
        "Field Type": "text",
        "Field Label": record_label,
    }
    for table, cols in columns.items():
        for col in cols:
            yield {
                "Variable / Field Name": col.name,
                "Form Name": col.form,
                "Field Type": col.kind,
                "Field Label": f"{table}.{col.source}",
                "Choices, Calculations, OR Slider Labels": " | ".join(
                    f"{i}, {value}" for i, value in enumerate(col.choices, start=1)
                ),
                "Text Validation Type OR Show Slider Number": col.validation,
                "Field Note": col.note,
            }


def _cell(col: Column, value: Any) -> dict[str, str]:
    """REDCap raw value(s) of one registry value (checkboxes give one column per choice)."""
    if col.kind == "checkbox":
        ticked = set(value) if isinstance(value, list | tuple) else set()
        return {
            f"{col.name}___{i}": "1" if code in ticked else "0" for i, code in enumerate(col.choices, start=1)
        }
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return {col.name: ""}
    if col.kind == "dropdown":
        return {col.name: str(col.choices.index(value) + 1)}
    if col.kind == "yesno":
        return {col.name: "1" if bool(value) else "0"}
    if col.source in rio.layout.LIST_FIELDS:
        return {col.name: "; ".join(value) if isinstance(value, list | tuple) else ""}
    if col.source in rio.layout.JSON_FIELDS:
        return {col.name: json.dumps(value, sort_keys=True)}
    if isinstance(value, dt.date):
        return {col.name: value.isoformat()}
    if isinstance(value, float):
        return {col.name: repr(float(value))}
    return {col.name: str(value)}


def _header(columns: Mapping[str, list[Column]]) -> list[str]:
    header = [RECORD_ID, "redcap_repeat_instrument", "redcap_repeat_instance"]
    for table, cols in columns.items():
        for col in cols:
            header += list(_cell(col, None)) if col.kind == "checkbox" else [col.name]
        header.append(f"{FORMS[table][0]}_complete")
    return header


def _records(
    frames: Mapping[str, pd.DataFrame], columns: Mapping[str, list[Column]], key: str
) -> Iterator[dict[str, str]]:
    patients = frames["patients"]
    children: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table in list(FORMS)[1:]:
        frame = frames[table].astype(object).where(frames[table].notna(), None)
        for row in frame.to_dict(orient="records"):
            children.setdefault(str(row[key]), {}).setdefault(table, []).append(
                {str(k): v for k, v in row.items()}
            )
    pkey = "code" if key == "patient_code" else "subject_id"
    for row in patients.astype(object).where(patients.notna(), None).to_dict(orient="records"):
        rid = str(row[pkey])
        out = {
            RECORD_ID: rid,
            "redcap_repeat_instrument": "",
            "redcap_repeat_instance": "",
            "patient_complete": "2",
        }
        for col in columns["patients"]:
            out.update(_cell(col, row.get(col.source)))
        yield out
        for table, rows in children.get(rid, {}).items():
            form = FORMS[table][0]
            for instance, child in enumerate(rows, start=1):
                number = child.get("course_no") if table == "therapy_courses" else instance
                rec = {
                    RECORD_ID: rid,
                    "redcap_repeat_instrument": form,
                    "redcap_repeat_instance": str(number),
                    f"{form}_complete": "2",
                }
                for col in columns[table]:
                    rec.update(_cell(col, child.get(col.source)))
                yield rec


def _mapping(columns: Mapping[str, list[Column]], sites: pd.DataFrame) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for table, cols in columns.items():
        fields: dict[str, Any] = {}
        for col in cols:
            if col.source == "site_code":
                continue
            spec: dict[str, Any] = {"checkbox" if col.kind == "checkbox" else "field": col.name}
            if col.choices:
                spec["codes"] = {str(i): value for i, value in enumerate(col.choices, start=1)}
            if col.source in rio.layout.LIST_FIELDS and col.kind != "checkbox":
                spec["split"] = ";"
            fields[col.source] = spec
        if table == "therapy_courses":
            fields["course_no"] = {"instance": True}
        tables[table] = {"form": FORMS[table][0], "fields": fields}
    site_rows = sites.astype(object).where(sites.notna(), None).to_dict(orient="records")
    return {
        "version": 1,
        "record_id": RECORD_ID,
        "patient_code": "{record_id}",
        "site": {"field": "pt_site_code"},
        "sites": [{k: v for k, v in s.items() if v is not None} for s in site_rows],
        "tables": tables,
    }


@dataclass
class RedcapExport:
    """What :func:`export_redcap` wrote."""

    out: Path
    files: list[str]
    rows: dict[str, int]
    identified: bool
    repeating_instruments: list[str] = field(default_factory=list)


def export_redcap(
    engine: Engine,
    out: Path,
    *,
    identified: bool = False,
    actor: str,
    reason: str | None = None,
    overwrite: bool = False,
) -> RedcapExport:
    """Write the registry as a REDCap project into folder ``out`` (audited; see module docstring)."""
    frames = rio.read_tables(engine, identified=identified)
    key = "patient_code" if identified else "subject_id"
    columns = _columns(frames)
    rows = {name: len(frame) for name, frame in frames.items()}
    repeating = [FORMS[t][0] for t in list(FORMS)[1:]]
    with rio.audited_output(
        engine,
        out,
        kind="redcap",
        identified=identified,
        actor=actor,
        reason=reason,
        rows=rows,
        directory=True,
        overwrite=overwrite,
    ) as target:
        label = "Registry patient code" if identified else "Subject id (de-identified)"
        _write_csv(target / FILES[0], list(HEADERS), _dictionary_rows(columns, label))
        _write_csv(target / FILES[1], _header(columns), _records(frames, columns, key))
        files = list(FILES[:2])
        if identified:
            mapping = _mapping(columns, frames["sites"])
            (target / FILES[2]).write_text(
                "# Mapping written by lupuscell export redcap: imports these records back.\n"
                + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True),
                encoding="utf-8",
            )
            files.append(FILES[2])
        manifest = {
            "lupuscell_version": __version__,
            "format": "redcap",
            "mode": "identified" if identified else "de-identified",
            "de_identification": [] if identified else list(rio.DEIDENTIFICATION),
            "rows": rows,
            "repeating_instruments": repeating,
            "files": files,
        }
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return RedcapExport(
        out=out, files=files, rows=rows, identified=identified, repeating_instruments=repeating
    )


def _write_csv(path: Path, header: list[str], rows: Iterator[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="raise", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
