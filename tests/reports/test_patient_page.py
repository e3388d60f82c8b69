"""The plain-language patient page: every number traced to its curated rows, readable, safe.

The page's numbers are recomputed here from the shipped CSV with plain arithmetic, independent
of lupuscell.evidence.patient_info, from the rows each number names (``data-rows``); numbers in
the source list and the references must be fields of the cited studies' rows.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import textstat

from lupuscell.evidence import studies
from lupuscell.reports.patient_page import render_patient_page

CSV = Path(__file__).resolve().parents[1] / "evidence" / "data" / "curated_v2.csv"
NUMBER = re.compile(r"\d+(?:\.\d+)?")


class _Walker(HTMLParser):
    """Collects every text run with the attributes of its enclosing elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.texts: list[tuple[str, list[dict[str, str]]]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag not in ("meta", "br", "link", "img"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if data.strip() and not any(t in ("style", "title") for t, _ in self.stack):
            self.texts.append((data, [a for _, a in self.stack]))


@pytest.fixture(scope="module")
def page() -> str:
    return render_patient_page(studies.load_studies())


@pytest.fixture(scope="module")
def walked(page) -> _Walker:
    w = _Walker()
    w.feed(page)
    return w


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False)


def _row(rows: pd.DataFrame, key: str) -> pd.Series:
    study, outcome, tp = key.split(":")
    hit = rows[
        (rows["study_id"] == study)
        & (rows["outcome"] == outcome)
        & (rows["timepoint_months"].map(lambda v: f"{float(v):g}" if v else "") == tp)
    ]
    assert len(hit) == 1, key
    return hit.iloc[0]


def _recompute(stat: str, cited: list[pd.Series]) -> int:
    num = lambda col: [float(r[col]) for r in cited]  # noqa: E731
    value = {
        "studies": lambda: len({r["study_id"] for r in cited}),
        "patients": lambda: sum(num("total")),
        "events": lambda: sum(num("events")),
        "per_100": lambda: 100 * sum(num("events")) / sum(num("total")),
        "max_followup_years": lambda: max(num("median_followup_months")) / 12,
        "timepoint_months": lambda: max(num("timepoint_months")),
    }[stat]()
    return math.floor(value + 0.5)


def test_every_number_traces_to_its_rows_or_the_dataset(walked, rows) -> None:
    checked = 0
    for text, attrs in walked.texts:
        numbers = NUMBER.findall(text)
        if not numbers:
            continue
        inner = attrs[-1]
        if "data-rows" in inner:
            cited = [_row(rows, k) for k in inner["data-rows"].split(";")]
            expected = _recompute(inner["data-stat"], cited)
            assert int(numbers[0]) == expected, (text, inner["data-fact"])
            if inner["data-stat"] == "per_100":
                assert text.strip() == f"{expected} in 100"
            else:
                assert text.strip() == str(expected)
        elif inner.get("data-stat") == "version":
            changes = (CSV.parent / "curated_v2_CHANGES.md").read_text(encoding="utf-8")
            assert f"## Version {text.strip()}" in changes
        elif inner.get("data-stat") == "newest_year":
            assert int(text) == max(int(y) for y in rows["year"])
        else:
            study = next((a["data-study"] for a in reversed(attrs) if "data-study" in a), None)
            assert study is not None, f"number without a source: {text!r}"
            fields = rows[rows["study_id"] == study].iloc[0]
            allowed = " ".join(str(fields[c]) for c in ("study_id", "year", "pmid", "doi", "journal", "design"))
            for n in numbers:
                assert n in allowed, (text, study)
        checked += len(numbers)
    assert checked > 60


def test_every_cited_study_is_in_the_reference_list(walked, page) -> None:
    ids = {
        a["data-study"]
        for t, a in walked.tags
        if t == "a" and "data-study" in a and a.get("href", "").startswith("#ref-")
    }
    refs = {a["id"][4:] for t, a in walked.tags if t == "li" and a.get("id", "").startswith("ref-")}
    assert ids == refs and len(refs) > 20
    facts = {a["data-fact"] for t, a in walked.tags if t == "a" and "data-fact" in a}
    for key in facts:
        assert f'id="fact-{key}"' in page


def test_a_reference_without_an_author_does_not_print_the_study_id_as_one(page) -> None:
    item = re.search(r'<li id="ref-ytb323_lsm2024"[^>]*>(.*?)</li>', page, re.S)
    assert item is not None
    text = re.sub(r"<[^>]+>", " ", item.group(1))
    assert "ytb323_lsm2024" not in text and "no author recorded; trial NCT05798117" in text


def test_seven_questions_not_advice_and_evidence_date(walked, page) -> None:
    headings = [
        text
        for text, attrs in walked.texts
        if any(
            "id" in a and a["id"] in ("cells", "how", "benefits", "risks", "cure", "recovery", "trials")
            for a in attrs
        )
    ]
    assert len([t for t in headings if t.strip().endswith("?")]) == 7
    assert "This page is not medical advice." in page
    assert 'id="evidence-date"' in page and "studies published up to" in page


def test_page_is_self_contained(walked, page) -> None:
    assert "<script" not in page
    for tag, attrs in walked.tags:
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert not (tag == "img" and not attrs.get("src", "").startswith("data:"))


def test_reading_ease_is_at_least_50(walked) -> None:
    answers = " ".join(
        text
        for text, attrs in walked.texts
        if any(
            a.get("id") in ("cells", "how", "benefits", "risks", "cure", "recovery", "trials") for a in attrs
        )
    )
    assert len(answers.split()) > 500
    assert textstat.flesch_reading_ease(answers) >= 50


def test_numbers_follow_the_data(tmp_path) -> None:
    """A new local HSCT remission row changes the page's HSCT remission numbers."""
    local = tmp_path / "local.csv"
    local.write_text(
        "study_id,year,therapy,outcome,events,total,source_note\nmine2026,2026,hsct,remission,10,10,our registry\n",
        encoding="utf-8",
    )
    html = render_patient_page(studies.load_studies(local=local))
    assert re.search(r'data-fact="hsct_remission_patients"[^>]*>119<', html)
    assert re.search(r'data-stat="newest_year">2026<', html)
    assert 'id="ref-mine2026"' in html
