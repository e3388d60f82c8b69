"""Vectorised visit-table scoring equals the per-visit functions (spec sections 1, 5, 6)."""

from __future__ import annotations

import math
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lupuscell.errors import ValidationError
from lupuscell.instruments import bulk
from lupuscell.instruments.bulk import score_visit_table
from lupuscell.instruments.response import score_doris_2021, score_lldas
from lupuscell.instruments.sledai2k import DESCRIPTORS, score_sledai_2k

FLAGS = (
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity_since_previous_assessment",
    "standard_maintenance_therapy_well_tolerated",
    "immunosuppressives_and_biologics_stable",
)
maybe_bool = st.sampled_from([True, False, False, False, None])
rare_bool = st.sampled_from([True, False, False, False, False, False, False, False, False, None])
pgas = st.one_of(
    st.integers(0, 30).map(lambda t: t / 10), st.sampled_from([0.45, 1.05, 0.1 + 0.2, 1.4 - 0.4]), st.none()
)
doses = st.one_of(st.sampled_from([0.0, 2.5, 5.0, 5.01, 7.5, 7.51, 10.0, 2.5 * 3]), st.none())
rows = st.fixed_dictionaries(
    {
        **dict.fromkeys(DESCRIPTORS, rare_bool),
        **dict.fromkeys(FLAGS, maybe_bool),
        "pga": pgas,
        "prednisolone_mg_per_day": doses,
    }
)


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    for col in (*DESCRIPTORS, *FLAGS):
        frame[col] = frame[col].astype("boolean")
    for col in ("pga", "prednisolone_mg_per_day"):
        frame[col] = frame[col].astype("float64")
    return frame


def _per_visit(row: dict[str, Any], **rules: str) -> dict[str, Any]:
    sledai = score_sledai_2k({"descriptors": {d: row[d] for d in DESCRIPTORS}})
    activity: dict[str, Any] = {
        "sledai_2k_active_descriptors": [d for d in DESCRIPTORS if row[d] is True],
        "unassessed_descriptors": [d for d in DESCRIPTORS if row[d] is None],
    }
    for key in ("pga", "prednisolone_mg_per_day"):
        if row[key] is not None:
            activity[key] = row[key]
    flags = {k: row[k] for k in FLAGS if row[k] is not None}
    lldas = score_lldas(
        {**activity, **{k: v for k, v in flags.items() if k != "immunosuppressives_and_biologics_stable"}}
    )
    doris_flags = {k: v for k, v in flags.items() if k == "immunosuppressives_and_biologics_stable"}
    doris = score_doris_2021({**activity, **doris_flags, **rules})
    return {
        "sledai_2k": sledai["sledai_2k"],
        "clinical_sledai": sledai["clinical_sledai"],
        "lldas": lldas["lldas"],
        "doris_remission": doris["doris_remission"],
        "lldas_failed_criteria": ",".join(lldas["failed_criteria"]),
        "doris_failed_criteria": ",".join(doris["failed_criteria"]),
    }


def _na(value: Any) -> Any:
    return None if value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(rows, min_size=1, max_size=25),
    st.sampled_from(["lt_0_5", "le_0_5"]),
    st.sampled_from(["le_5", "lt_5"]),
    st.sampled_from([bulk.BLOCK_ROWS, 4]),
)
def test_vectorised_equals_per_visit(
    records: list[dict[str, Any]], pga_rule: str, pred_rule: str, block_rows: int
) -> None:
    with patch.object(bulk, "BLOCK_ROWS", block_rows):  # 4: tables span several blocks
        scored = score_visit_table(
            _frame(records), pga_rule=pga_rule, prednisolone_rule=pred_rule, failed_criteria=True
        )
    for i, row in enumerate(records):
        expected = _per_visit(row, pga_rule=pga_rule, prednisolone_rule=pred_rule)
        got = {k: _na(scored[k].iloc[i]) for k in expected}
        if got["sledai_2k"] is not None:
            got["sledai_2k"] = int(got["sledai_2k"])
            got["clinical_sledai"] = int(got["clinical_sledai"])
        for key in ("lldas", "doris_remission"):
            got[key] = None if got[key] is None else bool(got[key])
        assert got == expected, (i, row)


def test_output_types_and_input_untouched() -> None:
    records = [
        {
            **dict.fromkeys(DESCRIPTORS, False),
            **dict.fromkeys(FLAGS, False),
            "pga": 0.0,
            "prednisolone_mg_per_day": 0.0,
        }
    ]
    records[0].update(
        standard_maintenance_therapy_well_tolerated=True, immunosuppressives_and_biologics_stable=True
    )
    frame = _frame(records)
    before = frame.copy()
    scored = score_visit_table(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert str(scored["sledai_2k"].dtype) == "Int16" and str(scored["lldas"].dtype) == "boolean"
    assert bool(scored["lldas"].iloc[0]) and bool(scored["doris_remission"].iloc[0])


def test_plain_numpy_bool_columns() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.random((500, 24)) < 0.2
    frame = pd.DataFrame(matrix, columns=list(DESCRIPTORS))
    scored = score_visit_table(frame, instruments=("sledai_2k", "clinical_sledai"))
    weights = np.array([score_sledai_2k({"descriptors": {d: True}})["sledai_2k"] for d in DESCRIPTORS])
    assert (scored["sledai_2k"].to_numpy(dtype=int) == matrix.astype(int) @ weights).all()
    assert "lldas" not in scored


def test_missing_descriptor_gives_na_never_false() -> None:
    frame = pd.DataFrame({d: pd.array([False, None], dtype="boolean") for d in DESCRIPTORS})
    scored = score_visit_table(frame, instruments=("sledai_2k",))
    assert scored["sledai_2k"].iloc[0] == 0 and scored["sledai_2k"].iloc[1] is pd.NA


def test_missing_columns_and_bad_values_rejected() -> None:
    frame = pd.DataFrame({d: [False] for d in DESCRIPTORS})
    with pytest.raises(ValidationError, match="pga: required column is missing"):
        score_visit_table(frame)
    with pytest.raises(ValidationError, match="seizure"):
        score_visit_table(frame.assign(seizure=["maybe"]), instruments=("sledai_2k",))
    full = frame.assign(pga=[3.5], prednisolone_mg_per_day=[0.0], **{key: [True] for key in FLAGS})
    with pytest.raises(ValidationError, match=r"pga: out of range in rows 0 \(allowed range: 0 to 3\)"):
        score_visit_table(full)
    with pytest.raises(ValidationError, match="instruments"):
        score_visit_table(full, instruments=("sdi",))


def test_empty_frame_index_kept_and_rescoring_replaces_columns() -> None:
    row = {**dict.fromkeys(DESCRIPTORS, False), **dict.fromkeys(FLAGS, True), "pga": 0.2}
    row.update(prednisolone_mg_per_day=2.5, rash=True, new_activity_since_previous_assessment=False)
    row.update(haemolytic_anaemia=False, gastrointestinal_activity=False)
    frame = _frame([row, {**row, "fever": True}])
    assert score_visit_table(frame.iloc[:0]).shape == (0, frame.shape[1] + 4)
    frame.index = pd.Index([10, 42])
    scored = score_visit_table(frame)
    assert scored.index.tolist() == [10, 42]
    assert scored.loc[42, "sledai_2k"] == 3 and scored.loc[10, "lldas"] and not scored.loc[42, "lldas"]
    again = score_visit_table(scored)
    assert list(again.columns) == list(scored.columns)


def test_large_table_spans_several_blocks() -> None:
    rng = np.random.default_rng(7)
    n = 300_000  # > 2 blocks of 131,072 rows
    frame = pd.DataFrame({d: rng.random(n) < 0.1 for d in DESCRIPTORS})
    scored = score_visit_table(frame, instruments=("sledai_2k",))
    weights = np.array([score_sledai_2k({"descriptors": {d: True}})["sledai_2k"] for d in DESCRIPTORS])
    matrix = np.column_stack([frame[d].to_numpy() for d in DESCRIPTORS])
    assert (scored["sledai_2k"].to_numpy(dtype=int) == matrix.astype(int) @ weights).all()
