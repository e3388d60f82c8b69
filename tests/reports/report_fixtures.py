"""Contract-conforming analysis datasets (docs/outcomes/datasets.md) for report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def fake_datasets(n: int = 300, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    therapy = rng.choice(["autologous_hsct", "msc", "car_t"], n, p=[0.4, 0.4, 0.2])
    ids = [f"S{i:04d}" for i in range(n)]
    fup = np.ceil(rng.uniform(90, 1825, n))
    death = np.ceil(rng.exponential(3000, n))
    dth = death < fup
    last = np.where(dth, death, fup)
    rem = np.where(rng.random(n) < 0.6, np.ceil(rng.uniform(30, 200, n)), np.nan)
    rem = np.where(rem < last, rem, np.nan)
    flare = np.where(~np.isnan(rem) & (rng.random(n) < 0.4), rem + np.ceil(rng.uniform(60, 900, n)), np.nan)
    flare = np.where(flare < last, flare, np.nan)
    adsl = pd.DataFrame(
        {
            "USUBJID": ids,
            "SITEID": rng.choice(["NJU", "PUMCH"], n),
            "THERAPY": therapy,
            "AGE": rng.normal(33, 9, n).round(1),
            "SEX": rng.choice(["F", "M"], n, p=[0.9, 0.1]),
            "DIAGDUR": rng.uniform(1, 15, n).round(1),
            "NEPHRITIS": rng.random(n) < 0.6,
            "BSLEDAI": rng.integers(4, 25, n),
            "BDSDNA": rng.random(n) < 0.7,
            "BPRED": rng.choice([10.0, 20.0, 30.0], n),
            "LSTCNTDY": last.astype(int),
            "DTHFL": dth,
            "DTHDY": np.where(dth, last, np.nan),
            "FUPDY": last.astype(int),
            "first_remission_day": rem,
            "flare_day": flare,
            "max_infection_grade": rng.integers(0, 4, n),
            "max_crs_grade": np.where(therapy == "car_t", rng.integers(0, 3, n), 0),
            "max_icans_grade": np.where(therapy == "car_t", rng.integers(0, 2, n), 0),
            "max_gvhd_grade": 0,
            "doris_m6": np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5),
            "steroid_free_m12": rng.random(n) < 0.3,
        }
    )
    rfs_t = np.where(~np.isnan(flare), flare, last)
    rfs_e = ~np.isnan(flare) | dth
    relapse_first = ~np.isnan(flare)
    evcode = np.where(relapse_first, 1, np.where(dth, 2, 0))
    adtte = pd.concat(
        [
            pd.DataFrame(
                {
                    "USUBJID": ids,
                    "THERAPY": therapy,
                    "PARAMCD": "OS",
                    "PARAM": "Overall survival",
                    "AVAL": last,
                    "CNSR": (~dth).astype(int),
                    "EVNTDESC": "",
                    "EVCODE": dth.astype(int),
                }
            ),
            pd.DataFrame(
                {
                    "USUBJID": ids,
                    "THERAPY": therapy,
                    "PARAMCD": "RFS",
                    "PARAM": "Relapse-free survival",
                    "AVAL": rfs_t,
                    "CNSR": (~rfs_e).astype(int),
                    "EVNTDESC": "",
                    "EVCODE": rfs_e.astype(int),
                }
            ),
            pd.DataFrame(
                {
                    "USUBJID": ids,
                    "THERAPY": therapy,
                    "PARAMCD": "REL",
                    "PARAM": "Relapse",
                    "AVAL": rfs_t,
                    "CNSR": (evcode != 1).astype(int),
                    "EVNTDESC": "",
                    "EVCODE": evcode,
                }
            ),
        ],
        ignore_index=True,
    )
    rows = []
    for i in range(n):
        for m in (0, 1, 3, 6, 12, 18, 24):
            day = round(30.44 * m)
            if day > last[i]:
                break
            rows.append(
                {
                    "USUBJID": ids[i],
                    "THERAPY": therapy[i],
                    "ADY": day,
                    "AVISIT": f"Month {m}",
                    "AVISITN": float(m),
                    "SLEDAI2K": int(max(0, 14 - m + rng.integers(-3, 4))),
                    "CSLEDAI": None,
                    "LLDAS": None,
                    "DORIS": None,
                    "PGA": 1.0,
                    "PRED": max(0.0, 30.0 - 2.5 * m),
                }
            )
    adrs = pd.DataFrame(rows)
    return adsl, adtte, adrs
