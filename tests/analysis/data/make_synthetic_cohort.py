"""Writes synthetic_cohort.csv: a seeded cohort with delayed entry, ties and two competing causes.

Run from this folder: ``python make_synthetic_cohort.py``. The R scripts under ../r read the CSV,
so R and the Python tests see exactly the same numbers (all values are integers or have at most
two decimals). Effects (assumed, for testing only): hazard of relapse x exp(0.04) per SLEDAI-2K
point, x1.5 with nephritis, x2 after MSC vs autologous HSCT; non-relapse mortality rises with
age (x exp(0.03) per year). Subjects enter at day 0 (60 %) or later (uniform 1-400 days: e.g.
referred after treatment elsewhere); those whose follow-up ends before entry are never seen
(left truncation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make(n: int = 900, seed: int = 20240601) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = np.round(rng.normal(38, 11, n), 1)
    sledai = rng.integers(2, 26, n)
    nephritis = rng.integers(0, 2, n)
    therapy = rng.choice(["autologous_hsct", "msc", "car_t"], n, p=[0.4, 0.4, 0.2])
    lin_rel = 0.04 * sledai + np.log(1.5) * nephritis + np.where(therapy == "msc", np.log(2.0), 0.0)
    relapse = np.ceil(rng.exponential(2500 * np.exp(-lin_rel)))
    nrm = np.ceil(rng.exponential(4000 * np.exp(-0.03 * (age - 38))))
    censor = np.ceil(rng.uniform(60, 2200, n))
    time = np.minimum.reduce([relapse, nrm, censor])
    status = np.where(time == censor, 0, np.where(time == relapse, 1, 2))
    entry = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 401, n))
    keep = time > entry
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "entry": entry,
            "time": time.astype(int),
            "status": status,
            "age": age,
            "sledai": sledai,
            "nephritis": nephritis,
            "therapy": therapy,
        }
    )
    return frame[keep].reset_index(drop=True)


if __name__ == "__main__":
    make().to_csv("synthetic_cohort.csv", index=False)
