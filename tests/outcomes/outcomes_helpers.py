"""Helpers shared by the outcomes tests: JSON patient builders and a random cohort generator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from lupuscell.outcomes import cohort as inputs
from lupuscell.outcomes.cohort import BILAG_DOMAINS, DESCRIPTORS, CohortData
from lupuscell.outcomes.definitions import default_grading_system

DAY0 = dt.date(2024, 1, 1)


def date(day: int) -> str:
    """ISO date of study day ``day`` (day 0 = 2024-01-01)."""
    return (DAY0 + dt.timedelta(days=day)).isoformat()


def sledai(*active: str) -> dict[str, bool]:
    """All 24 descriptors, the named ones present."""
    unknown = set(active) - set(DESCRIPTORS)
    assert not unknown, unknown
    return {d: d in active for d in DESCRIPTORS}


#: Descriptor sets with a known SLEDAI-2K (clinical SLEDAI) for readable tests.
SCORE_0: tuple[str, ...] = ()
SCORE_4: tuple[str, ...] = ("arthritis",)  # 4 (clinical 4)
SCORE_3: tuple[str, ...] = ("rash", "fever")  # 3
SCORE_7: tuple[str, ...] = ("arthritis", "rash", "fever")  # 7
SCORE_12: tuple[str, ...] = ("arthritis", "proteinuria", "low_complement", "increased_dna_binding")  # 12


def visit(day: int, active: tuple[str, ...] = (), pga: float = 0.2, pred: float = 5.0, **extra: Any) -> dict:
    return {"date": date(day), "sledai2k": sledai(*active), "pga": pga, "prednisone_mg": pred, **extra}


def patient(
    pid: str,
    visits: list[dict],
    *,
    therapy: str = "autologous_hsct",
    last_contact: int = 400,
    death: int | None = None,
    labs: list[dict] | None = None,
    **extra: Any,
) -> dict:
    return {
        "id": pid,
        "day0": DAY0.isoformat(),
        "therapy": therapy,
        "visits": visits,
        "labs": labs or [],
        "death": None if death is None else {"date": date(death), "cause": "infection"},
        "last_contact": date(last_contact),
        **extra,
    }


def random_cohort(n: int, seed: int) -> CohortData:
    """A random cohort in normalised form, rich in boundary cases (ties, NA, +3/+4 rises)."""
    rng = np.random.default_rng(seed)
    therapies = np.array(["autologous_hsct", "allogeneic_hsct", "msc", "car_t"])
    prow, vrows, lrows, arows, frows, trows = [], [], [], [], [], []
    base_days = np.array(
        [
            -90,
            -61,
            -60,
            -30,
            -1,
            0,
            0,
            15,
            29,
            30,
            31,
            61,
            91,
            120,
            152,
            182,
            183,
            213,
            214,
            300,
            335,
            365,
            366,
            395,
            396,
            480,
            548,
            608,
            700,
            731,
            1096,
        ]
    )
    for i in range(n):
        pid = f"R{i:04d}"
        days = np.unique(rng.choice(base_days, size=rng.integers(0, 10), replace=False))
        death = int(rng.choice([99, 100, 101, 200, 364, 365, 366, 800])) if rng.random() < 0.25 else None
        if death is not None:
            days = days[days <= death]
        last = int(max([rng.integers(0, 1200), *days.tolist()]))
        if death is not None:
            last = max(last, death)
        prow.append(
            {
                "patient_id": pid,
                "site": "S1",
                "therapy": str(rng.choice(therapies)),
                "cell_source": None,
                "day0": pd.Timestamp("2024-01-01"),
                "sex": "F",
                "age": 30.0,
                "diagnosis_years": 5.0,
                "nephritis": bool(rng.random() < 0.5),
                "nephritis_class": None,
                "last_contact_day": last,
                "death_day": death,
                "death_cause": None,
            }
        )
        quiet = rng.random() < 0.5
        has_bilag = rng.random() < 0.5
        for d in days:
            row: dict[str, Any] = {"patient_id": pid, "day": int(d)}
            p_on = 0.02 if quiet and d > 0 else 0.15
            for desc in DESCRIPTORS:
                r = rng.random()
                row[desc] = None if r < 0.01 else bool(r < p_on)
            row["pga"] = (
                None if rng.random() < 0.03 else float(rng.choice([0.0, 0.2, 0.4, 0.5, 1.0, 1.1, 1.4, 2.0]))
            )
            row["prednisone_mg"] = (
                None if rng.random() < 0.03 else float(rng.choice([0, 2.5, 5, 5.01, 7.5, 10, 20]))
            )
            for flag in inputs.VISIT_FLAGS:
                r = rng.random()
                row[flag] = None if r < 0.3 else bool(r < 0.4)
            for dom in BILAG_DOMAINS:
                row[f"bilag_{dom}"] = (
                    str(rng.choice(list("ABCDE"))) if has_bilag and rng.random() > 0.05 else None
                )
            vrows.append(row)
            if rng.random() < 0.1:
                frows.append({"patient_id": pid, "day": int(d), "severe": bool(rng.random() < 0.5)})
        if rng.random() < 0.7:
            start = int(rng.integers(-10, 3))
            for d in range(start, start + int(rng.integers(5, 40))):
                if rng.random() < 0.1:
                    continue  # gaps break runs
                anc = float(rng.choice([0.1, 0.3, 0.49, 0.5, 0.51, 1.2, 3.0]))
                lrows.append({"patient_id": pid, "day": d, "analyte": "anc", "value": anc})
                if rng.random() < 0.1:  # a second value on the same day
                    lrows.append({"patient_id": pid, "day": d, "analyte": "anc", "value": anc + 0.3})
                plt = float(rng.choice([5.0, 15.0, 19.9, 20.0, 25.0, 80.0, 150.0]))
                lrows.append({"patient_id": pid, "day": d, "analyte": "platelets", "value": plt})
            for _ in range(int(rng.integers(0, 3))):
                trows.append({"patient_id": pid, "day": int(rng.integers(start, start + 20))})
        for _ in range(int(rng.integers(0, 4))):
            category = str(rng.choice(["infection", "gvhd", "crs", "icans", "other"]))
            arows.append(
                {
                    "patient_id": pid,
                    "day": int(rng.integers(-20, 300)),
                    "category": category,
                    "grade": int(rng.integers(1, 6)),
                    "grading_system": default_grading_system(category),
                }
            )
    return CohortData(
        patients=inputs.finalise_patients(pd.DataFrame(prow, columns=list(inputs.PATIENT_COLUMNS))),
        visits=inputs.finalise_visits(pd.DataFrame(vrows, columns=list(inputs.VISIT_COLUMNS))),
        labs=inputs.finalise(pd.DataFrame(lrows, columns=list(inputs.LAB_COLUMNS)), inputs.LAB_COLUMNS),
        adverse_events=inputs.finalise(
            pd.DataFrame(arows, columns=list(inputs.AE_COLUMNS)), inputs.AE_COLUMNS
        ),
        flare_events=inputs.finalise(
            pd.DataFrame(frows, columns=list(inputs.FLARE_COLUMNS)), inputs.FLARE_COLUMNS
        ),
        transfusions=inputs.finalise(
            pd.DataFrame(trows, columns=list(inputs.TRANSFUSION_COLUMNS)), inputs.TRANSFUSION_COLUMNS
        ),
    )


def plain(value: Any) -> Any:
    """Cell -> comparable Python value (NA/NaN -> None, numpy scalars -> Python)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        return None if value != value else float(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return float(value)
    return value


def frame_differences(left: pd.DataFrame, right: pd.DataFrame, key: str = "patient_id") -> dict[str, list]:
    """Column -> [(key, left, right)] for every cell that differs (columns of ``right``)."""
    left = left.set_index(key).loc[right[key]]
    right = right.set_index(key)
    out: dict[str, list] = {}
    for col in right.columns:
        a = [plain(x) for x in left[col].tolist()]
        b = [plain(x) for x in right[col].tolist()]
        diff = [(k, x, y) for k, x, y in zip(right.index, a, b, strict=True) if x != y]
        if diff:
            out[col] = diff
    return out


def fill_registry(engine: Any) -> None:
    """Two patients in an empty registry (used by the loader and the datasets CLI tests)."""
    from lupuscell.registry import models as m

    d0 = dt.date(2022, 3, 1)

    def day(n: int) -> dt.date:
        return d0 + dt.timedelta(days=n)

    off = dict.fromkeys(m.vocab.SLEDAI_2K_DESCRIPTORS, False)
    with Session(engine) as s, s.begin():
        site = m.Site(code="S01", name="Site one")
        pat = m.Patient(
            code="S01-001",
            site=site,
            sex="F",
            birth_year=1990,
            sle_diagnosis_date=dt.date(2015, 3, 1),
            organ_involvement=["renal"],
            nephritis_class="IV",
        )
        pat2 = m.Patient(code="S01-002", site=site, sex="M", birth_year=1980)
        m.TherapyCourse(
            patient=pat, therapy="autologous_hsct", infusion_date=d0, cell_source="peripheral_blood"
        )
        m.TherapyCourse(patient=pat2, therapy="car_t", infusion_date=day(10))
        m.TherapyCourse(patient=pat, therapy="msc", infusion_date=day(400))  # later course: not day 0
        s.add_all([site, pat, pat2])
        s.add(
            m.Visit(
                patient=pat,
                visit_date=day(-20),
                **{**off, "arthritis": True, "proteinuria": True, "low_complement": True},
                pga=2.0,
                prednisone_mg_per_day=20.0,
                bilag=dict.fromkeys(m.vocab.BILAG_DOMAINS, "C"),
            )
        )
        s.add(m.Visit(patient=pat, visit_date=day(91), **off, pga=0.2, prednisone_mg_per_day=5.0))
        s.add(
            m.Visit(
                patient=pat,
                visit_date=day(183),
                **off,
                pga=0.2,
                prednisone_mg_per_day=0.0,
                bilag=dict.fromkeys(m.vocab.BILAG_DOMAINS, "D"),
            )
        )
        s.add(
            m.Visit(
                patient=pat,
                visit_date=day(365),
                **{**off, "arthritis": True},
                pga=1.0,
                prednisone_mg_per_day=5.0,
            )
        )
        for n, anc in enumerate([3000, 800, 200, 100, 600, 700, 900]):
            s.add(m.LabResult(patient=pat, result_date=day(n + 5), analyte="ANC", value=anc, unit="cells/uL"))
        s.add(m.LabResult(patient=pat, result_date=day(5), analyte="creatinine", value=80, unit="umol/L"))
        s.add(
            m.AdverseEvent(
                patient=pat, term="sepsis", category="infection", grade=3, onset_date=day(12)
            )
        )
        s.add(
            m.AdverseEvent(
                patient=pat, term="pneumonia", category="infection", grade=2, onset_date=day(40)
            )
        )
        s.add(m.ClinicalEvent(patient=pat, event_type="last_contact", event_date=day(700)))
        s.add(m.ClinicalEvent(patient=pat2, event_type="death", event_date=day(60), cause="infection"))
