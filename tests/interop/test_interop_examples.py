"""The example files of the interoperability guide (docs/interop/examples, made by
``make_examples.sh``) are what lupuscell reads: the FHIR Bundle validates and imports into an
empty registry without a reject (SQLite and PostgreSQL); the CDISC folder holds every file its
manifest lists, the XPT files carry the labels of the ADaM specification; the OMOP tables use
only concepts of their vocabulary subset."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyreadstat
from fhir.resources.R4B.bundle import Bundle
from interop_helpers import ACTOR, tables  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.interop.fhir_import import import_fhir

EXAMPLES = Path(__file__).parents[2] / "docs" / "interop" / "examples"


def test_the_fhir_example_validates_and_imports_without_a_reject(target: Engine) -> None:
    path = EXAMPLES / "fhir_bundle_one_patient.json"
    Bundle.model_validate(json.loads(path.read_text(encoding="utf-8")))
    result = import_fhir(target, path, actor=ACTOR, reason="example")
    assert result.report.rejects == [] and result.skipped == {}
    written = tables(target)
    assert [p["code"] for p in written["patients"]] == ["CHI-000004"]
    assert written["therapy_courses"][0]["therapy"] == "car_t" and written["visits"]


def test_the_cdisc_example_has_its_files_and_labelled_transport_files() -> None:
    folder = EXAMPLES / "cdisc"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert all((folder / name).is_file() for name in manifest["files"])
    for name, rows in manifest["rows"].items():
        frame, meta = pyreadstat.read_xport(str(folder / f"{name.lower()}.xpt"))
        assert len(frame) == rows and meta.column_names_to_labels["USUBJID"] == "Unique Subject Identifier"
    define = (folder / "define.xml").read_text(encoding="utf-8")
    for name in manifest["rows"]:
        assert f'<ItemGroupDef OID="IG.{name}" Name="{name}"' in define


def test_the_omop_example_uses_only_concepts_of_its_vocabulary() -> None:
    folder = EXAMPLES / "omop"
    concepts = set(pd.read_parquet(folder / "concept.parquet")["concept_id"])
    assert len(pd.read_parquet(folder / "person.parquet")) == 6
    for path in folder.glob("*.parquet"):
        frame = pd.read_parquet(path)
        for column in (c for c in frame.columns if c.endswith("_concept_id") and path.stem != "concept"):
            assert set(frame[column].dropna()) - {0} <= concepts, (path.name, column)
