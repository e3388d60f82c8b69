"""Read one registry patient for the eligibility evaluator (:mod:`lupuscell.protocols`).

The single place where eligibility touches the registry and the clinical derivations of day 0:
it reads the patient's timeline with :func:`lupuscell.registry.views.patient_timeline` (which
places day 0 on the first course's infusion date) and derives the default index date of an
eligibility check. When the day-0 / follow-up derivations move to their own module, only this
file changes.

Default index date (the screening date) of a patient with a therapy course: the first treatment
step of the first course, i.e. the earliest of its mobilisation, harvest, conditioning-start and
infusion dates, because eligibility is assessed before any treatment step. A patient without a
course has no default: the caller passes the screening date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell.registry.views import patient_timeline

COURSE_STEPS = ("mobilisation_date", "harvest_date", "conditioning_start_date", "infusion_date")


def read_patient(engine: Engine, code: str) -> dict[str, Any]:
    """The patient's timeline (patient, day0, courses with drugs, visits, labs, events).

    Raises :class:`lupuscell.errors.NotFoundError` naming the code when it does not exist.
    """
    return patient_timeline(engine, code)


def default_index_date(timeline: dict[str, Any]) -> tuple[dt.date | None, str]:
    """(index date, the rule that produced it) for a timeline from :func:`read_patient`."""
    courses = timeline.get("courses") or []
    if not courses:
        return None, "no therapy course recorded: pass the screening date"
    first = courses[0]
    steps = [(first[name], name) for name in COURSE_STEPS if first.get(name) is not None]
    date, name = min(steps)
    label = name.removesuffix("_date").replace("_", " ")
    return date, f"first treatment step of the first course ({label}, day 0 = {timeline['day0']})"
