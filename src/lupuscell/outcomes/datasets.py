"""Analysis datasets ADSL, ADTTE and ADRS (CDISC ADaM-like) from derived endpoints.

The column names and codes are a contract with the cohort statistics and the report
(docs/outcomes/datasets.md); do not rename them.

Sources
-------
CDISC Analysis Data Model (ADaM) v2.1 and ADaM Implementation Guide v1.3 (subject-level ADSL,
basic data structure BDS); ADaM Basic Data Structure for Time-to-Event Analyses v1.0
(``PARAMCD``, ``AVAL``, ``CNSR``: 0 = event, positive = censored; ``EVNTDESC``). ``EVCODE``
(0 censored, 1 event of interest, 2 competing event) is this project's addition for
competing-risks analysis (Fine & Gray 1999 coding), since ADaM's ``CNSR`` has no competing code.

This module builds the frames only (pure); writing them to CSV or Parquet is
:func:`lupuscell.reports.dataset_files.write_datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from lupuscell.outcomes.definitions import DEFAULT_OPTIONS, EndpointOptions
from lupuscell.outcomes.endpoints import EndpointResult, derive_endpoints
from lupuscell.outcomes.inputs import CohortData

ADSL_COLUMNS: tuple[str, ...] = (
    "USUBJID",
    "SITEID",
    "THERAPY",
    "CELLSRC",
    "AGE",
    "SEX",
    "DIAGDUR",
    "NEPHRITIS",
    "LNCLASS",
    "BSLEDAI",
    "BCSLEDAI",
    "BPGA",
    "BPRED",
    "BDSDNA",
    "TRTSDT",
    "LSTCNTDY",
    "DTHFL",
    "DTHDY",
    "DTHCAUS",
    "FUPDY",
)

#: Lower-case per-patient endpoint fields of ADSL (contract order), then the extras.
ADSL_ENDPOINT_FIELDS: tuple[str, ...] = (
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
)

ADTTE_COLUMNS: tuple[str, ...] = (
    "USUBJID",
    "THERAPY",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "CNSR",
    "EVNTDESC",
    "EVCODE",
)
ADRS_COLUMNS: tuple[str, ...] = (
    "USUBJID",
    "THERAPY",
    "ADY",
    "AVISIT",
    "AVISITN",
    "SLEDAI2K",
    "CSLEDAI",
    "LLDAS",
    "DORIS",
    "PGA",
    "PRED",
)

#: PARAMCD -> PARAM label.
PARAMS: dict[str, str] = {
    "OS": "Overall survival (days from day 0)",
    "RFS": "Relapse-free survival: flare or death (days from day 0)",
    "REM": "Time to first DORIS 2021 remission (days from day 0)",
    "LLDAS": "Time to first LLDAS (days from day 0)",
    "REL": "Time to relapse (flare), non-relapse death competing (days from day 0)",
    "NRM": "Time to non-relapse mortality, relapse competing (days from day 0)",
}

#: File formats of the datasets (written by :func:`lupuscell.reports.dataset_files.write_datasets`).
Format = Literal["csv", "parquet"]


@dataclass(frozen=True)
class AnalysisDatasets:
    """ADSL, ADTTE and ADRS frames with the options that produced them."""

    adsl: pd.DataFrame
    adtte: pd.DataFrame
    adrs: pd.DataFrame
    options: EndpointOptions


def _int(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(pd.array(np.asarray(values, dtype=float)).astype("Int64"))


def build_adsl(cohort: CohortData, result: EndpointResult) -> pd.DataFrame:
    """One row per patient: demographics, baseline disease activity and endpoint fields."""
    pats = cohort.patients.reset_index(drop=True)
    ep = result.patients.set_index("patient_id").loc[pats["patient_id"]].reset_index()
    death = pats["death_day"].to_numpy(dtype=float)
    dead = ~np.isnan(death)
    last = pats["last_contact_day"].to_numpy(dtype=float)
    adsl = pd.DataFrame(
        {
            "USUBJID": pats["patient_id"].astype(str),
            "SITEID": pats["site"].astype(object).where(pats["site"].notna(), None),
            "THERAPY": pats["therapy"].astype(str),
            "CELLSRC": pats["cell_source"].astype(object).where(pats["cell_source"].notna(), None),
            "AGE": pats["age"].astype(float),
            "SEX": pats["sex"].astype(object).where(pats["sex"].notna(), None),
            "DIAGDUR": pats["diagnosis_years"].astype(float),
            "NEPHRITIS": pats["nephritis"].astype("boolean"),
            "LNCLASS": pats["nephritis_class"].astype(object).where(pats["nephritis_class"].notna(), None),
            "BSLEDAI": ep["baseline_sledai_2k"].astype("Int64"),
            "BCSLEDAI": ep["baseline_clinical_sledai"].astype("Int64"),
            "BPGA": ep["baseline_pga"].astype(float),
            "BPRED": ep["baseline_prednisone_mg"].astype(float),
            "BDSDNA": ep["baseline_dsdna"].astype("boolean"),
            "TRTSDT": pd.to_datetime(pats["day0"]).dt.date,
            "LSTCNTDY": last.astype(np.int64),
            "DTHFL": dead,
            "DTHDY": _int(death),
            "DTHCAUS": pats["death_cause"].astype(object).where(pats["death_cause"].notna(), None),
            "FUPDY": np.where(dead, death, last).astype(np.int64),
        }
    )
    extra = [c for c in ep.columns if c != "patient_id" and c not in ADSL_ENDPOINT_FIELDS]
    skip = {
        "baseline_day",
        "baseline_sledai_2k",
        "baseline_clinical_sledai",
        "baseline_pga",
        "baseline_prednisone_mg",
        "baseline_dsdna",
    }
    for col in (*ADSL_ENDPOINT_FIELDS, *[c for c in extra if c not in skip]):
        adsl[col] = ep[col].array
    return adsl


def _tte(
    adsl: pd.DataFrame, paramcd: str, aval: np.ndarray, evcode: np.ndarray, descriptions: dict[int, str]
) -> pd.DataFrame:
    evcode = evcode.astype(np.int64)
    return pd.DataFrame(
        {
            "USUBJID": adsl["USUBJID"].to_numpy(),
            "THERAPY": adsl["THERAPY"].to_numpy(),
            "PARAMCD": paramcd,
            "PARAM": PARAMS[paramcd],
            "AVAL": aval.astype(float),
            "CNSR": np.where(evcode == 1, 0, 1).astype(np.int64),
            "EVNTDESC": pd.Series(evcode).map(descriptions).to_numpy(),
            "EVCODE": evcode,
        }
    )


def build_adtte(adsl: pd.DataFrame) -> pd.DataFrame:
    """One row per patient x parameter (OS, RFS, REM, LLDAS, REL, NRM).

    ``CNSR`` is 0 for the event of interest and 1 otherwise (a competing event is censored for
    a Kaplan-Meier reader); ``EVCODE`` 0/1/2 separates censoring from the competing event.
    """
    os_days = adsl["os_days"].to_numpy(dtype=float)
    dead = adsl["os_event"].to_numpy(dtype=bool)
    rfs_days = adsl["rfs_days"].to_numpy(dtype=float)
    status = adsl["relapse_nrm_status"].to_numpy(dtype=np.int64)
    frames = [
        _tte(adsl, "OS", os_days, dead.astype(int), {0: "Censored at last contact", 1: "Death"}),
        _tte(
            adsl,
            "RFS",
            rfs_days,
            np.where(status > 0, 1, 0),
            {0: "Censored at last contact", 1: "Flare or death"},
        ),
    ]
    for code, col in (("REM", "first_remission_day"), ("LLDAS", "first_lldas_day")):
        reached = adsl[col].to_numpy(dtype=float, na_value=np.nan)
        hit = ~np.isnan(reached)
        ev = np.where(hit, 1, np.where(dead, 2, 0))
        label = "DORIS remission" if code == "REM" else "LLDAS"
        frames.append(
            _tte(
                adsl,
                code,
                np.where(hit, reached, os_days),
                ev,
                {0: "Censored at last contact", 1: label, 2: f"Death before {label}"},
            )
        )
    frames.append(
        _tte(
            adsl,
            "REL",
            rfs_days,
            status,
            {0: "Censored at last contact", 1: "Relapse (flare)", 2: "Non-relapse death"},
        )
    )
    frames.append(
        _tte(
            adsl,
            "NRM",
            rfs_days,
            np.select([status == 2, status == 1], [1, 2], 0),
            {0: "Censored at last contact", 1: "Non-relapse death", 2: "Relapse (flare)"},
        )
    )
    adtte = pd.concat(frames, ignore_index=True)
    order = {code: i for i, code in enumerate(PARAMS)}
    adtte = adtte.assign(_o=adtte["PARAMCD"].map(order)).sort_values(["USUBJID", "_o"], kind="stable")
    return adtte.drop(columns="_o").reset_index(drop=True)


def build_adrs(cohort: CohortData, result: EndpointResult) -> pd.DataFrame:
    """One row per patient x visit with the per-visit activity and response states."""
    v = result.visits
    therapy = cohort.patients.set_index("patient_id")["therapy"]
    return pd.DataFrame(
        {
            "USUBJID": v["patient_id"].astype(str).to_numpy(),
            "THERAPY": v["patient_id"].map(therapy).astype(str).to_numpy(),
            "ADY": v["day"].astype(np.int64).to_numpy(),
            "AVISIT": v["avisit"].astype(str).to_numpy(),
            "AVISITN": v["avisitn"].astype(float).to_numpy(),
            "SLEDAI2K": v["sledai_2k"].astype("Int64").array,
            "CSLEDAI": v["clinical_sledai"].astype("Int64").array,
            "LLDAS": v["lldas"].astype("boolean").array,
            "DORIS": v["doris_remission"].astype("boolean").array,
            "PGA": v["pga"].astype(float).to_numpy(),
            "PRED": v["prednisone_mg"].astype(float).to_numpy(),
        }
    )


def build_datasets(
    cohort: CohortData,
    options: EndpointOptions = DEFAULT_OPTIONS,
    result: EndpointResult | None = None,
) -> AnalysisDatasets:
    """ADSL, ADTTE and ADRS of ``cohort`` (endpoints derived unless ``result`` is given)."""
    result = result if result is not None else derive_endpoints(cohort, options)
    adsl = build_adsl(cohort, result)
    return AnalysisDatasets(
        adsl=adsl, adtte=build_adtte(adsl), adrs=build_adrs(cohort, result), options=result.options
    )
