"""Helpers and the ``web`` fixture of the web tests: a registry on each engine (SQLite and PostgreSQL, through the
shared ``engine`` fixture) with two sites, a few patients per site and one user per role, and
TestClients logged in as those users (cookie session + CSRF token) or holding API tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from lupuscell.registry import accounts
from lupuscell.registry.repository import Registry
from lupuscell.web import Settings, create_app, security

PASSWORD = "correct horse battery"
ACTOR = "test-setup"
USERS = {
    # username: (role, sites)
    "admin": ("admin", ["SA", "SB"]),
    "inv_a": ("investigator", ["SA"]),
    "coord_a": ("coordinator", ["SA"]),
    "mon_a": ("monitor", ["SA"]),
    "stat_a": ("statistician", ["SA"]),
    "coord_b": ("coordinator", ["SB"]),
}
_HASH: dict[str, str] = {}


def password_hash() -> str:
    if "h" not in _HASH:
        _HASH["h"] = security.hash_password(PASSWORD)
    return _HASH["h"]


def seed(engine: Engine) -> dict[str, Any]:
    """Two sites, two patients each (one with a course, visits, a lab and an AE), the users."""
    reg = Registry(engine)
    ids: dict[str, Any] = {}
    for site in ("SA", "SB"):
        reg.create("site", {"code": site, "name": f"Site {site}"}, actor=ACTOR)
        for n in (1, 2):
            code = f"{site}-{n:03d}"
            reg.create(
                "patient",
                {
                    "code": code,
                    "site_code": site,
                    "sex": "F",
                    "birth_year": 1985,
                    "organ_involvement": ["renal"],
                },
                actor=ACTOR,
            )
        code = f"{site}-001"
        course = reg.create(
            "therapy_course",
            {
                "patient_code": code,
                "therapy": "autologous_hsct",
                "infusion_date": "2022-01-10",
                "mobilisation_date": "2021-12-01",
                "harvest_date": "2021-12-10",
                "conditioning_start_date": "2022-01-04",
            },
            actor=ACTOR,
        )
        visit = reg.create(
            "visit",
            {
                "patient_code": code,
                "visit_date": "2022-07-10",
                "arthritis": True,
                "pga": 0.5,
                "prednisone_mg_per_day": 5.0,
                **{d: False for d in ("seizure", "rash", "low_complement")},
            },
            actor=ACTOR,
        )
        lab = reg.create(
            "lab_result",
            {"patient_code": code, "result_date": "2022-07-10", "analyte": "c3", "value": 0.8, "unit": "g/L"},
            actor=ACTOR,
        )
        ae = reg.create(
            "adverse_event",
            {
                "patient_code": code,
                "course_id": course["id"],
                "term": "Febrile neutropenia",
                "category": "infection",
                "grade": 3,
                "grading_system": "CTCAE_v5.0",
                "onset_date": "2022-01-15",
                "serious": True,
                "relatedness": "possible",  # complete: no data-quality query (course_event_relatedness)
            },
            actor=ACTOR,
        )
        ids[site] = {
            "patient": code,
            "course": course["id"],
            "visit": visit["id"],
            "lab": lab["id"],
            "ae": ae["id"],
        }
    for name, (role, sites) in USERS.items():
        accounts.create_user(
            engine, username=name, role=role, sites=sites, password_hash=password_hash(), actor=ACTOR
        )
    return ids


@dataclass
class Web:
    engine: Engine
    ids: dict[str, Any]
    make_app: Callable[..., Any]

    def client(self, base_url: str = "http://testserver", **settings: Any) -> TestClient:
        return TestClient(self.make_app(**settings), base_url=base_url)

    def login(self, username: str, client: TestClient | None = None) -> tuple[TestClient, str]:
        """A client with a session for ``username`` and its CSRF token."""
        client = client or self.client()
        page = client.get("/login")
        token = csrf_of(page.text)
        response = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client, token

    def token(self, username: str) -> dict[str, str]:
        """Authorization header with a fresh API token of ``username``."""
        account = accounts.get_by_username(self.engine, username)
        assert account is not None
        token, digest, prefix = security.new_api_token()
        accounts.create_token(self.engine, account[0].id, "test", digest, prefix)
        return {"Authorization": f"Bearer {token}"}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def web(engine: Engine) -> Iterator[Web]:
    ids = seed(engine)
    url = engine.url.render_as_string(hide_password=False)
    apps: list[Any] = []

    def make_app(**overrides: Any) -> Any:
        settings = Settings(database_url=url, secret_key="test-secret-" + "x" * 40, **overrides)
        apps.append(create_app(settings))
        return apps[-1]

    yield Web(engine, ids, make_app)
    for app in apps:
        app.state.lc.engine.dispose()
