"""Define-XML 2.0 metadata of the ADaM datasets (lxml).

The document follows CDISC Define-XML Specification Version 2.0 (2013): an ODM 1.3.2 ``ODM``
root (``FileType="Snapshot"``) with one ``Study``, its ``GlobalVariables`` and one
``MetaDataVersion`` (``def:DefineVersion="2.0.0"``, ``def:StandardName="ADaM-IG"``) holding,
in the schema's order, one ``ItemGroupDef`` per dataset (``def:Structure``, ``def:Class``,
``ItemRef`` s with ``KeySequence`` and a ``def:leaf`` pointing at the XPT file), one
``ItemDef`` per variable (``DataType``, ``Length``, ``SASFieldName``, label, ``CodeListRef``,
``def:Origin``) and the ``CodeList`` s. The CDISC XML schemas are not shipped (their
distribution terms were not confirmed); the tests check the structure with lxml: namespaces,
element order, every reference resolved, every label within 40 characters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from lupuscell import __version__, vocab
from lupuscell.interop.cdisc import spec, variables
from lupuscell.outcomes.datasets import PARAMS

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _def(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, _odm(tag))
    translated = etree.SubElement(element, _odm("TranslatedText"))
    translated.set(XML_LANG, "en")
    translated.text = text
    return element


def codelists() -> dict[str, tuple[str, dict[Any, str]]]:
    """Codelist OID suffix -> (data type, coded value -> decode)."""
    data = spec()
    lists: dict[str, tuple[str, dict[Any, str]]] = {
        name: ("integer" if all(isinstance(k, int) for k in items) else "text", dict(items))
        for name, items in data["codelists"].items()
    }
    lists["CNSR"] = ("integer", {int(k): v for k, v in data["cnsr"].items()})
    lists["TRT"] = ("text", {t: t.replace("_", " ") for t in vocab.THERAPIES})
    lists["TTEPARM"] = ("text", dict(PARAMS))
    lists["RSPARM"] = ("text", {k: v["param"] for k, v in data["adrs_parameters"].items()})
    return lists


def _data_type(var: dict[str, Any], values: pd.Series) -> tuple[str, int | None]:
    if var["type"] == "Date":
        return "date", None
    if var["type"] == "Char":
        longest = max((len(str(v)) for v in values if isinstance(v, str)), default=1)
        return "text", max(longest, 1)
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if len(numbers) and np.all(np.mod(numbers, 1) == 0):
        return "integer", 8
    return "float", 8


def _item_group(mdv: etree._Element, dataset: str, frame: pd.DataFrame, identified: bool) -> None:
    meta = spec()["datasets"][dataset]
    group = etree.SubElement(
        mdv,
        _odm("ItemGroupDef"),
        {
            "OID": f"IG.{dataset}",
            "Name": dataset,
            "Repeating": "No" if dataset == "ADSL" else "Yes",
            "IsReferenceData": "No",
            "SASDatasetName": dataset,
            "Purpose": "Analysis",
            _def("Structure"): meta["structure"],
            _def("Class"): meta["class"],
            _def("ArchiveLocationID"): f"LF.{dataset}",
        },
    )
    _text(group, "Description", meta["label"])
    keys = meta["keys"]
    for order, var in enumerate(variables(dataset, identified), start=1):
        attrs = {
            "ItemOID": f"IT.{dataset}.{var['name']}",
            "OrderNumber": str(order),
            "Mandatory": "Yes" if var["name"] in keys else "No",
        }
        if var["name"] in keys:
            attrs["KeySequence"] = str(keys.index(var["name"]) + 1)
        etree.SubElement(group, _odm("ItemRef"), attrs)
    leaf = etree.SubElement(
        group, _def("leaf"), {"ID": f"LF.{dataset}", f"{{{XLINK_NS}}}href": f"{dataset.lower()}.xpt"}
    )
    etree.SubElement(leaf, _def("title")).text = f"{dataset.lower()}.xpt"


def _item_defs(mdv: etree._Element, dataset: str, frame: pd.DataFrame, identified: bool) -> None:
    for var in variables(dataset, identified):
        data_type, length = _data_type(var, frame[var["name"]])
        attrs = {
            "OID": f"IT.{dataset}.{var['name']}",
            "Name": var["name"],
            "SASFieldName": var["name"],
            "DataType": data_type,
        }
        if length is not None:
            attrs["Length"] = str(length)
        if var["type"] == "Date":
            attrs[_def("DisplayFormat")] = "DATE9."
        item = etree.SubElement(mdv, _odm("ItemDef"), attrs)
        _text(item, "Description", var["label"])
        if var.get("codelist"):
            etree.SubElement(item, _odm("CodeListRef"), {"CodeListOID": f"CL.{var['codelist']}"})
        origin = "Assigned" if str(var["from"]).startswith("=") or var["from"] == "study" else "Derived"
        etree.SubElement(item, _def("Origin"), {"Type": origin})


def _codelist_elements(mdv: etree._Element, used: set[str]) -> None:
    for name, (data_type, items) in codelists().items():
        if name not in used:
            continue
        cl = etree.SubElement(
            mdv, _odm("CodeList"), {"OID": f"CL.{name}", "Name": name, "DataType": data_type}
        )
        for code, decode in items.items():
            item = etree.SubElement(cl, _odm("CodeListItem"), {"CodedValue": str(code)})
            _text(item, "Decode", str(decode))


def define_document(frames: dict[str, pd.DataFrame], *, study: str, identified: bool) -> etree._ElementTree:
    """The Define-XML 2.0 document describing ``frames`` (ADSL, ADTTE, ADRS)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    root = etree.Element(
        _odm("ODM"),
        nsmap=NSMAP,
        attrib={
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"DEF.{study}.ADAM",
            "CreationDateTime": now,
            "Originator": "lupuscell",
            "SourceSystem": "lupuscell",
            "SourceSystemVersion": __version__,
        },
    )
    study_el = etree.SubElement(root, _odm("Study"), {"OID": f"STDY.{study}"})
    gv = etree.SubElement(study_el, _odm("GlobalVariables"))
    etree.SubElement(gv, _odm("StudyName")).text = study
    etree.SubElement(
        gv, _odm("StudyDescription")
    ).text = "SLE cellular-therapy registry analysis datasets (lupuscell)"
    etree.SubElement(gv, _odm("ProtocolName")).text = study
    mdv = etree.SubElement(
        study_el,
        _odm("MetaDataVersion"),
        {
            "OID": f"MDV.{study}.ADAM",
            "Name": f"{study} ADaM",
            "Description": "ADaM datasets written by lupuscell export cdisc",
            _def("DefineVersion"): "2.0.0",
            _def("StandardName"): "ADaM-IG",
            _def("StandardVersion"): "1.1",
        },
    )
    for dataset, frame in frames.items():
        _item_group(mdv, dataset, frame, identified)
    for dataset, frame in frames.items():
        _item_defs(mdv, dataset, frame, identified)
    used = {v["codelist"] for d in frames for v in variables(d, identified) if v.get("codelist")}
    _codelist_elements(mdv, used)
    return etree.ElementTree(root)


def write_define(path: Path, frames: dict[str, pd.DataFrame], *, study: str, identified: bool) -> None:
    define_document(frames, study=study, identified=identified).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
