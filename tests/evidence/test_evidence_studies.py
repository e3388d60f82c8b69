"""The curated SLE cell-therapy dataset: loading, validation, user extension, pooling rules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence import studies

#: Copies of the curated version 2 as published (README, CHANGES.md, CSV), kept in the repository.
FIXTURE = Path(__file__).parent / "data" / "curated_v2.csv"
FIXTURE_CHANGES = Path(__file__).parent / "data" / "curated_v2_CHANGES.md"
HEADER = "study_id,year,therapy,outcome,events,total,timepoint_months,source_note\n"


def write(tmp_path: Path, body: str, name: str = "mine.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_packaged_dataset_is_version_2_and_valid():
    df = studies.load_studies()
    assert len(df) == 149
    assert df["study_id"].nunique() == 33
    per_therapy = df.groupby("therapy")["study_id"].nunique().to_dict()
    assert per_therapy == {"hsct": 10, "msc": 14, "car_t": 9}
    binary = df[df["kind"] == "binary"]
    assert (binary["events"] <= binary["total"]).all()
    assert set(df.loc[df["cohort_group"] == "nanjing_msc", "study_id"]) == {
        "sun2009",
        "liang2010",
        "wang2013_ct",
        "wang2014_art",
        "wang2018_scr",
        "gu2014",
        "yuan2019",
        "bao2023",
    }
    assert set(df["evidence_level"]) == set(studies.EVIDENCE_LEVELS)
    assert not df["local"].any()


def test_packaged_copy_is_the_published_version_2():
    ours = pd.read_csv(studies._packaged_csv(), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(ours, pd.read_csv(FIXTURE, dtype=str, keep_default_na=False))
    changes = (studies._packaged_csv().parent / "studies_CHANGES.md").read_text(encoding="utf-8")
    assert changes == FIXTURE_CHANGES.read_text(encoding="utf-8")


def test_dataset_version_line():
    v = studies.dataset_version()
    assert v.line() == "curated SLE cell-therapy evidence, version 2: 33 studies, 149 rows"
    assert "Wang 2014 relapse was 7/40" in v.changes


def test_rows_that_cannot_be_pooled_load_with_the_reason():
    df = studies.load_studies()
    km = df[df["kind"] == "km"]
    assert len(km) == 7 and not km["poolable"].any() and km["events"].isna().all()
    gu = df[(df["study_id"] == "gu2014") & (df["outcome"] == "gfr_12mo")].iloc[0]
    assert gu["kind"] == "continuous" and not gu["poolable"]
    assert gu["not_poolable"].startswith("total not reported")
    deng = df[(df["study_id"] == "deng2017") & (df["outcome"] == "serum_creatinine_6mo_msc_arm")].iloc[0]
    assert deng["poolable"] and (deng["mean"], deng["sd"], deng["total"]) == (63, 18, 12)


def test_user_csv_is_appended(tmp_path):
    path = write(tmp_path, "mycentre2025,2025,hsct,treatment_related_mortality,1,20,12,our registry\n")
    df = studies.load_studies(path)
    assert len(df) == 150
    row = df.iloc[-1]
    assert row["study_id"] == "mycentre2025" and row["source"] == "mine.csv" and row["events"] == 1
    only = studies.load_studies(path, include_packaged=False)
    assert len(only) == 1


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            "x2020,2020,hsct,remission,12,10,6,p. 1\n",
            r"mine.csv row 2 \(study x2020\): events: events \(12\) exceed total \(10\)",
        ),
        ("x2020,1950,hsct,remission,1,10,6,p. 1\n", r"row 2 \(study x2020\): year: implausible year"),
        ("x2020,2031.5,hsct,remission,1,10,6,p. 1\n", r"year: implausible year"),
        (
            "x2020,2020,stem,remission,1,10,6,p. 1\n",
            r"row 2 \(study x2020\): therapy: unknown therapy code 'stem'",
        ),
        ("x2020,2020,msc,remission,-1,10,6,p. 1\n", r"events: must be a whole number >= 0"),
        ("x2020,2020,msc,remission,one,10,6,p. 1\n", r"events: not a number: 'one'"),
        ("x2020,2020,msc,remission,1,,6,p. 1\n", r"total: events given without a total"),
        ("x2020,2020,msc,remission,1,0,6,p. 1\n", r"total: must be > 0"),
        ("x2020,2020,msc,remission,1,10,-3,p. 1\n", r"timepoint_months: must be >= 0"),
        (
            "x2020,2020,msc,remission,1,10,6,p. 1\nx2020,2020,msc,remission,2,10,6,p. 1\n",
            r"row 3 \(study x2020\): outcome: duplicate row for outcome 'remission' at 6 months",
        ),
        (
            "x2020,2020,msc,remission,1,10,,p. 1\nx2020,2020,msc,remission,2,10,,p. 1\n",
            r"duplicate row .* at no timepoint",
        ),
    ],
)
def test_invalid_rows_name_file_row_study_and_field(tmp_path, body, pattern):
    with pytest.raises(ValidationError, match=pattern):
        studies.load_studies(write(tmp_path, body), include_packaged=False)


V2_HEADER = "study_id,year,therapy,outcome,events,total,mean,sd,evidence_level,source_note\n"


@pytest.mark.parametrize(
    ("row", "strict", "pattern"),
    [
        # binary rows: events <= total
        (
            "b2024,2024,msc,remission,9,8,,,abstract,p. 2",
            False,
            r"\(study b2024\): events: events \(9\) exceed",
        ),
        # continuous rows need mean, sd and total (strict: a row a user adds)
        (
            "c2024,2024,msc,sledai_6mo,,12,5.1,,table,Table 2",
            True,
            r"\(study c2024\): sd: missing: a continuous row",
        ),
        (
            "c2024,2024,msc,sledai_6mo,,,5.1,2.0,table,Table 2",
            True,
            r"\(study c2024\): total: missing: a continuous",
        ),
        (
            "c2024,2024,msc,sledai_6mo,,12,,2.0,table,Table 2",
            False,
            r"\(study c2024\): mean: missing: sd given",
        ),
        (
            "c2024,2024,msc,sledai_6mo,3,12,5.1,2.0,table,Table 2",
            False,
            r"\(study c2024\): events: must be empty on a continuous",
        ),
        ("c2024,2024,msc,sledai_6mo,,12,5.1,-2,table,Table 2", False, r"\(study c2024\): sd: must be >= 0"),
        # _KM rows are never pooled as counts
        (
            "k2024,2024,hsct,overall_survival_KM,20,25,,,abstract,Fig 1",
            False,
            r"\(study k2024\): events: must be empty on a Kaplan-Meier",
        ),
        # every row has a source
        (
            "s2024,2024,hsct,remission,2,5,,,abstract,",
            False,
            r"\(study s2024\): source_note: missing: every row needs a source",
        ),
        (
            "l2024,2024,hsct,remission,2,5,,,blog,p. 1",
            False,
            r"\(study l2024\): evidence_level: unknown level 'blog'",
        ),
    ],
)
def test_version_2_rules_name_the_study_and_field(tmp_path, row, strict, pattern):
    path = tmp_path / "mine.csv"
    path.write_text(V2_HEADER + row + "\n", encoding="utf-8")
    frame = studies.frame_from_strings(pd.read_csv(path, dtype=str, keep_default_na=False), "mine.csv")
    with pytest.raises(ValidationError, match=pattern):
        studies.parse_rows([frame], strict=strict)


def test_incomplete_continuous_row_loads_when_not_strict(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(V2_HEADER + "c2024,2024,msc,sledai_6mo,,12,5.1,,table,Table 2\n", encoding="utf-8")
    df = studies.load_studies(path, include_packaged=False)
    assert df.loc[0, "kind"] == "continuous" and df.loc[0, "not_poolable"].startswith("sd not reported")


def test_unknown_column_is_named(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("study_id,year,therapy,outcome,events,total,colour\nx,2020,msc,remission,1,2,red\n")
    with pytest.raises(ValidationError, match=r"mine\.csv: colour: unknown column"):
        studies.load_studies(path)


def test_filters_by_evidence_level_and_cohort_group():
    df = studies.load_studies()
    tables = studies.StudyFilter(evidence_levels=("table",)).apply(df)
    assert set(tables["evidence_level"]) == {"table"}
    assert set(tables["study_id"]) == {"wang2014_art", "deng2017", "li2016_fuzhou"}
    no_nanjing = studies.StudyFilter(exclude_cohort_groups=("nanjing_msc",)).apply(df)
    assert "nanjing_msc" not in set(no_nanjing["cohort_group"])
    ungrouped = studies.StudyFilter(cohort_groups=("none",)).apply(df)
    assert (ungrouped["cohort_group"] == "").all()
    f = studies.StudyFilter(exclude_evidence_levels=("conference_abstract", "low_confidence"))
    assert f.describe() == "evidence level not in conference_abstract, low_confidence"
    with pytest.raises(ValidationError, match="exclude_cohort_group: unknown cohort group 'nanjing'"):
        studies.StudyFilter(exclude_cohort_groups=("nanjing",)).apply(df)
    with pytest.raises(ValidationError, match="evidence_level: unknown level 'paper'"):
        studies.StudyFilter(evidence_levels=("paper",)).apply(df)


def test_local_rows_are_marked(tmp_path):
    local = tmp_path / "local.csv"
    local.write_text(HEADER + "mine2026,2026,msc,remission,3,9,6,our own series\n", encoding="utf-8")
    df = studies.load_studies(local=local)
    row = df.iloc[-1]
    assert row["local"] and row["source"] == "local"
    sel = studies.select_for_pooling(df, "remission", "msc")
    assert "mine2026 (local)" in sel.labels()
    assert len(studies.load_studies(local=tmp_path / "absent.csv")) == 149


def test_same_outcome_at_two_timepoints_is_not_a_duplicate(tmp_path):
    df = studies.load_studies(
        write(tmp_path, "x,2020,msc,remission,1,10,6,p. 1\nx,2020,msc,remission,2,10,12,p. 1\n"),
        include_packaged=False,
    )
    assert len(df) == 2


def test_duplicate_of_a_packaged_row_is_caught(tmp_path):
    with pytest.raises(ValidationError, match=r"mine.csv row 2 \(study sun2009\): outcome: duplicate"):
        studies.load_studies(write(tmp_path, "sun2009,2009,msc,remission,4,4,,p. 1\n"))


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
    assert ids == ["wang2013_ct", "li2016_fuzhou", "deng2017", "barbado2018"]
    assert sel.records()[0] == {"id": "wang2013_ct", "events": 23, "total": 83}  # 12-month row: largest n
    # Deng 2017: complete remission (5/12), not complete + partial (9/12; version 2 correction)
    assert sel.records()[2] == {"id": "deng2017", "events": 5, "total": 12}
    reasons = {(s, why.split(" (")[0]) for s, _, why in sel.excluded}
    for dropped in ("wang2018_scr", "sun2009", "yuan2019"):
        assert (dropped, "shares patients with wang2013_ct") in reasons
    nanjing = [r for r in sel.table() if r["cohort_group"] == "nanjing_msc"]
    assert len(nanjing) == 1


def test_other_cohort_groups_keep_one_study():
    df = studies.load_studies()
    trm = studies.select_for_pooling(df, "treatment_related_mortality", "hsct")
    assert "burt2006" in [r["id"] for r in trm.records()]  # Traynor 2000 (inside Burt 2006) has no TRM row
    death = studies.select_for_pooling(df, "relapse", "hsct", exact=True)
    ids = [r["id"] for r in death.records()]
    assert "ash2007_pbsct17" in ids and "song2011" not in ids


def test_cohort_rule_latest_and_timepoint_filter():
    df = studies.load_studies()
    latest = studies.select_for_pooling(df, "remission", "msc", cohort_rule="latest")
    assert "yuan2019" in [r["id"] for r in latest.records()]  # 2019 is the latest with a remission row
    assert "wang2013_ct" not in [r["id"] for r in latest.records()]
    at24 = studies.select_for_pooling(df, "complete_remission", "msc", timepoint=24, exact=True)
    assert at24.records() == [{"id": "wang2013_ct", "events": 12, "total": 39}]


def test_rows_without_counts_are_excluded_with_reason():
    sel = studies.select_for_pooling(studies.load_studies(), "overall_survival_KM", "hsct", exact=True)
    assert sel.rows.empty
    assert sel.excluded[0][0] == "alchi2013" and "Kaplan-Meier" in sel.excluded[0][2]
    cont = studies.select_for_pooling(studies.load_studies(), "sledai_12mo", exact=True)
    assert cont.rows.empty and "continuous summary" in cont.excluded[0][2]


def test_unknown_therapy_filter_rejected():
    with pytest.raises(ValidationError, match="therapy: unknown therapy code 'cart'"):
        studies.select_for_pooling(studies.load_studies(), "remission", "cart")


def test_outcome_families():
    assert "doris_remission" in studies.outcome_codes("remission")
    assert studies.outcome_codes("remission", exact=True) == ("remission",)
    assert studies.outcome_codes("relapse_after_remission") == ("relapse_after_remission",)


def test_every_study_is_labelled_by_a_name_a_reader_can_look_up_never_by_its_key():
    df = studies.load_studies().drop_duplicates("study_id")
    labels = {str(r["study_id"]): studies.study_label(r) for _, r in df.iterrows()}
    assert all(label != key for key, label in labels.items())
    authorless = [labels[str(r["study_id"])] for _, r in df.iterrows() if not r["first_author"]]
    assert len(authorless) >= 5 and len(set(authorless)) == len(authorless)
    assert labels["ytb323_lsm2024"] == "Lupus Sci Med 2024 (NCT05798117)"
    assert labels["leng2017_pumch"] == "PMID 28240594, 2017"
    assert labels["ash2007_pbsct17"] == "Blood 2007"
