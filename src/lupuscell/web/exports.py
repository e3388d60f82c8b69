"""The de-identified analysis datasets (ADSL / ADTTE / ADRS) of a set of sites, as one ZIP.

One function for the page download (``POST /reports/datasets``) and the API
(``GET /api/v1/exports/datasets``), so both de-identify, scope and audit alike: the cohort is
read for the caller's sites only (:func:`lupuscell.web.dashboard.cohort_for_sites`), de-identified
by :func:`lupuscell.web.deidentify.deidentify` (random subject ids, study days, coded
causes, age top-coded), and every download writes an export audit row naming the caller, the
sites and the number of patients.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from lupuscell.registry import scoped
from lupuscell.web.dashboard import cohort_for_sites
from lupuscell.web.deidentify import deidentify

README = (
    "De-identified analysis datasets (lupuscell). Subject ids are random and not stored; "
    "times are study days from day 0; no calendar dates, patient codes or free text; death "
    "causes coded; age in whole years, top-coded at 90.\n"
)


def datasets_zip(engine: Engine, *, actor: str, sites: Sequence[str]) -> bytes:
    """The ZIP of ``adsl.csv``, ``adtte.csv``, ``adrs.csv`` and a README for ``sites``; audited."""
    cohort, datasets = cohort_for_sites(engine, tuple(sites))
    frames = deidentify({"adsl": datasets.adsl, "adtte": datasets.adtte, "adrs": datasets.adrs})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
        archive.writestr("README.txt", README)
    scoped.record_export(
        engine,
        actor=actor,
        what="analysis_datasets",
        sites=tuple(sites),
        detail={"patients": cohort.n_patients, "tables": list(frames)},
    )
    return buffer.getvalue()
