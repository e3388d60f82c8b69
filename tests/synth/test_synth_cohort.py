"""Synthetic cohort: determinism, streaming, schema and internal coherence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lupuscell import vocab
from lupuscell.registry import models
from lupuscell.synth import profiles
from lupuscell.synth.cohort import BLOCK_SIZE, TABLES, generate_cohort_tables, iter_cohort_tables
from lupuscell.units import normalise, unit_rule


def _concat(chunks: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    return {name: pd.concat([c[name] for c in chunks if name in c], ignore_index=True) for name in TABLES}


def test_same_seed_same_cohort_and_other_seed_differs() -> None:
    a = generate_cohort_tables(120, seed=5)
    b = generate_cohort_tables(120, seed=5)
    c = generate_cohort_tables(120, seed=6)
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["therapy_courses"]["therapy"].equals(c["therapy_courses"]["therapy"])


@pytest.mark.parametrize("chunk_size", [1, 37, BLOCK_SIZE, BLOCK_SIZE + 1, 5000])
def test_output_does_not_depend_on_chunk_size(chunk_size: int) -> None:
    n = BLOCK_SIZE * 2 + 20 if chunk_size != 1 else 30
    reference = generate_cohort_tables(n, seed=11)
    chunks = list(iter_cohort_tables(n, seed=11, chunk_size=chunk_size))
    assert [len(c["patients"]) for c in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]["patients"]) <= chunk_size
    assert "sites" in chunks[0] and all("sites" not in c for c in chunks[1:])
    streamed = _concat(chunks)
    for name in TABLES:
        pd.testing.assert_frame_equal(streamed[name], reference[name], obj=name)


def test_every_child_row_belongs_to_a_patient_of_its_own_chunk() -> None:
    for chunk in iter_cohort_tables(300, seed=3, chunk_size=70):
        codes = set(chunk["patients"]["code"])
        keys = set(chunk["therapy_courses"]["course_key"])
        for name in TABLES[2:]:
            assert set(chunk[name]["patient_code"]) <= codes, name
        assert set(chunk["drug_administrations"]["course_key"]) <= keys
        assert set(chunk["adverse_events"]["course_key"]) <= keys


def test_columns_are_the_model_columns_with_codes_instead_of_ids() -> None:
    tables = generate_cohort_tables(40, seed=1)
    internal = {"id", "patient_id", "course_id", "site_id", "created_at", "updated_at", "import_batch_id", "version"}
    keys = {"patient_code", "course_key", "site_code"}
    for name in TABLES:
        model_cols = {c.name for c in models.Base.metadata.tables[name].columns} - internal
        cols = set(tables[name].columns)
        assert model_cols - cols <= {"country"} if name == "sites" else model_cols <= cols, name
        assert cols - model_cols <= keys, (name, cols - model_cols)


def test_negative_n_and_zero_chunk_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_patients"):
        list(iter_cohort_tables(-1, seed=1))
    with pytest.raises(ValueError, match="chunk_size"):
        list(iter_cohort_tables(5, seed=1, chunk_size=0))


@pytest.fixture(scope="module")
def cohort() -> dict[str, pd.DataFrame]:
    return generate_cohort_tables(1500, seed=2024)


def _with_day0(frame: pd.DataFrame, cohort: dict[str, pd.DataFrame], date_col: str) -> pd.DataFrame:
    courses = cohort["therapy_courses"][["patient_code", "therapy", "infusion_date"]]
    out = frame.merge(courses, on="patient_code")
    out["day"] = (out[date_col] - out["infusion_date"]).dt.days
    return out


def test_code_lists_and_units_are_valid(cohort: dict[str, pd.DataFrame]) -> None:
    courses = cohort["therapy_courses"]
    assert set(courses["therapy"]) == {"autologous_hsct", "msc", "car_t"}
    assert set(courses["cell_source"]) <= set(vocab.CELL_SOURCES)
    assert set(courses.loc[courses["therapy"] == "msc", "cell_source"]) == {
        "bone_marrow",
        "adipose",
        "umbilical_cord",
    }
    assert set(cohort["patients"]["nephritis_class"].dropna()) <= set(vocab.NEPHRITIS_CLASSES)
    assert set(cohort["drug_administrations"]["purpose"]) == set(vocab.DRUG_PURPOSES) - {"maintenance"}
    assert set(cohort["adverse_events"]["category"]) <= set(vocab.AE_CATEGORIES)
    labs = cohort["lab_results"]
    for analyte, unit in labs[["analyte", "unit"]].drop_duplicates().itertuples(index=False):
        unit_rule(analyte, unit)  # raises on an unknown unit
    assert set(labs.loc[labs["analyte"] == "creatinine", "unit"]) == {"umol/L", "mg/dL"}


def test_baseline_is_realistic(cohort: dict[str, pd.DataFrame]) -> None:
    patients = cohort["patients"].merge(
        cohort["therapy_courses"][["patient_code", "therapy", "infusion_date"]],
        left_on="code",
        right_on="patient_code",
    )
    assert (patients["sex"] == "F").mean() == pytest.approx(0.9, abs=0.03)
    age = patients["infusion_date"].dt.year - patients["birth_year"]
    assert age.between(15, 67).all()
    assert 24 <= age.median() <= 36
    assert (patients["sle_diagnosis_date"] < patients["infusion_date"]).all()
    assert (
        patients["sle_diagnosis_date"].dt.year >= patients["birth_year"] + profiles.MIN_AGE_AT_DIAGNOSIS - 1
    ).all()
    neph = patients.groupby("therapy")["nephritis_class"].apply(lambda s: s.notna().mean())
    assert neph["autologous_hsct"] == pytest.approx(0.60, abs=0.06)
    assert neph["msc"] == pytest.approx(0.70, abs=0.06)
    assert neph["car_t"] == pytest.approx(0.80, abs=0.08)
    renal = patients["organ_involvement"].apply(lambda organs: "renal" in organs)
    assert (renal == patients["nephritis_class"].notna()).all()


def test_course_dates_follow_the_protocols(cohort: dict[str, pd.DataFrame]) -> None:
    c = cohort["therapy_courses"]
    hsct, msc, cart = (c[c["therapy"] == t] for t in ("autologous_hsct", "msc", "car_t"))
    assert (hsct["mobilisation_date"] < hsct["harvest_date"]).all()
    assert (hsct["harvest_date"] < hsct["conditioning_start_date"]).all()
    assert ((hsct["infusion_date"] - hsct["conditioning_start_date"]).dt.days.isin([5, 6])).all()
    assert hsct["cd34_per_kg"].min() >= 2e6
    assert msc["mobilisation_date"].isna().all() and msc["cd34_per_kg"].isna().all()
    assert msc["number_of_infusions"].isin([1, 2]).all()
    assert msc["cell_dose_per_kg"].median() == pytest.approx(1e6, rel=0.05)
    assert ((cart["infusion_date"] - cart["conditioning_start_date"]).dt.days == 5).all()
    assert (cart["harvest_date"] < cart["conditioning_start_date"]).all()
    discharged = c.dropna(subset=["discharge_date"])
    assert (discharged["discharge_date"] >= discharged["infusion_date"]).all()
    drugs = cohort["drug_administrations"].merge(c[["course_key", "therapy"]], on="course_key")
    assert set(drugs.loc[drugs["purpose"] == "lymphodepletion", "therapy"]) == {"car_t"}
    assert set(drugs.loc[drugs["purpose"] == "conditioning", "therapy"]) == {"autologous_hsct"}
    assert set(drugs.loc[drugs["purpose"] == "transfusion", "therapy"]) == {"autologous_hsct"}


def test_visit_schedule(cohort: dict[str, pd.DataFrame]) -> None:
    visits = _with_day0(cohort["visits"], cohort, "visit_date")
    assert not visits.duplicated(["patient_code", "visit_date"]).any()
    first = visits.groupby("patient_code")["day"].min()
    assert (first < 0).all()  # a baseline visit before treatment for everyone
    post = visits[visits["day"] > 0]["day"].to_numpy()
    nominal = np.array(profiles.VISIT_DAYS)
    jitter = np.array(profiles.VISIT_JITTER_DAYS)
    nearest = np.abs(post[:, None] - nominal[None, :]).argmin(axis=1)
    assert (np.abs(post - nominal[nearest]) <= jitter[nearest]).all()
    assert post.max() <= nominal[-1] + jitter[-1]
    per_patient = visits.groupby("patient_code").size()
    assert per_patient.max() == len(nominal) + 1
    assert per_patient.median() >= 8


def test_nothing_happens_after_death(cohort: dict[str, pd.DataFrame]) -> None:
    events = cohort["clinical_events"]
    deaths = events[events["event_type"] == "death"].set_index("patient_code")["event_date"]
    assert not set(deaths.index) & set(events.loc[events["event_type"] == "last_contact", "patient_code"])
    assert (
        events.groupby("patient_code")["event_type"]
        .apply(lambda s: int((s == "death").sum() + (s == "last_contact").sum()))
        .eq(1)
        .all()
    )
    for name, col in (
        ("visits", "visit_date"),
        ("lab_results", "result_date"),
        ("adverse_events", "onset_date"),
    ):
        frame = cohort[name]
        when = frame["patient_code"].map(deaths)
        assert not (frame[col] > when).any(), name


def _canonical(labs: pd.DataFrame, analyte: str) -> pd.DataFrame:
    sub = labs[labs["analyte"] == analyte].copy()
    sub["canonical"] = [normalise(analyte, v, u)[0] for v, u in zip(sub["value"], sub["unit"], strict=True)]
    return sub


def test_descriptors_agree_with_labs(cohort: dict[str, pd.DataFrame]) -> None:
    labs, visits = cohort["lab_results"], cohort["visits"]
    keys = ["patient_code", "result_date"]
    v = visits.rename(columns={"visit_date": "result_date"})
    upcr = _canonical(labs, "upcr").merge(v, on=keys)
    assert ((upcr["canonical"] > 0.5) == upcr["proteinuria"]).all()
    dsdna = _canonical(labs, "anti_dsdna").merge(v, on=keys)
    assert ((dsdna["canonical"] > 30) == dsdna["increased_dna_binding"]).all()
    c3 = _canonical(labs, "c3").merge(v, on=keys)
    assert ((c3["canonical"] < 0.9) == c3["low_complement"]).all()
    plt = _with_day0(_canonical(labs, "platelets").merge(v, on=keys), cohort, "result_date")
    late = plt["day"] > 60  # earlier: post-conditioning counts, cytopenia is drug-induced
    assert late.sum() > 1000
    assert ((plt["canonical"] < 100) == plt["thrombocytopenia"])[late].all()
    counted = (plt["therapy"] != "msc") & plt["day"].between(1, 28)
    assert counted.sum() > 100
    assert not plt.loc[counted, "thrombocytopenia"].any()


def test_disease_state_coherence(cohort: dict[str, pd.DataFrame]) -> None:
    visits = cohort["visits"]
    descriptors = list(vocab.SLEDAI_2K_DESCRIPTORS)
    active = visits[descriptors].any(axis=1)
    baseline = visits.groupby("patient_code").head(1)
    assert baseline[descriptors].any(axis=1).all()  # everyone treated for active disease
    assert (visits.loc[~active, "pga"] <= 0.4).all()
    assert (visits.loc[active, "pga"] >= 0.5).all()
    assert visits["pga"].between(0, 3).all()
    assert (visits["prednisone_mg_per_day"] % 2.5 == 0).all()
    flare_events = cohort["clinical_events"]
    relapsed = set(flare_events.loc[flare_events["event_type"] == "relapse", "patient_code"])
    remitted = set(visits.loc[~active, "patient_code"])
    assert len(relapsed) > 50
    assert len(relapsed & remitted) / len(relapsed) >= 0.9  # relapse follows a documented remission
    bilag = visits["bilag"].dropna()
    assert 0.15 < len(bilag) / len(visits) < 0.35
    assert all(set(__import__("json").loads(b)) == set(vocab.BILAG_DOMAINS) for b in bilag.head(50))


def test_hsct_counts_allow_engraftment_to_be_derived(cohort: dict[str, pd.DataFrame]) -> None:
    from lupuscell.instruments.labs import neutrophil_engraftment, platelet_engraftment

    labs = _with_day0(cohort["lab_results"], cohort, "result_date")
    labs = labs[(labs["therapy"] == "autologous_hsct") & labs["day"].between(-7, 70)]
    drugs = cohort["drug_administrations"].merge(
        cohort["therapy_courses"][["course_key", "infusion_date"]], on="course_key"
    )
    drugs = drugs[drugs["purpose"] == "transfusion"]
    tx_days = (
        ((drugs["admin_date"] - drugs["infusion_date"]).dt.days).groupby(drugs["patient_code"]).apply(list)
    )
    aes = cohort["adverse_events"]
    failed = set(aes.loc[aes["category"] == "graft_failure", "patient_code"])
    events = _with_day0(cohort["clinical_events"], cohort, "event_date")
    end = events[events["event_type"].isin(["death", "last_contact"])].set_index("patient_code")["day"]
    anc_days, plt_days = [], []
    for code, g in labs.groupby("patient_code"):
        if end[code] < 60:
            continue  # died or lost during or soon after aplasia
        anc = g[g["analyte"] == "anc"].sort_values("day")
        plt = g[g["analyte"] == "platelets"].sort_values("day")
        day, status, _ = neutrophil_engraftment(anc["day"].tolist(), anc["value"].tolist())
        assert status == "engrafted", code
        anc_days.append(day)
        assert (day > 30) == (code in failed)
        pday, pstatus = platelet_engraftment(
            plt["day"].tolist(), plt["value"].tolist(), tx_days.get(code, [])
        )
        assert pstatus == "engrafted", code
        plt_days.append(pday)
    assert len(anc_days) > 400
    assert 9 <= np.median(anc_days) <= 12
    assert 10 <= np.median(plt_days) <= 20


def test_descriptor_table_covers_sledai_in_order() -> None:
    assert tuple(profiles.DESCRIPTOR_PROBABILITY) == vocab.SLEDAI_2K_DESCRIPTORS
    assert set(profiles.DESCRIPTOR_BILAG_DOMAIN.values()) <= set(vocab.BILAG_DOMAINS)


@pytest.mark.parametrize("chunk_size", [37, BLOCK_SIZE + 1])
def test_cohort_without_signal_does_not_depend_on_chunk_size_either(chunk_size: int) -> None:
    n = BLOCK_SIZE + 40
    reference = generate_cohort_tables(n, seed=11, baseline_signal=False)
    streamed = _concat(list(iter_cohort_tables(n, seed=11, chunk_size=chunk_size, baseline_signal=False)))
    for name in TABLES:
        pd.testing.assert_frame_equal(streamed[name], reference[name], obj=name)
    again = generate_cohort_tables(n, seed=11, baseline_signal=False)
    pd.testing.assert_frame_equal(again["clinical_events"], reference["clinical_events"])
