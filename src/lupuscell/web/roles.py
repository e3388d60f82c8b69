"""What each role may do: one table of permissions (data, not branches in the routes).

* ``admin`` manages users and sites and may do everything an investigator does;
* ``investigator`` reads, enters, corrects and deletes data, builds reports and exports;
* ``coordinator`` (data entry) reads, enters and corrects data (a reason for every change);
* ``monitor`` reads everything of their sites and the audit trail, edits nothing;
* ``statistician`` sees no patient-level pages or records, only aggregate pages, reports and
  de-identified datasets.

Every role sees only the patients of the sites the user belongs to.
"""

from __future__ import annotations

from typing import Literal

from lupuscell.registry.account_models import ROLES

Permission = Literal["read", "write", "delete", "audit", "report", "export", "manage_users"]

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "delete", "audit", "report", "export", "manage_users"}),
    "investigator": frozenset({"read", "write", "delete", "audit", "report", "export"}),
    "coordinator": frozenset({"read", "write", "audit"}),
    "monitor": frozenset({"read", "audit", "report"}),
    "statistician": frozenset({"report", "export"}),
}
assert set(PERMISSIONS) == set(ROLES), "every role needs a row of permissions"

ROLE_DESCRIPTIONS: dict[str, str] = {
    "admin": "manages users and sites; all investigator rights",
    "investigator": "reads, enters, corrects and deletes data; reports and exports",
    "coordinator": "data entry: reads, enters and corrects data",
    "monitor": "reads data and the audit trail; no edits",
    "statistician": "aggregate pages, reports and de-identified exports only",
}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission``."""
    return permission in PERMISSIONS.get(role, frozenset())
