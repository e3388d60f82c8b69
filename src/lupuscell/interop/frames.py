"""Registry exchange frames as plain records, and de-identified frames with dated study days.

Formats that need calendar dates (FHIR, OMOP CDM) cannot carry the registry's de-identified
study days (:data:`lupuscell.interop._registry_io.DEIDENTIFICATION`) as they are. A
de-identified export of those formats writes each study day ``d`` as the date
:data:`DEIDENTIFIED_DAY0` + ``d`` for every subject (so every subject's day 0 is 2000-01-01:
intervals are exact, calendar time is gone) and the birth year as 2000 minus the age at day 0
(top-coded at 90). Nothing else is added to what the registry's de-identification keeps.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

DEIDENTIFIED_DAY0 = dt.date(2000, 1, 1)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as dicts of plain Python values (missing -> None)."""
    return [
        {str(k): _plain(v) for k, v in row.items()} for row in frame.astype(object).to_dict(orient="records")
    ]


def dated(frames: Mapping[str, pd.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    """De-identified frames in the identified layout, study days written as dates (see above)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, frame in frames.items():
        rows = []
        for row in records(frame):
            new: dict[str, Any] = {}
            for key, value in row.items():
                if key == "subject_id":
                    new["code" if name == "patients" else "patient_code"] = value
                elif key.endswith("_day"):
                    new[key[: -len("_day")] + "_date"] = (
                        None if value is None else DEIDENTIFIED_DAY0 + dt.timedelta(days=int(value))
                    )
                elif key == "age_at_day0":
                    new["birth_year"] = None if value is None else DEIDENTIFIED_DAY0.year - int(value)
                elif key == "cause_category":
                    new["cause"] = value
                else:
                    new[key] = value
            rows.append(new)
        out[name] = rows
    return out


def as_records(frames: Mapping[str, pd.DataFrame], *, identified: bool) -> dict[str, list[dict[str, Any]]]:
    """Identified frames as records, or de-identified frames :func:`dated`."""
    return {name: records(frame) for name, frame in frames.items()} if identified else dated(frames)
