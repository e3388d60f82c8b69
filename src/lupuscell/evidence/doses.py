"""Cell doses per kilogram read from the curated ``cell_source`` text.

The curated evidence keeps each study's product and regimen as published, e.g. ``allogeneic
umbilical cord MSC, single IV 1x10^6 cells/kg``. A dose meta-regression needs the dose as a
number, so :func:`dose_per_kg` reads it from that text, in units of 10^6 cells/kg, and says
why when it cannot:

* a dose per kilogram (``1x10^6 cells/kg``, ``3x10^6/kg``, ``1x10^6 cells/kg per infusion``)
  is read as it is written (per infusion; the number of infusions is not modelled);
* a flat dose (``90x10^6 cells``, ``50x10^6 flat dose``) has no per-kg value without body
  weights, which the abstracts do not give: excluded;
* several doses in one study (dose escalation, ``2x10^6 or 4x10^6 cells/kg``) without
  per-dose outcomes: excluded;
* no dose, or one the curators could not verify (``dose not verified``): excluded.

The matched text is returned with the value, so a reader sees where each number came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PER_KG = re.compile(
    r"(?P<mant>\d+(?:\.\d+)?)\s*x\s*10\^(?P<exp>\d+)\s*(?:cells|CAR\+ cells)?\s*/\s*kg", re.IGNORECASE
)
_ANY_DOSE = re.compile(r"\d+(?:\.\d+)?\s*x\s*10\^\d+", re.IGNORECASE)
_UNVERIFIED = ("dose not verified", "dose not in", "dose not stated")


@dataclass(frozen=True)
class Dose:
    """A study's dose in 10^6 cells/kg (``None`` with the reason when not usable)."""

    value: float | None
    text: str
    reason: str = ""


def dose_per_kg(cell_source: str) -> Dose:
    """Read one dose per kilogram from a ``cell_source`` text (see the module docstring)."""
    text = str(cell_source)
    if any(flag in text.lower() for flag in _UNVERIFIED):
        return Dose(None, text, "dose not stated or not verified in the source")
    per_kg = list(_PER_KG.finditer(text))
    if len(per_kg) > 1 or re.search(r"\d\s*x\s*10\^\d+\s*or\s*\d", text):
        return Dose(None, text, "several doses in one study (outcomes not reported per dose)")
    if len(per_kg) == 1:
        m = per_kg[0]
        value = float(m.group("mant")) * 10 ** (int(m.group("exp")) - 6)
        return Dose(value, m.group(0))
    if _ANY_DOSE.search(text):
        return Dose(None, text, "flat dose (not per kg; body weights not reported)")
    return Dose(None, text, "no dose reported")
