"""An independent plain-pandas evaluation of a protocol over OMOP Parquet tables.

Written apart from the Ibis compiler (:mod:`lupuscell.screening.compile`) and from the
per-person evaluator, straight from the rules as documented: it is the reference the
cross-engine test holds DuckDB, PostgreSQL and Spark to, and the baseline of
``benchmarks/screen_scale.py``. Verdicts: 0 not met, 1 unknown, 2 met.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from lupuscell.protocols import measures
from lupuscell.protocols.catalog import Bundle

COLUMNS = {
    "person": ["person_id", "gender_concept_id", "year_of_birth"],
    "observation_period": ["person_id", "observation_period_start_date", "observation_period_end_date"],
    "condition_occurrence": ["person_id", "condition_concept_id", "condition_start_date"],
    "drug_exposure": ["person_id", "drug_concept_id", "drug_exposure_start_date"],
    "measurement": [
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "value_as_number",
        "unit_concept_id",
    ],
    "visit_occurrence": ["person_id", "visit_occurrence_id", "visit_concept_id", "visit_start_date"],
    "concept": ["concept_id", "invalid_reason"],
    "concept_ancestor": ["ancestor_concept_id", "descendant_concept_id"],
}


def read_tables(folder: Path, max_person: int | None = None) -> dict[str, pd.DataFrame]:
    """The OMOP tables as DataFrames (dates as datetime64), optionally persons <= max_person."""
    out = {}
    for name, cols in COLUMNS.items():
        dataset = ds.dataset(str(folder / name), format="parquet")
        flt = (ds.field("person_id") <= max_person) if max_person and "person_id" in cols else None
        frame = dataset.to_table(columns=cols, filter=flt).to_pandas()
        for col in cols:
            if col.endswith("_date"):
                frame[col] = pd.to_datetime(frame[col])
        out[name] = frame
    return out


def resolve(bundle: Bundle, tables: dict[str, pd.DataFrame]) -> dict[str, set[int]]:
    ca = tables["concept_ancestor"].merge(
        tables["concept"], left_on="descendant_concept_id", right_on="concept_id"
    )
    ca = ca[ca["invalid_reason"].isna()]
    below = ca.groupby("ancestor_concept_id")["descendant_concept_id"].apply(set).to_dict()
    sets = {}
    for name, cs in bundle.concept_sets.items():
        inc = {i.concept_id for i in cs.items if not i.exclude}
        exc = {i.concept_id for i in cs.items if i.exclude}
        for item in cs.items:
            if item.descendants:
                (exc if item.exclude else inc).update(below.get(item.concept_id, set()))
        sets[name] = inc - exc
    return sets


def _window(frame: pd.DataFrame, col: str, window, index: dt.date) -> pd.DataFrame:
    idx = pd.Timestamp(index)
    keep = frame[col] <= idx + pd.Timedelta(days=window.end)
    if window.start is not None:
        keep &= frame[col] >= idx + pd.Timedelta(days=window.start)
    return frame[keep]


def _leaf(
    c, t: dict[str, pd.DataFrame], sets: dict[str, set[int]], index: dt.date, persons: pd.Index
) -> pd.Series:
    idx = pd.Timestamp(index)
    if c.kind == "observation":
        op = t["observation_period"]
        ok = op[
            (op.observation_period_start_date <= idx - pd.Timedelta(days=c.prior_days))
            & (op.observation_period_end_date >= idx)
        ]
        return pd.Series(np.where(persons.isin(ok.person_id), 2, 0), index=persons)
    if c.kind == "age":
        age = index.year - t["person"].set_index("person_id").year_of_birth.reindex(persons)
        ok = pd.Series(True, index=persons)
        if c.min is not None:
            ok &= age >= c.min
        if c.max is not None:
            ok &= age <= c.max
        return pd.Series(np.where(age.isna(), 1, np.where(ok, 2, 0)), index=persons)
    if c.kind == "sex":
        g = t["person"].set_index("person_id").gender_concept_id.reindex(persons)
        allowed = [{"F": 8532, "M": 8507}[s] for s in c.allowed]
        return pd.Series(np.where(g.isin(allowed), 2, np.where(g.isin([8532, 8507]), 0, 1)), index=persons)
    if c.kind == "condition":
        co = t["condition_occurrence"]
        co = _window(
            co[co.condition_concept_id.isin(sets[c.concept_set])], "condition_start_date", c.window, index
        )
        n = co.groupby("person_id").condition_start_date.nunique().reindex(persons, fill_value=0)
        hit = n >= c.min_occurrences
        return pd.Series(np.where(hit == (c.presence == "present"), 2, 0), index=persons)
    if c.kind == "drug_history":
        de = t["drug_exposure"]
        found = []
        for m, member in enumerate(c.members):
            ids = set().union(*(sets[cs] for cs in member.concept_sets))
            rows = _window(de[de.drug_concept_id.isin(ids)], "drug_exposure_start_date", c.window, index)
            found.append(pd.DataFrame({"person_id": rows.person_id.unique(), "member": m}))
        allm = pd.concat(found)
        n = allm.groupby("person_id").member.nunique().reindex(persons, fill_value=0)
        return pd.Series(np.where(n >= c.min_distinct, 2, 0), index=persons)
    if c.kind == "visit_count":
        vo = t["visit_occurrence"]
        vo = _window(vo[vo.visit_concept_id.isin(sets[c.concept_set])], "visit_start_date", c.window, index)
        n = vo.groupby("person_id").visit_occurrence_id.nunique().reindex(persons, fill_value=0)
        return pd.Series(np.where(n >= c.min_count, 2, 0), index=persons)
    assert c.kind == "measurement"
    me = t["measurement"]
    me = me[me.measurement_concept_id.isin(sets[c.concept_set]) & me.value_as_number.notna()]
    me = _window(me, "measurement_date", c.window, index).copy()
    unit_names = measures.omop_units()
    unit = me.unit_concept_id.fillna(0).astype(int)
    factor = unit.map(
        lambda u: measures.factor(c.analyte, unit_names[u], c.threshold.unit) if u in unit_names else None
    )
    me["v"] = me.value_as_number * factor.astype(float)
    me = me[me.v.notna()]
    last = me.groupby("person_id").measurement_date.transform("max")
    day = me[me.measurement_date == last]
    value = (
        day.groupby("person_id").v.min() if c.operator in (">=", ">") else day.groupby("person_id").v.max()
    )
    t_ = c.threshold.value
    ok = {">=": value >= t_, ">": value > t_, "<=": value <= t_, "<": value < t_}[c.operator]
    return pd.Series(np.where(ok, 2, 0), index=ok.index).reindex(persons, fill_value=1)


def _verdict(c, t, sets, index, persons) -> pd.Series:
    if c.kind == "all":
        return pd.concat([_verdict(x, t, sets, index, persons) for x in c.criteria], axis=1).min(axis=1)
    if c.kind == "any":
        return pd.concat([_verdict(x, t, sets, index, persons) for x in c.criteria], axis=1).max(axis=1)
    if c.kind == "not":
        return 2 - _verdict(c.criterion, t, sets, index, persons)
    return _leaf(c, t, sets, index, persons)


def pandas_screen(bundle: Bundle, tables: dict[str, pd.DataFrame], index: dt.date, floor: int = 1):
    """(verdicts per person and criterion, attrition remaining list, candidate person ids)."""
    sets = resolve(bundle, tables)
    persons = pd.Index(tables["person"].person_id.sort_values().to_numpy(), name="person_id")
    verdicts = pd.DataFrame(
        {c.id: _verdict(c, tables, sets, index, persons) for c in bundle.protocol.criteria}
    )
    alive = pd.Series(True, index=persons)
    remaining = []
    for c in bundle.protocol.criteria:
        alive &= verdicts[c.id] >= floor
        remaining.append(int(alive.sum()))
    return verdicts, remaining, list(verdicts.index[alive])
