"""The report's programme-versus-literature comparison pools what every evidence command pools:
the shipped studies and the user's local evidence file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lupuscell.analysis.competing import cumulative_incidence
from lupuscell.reports.literature import compare_with_literature

CAUSES = {1: "relapse", 2: "non-relapse mortality"}
LOCAL_TRM = (
    "study_id,year,therapy,outcome,events,total,source_note\n"
    "ourcentre2026,2026,hsct,treatment_related_mortality,1,30,our programme's own series\n"
)


def _hsct_cif() -> dict[str, object]:
    rng = np.random.default_rng(7)
    days = rng.integers(30, 1500, size=80).astype(float)
    status = rng.choice([0, 1, 2], size=80, p=[0.6, 0.25, 0.15])
    return {"autologous_hsct": cumulative_incidence(days, status, causes=CAUSES, landmark_times=[365])}


def _hsct_row(rows: list[dict[str, object]]) -> dict[str, object]:
    return next(r for r in rows if r["therapy"] == "autologous_hsct")


def test_a_local_study_joins_the_pooled_literature(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    before = _hsct_row(compare_with_literature(_hsct_cif())[0])
    local = tmp_path / "lupuscell" / "evidence" / "local_studies.csv"
    local.parent.mkdir(parents=True)
    local.write_text(LOCAL_TRM, encoding="utf-8")
    after = _hsct_row(compare_with_literature(_hsct_cif())[0])
    assert "ourcentre2026" not in before["studies"] and "ourcentre2026" in after["studies"]  # type: ignore[operator]
    assert after["k"] == before["k"] + 1  # type: ignore[operator]
