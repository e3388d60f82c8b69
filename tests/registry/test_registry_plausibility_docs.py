"""The plausibility page lists every analyte's range exactly as data/units.yaml has it."""

from __future__ import annotations

from pathlib import Path

from lupuscell import units

DOC = Path(__file__).parents[2] / "docs" / "registry" / "plausibility.md"


def test_every_analyte_has_a_sourced_range_and_the_page_lists_it() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in units.analyte_codes():
        analyte = units.get_analyte(code)
        plausible = analyte.plausible
        assert plausible is not None and plausible.source, code
        row = f"| `{code}` | {plausible.low:,.0f}–{plausible.high:,.0f} {analyte.canonical_unit} | {plausible.source} |"
        assert row in text, row
