"""Explicit missing-value states in the instruments and the endpoints: unknown is never read as
absent; not done only under the documented option; unknown_response chooses how an
unevaluable visit counts. Registry -> engine on both engines."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from lupuscell.errors import ValidationError
from lupuscell.instruments.sledai2k import DESCRIPTORS, score_sledai_2k
from lupuscell.outcomes.cohort import VISIT_COLUMNS, finalise_visits
from lupuscell.outcomes.definitions import EndpointOptions
from lupuscell.outcomes.endpoints import derive_endpoints, score_visits

# Worked example: proteinuria (4) and low complement (2) present, fever (1) marked unknown.
ACTIVE = {"proteinuria": True, "low_complement": True}


def _checklist(**states: str) -> dict[str, Any]:
    descriptors = {d: ACTIVE.get(d, False) for d in DESCRIPTORS if d not in states}
    return {"descriptors": descriptors, "missing_states": states}


def test_worked_sledai_example_unknown_item_gives_no_total() -> None:
    result = score_sledai_2k(_checklist(fever="unknown"))
    assert result.sledai_2k is None and result.clinical_sledai is None
    assert result.missing == ("descriptors.fever (unknown)",)
    assert (result.sledai_2k_min, result.sledai_2k_max) == (6, 7)
    # the same visit with fever recorded absent scores 6: the unknown was not read as 0
    assert score_sledai_2k(_checklist()).sledai_2k == 6


def test_not_done_is_not_absent_unless_the_option_says_so() -> None:
    assert score_sledai_2k(_checklist(fever="not_done")).sledai_2k is None
    result = score_sledai_2k({**_checklist(fever="not_done"), "not_done_as_absent": True})
    assert result.sledai_2k == 6 and result.complete
    assert any(i.name == "fever" and "not_done_as_absent" in i.reason for i in result.items)
    # the option never touches "unknown"
    assert score_sledai_2k({**_checklist(fever="unknown"), "not_done_as_absent": True}).sledai_2k is None


def test_value_and_state_for_one_descriptor_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        score_sledai_2k({"descriptors": {"fever": True}, "missing_states": {"fever": "unknown"}})
    assert "fever" in str(exc.value) and "both a value and a missing state" in str(exc.value)
    with pytest.raises(ValidationError):
        score_sledai_2k({"descriptors": {}, "missing_states": {"fever": "n/a"}})


def _visit(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(VISIT_COLUMNS)
    row.update({d: False for d in DESCRIPTORS})
    row.update(patient_id="P1", day=90, pga=0.2, prednisone_mg=5.0)
    row.update(overrides)
    return row


def _scored(rows: list[dict[str, Any]], **options: Any) -> pd.DataFrame:
    visits = finalise_visits(pd.DataFrame(rows, columns=list(VISIT_COLUMNS)))
    return score_visits(visits, EndpointOptions(**options))


def test_engine_keeps_an_explicitly_unknown_flag_unknown() -> None:
    rows = [
        _visit(day=90),  # flags unrecorded: the documented assumed values apply
        _visit(day=180, missing_states={"haemolytic_anaemia": "unknown"}),
        _visit(day=270, fever=None, missing_states={"fever": "unknown"}),
    ]
    scored = _scored(rows)
    assert scored["lldas"].tolist()[0] is True
    assert scored["lldas"].isna().tolist() == [False, True, True]  # not read as "no haemolysis"
    assert pd.isna(scored["sledai_2k"].iloc[2])
    assert scored["unevaluable_inputs"].tolist() == [None, "haemolytic_anaemia: unknown", "fever: unknown"]


def test_engine_not_done_option_and_unknown_response() -> None:
    rows = [_visit(fever=None, missing_states={"fever": "not_done"})]
    assert pd.isna(_scored(rows)["sledai_2k"].iloc[0])
    assert _scored(rows, not_done_as_absent=True)["sledai_2k"].iloc[0] == 0
    default = _scored(rows)
    assert pd.isna(default["lldas"].iloc[0]) and pd.isna(default["doris_remission"].iloc[0])
    imputed = _scored(rows, unknown_response="non_response")
    assert not imputed["lldas"].iloc[0] and not pd.isna(imputed["lldas"].iloc[0])
    assert not imputed["doris_remission"].iloc[0]
    with pytest.raises(ValidationError, match="unknown_response"):
        EndpointOptions(unknown_response="as_absent")  # type: ignore[arg-type]


def test_registry_states_reach_the_endpoints(engine: Any) -> None:
    from lupuscell.registry.repository import Registry
    from lupuscell.registry.tables import from_registry

    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "KI", "country": "SE"}, actor="t")
    registry.create(
        "patient", {"code": "KI-0001", "site_code": "KI", "sex": "F", "birth_year": 1985}, actor="t"
    )
    registry.create(
        "therapy_course",
        {"patient_code": "KI-0001", "therapy": "msc", "infusion_date": "2021-01-01"},
        actor="t",
    )
    absent = {d: False for d in DESCRIPTORS}
    base = {"patient_code": "KI-0001", "pga": 0.2, "prednisone_mg_per_day": 2.5, **absent}
    registry.create(
        "visit",
        {**base, "visit_date": "2021-04-01", "new_activity": None, "missing": {"new_activity": "unknown"}},
        actor="t",
    )
    registry.create("visit", {**base, "visit_date": "2021-07-01"}, actor="t")
    result = derive_endpoints(from_registry(engine))
    visits = result.visits.sort_values("day")
    assert visits["lldas"].isna().tolist() == [True, False]
    assert visits["unevaluable_inputs"].tolist()[0] == "new_activity_since_previous_assessment: unknown"
    # the first LLDAS is the second visit: the unknown one was not counted as LLDAS
    assert int(result.patients["first_lldas_day"].iloc[0]) == visits["day"].iloc[1]
    imputed = derive_endpoints(from_registry(engine), EndpointOptions(unknown_response="non_response"))
    assert imputed.visits.sort_values("day")["lldas"].tolist() == [False, True]


def _json_patient(visit: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "J1",
        "day0": "2021-01-01",
        "therapy": "msc",
        "last_contact": "2021-12-31",
        "visits": [visit],
    }


def test_endpoints_json_input_carries_states() -> None:
    from lupuscell.outcomes.inputs import from_json_payload

    absent = {d: False for d in DESCRIPTORS}
    visit = {
        "date": "2021-04-01",
        "sledai2k": absent,
        "pga": 0.2,
        "prednisone_mg": 2.5,
        "gastrointestinal_activity": None,
        "missing": {"gastrointestinal_activity": "unknown"},
    }
    scored = derive_endpoints(from_json_payload({"patients": [_json_patient(visit)]})).visits
    assert pd.isna(scored["lldas"].iloc[0])
    assert scored["unevaluable_inputs"].iloc[0] == "gastrointestinal_activity: unknown"
    with pytest.raises(ValidationError, match="both a value and a missing state"):
        from_json_payload({"patients": [_json_patient({**visit, "missing": {"pga": "unknown"}})]})
