"""``/api/v1/exports/datasets``: the de-identified analysis datasets (ADSL / ADTTE / ADRS, CSV in
a ZIP) of the caller's sites, or of one of them (``?site=CODE``), for scripts; the same ZIP and
the same audit row as the Reports page (:func:`lupuscell.web.exports.datasets_zip`). A site the
caller does not belong to is answered as an unknown one (404), never exported.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from lupuscell.errors import NotFoundError
from lupuscell.web.deps import AppState, Principal, require, state
from lupuscell.web.exports import datasets_zip

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/datasets",
    summary="De-identified ADSL / ADTTE / ADRS of your sites (ZIP of CSV files; audited)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def datasets(
    site: str | None = Query(None, max_length=32, description="one of your sites (default: all of them)"),
    who: Principal = require("export"),
    app: AppState = Depends(state),
) -> Response:
    if site is not None and site not in who.sites:
        raise NotFoundError(f"site: {site!r} is not one of your sites")
    sites = (site,) if site is not None else who.sites
    body = datasets_zip(app.engine, actor=who.username, sites=sites)
    headers = {"Content-Disposition": 'attachment; filename="lupuscell-datasets.zip"'}
    return Response(body, media_type="application/zip", headers=headers)
