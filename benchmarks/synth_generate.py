"""Benchmark: stream the synthetic cohort (generation only, no loading), against a baseline.

Times :func:`lupuscell.synth.cohort.iter_cohort_tables` on ``--patients`` patients (default
100,000) in chunks of 2,000, each variant in a fresh Python process (so the one-off
calibration of the baseline effects is counted) and interleaved over ``--rounds`` rounds, the
fastest round of each kept (the conservative choice on a shared machine):

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
start = time.perf_counter()
rows = 0
for chunk in iter_cohort_tables(n, 7, chunk_size=2000, **kwargs):
    rows += sum(len(frame) for frame in chunk.values())
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak_mb}))
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
            print(f"round {round_ + 1}: {name}: {result['seconds']:.1f} s", file=sys.stderr)
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    reference = best[variants[0][0]] if args.baseline_src else best["without signal"]
    print(f"{args.patients:,} patients streamed in chunks of 2,000; fastest of {args.rounds} rounds")
    print(
        f"| {'generator':<46} | {'rows':>11} | {'seconds':>7} | {'rows/s':>9} | {'peak MB':>7} | {'ratio':>5} |"
    )
    print(f"|{'-' * 48}|{'-' * 13}|{'-' * 9}|{'-' * 11}|{'-' * 9}|{'-' * 7}|")
    for name, *_ in variants:
        r = best[name]
        ratio = r["seconds"] / reference["seconds"]
        print(
            f"| {name[:46]:<46} | {int(r['rows']):>11,} | {r['seconds']:>7.1f} | {r['rows'] / r['seconds']:>9,.0f} "
            f"| {r['peak_mb']:>7.0f} | {ratio:>5.2f} |"
        )
    print("ratio = seconds / seconds of the " + ("baseline" if args.baseline_src else "no-signal generator"))


if __name__ == "__main__":
    main()
