"""Descriptive cohort tables: Table 1 by therapy, response rates with exact and Wilson CIs,
and longitudinal trajectories (mean with t-based CI by scheduled visit).

Binomial intervals come from ``statsmodels.stats.proportion.proportion_confint``:
Clopper-Pearson ("beta", exact; Clopper & Pearson, Biometrika 1934) and Wilson
(score interval; Wilson, JASA 1927).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from lupuscell.analysis.survival import DAYS_PER_MONTH


def proportion_with_ci(successes: int, total: int, alpha: float = 0.05) -> dict[str, Any]:
    """Rate with Clopper-Pearson and Wilson intervals (None when total is 0)."""
    if total == 0:
        return {
            "successes": 0,
            "total": 0,
            "rate": None,
            "exact_low": None,
            "exact_high": None,
            "wilson_low": None,
            "wilson_high": None,
        }
    cp = proportion_confint(successes, total, alpha=alpha, method="beta")
    wi = proportion_confint(successes, total, alpha=alpha, method="wilson")
    return {
        "successes": int(successes),
        "total": int(total),
        "rate": successes / total,
        "exact_low": float(cp[0]),
        "exact_high": float(cp[1]),
        "wilson_low": float(wi[0]),
        "wilson_high": float(wi[1]),
    }


def _median_iqr(x: pd.Series) -> str:
    x = pd.to_numeric(x, errors="coerce").dropna()
    if x.empty:
        return "–"
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{med:.1f} ({q1:.1f}–{q3:.1f})"


def _n_pct(x: pd.Series) -> str:
    x = x.dropna().astype(bool)
    if x.empty:
        return "–"
    return f"{int(x.sum())} ({100 * x.mean():.0f}%)"


TABLE1_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Age at day 0, years, median (IQR)", "AGE", "median"),
    ("Female, n (%)", "SEX", "female"),
    ("SLE duration, years, median (IQR)", "DIAGDUR", "median"),
    ("Lupus nephritis, n (%)", "NEPHRITIS", "npct"),
    ("Baseline SLEDAI-2K, median (IQR)", "BSLEDAI", "median"),
    ("Baseline anti-dsDNA raised, n (%)", "BDSDNA", "npct"),
    ("Baseline prednisone, mg/day, median (IQR)", "BPRED", "median"),
    ("Follow-up, months, median (IQR)", "FUPDY", "months"),
)


def table_one(adsl: pd.DataFrame, by: str = "THERAPY") -> pd.DataFrame:
    """Table 1: baseline characteristics by therapy plus an 'All' column (rows: variables)."""
    groups: list[tuple[str, pd.DataFrame]] = [
        (str(k), g) for k, g in sorted(adsl.groupby(by, observed=True), key=lambda kv: str(kv[0]))
    ]
    groups.append(("All", adsl))
    out: dict[str, list[str]] = {}
    for name, g in groups:
        col = [str(len(g))]
        for _label, var, kind in TABLE1_ROWS:
            if var not in g:
                col.append("–")
            elif kind == "median":
                col.append(_median_iqr(g[var]))
            elif kind == "months":
                col.append(_median_iqr(pd.to_numeric(g[var], errors="coerce") / DAYS_PER_MONTH))
            elif kind == "female":
                col.append(_n_pct(g[var] == "F"))
            else:
                col.append(_n_pct(g[var]))
        out[f"{name} (n={len(g)})"] = col
    index = ["Patients, n"] + [r[0] for r in TABLE1_ROWS]
    return pd.DataFrame(out, index=index)


def response_rates(
    adsl: pd.DataFrame,
    columns: Sequence[str],
    by: str = "THERAPY",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Responder rates for boolean columns (null = not evaluable, excluded from the
    denominator and counted separately) by group, with exact and Wilson CIs."""
    rows = []
    groups = [(str(k), g) for k, g in adsl.groupby(by, observed=True)] + [("All", adsl)]
    for col in columns:
        for name, g in groups:
            vals = g[col] if col in g else pd.Series(dtype=object)
            evaluable = vals.dropna()
            succ = int(evaluable.astype(bool).sum())
            rec = proportion_with_ci(succ, len(evaluable), alpha)
            rec.update({"endpoint": col, "group": name, "not_evaluable": int(len(vals) - len(evaluable))})
            rows.append(rec)
    return pd.DataFrame(rows)


def trajectory(
    adrs: pd.DataFrame,
    value: str,
    by: str = "THERAPY",
    visit_col: str = "AVISITN",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean of ``value`` per scheduled visit and group with a t-based CI."""
    data = adrs.dropna(subset=[visit_col, value])
    g = data.groupby([by, visit_col], observed=True)[value]
    agg = g.agg(["count", "mean", "std"]).reset_index()
    tcrit = stats.t.ppf(1 - alpha / 2, np.maximum(agg["count"] - 1, 1))
    half = tcrit * agg["std"].fillna(0) / np.sqrt(agg["count"])
    agg["ci_low"] = agg["mean"] - half
    agg["ci_high"] = agg["mean"] + half
    return agg.rename(columns={"count": "n"})
