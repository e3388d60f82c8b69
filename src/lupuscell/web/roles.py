"""What each role may do: one table of permissions (data, not branches in the routes).

* ``admin`` manages users and sites and may do everything an investigator does;
* ``investigator`` reads, enters, corrects and deletes data, builds reports and exports;
* ``coordinator`` (data entry) reads, enters and corrects data (a reason for every change);
* ``monitor`` reads everything of their sites and the audit trail, edits nothing;
* ``statistician`` sees no patient-level pages or records, only aggregate pages, reports and
  de-identified datasets.

Every role sees only the patients of the sites the user belongs to.

Data management (:data:`DATA_MANAGEMENT`, merged into :data:`PERMISSIONS`): a monitor (or an
admin) raises queries and sets the source-data verification status; a coordinator or an
investigator answers queries; an investigator (or an admin) signs; only an admin unlocks. The
raiser of a query or an admin closes and re-opens it (checked per query, not per role).
"""

from __future__ import annotations

from typing import Literal

from lupuscell.registry.account_models import ROLES

Permission = Literal[
    "read",
    "write",
    "delete",
    "audit",
    "report",
    "export",
    "manage_users",
    "query_raise",
    "query_answer",
    "sdv",
    "sign",
    "unlock",
]

DATA_MANAGEMENT: dict[str, frozenset[str]] = {
    "admin": frozenset({"query_raise", "query_answer", "sdv", "sign", "unlock"}),
    "investigator": frozenset({"query_answer", "sign"}),
    "coordinator": frozenset({"query_answer"}),
    "monitor": frozenset({"query_raise", "sdv"}),
    "statistician": frozenset(),
}
"""The data-management permissions of each role (queries, source-data verification, signing,
unlocking): OpenClinica's and REDCap's division of work between monitor, site staff and
investigator, and 21 CFR Part 11 §11.10(g) (authority checks: only authorised individuals sign
or alter a record)."""

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "delete", "audit", "report", "export", "manage_users"}),
    "investigator": frozenset({"read", "write", "delete", "audit", "report", "export"}),
    "coordinator": frozenset({"read", "write", "audit"}),
    "monitor": frozenset({"read", "audit", "report"}),
    "statistician": frozenset({"report", "export"}),
}
assert set(PERMISSIONS) == set(ROLES) == set(DATA_MANAGEMENT), "every role needs a row of permissions"
PERMISSIONS = {role: base | DATA_MANAGEMENT[role] for role, base in PERMISSIONS.items()}

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
