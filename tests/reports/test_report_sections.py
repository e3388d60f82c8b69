"""The report's competing-risks regression and prediction sections (issue 14, point 4).

The sections are in report.html, report.pdf and summary.json; on the synthetic cohort without
baseline signal the "who benefits" page says the data are too few to say who benefits; on a
small cohort both sections say in plain words that there are too few events; ``--bootstrap``
below 10 is refused, naming the option.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import fake_datasets
from typer.testing import CliRunner

from lupuscell.errors import ValidationError
from lupuscell.outcomes.datasets import build_datasets
from lupuscell.reports.build import ReportData, write_report
from lupuscell.reports.competing_section import build_competing_section
from lupuscell.reports.prediction_section import TOO_FEW, build_prediction_section, c_interval
from lupuscell.synth.cohort import generate_cohort_tables
from lupuscell.synth.cohort_data import from_tables

N_BOOT = 10


def _data(n: int, seed: int = 1) -> ReportData:
    adsl, adtte, adrs = fake_datasets(n, seed)
    return ReportData(adsl, adtte, adrs, {"Day 0": "infusion"}, {"source": "test"})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("sections")
    return write_report(_data(300), out, n_bootstrap=N_BOOT), out


@pytest.mark.slow
def test_sections_are_in_html_summary_and_pdf(built: tuple[dict, Path]) -> None:
    summary, out = built
    html = (out / "report.html").read_text(encoding="utf-8")
    for heading in (
        "Relapse and non-relapse mortality: Fine-Gray beside cause-specific Cox",
        "Prediction models: performance and calibration",
        "Who benefits, and at what risk",
    ):
        assert heading in html
    assert "Fine-Gray sHR (95% CI)" in html and "Cause-specific HR (95% CI)" in html
    assert html.count('<img alt="Calibration:') == 2
    on_disk = json.loads((out / "summary.json").read_text())
    causes = {c["name"]: c for c in on_disk["competing_regression"]["causes"]}
    relapse = causes["relapse"]["model"]
    assert relapse["events"] == summary["competing_regression"]["causes"][0]["events"] > 10
    assert {"1", "2"} == set(relapse["cause_specific"])  # the cause-specific models beside it
    models = on_disk["prediction"]["models"]
    assert on_disk["prediction"]["n_bootstrap"] == N_BOOT
    for name in ("remission_12m", "rfs"):
        s = models[name]["summary"]
        assert s["n_bootstrap"] == N_BOOT and s["events"] > 10
        assert s["c_statistic_corrected"] == pytest.approx(
            s["c_statistic_apparent"] - s["c_statistic_optimism"]
        )
        assert models[name]["verdict"]
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True
        ).stdout
        for phrase in (
            "Who benefits, and at what risk",
            "Fine-Gray beside cause-specific Cox",
            "Calibration, n =",
        ):
            assert phrase in text


@pytest.mark.slow
def test_no_signal_cohort_says_the_data_are_too_few() -> None:
    ds = build_datasets(from_tables(generate_cohort_tables(800, 1, baseline_signal=False)))
    section = build_prediction_section(ds.adsl, ds.adtte, N_BOOT)
    remission = section.summary["models"]["remission_12m"]
    assert remission["too_few"] and remission["verdict"].startswith(
        "DORIS remission by 12 months: " + TOO_FEW
    )
    assert "near 0.5" in remission["verdict"]
    assert TOO_FEW in section.html


@pytest.mark.slow
def test_signal_cohort_names_its_strongest_predictors() -> None:
    ds = build_datasets(from_tables(generate_cohort_tables(800, 1)))
    section = build_prediction_section(ds.adsl, ds.adtte, N_BOOT)
    remission = section.summary["models"]["remission_12m"]
    assert not remission["too_few"]
    assert "strongest predictors of who benefits are" in remission["verdict"]
    assert "bootstrap 95% interval" in remission["verdict"] and TOO_FEW not in remission["verdict"]
    ranked = [p["term"] for p in remission["predictors"]]
    assert "NEPHRITIS" in ranked[:6]


def test_small_cohort_says_too_few_in_plain_words() -> None:
    adsl, adtte, _ = fake_datasets(40, 3)
    competing = build_competing_section(adsl, adtte)
    nrm = next(c for c in competing.summary["causes"] if c["name"] == "non-relapse mortality")
    assert nrm["events"] < 10 and "model" not in nrm
    assert nrm["message"].startswith("Too few events for a regression of non-relapse mortality")
    assert "Too few events for a regression of non-relapse mortality" in competing.html
    prediction = build_prediction_section(adsl, adtte, N_BOOT)
    for entry in prediction.summary["models"].values():
        assert entry["too_few"]
    assert TOO_FEW in prediction.html
    pages = competing.pages() + prediction.pages()  # the PDF pages build without a fitted model too
    assert pages


def test_bootstrap_below_10_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="bootstrap"):
        write_report(_data(50), tmp_path, n_bootstrap=5)
    from lupuscell.cli.main import app

    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path), "--bootstrap", "5"])
    assert result.exit_code == 2 and "--bootstrap" in result.output


def test_c_interval_is_hanley_mcneil() -> None:
    # Hanley & McNeil 1982, eq. 2 by hand: A = 0.8, 50 and 50 cases, Q1 = 0.8/1.2, Q2 = 1.28/1.8,
    # SE^2 = (0.16 + 49 (Q1 - 0.64) + 49 (Q2 - 0.64)) / 2500 = 0.0019804, SE = 0.04450
    lo, hi = c_interval(0.8, 50, 50)
    assert (hi - lo) / (2 * 1.96) == pytest.approx(0.04450, abs=1e-5)
    assert all(math.isnan(v) for v in c_interval(0.5, 0, 10))  # no events: no interval
