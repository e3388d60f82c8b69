"""The codes data file: every code has its source or says it is unconfirmed; OMOP ids are the
screening package's confirmed ones; every registry analyte is listed."""

from __future__ import annotations

import csv
import os
from importlib import resources
from pathlib import Path

from interop_helpers import ACTOR, audit_rows, fill  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell import units
from lupuscell.interop import terminology as term
from lupuscell.interop.fhir_export import export_fhir


def _vocabulary() -> dict[int, dict[str, str]]:
    text = resources.files("lupuscell").joinpath("data", "omop_vocabulary.csv").read_text("utf-8")
    return {int(r["concept_id"]): r for r in csv.DictReader(text.splitlines())}


def test_every_analyte_is_listed_with_a_source_or_marked_unconfirmed() -> None:
    table = term.table()["analytes"]
    assert set(table) == set(units.analyte_codes())
    for name, entry in table.items():
        if entry.get("loinc"):
            assert entry.get("source") and entry.get("display"), name
        else:
            assert entry.get("unconfirmed"), name


def test_omop_concepts_are_confirmed_ones_with_matching_codes() -> None:
    vocabulary = _vocabulary()
    for name, entry in term.table()["analytes"].items():
        concept = entry.get("omop_concept_id")
        if concept:
            row = vocabulary[concept]
            assert row["verified"] == "yes" and row["domain_id"] == "Measurement", name
            assert row["concept_code"] in ("", entry["loinc"]), name
    for name in ("sle", "lupus_nephritis"):
        entry = term.condition(name)
        row = vocabulary[entry["omop_concept_id"]]
        assert row["concept_code"] == entry["snomed"] and row["verified"] == "yes"
    for name, entry in term.table()["drugs"].items():
        row = vocabulary[entry["omop_concept_id"]]
        assert row["concept_code"] in ("", entry["rxnorm"]) and row["verified"] == "yes", name


def test_unit_codes_resolve_spellings_and_refuse_unknown_units() -> None:
    assert term.unit_codes("anc", "K/uL") == (9444, "10*9/L")
    assert term.unit_codes("anc", "cells/uL") == (8647, "/uL")
    assert term.unit_codes("anti_dsdna", "IU/mL") is None  # no confirmed OMOP/UCUM pair: left out
    assert term.unit_codes("anc", "furlongs") is None


def test_identified_export_is_private_and_audited_first(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=3)
    export_fhir(engine, tmp_path / "b.json", identified=True, actor=ACTOR, reason="referral")
    assert os.stat(tmp_path / "b.json").st_mode & 0o777 == 0o600
    audit = audit_rows(engine, "export")
    assert [(a["entity_id"], a["reason"], a["actor"]) for a in audit] == [("identified", "referral", ACTOR)]
    assert not [p for p in tmp_path.iterdir() if "lupuscell-partial" in p.name]
