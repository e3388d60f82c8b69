"""Concept sets: real OMOP ids with their sources, unconfirmed ones named without an id, the
vocabulary subset in step with them, and ATLAS concept-set JSON read directly."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import pytest

from lupuscell.errors import ValidationError
from lupuscell.protocols.catalog import load_bundle, load_concept_set, shipped_concept_set_names
from lupuscell.protocols.concepts import from_atlas

ATLAS = Path(__file__).parent / "data" / "atlas_sle_concept_set.json"


def _vocabulary() -> dict[int, dict[str, str]]:
    text = resources.files("lupuscell").joinpath("data", "omop_vocabulary.csv").read_text("utf-8")
    return {int(r["concept_id"]): r for r in csv.DictReader(text.splitlines())}


def test_sle_is_257628_with_descendants_minus_drug_induced() -> None:
    sle = load_concept_set("sle")
    referent = next(i for i in sle.items if i.concept_id == 257628)
    assert referent.descendants and referent.verified and "PhenotypeLibrary" in (referent.source or "")
    assert [i.concept_id for i in sle.excluded] == [4063581]


def test_every_item_is_in_the_vocabulary_subset_with_the_same_confirmation() -> None:
    vocab = _vocabulary()
    for name in shipped_concept_set_names():
        for item in load_concept_set(name).items:
            row = vocab[item.concept_id]
            assert row["concept_name"].split(" (")[0] in item.name or item.name.startswith(
                row["concept_name"]
            ), name
            assert (row["verified"] == "yes") == item.verified, (name, item.concept_id)


def test_unconfirmed_drugs_have_no_id_and_say_so() -> None:
    for name in ("anifrolumab", "voclosporin"):
        cs = load_concept_set(name)
        assert cs.items == [] and cs.unconfirmed
        assert "no OHDSI" in cs.unconfirmed[0].note
    anifrolumab = load_concept_set("anifrolumab")
    assert anifrolumab.listed_ids() == frozenset() and "701470" in anifrolumab.notes[0]  # named as not used


def test_bundles_warn_about_sets_that_can_never_match() -> None:
    warnings = load_bundle("cart19_refractory_sle").warnings
    assert any("anifrolumab" in w for w in warnings) and any("voclosporin" in w for w in warnings)


def test_atlas_export_is_read_directly() -> None:
    cs = from_atlas(json.loads(ATLAS.read_text()), "atlas_sle")
    assert [(i.concept_id, i.descendants, i.exclude) for i in cs.items] == [
        (257628, True, False),
        (4063581, True, True),
        (4285717, False, False),
    ]
    assert cs.items[0].name == "Systemic lupus erythematosus" and cs.items[0].vocabulary == "SNOMED"
    assert cs.resolve(lambda ids: {1, 2} if 257628 in ids else set()) == frozenset({257628, 1, 2, 4285717})
    assert any("includeMapped" in n for n in cs.notes)


def test_atlas_file_in_a_user_directory_overrides_a_shipped_set(tmp_path: Path) -> None:
    (tmp_path / "egfr.json").write_text(ATLAS.read_text())
    assert load_concept_set("egfr", [tmp_path]).listed_ids() == {257628, 4285717}


def test_bad_atlas_json_names_the_item() -> None:
    with pytest.raises(ValidationError, match=r"items\[0\]\.concept\.CONCEPT_ID"):
        from_atlas({"items": [{"concept": {}}]}, "broken")
