"""Where the web app's trial finder gets its trials, and the finder's two views.

:class:`TrialSource` asks ClinicalTrials.gov (API v2, :class:`lupuscell.interop.ctgov.ClinicalTrialsClient`)
for the recruiting and not-yet-recruiting cell-therapy trials in SLE, or reads saved API pages
(``LUPUSCELL_TRIALS_PAGES``: a folder of ``ctgov_page*.json`` as ``lupuscell trials find
--save-raw DIR`` writes them) on a server without internet access. One search serves every
visitor for an hour; a failed search is remembered for a minute, so the public page cannot make
the server hammer ClinicalTrials.gov or wait on it for every visitor. Failures of any kind
(offline, an HTTP error, an answer the parser cannot read) become
:class:`~lupuscell.interop.ctgov.TrialsUnavailableError` with a plain sentence; the pages say
it as it is, never with a 500.

* :func:`public_rows`: the public list (no patient data), filtered by therapy and place.
* :func:`patient_rows`: the trials screened against one registry patient (age, sex and the
  eligibility items a pattern can read; :func:`lupuscell.interop.ctgov.screen_patient`), with
  what could not be checked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lupuscell.errors import LupuscellError
from lupuscell.interop.ctgov import (
    ClinicalTrialsClient,
    Trial,
    TrialsUnavailableError,
    parse_studies,
    screen_patient,
)
from lupuscell.protocols.record import PatientRecord

THERAPY_NAMES = {"hsct": "stem cell transplant (HSCT)", "msc": "MSC", "car_t": "CAR-T"}
STATUS_NAMES = {"RECRUITING": "recruiting", "NOT_YET_RECRUITING": "not yet recruiting"}
SEX_NAMES = {"ALL": "women and men", "FEMALE": "women only", "MALE": "men only"}
VERDICT_TEXT = {"met": "met", "not_met": "not met", "unknown": "unknown"}
VERDICT_TONE = {"met": "good", "not_met": "bad", "unknown": "unknown"}


@dataclass(frozen=True)
class TrialList:
    """The trials found, where from, and when (the search, or the saved answers' file date)."""

    trials: tuple[Trial, ...]
    origin: str
    fetched_at: dt.datetime


@dataclass
class TrialSource:
    """Live ClinicalTrials.gov (``transport`` lets tests replay recorded answers) or saved pages."""

    saved_pages: Path | None = None
    transport: Any = None
    base_url: str | None = None
    timeout: float = 10.0
    max_pages: int = 4
    ttl_seconds: float = 3600.0
    failure_ttl_seconds: float = 60.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last: tuple[float, TrialList | TrialsUnavailableError] | None = field(default=None, repr=False)

    def trials(self) -> TrialList:
        """The current list (cached), or TrialsUnavailableError saying why there is none."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None:
                at, value = self._last
                ttl = self.failure_ttl_seconds if isinstance(value, Exception) else self.ttl_seconds
                if now - at < ttl:
                    return _raise_or_return(value)
            value = self._fetch()
            self._last = (time.monotonic(), value)
            return _raise_or_return(value)

    def _fetch(self) -> TrialList | TrialsUnavailableError:
        try:
            pages, origin, when = self._pages()
            trials = tuple(parse_studies(pages))
        except TrialsUnavailableError as exc:
            return exc
        except (LupuscellError, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
            return TrialsUnavailableError(f"the trial list could not be read ({type(exc).__name__}: {exc})")
        return TrialList(trials, origin, when)

    def _pages(self) -> tuple[list[dict[str, Any]], str, dt.datetime]:
        if self.saved_pages is not None:
            files = sorted(self.saved_pages.glob("ctgov_page*.json"))
            if not files:
                raise TrialsUnavailableError(
                    "no saved ClinicalTrials.gov pages (ctgov_page*.json) in the folder the server was given"
                )
            pages = [json.loads(f.read_text(encoding="utf-8")) for f in files]
            saved = dt.datetime.fromtimestamp(max(f.stat().st_mtime for f in files), dt.UTC)
            return pages, "saved ClinicalTrials.gov answers, not a live search", saved
        import httpx

        client = ClinicalTrialsClient(base_url=self.base_url, transport=self.transport, timeout=self.timeout)
        try:
            pages = list(client.pages(max_pages=self.max_pages))
        except httpx.HTTPError as exc:  # e.g. a read timeout (TransportError is handled by the client)
            raise TrialsUnavailableError(f"cannot reach ClinicalTrials.gov ({type(exc).__name__})") from None
        finally:
            client.close()
        return pages, "a live search of ClinicalTrials.gov", dt.datetime.now(dt.UTC)


def _raise_or_return(value: TrialList | TrialsUnavailableError) -> TrialList:
    if isinstance(value, TrialsUnavailableError):
        raise value
    return value


def _limits(trial: Trial) -> str:
    low, high = trial.minimum_age, trial.maximum_age
    ages = f"aged {low or '0 years'} to {high}" if high else f"aged {low} and older" if low else "any age"
    return f"{SEX_NAMES.get(trial.sex, trial.sex.lower())}, {ages.lower()}"


def _public(trial: Trial) -> dict[str, Any]:
    places = list(trial.locations)
    return {
        "nct_id": trial.nct_id,
        "title": trial.title,
        "url": trial.url,
        "status": STATUS_NAMES.get(trial.status, trial.status.lower()),
        "therapies": [THERAPY_NAMES.get(t, t) for t in trial.therapies],
        "who": _limits(trial),
        "places": places[:3],
        "more_places": max(0, len(places) - 3),
    }


def public_rows(found: TrialList, therapy: str = "", place: str = "") -> list[dict[str, Any]]:
    """The trials for the public page: therapy (``hsct``/``msc``/``car_t``, empty = all) and a
    place (part of a facility, city or country name; empty = anywhere)."""
    needle = place.strip().lower()
    return [
        _public(t)
        for t in found.trials
        if (not therapy or therapy in t.therapies)
        and (not needle or any(needle in loc.lower() for loc in t.locations))
    ]


def patient_rows(record: PatientRecord, trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """Each trial screened against the patient (in NCT order, as ``lupuscell trials find``):
    overall verdict, checks, and what was not checked.

    A trial whose record cannot be screened (e.g. an age limit the finder cannot read) is listed
    with the reason instead of hiding the others.
    """
    out = []
    for trial in trials:
        row = _public(trial)
        try:
            match = screen_patient(record, trial)
        except LupuscellError as exc:
            row |= {"verdict": "unknown", "tone": "unknown", "checks": [], "not_checked": [str(exc)]}
            out.append(row)
            continue
        label = match.verdict.label
        row |= {
            "verdict": VERDICT_TEXT[label],
            "tone": VERDICT_TONE[label],
            "checks": [
                {
                    "item": c.item,
                    "verdict": VERDICT_TEXT[c.verdict.label],
                    "tone": VERDICT_TONE[c.verdict.label],
                    "reason": c.reason,
                }
                for c in match.checks
            ],
            "not_checked": list(match.not_checked),
        }
        out.append(row)
    return out
