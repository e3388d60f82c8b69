"""The open-questions report built from the shipped evidence: one section per question."""

from __future__ import annotations

import json

import pytest

from lupuscell.evidence import studies
from lupuscell.reports.evidence_questions import build_questions_report, write_questions_report

KEYS = ["remission_by_therapy", "trm_by_therapy", "msc_cell_source", "dose", "long_term_safety"]


@pytest.fixture(scope="module")
def report():
    return build_questions_report(studies.load_studies(), generated="2026-01-01 00:00 UTC")


def test_one_section_per_question_with_k_n_plot_and_reading(report) -> None:
    assert [s.key for s in report.sections] == KEYS
    for s in report.sections:
        assert s.figures, s.key
        assert s.sentence and s.caveats and s.stats
        assert f'id="{s.key}"' in report.html
    rem = report.sections[0]
    assert rem.stats[0] == "k = 13 studies, n = 268 patients"
    assert any(line.startswith("Test for subgroup differences") for line in rem.stats)
    assert "Remission means different things" in rem.caveats[0]
    assert "very limited" in rem.sentence
    assert report.html.count("data:image/png;base64,") == sum(len(s.figures) for s in report.sections)


def test_dose_section_has_bubble_plots_and_reasons(report) -> None:
    dose = report.sections[3]
    assert len(dose.figures) == 2  # MSC and CAR-T
    axes = dose.figures[0][0].axes[0]
    assert axes.get_xlabel() == "Dose (10^6 cells/kg)"
    reasons = {sid: why for sid, _, why in dose.excluded}
    assert reasons["farge2025"].startswith("several doses")
    assert reasons["obecel_carlysle_2025"].startswith("flat dose")
    assert any(line.startswith("Autologous HSCT: not estimable") for line in dose.stats)


def test_safety_section_per_patient_year(report) -> None:
    safety = report.sections[4]
    assert "per 100 patient-years" in " ".join(safety.stats)
    assert "malignancies" in safety.sentence
    assert any(why.startswith("no follow-up time") for _, _, why in safety.excluded)


def test_written_files(tmp_path) -> None:
    summary = write_questions_report(studies.load_studies(), tmp_path)
    assert (tmp_path / "questions.pdf").read_bytes().startswith(b"%PDF")
    data = json.loads((tmp_path / "questions.json").read_text(encoding="utf-8"))
    assert list(data["questions"]) == KEYS == list(summary["questions"])
    assert data["dataset"] == "curated SLE cell-therapy evidence, version 2: 33 studies, 149 rows"
    assert (tmp_path / "questions.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_pdf_text_pages_keep_every_line_inside_the_page() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lupuscell.reports.evidence_questions import TITLE, _text_pages

    blocks = [("h2", "Which cell source? " * 6), ("p", "word " * 200), ("li", "item " * 80)]
    for page in _text_pages(TITLE, blocks):
        canvas = FigureCanvasAgg(page)
        canvas.draw()
        width = page.bbox.width
        for text in page.texts:
            extent = text.get_window_extent(renderer=canvas.get_renderer())
            assert extent.x1 <= width, f"{text.get_text()!r} runs off the page"
