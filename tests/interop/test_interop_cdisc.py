"""CDISC ADaM export: XPT v5 read back by pyreadstat and pandas with labels and types; Define-XML
2.0 structure checked with lxml; datasets equal to the outcomes engine's (not derived again)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from interop_helpers import ACTOR, fill  # type: ignore[import-not-found]
from lxml import etree
from sqlalchemy.engine import Engine

from lupuscell.interop.cdisc import export_cdisc, spec, variables
from lupuscell.interop.cdisc_define import DEF_NS, ODM_NS, XLINK_NS
from lupuscell.outcomes.datasets import build_datasets
from lupuscell.registry.tables import from_registry

NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}


@pytest.fixture
def adam(engine: Engine, tmp_path: Path) -> Path:
    fill(engine, n=40, seed=5)
    export_cdisc(engine, tmp_path / "adam", identified=True, actor=ACTOR, reason="submission")
    return tmp_path / "adam"


def test_variable_table_respects_xpt_v5_limits() -> None:
    for dataset, meta in spec()["datasets"].items():
        assert len(dataset) <= 8 and len(meta["label"]) <= 40
        for var in meta["variables"]:
            assert len(var["name"]) <= 8 and var["name"].isupper(), var
            assert len(var["label"]) <= 40, var
            assert var["type"] in ("Char", "Num", "Date")


@pytest.mark.parametrize("dataset", ["ADSL", "ADTTE", "ADRS"])
def test_xpt_opens_with_labels_and_types(adam: Path, dataset: str) -> None:
    path = adam / f"{dataset.lower()}.xpt"
    frame, meta = pyreadstat.read_xport(str(path))
    expected = variables(dataset, identified=True)
    assert meta.table_name == dataset and meta.file_label == spec()["datasets"][dataset]["label"]
    assert meta.column_names == [v["name"] for v in expected]
    assert meta.column_names_to_labels == {v["name"]: v["label"] for v in expected}
    for var in expected:
        kind = meta.readstat_variable_types[var["name"]]
        assert kind == ("string" if var["type"] == "Char" else "double"), var
        if var["type"] == "Date":
            # pyreadstat < 1.3 reports "DATE9", later versions the SAS spelling "DATE9."
            assert meta.original_variable_types[var["name"]].rstrip(".") == "DATE9"
    read = pd.read_sas(path, format="xport", encoding="utf-8")
    assert list(read.columns) == meta.column_names and len(read) == len(frame)


def test_datasets_are_the_outcomes_datasets(engine: Engine, adam: Path) -> None:
    ds = build_datasets(from_registry(engine))
    adtte, _ = pyreadstat.read_xport(str(adam / "adtte.xpt"))
    assert set(adtte["PARAMCD"]) >= {"OS", "RFS", "REM", "NRM"}
    merged = adtte.assign(code=adtte["USUBJID"].str.removeprefix("LUPUSCELL-")).merge(
        ds.adtte, left_on=["code", "PARAMCD"], right_on=["USUBJID", "PARAMCD"], suffixes=("", "_src")
    )
    assert len(merged) == len(ds.adtte)
    assert np.allclose(merged["AVAL"], merged["AVAL_src"], equal_nan=True)
    expected_cnsr = np.select([merged["EVCODE_src"] == 1, merged["EVCODE_src"] == 2], [0, 2], 1)
    assert (merged["CNSR"].to_numpy() == expected_cnsr).all()  # 0 event, 1 last contact, 2 competing event
    assert (merged.loc[merged["CNSR"] == 0, "CNSDTDSC"] == "").all()
    adsl, _ = pyreadstat.read_xport(str(adam / "adsl.xpt"))
    assert sorted(adsl["SUBJID"]) == sorted(ds.adsl["USUBJID"].astype(str))
    assert set(adsl["DTHFL"]) <= {"Y", ""}


def test_define_xml_structure(adam: Path) -> None:
    tree = etree.parse(str(adam / "define.xml"))
    root = tree.getroot()
    assert (
        root.tag == f"{{{ODM_NS}}}ODM"
        and root.get("ODMVersion") == "1.3.2"
        and root.get("FileType") == "Snapshot"
    )
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None and mdv.get(f"{{{DEF_NS}}}DefineVersion") == "2.0.0"
    children = [etree.QName(c).localname for c in mdv]
    order = ["ItemGroupDef", "ItemDef", "CodeList"]
    assert [k for k in order if k in children] == order
    assert children == sorted(children, key=order.index)  # the schema's element order
    items = {i.get("OID"): i for i in mdv.findall("odm:ItemDef", NS)}
    codelists = {c.get("OID") for c in mdv.findall("odm:CodeList", NS)}
    for group in mdv.findall("odm:ItemGroupDef", NS):
        leaf = group.find("def:leaf", NS)
        assert leaf is not None and (adam / leaf.get(f"{{{XLINK_NS}}}href")).exists()
        assert group.get(f"{{{DEF_NS}}}ArchiveLocationID") == leaf.get("ID")
        refs = group.findall("odm:ItemRef", NS)
        assert all(r.get("ItemOID") in items for r in refs)
        keys = sorted(int(r.get("KeySequence")) for r in refs if r.get("KeySequence"))
        assert keys == list(range(1, len(keys) + 1))
    for item in items.values():
        label = item.find("odm:Description/odm:TranslatedText", NS)
        assert label is not None and 0 < len(label.text) <= 40
        assert item.get("DataType") in ("text", "integer", "float", "date")
        ref = item.find("odm:CodeListRef", NS)
        assert ref is None or ref.get("CodeListOID") in codelists
    cnsr = mdv.find("odm:CodeList[@OID='CL.CNSR']", NS)
    assert [i.get("CodedValue") for i in cnsr.findall("odm:CodeListItem", NS)] == ["0", "1", "2"]


def test_deidentified_by_default(engine: Engine, tmp_path: Path) -> None:
    fill(engine, n=10, seed=5)
    export_cdisc(engine, tmp_path / "deid", actor=ACTOR)
    adsl, meta = pyreadstat.read_xport(str(tmp_path / "deid" / "adsl.xpt"))
    assert "TRTSDT" not in meta.column_names and adsl["SUBJID"].str.startswith("SUBJ-").all()
    assert adsl["AGE"].max() <= 90
    _, meta = pyreadstat.read_xport(str(tmp_path / "deid" / "adtte.xpt"))
    assert "STARTDT" not in meta.column_names and "ADT" not in meta.column_names
