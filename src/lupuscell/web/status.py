"""A patient's current status as the timeline page states it: deceased, remission (DORIS),
LLDAS, flare, each with the endpoint definition that produced it (the same wording as the
report, :func:`lupuscell.reports.pipeline.definitions_text`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lupuscell.reports.pipeline import definitions_text
from lupuscell.web.clinical import PatientOutcome


def current_status(timeline: Mapping[str, Any], outcome: PatientOutcome) -> list[dict[str, Any]]:
    """Statements (label, value, tone, definition) about the patient now."""
    defs = definitions_text(outcome.options)
    out: list[dict[str, Any]] = []
    death = next((e for e in timeline["clinical_events"] if e["event_type"] == "death"), None)
    if death is not None:
        out.append(
            {
                "label": "Deceased",
                "value": f"{death['event_date']} (day {death['study_day']})",
                "tone": "bad",
                "definition": defs["Overall survival"],
            }
        )
    scored = [outcome.visit_scores[d] for d in sorted(outcome.visit_scores)]
    latest = next((v for v in reversed(scored) if v.get("sledai_2k") is not None), None)
    if latest is not None:
        for key, label, name in (
            ("doris_remission", "DORIS remission", "DORIS remission"),
            ("lldas", "LLDAS", "LLDAS"),
        ):
            value = latest.get(key)
            text = "not evaluable" if value is None else ("yes" if value else "no")
            out.append(
                {
                    "label": f"{label} at the last scored visit (day {latest['day']})",
                    "value": text,
                    "tone": "good" if value else "",
                    "definition": defs[name],
                }
            )
    endpoints = outcome.endpoints or {}
    for key, label, name in (
        ("first_remission_day", "First DORIS remission", "DORIS remission"),
        ("sustained_remission_day", "Sustained remission from", "DORIS remission"),
        ("flare_day", "Flare / relapse", "Flare / relapse"),
    ):
        day = endpoints.get(key)
        out.append(
            {
                "label": label,
                "value": "none" if day is None else f"day {day}",
                "tone": "bad" if key == "flare_day" and day is not None else "",
                "definition": defs[name],
            }
        )
    return out
