"""The outcomes report builds from contract datasets and says what it computed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_fixtures import fake_datasets

from lupuscell.analysis.survival import kaplan_meier
from lupuscell.errors import LupuscellError
from lupuscell.reports.build import ReportData, compute_summary, write_report


def _data(n: int = 300) -> ReportData:
    adsl, adtte, adrs = fake_datasets(n)
    return ReportData(
        adsl,
        adtte,
        adrs,
        definitions={"Flare": "SLEDAI-2K rise >= 4"},
        snapshot={"source": "test", "as_of": "2026-11-22", "generated_at": "now"},
    )


def test_report_files_and_summary(tmp_path: Path) -> None:
    data = _data()
    summary = write_report(data, tmp_path)
    for name in ("report.html", "report.pdf", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html  # self-contained, static
    assert "SLEDAI-2K rise &gt;= 4" in html  # definitions are stated
    assert (tmp_path / "report.pdf").read_bytes()[:4] == b"%PDF"
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == summary
    assert on_disk["n_patients"] == 300
    assert sum(on_disk["by_therapy"].values()) == 300


def test_summary_numbers_equal_direct_estimates() -> None:
    data = _data()
    summary, _ = compute_summary(data)
    os_rows = data.adtte[data.adtte["PARAMCD"] == "OS"]
    msc = os_rows[os_rows["THERAPY"] == "msc"]
    km = kaplan_meier(msc["AVAL"], msc["CNSR"] == 0, landmark_times=[365.25])
    assert summary["km"]["OS"]["msc"]["landmarks"][0]["survival"] == pytest.approx(km.landmarks[0].survival)
    assert summary["km"]["OS"]["all"]["events"] == int(data.adsl["DTHFL"].sum())
    terms = [c["term"] for c in summary["cox"]["coefficients"]]
    assert "THERAPY[msc]" in terms and "BSLEDAI" in terms
    assert summary["cox"]["reference_levels"] == {"THERAPY": "autologous_hsct"}
    ae = {r["Event"]: r for r in summary["adverse_events"]}
    assert ae["CRS (ASTCT)"]["Grade 1"] == int((data.adsl["max_crs_grade"] == 1).sum())


def test_empty_cohort_is_a_clear_error() -> None:
    data = _data()
    data.adsl = data.adsl.iloc[0:0]
    with pytest.raises(LupuscellError, match="no patients"):
        compute_summary(data)
