"""Review: more disease activity can never create LLDAS or DORIS remission (property tests).

Kleene order false < null < true: adding an active descriptor, raising PGA or raising the dose
never moves LLDAS/DORIS up; a definite false stays false, and a true after the change implies
true before it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lupuscell.instruments.response import score_doris_2021, score_lldas
from lupuscell.instruments.sledai2k import DESCRIPTORS

RANK = {False: 0, None: 1, True: 2}
flag = st.sampled_from([True, False, None])
visits = st.fixed_dictionaries(
    {
        "sledai_2k_active_descriptors": st.lists(st.sampled_from(DESCRIPTORS), max_size=4, unique=True),
        "pga": st.one_of(st.none(), st.integers(0, 30).map(lambda t: t / 10)),
        "prednisolone_mg_per_day": st.one_of(st.none(), st.sampled_from([0.0, 2.5, 5.0, 7.5, 10.0])),
        "haemolytic_anaemia": flag,
        "gastrointestinal_activity": flag,
        "new_activity_since_previous_assessment": flag,
        "standard_maintenance_therapy_well_tolerated": flag,
        "immunosuppressives_and_biologics_stable": flag,
    }
)
LLDAS_KEYS = (
    "sledai_2k_active_descriptors",
    "pga",
    "prednisolone_mg_per_day",
    "haemolytic_anaemia",
    "gastrointestinal_activity",
    "new_activity_since_previous_assessment",
    "standard_maintenance_therapy_well_tolerated",
)
DORIS_KEYS = (
    "sledai_2k_active_descriptors",
    "pga",
    "prednisolone_mg_per_day",
    "immunosuppressives_and_biologics_stable",
)


def _states(visit: dict[str, Any]) -> tuple[int, int]:
    lldas = score_lldas({k: visit[k] for k in LLDAS_KEYS if visit[k] is not None})["lldas"]
    doris = score_doris_2021({k: visit[k] for k in DORIS_KEYS if visit[k] is not None})["doris_remission"]
    return RANK[lldas], RANK[doris]


@settings(max_examples=200, deadline=None)
@given(visits, st.sampled_from(DESCRIPTORS), st.integers(0, 5), st.sampled_from([0.0, 0.5, 2.5, 5.0]))
def test_more_activity_never_improves_the_state(
    visit: dict[str, Any], extra: str, pga_up: int, dose_up: float
) -> None:
    before = _states(visit)
    worse = dict(visit)
    worse["sledai_2k_active_descriptors"] = sorted({*visit["sledai_2k_active_descriptors"], extra})
    if visit["pga"] is not None:
        worse["pga"] = min(3.0, (round(visit["pga"] * 10) + pga_up) / 10)
    if visit["prednisolone_mg_per_day"] is not None:
        worse["prednisolone_mg_per_day"] = visit["prednisolone_mg_per_day"] + dose_up
    after = _states(worse)
    assert after[0] <= before[0] and after[1] <= before[1], (before, after)
