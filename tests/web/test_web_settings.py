"""Settings read from the environment reach the app: handler threads, the list cache, saved
trial pages, and the autocommit view used for reads on PostgreSQL only."""

from __future__ import annotations

import anyio.to_thread
from fastapi.testclient import TestClient
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.web import Settings


def test_environment_values(monkeypatch) -> None:
    monkeypatch.setenv("LUPUSCELL_WEB_THREADS", "3")
    monkeypatch.setenv("LUPUSCELL_PATIENT_LIST_CACHE", "0")
    monkeypatch.setenv("LUPUSCELL_TRIALS_PAGES", "/srv/ctgov")
    s = Settings(database_url="sqlite://", secret_key="k" * 40)
    assert (s.threads, s.patient_list_cache, s.trials_pages) == (3, False, "/srv/ctgov")
    monkeypatch.delenv("LUPUSCELL_WEB_THREADS")
    monkeypatch.delenv("LUPUSCELL_PATIENT_LIST_CACHE")
    monkeypatch.delenv("LUPUSCELL_TRIALS_PAGES")
    s = Settings(database_url="sqlite://", secret_key="k" * 40)
    assert (s.threads, s.patient_list_cache, s.trials_pages) == (8, True, None)


def test_the_app_sizes_its_thread_pool_and_uses_its_settings(web: Web) -> None:
    app = web.make_app(threads=5, patient_list_cache=False)
    with TestClient(app) as client:  # the lifespan runs
        limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)  # type: ignore[union-attr]
        assert limiter.total_tokens == 5
        assert client.get("/api/v1/health").status_code == 200
    state = app.state.lc
    assert not state.patient_list.enabled
    assert state.engine.pool.size() == 7  # a pooled connection per handler thread, and two spare
    autocommit = state.reader.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    assert autocommit == (web.engine.dialect.name == "postgresql")
