"""A synthetic health-system population in OMOP CDM v5.4 form, for the screening demos and tests.

``write_omop(config, out_dir)`` streams the population in parts of :data:`PART_SIZE` persons and
writes one Parquet file per part and table (``out_dir/<table>/part-00000.parquet``: a
partitioned dataset DuckDB, Spark and pyarrow read as one table), plus the vocabulary subset the
data use (``concept``, ``concept_ancestor``) and ``vocabulary_notes.csv`` saying which concept
ids were confirmed from an OHDSI source (``data/omop_vocabulary.csv``).

The population
--------------
* Everyone: sex, year of birth, one observation period (8 % ended before the data cut-off),
  visits, unmapped background conditions and drugs (``concept_id 0``, "No matching concept"),
  routine laboratory results, and the infections, cancers and pregnancies of a general
  population. About 100 event rows per person.
* SLE at a realistic prevalence, by default 72.8 per 100,000 (Izmirly PM et al. Arthritis
  Rheumatol 2021;73:991-996, CDC National Lupus Registry network, pooled US prevalence), 90 %
  women; plus lookalikes that must not be screened in (cutaneous LE, drug-induced SLE).
* Persons with SLE get SLE codes (6 % coded once only), lupus nephritis (45 %, with a WHO class),
  antimalarial, glucocorticoid and 0-4 immunosuppressant histories, recent laboratory results in
  mixed units (including units the screen must refuse: mL/min for eGFR, "ratio" for uPCR),
  same-day duplicate results, SLEDAI-2K totals (site-local concept), LVEF for half, and, at
  rates enriched over the general population, the infections, malignancy and pregnancy the
  protocols exclude, so that every criterion of every shipped protocol excludes someone.

The rates marked "screen design" are chosen to exercise every criterion, not estimated from a
source. Drug exposures carry ingredient ids (some ETLs do; real data usually carry clinical-drug
descendants, matched through ``concept_ancestor``). ``concept_ancestor`` holds a self row per
concept plus the one hierarchy the screen relies on (4285717 above the WHO lupus nephritis
classes), so descendant expansion is exercised.

Deterministic: the same ``(persons, seed, sle_prevalence)`` give the same files.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PART_SIZE = 50_000
CUTOFF = dt.date(2025, 12, 31)
DEFAULT_SLE_PREVALENCE = 72.8e-5
EPOCH = dt.date(1970, 1, 1)
TYPE_EHR = 32817
TABLES = (
    "person",
    "observation_period",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "visit_occurrence",
)

SLE_CODES = (257628, 37016279, 46273369, 4300204, 4319305, 4145240)
LN_CLASSES = (4297164, 4267801, 4178133, 4186940)  # III, IV, V, II
IMMUNOSUPPRESSANTS = (
    1310317,
    19003999,
    19068900,
    19014878,
    1314273,
    40236987,
    950637,
    19010482,
    1101898,
    1305058,
)
GLUCOCORTICOIDS = (1551099, 1550557, 1506270)
HCQ = 1777087
VISITS = ((9202, 0.85), (9201, 0.08), (9203, 0.07))


@dataclass(frozen=True)
class OmopSynthConfig:
    """What to generate: ``persons`` persons from ``seed`` with SLE at ``sle_prevalence``."""

    persons: int
    seed: int
    sle_prevalence: float = DEFAULT_SLE_PREVALENCE
    cutoff: dt.date = CUTOFF

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError("persons must be at least 1")
        if not 0 <= self.sle_prevalence <= 1:
            raise ValueError("sle_prevalence must be between 0 and 1")


# --------------------------------------------------------------------------- lab generators
# analyte -> (concept ids, ((unit_concept_id, multiplier from the base unit, probability), ...))
LABS: dict[str, tuple[tuple[int, ...], tuple[tuple[int, float, float], ...]]] = {
    "egfr": ((40764999, 1619025, 46236952), ((720870, 1.0, 0.90), (9117, 1.0, 0.07), (8795, 1.0, 0.03))),
    "platelets": ((3024929, 3007461), ((8848, 1.0, 0.6), (9444, 1.0, 0.3), (8647, 1000.0, 0.1))),
    "anc": ((3013650, 3017732), ((9444, 1.0, 0.6), (8848, 1.0, 0.3), (8784, 1000.0, 0.1))),
    "bilirubin": ((3024128,), ((8840, 1.0, 0.7), (8749, 17.1, 0.3))),
    "upcr": (
        (3001582, 3045462),
        ((9510, 1.0, 0.5), (8723, 1000.0, 0.3), (44777612, 113.12, 0.15), (8523, 1.0, 0.05)),
    ),
    "protein24h": ((3020876,), ((8807, 1.0, 0.6), (8909, 1000.0, 0.4))),
    "lvef": ((3027172,), ((8554, 1.0, 1.0),)),
    "sledai": ((2000000001,), ((0, 1.0, 0.7), (-1, 1.0, 0.3))),  # -1 = NULL unit
    "creatinine": ((3016723,), ((8840, 1.0, 1.0),)),
    "hemoglobin": ((3000963,), ((8713, 1.0, 1.0),)),
    "wbc": ((3000905,), ((9444, 1.0, 1.0),)),
    "alt": ((3006923,), ((8645, 1.0, 1.0),)),
}


def _days(date: dt.date) -> int:
    return (date - EPOCH).days


class _Rows:
    """Accumulates one table's columns for a part."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.cols.setdefault(name, []).append(np.asarray(values))

    def column(self, name: str) -> np.ndarray:
        return np.concatenate(self.cols[name]) if name in self.cols else np.array([], dtype=np.int64)


def _spread(rng: np.random.Generator, pids: np.ndarray, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Repeat each person ``counts`` times with a uniform day in ``[lo, hi]``."""
    rep = np.repeat(np.arange(len(pids)), counts)
    span = np.maximum(hi[rep] - lo[rep], 0)
    return pids[rep], lo[rep] + np.floor(rng.random(rep.size) * (span + 1)).astype(np.int64), rep


def _pick(rng: np.random.Generator, options: tuple[int, ...], size: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=np.int64)[rng.choice(len(options), size=size, p=p)]


@dataclass
class _Part:
    rng: np.random.Generator
    pid: np.ndarray
    female: np.ndarray
    birth_year: np.ndarray
    obs_start: np.ndarray
    obs_end: np.ndarray
    sle: np.ndarray
    cut: int
    year: int
    conditions: _Rows
    drugs: _Rows
    measurements: _Rows
    visits: _Rows

    def recent(self, idx: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
        """Window [max(obs_start, obs_end - days), obs_end] of persons ``idx``."""
        return np.maximum(self.obs_start[idx], self.obs_end[idx] - days), self.obs_end[idx]

    def condition(self, idx: np.ndarray, concepts: tuple[int, ...], counts: np.ndarray, lo, hi) -> None:
        pids, days, _ = _spread(self.rng, self.pid[idx], counts, lo, hi)
        self.conditions.add(person_id=pids, concept=_pick(self.rng, concepts, pids.size), date=days)

    def drug(self, idx: np.ndarray, concepts: tuple[int, ...], counts: np.ndarray, lo, hi) -> None:
        pids, days, _ = _spread(self.rng, self.pid[idx], counts, lo, hi)
        self.drugs.add(person_id=pids, concept=_pick(self.rng, concepts, pids.size), date=days)

    def lab(self, idx: np.ndarray, analyte: str, values: np.ndarray, lo, hi, counts=None) -> None:
        """``counts`` results per person of ``idx`` (default one; ``values`` in the base unit, one
        per row), each in a unit drawn from :data:`LABS`."""
        concepts, units = LABS[analyte]
        counts = np.ones(idx.size, dtype=np.int64) if counts is None else counts
        pids, days, _ = _spread(self.rng, self.pid[idx], counts, lo, hi)
        n = pids.size
        choice = self.rng.choice(len(units), size=n, p=[u[2] for u in units])
        unit = np.array([units[c][0] for c in choice], dtype=np.int64)
        mult = np.array([units[c][1] for c in choice])
        self.measurements.add(
            person_id=pids,
            concept=_pick(self.rng, concepts, n),
            date=days,
            value=np.round(values * mult, 3),
            unit=unit,
        )


# --------------------------------------------------------------------------- value samplers


def _mixture(
    rng: np.random.Generator, n: int, parts: tuple[tuple[float, float, float], ...], bulk
) -> np.ndarray:
    """``parts`` = (probability, low, high) uniform components; the rest drawn by ``bulk(n)``."""
    out = bulk(n)
    u = rng.random(n)
    edge = 0.0
    for prob, low, high in parts:
        hit = (u >= edge) & (u < edge + prob)
        out[hit] = rng.uniform(low, high, hit.sum())
        edge += prob
    return out


def _samplers(rng: np.random.Generator) -> dict[str, Callable[[int], np.ndarray]]:
    """Base-unit values per analyte; the tails are the screen-design failure rates."""
    return {
        "egfr": lambda n: np.round(
            _mixture(rng, n, ((0.08, 8, 29.9),), lambda k: np.clip(rng.normal(88, 20, k), 30, 130)), 1
        ),
        "platelets": lambda n: np.round(
            _mixture(rng, n, ((0.06, 10, 49.9),), lambda k: np.clip(rng.normal(240, 60, k), 50, 600))
        ),
        "anc": lambda n: np.round(
            _mixture(
                rng,
                n,
                ((0.07, 0.2, 0.99), (0.06, 1.0, 1.49)),
                lambda k: np.clip(rng.normal(4.2, 1.3, k), 1.5, 12),
            ),
            2,
        ),
        "bilirubin": lambda n: np.round(
            _mixture(
                rng,
                n,
                ((0.05, 2.05, 5), (0.06, 1.45, 2.0)),
                lambda k: np.clip(rng.lognormal(-0.6, 0.4, k), 0.2, 1.4),
            ),
            2,
        ),
        "upcr": lambda n: np.round(
            _mixture(rng, n, ((0.35, 0.1, 1.0),), lambda k: rng.uniform(1.05, 6, k)), 2
        ),
        "protein24h": lambda n: np.round(rng.lognormal(0.1, 0.8, n), 2),
        "lvef": lambda n: np.round(
            _mixture(
                rng, n, ((0.10, 35, 49.9), (0.06, 50, 54.9)), lambda k: np.clip(rng.normal(63, 4, k), 55, 75)
            )
        ),
        "sledai": lambda n: np.where(
            rng.random(n) < 0.4, rng.integers(0, 8, n), rng.integers(8, 25, n)
        ).astype(float),
        "creatinine": lambda n: np.round(np.clip(rng.lognormal(-0.1, 0.25, n), 0.3, 8), 2),
        "hemoglobin": lambda n: np.round(np.clip(rng.normal(13.5, 1.5, n), 6, 19), 1),
        "wbc": lambda n: np.round(np.clip(rng.normal(7, 2, n), 1, 30), 1),
        "alt": lambda n: np.round(np.clip(rng.lognormal(3.1, 0.4, n), 5, 500)),
    }


# --------------------------------------------------------------------------- one part


def _new_part(cfg: OmopSynthConfig, part: int, first_id: int, n: int) -> _Part:
    rng = np.random.default_rng([cfg.seed, part])
    cut = _days(cfg.cutoff)
    sle = rng.random(n) < cfg.sle_prevalence
    female = np.where(sle, rng.random(n) < 0.9, rng.random(n) < 0.51)
    age = np.where(sle, np.clip(np.round(rng.normal(40, 13, n)), 12, 84), rng.integers(0, 95, n)).astype(
        np.int64
    )
    span = np.where(sle, rng.uniform(365, 15 * 365, n), rng.uniform(200, 15 * 365, n)).astype(np.int64)
    short = sle & (rng.random(n) < 0.05)
    span[short] = rng.integers(60, 360, short.sum())
    end = np.full(n, cut, dtype=np.int64)
    early = rng.random(n) < np.where(sle, 0.04, 0.08)
    end[early] = cut - rng.integers(30, 900, early.sum())
    start = end - span
    return _Part(
        rng,
        np.arange(first_id, first_id + n, dtype=np.int64),
        female,
        cfg.cutoff.year - age,
        start,
        end,
        sle,
        cut,
        cfg.cutoff.year,
        _Rows(),
        _Rows(),
        _Rows(),
        _Rows(),
    )


def _background(p: _Part, values: dict[str, Callable[[int], np.ndarray]]) -> None:
    """Visits, unmapped conditions and drugs, routine labs and general-population conditions."""
    rng, n = p.rng, p.pid.size
    everyone = np.arange(n)
    pids, days, _ = _spread(rng, p.pid, rng.poisson(12, n), p.obs_start, p.obs_end)
    visit_types = _pick(rng, tuple(v for v, _ in VISITS), pids.size, [w for _, w in VISITS])
    p.visits.add(person_id=pids, concept=visit_types, date=days)
    p.condition(everyone, (0,), rng.poisson(22, n), p.obs_start, p.obs_end)
    p.drug(everyone, (0,), rng.poisson(17, n), p.obs_start, p.obs_end)
    for analyte, lab_rate in (
        ("creatinine", 9),
        ("hemoglobin", 9),
        ("wbc", 8),
        ("alt", 6),
        ("platelets", 6),
        ("egfr", 6),
    ):
        counts = rng.poisson(lab_rate, n)
        p.lab(everyone, analyte, values[analyte](int(counts.sum())), p.obs_start, p.obs_end, counts)
    history: tuple[tuple[tuple[int, ...], float], ...] = (
        ((439727,), 0.003),
        ((4281232,), 0.004),
        ((197494,), 0.008),
        ((434557,), 0.001),
        ((443392, 432851), 0.04),
        ((4112752, 4111921), 0.02),
        ((4066824, 4343923), 0.0006),
        ((4063581,), 0.0002),
    )
    for concepts, rate in history:
        idx = np.flatnonzero(~p.sle & (rng.random(n) < rate))
        p.condition(idx, concepts, rng.integers(1, 4, idx.size), p.obs_start[idx], p.obs_end[idx])
    fertile = np.flatnonzero(p.female & ((p.year - p.birth_year) < 45) & (rng.random(n) < 0.03))
    p.condition(fertile, (4299535,), np.ones(fertile.size, dtype=np.int64), *p.recent(fertile, 365))


def _older(p: _Part, idx: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Window [obs_start, obs_end - days - 1]: before a recent window (clipped to the period)."""
    hi = p.obs_end[idx] - days - 1
    return np.minimum(p.obs_start[idx], hi), hi


def _timed(p: _Part, idx: np.ndarray, recent_share: float, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per person: the recent window with probability ``recent_share``, else an older one."""
    recent = p.rng.random(idx.size) < recent_share
    lo_r, hi_r = p.recent(idx, days)
    lo_o, hi_o = _older(p, idx, days)
    return np.where(recent, lo_r, lo_o), np.where(recent, hi_r, hi_o)


def _sle_conditions(p: _Part, idx: np.ndarray) -> None:
    rng = p.rng
    counts = np.where(rng.random(idx.size) < 0.06, 1, 2 + rng.poisson(5, idx.size))
    p.condition(idx, SLE_CODES, counts, p.obs_start[idx], p.obs_end[idx])
    ln = idx[rng.random(idx.size) < 0.45]
    p.condition(ln, (4285717,), rng.integers(1, 4, ln.size), p.obs_start[ln], p.obs_end[ln])
    p.condition(ln, LN_CLASSES, np.ones(ln.size, dtype=np.int64), *_timed(p, ln, 0.55, 84))
    p.lab(ln, "upcr", _samplers(rng)["upcr"](ln.size), *_timed(p, ln, 0.85, 84))
    some = ln[rng.random(ln.size) < 0.6]
    p.lab(some, "protein24h", _samplers(rng)["protein24h"](some.size), *p.recent(some, 84))
    for concepts, rate, days in (
        ((439727,), 0.04, None),
        ((4281232, 439674), 0.04, None),
        ((197494, 198964), 0.04, None),
        ((434557, 253954), 0.03, 365),
        ((434557,), 0.02, -365),
        ((443392, 432851, 439392), 0.05, 1826),
        ((443392,), 0.02, -1826),
        ((4112752, 4111921), 0.03, 1826),
    ):
        hit = idx[rng.random(idx.size) < rate]
        if days is None:
            lo, hi = p.obs_start[hit], p.obs_end[hit]
        else:
            lo, hi = p.recent(hit, days) if days > 0 else _older(p, hit, -days)
        p.condition(hit, concepts, np.ones(hit.size, dtype=np.int64), lo, hi)
    fertile = idx[p.female[idx] & ((p.year - p.birth_year[idx]) <= 45) & (rng.random(idx.size) < 0.08)]
    p.condition(fertile, (4299535,), np.ones(fertile.size, dtype=np.int64), *p.recent(fertile, 280))


def _sle_drugs(p: _Part, idx: np.ndarray) -> None:
    rng = p.rng
    hcq = idx[rng.random(idx.size) < 0.88]
    p.drug(hcq, (HCQ,), rng.integers(2, 7, hcq.size), p.obs_start[hcq], p.obs_end[hcq])
    gc = idx[rng.random(idx.size) < 0.92]
    p.drug(gc, GLUCOCORTICOIDS, rng.integers(2, 9, gc.size), p.obs_start[gc], p.obs_end[gc])
    k = rng.choice(5, size=idx.size, p=[0.15, 0.25, 0.3, 0.2, 0.1])
    for person, n_drugs in zip(idx, k, strict=True):
        for concept in rng.choice(IMMUNOSUPPRESSANTS, size=n_drugs, replace=False):
            one = np.array([person])
            lo, hi = _timed(p, one, 0.25, 84)
            p.drug(one, (int(concept),), rng.integers(1, 4, 1), lo, hi)


def _sle_labs(p: _Part, idx: np.ndarray, values: dict[str, Callable[[int], np.ndarray]]) -> None:
    rng = p.rng
    for analyte, share, days, recent in (
        ("egfr", 1.0, 90, 0.85),
        ("platelets", 1.0, 30, 0.85),
        ("anc", 1.0, 30, 0.8),
        ("bilirubin", 1.0, 90, 0.85),
        ("lvef", 0.5, 180, 0.75),
        ("sledai", 0.75, 90, 1.0),
    ):
        who = idx[rng.random(idx.size) < share]
        lo, hi = _timed(p, who, recent, days)
        p.lab(who, analyte, values[analyte](who.size), lo, hi)
        twin = rng.random(who.size) < 0.05  # a second result on the same day
        if twin.any():
            day = lo[twin] + (hi[twin] - lo[twin]) // 2
            p.lab(who[twin], analyte, values[analyte](int(twin.sum())), day, day)
    in_care = idx[rng.random(idx.size) < 0.85]
    p.visits.add(**_visit_rows(p, in_care, rng.poisson(6, in_care.size) + 1))


def _visit_rows(p: _Part, idx: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    pids, days, _ = _spread(p.rng, p.pid[idx], counts, *p.recent(idx, 365))
    return {"person_id": pids, "concept": np.full(pids.size, 9202, dtype=np.int64), "date": days}


def generate_part(cfg: OmopSynthConfig, part: int, first_id: int, n: int) -> _Part:
    """Generate persons ``first_id .. first_id + n - 1`` (one part) with all their events."""
    p = _new_part(cfg, part, first_id, n)
    values = _samplers(p.rng)
    _background(p, values)
    idx = np.flatnonzero(p.sle)
    _sle_conditions(p, idx)
    _sle_drugs(p, idx)
    _sle_labs(p, idx, values)
    return p


# --------------------------------------------------------------------------- writing


def _date(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.date32())


def _ids(counter: dict[str, int], table: str, n: int) -> pa.Array:
    first = counter.get(table, 1)
    counter[table] = first + n
    return pa.array(np.arange(first, first + n, dtype=np.int64))


def _type(n: int) -> pa.Array:
    return pa.array(np.full(n, TYPE_EHR, dtype=np.int64))


def part_tables(p: _Part, counter: dict[str, int]) -> dict[str, pa.Table]:
    """The part as OMOP CDM v5.4 Arrow tables (required columns plus those the screen reads)."""
    n = p.pid.size
    rng = p.rng
    person = pa.table(
        {
            "person_id": p.pid,
            "gender_concept_id": np.where(p.female, 8532, 8507).astype(np.int64),
            "year_of_birth": p.birth_year.astype(np.int32),
            "month_of_birth": rng.integers(1, 13, n).astype(np.int32),
            "day_of_birth": rng.integers(1, 29, n).astype(np.int32),
            "race_concept_id": np.zeros(n, dtype=np.int64),
            "ethnicity_concept_id": np.zeros(n, dtype=np.int64),
        }
    )
    observation = pa.table(
        {
            "observation_period_id": _ids(counter, "observation_period", n),
            "person_id": p.pid,
            "observation_period_start_date": _date(p.obs_start),
            "observation_period_end_date": _date(p.obs_end),
            "period_type_concept_id": _type(n),
        }
    )
    c = p.conditions
    n_c = c.column("person_id").size
    conditions = pa.table(
        {
            "condition_occurrence_id": _ids(counter, "condition_occurrence", n_c),
            "person_id": c.column("person_id"),
            "condition_concept_id": c.column("concept"),
            "condition_start_date": _date(c.column("date")),
            "condition_type_concept_id": _type(n_c),
        }
    )
    d = p.drugs
    n_d = d.column("person_id").size
    start = d.column("date")
    drugs = pa.table(
        {
            "drug_exposure_id": _ids(counter, "drug_exposure", n_d),
            "person_id": d.column("person_id"),
            "drug_concept_id": d.column("concept"),
            "drug_exposure_start_date": _date(start),
            "drug_exposure_end_date": _date(start + rng.integers(0, 90, n_d)),
            "drug_type_concept_id": _type(n_d),
        }
    )
    m = p.measurements
    n_m = m.column("person_id").size
    unit = m.column("unit")
    measurements = pa.table(
        {
            "measurement_id": _ids(counter, "measurement", n_m),
            "person_id": m.column("person_id"),
            "measurement_concept_id": m.column("concept"),
            "measurement_date": _date(m.column("date")),
            "measurement_type_concept_id": _type(n_m),
            "value_as_number": m.column("value").astype(np.float64),
            "unit_concept_id": pa.array(unit, mask=unit < 0, type=pa.int64()),
        }
    )
    v = p.visits
    n_v = v.column("person_id").size
    visits = pa.table(
        {
            "visit_occurrence_id": _ids(counter, "visit_occurrence", n_v),
            "person_id": v.column("person_id"),
            "visit_concept_id": v.column("concept"),
            "visit_start_date": _date(v.column("date")),
            "visit_end_date": _date(v.column("date")),
            "visit_type_concept_id": _type(n_v),
        }
    )
    return dict(zip(TABLES, (person, observation, conditions, drugs, measurements, visits), strict=True))


def vocabulary_rows() -> list[dict[str, str]]:
    """The vocabulary subset (``data/omop_vocabulary.csv``) with its confirmed/not-confirmed notes."""
    text = resources.files("lupuscell").joinpath("data", "omop_vocabulary.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def vocabulary_tables() -> dict[str, pa.Table]:
    """``concept`` and ``concept_ancestor`` of the synthetic data."""
    rows = vocabulary_rows()
    ids = np.array([int(r["concept_id"]) for r in rows], dtype=np.int64)
    n = ids.size
    concept = pa.table(
        {
            "concept_id": ids,
            "concept_name": [r["concept_name"] for r in rows],
            "domain_id": [r["domain_id"] for r in rows],
            "vocabulary_id": [r["vocabulary_id"] or "None" for r in rows],
            "concept_class_id": ["(not compiled)"] * n,
            "standard_concept": [r["standard_concept"] or None for r in rows],
            "concept_code": [r["concept_code"] or "" for r in rows],
            "valid_start_date": pa.array([dt.date(1970, 1, 1)] * n, type=pa.date32()),
            "valid_end_date": pa.array([dt.date(2099, 12, 31)] * n, type=pa.date32()),
            "invalid_reason": [r["invalid_reason"] or None for r in rows],
        }
    )
    anc = [(i, i, 0) for i in ids.tolist()] + [
        (4285717, c, 1) for c in (4250483, 4186940, 4297164, 4267801, 4178133, 4002526)
    ]
    ancestor = pa.table(
        {
            "ancestor_concept_id": np.array([a for a, _, _ in anc], dtype=np.int64),
            "descendant_concept_id": np.array([d for _, d, _ in anc], dtype=np.int64),
            "min_levels_of_separation": np.array([lv for _, _, lv in anc], dtype=np.int32),
            "max_levels_of_separation": np.array([lv for _, _, lv in anc], dtype=np.int32),
        }
    )
    return {"concept": concept, "concept_ancestor": ancestor}


def iter_parts(cfg: OmopSynthConfig) -> Iterator[tuple[int, dict[str, pa.Table]]]:
    """(persons in the part, its tables), part after part; memory stays one part."""
    counter: dict[str, int] = {}
    for part, first in enumerate(range(0, cfg.persons, PART_SIZE)):
        n = min(PART_SIZE, cfg.persons - first)
        yield n, part_tables(generate_part(cfg, part, first + 1, n), counter)


def write_omop(
    cfg: OmopSynthConfig, out_dir: Path, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the population to ``out_dir`` (one Parquet file per part and table); rows per table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    for part, (n, tables) in enumerate(iter_parts(cfg)):
        for name, table in tables.items():
            (out_dir / name).mkdir(exist_ok=True)
            pq.write_table(table, out_dir / name / f"part-{part:05d}.parquet")
            counts[name] += table.num_rows
        if progress is not None:
            progress(n)
    for name, table in vocabulary_tables().items():
        (out_dir / name).mkdir(exist_ok=True)
        pq.write_table(table, out_dir / name / "part-00000.parquet")
        counts[name] = table.num_rows
    notes = vocabulary_rows()
    with (out_dir / "vocabulary_notes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["concept_id", "concept_name", "verified", "source"])
        writer.writeheader()
        writer.writerows(
            {k: r[k] for k in ("concept_id", "concept_name", "verified", "source")} for r in notes
        )
    return counts
