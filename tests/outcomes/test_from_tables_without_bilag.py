"""``from_tables`` on a cohort where no visit carries BILAG grades (or there is no visit at all)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lupuscell.outcomes.endpoints import derive_endpoints
from lupuscell.outcomes.inputs import from_tables


@pytest.mark.parametrize(
    "visits",
    [
        pd.DataFrame(),
        pd.DataFrame([{"patient_code": "X", "visit_date": dt.date(2024, 6, 1), "pga": 0.2, "bilag": None}]),
    ],
    ids=["no visit", "visits without BILAG"],
)
def test_a_cohort_without_any_bilag_grade_is_read(visits: pd.DataFrame) -> None:
    frames = {
        "patients": pd.DataFrame([{"patient_code": "X", "sex": "F", "birth_year": 1980}]),
        "therapy_courses": pd.DataFrame(
            [{"patient_code": "X", "therapy": "car_t", "infusion_date": dt.date(2024, 3, 1), "cell_source": None}]
        ),
        "visits": visits,
    }
    cohort = from_tables(frames)
    assert cohort.n_patients == 1 and len(cohort.visits) == len(visits)
    assert len(derive_endpoints(cohort).patients) == 1
