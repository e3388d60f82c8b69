"""A cumulative-incidence landmark past the longest follow-up is null, like Kaplan-Meier's,
and the report shows it as "– (after the last follow-up)" and makes no literature comparison from it."""

from __future__ import annotations

import numpy as np

from lupuscell.analysis.competing import cumulative_incidence
from lupuscell.analysis.conventions import json_safe
from lupuscell.analysis.survival import kaplan_meier
from lupuscell.reports.build import _cif_display
from lupuscell.reports.literature import compare_with_literature

CAUSES = {1: "relapse", 2: "non-relapse mortality"}


def _short_follow_up() -> tuple[np.ndarray, np.ndarray]:
    """Longest follow-up 200 days: the day-100 landmark is estimable, the 1-year one is not."""
    days = np.array([20, 60, 90, 100, 150, 200], dtype=float)
    status = np.array([1, 2, 0, 1, 0, 0])
    return days, status


def test_cif_landmark_past_last_follow_up_is_null_like_kaplan_meier() -> None:
    days, status = _short_follow_up()
    cif = cumulative_incidence(days, status, causes=CAUSES, landmark_times=[100, 200, 365])
    km = kaplan_meier(days, status > 0, landmark_times=[100, 200, 365])
    lm = cif.landmarks.set_index(["time", "cause"])
    assert lm.loc[(100.0, "relapse"), "cif"] > 0
    assert not np.isnan(lm.loc[(200.0, "relapse"), "cif"])  # ending on the landmark: estimable
    assert lm.loc[365.0, "cif"].isna().all() and lm.loc[365.0, "ci_low"].isna().all()
    assert [m.survival is None for m in km.landmarks] == [False, False, True]
    as_json = json_safe(cif.to_dict())
    assert [r["cif"] for r in as_json["landmarks"] if r["time"] == 365.0] == [None, None]


def test_report_shows_a_dash_and_skips_the_literature_comparison() -> None:
    days, status = _short_follow_up()
    cif = cumulative_incidence(days, status, causes=CAUSES, landmark_times=[100, 365])
    display = _cif_display({"cumulative_incidence": {"autologous_hsct": json_safe(cif.to_dict())}})
    shown = display.set_index(["Day", "Event"])["Cumulative incidence, % (95% CI)"]
    assert shown.loc[(365, "relapse")] == "– (after the last follow-up)"
    assert not shown.loc[(100, "relapse")].startswith("–")
    rows, comparisons = compare_with_literature({"autologous_hsct": cif})
    assert comparisons == []
    assert "not estimable" in rows[0]["sentence"]
