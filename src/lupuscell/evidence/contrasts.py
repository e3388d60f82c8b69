"""Comparisons built from rows of the curated evidence: trial arms and before/after summaries.

Two kinds, both returned as a :class:`Contrasts` with one record per study in metafor's
``escalc`` fields, the rows it came from, and every row left out with the reason:

* **Arms** (:func:`arm_contrasts`): a randomised trial's arms are coded in the outcome name,
  ``<outcome>_msc_arm`` against ``<outcome>_placebo_arm``. Continuous arms (``mean``, ``sd``,
  ``total``) give ``MD`` / ``SMD`` records (``m1i, sd1i, n1i, m2i, sd2i, n2i``, MSC first);
  binary arms give ``RR`` / ``OR`` / ``RD`` records (``ai, bi, ci, di``).
* **Before/after** (:func:`change_contrasts`): a single-arm study that reports the same measure
  at baseline (``timepoint_months = 0`` or ``baseline`` in the code) and at a later time gives
  a mean change (``MC``) or standardised mean change (``SMCR``). The correlation between the
  two occasions is not published; it is an explicit assumption (``correlation``, default 0.5,
  Cochrane Handbook section 6.5.2.8 on imputing a correlation for change scores), and it is
  stated with every result. The follow-up row is the one at ``timepoint`` when given, else the
  latest reported.

Rows without a usable summary (a mean without SD or n) are excluded with the reason.

References
----------
Higgins JPT, Li T, Deeks JJ (eds). Chapter 6: Choosing effect measures and computing estimates
of effect. In: Cochrane Handbook for Systematic Reviews of Interventions, version 6.5 (2024),
sections 6.5.2.3 and 6.5.2.8.
Becker BJ (1988). Synthesizing standardized mean-change measures. Br J Math Stat Psychol 41:257.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupuscell.errors import ValidationError
from lupuscell.evidence.effects import FIELDS
from lupuscell.evidence.studies import Excluded, Selection, one_study_per_cohort, study_label

#: Outcome-name suffixes of the treated and the control arm of a randomised trial.
TREATED_ARM, CONTROL_ARM = "_msc_arm", "_placebo_arm"
#: Default correlation between baseline and follow-up assumed for change scores.
DEFAULT_CORRELATION = 0.5
#: Continuous measures that share a name stem across studies (``sledai`` and ``sledai2k``).
CHANGE_FAMILIES: dict[str, tuple[str, ...]] = {"sledai": ("sledai", "sledai2k")}

_TIME_TOKEN = re.compile(r"(?:^|_)(?:baseline|\d+(?:\.\d+)?(?:mo|wk|w|d|y))(?=_|$)")


def stem(outcome: str) -> str:
    """The measure an outcome code names, without its time token (``sledai_12mo`` -> ``sledai``)."""
    return _TIME_TOKEN.sub("", outcome).strip("_")


@dataclass(frozen=True)
class Contrasts:
    """One comparison per study, the rows behind it and the rows left out."""

    outcome: str
    kind: str  # "arms" or "change"
    rows: pd.DataFrame  # one row per study: study columns + the escalc fields + row references
    excluded: tuple[tuple[str, str, str], ...]
    fields: tuple[str, ...]
    assumption: str = ""

    def records(self) -> list[dict[str, object]]:
        """Study records for :func:`lupuscell.evidence.effects.escalc`."""
        return [
            {"id": str(r["study_id"]), **{f: float(r[f]) for f in self.fields}}
            for r in self.rows.to_dict(orient="records")
        ]

    def labels(self) -> list[str]:
        return [study_label(r) for r in self.table()]

    def summaries(self) -> list[str]:
        """Per study, what was compared (``63 (18), n = 12 vs 59 (9), n = 6``)."""
        return [str(s) for s in self.rows["summary"]]

    def table(self) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in r.items()} for r in self.rows.to_dict(orient="records")]


def _fmt(mean: float, sd: float, n: float) -> str:
    return f"{mean:g} ({sd:g}), n = {n:g}"


def arm_contrasts(df: pd.DataFrame, outcome: str) -> Contrasts:
    """MSC arm against placebo arm for ``outcome`` (the code without the arm suffix)."""
    treated = df[df["outcome"] == outcome + TREATED_ARM]
    control = df[df["outcome"] == outcome + CONTROL_ARM]
    excluded = Excluded()
    records = []
    for sid, t_rows in treated.groupby("study_id", sort=False):
        c_rows = control[control["study_id"] == sid]
        t = t_rows.iloc[0]
        if c_rows.empty:
            excluded.add(t_rows, "no placebo arm reported")
            continue
        c = c_rows.iloc[0]
        if not (t["poolable"] and c["poolable"]):
            excluded.add(pd.concat([t_rows, c_rows]), t["not_poolable"] or c["not_poolable"])
            continue
        base = t.drop(labels=["outcome"]).to_dict() | {"outcome": outcome, "arm_rows": (t["row"], c["row"])}
        if t["kind"] == "continuous":
            fields = {"m1i": t["mean"], "sd1i": t["sd"], "n1i": t["total"]}
            fields |= {"m2i": c["mean"], "sd2i": c["sd"], "n2i": c["total"]}
            summary = f"{_fmt(t['mean'], t['sd'], t['total'])} vs {_fmt(c['mean'], c['sd'], c['total'])}"
        else:
            fields = {"ai": t["events"], "bi": t["total"] - t["events"]}
            fields |= {"ci": c["events"], "di": c["total"] - c["events"]}
            summary = f"{t['events']:g}/{t['total']:g} vs {c['events']:g}/{c['total']:g}"
        records.append(base | fields | {"summary": summary})
    if not records:
        raise ValidationError.single(
            "", "outcome", f"no study reports both {outcome}{TREATED_ARM} and {outcome}{CONTROL_ARM}"
        )
    rows = pd.DataFrame(records).sort_values(["year", "study_id"]).reset_index(drop=True)
    names = FIELDS["means"] if "m1i" in rows.columns else FIELDS["binary"]
    return Contrasts(outcome, "arms", rows, tuple(excluded.items), names)


def change_contrasts(
    df: pd.DataFrame,
    outcome: str,
    *,
    correlation: float = DEFAULT_CORRELATION,
    timepoint: float | None = None,
    cohort_rule: str = "largest",
) -> Contrasts:
    """Before/after summaries of the measure ``outcome`` (a stem such as ``sledai``, or a family).

    Raises
    ------
    ValidationError
        When the correlation is outside [-1, 1] or no study reports both time points.
    """
    if not -1 <= correlation <= 1:
        raise ValidationError.single("", "correlation", f"must lie in [-1, 1], got {correlation:g}")
    stems = CHANGE_FAMILIES.get(outcome, (outcome,))
    cont = df[(df["kind"] == "continuous") & df["outcome"].map(stem).isin(stems)]
    cont = cont[~cont["outcome"].str.endswith((TREATED_ARM, CONTROL_ARM))]
    excluded = Excluded()
    records = []
    for _, rows in cont.groupby("study_id", sort=False):
        pair = _baseline_and_follow_up(rows, timepoint, excluded)
        if pair is not None:
            records.append(_change_record(*pair, correlation))
    if not records:
        raise ValidationError.single(
            "", "outcome", f"no study reports {outcome!r} at baseline and at a later time with SD and n"
        )
    table = pd.DataFrame(records)
    table = one_study_per_cohort(table, "latest" if cohort_rule == "latest" else "largest", excluded, "ni")
    rows = table.sort_values(["year", "study_id"]).reset_index(drop=True)
    assumption = f"correlation between baseline and follow-up assumed r = {correlation:g} (not published)"
    return Contrasts(outcome, "change", rows, tuple(excluded.items), FIELDS["change"], assumption)


def _baseline_and_follow_up(
    rows: pd.DataFrame, timepoint: float | None, excluded: Excluded
) -> tuple[pd.Series, pd.Series] | None:
    is_base = (rows["timepoint_months"] == 0) | rows["outcome"].str.contains("baseline")
    base, later = rows[is_base], rows[~is_base]
    if timepoint is not None:
        off = later["timepoint_months"] != timepoint
        excluded.add(later[off], f"timepoint is not {timepoint:g} months")
        later = later[~off]
    if base.empty or later.empty:
        excluded.add(rows, "baseline and follow-up not both reported")
        return None
    b = base.iloc[0]
    f = later.sort_values("timepoint_months", ascending=False).iloc[0]
    bad = [r for r in (b, f) if not r["poolable"]]
    if bad:
        excluded.add(pd.DataFrame([b, f]), str(bad[0]["not_poolable"]))
        return None
    if later.shape[0] > 1:
        excluded.add(later.drop(index=f.name), "an earlier follow-up of the same study (latest kept)")
    return b, f


def _change_record(b: pd.Series, f: pd.Series, r: float) -> dict[str, Any]:
    n = float(min(b["total"], f["total"]))
    months = f["timepoint_months"]
    when = f"{months:g} months" if np.isfinite(months) else "follow-up"
    summary = f"{b['mean']:g} ({b['sd']:g}) at baseline, {f['mean']:g} ({f['sd']:g}) at {when}; n = {n:g}"
    study = {str(k): v for k, v in f.drop(labels=["outcome"]).to_dict().items()}
    return study | {
        "outcome": f["outcome"],
        "baseline_outcome": b["outcome"],
        "arm_rows": (b["row"], f["row"]),
        "m1i": f["mean"],
        "sd1i": b["sd"],  # SMCR standardises by the baseline SD (Becker 1988; metafor sd1i)
        "m2i": b["mean"],
        "sd2i": f["sd"],
        "ni": n,
        "ri": r,
        "summary": summary,
    }


def as_selection(c: Contrasts) -> Selection:
    """The contrasts as a :class:`Selection` (rows and exclusions), for shared reporting code."""
    return Selection(c.outcome, "all", c.rows, c.excluded)
