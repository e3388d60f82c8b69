"""A REDCap project as files: the data dictionary and the records export (or the live API).

Formats (REDCap's own, as documented in the project's "Data Dictionary" page and the API
help, "Export Metadata" and "Export Records"):

* **Data dictionary** (CSV): one row per field. The download from the web interface has
  the headers ``Variable / Field Name``, ``Form Name``, ``Field Type``, ``Field Label``,
  ``Choices, Calculations, OR Slider Labels``, ``Text Validation Type OR Show Slider
  Number``...; the API's metadata export has the same columns named ``field_name``,
  ``form_name``, ``field_type``, ``field_label``, ``select_choices_or_calculations``,
  ``text_validation_type_or_show_slider_number``. Both are read. Choices are
  ``code, label | code, label``.
* **Records** (CSV, "raw" values, not labels): one row per record and event (longitudinal
  projects, column ``redcap_event_name``) and per instance of a repeating instrument
  (``redcap_repeat_instrument``, ``redcap_repeat_instance``); checkbox fields are exported
  as one column per choice, ``<field>___<code>`` with 1/0; dates as ``YYYY-MM-DD``;
  ``redcap_data_access_group`` when data access groups are exported.

The live API is read with PyCap (``redcap.Project``), in the same two CSV forms, so files and
the API share one reader. The API token is read from an environment variable and never
printed, logged or placed in an error message.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lupuscell.errors import Problem, ValidationError

DICTIONARY_HEADERS = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Section Header": "section_header",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
    "Field Note": "field_note",
    "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
    "Text Validation Min": "text_validation_min",
    "Text Validation Max": "text_validation_max",
    "Identifier?": "identifier",
    "Branching Logic (Show field only if...)": "branching_logic",
    "Required Field?": "required_field",
    "Custom Alignment": "custom_alignment",
    "Question Number (surveys only)": "question_number",
    "Matrix Group Name": "matrix_group_name",
    "Matrix Ranking?": "matrix_ranking",
    "Field Annotation": "field_annotation",
}
"""Web-interface dictionary headers -> the API's metadata keys (REDCap data dictionary format)."""
CODED_TYPES = ("radio", "dropdown", "checkbox")
BOOLEAN_TYPES = ("yesno", "truefalse")
SPECIAL_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
)


@dataclass(frozen=True)
class FieldDef:
    """One field of the data dictionary."""

    name: str
    form: str
    type: str
    label: str = ""
    validation: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    """Choice code -> label (radio, dropdown, checkbox; yes/no and true/false implied)."""

    @property
    def is_date(self) -> bool:
        return self.type == "text" and self.validation.startswith(("date_", "datetime_"))


def parse_choices(text: str) -> dict[str, str]:
    """``"1, Female | 2, Male"`` -> ``{"1": "Female", "2": "Male"}``."""
    choices: dict[str, str] = {}
    for part in (text or "").split("|"):
        code, sep, label = part.partition(",")
        if code.strip():
            choices[code.strip()] = label.strip() if sep else code.strip()
    return choices


@dataclass(frozen=True)
class Dictionary:
    """A REDCap data dictionary: fields by name, in order, and the record id field."""

    name: str
    fields: dict[str, FieldDef]

    @property
    def record_id(self) -> str:
        """REDCap's record id is the first field of the dictionary."""
        return next(iter(self.fields))

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.form for f in self.fields.values()))


def _implied_choices(kind: str) -> dict[str, str]:
    if kind == "yesno":
        return {"1": "Yes", "0": "No"}
    if kind == "truefalse":
        return {"1": "True", "0": "False"}
    return {}


def read_dictionary(text: str, name: str) -> Dictionary:
    """Parse a data dictionary CSV (web-interface or API headers)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [DICTIONARY_HEADERS.get(h, h) for h in (reader.fieldnames or [])]
    if "field_name" not in headers or "form_name" not in headers or "field_type" not in headers:
        raise ValidationError(
            Problem(
                name,
                "(header)",
                "not a REDCap data dictionary: needs 'Variable / Field Name' "
                "(or field_name), 'Form Name' and 'Field Type' columns",
            )
        )
    fields: dict[str, FieldDef] = {}
    problems = []
    for line, raw in enumerate(reader, start=2):
        row = {DICTIONARY_HEADERS.get(k, k): (v or "").strip() for k, v in raw.items() if k is not None}
        fname, kind = row.get("field_name", ""), row.get("field_type", "")
        if not fname:
            problems.append(Problem(f"{name} line {line}", "field_name", "is empty"))
            continue
        choices = (
            parse_choices(row.get("select_choices_or_calculations", ""))
            if kind in CODED_TYPES
            else _implied_choices(kind)
        )
        fields[fname] = FieldDef(
            name=fname,
            form=row.get("form_name", ""),
            type=kind,
            label=row.get("field_label", ""),
            validation=row.get("text_validation_type_or_show_slider_number", ""),
            choices=choices,
        )
    if problems:
        raise ValidationError(problems)
    if not fields:
        raise ValidationError(Problem(name, "(rows)", "the data dictionary has no fields"))
    return Dictionary(name=name, fields=fields)


@dataclass(frozen=True)
class Record:
    """One row of a records export with its line number (for problem messages)."""

    line: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()


def open_records(path: Path) -> IO[str]:
    """Open a records CSV for streaming; errors name ``--records``."""
    if not path.exists():
        raise ValidationError(Problem(str(path), "--records", "file not found"))
    if not path.is_file():
        raise ValidationError(Problem(str(path), "--records", "is a folder, not a file"))
    return path.open(encoding="utf-8-sig", newline="")


def iter_records(handle: IO[str], name: str) -> Iterator[Record]:
    """Rows of a records CSV, streamed (a large export is never held whole in memory)."""
    try:
        yield from _records(handle, name)
    except UnicodeDecodeError as exc:
        raise ValidationError(Problem(name, "--records", f"not UTF-8 text ({exc.reason})")) from None
    except csv.Error as exc:
        raise ValidationError(Problem(name, "--records", f"not a readable CSV file ({exc})")) from None


def _records(handle: IO[str], name: str) -> Iterator[Record]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames:
        raise ValidationError(Problem(name, "(header)", "the records file is empty"))
    first = reader.fieldnames[0]
    if first.startswith("\ufeff"):
        reader.fieldnames = [first.lstrip("\ufeff"), *reader.fieldnames[1:]]
    for raw in reader:
        if None in raw:
            raise ValidationError(
                Problem(f"{name} line {reader.line_num}", "(row)", "has more cells than the header")
            )
        yield Record(line=reader.line_num, values=raw)


def read_text(path: Path, option: str) -> str:
    """A whole text file (UTF-8, an optional byte-order mark), errors naming the option."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(Problem(str(path), option, "file not found")) from None
    except IsADirectoryError:
        raise ValidationError(Problem(str(path), option, "is a folder, not a file")) from None
    except UnicodeDecodeError as exc:
        raise ValidationError(Problem(str(path), option, f"not UTF-8 text ({exc.reason})")) from None


@dataclass(frozen=True)
class ApiExport:
    """What the REDCap API returned: the dictionary and the records, both as CSV text."""

    dictionary: str
    records: str


def token_from_env(variable: str) -> str:
    """The API token held in environment variable ``variable`` (never passed on the command line)."""
    token = os.environ.get(variable, "").strip()
    if not token:
        raise ValidationError(
            Problem(
                "--token-env", variable, "environment variable is not set or empty (it must hold the token)"
            )
        )
    return token


def fetch_api(url: str, token: str) -> ApiExport:
    """Export the data dictionary and the raw records of a project with PyCap.

    Errors name the URL and REDCap's message, never the token.
    """
    import requests
    from redcap import Project, RedcapError

    try:
        project = Project(url, token)
    except AssertionError:  # PyCap's token check; its message repeats the token, so it is not shown
        raise ValidationError(
            Problem(
                url,
                "--token-env",
                "the variable does not hold a REDCap API token (PyCap expects 32 characters)",
            )
        ) from None
    try:
        dictionary = project.export_metadata(format_type="csv")
        records = project.export_records(
            format_type="csv", raw_or_label="raw", export_data_access_groups=True
        )
    except RedcapError as exc:
        message = str(exc).replace(token, "***")
        raise ValidationError(Problem(url, "--url", f"the REDCap API request failed: {message}")) from None
    except requests.RequestException as exc:
        message = type(exc).__name__
        raise ValidationError(Problem(url, "--url", f"cannot reach the REDCap API ({message})")) from None
    return ApiExport(dictionary=str(dictionary), records=str(records))
