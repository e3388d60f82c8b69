"""Benchmark: endpoints + datasets + statistics + report at 10,000 and 100,000 patients.

Each size runs in its own subprocess (so its peak memory is its own), on a synthetic cohort
generated first (generation is timed separately; it is input preparation, not the pipeline).

Baseline, measured in the same run: the per-patient pure-Python loop
(:func:`lupuscell.outcomes.reference.reference_endpoints`) on a sample of patients,
extrapolated linearly to the full size (it is linear in patients). The table shows the
pipeline's seconds per step, peak resident memory, and the ratio of the loop to the vectorised
endpoint derivation. Goal (issue 4): 100,000 patients in under 60 s on 2 cores.

Usage: python benchmarks/report_scale.py [--sizes 10000 100000] [--baseline-sample 2000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run_one(n: int, baseline_sample: int, seed: int) -> dict[str, float]:
    from lupuscell.outcomes import inputs
    from lupuscell.outcomes.datasets import build_datasets
    from lupuscell.outcomes.definitions import DEFAULT_OPTIONS
    from lupuscell.outcomes.endpoints import derive_endpoints
    from lupuscell.outcomes.reference import reference_endpoints
    from lupuscell.reports.build import ReportData, write_report
    from lupuscell.reports.dataset_files import write_datasets
    from lupuscell.reports.pipeline import definitions_text
    from lupuscell.synth.cohort import iter_cohort_tables

    out: dict[str, float] = {"patients": n}
    t0 = time.perf_counter()
    cohort = inputs.concat(
        inputs.from_tables(chunk) for chunk in iter_cohort_tables(n, seed, chunk_size=5000)
    )
    out["generate_s"] = time.perf_counter() - t0
    out["visits"] = len(cohort.visits)

    t0 = time.perf_counter()
    result = derive_endpoints(cohort, DEFAULT_OPTIONS)
    out["endpoints_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = build_datasets(cohort, DEFAULT_OPTIONS, result=result)
    out["datasets_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = ReportData(
            ds.adsl,
            ds.adtte,
            ds.adrs,
            definitions_text(DEFAULT_OPTIONS),
            {"source": "benchmark", "as_of": "", "generated_at": ""},
        )
        write_report(data, Path(tmp))
        write_datasets(ds, Path(tmp) / "datasets", "parquet")
    out["stats_report_s"] = time.perf_counter() - t0
    out["pipeline_s"] = out["endpoints_s"] + out["datasets_s"] + out["stats_report_s"]

    sample_ids = cohort.patients["patient_id"].iloc[: min(baseline_sample, n)]
    sample = cohort.subset(sample_ids)
    t0 = time.perf_counter()
    reference_endpoints(sample, DEFAULT_OPTIONS)
    loop_s = time.perf_counter() - t0
    out["loop_sample"] = len(sample_ids)
    out["loop_extrapolated_s"] = loop_s * n / len(sample_ids)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run_one(args.child, args.baseline_sample, args.seed)))
        return

    rows = []
    for n in args.sizes:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                "--baseline-sample",
                str(args.baseline_sample),
                "--seed",
                str(args.seed),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    header = (
        f"{'patients':>9} {'visits':>9} {'generate s':>10} {'endpoints s':>11} {'datasets s':>10} "
        f"{'stats+report s':>14} {'pipeline s':>10} {'peak MB':>8} {'loop s (extrap.)':>16} "
        f"{'loop/vectorised':>15}"
    )
    print("report_scale: endpoints + datasets + statistics + report (HTML, PDF, summary.json, Parquet)")
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = r["loop_extrapolated_s"] / r["endpoints_s"]
        print(
            f"{int(r['patients']):>9,} {int(r['visits']):>9,} {r['generate_s']:>10.1f} {r['endpoints_s']:>11.2f} "
            f"{r['datasets_s']:>10.2f} {r['stats_report_s']:>14.2f} {r['pipeline_s']:>10.2f} "
            f"{r['peak_rss_mb']:>8.0f} {r['loop_extrapolated_s']:>16.1f} {ratio:>14.1f}x"
        )
    print(
        f"baseline: per-patient pure-Python loop on {int(rows[0]['loop_sample']):,} patients, "
        "extrapolated linearly; peak MB includes generation"
    )
    big = max(rows, key=lambda r: r["patients"])
    verdict = "met" if big["pipeline_s"] < 60 else "NOT met"
    print(f"goal: {int(big['patients']):,} patients in under 60 s -> {big['pipeline_s']:.1f} s ({verdict})")


if __name__ == "__main__":
    main()
