"""CDISC ADaM export: ADSL, ADTTE and ADRS as SAS transport v5 (XPT), CSV and Parquet, with
Define-XML 2.0 metadata.

``lupuscell export cdisc --out DIR`` builds the analysis datasets of the outcomes engine
(:func:`lupuscell.outcomes.datasets.build_datasets`: endpoints are derived there, once, and not
again here) and renames, labels and types them as ADaM datasets. The variable table is data,
``lupuscell/data/interop/cdisc_adam.yaml`` (names of at most 8 characters, labels of at most 40,
Char/Num/Date types, codelists):

* **ADSL**, one record per subject (CDISC ADaM Implementation Guide v1.1, section 3);
* **ADTTE**, one record per subject and parameter: OS, RFS (relapse-free survival: flare or
  death), REM (time to DORIS remission), LLDAS, REL (relapse, non-relapse death competing),
  NRM (non-relapse mortality, relapse competing), with ``CNSR`` = 0 for the event and a
  positive integer per censoring reason (1 censored at last contact, 2 censored at a
  competing event; ADaM Basic Data Structure for Time-to-Event Analyses v1.0) and ``EVCODE``
  0/1/2 for competing-risks readers;
* **ADRS**, one record per subject, parameter and visit (BDS): SLEDAI-2K, clinical SLEDAI-2K,
  LLDAS and DORIS remission (``AVALC`` Y/N), PGA and prednisone dose.

Files are written with pyreadstat (``write_xport``, ``file_format_version=5``: the FDA's
required transport format, "Study Data Technical Conformance Guide"), and ``define.xml`` by
:mod:`lupuscell.interop.cdisc_define`.

De-identified by default, with the registry's rules (:data:`lupuscell.interop._registry_io.DEIDENTIFICATION`):
random subject ids, no calendar dates (``TRTSDT``, ``STARTDT``, ``ADT`` are left out; study days
stay), age in whole years top-coded at 90, death causes coded. ``identified=True`` keeps the codes and dates.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy.engine import Engine

from lupuscell import __version__
from lupuscell.interop import _registry_io as rio
from lupuscell.outcomes.datasets import AnalysisDatasets, build_datasets

DATASETS = ("ADSL", "ADTTE", "ADRS")
MAX_LABEL = 40
MAX_NAME = 8


@cache
def spec() -> dict[str, Any]:
    """The ADaM variable table (``data/interop/cdisc_adam.yaml``)."""
    text = resources.files("lupuscell.data").joinpath("interop/cdisc_adam.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def variables(dataset: str, identified: bool) -> list[dict[str, Any]]:
    """The variables of ``dataset`` written in this mode (calendar dates only when identified)."""
    return [v for v in spec()["datasets"][dataset]["variables"] if identified or not v.get("identified")]


def _flag(value: Any, y_or_null: bool) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if bool(value):
        return "Y"
    return "" if y_or_null else "N"


@dataclass(frozen=True)
class _Context:
    study: str
    identified: bool
    subject: dict[str, str]
    """Registry patient code -> SUBJID."""
    start: dict[str, Any]
    """Registry patient code -> day 0 (TRTSDT)."""


def _column(frame: pd.DataFrame, var: dict[str, Any], ctx: _Context, code: pd.Series) -> pd.Series:
    source = var["from"]
    if isinstance(source, str) and source.startswith("="):
        return pd.Series([source[1:]] * len(frame), index=frame.index)
    if source == "study":
        return pd.Series([ctx.study] * len(frame), index=frame.index)
    if source == "subjid":
        return code.map(ctx.subject)
    if source == "usubjid":
        return ctx.study + "-" + code.map(ctx.subject)
    values = frame[source]
    if var.get("flag"):
        return values.map(lambda v: _flag(v, var["name"] == "DTHFL"))
    return values


def _adsl(ds: AnalysisDatasets, ctx: _Context) -> pd.DataFrame:
    adsl = ds.adsl.copy()
    code = adsl["USUBJID"].astype(str)
    if not ctx.identified:
        adsl["AGE"] = rio.age_in_whole_years(adsl["AGE"])
        adsl["DTHCAUS"] = [rio.death_cause_category(c, None) for c in adsl["DTHCAUS"]]
    out = pd.DataFrame({v["name"]: _column(adsl, v, ctx, code) for v in variables("ADSL", ctx.identified)})
    return out.sort_values("USUBJID", kind="stable").reset_index(drop=True)


def _adtte(ds: AnalysisDatasets, ctx: _Context) -> pd.DataFrame:
    tte = ds.adtte.copy()
    code = tte["USUBJID"].astype(str)
    labels = {int(k): v for k, v in spec()["cnsr"].items()}
    tte["cnsr"] = np.select([tte["EVCODE"] == 1, tte["EVCODE"] == 2], [0, 2], 1).astype(int)
    tte["cnsdtdsc"] = [labels[c] if c else "" for c in tte["cnsr"]]
    tte["start"] = code.map(ctx.start)
    tte["adt"] = [
        None if s is None or pd.isna(a) else s + dt.timedelta(days=float(a))
        for s, a in zip(tte["start"], tte["AVAL"], strict=True)
    ]
    out = pd.DataFrame({v["name"]: _column(tte, v, ctx, code) for v in variables("ADTTE", ctx.identified)})
    return out.sort_values(["USUBJID"], kind="stable").reset_index(drop=True)


def _adrs(ds: AnalysisDatasets, ctx: _Context) -> pd.DataFrame:
    wide = ds.adrs
    long = []
    for paramcd, p in spec()["adrs_parameters"].items():
        part = wide[["USUBJID", "THERAPY", "ADY", "AVISIT", "AVISITN"]].copy()
        values = wide[paramcd]
        part["PARAMCD"], part["PARAM"] = paramcd, p["param"]
        if p["kind"] == "flag":
            part["AVALC"] = values.map(lambda v: _flag(v, False))
            part["AVAL"] = [np.nan if c == "" else float(c == "Y") for c in part["AVALC"]]
        else:
            part["AVAL"] = pd.to_numeric(values, errors="coerce").astype(float)
            part["AVALC"] = ""
        long.append(part[values.notna().to_numpy()])
    frame = pd.concat(long, ignore_index=True) if long else pd.DataFrame()
    code = frame["USUBJID"].astype(str)
    out = pd.DataFrame({v["name"]: _column(frame, v, ctx, code) for v in variables("ADRS", ctx.identified)})
    order = {k: i for i, k in enumerate(spec()["adrs_parameters"])}
    out = out.assign(_o=out["PARAMCD"].map(order)).sort_values(["USUBJID", "_o", "ADY"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def adam_datasets(ds: AnalysisDatasets, *, study: str, identified: bool) -> dict[str, pd.DataFrame]:
    """ADSL, ADTTE and ADRS with CDISC names, types and (de-identified unless ``identified``) values."""
    codes = list(ds.adsl["USUBJID"].astype(str))
    subject = {c: c for c in codes} if identified else rio.subject_ids(codes)
    start = dict(zip(codes, ds.adsl["TRTSDT"], strict=True))
    ctx = _Context(study=study, identified=identified, subject=subject, start=start)
    return {"ADSL": _adsl(ds, ctx), "ADTTE": _adtte(ds, ctx), "ADRS": _adrs(ds, ctx)}


def _xpt_frame(frame: pd.DataFrame, dataset: str, identified: bool) -> tuple[pd.DataFrame, dict[str, str]]:
    """Char columns as text ('' for missing), Num as float, Date as SAS dates (format DATE9.)."""
    out = pd.DataFrame(index=frame.index)
    formats = {}
    for var in variables(dataset, identified):
        values = frame[var["name"]]
        if var["type"] == "Char":
            out[var["name"]] = [
                "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in values
            ]
        elif var["type"] == "Date":
            out[var["name"]] = [None if v is None or pd.isna(v) else v for v in values]
            formats[var["name"]] = "DATE9."
        else:
            out[var["name"]] = pd.to_numeric(values, errors="coerce").astype(float)
    return out, formats


def write_datasets(frames: dict[str, pd.DataFrame], folder: Path, identified: bool) -> list[str]:
    """``<name>.xpt`` (v5), ``.csv`` and ``.parquet`` of each dataset; file names written."""
    import pyreadstat

    written = []
    for dataset, frame in frames.items():
        data, formats = _xpt_frame(frame, dataset, identified)
        labels = [v["label"] for v in variables(dataset, identified)]
        name = dataset.lower()
        pyreadstat.write_xport(
            data,
            str(folder / f"{name}.xpt"),
            file_label=spec()["datasets"][dataset]["label"],
            column_labels=labels,
            table_name=dataset,
            file_format_version=5,
            variable_format=formats,
        )
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
        data.to_parquet(folder / f"{name}.parquet", index=False)
        written += [f"{name}.xpt", f"{name}.csv", f"{name}.parquet"]
    return written


@dataclass(frozen=True)
class CdiscExport:
    out: Path
    files: list[str]
    rows: dict[str, int]
    identified: bool


def export_cdisc(
    engine: Engine,
    out: Path,
    *,
    study: str = "LUPUSCELL",
    identified: bool = False,
    actor: str,
    reason: str | None = None,
    overwrite: bool = False,
    datasets: AnalysisDatasets | None = None,
) -> CdiscExport:
    """Derive the datasets from the registry (or take ``datasets``) and write the ADaM folder (audited)."""
    from lupuscell.interop.cdisc_define import write_define
    from lupuscell.registry.tables import from_registry

    ds = datasets if datasets is not None else build_datasets(from_registry(engine))
    frames = adam_datasets(ds, study=study, identified=identified)
    rows = {name: len(frame) for name, frame in frames.items()}
    with rio.audited_output(
        engine,
        out,
        kind="cdisc",
        identified=identified,
        actor=actor,
        reason=reason,
        rows=rows,
        directory=True,
        overwrite=overwrite,
    ) as target:
        files = write_datasets(frames, target, identified)
        write_define(target / "define.xml", frames, study=study, identified=identified)
        files.append("define.xml")
        manifest = {
            "lupuscell_version": __version__,
            "format": "cdisc-adam",
            "study": study,
            "mode": "identified" if identified else "de-identified",
            "rows": rows,
            "files": files,
            "endpoint_options": ds.options.to_dict(),
        }
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return CdiscExport(out=out, files=files, rows=rows, identified=identified)
