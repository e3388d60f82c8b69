"""REDCap import (files, mapping, bad input, partial) and export round trip, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from interop_helpers import ACTOR, assert_same_registry, count_rows, fill, tables  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.interop.redcap import import_redcap_files
from lupuscell.interop.redcap_export import export_redcap
from lupuscell.interop.redcap_mapping import check_mapping, load_mapping, parse_mapping
from lupuscell.interop.redcap_project import read_dictionary

EXAMPLES = Path(__file__).parents[2] / "docs" / "interop" / "examples"
DICTIONARY = EXAMPLES / "sle_cell_therapy_dictionary.csv"
MAPPING = EXAMPLES / "sle_cell_therapy_mapping.yaml"
LONGITUDINAL = EXAMPLES / "sle_cell_therapy_records_longitudinal.csv"
FLAT = EXAMPLES / "sle_cell_therapy_records_flat.csv"


def _import(engine: Engine, records: Path, **kw: object) -> object:
    return import_redcap_files(
        engine,
        dictionary=DICTIONARY,
        records=records,
        mapping=MAPPING,
        actor=ACTOR,
        reason="REDCap import test",
        **kw,
    )  # type: ignore[arg-type]


def test_example_longitudinal_project_imports_every_table(engine: Engine) -> None:
    report = _import(engine, LONGITUDINAL)
    assert report.counts == {  # type: ignore[attr-defined]
        "sites": 1,
        "patients": 3,
        "therapy_courses": 4,
        "drug_administrations": 5,
        "visits": 8,
        "lab_results": 31,
        "adverse_events": 2,
        "clinical_events": 3,
    }
    data = tables(engine)
    p101 = next(p for p in data["patients"] if p["code"] == "HD-101")
    assert p101["sex"] == "F" and p101["birth_year"] == 1988 and p101["nephritis_class"] == "IV"
    assert p101["organ_involvement"] == ["renal", "haematological"]
    assert p101["prior_therapies"] == ["cyclophosphamide", "mycophenolate", "rituximab"]
    msc = [c for c in data["therapy_courses"] if c["patient_code"] == "HD-103"]
    assert [c["course_no"] for c in msc] == [1, 2] and all(c["therapy"] == "msc" for c in msc)
    anc = [
        (lab["value"], lab["unit"])
        for lab in data["lab_results"]
        if lab["patient_code"] == "HD-101" and lab["analyte"] == "anc"
    ]
    assert (3100.0, "cells/uL") in anc and (0.2, "10^9/L") in anc  # the coded unit field, as entered
    visit = next(
        v for v in data["visits"] if v["patient_code"] == "HD-101" and str(v["visit_date"]) == "2021-02-01"
    )
    assert visit["proteinuria"] is True and visit["seizure"] is False and visit["pga"] == 2.1
    death = next(e for e in data["clinical_events"] if e["event_type"] == "death")
    assert (
        death["patient_code"] == "HD-103"
        and death["cause"] == "infection"
        and death["treatment_related"] is False
    )


def test_flat_and_longitudinal_exports_give_the_same_registry(engine: Engine, target: Engine) -> None:
    _import(engine, LONGITUDINAL)
    _import(target, FLAT)
    assert_same_registry(engine, target)


def test_mapping_is_checked_against_the_dictionary_with_every_problem() -> None:
    dictionary = read_dictionary(DICTIONARY.read_text(encoding="utf-8"), DICTIONARY.name)
    data = load_mapping(MAPPING).model_dump(exclude_none=True)
    data["tables"]["patients"]["fields"]["sex"] = {"field": "sex", "codes": {"1": "F", "3": "M"}}
    data["tables"]["visits"]["fields"]["pga"] = {"field": "no_such_field"}
    data["tables"]["lab_results"]["analytes"][1]["unit"] = "furlongs/fortnight"
    data["tables"]["visits"]["fields"]["not_a_field"] = {"field": "pga"}
    with pytest.raises(ValidationError) as info:
        check_mapping(parse_mapping(data, "m.yaml"), dictionary, "m.yaml")
    text = "\n".join(str(p) for p in info.value.problems)
    assert "code '3' is not a choice of 'sex'" in text
    assert "'no_such_field' is not in the data dictionary" in text
    assert "furlongs/fortnight" in text and "platelets" in text
    assert "not_a_field: not a field of visits" in text


def _edited(tmp_path: Path, edits: dict[tuple[str, str, str], str]) -> Path:
    """The longitudinal example with cells replaced: (record, instrument or '', field) -> value."""
    rows = list(csv.DictReader(LONGITUDINAL.open(encoding="utf-8")))
    for (record, instrument, field), value in edits.items():
        row = next(
            r
            for r in rows
            if (
                r["record_id"] == record
                and r["redcap_repeat_instrument"] == instrument
                and r.get(field, "") != ""
            )
            or (
                r["record_id"] == record
                and r["redcap_repeat_instrument"] == instrument
                and field.startswith(instrument[:3])
            )
        )
        row[field] = value
    path = tmp_path / "records.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_bad_records_are_all_reported_by_line_and_field_and_nothing_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    bad = _edited(
        tmp_path,
        {
            ("102", "", "sex"): "7",  # a code that is not a choice
            ("101", "cell_therapy", "ct_infusion_date"): "30/03/2021",  # date in the wrong format
            ("103", "labs", "lab_date"): "",  # missing required field (a filled lab form)
            ("101", "drugs", "drug_purpose"): "9",  # wrong code
        },
    )
    before = count_rows(engine)
    with pytest.raises(ValidationError) as info:
        _import(engine, bad)
    problems = [str(p) for p in info.value.problems]
    text = "\n".join(problems)
    assert (
        "records.csv line 15 (record 102, event baseline_arm_1): sex (patients.sex): code '7' is not a choice of sex"
        in text
    )
    assert "ct_infusion_date (therapy_courses.infusion_date): date '30/03/2021' is not YYYY-MM-DD" in text
    assert "lab_date (lab_results.result_date): is required" in text
    assert "drug_purpose (drug_administrations.purpose): code '9' is not a choice of drug_purpose" in text
    # root causes, then the rows depending on them counted once per table (not listed one by one)
    assert "lab_results (this import): (dependent rows): 9 row(s) refer to patients rejected above (HD-102)" in text
    assert "refer to therapy courses rejected above (HD-101/1)" in text
    assert "'HD-102' is not a patient" not in text
    assert len(problems) == len(set(problems))
    assert count_rows(engine) == before


def test_unit_that_does_not_exist_is_named(engine: Engine, tmp_path: Path) -> None:
    data = load_mapping(MAPPING).model_dump(exclude_none=True)
    data["tables"]["lab_results"]["analytes"][0]["unit_codes"]["2"] = "cells/furlong"
    mapping = tmp_path / "m.yaml"
    import yaml

    mapping.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_redcap_files(
            engine, dictionary=DICTIONARY, records=LONGITUDINAL, mapping=mapping, actor=ACTOR, reason="r"
        )
    assert any("cells/furlong" in p.message and "anc" in p.message for p in info.value.problems)
    assert count_rows(engine) == 0


def test_partial_import_loads_the_valid_records_and_returns_the_rejects(
    engine: Engine, tmp_path: Path
) -> None:
    bad = _edited(tmp_path, {("102", "", "sex"): "7", ("101", "labs", "lab_anc_unit"): "5"})
    report = _import(engine, bad, partial=True)
    rejected = {(r.location.split(" (")[0], r.field) for r in report.rejects}  # type: ignore[attr-defined]
    assert any(field.startswith("sex") for _, field in rejected)
    assert any(field.startswith("lab_anc_unit") for _, field in rejected)
    data = tables(engine)
    assert {p["code"] for p in data["patients"]} == {"HD-101", "HD-103"}  # 102 rejected, with its records
    assert not any(
        row["patient_code"] == "HD-102" for name in ("visits", "lab_results") for row in data[name]
    )
    assert any("'HD-102' is not a patient" in r.reason for r in report.rejects)  # type: ignore[attr-defined]


def test_redcap_export_round_trips_the_whole_registry(engine: Engine, target: Engine, tmp_path: Path) -> None:
    fill(engine)
    out = tmp_path / "redcap"
    result = export_redcap(engine, out, identified=True, actor=ACTOR, reason="move to REDCap")
    assert result.files == ["lupuscell_dictionary.csv", "lupuscell_records.csv", "lupuscell_mapping.yaml"]
    import_redcap_files(
        target,
        dictionary=out / result.files[0],
        records=out / result.files[1],
        mapping=out / result.files[2],
        actor=ACTOR,
        reason="back from REDCap",
    )
    assert_same_registry(engine, target)


def test_redcap_export_is_deidentified_by_default(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=6)
    codes = {p["code"] for p in tables(engine)["patients"]}
    result = export_redcap(engine, tmp_path / "rc", actor=ACTOR)
    text = (tmp_path / "rc" / "lupuscell_records.csv").read_text(encoding="utf-8")
    assert result.files == ["lupuscell_dictionary.csv", "lupuscell_records.csv"]
    assert not any(code in text for code in codes)
    header = next(csv.reader(io.StringIO(text)))
    assert "tc_infusion_day" in header and "tc_infusion_date" not in header


def test_redcap_dictionary_is_loadable_format() -> None:
    """The export's dictionary parses with the same reader REDCap users' dictionaries go through."""
    text = DICTIONARY.read_text(encoding="utf-8")
    dictionary = read_dictionary(text, "d")
    assert dictionary.record_id == "record_id"
    assert dictionary.fields["organs"].choices["8"] == "Vasculitis"
