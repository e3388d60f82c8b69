"""Reads the R reference outputs kept beside the analysis tests (``r/*.out``) and the datasets.

Each ``.out`` line is ``label|field|v1,v2,...`` (15 significant digits, ``NA`` for missing),
printed by the ``.R`` script of the same name (see ``r/emit.R``). The data sets are R survival's
own (exported by ``data/export_datasets.R``) and the synthetic cohort of
``data/make_synthetic_cohort.py``; the R scripts read the same CSV files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


@cache
def reference(name: str) -> dict[tuple[str, str], np.ndarray]:
    out: dict[tuple[str, str], np.ndarray] = {}
    for line in (HERE / "r" / f"{name}.out").read_text().splitlines():
        label, field, values = line.split("|")
        out[(label, field)] = np.array([np.nan if v == "NA" else float(v) for v in values.split(",")])
    return out


@cache
def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / f"{name}.csv", float_precision="round_trip")


def mgus2_competing() -> pd.DataFrame:
    """mgus2 as in the survival vignette: progression (1) or death (2) first, on two time scales."""
    d = dataset("mgus2").copy()
    d["exit_age"] = d["age"] + d["futime"] / 12
    d["etime"] = np.where(d["pstat"] == 1, d["ptime"], d["futime"])
    d["event"] = np.where(d["pstat"] == 1, 1, 2 * d["death"])
    d["eexit_age"] = d["age"] + d["etime"] / 12
    return d


def pbc() -> pd.DataFrame:
    d = dataset("pbc").copy()
    d["exit_age"] = d["age"] + d["time"] / 365.25
    return d
