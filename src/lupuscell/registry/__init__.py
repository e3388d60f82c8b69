"""The registry: the only package that speaks SQL to the programme's database.

Public API (imported on first use, so ``import lupuscell.registry`` stays cheap):

* :class:`Registry` (:mod:`.repository`) - validated, audited create / read / update / delete
  of one record; the API the command line and the web app build on;
* :func:`load_tables` (:mod:`.bulk`) - the fast bulk loader (synthetic cohorts, imports);
* :func:`import_directory`, :func:`export_directory` (:mod:`.exchange`, :mod:`.export`) -
  one CSV or Parquet file per table, all-or-nothing import, de-identified export;
* :func:`upgrade`, :func:`current_revision`, :func:`schema_differences` (:mod:`.migrate`) -
  Alembic migrations driven from code;
* :func:`make_engine`, :func:`transaction` (:mod:`.session`) - engines and write transactions.

The rules every write path shares live in :mod:`lupuscell.schemas` (record and cross-field
rules) and :mod:`.plausibility` (dates, lab ranges, records after death); :mod:`.audit` writes
the audit trail. Users' guide: docs/registry/.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Registry": "repository",
    "load_tables": "bulk",
    "import_directory": "exchange",
    "export_directory": "export",
    "upgrade": "migrate",
    "current_revision": "migrate",
    "schema_differences": "migrate",
    "make_engine": "session",
    "transaction": "session",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
