"""Acceptance: DuckDB, PostgreSQL and Spark give the same candidates and attrition counts on
10,000 synthetic persons, equal to an independent plain-pandas evaluation
(``pandas_screen.py``), for every shipped protocol; and every shipped criterion excludes someone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas_screen import pandas_screen, read_tables

from lupuscell.protocols.catalog import load_bundle, shipped_protocol_names
from lupuscell.screening.omop import open_source
from lupuscell.screening.run import ScreenResult, screen
from lupuscell.synth.omop import CUTOFF

PROTOCOLS = shipped_protocol_names()


@pytest.fixture(scope="module")
def reference(omop_10k: Path) -> dict[str, tuple[pd.DataFrame, list[int], list[int]]]:
    tables = read_tables(omop_10k)
    return {name: pandas_screen(load_bundle(name), tables, CUTOFF) for name in PROTOCOLS}


def _run_all(source: Any) -> dict[str, ScreenResult]:
    try:
        return {name: screen(load_bundle(name), source) for name in PROTOCOLS}
    finally:
        source.close()


@pytest.fixture(scope="module")
def duckdb_results(omop_10k: Path) -> dict[str, ScreenResult]:
    return _run_all(open_source(str(omop_10k), "duckdb"))


def _check(results: dict[str, ScreenResult], reference: dict[str, Any]) -> None:
    for name, result in results.items():
        verdicts, remaining, candidates = reference[name]
        assert result.index_date == CUTOFF
        assert result.persons == 10_000
        assert list(result.attrition["criterion_id"]) == [c.id for c in load_bundle(name).protocol.criteria]
        assert list(result.attrition["remaining"]) == remaining, name
        assert list(result.candidates["person_id"]) == candidates, name
        for criterion in result.candidates.columns[1:]:
            expected = verdicts.loc[candidates, criterion].map({2: "met", 1: "unknown", 0: "not_met"})
            assert list(result.candidates[criterion]) == list(expected), (name, criterion)


def test_duckdb_equals_pandas_reference(duckdb_results, reference) -> None:
    _check(duckdb_results, reference)


@pytest.mark.postgres
def test_postgres_equals_duckdb_and_pandas(omop_10k: Path, pg_url: str, duckdb_results, reference) -> None:
    from lupuscell.screening.load import load_parquet_folder

    load_parquet_folder(omop_10k, pg_url, schema="omop")
    results = _run_all(open_source(pg_url, "postgres", schema="omop"))
    _check(results, reference)
    for name in PROTOCOLS:
        pd.testing.assert_frame_equal(results[name].evidence, duckdb_results[name].evidence)


@pytest.mark.slow
def test_spark_equals_duckdb_and_pandas(omop_10k: Path, spark: Any, duckdb_results, reference) -> None:
    results = _run_all(open_source(str(omop_10k), "spark", spark_session=spark))
    _check(results, reference)
    for name in PROTOCOLS:
        pd.testing.assert_frame_equal(results[name].evidence, duckdb_results[name].evidence)


def test_every_shipped_criterion_excludes_someone(duckdb_results) -> None:
    for name, result in duckdb_results.items():
        before = [result.persons, *result.attrition["remaining"][:-1]]
        excluded = [b - r for b, r in zip(before, result.attrition["remaining"], strict=True)]
        assert all(n > 0 for n in excluded), (
            name,
            dict(zip(result.attrition["criterion_id"], excluded, strict=True)),
        )
        assert len(result.candidates) > 0
