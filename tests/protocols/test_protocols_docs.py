"""The user guide has a page per shipped protocol listing every criterion with its source, and
the screening pages exist and are linked from the documentation index."""

from __future__ import annotations

from pathlib import Path

from lupuscell.protocols.catalog import load_protocol, shipped_protocol_names
from lupuscell.protocols.schema import walk

DOCS = Path(__file__).parents[2] / "docs"


def test_a_page_per_protocol_with_every_criterion_and_source() -> None:
    for name in shipped_protocol_names():
        page = (DOCS / "screening" / f"protocol_{name}.md").read_text(encoding="utf-8")
        protocol = load_protocol(name)
        for criterion in walk(protocol.criteria):
            assert f"`{criterion.id}`" in page and criterion.text in page, (name, criterion.id)
            if criterion.source:
                assert criterion.source.replace("|", "/") in page, (name, criterion.id)
        for ref in protocol.references:
            assert ref.citation in page


def test_screening_guides_are_linked() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("index", "writing_a_protocol", "omop_databases", "trial_finder"):
        assert (DOCS / "screening" / f"{page}.md").is_file()
        assert f"screening/{page}.md" in index
