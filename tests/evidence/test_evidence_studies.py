"""The curated SLE cell-therapy dataset: loading, validation, user extension, pooling rules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence import studies

SHARED = Path("/work/shared/evidence/sle_cell_therapy_studies.csv")
HEADER = "study_id,year,therapy,outcome,events,total,timepoint_months\n"


def write(tmp_path: Path, body: str, name: str = "mine.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_packaged_dataset_loads_and_is_valid():
    df = studies.load_studies()
    assert len(df) == 46
    assert set(df["therapy"]) == set(studies.THERAPIES)
    assert df["study_id"].nunique() == 16
    assert (df.dropna(subset=["events"])["events"] <= df.dropna(subset=["events"])["total"]).all()
    assert set(df.loc[df["cohort_group"] == "nanjing_msc", "study_id"]) == {
        "liang2010",
        "wang2013_ct",
        "wang2018_scr",
    }


@pytest.mark.skipif(not SHARED.exists(), reason="shared evidence folder not mounted")
def test_packaged_copy_matches_the_shared_source():
    ours = pd.read_csv(studies._packaged_csv(), dtype=str, keep_default_na=False).drop(columns="cohort_group")
    source = pd.read_csv(SHARED, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(ours[source.columns], source)


def test_user_csv_is_appended(tmp_path):
    path = write(tmp_path, "mycentre2025,2025,hsct,treatment_related_mortality,1,20,12\n")
    df = studies.load_studies(path)
    assert len(df) == 47
    row = df.iloc[-1]
    assert row["study_id"] == "mycentre2025" and row["source"] == "mine.csv" and row["events"] == 1
    only = studies.load_studies(path, include_packaged=False)
    assert len(only) == 1


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            "x2020,2020,hsct,remission,12,10,6\n",
            r"mine.csv row 2 \(study x2020\): events: events \(12\) exceed total \(10\)",
        ),
        ("x2020,1950,hsct,remission,1,10,6\n", r"row 2 \(study x2020\): year: implausible year"),
        ("x2020,2031.5,hsct,remission,1,10,6\n", r"year: implausible year"),
        (
            "x2020,2020,stem,remission,1,10,6\n",
            r"row 2 \(study x2020\): therapy: unknown therapy code 'stem'",
        ),
        ("x2020,2020,msc,remission,-1,10,6\n", r"events: must be a whole number >= 0"),
        ("x2020,2020,msc,remission,one,10,6\n", r"events: not a number: 'one'"),
        ("x2020,2020,msc,remission,1,,6\n", r"total: events given without a total"),
        ("x2020,2020,msc,remission,1,0,6\n", r"total: must be > 0"),
        ("x2020,2020,msc,remission,1,10,-3\n", r"timepoint_months: must be >= 0"),
        (
            "x2020,2020,msc,remission,1,10,6\nx2020,2020,msc,remission,2,10,6\n",
            r"row 3 \(study x2020\): outcome: duplicate row for outcome 'remission' at 6 months",
        ),
        (
            "x2020,2020,msc,remission,1,10,\nx2020,2020,msc,remission,2,10,\n",
            r"duplicate row .* at no timepoint",
        ),
    ],
)
def test_invalid_rows_name_file_row_study_and_field(tmp_path, body, pattern):
    with pytest.raises(ValidationError, match=pattern):
        studies.load_studies(write(tmp_path, body), include_packaged=False)


def test_same_outcome_at_two_timepoints_is_not_a_duplicate(tmp_path):
    df = studies.load_studies(
        write(tmp_path, "x,2020,msc,remission,1,10,6\nx,2020,msc,remission,2,10,12\n"), include_packaged=False
    )
    assert len(df) == 2


def test_duplicate_of_a_packaged_row_is_caught(tmp_path):
    with pytest.raises(ValidationError, match=r"mine.csv row 2 \(study sun2009\): outcome: duplicate"):
        studies.load_studies(write(tmp_path, "sun2009,2009,msc,remission,4,4,\n"))


def test_missing_required_column_and_missing_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("study_id,year\nx,2020\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad\.csv: therapy: required column missing"):
        studies.load_studies(bad)
    with pytest.raises(ValidationError, match="file not found"):
        studies.load_studies(tmp_path / "nope.csv")


def test_msc_remission_selection_keeps_one_nanjing_study():
    sel = studies.select_for_pooling(studies.load_studies(), "remission", "msc")
    ids = [r["id"] for r in sel.records()]
    assert ids == ["sun2009", "wang2013_ct", "deng2017", "barbado2018"]
    assert sel.records()[1] == {"id": "wang2013_ct", "events": 23, "total": 83}  # 12-month row: largest n
    reasons = {(s, why.split(" (")[0]) for s, _, why in sel.excluded}
    assert ("wang2018_scr", "shares patients with wang2013_ct") in reasons
    nanjing = [r for r in sel.table() if r["cohort_group"] == "nanjing_msc"]
    assert len(nanjing) == 1


def test_cohort_rule_latest_and_timepoint_filter():
    df = studies.load_studies()
    latest = studies.select_for_pooling(df, "remission", "msc", cohort_rule="latest")
    assert "wang2018_scr" in [r["id"] for r in latest.records()]
    assert "wang2013_ct" not in [r["id"] for r in latest.records()]
    at24 = studies.select_for_pooling(df, "complete_remission", "msc", timepoint=24, exact=True)
    assert at24.records() == [{"id": "wang2013_ct", "events": 12, "total": 39}]


def test_rows_without_counts_are_excluded_with_reason():
    sel = studies.select_for_pooling(studies.load_studies(), "overall_survival_KM", "hsct", exact=True)
    assert sel.rows.empty
    assert sel.excluded[0][0] == "alchi2013" and "Kaplan-Meier" in sel.excluded[0][2]


def test_unknown_therapy_filter_rejected():
    with pytest.raises(ValidationError, match="therapy: unknown therapy code 'cart'"):
        studies.select_for_pooling(studies.load_studies(), "remission", "cart")


def test_outcome_families():
    assert "doris_remission" in studies.outcome_codes("remission")
    assert studies.outcome_codes("remission", exact=True) == ("remission",)
    assert studies.outcome_codes("relapse_after_remission") == ("relapse_after_remission",)
