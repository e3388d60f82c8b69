"""SIGKILL the web application while a coordinator saves visit forms; the database stays consistent.

Each trial starts the app under uvicorn in its own process group on a fresh registry (SQLite file
or PostgreSQL schema), logs in as a coordinator over HTTP and saves visit forms, each with two
lab rows, as fast as the server answers; after a random delay the whole process group is killed
with SIGKILL. Afterwards, on both engines:

* no half save: every visit the web saved has both labs of its form (the visit and its labs are
  written in one transaction, :meth:`lupuscell.registry.repository.Registry.create_together`);
* the audit matches the data: one ``create`` audit row per visit and per lab, the hash chain
  verifies and SQLite's integrity check passes.

Bounded: :data:`TRIALS` kills per engine, each within :data:`MAX_DELAY` seconds of saving.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from registry_sample import assert_intact  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.registry import accounts, migrate, models
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine
from lupuscell.web import security

TRIALS = 4
MAX_DELAY = 1.5
PATIENT = "KW-001"
USER, PASSWORD = "coord_kill", "kill test password"
LABS = ({"analyte": "c3", "value": "0.8", "unit": "g/L"}, {"analyte": "c4", "value": "0.2", "unit": "g/L"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def registry_engine(fresh_db_url: str) -> Iterator[Engine]:
    """A fresh registry with a site, one patient and a coordinator of that site."""
    engine = make_engine(fresh_db_url)
    migrate.upgrade(engine)
    reg = Registry(engine)
    reg.create("site", {"code": "KW", "name": "Kill site"}, actor="kill.test")
    reg.create(
        "patient", {"code": PATIENT, "site_code": "KW", "sex": "F", "birth_year": 1985}, actor="kill.test"
    )
    accounts.create_user(
        engine,
        username=USER,
        role="coordinator",
        sites=["KW"],
        password_hash=security.hash_password(PASSWORD),
        actor="kill.test",
    )
    yield engine
    engine.dispose()


def _start(db_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "LUPUSCELL_DATABASE_URL": db_url, "LUPUSCELL_SECRET_KEY": "kill-test-" + "k" * 40}
    command = [sys.executable, "-m", "uvicorn", "lupuscell.web.asgi:app", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"], env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=2)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start") from None
            time.sleep(0.2)


def _login(client: httpx.Client) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF field on the login page"
    response = client.post(
        "/login", data={"username": USER, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    return token.group(1)


def _visit_form(token: str, day: dt.date) -> dict[str, str]:
    form = {"csrf_token": token, "patient_code": PATIENT, "visit_date": day.isoformat(), "pga": "0.4"}
    for i, lab in enumerate(LABS):
        form.update({f"lab{i}.{key}": value for key, value in lab.items()})
    return form


def _save_until_killed(
    url: str, first_day: dt.date, saved: list[dt.date | str], started: threading.Event
) -> None:
    """Save visit forms one after the other until the server is gone."""
    with httpx.Client(base_url=url, timeout=10) as client:
        token = _login(client)
        day = first_day
        while True:
            try:
                response = client.post("/records/visit/new", data=_visit_form(token, day))
            except httpx.HTTPError:
                return
            if response.status_code != 303:
                saved.append(f"{day}: {response.status_code} {response.text[:300]}")
                return
            saved.append(day)
            started.set()
            day += dt.timedelta(days=1)


def _assert_no_half_save(engine: Engine) -> int:
    """Every visit has both labs of its form; one create audit row per row; returns visits."""
    tables = models.Base.metadata.tables
    visits, labs, audit = tables["visits"], tables["lab_results"], tables["audit_log"]
    with engine.connect() as conn:
        visit_days = set(conn.execute(sa.select(visits.c.visit_date)).scalars())
        lab_days = conn.execute(
            sa.select(labs.c.result_date, sa.func.count()).group_by(labs.c.result_date)
        ).all()
        assert dict(lab_days) == dict.fromkeys(visit_days, len(LABS))
        for table in (visits, labs):
            rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            created = conn.execute(
                sa.select(sa.func.count()).where(audit.c.entity == table.name, audit.c.action == "create")
            ).scalar_one()
            assert created == rows, table.name
    assert_intact(engine)
    return len(visit_days)


def test_killing_the_web_app_during_saves_never_leaves_half_a_visit(
    registry_engine: Engine, fresh_db_url: str
) -> None:
    rng = random.Random(16)
    first_day, total = dt.date(2022, 2, 1), 0
    for _ in range(TRIALS):
        proc, url = _start(fresh_db_url)
        saved: list[dt.date | str] = []
        started = threading.Event()
        poster = threading.Thread(
            target=_save_until_killed, args=(url, first_day, saved, started), daemon=True
        )
        poster.start()
        try:
            assert started.wait(timeout=60), "no visit was saved before the kill"
            time.sleep(rng.uniform(0.0, MAX_DELAY))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        poster.join(timeout=30)
        assert not [s for s in saved if isinstance(s, str)], "a save was refused before the kill"
        total = _assert_no_half_save(registry_engine)
        first_day += dt.timedelta(days=400)  # the next trial's dates follow, whatever was saved
    assert total >= TRIALS  # every trial saved something before its kill
