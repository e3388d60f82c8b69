"""Browser tests: the app under uvicorn in a subprocess on a free port of 127.0.0.1, driven by
Playwright for Python through Debian's ``/usr/bin/chromium`` (never a downloaded browser).

Without chromium the tests go through the suite's one service rule, the session fixture
``require_service`` of tests/conftest.py: skipped with a visible reason, or failed under
``LUPUSCELL_REQUIRE_ALL_SERVICES=1`` (CI, which installs Debian's chromium from
.ci/debian-packages.txt).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = os.environ.get("LUPUSCELL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "lupuscell-demo"
SECRET = "e2e-secret-" + "y" * 40
TRIAL_PAGES = Path(__file__).parents[1] / "interop" / "data"


@pytest.fixture(scope="session")
def chromium(require_service: Callable[[str, str], NoReturn]) -> str:
    """The path of Debian's chromium, or the service rule (skip, or fail in CI)."""
    if not Path(CHROMIUM).exists():
        require_service("chromium", f"not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    db_url: str
    sites: list[str]


def _seed(db_url: str) -> list[str]:
    from lupuscell.cli.synth_cmd import load_synthetic
    from lupuscell.registry import accounts, migrate
    from lupuscell.registry.session import make_engine
    from lupuscell.web.demo import ensure_demo_users

    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        load_synthetic(engine, 60, 2026, chunk_size=60, actor="e2e")
        ensure_demo_users(engine)
        sites = accounts.site_codes(engine)
    finally:
        engine.dispose()
    return sites


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Server]:
    """The app under uvicorn (1 worker) on a seeded SQLite registry."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'registry.sqlite'}"
    sites = _seed(db_url)
    port = _free_port()
    env = {
        **os.environ,
        "LUPUSCELL_DATABASE_URL": db_url,
        "LUPUSCELL_SECRET_KEY": SECRET,
        "LUPUSCELL_TRIALS_PAGES": str(TRIAL_PAGES),  # the trial finder offline: recorded answers
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "lupuscell.web.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web app did not start") from None
                time.sleep(0.3)
        yield Server(url, db_url, sites)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser(server: Server, chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def login(browser: object, server: Server, username: str) -> object:
    """A new page (1280x800) logged in as ``username``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page
