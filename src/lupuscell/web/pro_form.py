"""The RAND-36 tablet form: item wording, answers, parsing of the posted form, scale labels.

The wording of the items is data (``data/rand36_items.yaml``, the RAND 36-Item Health Survey
1.0 as printed by RAND, public domain); the answers of each item are
:data:`lupuscell.instruments.rand36.RESPONSE_SETS` (RAND Table 1), the one copy the scoring
uses, so the form can never offer an answer the scoring does not know. Saving goes through the
repository (entity ``pro_assessment``); a rejected form comes back with each problem beside its
item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from lupuscell.errors import ValidationError
from lupuscell.instruments.rand36 import QUESTIONS, RESPONSE_SETS, SCALES

SCALE_LABELS: dict[str, str] = {
    "physical_functioning": "Physical functioning",
    "role_physical": "Role limitations due to physical health",
    "role_emotional": "Role limitations due to emotional problems",
    "energy_fatigue": "Energy/fatigue",
    "emotional_wellbeing": "Emotional well-being",
    "social_functioning": "Social functioning",
    "pain": "Pain",
    "general_health": "General health",
}
"""The eight scales under RAND's names (scoring instructions, Table 2)."""
assert tuple(SCALE_LABELS) == SCALES
PGA_TEXT = (
    "Considering all the ways your lupus affects you, how are you doing today? "
    "0 = very well, 10 = very poorly."
)
COMPLETED_BY_LABELS = {
    "patient": "the patient",
    "proxy": "a proxy (family member, carer)",
    "staff": "staff (interview)",
}


@lru_cache(maxsize=1)
def survey() -> dict[str, Any]:
    """``data/rand36_items.yaml``: title, credit line and the sections of items."""
    text = resources.files("lupuscell.data").joinpath("rand36_items.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    keys = [key for section in data["sections"] for key in section["items"]]
    if keys != [q.key for q in QUESTIONS]:
        raise ValueError("data/rand36_items.yaml must hold q1..q36 once each, in order")
    return data


def sections() -> list[dict[str, Any]]:
    """Sections of the form: instruction and items (key, number, wording, answers 1..n)."""
    by_key = {q.key: q for q in QUESTIONS}
    out = []
    for section in survey()["sections"]:
        items = []
        for key, text in section["items"].items():
            labels = RESPONSE_SETS[by_key[key].answers].labels
            answers = [(n, label[:1].upper() + label[1:]) for n, label in enumerate(labels, start=1)]
            items.append({"key": key, "number": by_key[key].number, "text": text, "answers": answers})
        out.append({"instruction": section["instruction"], "items": items})
    return out


def _answer(raw: str) -> Any:
    """A posted answer: the number of the answer, or the text as posted (refused by validation)."""
    return int(raw) if raw.isdigit() else raw


def parse(form: Mapping[str, str]) -> dict[str, Any]:
    """The repository input of a posted form (the patient code is added by the route)."""
    responses = {q.key: _answer(form[q.key].strip()) for q in QUESTIONS if form.get(q.key, "").strip()}
    pga = form.get("patient_global_assessment", "").strip()
    visit = form.get("visit_id", "").strip()
    return {
        "assessment_date": form.get("assessment_date", "").strip() or None,
        "visit_id": _answer(visit) if visit else None,
        "completed_by": form.get("completed_by", "patient"),
        "patient_global_assessment_scale": "nrs_0_10",
        "patient_global_assessment": pga or None,
        "responses": responses,
    }


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Problems by form field (``responses.q3`` -> ``q3``), messages joined."""
    out: dict[str, str] = {}
    for problem in exc.problems:
        key = problem.field.removeprefix("responses.") or "(record)"
        message = problem.message.removeprefix("Value error, ")
        out[key] = f"{out[key]}; {message}" if key in out else message
    return out


def score_rows(scores: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The eight scales for display: label, field name, score (None = not scored), items answered."""
    return [
        {"name": s, "label": SCALE_LABELS[s], "score": scores[s], "answered": scores["items_answered"][s]}
        for s in SCALES
    ]


def today() -> dt.date:
    return dt.date.today()
