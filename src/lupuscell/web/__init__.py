"""The lupuscell web application: the programme's registry in the browser and a JSON API.

FastAPI serves server-rendered pages (Jinja2 templates, HTMX for the live parts, assets
vendored under ``static/``) and ``/api/v1`` (OpenAPI schema at ``/api/v1/openapi.json``).
Accounts, roles and site memberships live in the registry database (migration 0003); a user
sees only the patients of their sites. Every write goes through
:class:`lupuscell.registry.repository.Registry` (validation, audit, optimistic locking) and
every clinical number through :mod:`lupuscell.outcomes` and :mod:`lupuscell.instruments`.
``/patient-info`` is public (no login, no registry data): the plain-language patient page of
:mod:`lupuscell.reports.patient_page` with the ClinicalTrials.gov trial finder beside it.

Public API
----------
create_app
    Build the application (``lupuscell serve`` runs it under uvicorn).
Settings
    Configuration read from the environment.
ROLES, PERMISSIONS
    The roles and what each may do.

See docs/web/ for the user guide.
"""

from lupuscell.registry.account_models import ROLES
from lupuscell.web.app import create_app
from lupuscell.web.roles import PERMISSIONS
from lupuscell.web.settings import Settings

__all__ = ["PERMISSIONS", "ROLES", "Settings", "create_app"]
