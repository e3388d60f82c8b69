"""Protocols as data: the shipped protocols validate, cite their sources, and bad protocols are
rejected with the criterion and field named (before any data are read)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lupuscell.errors import NotFoundError, ValidationError
from lupuscell.protocols.catalog import load_bundle, load_protocol, shipped_protocol_names
from lupuscell.protocols.schema import KINDS, parse_protocol, walk

GOOD: dict[str, Any] = {
    "name": "tiny",
    "title": "Tiny",
    "therapy": "car_t",
    "summary": "s",
    "references": [{"id": "r", "citation": "c"}],
    "criteria": [
        {"id": "age", "text": "adult", "kind": "age", "min": 18, "source": "r"},
        {
            "id": "egfr",
            "text": "eGFR",
            "kind": "measurement",
            "concept_set": "egfr",
            "analyte": "egfr",
            "operator": ">=",
            "threshold": {"value": 30, "unit": "mL/min/1.73m2"},
            "window": {"start": -90, "end": 0},
            "source": "r",
        },
    ],
}


def _bad(path: list[Any], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(GOOD)
    node = raw
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load_bundle(parse_protocol(raw, "protocol tiny"))
    return [str(p) for p in info.value.problems]


def test_the_three_shipped_protocols_load_with_every_concept_set() -> None:
    names = shipped_protocol_names()
    assert set(names) >= {"hsct_refractory_sle", "ucmsc_lupus_nephritis", "cart19_refractory_sle"}
    therapies = {load_protocol(n).therapy for n in names}
    assert {"autologous_hsct", "msc", "car_t"} <= therapies
    for name in names:
        bundle = load_bundle(name)
        assert set(bundle.concept_sets) == set(bundle.protocol.concept_sets())
        ref_ids = {r.id for r in bundle.protocol.references}
        for criterion in bundle.protocol.criteria:
            assert criterion.source and criterion.text
            cited = {word.strip("(),;") for word in criterion.source.split()} & ref_ids
            assert cited or "programme convention" in criterion.source, (name, criterion.id)


def test_the_shipped_protocols_use_every_kind_the_issue_lists() -> None:
    kinds = {c.kind for n in shipped_protocol_names() for c in walk(load_protocol(n).criteria)}
    assert {"condition", "age", "drug_history", "measurement", "visit_count", "all", "any", "not"} <= kinds
    analytes = {
        c.analyte
        for n in shipped_protocol_names()
        for c in walk(load_protocol(n).criteria)
        if c.kind == "measurement"
    }
    assert {"egfr", "platelets", "anc", "lvef", "bilirubin", "upcr", "sledai2k"} <= analytes


def test_unknown_kind_names_the_criterion() -> None:
    (problem,) = _problems(_bad(["criteria", 1, "kind"], "lab_value"))
    assert (
        "criterion 'egfr'" in problem
        and "kind" in problem
        and "unknown criterion kind 'lab_value'" in problem
    )
    for kind in ("age", "measurement", "not"):
        assert kind in problem and kind in KINDS


def test_unknown_concept_set_names_it() -> None:
    (problem,) = _problems(_bad(["criteria", 1, "concept_set"], "egfr_typo"))
    assert "criterion 'egfr'" in problem and "unknown concept set 'egfr_typo'" in problem


def test_window_that_ends_before_it_starts() -> None:
    (problem,) = _problems(_bad(["criteria", 1, "window"], {"start": 10, "end": -5}))
    assert "criterion 'egfr'" in problem and "window ends before it starts" in problem


def test_threshold_without_a_unit() -> None:
    (problem,) = _problems(_bad(["criteria", 1, "threshold", "unit"], KeyError))
    assert "criterion 'egfr'" in problem and "threshold.unit" in problem and "required" in problem


def test_threshold_unit_that_is_not_a_unit_of_the_analyte() -> None:
    (problem,) = _problems(_bad(["criteria", 1, "threshold", "unit"], "mg/dL"))
    assert "criterion 'egfr'" in problem and "'mg/dL' is not a unit of egfr" in problem


def test_duplicate_ids_and_missing_source_are_rejected() -> None:
    raw = _bad(["criteria", 1, "id"], "age")
    assert any("used twice" in p for p in _problems(raw))
    assert any("has no source" in p for p in _problems(_bad(["criteria", 0, "source"], KeyError)))


def test_unknown_protocol_lists_the_shipped_ones() -> None:
    with pytest.raises(NotFoundError, match="cart19_refractory_sle"):
        load_protocol("nope")
