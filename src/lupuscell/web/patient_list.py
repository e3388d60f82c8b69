"""The data of the patient list page: one page of the search and its rows, cached on the
registry's data version.

A page is :func:`lupuscell.registry.scoped.search_patients` (the codes of the visible sites
that match, sorted, and their number) and the rows of those codes,
:func:`lupuscell.registry.views.patient_summaries` (therapies, day 0, visits, end of follow-up,
status: the cohort summary's numbers). Computing the rows reads every dated table of the page's
patients and reduces them with pandas; profiled on a 10,000-patient PostgreSQL registry it was
nine tenths of the page's time (``benchmarks/web_load.py``, docs/web/index.md). Both are cached:

* each patient's row, and each page's codes and total, per (sites, filters, sort, page);
* under a key of :func:`lupuscell.registry.scoped.data_version` (the newest audit row and the
  number of patients: every write through the registry is audited, so any change of the data
  empties the cache, as for the dashboard) and today's date (the follow-up reads leave out
  dates after today, so a row may change at midnight without a write).

Every worker process keeps its own cache; the check costs one small query per page.
``LUPUSCELL_PATIENT_LIST_CACHE=0`` switches it off (every page computed anew, e.g. while data are
changed outside lupuscell, which the data version cannot see; ``benchmarks/web_load.py`` measures
both).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.engine import Engine

from lupuscell.registry import scoped, views


@dataclass(frozen=True)
class ListQuery:
    """What the patient list shows: filters, order and the page (see ``search_patients``)."""

    q: str | None = None
    therapy: str | None = None
    site: str | None = None
    status: str | None = None
    nephritis: bool | None = None
    sort: str = "code"
    descending: bool = False
    offset: int = 0
    limit: int = 25


class PatientListCache:
    """Pages and rows of the patient list for the current data version (thread-safe, bounded)."""

    def __init__(self, max_pages: int = 1024, max_rows: int = 100_000, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.max_pages = max_pages
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._pages: OrderedDict[tuple[Any, ...], scoped.Page] = OrderedDict()
        self._rows: dict[str, dict[str, Any]] = {}

    def _current(self, version: tuple[Any, ...]) -> None:
        if version != self._version:
            self._version, self._pages, self._rows = version, OrderedDict(), {}

    def page(
        self, engine: Engine, sites: Sequence[str], query: ListQuery
    ) -> tuple[int, list[dict[str, Any]]]:
        """(number of matching patients, the page's rows in order)."""
        if not self.enabled:
            plain = scoped.search_patients(engine, sites, **asdict(query))
            computed = views.patient_summaries(engine, codes=plain.items) if plain.items else []
            by_code = {r["code"]: r for r in computed}
            return plain.total, [by_code[code] for code in plain.items if code in by_code]
        version = (*scoped.data_version(engine), dt.date.today(), str(engine.url))
        key = (tuple(sorted(sites)), query)
        with self._lock:
            self._current(version)
            hit = self._pages.get(key)
            if hit is not None:
                self._pages.move_to_end(key)
        found = hit if hit is not None else scoped.search_patients(engine, sites, **asdict(query))
        with self._lock:
            cached = {code: self._rows[code] for code in found.items if code in self._rows}
        missing = [code for code in found.items if code not in cached]
        fresh = {r["code"]: r for r in views.patient_summaries(engine, codes=missing)} if missing else {}
        with self._lock:
            if version == self._version:  # not emptied by a newer version meanwhile
                self._pages[key] = found
                while len(self._pages) > self.max_pages:
                    self._pages.popitem(last=False)
                if len(self._rows) + len(fresh) > self.max_rows:
                    self._rows = {}
                self._rows.update(fresh)
        rows = {**cached, **fresh}
        return found.total, [rows[code] for code in found.items if code in rows]
