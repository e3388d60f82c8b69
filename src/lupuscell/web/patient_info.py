"""The public patient information page: :func:`lupuscell.reports.patient_page.render_patient_page`
inside the web app's public layout.

The page is the one ``lupuscell evidence patient-info`` writes, built from the curated evidence
and the local rows of the server's user (``lupuscell evidence add``; the file
:func:`lupuscell.evidence.local.local_evidence_path`), with the same text, numbers, links and
citations. Two things change to serve it inside the app: its ``<style>`` element is dropped
(the app's Content-Security-Policy allows no inline style; ``static/app.css`` styles the page
under ``.patient-info``), and its ``<main>`` and ``<footer>`` become plain blocks, since the
layout has its own landmarks (the trial finder sits beside it); its list of questions gets a
navigation label. lxml does the rewriting on the
parsed tree, not on the text.

The page is built once and rebuilt when the local evidence file changes (its modification time
and size are the cache key), so a new local row shows on the next request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from markupsafe import Markup

from lupuscell.errors import LupuscellError
from lupuscell.evidence.local import local_evidence_path

log = logging.getLogger(__name__)

RETAG = {"main": "div", "footer": "p"}


@dataclass(frozen=True)
class PatientInfo:
    """The page's title and body (HTML, trusted: built by lupuscell from the curated rows)."""

    title: str
    body: Markup
    local_rows: bool


def body_of(html: str) -> tuple[str, str]:
    """(title, inner HTML of ``<body>``) of a rendered patient page, ready for the layout."""
    tree = lxml.html.document_fromstring(html)
    title = (tree.findtext(".//title") or "").strip()
    body = tree.body
    for element in list(body.iter("main", "footer")):
        element.set("class", f"pi-{element.tag}")
        element.tag = RETAG[element.tag]
    for element in list(body.iter("style", "script")):
        element.drop_tree()
    for element in body.iter("nav"):
        element.set("aria-label", "Questions on this page")
    inner = (body.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in body.iterchildren()
    )
    return title, inner


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size


class PatientInfoCache:
    """The built page, rebuilt when the local evidence file changes (thread-safe)."""

    def __init__(self, local: Path | None = None) -> None:
        self._local = local
        self._lock = threading.Lock()
        self._built: tuple[object, PatientInfo] | None = None

    def get(self) -> PatientInfo:
        local = self._local or local_evidence_path()
        key = _key(local)
        with self._lock:
            if self._built is None or self._built[0] != key:
                self._built = (key, build(local))
            return self._built[1]


def build(local: Path | None) -> PatientInfo:
    """Render the page from the curated rows plus ``local`` (when it exists).

    A local file that does not validate is left out (with a logged warning naming its
    problems) rather than taking the public page down; ``lupuscell evidence studies`` shows
    the same problems to the person who can fix the file.
    """
    from lupuscell.evidence import studies
    from lupuscell.reports.patient_page import render_patient_page

    try:
        rows = studies.load_studies(local=local)
    except LupuscellError as exc:
        log.warning("patient information page: local evidence file %s left out: %s", local, exc)
        rows = studies.load_studies()
    title, inner = body_of(render_patient_page(rows))
    return PatientInfo(title, Markup(inner), bool(rows["local"].any()))
