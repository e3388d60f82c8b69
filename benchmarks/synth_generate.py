"""Benchmark: stream the synthetic cohort (generation only, no loading), against a baseline.

Times :func:`lupuscell.synth.cohort.iter_cohort_tables` on ``--patients`` patients (default
100,000) in chunks of 2,000, each variant in a fresh Python process (so the one-off
calibration of the baseline effects is counted) and interleaved over ``--rounds`` rounds, the
fastest round of each kept; the ratio compares CPU time (user + system) of the child, which
other processes on a shared machine disturb much less than the wall time:

* **with baseline signal** (the default cohort);
* **without signal** (``baseline_signal=False``);
* **baseline** (optional): the generator of another source tree, e.g. an earlier revision
  exported with ``git archive <rev> src | tar -x -C /tmp/base`` and given as
  ``--baseline-src /tmp/base/src``; the ratio column is relative to it, else to the
  no-signal variant.

Goal (issue 14): the generator with baseline effects within 10 % of the generator before it.

Usage::

    .venv/bin/python benchmarks/synth_generate.py [--patients 100000] [--rounds 3]
        [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from lupuscell.synth.cohort import iter_cohort_tables
n, kwargs = int(sys.argv[1]), json.loads(sys.argv[2])
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, cpu_start = time.perf_counter(), cpu()
rows = 0
for chunk in iter_cohort_tables(n, 7, chunk_size=2000, **kwargs):
    rows += sum(len(frame) for frame in chunk.values())
seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "rows": rows, "peak_mb": peak_mb}))
"""


def _run(patients: int, kwargs: dict[str, bool], src: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(patients), json.dumps(kwargs)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", default=None, help="src/ directory of the baseline generator")
    args = parser.parse_args()

    variants: list[tuple[str, dict[str, bool], str | None]] = [
        ("with baseline signal", {}, None),
        ("without signal", {"baseline_signal": False}, None),
    ]
    if args.baseline_src:
        variants.insert(0, (f"baseline ({args.baseline_src})", {}, args.baseline_src))
    best: dict[str, dict[str, float]] = {}
    for round_ in range(args.rounds):
        for name, kwargs, src in variants:
            result = _run(args.patients, kwargs, src)
            print(
                f"round {round_ + 1}: {name}: {result['seconds']:.1f} s, CPU {result['cpu']:.1f} s",
                file=sys.stderr,
            )
            previous = best.get(name, result)
            best[name] = {key: min(value, previous[key]) for key, value in result.items()}
    reference = best[variants[0][0]] if args.baseline_src else best["without signal"]
    print(f"{args.patients:,} patients streamed in chunks of 2,000; fastest of {args.rounds} rounds")
    print(
        f"| {'generator':<40} | {'rows':>11} | {'wall s':>6} | {'CPU s':>6} | {'CPU rows/s':>10} | peak MB | ratio |"
    )
    print(f"|{'-' * 42}|{'-' * 13}|{'-' * 8}|{'-' * 8}|{'-' * 12}|{'-' * 9}|{'-' * 7}|")
    for name, *_ in variants:
        r = best[name]
        print(
            f"| {name[:40]:<40} | {int(r['rows']):>11,} | {r['seconds']:>6.1f} | {r['cpu']:>6.1f} "
            f"| {r['rows'] / r['cpu']:>10,.0f} | {r['peak_mb']:>7.0f} | {r['cpu'] / reference['cpu']:>5.2f} |"
        )
    reference_name = "baseline" if args.baseline_src else "no-signal generator"
    print(f"ratio = CPU seconds / CPU seconds of the {reference_name} (CPU time: the machine is shared)")


if __name__ == "__main__":
    main()
