"""Sample registry records shared by the registry tests (unique module name, no __init__)."""

from __future__ import annotations

from typing import Any

ACTOR = "dm.tester"

SITE = {"code": "KI", "name": "Karolinska University Hospital", "country": "SE"}
PATIENT = {
    "code": "KI-0001",
    "site_code": "KI",
    "sex": "F",
    "birth_year": 1985,
    "sle_diagnosis_date": "2009-04-02",
    "classification_criteria": "eular_acr_2019",
    "organ_involvement": ["renal", "haematological"],
    "nephritis_class": "IV",
    "prior_therapies": ["cyclophosphamide", "mycophenolate"],
}
COURSE = {
    "patient_code": "KI-0001",
    "therapy": "autologous_hsct",
    "cell_source": "peripheral_blood",
    "donor_type": "autologous",
    "protocol_id": "ASTIS-like",
    "mobilisation_date": "2020-01-06",
    "harvest_date": "2020-01-16",
    "conditioning_start_date": "2020-02-25",
    "infusion_date": "2020-03-01",
    "discharge_date": "2020-03-20",
    "total_cell_dose": 4.1e8,
    "cd34_per_kg": 5.2e6,
    "viability_percent": 97.5,
    "route": "intravenous",
}


def build_cohort(registry: Any) -> None:
    """A small but varied cohort: 2 sites, 4 patients, HSCT / MSC x2 / CAR-T, every table."""
    registry.create("site", SITE, actor=ACTOR)
    registry.create(
        "site", {"code": "NJ", "name": "Nanjing Drum Tower Hospital", "country": "CN"}, actor=ACTOR
    )
    registry.create("patient", PATIENT, actor=ACTOR)
    registry.create(
        "patient",
        {"code": "NJ-0001", "site_code": "NJ", "sex": "F", "birth_year": 1990, "organ_involvement": []},
        actor=ACTOR,
    )
    registry.create(
        "patient",
        {
            "code": "KI-0002",
            "site_code": "KI",
            "sex": "M",
            "birth_year": 1930,
            "sle_diagnosis_date": "1980-06-15",
        },
        actor=ACTOR,
    )
    registry.create(
        "patient", {"code": "NJ-0002", "site_code": "NJ", "sex": "F", "birth_year": 2001}, actor=ACTOR
    )
    hsct = registry.create("therapy_course", COURSE, actor=ACTOR)
    registry.create(
        "drug_administration",
        {
            "course_id": hsct["id"],
            "drug": "cyclophosphamide",
            "dose": 200,
            "unit": "mg/kg",
            "admin_date": "2020-02-25",
            "purpose": "conditioning",
        },
        actor=ACTOR,
    )
    msc = {
        "patient_code": "NJ-0001",
        "therapy": "msc",
        "cell_source": "umbilical_cord",
        "donor_type": "allogeneic_third_party",
        "cell_dose_per_kg": 1e6,
        "route": "intravenous",
    }
    registry.create("therapy_course", {**msc, "infusion_date": "2019-05-10"}, actor=ACTOR)
    msc2 = registry.create("therapy_course", {**msc, "infusion_date": "2019-11-10"}, actor=ACTOR)
    registry.create(
        "therapy_course",
        {
            "patient_code": "KI-0002",
            "therapy": "car_t",
            "cell_source": "autologous_t_cells",
            "donor_type": "autologous",
            "harvest_date": "2021-01-05",
            "conditioning_start_date": "2021-01-25",
            "infusion_date": "2021-01-30",
            "cell_dose_per_kg": 1.1e6,
        },
        actor=ACTOR,
    )
    for day, (pga, proteinuria) in enumerate([(1.8, True), (0.4, False)]):
        registry.create(
            "visit",
            {
                "patient_code": "KI-0001",
                "visit_date": f"2020-0{2 + 4 * day}-01",
                "proteinuria": proteinuria,
                "hematuria": False,
                "low_complement": proteinuria,
                "increased_dna_binding": True,
                "pga": pga,
                "prednisone_mg_per_day": 20 - 15 * day,
                "on_antimalarial": True,
                "bilag": {"renal": "A" if proteinuria else "C"},
            },
            actor=ACTOR,
        )
    registry.create("visit", {"patient_code": "NJ-0001", "visit_date": "2019-08-10", "pga": 1.0}, actor=ACTOR)
    labs = [
        ("KI-0001", "2020-03-12", "anc", 0.3, "10^9/L"),
        ("KI-0001", "2020-03-14", "platelets", 18000, "/uL"),
        ("KI-0001", "2020-06-01", "upcr", 56.6, "mg/mmol"),
        ("NJ-0001", "2019-08-10", "c3", 62, "mg/dL"),
        ("KI-0002", "2021-02-10", "creatinine", 70, "umol/L"),
    ]
    for code, date, analyte, value, unit in labs:
        registry.create(
            "lab_result",
            {"patient_code": code, "result_date": date, "analyte": analyte, "value": value, "unit": unit},
            actor=ACTOR,
        )
    registry.create(
        "adverse_event",
        {
            "patient_code": "NJ-0001",
            "course_id": msc2["id"],
            "term": "Infusion reaction in Mrs Example's left arm",
            "category": "other",
            "grade": 1,
            "onset_date": "2019-11-10",
            "resolution_date": "2019-11-11",
        },
        actor=ACTOR,
    )
    registry.create(
        "adverse_event",
        {
            "patient_code": "KI-0002",
            "term": "Cytokine release syndrome",
            "category": "crs",
            "grade": 2,
            "onset_date": "2021-02-01",
            "serious": True,
        },
        actor=ACTOR,
    )
    registry.create(
        "clinical_event",
        {
            "patient_code": "KI-0002",
            "event_type": "death",
            "event_date": "2021-06-01",
            "cause": "Pneumonia at home in Solna, found by neighbour",
            "treatment_related": False,
        },
        actor=ACTOR,
    )
    registry.create(
        "clinical_event",
        {"patient_code": "KI-0001", "event_type": "last_contact", "event_date": "2023-03-01"},
        actor=ACTOR,
    )
    registry.create(
        "clinical_event",
        {"patient_code": "NJ-0001", "event_type": "death", "event_date": "2022-01-01", "cause": "infection"},
        actor=ACTOR,
    )


def assert_intact(engine: Any) -> None:
    """SQLite's integrity check passes and the audit hash chain verifies."""
    from lupuscell.registry import audit_chain

    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert audit_chain.verify(engine).ok


def assert_whole_batches(engine: Any) -> int:
    """Every import batch complete (its ``row_counts`` equal the rows pointing to it, no row
    without a batch) and audited (one ``create`` row per record, one ``import`` row per table),
    the chain intact; returns the number of batches."""
    import sqlalchemy as sa

    from lupuscell.registry import models
    from lupuscell.registry.audit_chain import batch_tables

    assert_intact(engine)
    tables = models.Base.metadata.tables
    with engine.connect() as conn:
        batches = conn.execute(sa.select(tables["import_batches"])).mappings().all()
        for table in batch_tables():
            query = sa.select(table.c.import_batch_id, sa.func.count()).group_by(table.c.import_batch_id)
            rows = dict(conn.execute(query).all())
            expected = {b["id"]: b["row_counts"].get(table.name, 0) for b in batches}
            assert rows == {k: v for k, v in expected.items() if v}, table.name
            audit = tables["audit_log"]
            created = conn.execute(
                sa.select(sa.func.count()).where(audit.c.entity == table.name, audit.c.action == "create")
            ).scalar_one()
            assert created == sum(rows.values()), table.name
            imports = conn.execute(
                sa.select(sa.func.count()).where(audit.c.entity == table.name, audit.c.action == "import")
            ).scalar_one()
            assert imports == len(batches), table.name
    return len(batches)
