"""Every path to a patient's follow-up gives the same number (SQLite and PostgreSQL).

A synthetic cohort, with records planted after the last-contact event of some patients (a
creatinine value, a visit, an adverse-event resolution, a glucocorticoid dose, a flare), is
loaded into the registry with the bulk loader. Then, for every patient:

* ADSL ``os_days`` / ``FUPDY`` / ``LSTCNTDY`` from the registry (:func:`from_registry`),
* the cohort summary's follow-up (:func:`patient_follow_up`),
* the patient list's ``follow_up_days`` (:func:`patient_summaries`),
* ``os_days`` of the same tables in memory (:func:`from_tables`), and
* ``os_days`` of ``lupuscell endpoints`` on the same patients written as its JSON input

must be equal, and the death flags too.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from outcomes_helpers import date, fill_registry, patient, visit
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lupuscell.outcomes.datasets import build_datasets
from lupuscell.outcomes.endpoints import derive_endpoints, records
from lupuscell.outcomes.inputs import from_json_payload, from_tables
from lupuscell.registry import models as m
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.cohort_summary import patient_follow_up
from lupuscell.registry.models import Patient
from lupuscell.registry.tables import from_registry
from lupuscell.registry.views import patient_summaries
from lupuscell.synth.cohort import generate_cohort_tables
from lupuscell.vocab import SLEDAI_2K_DESCRIPTORS

N_PATIENTS = 150


def _alive_patients(tables: dict[str, pd.DataFrame]) -> list[str]:
    events = tables["clinical_events"]
    dead = set(events.loc[events["event_type"] == "death", "patient_code"])
    return [c for c in tables["patients"]["code"] if c not in dead]


def _last_contact(tables: dict[str, pd.DataFrame], code: str) -> pd.Timestamp:
    events = tables["clinical_events"]
    rows = events[(events["patient_code"] == code) & (events["event_type"] == "last_contact")]
    return pd.Timestamp(rows["event_date"].max())


def _append(tables: dict[str, pd.DataFrame], name: str, row: dict[str, Any]) -> None:
    frame = tables[name]
    new = pd.DataFrame([row]).reindex(columns=frame.columns).astype(frame.dtypes.to_dict())
    tables[name] = pd.concat([frame, new], ignore_index=True)


def _plant(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Records after the last-contact event of five alive patients, one source each.

    Returns patient code -> days the record lies after the last-contact event.
    """
    alive = _alive_patients(tables)
    planted: dict[str, int] = {}
    course = tables["therapy_courses"].set_index("patient_code")["course_key"]
    for k, (code, extra) in enumerate(zip(alive[:5], (40, 55, 70, 85, 100), strict=True)):
        when = _last_contact(tables, code) + pd.Timedelta(days=extra)
        if k == 0:  # a non-engraftment laboratory value (read by the cohort summary before)
            _append(
                tables,
                "lab_results",
                {
                    "patient_code": code,
                    "result_date": when,
                    "analyte": "creatinine",
                    "value": 70.0,
                    "unit": "umol/L",
                },
            )
        elif k == 1:  # a visit after the stated last contact
            visit = tables["visits"][tables["visits"]["patient_code"] == code].iloc[-1].to_dict()
            _append(tables, "visits", {**visit, "visit_date": when})
        elif k == 2:  # an adverse event whose resolution is the latest record
            _append(
                tables,
                "adverse_events",
                {
                    "patient_code": code,
                    "course_key": course[code],
                    "term": "pneumonia",
                    "category": "infection",
                    "grade": 2,
                    "grading_system": "CTCAE_v5.0",
                    "onset_date": when - pd.Timedelta(days=20),
                    "resolution_date": when,
                    "serious": False,
                    "relatedness": "unlikely",
                },
            )
        elif k == 3:  # a glucocorticoid dose (drug administrations were read by nobody before)
            _append(
                tables,
                "drug_administrations",
                {
                    "patient_code": code,
                    "course_key": course[code],
                    "drug": "prednisone",
                    "dose": 5.0,
                    "unit": "mg/day",
                    "admin_date": when,
                    "purpose": "glucocorticoid",
                },
            )
        else:  # a recorded flare
            _append(
                tables,
                "clinical_events",
                {
                    "patient_code": code,
                    "event_type": "flare",
                    "event_date": when,
                    "cause": None,
                    "treatment_related": None,
                    "severity": "mild_moderate",
                },
            )
        planted[code] = extra
    return planted


# ------------------------------------------------------------------------- the JSON input


def _iso(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def _cell(value: Any) -> Any:
    return (
        None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value
    )


def _visit_json(row: pd.Series) -> dict[str, Any]:
    bilag = row["bilag"]
    return {
        "date": _iso(row["visit_date"]),
        "sledai2k": {
            d: _cell(row[d]) if _cell(row[d]) is None else bool(row[d]) for d in SLEDAI_2K_DESCRIPTORS
        },
        "pga": _cell(row["pga"]),
        "prednisone_mg": _cell(row["prednisone_mg_per_day"]),
        "bilag": json.loads(bilag) if isinstance(bilag, str) else None,
    }


def _ae_json(row: pd.Series) -> dict[str, Any]:
    out = {
        "date": _iso(row["onset_date"]),
        "category": row["category"],
        "grade": int(row["grade"]),
        "grading_system": row["grading_system"],
    }
    if pd.notna(row["resolution_date"]):
        out["resolution_date"] = _iso(row["resolution_date"])
    return out


def _contacts(tables: dict[str, pd.DataFrame], code: str, day0: pd.Timestamp) -> str:
    """``last_contact`` of the JSON: the latest contact the JSON format has no list for
    (last-contact, flare and relapse events, drug administrations, later courses)."""
    ev = tables["clinical_events"]
    dates = [day0]
    dates += list(ev.loc[(ev["patient_code"] == code) & (ev["event_type"] != "death"), "event_date"])
    dates += list(tables["drug_administrations"].loc[lambda f: f["patient_code"] == code, "admin_date"])
    dates += list(tables["therapy_courses"].loc[lambda f: f["patient_code"] == code, "infusion_date"])
    return _iso(max(pd.Timestamp(d) for d in dates))


def _patient_json(tables: dict[str, pd.DataFrame], code: str) -> dict[str, Any]:
    def rows(name: str) -> pd.DataFrame:
        frame = tables[name]
        return frame[frame["patient_code"] == code]

    course = rows("therapy_courses").sort_values("infusion_date").iloc[0]
    day0 = pd.Timestamp(course["infusion_date"])
    deaths = rows("clinical_events").loc[lambda f: f["event_type"] == "death"]
    drugs = rows("drug_administrations")
    platelets = drugs[
        (drugs["purpose"] == "transfusion") & drugs["drug"].str.contains("platelet", case=False)
    ]
    return {
        "id": code,
        "day0": _iso(day0),
        "therapy": course["therapy"],
        "visits": [_visit_json(v) for _, v in rows("visits").iterrows()],
        "labs": [
            {"date": _iso(r.result_date), "analyte": r.analyte, "value": float(r.value), "unit": r.unit}
            for r in rows("lab_results").itertuples()
        ],
        "platelet_transfusions": [_iso(d) for d in platelets["admin_date"]],
        "adverse_events": [_ae_json(a) for _, a in rows("adverse_events").iterrows()],
        "death": None if deaths.empty else {"date": _iso(deaths["event_date"].min()), "cause": None},
        "last_contact": _contacts(tables, code, day0),
    }


# --------------------------------------------------------------------------------- the test


def _registry_paths(engine: Engine) -> pd.DataFrame:
    adsl = build_datasets(from_registry(engine)).adsl.set_index("USUBJID")
    summary = patient_follow_up(engine)
    with engine.connect() as conn:
        codes = dict(
            conn.execute(
                Patient.__table__.select().with_only_columns(Patient.__table__.c.id, Patient.__table__.c.code)
            ).all()
        )
    summary.index = summary["patient_id"].map(codes)
    listed = pd.DataFrame(patient_summaries(engine)).set_index("code")
    return pd.DataFrame(
        {
            "adsl_os_days": adsl["os_days"],
            "adsl_fupdy": adsl["FUPDY"],
            "adsl_lstcntdy": adsl["LSTCNTDY"],
            "adsl_dead": adsl["os_event"],
            "summary_days": summary["end_day"],
            "summary_dead": summary["dead"],
            "list_days": listed["follow_up_days"],
            "list_dead": listed["status"] == "dead",
        }
    )


@pytest.mark.slow
def test_every_path_gives_the_same_follow_up_for_every_patient(engine: Engine) -> None:
    tables = generate_cohort_tables(N_PATIENTS, seed=11)
    planted = _plant(tables)
    load_tables(engine, [tables], actor="test", source="synthetic seed 11", reason="follow-up agreement")

    paths = _registry_paths(engine)
    memory = derive_endpoints(from_tables(tables)).patients.set_index("patient_id")
    payload = {"patients": [_patient_json(tables, c) for c in tables["patients"]["code"]]}
    from_json = {r["id"]: r for r in records(derive_endpoints(from_json_payload(payload)).patients)}
    paths["memory_os_days"] = memory["os_days"]
    paths["json_os_days"] = pd.Series({k: v["os_days"] for k, v in from_json.items()})
    paths["json_dead"] = pd.Series({k: v["os_event"] for k, v in from_json.items()})

    assert len(paths) == N_PATIENTS
    days = paths[[c for c in paths.columns if not c.endswith("_dead")]].astype(float)
    disagree = days[days.nunique(axis=1) != 1]
    assert disagree.empty, disagree
    dead = paths[[c for c in paths.columns if c.endswith("_dead")]].astype(bool)
    assert (dead.nunique(axis=1) == 1).all()
    assert 0 < dead["adsl_dead"].sum() < N_PATIENTS

    # the planted records moved follow-up past the last-contact event on every path
    day0 = tables["therapy_courses"].groupby("patient_code")["infusion_date"].min()
    for code, extra in planted.items():
        stated = (_last_contact(tables, code) - pd.Timestamp(day0[code])).days
        assert paths.loc[code, "adsl_os_days"] == stated + extra, code


def test_last_contact_200_visit_240_anc_260_gives_os_260(engine: Engine) -> None:
    """The issue's example on the JSON path and on the registry path (both engines)."""
    anc = {"date": date(260), "analyte": "ANC", "value": 1500, "unit": "cells/uL"}
    payload = {"patients": [patient("P", [visit(240)], last_contact=200, labs=[anc])]}
    out = records(derive_endpoints(from_json_payload(payload)).patients)[0]
    assert (out["os_days"], out["os_event"]) == (260, False)

    fill_registry(engine)  # S01-001: last contact event on day 700 of its own day 0
    with Session(engine) as s, s.begin():
        pat = s.query(m.Patient).filter_by(code="S01-002").one()
        s.query(m.ClinicalEvent).filter_by(patient_id=pat.id).delete()
        d0 = s.query(m.TherapyCourse).filter_by(patient_id=pat.id).one().infusion_date
        s.add(m.ClinicalEvent(patient=pat, event_type="last_contact", event_date=d0 + dt.timedelta(days=200)))
        s.add(m.Visit(patient=pat, visit_date=d0 + dt.timedelta(days=240)))
        s.add(
            m.LabResult(
                patient=pat,
                result_date=d0 + dt.timedelta(days=260),
                analyte="ANC",
                value=1500,
                unit="cells/uL",
            )
        )
    adsl = build_datasets(from_registry(engine)).adsl.set_index("USUBJID")
    assert adsl.loc["S01-002", "os_days"] == 260 and not adsl.loc["S01-002", "os_event"]
    listed = {r["code"]: r for r in patient_summaries(engine)}
    assert listed["S01-002"]["follow_up_days"] == 260
