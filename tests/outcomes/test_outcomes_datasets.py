"""ADSL / ADTTE / ADRS contract, file round trips and the registry loader (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from outcomes_helpers import SCORE_4, SCORE_12, fill_registry, patient, random_cohort, visit
from sqlalchemy.engine import Engine

from lupuscell.outcomes.datasets import (
    ADRS_COLUMNS,
    ADSL_COLUMNS,
    ADSL_ENDPOINT_FIELDS,
    ADTTE_COLUMNS,
    PARAMS,
    build_datasets,
)
from lupuscell.outcomes.endpoints import derive_endpoints
from lupuscell.outcomes.inputs import from_json_payload
from lupuscell.registry.tables import from_registry
from lupuscell.reports.dataset_files import write_datasets

CONTRACT_ADSL_LOWER = (
    "first_remission_day",
    "first_lldas_day",
    "sustained_remission_day",
    "flare_day",
    "os_days",
    "os_event",
    "rfs_days",
    "rfs_event",
    "neutrophil_engraftment_day",
    "platelet_engraftment_day",
    "max_infection_grade",
    "max_gvhd_grade",
    "max_crs_grade",
    "max_icans_grade",
    "pred_m6",
    "pred_m12",
    "steroid_free_m6",
    "steroid_free_m12",
    "sri4_m6",
    "sri4_m12",
)


def _small() -> pd.DataFrame:
    base = visit(-10, SCORE_12, pga=2.0, pred=20.0)
    payload = {
        "patients": [
            patient("NRM", [base, visit(30, SCORE_4, pga=1.0, pred=10)], death=80, last_contact=80),
            patient(
                "REL",
                [base, visit(91, pga=0.2, pred=5), visit(183, SCORE_4, pga=1.0, pred=5)],
                last_contact=500,
            ),
            patient("CEN", [base, visit(91, SCORE_4, pga=1.0, pred=7.5)], last_contact=365),
        ]
    }
    return build_datasets(from_json_payload(payload))


def test_columns_follow_the_contract() -> None:
    ds = _small()
    assert tuple(ds.adsl.columns[: len(ADSL_COLUMNS)]) == ADSL_COLUMNS
    assert set(CONTRACT_ADSL_LOWER) <= set(ds.adsl.columns)
    assert set(ADSL_ENDPOINT_FIELDS) <= set(CONTRACT_ADSL_LOWER)
    assert tuple(ds.adtte.columns) == ADTTE_COLUMNS
    assert tuple(ds.adrs.columns) == ADRS_COLUMNS
    assert set(ds.adtte["PARAMCD"]) == set(PARAMS) == {"OS", "RFS", "REM", "LLDAS", "REL", "NRM"}
    assert len(ds.adtte) == 6 * len(ds.adsl)
    assert ds.adsl["TRTSDT"].tolist() == [dt.date(2024, 1, 1)] * 3


def test_adtte_event_and_competing_codes() -> None:
    tte = _small().adtte.set_index(["USUBJID", "PARAMCD"])

    def row(pid: str, code: str) -> tuple[float, int, int]:
        r = tte.loc[(pid, code)]
        return float(r["AVAL"]), int(r["CNSR"]), int(r["EVCODE"])

    assert row("NRM", "OS") == (80.0, 0, 1)
    assert row("NRM", "NRM") == (80.0, 0, 1)
    assert row("NRM", "REL") == (80.0, 1, 2)  # NRM death competes with relapse
    assert row("NRM", "REM") == (80.0, 1, 2)  # died before remission
    assert row("REL", "REM") == (91.0, 0, 1)
    assert row("REL", "REL") == (183.0, 0, 1)
    assert row("REL", "NRM") == (183.0, 1, 2)
    assert row("REL", "RFS") == (183.0, 0, 1)
    assert row("REL", "OS") == (500.0, 1, 0)
    assert row("CEN", "RFS") == (365.0, 1, 0)
    assert row("CEN", "LLDAS") == (91.0, 0, 1)
    assert tte.loc[("REL", "NRM"), "EVNTDESC"] == "Relapse (flare)"


def test_adsl_derived_fields() -> None:
    adsl = _small().adsl.set_index("USUBJID")
    assert adsl.loc["NRM", "DTHFL"] and adsl.loc["NRM", "DTHDY"] == 80 and adsl.loc["NRM", "FUPDY"] == 80
    assert not adsl.loc["CEN", "DTHFL"] and pd.isna(adsl.loc["CEN", "DTHDY"])
    assert adsl.loc["CEN", "LSTCNTDY"] == 365 and adsl.loc["CEN", "FUPDY"] == 365
    assert adsl.loc["REL", "BSLEDAI"] == 12 and adsl.loc["REL", "BCSLEDAI"] == 8
    assert bool(adsl.loc["REL", "BDSDNA"]) is True
    assert adsl.loc["REL", "first_remission_day"] == 91 and adsl.loc["REL", "flare_day"] == 183


def test_adrs_visit_labels() -> None:
    adrs = _small().adrs
    rel = adrs[adrs["USUBJID"] == "REL"]
    assert rel["AVISIT"].tolist() == ["Baseline", "Month 3", "Month 6"]
    assert rel["AVISITN"].tolist() == [0.0, 3.0, 6.0]
    assert rel["DORIS"].tolist() == [False, True, False]
    assert rel["SLEDAI2K"].tolist() == [12, 0, 4]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_and_read_back(tmp_path: Path, fmt: str) -> None:
    ds = build_datasets(random_cohort(60, seed=2))
    paths = write_datasets(ds, tmp_path, fmt)  # type: ignore[arg-type]
    assert {p.name for p in paths} == {f"adsl.{fmt}", f"adtte.{fmt}", f"adrs.{fmt}", "endpoint_options.json"}
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    for name, frame in (("adsl", ds.adsl), ("adtte", ds.adtte), ("adrs", ds.adrs)):
        back = read(tmp_path / f"{name}.{fmt}")
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
        assert back["USUBJID"].astype(str).tolist() == frame["USUBJID"].tolist()
    if fmt == "parquet":
        back = pd.read_parquet(tmp_path / "adsl.parquet")
        assert back["BSLEDAI"].dtype == "Int64"
        assert back["first_remission_day"].equals(ds.adsl["first_remission_day"])


# ------------------------------------------------------------------------------- registry


def test_registry_loader(engine: Engine) -> None:
    fill_registry(engine)
    cohort = from_registry(engine)
    ep = derive_endpoints(cohort).patients.set_index("patient_id")
    one, two = ep.loc["S01-001"], ep.loc["S01-002"]
    assert one["baseline_sledai_2k"] == 10 and one["first_remission_day"] == 91
    assert one["sustained_remission_day"] == 91 and one["flare_day"] == 365
    assert one["neutrophil_engraftment_day"] == 9  # nadir day 8, then days 9-11 >= 0.5
    assert one["max_infection_grade"] == 3 and one["os_days"] == 700 and not one["os_event"]
    assert one["steroid_free_m6"] and one["pred_m6"] == 0.0
    assert one["sri4_m6"]  # 10 -> 0, no new A/B, PGA improved
    assert two["os_days"] == 50 and two["os_event"]  # day 0 = its own infusion (day 10)
    pats = cohort.patients.set_index("patient_id")
    assert pats.loc["S01-001", "therapy"] == "autologous_hsct" and pats.loc["S01-001", "site"] == "S01"
    assert pats.loc["S01-001", "nephritis"] and pats.loc["S01-001", "age"] == pytest.approx(31.67, abs=0.01)


def test_registry_and_synthetic_frames_give_the_same_endpoints(engine: Engine) -> None:
    """The synthetic cohort loaded into the registry and read back equals the in-memory frames."""
    from outcomes_helpers import frame_differences
    from typer.testing import CliRunner

    from lupuscell.cli.main import app
    from lupuscell.synth.cohort_data import from_synthetic

    url = engine.url.render_as_string(hide_password=False)
    loaded = CliRunner().invoke(app, ["synth", "--patients", "120", "--seed", "9", "--db", url])
    assert loaded.exit_code == 0, loaded.stderr
    from_db = derive_endpoints(from_registry(engine)).patients
    in_memory = derive_endpoints(from_synthetic(120, seed=9)).patients
    assert len(from_db) == 120
    assert frame_differences(from_db, in_memory) == {}
    assert from_db["first_remission_day"].notna().sum() > 5
