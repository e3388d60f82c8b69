"""The evidence-strength sentence and doses read from cell_source."""

from __future__ import annotations

import pytest

from lupuscell.evidence.doses import dose_per_kg
from lupuscell.evidence.strength import EvidenceFeatures, limitations, strength_sentence


def test_sentence_names_each_limitation() -> None:
    f = EvidenceFeatures(
        k=3, n=40, randomised=0, levels=["abstract", "conference_abstract", "table"], i2=70.0
    )
    lims = limitations(f)
    assert lims == [
        "only 3 studies",
        "40 patients in all",
        "no randomised comparison (single-arm series)",
        "2 of 3 read from abstracts or secondary sources, not full results tables",
        "1 from conference abstracts, reviews or unverified copies",
        "inconsistent results (I² = 70%)",
    ]
    assert strength_sentence(f).startswith("The evidence is very limited: only 3 studies;")


def test_grades() -> None:
    good = EvidenceFeatures(k=8, n=400, randomised=3, levels=["table"] * 8, i2=10.0)
    assert strength_sentence(good) == "The evidence is moderate."
    one = EvidenceFeatures(k=8, n=400, randomised=3, levels=["table"] * 7 + ["abstract"], i2=10.0)
    assert strength_sentence(one).startswith("The evidence is limited: 1 of 8")
    assert (
        strength_sentence(EvidenceFeatures(0, 0, 0, []))
        == "No study in the curated evidence answers this question."
    )


@pytest.mark.parametrize(
    ("text", "value", "reason"),
    [
        ("allogeneic umbilical cord MSC, single IV 1x10^6 cells/kg", 1.0, ""),
        ("autologous BCMA-CD19 compound CAR T (cCAR) 3x10^6/kg after cessation", 3.0, ""),
        ("allogeneic adipose-derived MSC, single IV 2x10^6 cells/kg", 2.0, ""),
        (
            "allogeneic umbilical cord MSC, single IV infusion 2x10^6 or 4x10^6 cells/kg",
            None,
            "several doses",
        ),
        (
            "allogeneic MSC from healthy donors (source tissue not stated in abstract), 90x10^6 cells IV",
            None,
            "flat dose",
        ),
        ("CD19 CAR T obecabtagene autoleucel 50x10^6 flat dose after Flu/Cy", None, "flat dose"),
        (
            "allogeneic umbilical cord MSC (dose not verified; a 2023 review table gives 1x10^7/kg)",
            None,
            "dose not stated",
        ),
        ("autologous PBSC transplantation", None, "no dose"),
    ],
)
def test_dose_per_kg(text: str, value: float | None, reason: str) -> None:
    d = dose_per_kg(text)
    assert d.value == value
    assert d.reason.startswith(reason)
