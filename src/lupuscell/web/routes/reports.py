"""Reports and exports for the user's sites: the outcomes report (HTML / PDF) and the
de-identified analysis datasets (ADSL / ADTTE / ADRS). Every download is audited.

De-identification: :mod:`lupuscell.web.deidentify`; the dataset ZIP (shared with the API's
``/api/v1/exports/datasets``): :mod:`lupuscell.web.exports`. Statisticians can use these pages;
they never see patient codes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from lupuscell.errors import LupuscellError
from lupuscell.registry import scoped
from lupuscell.web.dashboard import cohort_for_sites
from lupuscell.web.deidentify import pseudonymous_cohort
from lupuscell.web.deps import AppState, Principal, csrf_guard, require, state
from lupuscell.web.exports import datasets_zip
from lupuscell.web.pages import render

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)


@router.get("/reports")
def reports_page(request: Request, who: Principal = require("report")) -> Response:
    return render(request, "reports.html", {"error": None}, who)


@router.post("/reports/datasets")
def download_datasets(
    request: Request, who: Principal = require("export"), app: AppState = Depends(state)
) -> Response:
    body = datasets_zip(app.engine, actor=who.username, sites=who.sites)
    headers = {"Content-Disposition": 'attachment; filename="lupuscell-datasets.zip"'}
    return Response(body, media_type="application/zip", headers=headers)


@router.post("/reports/build")
def build_report(
    request: Request,
    fmt: str = Form("html", pattern="^(html|pdf)$"),
    who: Principal = require("report"),
    app: AppState = Depends(state),
) -> Response:
    from lupuscell.registry import pro_read
    from lupuscell.reports.pipeline import report_from_cohort
    from lupuscell.reports.prediction_section import WEB_BOOTSTRAP

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
                n_bootstrap=WEB_BOOTSTRAP,
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
