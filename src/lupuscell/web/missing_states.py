"""Explicit missing-value states in the web forms and on the patient page.

The visit and therapy-course forms offer, per minimum-data field (data/minimum_data.yaml,
:mod:`lupuscell.schemas.missing`), *value* / *not done* / *unknown* (partial
``_missing_states.html``, selects named ``missing.<field>``); the patient page shows the
completeness table of :mod:`lupuscell.registry.completeness` (partial ``_completeness.html``),
where a field without a value always reads "not done", "unknown" or "empty - to chase", never
blank. Docs: docs/data_management/missing_values.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell.registry import completeness
from lupuscell.schemas.missing import MISSING_STATES, minimum_data

ENTITIES: tuple[str, ...] = ("visit", "therapy_course")
"""Entities whose forms carry the states (the tables with a ``missing`` column)."""
PREFIX = "missing."
STATE_LABELS: dict[str, str] = {
    "value": "value",
    "not_done": "not done",
    "unknown": "unknown",
    "empty": "empty - to chase",
}


def parse(entity: str, form: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``missing`` mapping of a submitted form (selects ``missing.<field>``), or None when no
    state is chosen. A state name that is not one of the states is passed on, so the schema
    refuses it by name."""
    if entity not in ENTITIES:
        return None
    states = {
        key: str(form.get(PREFIX + key, "")).strip()
        for key in minimum_data().keys(entity)
        if str(form.get(PREFIX + key, "")).strip() not in ("", "value")
    }
    return states or None


def rows(
    entity: str, values: Mapping[str, Any], form: Mapping[str, Any] | None, errors: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One row per minimum-data field of the form: key, label, chosen state, error."""
    if entity not in ENTITIES:
        return []
    stored = values.get("missing") or {}
    therapy = values.get("therapy")
    out = []
    for field in minimum_data().fields(entity):
        if entity == "therapy_course" and therapy and not field.applies_to(therapy):
            continue
        chosen = str(form.get(PREFIX + field.key, "")) if form else stored.get(field.key, "")
        out.append(
            {
                "key": field.key,
                "label": field.label,
                "state": chosen if chosen in MISSING_STATES else "",
                "error": errors.get(field.name) if not field.lab else None,
            }
        )
    return out


def _label(state: str, recorded: str | None) -> str:
    if recorded:
        return f"value, but recorded as {STATE_LABELS[recorded]}: resolve"
    return STATE_LABELS[state]


def patient_table(engine: Engine, code: str) -> dict[str, Any]:
    """The completeness of one patient: per record the counts per state, and every field that
    has no value with its state (labels for display)."""
    states = completeness.completeness(engine, patient_codes=[code]).get(code, [])
    records: dict[str, dict[str, Any]] = {}
    for s in states:
        item = records.setdefault(
            s.record,
            {
                "record": s.record,
                "entity": s.entity,
                "id": s.record_id,
                "date": s.record_date,
                "counts": Counter(),
            },
        )
        item["counts"][s.state] += 1
    detail = [
        {**s.to_dict(), "state_label": _label(s.state, s.recorded_state)}
        for s in states
        if s.state != "value" or s.recorded_state  # a lab value that also has a state: resolve
    ]
    return {"records": list(records.values()), "detail": detail, "labels": STATE_LABELS}
