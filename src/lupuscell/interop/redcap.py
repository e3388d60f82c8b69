"""Import a REDCap project into the registry (files or the live API), through a mapping file.

``lupuscell import redcap --dictionary D.csv --records R.csv --mapping M.yaml`` (or
``--url URL --token-env VAR`` for the API) reads the project's data dictionary and raw records
(:mod:`lupuscell.interop.redcap_project`), checks the mapping against the dictionary
(:mod:`lupuscell.interop.redcap_mapping`), turns each records row into registry rows, and
imports them through the registry's one import path (:mod:`lupuscell.interop._registry_io`):
the same schemas and cross-record rules as every import, one audited import batch, all or
nothing (or ``--partial``, which loads the valid records and returns the rejects).

Reading a records row
---------------------
A row belongs to a mapped form when it is that form's repeating-instrument row, or a
non-repeating row (``redcap_repeat_instrument`` empty) of one of the table's ``events``
(any event when none are listed), and at least one of the form's mapped fields (checkboxes
aside: REDCap exports unticked boxes as 0 everywhere) is filled. Values are converted by the
field's type in the dictionary and never guessed:

* yes/no and true/false: ``1`` -> true, ``0`` -> false;
* radio, dropdown, checkbox: the code must be one of the field's choices and is mapped through
  ``codes`` (a code outside the choices, or a choice the mapping does not map, is a problem);
* dates: ``YYYY-MM-DD`` (REDCap's raw export format whatever the field's display format; a
  file re-saved by a spreadsheet in another format is refused unless the mapping's
  ``date_format`` says which one the whole file uses); a datetime keeps its date;
* numbers and text: passed on as written; the registry's schemas check them (an unknown
  unit, a number that is not one, a missing required field).

Every problem names the records line, the REDCap record, event and instance, and the REDCap
field.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell.interop._registry_io import ImportReport, Rows, SourceRef, import_rows
from lupuscell.interop.redcap_mapping import (
    AnalyteMap,
    FieldMap,
    RedcapMapping,
    TableMap,
    check_mapping,
    load_mapping,
)
from lupuscell.interop.redcap_project import (
    BOOLEAN_TYPES,
    Dictionary,
    Record,
    fetch_api,
    iter_records,
    open_records,
    read_dictionary,
    read_text,
    token_from_env,
)
from lupuscell.registry.layout import JSON_FIELDS

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")


class _Bad(Exception):
    """A value that cannot be converted (message for the problem list)."""


@dataclass
class _Context:
    dictionary: Dictionary
    mapping: RedcapMapping
    records_name: str


def _date(text: str, fmt: str) -> dt.date:
    if fmt == "%Y-%m-%d":
        match = _ISO_DATE.match(text)
        if match is None:
            raise _Bad(
                f"date {text!r} is not YYYY-MM-DD (REDCap's raw export format); if the whole file "
                "uses another format, set date_format in the mapping"
            )
        try:
            return dt.date.fromisoformat(match[1])
        except ValueError:
            raise _Bad(f"{text!r} is not a calendar date") from None
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        raise _Bad(f"date {text!r} does not match the mapping's date_format {fmt!r}") from None


def _coded(ctx: _Context, name: str, code: str, codes: dict[str, Any] | None) -> Any:
    definition = ctx.dictionary.fields.get(name)
    if definition is not None and definition.choices and code not in definition.choices:
        raise _Bad(f"code {code!r} is not a choice of {name} (choices: {', '.join(definition.choices)})")
    if codes is None:
        if definition is not None and definition.type in BOOLEAN_TYPES:
            return code == "1"
        return code
    if code not in codes:
        label = definition.choices.get(code, "") if definition else ""
        raise _Bad(f"choice {code!r} ({label}) of {name} has no registry value in the mapping")
    return codes[code]


def _value(ctx: _Context, record: Record, fm: FieldMap) -> Any:
    """The registry value of one mapped field of one records row."""
    if fm.value is not None:
        return fm.value
    if fm.instance:
        return record.get("redcap_repeat_instance") or 1
    if fm.checkbox is not None:
        box = ctx.dictionary.fields[fm.checkbox]
        ticked = [c for c in box.choices if record.get(f"{fm.checkbox}___{c.lower()}") == "1"]
        return [_coded(ctx, fm.checkbox, c, fm.codes) for c in ticked]
    assert fm.field is not None
    text = record.get(fm.field)
    if text == "":
        return [] if fm.split is not None else None
    definition = ctx.dictionary.fields.get(fm.field)
    if fm.split is not None:
        return [part.strip() for part in text.split(fm.split) if part.strip()]
    if fm.codes is not None or (
        definition is not None and (definition.choices or definition.type in BOOLEAN_TYPES)
    ):
        return _coded(ctx, fm.field, text, fm.codes)
    if definition is not None and definition.is_date:
        return _date(text, ctx.mapping.date_format)
    return text


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Bad(f"not valid JSON ({exc.msg} at character {exc.pos})") from None


def _location(ctx: _Context, record: Record, rid: str) -> str:
    parts = [f"record {rid}"]
    if record.get("redcap_event_name"):
        parts.append(f"event {record.get('redcap_event_name')}")
    if record.get("redcap_repeat_instrument"):
        parts.append(f"{record.get('redcap_repeat_instrument')} #{record.get('redcap_repeat_instance')}")
    elif record.get("redcap_repeat_instance"):
        parts.append(f"instance {record.get('redcap_repeat_instance')}")
    return f"{ctx.records_name} line {record.line} ({', '.join(parts)})"


def _belongs(record: Record, tm: TableMap) -> bool:
    repeat = record.get("redcap_repeat_instrument")
    if repeat not in ("", tm.form):
        return False
    return not (tm.events and record.get("redcap_event_name") not in tm.events)


def _filled(ctx: _Context, record: Record, tm: TableMap) -> bool:
    names = [fm.field for fm in tm.fields.values() if fm.field is not None]
    names += [n for am in tm.analytes or [] for n in (am.value,)]
    return any(record.get(n) for n in names if n != ctx.mapping.record_id)


def _mapped(
    ctx: _Context, record: Record, fields: dict[str, FieldMap], location: str, table: str, rows: Rows
) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    ok = True
    for name, fm in fields.items():
        try:
            value = _value(ctx, record, fm)
            if name in JSON_FIELDS and isinstance(value, str):
                value = _json(value)
            if value is not None:  # empty = not given: a required field is then reported as such
                out[name] = value
        except _Bad as exc:
            rows.problem(location, table, f"{fm.field or fm.checkbox} ({table}.{name})", str(exc))
            ok = False
    return out if ok else None


def _sources(fields: dict[str, FieldMap]) -> dict[str, str]:
    return {name: fm.field or fm.checkbox or "(mapping constant)" for name, fm in fields.items()}


def _patient_row(ctx: _Context, record: Record, code: str, location: str, rows: Rows) -> None:
    tm = ctx.mapping.tables["patients"]
    fields = {**tm.fields, "site_code": ctx.mapping.site}
    data = _mapped(ctx, record, fields, location, "patients", rows)
    if data is None:
        rows.reject("patients", code)
    else:
        rows.add(
            "patients",
            {"code": code, **data},
            SourceRef(location, {"code": ctx.mapping.record_id, **_sources(fields)}),
        )


def _lab_rows(ctx: _Context, record: Record, tm: TableMap, code: str, location: str, rows: Rows) -> None:
    base = _mapped(ctx, record, tm.fields, location, "lab_results", rows)
    for am in tm.analytes or []:
        value = record.get(am.value)
        if value == "":
            continue
        unit = _unit(ctx, record, am, location, rows)
        if base is None or unit is None:
            continue
        sources = {
            **_sources(tm.fields),
            "value": am.value,
            "unit": am.unit_field or "(mapping unit)",
            "analyte": f"(mapping analyte of {am.value})",
            "patient_code": ctx.mapping.record_id,
        }
        row = {"patient_code": code, **base, "analyte": am.analyte, "value": value, "unit": unit}
        rows.add("lab_results", row, SourceRef(location, sources))


def _unit(ctx: _Context, record: Record, am: AnalyteMap, location: str, rows: Rows) -> str | None:
    if am.unit is not None:
        return am.unit
    assert am.unit_field is not None and am.unit_codes is not None
    code = record.get(am.unit_field)
    if code == "":
        rows.problem(
            location,
            "lab_results",
            f"{am.unit_field} (lab_results.unit)",
            f"no unit given for {am.value}; a value without a unit is never guessed",
        )
        return None
    try:
        return str(_coded(ctx, am.unit_field, code, am.unit_codes))
    except _Bad as exc:
        rows.problem(location, "lab_results", f"{am.unit_field} (lab_results.unit)", str(exc))
        return None


def _table_rows(
    ctx: _Context, record: Record, table: str, tm: TableMap, code: str, location: str, rows: Rows
) -> None:
    if table == "lab_results" and tm.analytes is not None:
        _lab_rows(ctx, record, tm, code, location, rows)
        return
    fields = dict(tm.fields)
    if table == "therapy_courses" and "course_no" not in fields:
        fields["course_no"] = FieldMap(instance=True)
    if table == "drug_administrations" and "course_no" not in fields:
        fields["course_no"] = FieldMap(value=1)
    data = _mapped(ctx, record, fields, location, table, rows)
    if data is None and table == "therapy_courses":  # its drugs and AEs are then dependent rows
        with contextlib.suppress(_Bad):
            rows.reject(table, f"{code}/{_value(ctx, record, fields['course_no'])}")
    if data is not None:
        rows.add(
            table,
            {"patient_code": code, **data},
            SourceRef(location, {"patient_code": ctx.mapping.record_id, **_sources(fields)}),
        )


def records_to_rows(
    dictionary: Dictionary, records: Iterable[Record], mapping: RedcapMapping, records_name: str
) -> Rows:
    """Registry rows (with provenance) of a REDCap records export; problems collected, not raised."""
    ctx = _Context(dictionary, mapping, records_name)
    rows = Rows()
    for i, site in enumerate(mapping.sites):
        rows.add("sites", site.model_dump(), SourceRef(f"mapping sites[{i}]"))
    for record in records:
        rid = record.get(mapping.record_id)
        location = _location(ctx, record, rid)
        if not rid:
            rows.problem(location, "", mapping.record_id, "the record id is empty")
            continue
        code = mapping.patient_code.format(record_id=rid)
        for table, tm in mapping.tables.items():
            if not _belongs(record, tm) or not _filled(ctx, record, tm):
                continue
            if table == "patients":
                _patient_row(ctx, record, code, location, rows)
            else:
                _table_rows(ctx, record, table, tm, code, location, rows)
    return rows


def _import(
    engine: Engine,
    dictionary: Dictionary,
    records: Iterable[Record],
    mapping: RedcapMapping,
    mapping_name: str,
    records_name: str,
    **kwargs: Any,
) -> ImportReport:
    check_mapping(mapping, dictionary, mapping_name)
    rows = records_to_rows(dictionary, records, mapping, records_name)
    return import_rows(engine, rows, **kwargs)


def import_redcap_files(
    engine: Engine,
    *,
    dictionary: Path,
    records: Path,
    mapping: Path,
    actor: str,
    reason: str,
    partial: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Import a REDCap data dictionary + raw records export (CSV files) with a mapping file."""
    the_mapping = load_mapping(mapping)
    the_dictionary = read_dictionary(read_text(dictionary, "--dictionary"), dictionary.name)
    with open_records(records) as handle:
        return _import(
            engine,
            the_dictionary,
            iter_records(handle, records.name),
            the_mapping,
            mapping.name,
            records.name,
            actor=actor,
            reason=reason,
            source=f"redcap:{records}",
            partial=partial,
            progress=progress,
        )


def import_redcap_api(
    engine: Engine,
    *,
    url: str,
    token_env: str,
    mapping: Path,
    actor: str,
    reason: str,
    partial: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Import a project straight from the REDCap API (PyCap); the token comes from ``token_env``."""
    the_mapping = load_mapping(mapping)
    export = fetch_api(url, token_from_env(token_env))
    the_dictionary = read_dictionary(export.dictionary, "API metadata")
    records = iter_records(io.StringIO(export.records), "API records")
    return _import(
        engine,
        the_dictionary,
        records,
        the_mapping,
        mapping.name,
        "API records",
        actor=actor,
        reason=reason,
        source=f"redcap-api:{url}",
        partial=partial,
        progress=progress,
    )
