"""One set of rules on every write path (issue 9 point 1; issue 10 point 3).

The same bad record is refused, naming the same field, by the repository (one record), the
import (a file) and the bulk loader (a data frame), on SQLite and PostgreSQL: the therapy-course
rules of the schemas, the plausibility window for dates, the physiological range of a lab
value, non-finite numbers and records dated after a recorded death.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from registry_sample import ACTOR, COURSE, PATIENT, SITE  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.exchange import import_directory
from lupuscell.registry.repository import Registry

TODAY = dt.date.today()
BULK_KW: dict[str, Any] = {"actor": ACTOR, "source": "pytest", "reason": "write-path test"}
TABLE_OF = {
    "therapy_course": "therapy_courses",
    "visit": "visits",
    "lab_result": "lab_results",
    "clinical_event": "clinical_events",
}


def _seeded(engine: Engine) -> Registry:
    registry = Registry(engine)
    registry.create("site", SITE, actor=ACTOR)
    registry.create("patient", PATIENT, actor=ACTOR)
    return registry


def _via_repository(engine: Engine, entity: str, record: dict[str, Any], tmp_path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _seeded(engine).create(entity, record, actor=ACTOR)
    return info.value


def _via_import(engine: Engine, entity: str, record: dict[str, Any], tmp_path: Path) -> ValidationError:
    _seeded(engine)
    folder = tmp_path / "in"
    folder.mkdir()
    row = {**record, "course_no": 1} if entity == "therapy_course" else record
    pd.DataFrame([row]).to_csv(folder / f"{TABLE_OF[entity]}.csv", index=False)
    with pytest.raises(ValidationError) as info:
        import_directory(engine, folder, actor=ACTOR, reason="test")
    return info.value


def _via_bulk(engine: Engine, entity: str, record: dict[str, Any], tmp_path: Path) -> ValidationError:
    _seeded(engine)
    row = {**record, "course_key": f"{PATIENT['code']}/1"} if entity == "therapy_course" else record
    frame = pd.DataFrame([row])
    for column in [c for c in frame.columns if c.endswith("_date")]:
        frame[column] = [dt.date.fromisoformat(str(v)) if isinstance(v, str) else v for v in frame[column]]
    with pytest.raises(ValidationError) as info:
        load_tables(engine, [{TABLE_OF[entity]: frame}], **BULK_KW)
    return info.value


PATHS = {"repository": _via_repository, "import": _via_import, "bulk": _via_bulk}


def _refused(engine: Engine, path: str, entity: str, record: dict[str, Any], tmp_path: Path) -> set[str]:
    before = Registry(engine).counts()
    error = PATHS[path](engine, entity, record, tmp_path)
    after = Registry(engine).counts()
    assert after[TABLE_OF[entity]] == before[TABLE_OF[entity]] or path == "repository"
    return {p.field for p in error.problems}


CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "autologous HSCT with an allogeneic donor": (
        "therapy_course",
        {**COURSE, "donor_type": "allogeneic_unrelated"},
        "donor_type",
    ),
    "harvest after infusion": ("therapy_course", {**COURSE, "harvest_date": "2020-03-05"}, "infusion_date"),
    "visit in 2300": ("visit", {"patient_code": PATIENT["code"], "visit_date": "2300-01-01"}, "visit_date"),
    "visit two days ahead": (
        "visit",
        {"patient_code": PATIENT["code"], "visit_date": str(TODAY + dt.timedelta(days=2))},
        "visit_date",
    ),
    "haemoglobin in g/L typed as g/dL": (
        "lab_result",
        {
            "patient_code": PATIENT["code"],
            "result_date": "2020-06-01",
            "analyte": "hemoglobin",
            "value": 120,
            "unit": "g/dL",
        },
        "value",
    ),
    "negative creatinine": (
        "lab_result",
        {
            "patient_code": PATIENT["code"],
            "result_date": "2020-06-01",
            "analyte": "creatinine",
            "value": -80,
            "unit": "umol/L",
        },
        "value",
    ),
    "infinite platelets": (
        "lab_result",
        {
            "patient_code": PATIENT["code"],
            "result_date": "2020-06-01",
            "analyte": "platelets",
            "value": float("inf"),
            "unit": "10^9/L",
        },
        "value",
    ),
}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("case", list(CASES))
def test_the_same_bad_record_is_refused_on_every_write_path(
    engine: Engine, tmp_path: Path, path: str, case: str
) -> None:
    entity, record, field = CASES[case]
    assert field in _refused(engine, path, entity, record, tmp_path)


@pytest.mark.parametrize("path", list(PATHS))
def test_tomorrow_is_within_the_tolerance(engine: Engine, tmp_path: Path, path: str) -> None:
    """One day ahead is accepted (a site east of the server); the rest of the record is valid."""
    visit = {"patient_code": PATIENT["code"], "visit_date": str(TODAY + dt.timedelta(days=1))}
    if path == "repository":
        assert _seeded(engine).create("visit", visit, actor=ACTOR)["visit_date"] == TODAY + dt.timedelta(
            days=1
        )
        return
    error = PATHS[path](engine, "visit", {**visit, "pga": 4.0}, tmp_path)  # refused for its PGA only
    assert {p.field for p in error.problems} == {"pga"}


def _with_death(engine: Engine) -> Registry:
    registry = _seeded(engine)
    death = {"patient_code": PATIENT["code"], "event_type": "death", "event_date": "2021-06-01"}
    registry.create("clinical_event", death, actor=ACTOR)
    return registry


@pytest.mark.parametrize("path", list(PATHS))
def test_records_after_a_recorded_death_are_refused(engine: Engine, tmp_path: Path, path: str) -> None:
    _with_death(engine)
    later = {"patient_code": PATIENT["code"], "visit_date": "2021-06-02", "pga": 1.0}
    with pytest.raises(ValidationError) as info:
        if path == "repository":
            Registry(engine).create("visit", later, actor=ACTOR)
        elif path == "import":
            folder = tmp_path / "in"
            folder.mkdir()
            pd.DataFrame([later]).to_csv(folder / "visits.csv", index=False)
            import_directory(engine, folder, actor=ACTOR, reason="test")
        else:
            frame = pd.DataFrame([{**later, "visit_date": dt.date(2021, 6, 2)}])
            load_tables(engine, [{"visits": frame}], **BULK_KW)
    assert "after the patient's death on 2021-06-01" in str(info.value)
    assert Registry(engine).counts()["visits"] == 0


def test_a_death_before_existing_records_is_refused_and_the_day_of_death_is_accepted(engine: Engine) -> None:
    registry = _seeded(engine)
    registry.create("visit", {"patient_code": PATIENT["code"], "visit_date": "2021-06-01"}, actor=ACTOR)
    death = {"patient_code": PATIENT["code"], "event_type": "death"}
    with pytest.raises(ValidationError, match="after the patient's death on 2021-05-31"):
        registry.create("clinical_event", {**death, "event_date": "2021-05-31"}, actor=ACTOR)
    registry.create("clinical_event", {**death, "event_date": "2021-06-01"}, actor=ACTOR)  # same day: fine


def test_an_old_record_after_death_does_not_block_correcting_another(engine: Engine) -> None:
    """A visit stored after the death before the rule existed must not freeze the patient."""
    import sqlalchemy as sa

    from lupuscell.registry.models import Visit

    registry = _with_death(engine)
    patient_id = registry.get("patient", PATIENT["code"])["id"]
    stamp = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:  # as an old version of lupuscell could have stored it
        conn.execute(
            sa.insert(Visit.__table__),
            {
                "patient_id": patient_id,
                "visit_date": dt.date(2022, 1, 1),
                "sledai_window_days": 10,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
    visit = registry.create(
        "visit", {"patient_code": PATIENT["code"], "visit_date": "2021-01-01"}, actor=ACTOR
    )
    registry.update("visit", visit["id"], {"pga": 1.5}, actor=ACTOR, reason="SDV")
    late = next(v for v in registry.list_records("visit") if v["visit_date"] == dt.date(2022, 1, 1))
    registry.update("visit", late["id"], {"visit_date": "2021-05-01"}, actor=ACTOR, reason="typo")
