"""The patient list's cache: the same pages as without it, and a write shows at once."""

from __future__ import annotations

import datetime as dt

from web_helpers import ACTOR, Web  # type: ignore[import-not-found]

from lupuscell.registry import scoped, views
from lupuscell.registry.repository import Registry
from lupuscell.web.patient_list import ListQuery, PatientListCache

QUERIES = [
    ListQuery(),
    ListQuery(sort="day0", descending=True),
    ListQuery(q="sa", limit=1, offset=1),
    ListQuery(therapy="autologous_hsct"),
    ListQuery(status="dead"),
    ListQuery(nephritis=True, sort="status"),
]


def _plain(web: Web, sites: list[str], query: ListQuery) -> tuple[int, list[dict]]:
    found = scoped.search_patients(web.engine, sites, **query.__dict__)
    rows = (
        {r["code"]: r for r in views.patient_summaries(web.engine, codes=found.items)} if found.items else {}
    )
    return found.total, [rows[c] for c in found.items]


def test_cached_pages_equal_the_plain_reads(web: Web) -> None:
    cache = PatientListCache()
    for sites in (["SA"], ["SA", "SB"]):
        for query in QUERIES:
            first = cache.page(web.engine, sites, query)
            assert first == _plain(web, sites, query) == cache.page(web.engine, sites, query), query
    assert PatientListCache(enabled=False).page(web.engine, ["SA", "SB"], QUERIES[1]) == _plain(
        web, ["SA", "SB"], QUERIES[1]
    )


def test_a_write_is_seen_on_the_next_page(web: Web) -> None:
    cache = PatientListCache()
    total, rows = cache.page(web.engine, ["SA"], ListQuery())
    assert total == 2 and [r["status"] for r in rows] == ["alive", "alive"]
    Registry(web.engine).create(
        "clinical_event",
        {"patient_code": "SA-001", "event_type": "death", "event_date": "2023-02-01", "cause": "infection"},
        actor=ACTOR,
    )
    total, rows = cache.page(web.engine, ["SA"], ListQuery())
    assert [r["status"] for r in rows] == ["dead", "alive"] and rows[0]["last_date"] == dt.date(2023, 2, 1)
    assert cache.page(web.engine, ["SA"], ListQuery(status="dead"))[0] == 1
    Registry(web.engine).create(
        "patient", {"code": "SA-003", "site_code": "SA", "sex": "M", "birth_year": 1990}, actor=ACTOR
    )
    assert cache.page(web.engine, ["SA"], ListQuery())[0] == 3


def test_the_page_shows_a_write_at_once(web: Web) -> None:
    client, _ = web.login("coord_a")
    assert "2 patient(s)" in client.get("/patients").text
    Registry(web.engine).create(
        "patient", {"code": "SA-009", "site_code": "SA", "sex": "F", "birth_year": 1991}, actor=ACTOR
    )
    page = client.get("/patients").text
    assert "3 patient(s)" in page and "SA-009" in page


def test_the_cache_stays_bounded(web: Web) -> None:
    cache = PatientListCache(max_pages=2, max_rows=3)
    for query in QUERIES:
        assert cache.page(web.engine, ["SA", "SB"], query) == _plain(web, ["SA", "SB"], query)
    assert len(cache._pages) <= 2 and len(cache._rows) <= 4
