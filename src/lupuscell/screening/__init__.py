"""Protocol eligibility compiled to SQL over OMOP CDM v5.4 data: DuckDB, PostgreSQL, Spark.

The criteria of a protocol (:mod:`lupuscell.protocols`) are compiled by Ibis
(:mod:`lupuscell.screening.compile`) into each engine's SQL dialect; no SQL text is written by
hand. :func:`open_source` connects to the data and checks the tables and columns a protocol
needs before any query; :func:`screen` returns the candidates with the evidence per criterion
and a CONSORT-style attrition table; :func:`attrition_figure` draws it;
:mod:`lupuscell.screening.export` writes the files.

Public API
----------
screen_omop, ScreenResult, ENGINES
    Run a protocol over OMOP CDM tables on an engine; candidates, attrition and evidence.
OmopSource, spark_session
    Where the OMOP tables are (Parquet folder, .duckdb file, PostgreSQL URL, Spark), a local Spark.
resolve_concept_sets
    A protocol's concept sets expanded through ``concept_ancestor``.
"""

from __future__ import annotations

from lupuscell.screening.attrition import attrition_figure
from lupuscell.screening.omop import ENGINES, OmopSource, open_source, spark_session
from lupuscell.screening.run import ScreenResult, resolve_concept_sets, screen, screen_omop

__all__ = [
    "ENGINES",
    "OmopSource",
    "ScreenResult",
    "attrition_figure",
    "open_source",
    "resolve_concept_sets",
    "screen",
    "screen_omop",
    "spark_session",
]
