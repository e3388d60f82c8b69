"""The mapping file of a REDCap import: which REDCap field is which registry field.

A mapping is YAML (docs/interop/redcap.md has the full reference and a worked example,
``docs/interop/examples/sle_cell_therapy_mapping.yaml``)::

    version: 1
    record_id: record_id             # the REDCap record id field
    patient_code: "HD-{record_id}"   # registry patient code made from the record id
    site: {value: HD}                # or {field: redcap_data_access_group, codes: {...}}
    sites: [{code: HD, name: Heidelberg University Hospital, country: DE}]
    tables:
      patients:
        form: demographics
        fields:
          sex: {field: sex, codes: {"1": F, "2": M}}
          organ_involvement: {checkbox: organs, codes: {"1": renal, "2": haematological}}
      lab_results:
        form: labs
        fields: {result_date: {field: lab_date}}
        analytes:
          - {analyte: crp, value: lab_crp, unit: mg/L}
          - {analyte: anc, value: lab_anc, unit_field: lab_anc_unit, unit_codes: {"1": 10^9/L}}

Each registry field is filled from one ``field`` (converted by its REDCap type: yes/no and
true/false to booleans, coded choices through ``codes``, dates read as ``YYYY-MM-DD``), from a
``checkbox`` field (a list of the ticked choices' ``codes``), from a text field ``split`` into
a list, or is a constant ``value``. ``course_no: {instance: true}`` numbers courses by the
repeating instrument's instance. Units are never guessed: each analyte names its unit, or a
coded unit field with the unit of each code; every unit is checked against
``data/units.yaml`` when the mapping is read.

:func:`check_mapping` checks a mapping against the data dictionary before any record is
read: every field exists, sits on the table's form, has the right type, and every code in
``codes`` is one of the field's choices. Every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from lupuscell import units
from lupuscell.errors import Problem, ValidationError
from lupuscell.interop._registry_io import LAYOUT, TABLE_NAMES
from lupuscell.interop.redcap_project import BOOLEAN_TYPES, CODED_TYPES, Dictionary
from lupuscell.schemas.errors import problems_from_pydantic

_STRICT = ConfigDict(extra="forbid", frozen=True)


class FieldMap(BaseModel):
    """Where one registry field comes from (exactly one source)."""

    model_config = _STRICT
    field: str | None = None
    checkbox: str | None = None
    value: Any = None
    instance: bool = False
    codes: dict[str, Any] | None = None
    split: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FieldMap:
        sources = [self.field is not None, self.checkbox is not None, self.value is not None, self.instance]
        if sum(sources) != 1:
            raise ValueError("give exactly one of field, checkbox, value, instance")
        if self.split is not None and self.field is None:
            raise ValueError("split applies to a text field")
        return self

    def source_fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.field, self.checkbox) if f is not None)


class AnalyteMap(BaseModel):
    """One laboratory analyte of a lab form: value field and unit (fixed or coded)."""

    model_config = _STRICT
    analyte: str
    value: str
    unit: str | None = None
    unit_field: str | None = None
    unit_codes: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> AnalyteMap:
        if (self.unit is None) == (self.unit_field is None):
            raise ValueError("give exactly one of unit (fixed) or unit_field (coded)")
        if self.unit_field is not None and not self.unit_codes:
            raise ValueError("unit_field needs unit_codes (the unit of each code)")
        return self


class TableMap(BaseModel):
    """One registry table filled from one REDCap form (instrument)."""

    model_config = _STRICT
    form: str
    events: list[str] | None = None
    fields: dict[str, FieldMap] = {}
    analytes: list[AnalyteMap] | None = None
    """Lab forms with one field per analyte ("wide"); without it, a lab form holding one result
    per instance maps ``analyte``, ``value`` and ``unit`` as ordinary fields ("long")."""


class SiteRow(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    country: str | None = None


class RedcapMapping(BaseModel):
    """A whole mapping file."""

    model_config = _STRICT
    version: Literal[1]
    record_id: str = "record_id"
    patient_code: str = "{record_id}"
    site: FieldMap
    sites: list[SiteRow] = []
    date_format: str = "%Y-%m-%d"
    tables: dict[str, TableMap]


def load_mapping(path: Path) -> RedcapMapping:
    """Read and validate a mapping YAML file; problems name the file and the YAML path."""
    from lupuscell.interop.redcap_project import read_text

    text = read_text(path, "--mapping")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(Problem(str(path), "--mapping", f"not valid YAML ({exc})")) from None
    return parse_mapping(data, str(path))


def parse_mapping(data: Any, name: str) -> RedcapMapping:
    """A mapping from already-parsed YAML data."""
    if not isinstance(data, dict):
        raise ValidationError(Problem(name, "(mapping)", "must be a YAML mapping with version and tables"))
    try:
        return RedcapMapping.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, name)) from None


# --------------------------------------------------------------------------- checks


def _field_problems(
    where: str, fm: FieldMap, form: str, dictionary: Dictionary, record_id: str
) -> Iterator[str]:
    for name in fm.source_fields():
        definition = dictionary.fields.get(name)
        if definition is None:
            if not name.startswith("redcap_"):
                yield f"REDCap field {name!r} is not in the data dictionary"
            continue
        if name != record_id and definition.form != form:
            yield f"REDCap field {name!r} is on form {definition.form!r}, not {form!r}"
        if fm.checkbox is not None and definition.type != "checkbox":
            yield f"{name!r} is a {definition.type} field, not a checkbox"
        if fm.codes is not None:
            if definition.type not in (*CODED_TYPES, *BOOLEAN_TYPES):
                yield f"codes given but {name!r} is a {definition.type} field without choices"
            for code in fm.codes:
                if str(code) not in definition.choices:
                    yield (
                        f"code {code!r} is not a choice of {name!r} "
                        f"(choices: {', '.join(definition.choices)})"
                    )


def _table_problems(
    table: str, tm: TableMap, dictionary: Dictionary, mapping: RedcapMapping
) -> Iterator[Problem]:
    where = f"tables.{table}"
    if table not in LAYOUT or table == "sites":
        yield Problem(where, "(table)", f"unknown registry table; use one of {', '.join(TABLE_NAMES[1:])}")
        return
    if tm.form not in dictionary.forms:
        yield Problem(where, "form", f"form {tm.form!r} is not in the data dictionary")
    known = set(LAYOUT[table].fields)
    for name, fm in tm.fields.items():
        if name not in known or name in ("patient_code", "code", "site_code"):
            yield Problem(
                f"{where}.fields", name, f"not a field of {table} (fields: {', '.join(sorted(known))})"
            )
            continue
        for message in _field_problems(where, fm, tm.form, dictionary, mapping.record_id):
            yield Problem(f"{where}.fields", name, message)
    if tm.analytes is not None and table != "lab_results":
        yield Problem(where, "analytes", "only lab_results takes analytes (one lab result per value field)")
    for i, am in enumerate(tm.analytes or []):
        yield from _analyte_problems(f"{where}.analytes[{i}]", am, tm.form, dictionary)


def _analyte_problems(where: str, am: AnalyteMap, form: str, dictionary: Dictionary) -> Iterator[Problem]:
    for name in (am.value, am.unit_field):
        if name is not None and name not in dictionary.fields:
            yield Problem(where, name, "REDCap field is not in the data dictionary")
        elif name is not None and dictionary.fields[name].form != form:
            yield Problem(
                where, name, f"REDCap field is on form {dictionary.fields[name].form!r}, not {form!r}"
            )
    for unit in [am.unit] if am.unit is not None else list((am.unit_codes or {}).values()):
        try:
            units.unit_rule(am.analyte, str(unit))
        except ValidationError as exc:
            for problem in exc.problems:
                yield Problem(where, problem.field, problem.message)
    if am.unit_field is not None and am.unit_field in dictionary.fields:
        choices = dictionary.fields[am.unit_field].choices
        for code in am.unit_codes or {}:
            if code not in choices:
                yield Problem(where, "unit_codes", f"code {code!r} is not a choice of {am.unit_field!r}")


def check_mapping(mapping: RedcapMapping, dictionary: Dictionary, name: str) -> None:
    """Raise one ValidationError naming every mismatch between mapping and data dictionary."""
    problems: list[Problem] = []
    if mapping.record_id not in dictionary.fields:
        problems.append(Problem(name, "record_id", f"{mapping.record_id!r} is not in the data dictionary"))
    if "{record_id}" not in mapping.patient_code:
        problems.append(Problem(name, "patient_code", "the template must contain {record_id}"))
    for message in _field_problems("site", mapping.site, "", dictionary, mapping.record_id):
        if "is on form" not in message:
            problems.append(Problem(name, "site", message))
    if "patients" not in mapping.tables:
        problems.append(Problem(name, "tables", "a patients table (demographics form) is required"))
    for table, tm in mapping.tables.items():
        problems += [
            Problem(f"{name} {p.record}", p.field, p.message)
            for p in _table_problems(table, tm, dictionary, mapping)
        ]
    if problems:
        raise ValidationError(problems)
