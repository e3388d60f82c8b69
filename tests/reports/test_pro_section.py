"""The patient-reported outcomes block of the cohort report: time points picked as documented,
means by therapy worked by hand, the figure's axes, and the block in `lupuscell report` built
from a registry (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.instruments.rand36 import SCALES
from lupuscell.registry.bulk import load_tables
from lupuscell.registry.models import Patient, TherapyCourse
from lupuscell.registry.repository import Registry
from lupuscell.reports import pro_section
from lupuscell.synth.cohort import iter_cohort_tables

D0 = dt.date(2021, 1, 1)


def _row(patient: str, therapy: str, day: int, pf: float | None, day0: dt.date | None = D0) -> dict:
    base = day0 or D0
    scales = dict.fromkeys(SCALES, 50.0)
    scales["physical_functioning"] = pf
    return {
        "patient_code": patient,
        "site_code": "KI",
        "therapy": therapy,
        "day0": day0,
        "assessment_date": base + dt.timedelta(days=day),
        **scales,
    }


def test_time_points_and_means_by_hand() -> None:
    frame = pd.DataFrame(
        [
            _row("A", "msc", -30, 40.0),  # baseline
            _row("A", "msc", -5, 45.0),  # baseline, nearer day 0: this one
            _row("A", "msc", 183, 70.0),  # month 6 (target day 183)
            _row("B", "msc", 0, 55.0),  # baseline (day 0 itself)
            _row("B", "msc", 200, None),  # month 6, physical functioning not scored
            _row("C", "car_t", 10, 99.0),  # after day 0, before month 3's window: no time point
            _row("C", "car_t", 95, 80.0),  # month 3 (target 91, window 61-121)
            _row("D", "car_t", 30, 10.0, day0=None),  # no course: left out
        ]
    )
    points = pro_section.at_time_points(frame)
    picked = {(r.patient_code, r.time_point): r.assessment_date for r in points.itertuples()}
    assert picked == {
        ("A", "Baseline"): D0 - dt.timedelta(days=5),
        ("B", "Baseline"): D0,
        ("A", "Month 6"): D0 + dt.timedelta(days=183),
        ("B", "Month 6"): D0 + dt.timedelta(days=200),
        ("C", "Month 3"): D0 + dt.timedelta(days=95),
    }
    rows = {(r["therapy"], r["time_point"]): r for r in pro_section.summary_rows(points)}
    base = rows[("msc", "Baseline")]["physical_functioning"]
    assert base["mean"] == pytest.approx(50.0) and base["n"] == 2  # (45 + 55) / 2
    assert base["sd"] == pytest.approx((2 * 5.0**2) ** 0.5)  # sample SD of 45, 55
    m6 = rows[("msc", "Month 6")]
    assert m6["n_patients"] == 2 and m6["physical_functioning"] == {"mean": 70.0, "sd": None, "n": 1}
    assert rows[("car_t", "Month 3")]["pain"]["mean"] == 50.0
    table = pro_section.display_table(list(rows.values()))
    assert list(table.columns[:3]) == ["Therapy", "Time point", "Patients"]
    assert "50.0 (2)" in table["Physical functioning"].tolist()


def test_figure_has_a_panel_per_scale_on_0_to_100() -> None:
    block = pro_section.pro_block(pd.DataFrame([_row("A", "msc", 0, 45.0), _row("B", "car_t", 182, 60.0)]))
    assert block is not None
    axes = block.figure.axes
    assert len(axes) == 8
    assert [ax.get_title() for ax in axes] == list(pro_section.SCALE_TITLES.values())
    assert all(ax.get_ylim() == (0.0, 100.0) for ax in axes)
    assert axes[4].get_xlabel() == "Months after day 0" and axes[0].get_ylabel() == "Mean score (0-100)"
    assert {t.get_text() for t in block.figure.legends[0].get_texts()} == {"MSC", "CD19 CAR-T"}
    assert pro_section.pro_block(pd.DataFrame([_row("D", "msc", 0, 1.0, day0=None)])) is None
    assert pro_section.pro_block(None) is None


def test_report_from_registry_has_the_pro_block(engine: Engine, tmp_path: Path) -> None:
    load_tables(engine, iter_cohort_tables(30, seed=5), actor="test", source="synth", reason="test")
    with engine.connect() as conn:
        firsts = conn.execute(
            sa.select(Patient.code, sa.func.min(TherapyCourse.infusion_date), Patient.birth_year)
            .join(TherapyCourse, TherapyCourse.patient_id == Patient.id)
            .group_by(Patient.code, Patient.birth_year)
            .order_by(Patient.code)
            .limit(2)
        ).all()
    registry = Registry(engine)
    for (code, day0, _), q3 in zip(firsts, (1, 3), strict=True):  # q3 -> 0 and 100
        registry.create(
            "pro_assessment",
            {"patient_code": code, "assessment_date": str(day0), "responses": {"q3": q3}},
            actor="test",
        )
    out = tmp_path / "rep"
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["report", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "summary.json").read_text())["patient_reported_outcomes"]
    baseline = [r for r in rows if r["time_point"] == "Baseline"]
    assert sum(r["n_patients"] for r in baseline) == 2
    pf = [r["physical_functioning"] for r in baseline]
    means = sorted(p["mean"] for p in pf) if len(pf) == 2 else [pf[0]["mean"]]
    assert means in ([0.0, 100.0], [50.0])  # by therapy, or both in one therapy
    html = (out / "report.html").read_text()
    assert "Patient-reported outcomes (RAND 36-Item Health Survey 1.0)" in html
    assert "RAND-36 scales by time point and therapy" in html
