"""The synthetic OMOP population: OMOP-shaped, deterministic, streamed in parts, SLE at the
published prevalence by default, about 100 event rows per person, and its vocabulary notes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from lupuscell.screening.omop import REQUIRED
from lupuscell.synth.omop import (
    DEFAULT_SLE_PREVALENCE,
    PART_SIZE,
    OmopSynthConfig,
    iter_parts,
    vocabulary_rows,
    write_omop,
)


def test_every_required_column_is_written(tmp_path: Path) -> None:
    write_omop(OmopSynthConfig(500, seed=1, sle_prevalence=0.05), tmp_path)
    for table, columns in REQUIRED.items():
        names = ds.dataset(str(tmp_path / table), format="parquet").schema.names
        assert set(columns) <= set(names), table
    notes = pq.read_table(tmp_path / "concept" / "part-00000.parquet").num_rows
    assert (
        notes == len(vocabulary_rows())
        and (tmp_path / "vocabulary_notes.csv").read_text().count("\n") == notes + 1
    )


def test_same_seed_same_data_and_ids_unique_across_parts() -> None:
    cfg = OmopSynthConfig(PART_SIZE + 700, seed=11, sle_prevalence=0.01)
    first = [t["measurement"] for _, t in iter_parts(cfg)]
    second = [t["measurement"] for _, t in iter_parts(cfg)]
    assert len(first) == 2 and all(a.equals(b) for a, b in zip(first, second, strict=True))
    ids = np.concatenate([t["measurement_id"].to_numpy() for t in first])
    assert np.unique(ids).size == ids.size
    other = next(iter_parts(OmopSynthConfig(PART_SIZE + 700, seed=12, sle_prevalence=0.01)))[1]["measurement"]
    assert not other.equals(first[0])


def test_default_prevalence_is_realistic_and_volume_is_about_100_rows_per_person() -> None:
    n, codes, events = 100_000, 0, 0
    for _, tables in iter_parts(OmopSynthConfig(n, seed=3)):
        cond = tables["condition_occurrence"]
        sle = np.isin(
            cond["condition_concept_id"].to_numpy(), [257628, 37016279, 46273369, 4300204, 4319305, 4145240]
        )
        codes += np.unique(cond["person_id"].to_numpy()[sle]).size
        events += sum(
            tables[t].num_rows
            for t in ("condition_occurrence", "drug_exposure", "measurement", "visit_occurrence")
        )
    expected = n * DEFAULT_SLE_PREVALENCE  # 72.8 per 100,000 (Izmirly 2021)
    assert abs(codes - expected) < 4 * np.sqrt(expected)
    assert 85 <= events / n <= 115


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="persons"):
        OmopSynthConfig(0, seed=1)
    with pytest.raises(ValueError, match="sle_prevalence"):
        OmopSynthConfig(10, seed=1, sle_prevalence=1.5)
