"""Reports and exports for the user's sites: the outcomes report (HTML / PDF) and the
de-identified analysis datasets (ADSL / ADTTE / ADRS). Every download is audited.

De-identification of the datasets (:func:`deidentify`): patient codes are replaced by random
subject ids (a new mapping each download, never stored, the same across its three tables); the
calendar day-0 date is dropped (times are study days); death causes are coded; age is in whole
years, top-coded at 90, as in the registry export. Statisticians can use
these pages; they never see patient codes.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from lupuscell.errors import LupuscellError
from lupuscell.registry import scoped
from lupuscell.web.dashboard import cohort_for_sites
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
SUBJECT_COLUMNS = ("USUBJID", "SUBJID", "patient_id", "patient_code")


@router.get("/reports")
def reports_page(request: Request, who: Principal = require("report")) -> Response:
    return render(request, "reports.html", {"error": None}, who)


DATE_COLUMNS = ("TRTSDT",)


def deidentify(frames: dict[str, Any]) -> dict[str, Any]:
    """The registry export's de-identification applied to the analysis datasets: random subject
    ids (:func:`pseudonymise`), no calendar date (``TRTSDT`` dropped; every time is a study day),
    death cause coded by :func:`lupuscell.registry.deidentify.death_cause_category` (free text is
    never exported), age in whole years top-coded at 90
    (:func:`lupuscell.registry.deidentify.age_in_whole_years`)."""
    from lupuscell.registry.deidentify import age_in_whole_years, death_cause_category

    out = {}
    for name, frame in pseudonymise(frames).items():
        frame = frame.drop(columns=[c for c in DATE_COLUMNS if c in frame.columns])
        if "DTHCAUS" in frame.columns:
            frame["DTHCAUS"] = [death_cause_category(c, None) for c in frame["DTHCAUS"]]
        if "AGE" in frame.columns:
            frame["AGE"] = age_in_whole_years(frame["AGE"])
        out[name] = frame
    return out


def pseudonymous_cohort(cohort: Any) -> Any:
    """The cohort with patient codes replaced by random subject ids (for users who may not see
    codes: the report's swimmer plot labels its rows by patient)."""
    from lupuscell.outcomes.inputs import CohortData

    named = {str(i): frame for i, frame in enumerate(cohort.frames())}
    renamed = pseudonymise({k: f.rename(columns={"patient_id": "patient_code"}) for k, f in named.items()})
    return CohortData(*(renamed[k].rename(columns={"patient_code": "patient_id"}) for k in named))


def pseudonymise(frames: dict[str, Any]) -> dict[str, Any]:
    """Replace patient codes by random subject ids, consistently across the frames
    (:func:`lupuscell.registry.deidentify.subject_ids`, as the registry export)."""
    from lupuscell.registry.deidentify import subject_ids

    codes: set[str] = set()
    for frame in frames.values():
        for col in SUBJECT_COLUMNS:
            if col in frame.columns:
                codes.update(frame[col].astype(str))
    mapping = subject_ids(sorted(codes))
    out = {}
    for name, frame in frames.items():
        frame = frame.copy()
        for col in SUBJECT_COLUMNS:
            if col in frame.columns:
                frame[col] = frame[col].astype(str).map(mapping)
        out[name] = frame
    return out


@router.post("/reports/datasets")
def download_datasets(
    request: Request, who: Principal = require("export"), app: AppState = Depends(state)
) -> Response:
    cohort, datasets = cohort_for_sites(app.engine, who.sites)
    frames = deidentify({"adsl": datasets.adsl, "adtte": datasets.adtte, "adrs": datasets.adrs})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
        archive.writestr(
            "README.txt",
            "De-identified analysis datasets (lupuscell). Subject ids are random and not stored; "
            "times are study days from day 0; no calendar dates, patient codes or free text; death "
            "causes coded; age in whole years, top-coded at 90.\n",
        )
    scoped.record_export(
        app.engine,
        actor=who.username,
        what="analysis_datasets",
        sites=who.sites,
        detail={"patients": cohort.n_patients, "tables": list(frames)},
    )
    headers = {"Content-Disposition": 'attachment; filename="lupuscell-datasets.zip"'}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


@router.post("/reports/build")
def build_report(
    request: Request,
    fmt: str = Form("html", pattern="^(html|pdf)$"),
    who: Principal = require("report"),
    app: AppState = Depends(state),
) -> Response:
    from lupuscell.registry import pro_read
    from lupuscell.reports.pipeline import report_from_cohort

    cohort, _ = cohort_for_sites(app.engine, who.sites)
    if not who.can("read"):  # statisticians never see patient codes
        cohort = pseudonymous_cohort(cohort)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report_from_cohort(
                cohort,
                Path(tmp),
                source=f"registry, sites {', '.join(who.sites)}",
                datasets_format="csv",
                pro=pro_read.cohort_frame(app.engine, who.sites),
            )
            name = "report.html" if fmt == "html" else "report.pdf"
            body = (Path(tmp) / name).read_bytes()
    except LupuscellError as exc:
        return render(request, "reports.html", {"error": str(exc)}, who, status=422)
    except (ArithmeticError, ValueError) as exc:  # statistics that cannot be fitted on so few patients
        message = f"the report cannot be built for these {cohort.n_patients} patients ({exc})"
        return render(request, "reports.html", {"error": message}, who, status=422)
    scoped.record_export(
        app.engine,
        actor=who.username,
        what=f"outcomes_report_{fmt}",
        sites=who.sites,
        detail={"patients": cohort.n_patients},
    )
    media = "text/html" if fmt == "html" else "application/pdf"
    headers = {"Content-Disposition": f'attachment; filename="lupuscell-report.{fmt}"'}
    return Response(body, media_type=media, headers=headers)
