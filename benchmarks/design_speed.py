"""Benchmark: Simon two-stage search (nmax 100) for 50 configurations, vectorised vs nested loops.

Baseline: a straightforward nested-loop search as one would first write it (and as the
classic Fortran/R implementations are structured): for every total size n, stage-1 size n1
and stage-1 boundary r1, step r upward from r1 until the exact type I error is <= alpha,
then check the power. Binomial mass/survival tables are precomputed once per configuration
(the same scipy calls the project uses), so the ratio measures the search, not scipy.

Both searches run in the same process on the same configurations; the script checks that
they return the same optimal and minimax designs, then prints per-configuration times
(ms) and the speed-up ratio. Goal (issue 6): each configuration < 200 ms and >= 20x.

Run:  .venv/bin/python benchmarks/design_speed.py [--naive-every K]
(``--naive-every K`` times the baseline on every K-th configuration only, to save time; the
default 1 times it on all 50.) The vectorised search is timed as the best of ``--repeat``
runs (default 3), the nested-loop baseline once (it takes seconds, so noise matters less).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import stats

from lupuscell.design.simon import simon_design

NMAX = 100


def configurations() -> list[tuple[float, float, float, float]]:
    """50 (p0, p1, alpha, beta) typical of phase II: p0 0.05..0.80, p1 - p0 0.15 to 0.30."""
    out = []
    errors = [(0.05, 0.20), (0.10, 0.10), (0.05, 0.10)]
    for p0 in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70):
        for gap, (alpha, beta) in zip((0.20, 0.25, 0.30), errors, strict=True):
            if len(out) < 50 and p0 + gap < 0.96:
                out.append((p0, round(p0 + gap, 2), alpha, beta))
    for p0 in (0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80):  # smaller difference
        if len(out) < 50:
            out.append((p0, round(p0 + 0.15, 2), 0.10, 0.20))
    return out


def naive_search(p0: float, p1: float, alpha: float, beta: float, nmax: int = NMAX):
    """Nested loops over (n, n1, r1, r); returns (optimal, minimax) as (r1, n1, r, n, EN)."""
    m = np.arange(nmax + 1)[:, None]
    x = np.arange(nmax + 1)[None, :]
    pmf0, pmf1 = stats.binom.pmf(x, m, p0), stats.binom.pmf(x, m, p1)
    k = np.arange(-(nmax + 1), nmax + 1)[None, :]
    sf0 = np.where(k < 0, 1.0, stats.binom.sf(np.maximum(k, 0), m, p0))
    sf1 = np.where(k < 0, 1.0, stats.binom.sf(np.maximum(k, 0), m, p1))
    cdf0 = stats.binom.cdf(x, m, p0)
    off = nmax + 1
    tol = 1e-12
    best = []
    for n in range(2, nmax + 1):
        best_n = None
        for n1 in range(1, n):
            n2 = n - n1
            for r1 in range(n1):
                x1 = np.arange(r1 + 1, n1 + 1)
                for r in range(r1, n):
                    a = float(pmf0[n1, x1] @ sf0[n2, r - x1 + off])
                    if a <= alpha + tol:
                        pw = float(pmf1[n1, x1] @ sf1[n2, r - x1 + off])
                        if pw >= 1 - beta - tol:
                            en = n1 + (1 - cdf0[n1, r1]) * n2
                            if best_n is None or en < best_n[4]:
                                best_n = (r1, n1, r, n, float(en))
                        break
        if best_n is not None:
            best.append(best_n)
    optimal = min(best, key=lambda d: (d[4], d[3]))
    minimax = min(best, key=lambda d: (d[3], d[4]))
    return optimal, minimax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--naive-every", type=int, default=1, help="time the baseline on every K-th configuration"
    )
    parser.add_argument("--repeat", type=int, default=3, help="vectorised search: best of this many runs")
    args = parser.parse_args()
    configs = configurations()
    simon_design(0.2, 0.4, 0.05, 0.2, NMAX)  # warm-up (imports, caches)
    print(
        f"Simon two-stage search, nmax = {NMAX}, {len(configs)} configurations "
        f"(vectorised: best of {args.repeat} runs; nested loops: one run)"
    )
    print(
        f"{'#':>3} {'p0':>5} {'p1':>5} {'alpha':>5} {'beta':>5} | {'optimal':>13} {'minimax':>13} | "
        f"{'vectorised ms':>13} {'nested-loop ms':>14} {'ratio':>7}"
    )
    fast_ms, ratios = [], []
    for i, (p0, p1, alpha, beta) in enumerate(configs, 1):
        runs = []
        for _ in range(args.repeat):  # best of N, as timeit does: the machine is shared
            t = time.perf_counter()
            res = simon_design(p0, p1, alpha, beta, NMAX)
            runs.append((time.perf_counter() - t) * 1000)
        ms = min(runs)
        fast_ms.append(ms)
        o, mm = res.optimal, res.minimax
        naive_txt, ratio_txt = "-", "-"
        if (i - 1) % args.naive_every == 0:
            t = time.perf_counter()
            n_opt, n_mm = naive_search(p0, p1, alpha, beta, NMAX)
            naive_ms = (time.perf_counter() - t) * 1000
            assert n_opt[:4] == (o.r1, o.n1, o.r, o.n), (n_opt, o)
            assert n_mm[:4] == (mm.r1, mm.n1, mm.r, mm.n), (n_mm, mm)
            ratios.append(naive_ms / ms)
            naive_txt, ratio_txt = f"{naive_ms:14.0f}", f"{naive_ms / ms:6.0f}x"
        print(
            f"{i:>3} {p0:5.2f} {p1:5.2f} {alpha:5.2f} {beta:5.2f} | "
            f"{f'{o.r1}/{o.n1},{o.r}/{o.n}':>13} {f'{mm.r1}/{mm.n1},{mm.r}/{mm.n}':>13} | "
            f"{ms:13.1f} {naive_txt:>14} {ratio_txt:>7}",
            flush=True,
        )
    print()
    print(
        f"vectorised: median {statistics.median(fast_ms):.1f} ms, max {max(fast_ms):.1f} ms "
        f"(goal < 200 ms each: {'met' if max(fast_ms) < 200 else 'NOT met'})"
    )
    if ratios:
        print(
            f"speed-up vs nested loops ({len(ratios)} configurations): "
            f"median {statistics.median(ratios):.0f}x, "
            f"min {min(ratios):.0f}x (goal >= 20x: {'met' if min(ratios) >= 20 else 'NOT met'}); "
            "optimal and minimax designs identical in every timed configuration"
        )


if __name__ == "__main__":
    main()
