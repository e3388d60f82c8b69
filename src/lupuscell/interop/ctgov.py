"""Trial finder: recruiting cell-therapy trials in SLE from the ClinicalTrials.gov API v2, and a
registry patient screened against each trial's limits.

:class:`ClinicalTrialsClient` queries ``GET /api/v2/studies`` (httpx) for studies of systemic
lupus erythematosus whose interventions mention CAR-T, mesenchymal stromal/stem cells or
haematopoietic stem cell transplantation, with overall status ``RECRUITING`` or
``NOT_YET_RECRUITING``, following ``nextPageToken``. :func:`parse_studies` turns the JSON into
:class:`Trial` records and keeps the cell-therapy ones; :func:`screen_patient` checks a
:class:`~lupuscell.protocols.record.PatientRecord` against each trial:

* the structured age limits (``minimumAge``/``maximumAge``, e.g. ``"18 Years"``) and sex;
* the eligibility-text items that match a pattern of ``data/ctgov_patterns.yaml`` (SLEDAI-2K,
  eGFR, LVEF thresholds, "at least two immunosuppressants"), evaluated with the protocol
  evaluator (:mod:`lupuscell.protocols.evaluate`);
* every other bullet of the eligibility text is listed as *not checked*, plainly.

No network in tests: the client takes an ``httpx`` transport, and the tests replay JSON shipped
under ``tests/interop/data``. Offline, :class:`TrialsUnavailableError` says so.

References
----------
ClinicalTrials.gov API v2 (OpenAPI 3): https://clinicaltrials.gov/data-api/api ;
study data structure: https://clinicaltrials.gov/data-api/about-api/study-data-structure
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from lupuscell.errors import LupuscellError
from lupuscell.protocols.catalog import load_bundle
from lupuscell.protocols.evaluate import CriterionResult, evaluate
from lupuscell.protocols.logic import Verdict
from lupuscell.protocols.record import PatientRecord
from lupuscell.protocols.schema import parse_protocol

BASE_URL = "https://clinicaltrials.gov/api/v2"
CONDITION = "systemic lupus erythematosus"
INTERVENTIONS = (
    '"CAR-T" OR "chimeric antigen receptor" OR "mesenchymal" OR "stem cell transplantation" '
    'OR "hematopoietic stem cell" OR "haematopoietic stem cell"'
)
STATUSES = ("RECRUITING", "NOT_YET_RECRUITING")
THERAPY_WORDS = {
    "car_t": ("car-t", "car t", "chimeric antigen receptor", "car-nk"),
    "msc": ("mesenchymal", "msc"),
    "hsct": ("stem cell transplant", "hematopoietic stem cell", "haematopoietic stem cell", "hsct"),
}
_UNITS_IN_YEARS = {
    "year": 1.0,
    "years": 1.0,
    "month": 1 / 12,
    "months": 1 / 12,
    "week": 7 / 365.25,
    "weeks": 7 / 365.25,
    "day": 1 / 365.25,
    "days": 1 / 365.25,
}


class TrialsUnavailableError(LupuscellError):
    """ClinicalTrials.gov could not be reached or answered with an error."""


@dataclass(frozen=True)
class Trial:
    """The parts of a ClinicalTrials.gov study the finder uses."""

    nct_id: str
    title: str
    status: str
    therapies: tuple[str, ...]
    conditions: tuple[str, ...]
    interventions: tuple[str, ...]
    sex: str
    minimum_age: str | None
    maximum_age: str | None
    eligibility_text: str
    locations: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"


@dataclass(frozen=True)
class TrialCheck:
    """One checked item: a structured limit or a matched eligibility-text item."""

    item: str
    verdict: Verdict
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "verdict": self.verdict.label, "reason": self.reason}


@dataclass(frozen=True)
class TrialMatch:
    """A trial and a patient: what was checked, what could not be."""

    trial: Trial
    checks: tuple[TrialCheck, ...]
    not_checked: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        """Worst checked verdict; never "met" while some eligibility item could not be checked."""
        worst = Verdict(min((c.verdict for c in self.checks), default=Verdict.UNKNOWN))
        return Verdict.UNKNOWN if worst is Verdict.MET and self.not_checked else worst

    def to_dict(self) -> dict[str, Any]:
        t = self.trial
        return {
            "nct_id": t.nct_id,
            "title": t.title,
            "status": t.status,
            "therapies": list(t.therapies),
            "url": t.url,
            "verdict": self.verdict.label,
            "checks": [c.to_dict() for c in self.checks],
            "not_checked": list(self.not_checked),
        }


# --------------------------------------------------------------------------- client


class ClinicalTrialsClient:
    """A small client of the ClinicalTrials.gov API v2 ``/studies`` endpoint."""

    def __init__(self, base_url: str | None = None, transport: Any = None, timeout: float = 20.0) -> None:
        import httpx

        self._client = httpx.Client(base_url=base_url or BASE_URL, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def pages(self, page_size: int = 50, max_pages: int = 10) -> Iterator[dict[str, Any]]:
        """Raw JSON pages of SLE cell-therapy studies that are recruiting or not yet recruiting."""
        import httpx

        params: dict[str, Any] = {
            "query.cond": CONDITION,
            "query.intr": INTERVENTIONS,
            "filter.overallStatus": ",".join(STATUSES),
            "pageSize": page_size,
            "format": "json",
        }
        for _ in range(max_pages):
            try:
                response = self._client.get("/studies", params=params)
            except httpx.TransportError as exc:
                raise TrialsUnavailableError(
                    f"cannot reach ClinicalTrials.gov ({type(exc).__name__}: {exc}); check the network connection "
                    "or use --from-file with a saved response"
                ) from None
            if response.status_code != 200:
                raise TrialsUnavailableError(
                    f"ClinicalTrials.gov answered HTTP {response.status_code}: {response.text[:200]}"
                )
            page = response.json()
            yield page
            token = page.get("nextPageToken")
            if not token:
                return
            params["pageToken"] = token


# --------------------------------------------------------------------------- parsing


def _therapies(text: str) -> tuple[str, ...]:
    low = text.lower()
    return tuple(t for t, words in THERAPY_WORDS.items() if any(w in low for w in words))


def parse_study(study: Mapping[str, Any]) -> Trial:
    """One API v2 study object -> :class:`Trial`."""
    p = study.get("protocolSection", {})
    ident = p.get("identificationModule", {})
    elig = p.get("eligibilityModule", {})
    interventions = tuple(
        f"{i.get('type', '').lower()}: {i.get('name', '')}"
        for i in p.get("armsInterventionsModule", {}).get("interventions", [])
    )
    locations = tuple(
        ", ".join(x for x in (loc.get("facility"), loc.get("city"), loc.get("country")) if x)
        for loc in p.get("contactsLocationsModule", {}).get("locations", [])
    )
    title = ident.get("briefTitle", "")
    return Trial(
        nct_id=ident.get("nctId", ""),
        title=title,
        status=p.get("statusModule", {}).get("overallStatus", ""),
        therapies=_therapies(" ".join((title, *interventions))),
        conditions=tuple(p.get("conditionsModule", {}).get("conditions", [])),
        interventions=interventions,
        sex=elig.get("sex", "ALL"),
        minimum_age=elig.get("minimumAge"),
        maximum_age=elig.get("maximumAge"),
        eligibility_text=elig.get("eligibilityCriteria", ""),
        locations=locations,
    )


def parse_studies(pages: Iterable[Mapping[str, Any]]) -> list[Trial]:
    """Cell-therapy trials (CAR-T, MSC, HSCT) of recruiting status from API pages, by NCT id."""
    trials = {}
    for page in pages:
        for study in page.get("studies", []):
            trial = parse_study(study)
            if trial.therapies and trial.status in STATUSES:
                trials[trial.nct_id] = trial
    return [trials[k] for k in sorted(trials)]


def age_in_years(text: str | None) -> float | None:
    """``"18 Years"`` -> 18.0, ``"6 Months"`` -> 0.5; None when absent or ``"N/A"``."""
    if not text or text.strip().upper() == "N/A":
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", text)
    if not match or match.group(2).lower() not in _UNITS_IN_YEARS:
        raise TrialsUnavailableError(f"unrecognised age limit {text!r} in a ClinicalTrials.gov record")
    return float(match.group(1)) * _UNITS_IN_YEARS[match.group(2).lower()]


def eligibility_items(text: str) -> list[tuple[str, str]]:
    """(section, item) for each bullet of an eligibility text; section inclusion/exclusion."""
    section, items = "inclusion", []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        low = line.lower()
        if low.startswith("inclusion criteria") or low.startswith("exclusion criteria"):
            section = "inclusion" if low.startswith("inclusion") else "exclusion"
            continue
        item = re.sub(r"^(?:[*\-•⁃‣]|\d+[.)])\s*", "", line)
        if item:
            items.append((section, item))
    return items


# --------------------------------------------------------------------------- screening


@cache
def _patterns() -> list[dict[str, Any]]:
    text = resources.files("lupuscell").joinpath("data", "ctgov_patterns.yaml").read_text("utf-8")
    patterns = yaml.safe_load(text)["patterns"]
    for p in patterns:
        p["compiled"] = re.compile(p["regex"], re.IGNORECASE)
    return patterns


def _fill(template: Any, value: float) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, value) for v in template]
    return value if template == "{value}" else template


def _structured(record: PatientRecord, trial: Trial) -> list[TrialCheck]:
    checks = []
    age = None if record.birth_year is None else record.index_date.year - record.birth_year
    low, high = age_in_years(trial.minimum_age), age_in_years(trial.maximum_age)
    limits = f"{trial.minimum_age or 'no minimum'} to {trial.maximum_age or 'no maximum'}"
    if age is None:
        checks.append(TrialCheck("age", Verdict.UNKNOWN, f"year of birth not recorded; trial {limits}"))
    else:
        ok = (low is None or age >= low) and (high is None or age <= high)
        checks.append(
            TrialCheck(
                "age",
                Verdict.MET if ok else Verdict.NOT_MET,
                f"age {age} (index year - birth year); trial {limits}",
            )
        )
    if trial.sex in ("ALL", "", None):
        checks.append(TrialCheck("sex", Verdict.MET, "trial open to all sexes"))
    elif record.sex is None:
        checks.append(TrialCheck("sex", Verdict.UNKNOWN, f"sex not recorded; trial {trial.sex}"))
    else:
        ok = {"FEMALE": "F", "MALE": "M"}.get(trial.sex) == record.sex
        checks.append(
            TrialCheck("sex", Verdict.MET if ok else Verdict.NOT_MET, f"sex {record.sex}; trial {trial.sex}")
        )
    return checks


def _text_criteria(trial: Trial) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    matched, unmatched = [], []
    for section, item in eligibility_items(trial.eligibility_text):
        found = None
        for p in _patterns():
            if p["section"] == section and (m := p["compiled"].search(item)):
                raw = m.group("value").lower()
                found = (item, _fill(p["criterion"], 2.0 if raw == "two" else float(raw)) | {"id": p["id"]})
                break
        if found is None:
            unmatched.append(f"{section}: {item}")
        else:
            matched.append(found)
    return matched, unmatched


def screen_patient(record: PatientRecord, trial: Trial, concept_dirs: Iterable[Any] = ()) -> TrialMatch:
    """Check ``record`` against ``trial``: age, sex, and the eligibility items a pattern covers."""
    checks = _structured(record, trial)
    matched, unmatched = _text_criteria(trial)
    seen: set[str] = set()
    criteria = []
    for item, criterion in matched:
        if criterion["id"] in seen:
            continue
        seen.add(criterion["id"])
        criteria.append({**criterion, "text": item, "source": f"{trial.nct_id} eligibility text"})
    if criteria:
        protocol = parse_protocol(
            {
                "name": "trial_" + re.sub(r"[^a-z0-9_]", "_", trial.nct_id.lower()),
                "title": trial.title or trial.nct_id,
                "therapy": "other",
                "summary": "criteria read from a ClinicalTrials.gov eligibility text",
                "references": [{"id": "ctgov", "citation": trial.url}],
                "criteria": criteria,
            },
            f"trial {trial.nct_id}",
        )
        bundle = load_bundle(protocol, list(concept_dirs))
        sets = {n: cs.listed_ids() for n, cs in bundle.concept_sets.items()}
        result = evaluate(bundle.protocol, record, sets)
        checks.extend(_as_check(r) for r in result.criteria)
    return TrialMatch(trial, tuple(checks), tuple(unmatched))


def _as_check(result: CriterionResult) -> TrialCheck:
    return TrialCheck(result.text, result.verdict, result.reason)


def screen_trials(record: PatientRecord | None, trials: Iterable[Trial]) -> list[TrialMatch]:
    """Every trial, screened against ``record`` when given (else with nothing checked)."""
    out = []
    for trial in trials:
        if record is None:
            out.append(TrialMatch(trial, (), ()))
        else:
            out.append(screen_patient(record, trial))
    return out


def index_today() -> dt.date:
    """The screening date of a live trial search: today."""
    return dt.date.today()
