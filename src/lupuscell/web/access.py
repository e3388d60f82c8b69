"""Site isolation of writes: a record may only be created in, or moved to, a site the caller
belongs to; a reference to a patient or course of another site reads as unknown (the same
message as a code that does not exist, so nothing leaks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lupuscell.errors import NotFoundError, Problem, ValidationError
from lupuscell.registry import scoped
from lupuscell.web.deps import AppState, Forbidden, Principal


def check_write_scope(app: AppState, who: Principal, entity: str, data: Mapping[str, Any]) -> None:
    """Raise unless every site / patient / course ``data`` refers to is visible to ``who``."""
    label = f"{entity} {data.get('code') or data.get('patient_code') or '(new)'}"
    if entity == "site" and not who.can("manage_users"):
        raise Forbidden("only an admin may create or change sites")
    site = data.get("site_code")
    if entity == "patient" and site is not None and site not in who.sites:
        raise Forbidden(f"you do not belong to site {site}")
    code = data.get("patient_code")
    if code is not None and scoped.patient_site(app.engine, str(code)) not in who.sites:
        raise ValidationError(Problem(label, "patient_code", f"unknown patient {code!r}"))
    course = data.get("course_id")
    if course is not None:
        try:
            scoped.get_record(app.engine, "therapy_course", int(course), who.sites)
        except (NotFoundError, TypeError, ValueError):
            raise ValidationError(Problem(label, "course_id", f"unknown therapy course {course}")) from None
