"""From a cohort to a written report: endpoints -> datasets -> statistics -> files.

One function per source (the registry, or an already normalised cohort) so the CLI, the
benchmark and the tests run exactly the same path.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from lupuscell.errors import ValidationError
from lupuscell.outcomes.cohort import CohortData
from lupuscell.outcomes.datasets import AnalysisDatasets, Format, build_datasets
from lupuscell.outcomes.definitions import DEFAULT_OPTIONS, EndpointOptions
from lupuscell.reports.build import ReportData, write_report
from lupuscell.reports.dataset_files import write_datasets
from lupuscell.reports.prediction_section import DEFAULT_BOOTSTRAP
from lupuscell.vocab import THERAPIES


def definitions_text(options: EndpointOptions) -> dict[str, str]:
    """The endpoint definitions a report states, written from the options actually used."""
    flare = (
        f"SLEDAI-2K rise >= {options.flare_sledai_rise} from the previous visit"
        if options.flare_rule == "sledai_rise_ge_4"
        else f"SELENA flare index flare recorded by the clinician ({options.sfi_severity} flares)"
    )
    origin = "after the first DORIS remission" if options.flare_origin == "first_remission" else "after day 0"
    return {
        "Day 0": "Infusion date of the first therapy course; study day = date - day 0.",
        "End of follow-up": "Death, else the last date any record (visit, laboratory value, adverse "
        "event, drug administration, clinical event, last contact) shows the patient alive.",
        "Baseline": f"Last visit on or before day 0 within {options.baseline_window_days} days.",
        "Scheduled visits": (
            f"Month-m visit = visit nearest day round(30.44*m) within ±{options.window_days_to_month_12} days up "
            f"to month 12 and ±{options.window_days_after_month_12} days after; ties: {options.window_tie} visit."
        ),
        "DORIS remission": (
            "Clinical SLEDAI-2K = 0, PGA < 0.5, prednisolone <= 5 mg/day, stable immunosuppressives "
            "(van Vollenhoven, Lupus Sci Med 2021); first remission counts visits from day "
            f"{options.remission_from_day}; sustained = {options.sustained_min_visits} consecutive visits."
        ),
        "LLDAS": "Franklyn, Ann Rheum Dis 2016: SLEDAI-2K <= 4 without major organ activity, PGA <= 1, "
        "prednisolone <= 7.5 mg/day, standard maintenance therapy.",
        "SRI-4": f"SRI-{options.sri_threshold} (Furie, Arthritis Rheum 2009) on SLEDAI-2K at months "
        f"{', '.join(map(str, options.sri_months))}; not evaluable without BILAG grades at both visits.",
        "Flare / relapse": f"{flare}, {origin} (Petri, Lupus 1999; Buyon, Ann Intern Med 2005).",
        "Overall survival": "Day 0 to death from any cause, censored at the last date known alive.",
        "Relapse-free survival": "Day 0 to flare or death, censored at the last date known alive.",
        "Relapse and non-relapse mortality": (
            "Competing risks (Aalen-Johansen; Fine & Gray, JASA 1999): relapse = first flare; non-relapse "
            "mortality = death without prior relapse (EBMT/CIBMTR convention); landmarks at days "
            f"{', '.join(map(str, options.landmark_days))}."
        ),
        "Engraftment": (
            f"Neutrophils: first of {options.neutrophil_consecutive} consecutive days with ANC >= "
            f"{options.neutrophil_threshold} x10^9/L after the post-infusion nadir (counts from day "
            f"{options.engraftment_from_day}); platelets: first of "
            f"{options.platelet_consecutive} consecutive days >= {options.platelet_threshold:g} x10^9/L with no "
            f"transfusion in the preceding {options.platelet_transfusion_free_days} days (CIBMTR); HSCT only."
        ),
        "Steroid-free": f"Prednisone-equivalent <= {options.steroid_free_max_mg:g} mg/day at the month visit "
        "(programme convention; option steroid_free_max_mg).",
    }


def filter_cohort(cohort: CohortData, *, therapy: str | None = None, site: str | None = None) -> CohortData:
    """Restrict the cohort to one therapy and/or one site (errors name the bad value)."""
    patients = cohort.patients
    if therapy is not None:
        if therapy not in THERAPIES:
            raise ValidationError.single(
                "report", "therapy", f"{therapy!r} is not one of {', '.join(THERAPIES)}"
            )
        patients = patients[patients["therapy"] == therapy]
    if site is not None:
        known = sorted(cohort.patients["site"].dropna().astype(str).unique())
        if site not in known:
            raise ValidationError.single(
                "report", "site", f"{site!r} is not in the data (sites: {', '.join(known)})"
            )
        patients = patients[patients["site"] == site]
    return cohort.subset(patients["patient_id"])


def report_from_cohort(
    cohort: CohortData,
    out_dir: Path,
    *,
    source: str,
    as_of: str | None = None,
    therapy: str | None = None,
    site: str | None = None,
    options: EndpointOptions = DEFAULT_OPTIONS,
    datasets_format: Format = "parquet",
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    pro: pd.DataFrame | None = None,
) -> tuple[dict[str, Any], AnalysisDatasets]:
    """Derive endpoints and datasets for the (filtered) cohort and write the report files.

    ``n_bootstrap``: resamples of the prediction models' optimism correction, at least 10.
    ``pro``: RAND-36 assessments (:func:`lupuscell.registry.pro_read.cohort_frame`), filtered
    like the cohort, for the patient-reported outcomes block (:mod:`lupuscell.reports.pro_section`).
    """
    cohort = filter_cohort(cohort, therapy=therapy, site=site)
    if pro is not None:
        pro = pro[(pro["therapy"] == therapy) if therapy else pro["therapy"].notna()]
        pro = pro[pro["site_code"] == site] if site else pro
    datasets = build_datasets(cohort, options)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    snapshot = {
        "source": source,
        "as_of": as_of or now,
        "generated_at": now,
        "n_patients": cohort.n_patients,
        "n_visits": len(cohort.visits),
        "filters": {"therapy": therapy, "site": site},
        "endpoint_options": options.to_dict(),
    }
    data = ReportData(
        adsl=datasets.adsl,
        adtte=datasets.adtte,
        adrs=datasets.adrs,
        definitions=definitions_text(options),
        snapshot=snapshot,
        pro=pro,
    )
    summary = write_report(data, out_dir, n_bootstrap=n_bootstrap)
    write_datasets(datasets, out_dir / "datasets", datasets_format)
    return summary, datasets
