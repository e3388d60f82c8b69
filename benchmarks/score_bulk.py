"""Benchmark: vectorised visit-table scoring against a per-visit loop and a numpy limit.

Scores SLEDAI-2K + clinical SLEDAI + LLDAS + DORIS 2021 for N visits (default 10,000,000,
generated and scored in chunks of 1,000,000 to keep memory around 0.3 GB) with
:func:`lupuscell.instruments.bulk.score_visit_table`, and compares in the same run with:

* **loop**: the per-visit functions (``score_sledai_2k``, ``score_lldas``,
  ``score_doris_2021``) called in a Python loop over a 100,000-visit sample, extrapolated
  to N. The per-visit inputs are built before the clock starts, so the loop is timed
  generously.
* **numpy limit**: a plain numpy weighted sum (SLEDAI-2K only) over the same boolean
  descriptor matrix, ``X @ w``. This is the practical limit for any table scorer. Three
  layouts/dtypes are timed and the fastest is used as the limit.

Data: descriptor prevalence 3-15 % per item with 0.1 % missing cells, PGA in tenths 0-3,
prednisolone from {0, 2.5, 5, 7.5, 10, 20}. Seconds are sums over all chunks (scoring only, not
data generation); the per-chunk ratio range shows the noise of a shared machine.

Usage: ``python benchmarks/score_bulk.py [--visits N] [--sample 100000] [--chunk 1000000]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from lupuscell.instruments.bulk import score_visit_table
from lupuscell.instruments.response import score_doris_2021, score_lldas
from lupuscell.instruments.sledai2k import DESCRIPTORS, WEIGHTS, score_sledai_2k

FLAGS = (
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity_since_previous_assessment",
    "standard_maintenance_therapy_well_tolerated",
    "immunosuppressives_and_biologics_stable",
)


def make_chunk(rng: np.random.Generator, n: int, missing: float = 0.001) -> pd.DataFrame:
    prevalence = rng.uniform(0.03, 0.15, len(DESCRIPTORS))
    columns: dict[str, object] = {}
    for d, p in zip(DESCRIPTORS, prevalence, strict=True):
        values = rng.random(n) < p
        na = rng.random(n) < missing
        columns[d] = pd.arrays.BooleanArray(values, na) if missing else values
    columns["pga"] = rng.integers(0, 31, n) / 10
    columns["prednisolone_mg_per_day"] = rng.choice([0.0, 2.5, 5.0, 7.5, 10.0, 20.0], n)
    for flag in FLAGS:
        columns[flag] = rng.random(n) < (0.9 if flag.startswith(("standard", "immuno")) else 0.05)
    return pd.DataFrame(columns)


def descriptor_matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame[d].to_numpy(dtype=bool, na_value=False) for d in DESCRIPTORS])


def numpy_limit(matrix: np.ndarray) -> tuple[float, str]:
    weights = np.array([WEIGHTS[d] for d in DESCRIPTORS])
    variants = {
        "bool @ int64": lambda: matrix @ weights,
        "uint8 @ uint8": lambda: matrix.view(np.uint8) @ weights.astype(np.uint8),
        "float32 BLAS (incl. cast)": lambda: matrix.astype(np.float32) @ weights.astype(np.float32),
    }
    timings = {}
    for name, fn in variants.items():
        start = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - start
    best = min(timings, key=timings.__getitem__)
    return timings[best], best


def per_visit_inputs(frame: pd.DataFrame) -> list[tuple[dict, dict, dict]]:
    inputs = []
    for row in frame.to_dict("records"):
        states = {d: (None if pd.isna(row[d]) else bool(row[d])) for d in DESCRIPTORS}
        activity = {
            "sledai_2k_active_descriptors": [d for d, v in states.items() if v],
            "unassessed_descriptors": [d for d, v in states.items() if v is None],
            "pga": float(row["pga"]),
            "prednisolone_mg_per_day": float(row["prednisolone_mg_per_day"]),
        }
        lldas = {**activity, **{f: bool(row[f]) for f in FLAGS[:4]}}
        doris = {**activity, FLAGS[4]: bool(row[FLAGS[4]])}
        inputs.append(({"descriptors": states}, lldas, doris))
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    # 1. per-visit loop on a sample
    sample = make_chunk(rng, args.sample)
    inputs = per_visit_inputs(sample)
    start = time.perf_counter()
    loop_results = [(score_sledai_2k(s), score_lldas(ll), score_doris_2021(dr)) for s, ll, dr in inputs]
    loop_seconds = time.perf_counter() - start
    vec = score_visit_table(sample)
    agree = all(
        (
            s["sledai_2k"] is None
            if vec["sledai_2k"].iloc[i] is pd.NA
            else s["sledai_2k"] == vec["sledai_2k"].iloc[i]
        )
        and (ll["lldas"] is None if vec["lldas"].iloc[i] is pd.NA else ll["lldas"] == vec["lldas"].iloc[i])
        and (
            dr["doris_remission"] is None
            if vec["doris_remission"].iloc[i] is pd.NA
            else dr["doris_remission"] == vec["doris_remission"].iloc[i]
        )
        for i, (s, ll, dr) in enumerate(loop_results)
    )
    del inputs, loop_results, vec

    # 2. vectorised path and numpy limit over all visits, chunk by chunk
    ours: list[float] = []
    limit: list[float] = []
    limit_name = ""
    done = 0
    while done < args.visits:
        n = min(args.chunk, args.visits - done)
        frame = make_chunk(rng, n)
        matrix = descriptor_matrix(frame)
        start = time.perf_counter()
        score_visit_table(frame)
        ours.append(time.perf_counter() - start)
        seconds, limit_name = numpy_limit(matrix)
        limit.append(seconds)
        done += n
        del frame, matrix

    limit_label = f"numpy limit ({limit_name}, SLEDAI only)"
    seconds_for_n = {
        "per-visit loop (extrapolated)": loop_seconds / args.sample * args.visits,
        "lupuscell score_visit_table": sum(ours),
        limit_label: sum(limit),
    }
    ours_total = seconds_for_n["lupuscell score_visit_table"]
    print(
        f"visits: {args.visits:,} (chunks of {args.chunk:,}); loop sample: {args.sample:,}; "
        f"vectorised == loop on the sample: {agree}"
    )
    print(f"{'path':<48} {'seconds for N':>14} {'visits/s':>14} {'path / ours':>12}")
    for name, seconds in seconds_for_n.items():
        print(f"{name:<48} {seconds:>14.2f} {args.visits / seconds:>14,.0f} {seconds / ours_total:>12.2f}")
    ratios = sorted(o / li for o, li in zip(ours, limit, strict=True))
    print(
        f"goal: >= 200x the loop -> {seconds_for_n['per-visit loop (extrapolated)'] / ours_total:,.0f}x; "
        f"within 3x of the numpy limit -> {ours_total / seconds_for_n[limit_label]:.2f}x slower "
        f"(per chunk: min {ratios[0]:.2f}, median {statistics.median(ratios):.2f}, max {ratios[-1]:.2f})"
    )


if __name__ == "__main__":
    main()
