"""Per-criterion boundary tests on hand-made persons, run through both the per-person evaluator
and the SQL screen (DuckDB): age exactly at the limits, a measurement on the last (and first) day
of its window, a drug class count of exactly 2, a missing measurement (unknown, not "not met"),
same-day results, unit conversion and refusal, visit counts, observation, sex, and Kleene logic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from handmade import INDEX, Person, write_persons

from lupuscell.protocols.catalog import load_bundle
from lupuscell.protocols.evaluate import evaluate
from lupuscell.protocols.schema import parse_protocol
from lupuscell.screening.omop import open_source
from lupuscell.screening.run import person_verdicts, resolve_concept_sets

D = dt.timedelta
EGFR, PLT, UPCR, P24 = 40764999, 3024929, 3001582, 3020876
SLE, HIV, HBV = 257628, 439727, 4281232
CYC, MMF, MPA, AZA = 1310317, 19003999, 19068900, 19014878
U_EGFR, U_EGFR_UNADJUSTED, U_PLT_K_UL, U_PER_UL, U_GG = 720870, 8795, 8848, 8647, 9510

PROTOCOL: dict[str, Any] = {
    "name": "boundaries",
    "title": "Boundary protocol",
    "therapy": "other",
    "summary": "test",
    "references": [{"id": "test", "citation": "test"}],
    "criteria": [
        {"id": "observed", "text": "t", "kind": "observation", "prior_days": 365, "source": "test"},
        {"id": "age", "text": "t", "kind": "age", "min": 18, "max": 60, "source": "test"},
        {"id": "female", "text": "t", "kind": "sex", "allowed": ["F"], "source": "test"},
        {
            "id": "sle",
            "text": "t",
            "kind": "condition",
            "concept_set": "sle",
            "min_occurrences": 2,
            "source": "test",
        },
        {
            "id": "no_hiv_5y",
            "text": "t",
            "kind": "condition",
            "concept_set": "hiv",
            "presence": "absent",
            "window": {"start": -1826, "end": 0},
            "source": "test",
        },
        {
            "id": "two_drugs",
            "text": "t",
            "kind": "drug_history",
            "min_distinct": 2,
            "source": "test",
            "members": [
                {"name": "cyclophosphamide", "concept_sets": ["cyclophosphamide"]},
                {"name": "mycophenolate", "concept_sets": ["mycophenolate"]},
                {"name": "azathioprine", "concept_sets": ["azathioprine"]},
            ],
        },
        {
            "id": "egfr",
            "text": "t",
            "kind": "measurement",
            "concept_set": "egfr",
            "analyte": "egfr",
            "operator": ">=",
            "threshold": {"value": 30, "unit": "mL/min/1.73m2"},
            "window": {"start": -90, "end": 0},
            "source": "test",
        },
        {
            "id": "platelets",
            "text": "t",
            "kind": "measurement",
            "concept_set": "platelets",
            "analyte": "platelets",
            "operator": ">=",
            "threshold": {"value": 50, "unit": "10^9/L"},
            "window": {"start": -30, "end": 0},
            "source": "test",
        },
        {
            "id": "proteinuria",
            "text": "t",
            "kind": "any",
            "source": "test",
            "criteria": [
                {
                    "id": "upcr",
                    "text": "t",
                    "kind": "measurement",
                    "concept_set": "upcr",
                    "analyte": "upcr",
                    "operator": ">",
                    "threshold": {"value": 1.0, "unit": "g/g"},
                    "window": {"start": -84, "end": 0},
                },
                {
                    "id": "p24",
                    "text": "t",
                    "kind": "measurement",
                    "concept_set": "urine_protein_24h",
                    "analyte": "urine_protein_24h",
                    "operator": ">",
                    "threshold": {"value": 1.0, "unit": "g/24h"},
                    "window": {"start": -84, "end": 0},
                },
            ],
        },
        {
            "id": "no_infection",
            "text": "t",
            "kind": "not",
            "source": "test",
            "criterion": {
                "id": "infection",
                "text": "t",
                "kind": "any",
                "criteria": [
                    {"id": "hiv", "text": "t", "kind": "condition", "concept_set": "hiv"},
                    {"id": "hbv", "text": "t", "kind": "condition", "concept_set": "hepatitis_b"},
                ],
            },
        },
        {
            "id": "in_care",
            "text": "t",
            "kind": "visit_count",
            "concept_set": "visits",
            "min_count": 2,
            "window": {"start": -365, "end": 0},
            "source": "test",
        },
    ],
}


def _persons() -> dict[str, Person]:
    i = INDEX
    return {
        # age = index year - year of birth
        "age_18": Person(1, birth_year=i.year - 18),
        "age_60": Person(2, birth_year=i.year - 60),
        "age_17": Person(3, birth_year=i.year - 17),
        "age_61": Person(4, birth_year=i.year - 61),
        "male": Person(5, gender=8507),
        "gender_unknown": Person(6, gender=0),
        "obs_exactly_365": Person(7, obs=(i - D(365), i)),
        "obs_364": Person(8, obs=(i - D(364), i)),
        "obs_ended": Person(9, obs=(i - D(3000), i - D(1))),
        "sle_two_days": Person(10, conditions=[(SLE, i - D(400)), (SLE, i - D(10))]),
        "sle_same_day": Person(11, conditions=[(SLE, i - D(10)), (SLE, i - D(10))]),
        "sle_after_index": Person(12, conditions=[(SLE, i - D(10)), (SLE, i + D(1))]),
        "hiv_just_outside": Person(13, conditions=[(HIV, i - D(1827))]),
        "hiv_first_day": Person(14, conditions=[(HIV, i - D(1826))]),
        "drugs_exactly_2": Person(15, drugs=[(CYC, i - D(900)), (AZA, i - D(5))]),
        "drugs_1": Person(16, drugs=[(CYC, i - D(900))]),
        "drugs_same_member": Person(17, drugs=[(MMF, i - D(900)), (MPA, i - D(50))]),
        "drug_after_index": Person(18, drugs=[(CYC, i - D(900)), (AZA, i + D(1))]),
        "egfr_last_day_30": Person(19, measurements=[(EGFR, i, 30.0, U_EGFR)]),
        "egfr_last_day_29_9": Person(20, measurements=[(EGFR, i, 29.9, U_EGFR)]),
        "egfr_first_day": Person(21, measurements=[(EGFR, i - D(90), 45.0, U_EGFR)]),
        "egfr_before_window": Person(22, measurements=[(EGFR, i - D(91), 45.0, U_EGFR)]),
        "egfr_missing": Person(23),
        "egfr_latest_wins": Person(
            24, measurements=[(EGFR, i - D(60), 80.0, U_EGFR), (EGFR, i - D(2), 20.0, U_EGFR)]
        ),
        "egfr_same_day_split": Person(
            25, measurements=[(EGFR, i - D(2), 25.0, U_EGFR), (EGFR, i - D(2), 40.0, U_EGFR)]
        ),
        "egfr_unusable_unit": Person(26, measurements=[(EGFR, i - D(2), 45.0, U_EGFR_UNADJUSTED)]),
        "egfr_null_value": Person(27, measurements=[(EGFR, i - D(2), None, U_EGFR)]),
        "plt_50_k_per_ul": Person(28, measurements=[(PLT, i - D(1), 50.0, U_PLT_K_UL)]),
        "plt_45000_per_ul": Person(29, measurements=[(PLT, i - D(1), 45000.0, U_PER_UL)]),
        "upcr_high_no_p24": Person(30, measurements=[(UPCR, i - D(3), 2.0, U_GG)]),
        "upcr_low_no_p24": Person(31, measurements=[(UPCR, i - D(3), 0.5, U_GG)]),
        "upcr_low_p24_low": Person(
            32, measurements=[(UPCR, i - D(3), 0.5, U_GG), (P24, i - D(3), 0.4, 8807)]
        ),
        "hbv_only": Person(33, conditions=[(HBV, i - D(3000))]),
        "visits_exactly_2": Person(34, visits=[(9202, i - D(365)), (9201, i)]),
        "visits_1_in_window": Person(35, visits=[(9202, i - D(366)), (9202, i - D(3))]),
    }


EXPECTED = {
    ("age_18", "age"): "met",
    ("age_60", "age"): "met",
    ("age_17", "age"): "not_met",
    ("age_61", "age"): "not_met",
    ("male", "female"): "not_met",
    ("gender_unknown", "female"): "unknown",
    ("age_18", "female"): "met",
    ("obs_exactly_365", "observed"): "met",
    ("obs_364", "observed"): "not_met",
    ("obs_ended", "observed"): "not_met",
    ("sle_two_days", "sle"): "met",
    ("sle_same_day", "sle"): "not_met",
    ("sle_after_index", "sle"): "not_met",
    ("hiv_just_outside", "no_hiv_5y"): "met",
    ("hiv_first_day", "no_hiv_5y"): "not_met",
    ("drugs_exactly_2", "two_drugs"): "met",
    ("drugs_1", "two_drugs"): "not_met",
    ("drugs_same_member", "two_drugs"): "not_met",
    ("drug_after_index", "two_drugs"): "not_met",
    ("egfr_last_day_30", "egfr"): "met",
    ("egfr_last_day_29_9", "egfr"): "not_met",
    ("egfr_first_day", "egfr"): "met",
    ("egfr_before_window", "egfr"): "unknown",
    ("egfr_missing", "egfr"): "unknown",
    ("egfr_latest_wins", "egfr"): "not_met",
    ("egfr_same_day_split", "egfr"): "not_met",
    ("egfr_unusable_unit", "egfr"): "unknown",
    ("egfr_null_value", "egfr"): "unknown",
    ("plt_50_k_per_ul", "platelets"): "met",
    ("plt_45000_per_ul", "platelets"): "not_met",
    ("upcr_high_no_p24", "proteinuria"): "met",
    ("upcr_low_no_p24", "proteinuria"): "unknown",
    ("upcr_low_p24_low", "proteinuria"): "not_met",
    ("egfr_missing", "proteinuria"): "unknown",
    ("hbv_only", "no_infection"): "not_met",
    ("hiv_first_day", "no_infection"): "not_met",
    ("egfr_missing", "no_infection"): "met",
    ("visits_exactly_2", "in_care"): "met",
    ("visits_1_in_window", "in_care"): "not_met",
}


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(parse_protocol(PROTOCOL, "protocol boundaries"))


@pytest.fixture(scope="module")
def sql_verdicts(bundle, tmp_path_factory: pytest.TempPathFactory):
    folder = write_persons(tmp_path_factory.mktemp("handmade"), list(_persons().values()))
    source = open_source(str(folder), "duckdb")
    return person_verdicts(bundle, source, INDEX).set_index("person_id"), resolve_concept_sets(
        source, bundle.concept_sets
    )


@pytest.mark.parametrize(("person", "criterion"), sorted(EXPECTED))
def test_evaluator_boundary(bundle, sql_verdicts, person: str, criterion: str) -> None:
    p = _persons()[person]
    result = evaluate(bundle.protocol, p.record(), sql_verdicts[1])
    found = {r.id: r for r in _flatten(result.criteria)}
    assert found[criterion].verdict.label == EXPECTED[(person, criterion)], found[criterion].reason


@pytest.mark.parametrize(("person", "criterion"), sorted(EXPECTED))
def test_sql_boundary(sql_verdicts, person: str, criterion: str) -> None:
    verdicts, _ = sql_verdicts
    assert verdicts.loc[_persons()[person].person_id, criterion] == EXPECTED[(person, criterion)]


def test_sql_and_evaluator_agree_on_every_person_and_criterion(bundle, sql_verdicts) -> None:
    verdicts, sets = sql_verdicts
    for p in _persons().values():
        result = evaluate(bundle.protocol, p.record(), sets)
        for r in _flatten(result.criteria):
            if r.id in verdicts.columns:  # top-level criteria and every leaf
                assert verdicts.loc[p.person_id, r.id] == r.verdict.label, (p.person_id, r.id, r.reason)


def test_missing_measurement_reason_says_no_result(bundle, sql_verdicts) -> None:
    result = evaluate(bundle.protocol, _persons()["egfr_missing"].record(), sql_verdicts[1])
    egfr = next(r for r in result.criteria if r.id == "egfr")
    assert egfr.verdict.label == "unknown" and "no egfr result" in egfr.reason
    assert not egfr.evidence


def test_measurement_evidence_has_date_value_and_unit(bundle, sql_verdicts) -> None:
    result = evaluate(bundle.protocol, _persons()["plt_45000_per_ul"].record(), sql_verdicts[1])
    plt = next(r for r in result.criteria if r.id == "platelets")
    (ev,) = plt.evidence
    assert (ev.date, ev.value, ev.unit) == (INDEX - D(1), pytest.approx(45.0), "10^9/L")


def _flatten(results) -> list:
    out = []
    for r in results:
        out.append(r)
        out.extend(_flatten(r.children))
    return out


def test_handmade_folder_is_valid_omop(tmp_path: Path) -> None:
    folder = write_persons(tmp_path, [Person(1)])
    open_source(str(folder)).check(["person", "measurement", "concept_ancestor"])
