"""Where a centre's own evidence rows live: one CSV under the user's XDG data directory.

``lupuscell evidence add --row FILE.csv`` validates new rows and appends them to
:func:`local_evidence_path` (``$XDG_DATA_HOME/lupuscell/evidence/local_studies.csv``, i.e.
``~/.local/share/lupuscell/evidence/local_studies.csv`` when ``XDG_DATA_HOME`` is unset); every
evidence command merges that file with the shipped data and marks its rows ``local``.
This module only computes the path and checks new rows; the CLI writes the file.

References
----------
freedesktop.org, XDG Base Directory Specification (version 0.8): ``$XDG_DATA_HOME``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from lupuscell.evidence.studies import (
    COLUMNS,
    LOCAL_SOURCE,
    frame_from_strings,
    load_studies,
    parse_rows,
)

LOCAL_FILE = Path("lupuscell") / "evidence" / "local_studies.csv"


def local_evidence_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/lupuscell/evidence/local_studies.csv`` (default ``~/.local/share``)."""
    environ = os.environ if env is None else env
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / LOCAL_FILE


def check_new_rows(new: pd.DataFrame, source: str, local: Path | None) -> pd.DataFrame:
    """Validate ``new`` (all-string CSV frame) strictly, together with the shipped and local rows.

    Strict: a continuous row needs mean, sd and total, a binary row events and total, every row
    a source (see :mod:`lupuscell.evidence.study_rules`). Duplicates of a shipped or local row
    are rejected. Returns the new rows in :data:`COLUMNS` order, as strings, ready to append.

    Raises
    ------
    lupuscell.errors.ValidationError
        Naming the file, row, study and field of every problem.
    """
    frame = frame_from_strings(new, source)
    existing = load_studies(local=local)
    parse_rows([frame], strict=True)
    parse_rows([_as_strings(existing), frame])
    return frame[list(COLUMNS)]


def _as_strings(df: pd.DataFrame) -> pd.DataFrame:
    """A loaded frame back to the all-string form, so it can be validated with new rows."""
    out = df[list(COLUMNS)].copy()
    for col in out.columns:
        out[col] = [("" if v != v else (f"{v:g}" if isinstance(v, float) else str(v))) for v in out[col]]
    out["source"] = df["source"].to_numpy()
    out["row"] = df["row"].to_numpy()
    return out


def is_local(source: str) -> bool:
    """Whether a row's ``source`` is the local evidence file."""
    return source == LOCAL_SOURCE
