"""Concept sets: the OMOP concept ids a criterion matches, as data files.

Two formats are read:

* the lupuscell YAML format (``data/concept_sets/<name>.yaml``): ``items`` with ``concept_id``,
  ``name``, ``descendants``, ``exclude``, ``verified`` and the ``source`` the id was seen in;
  ``unconfirmed`` lists concepts whose id could not be confirmed (no id is ever invented); and
* the concept-set expression JSON that OHDSI ATLAS exports (``{"items": [{"concept": {...},
  "isExcluded": ..., "includeDescendants": ..., "includeMapped": ...}]}``, optionally wrapped in
  ``{"name": ..., "expression": {...}}``), read directly.

Resolution follows the SQL OHDSI's Circe generates for a concept set: the listed ids, plus the
descendants (``concept_ancestor``) of the items with ``descendants``, minus the excluded items
expanded the same way. Descendants come from the data source's own vocabulary; without one
(a registry patient), only the listed ids are used.

References
----------
OHDSI Circe-be, concept set expression and its SQL (``ConceptSetExpressionQueryBuilder``).
https://github.com/OHDSI/circe-be ; The Book of OHDSI, chapter 10 (concept sets).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field

from lupuscell.errors import Problem, ValidationError
from lupuscell.schemas.errors import problems_from_pydantic

DOMAINS = ("Condition", "Drug", "Measurement", "Visit", "Observation")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ConceptItem(_Model):
    """One concept of a set, with where its id was seen."""

    concept_id: int = Field(ge=0)
    name: str
    domain: str | None = None
    vocabulary: str | None = None
    code: str | None = None
    standard: str | None = None
    descendants: bool = True
    exclude: bool = False
    verified: bool = False
    source: str | None = None
    note: str | None = None


class UnconfirmedConcept(_Model):
    """A concept the set should hold but whose OMOP id could not be confirmed."""

    name: str
    vocabulary: str | None = None
    code: str | None = None
    note: str


class ConceptSet(_Model):
    """A named set of concepts; ``aliases`` are free-text drug or test names that map to it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    domain: str
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    items: list[ConceptItem] = Field(default_factory=list)
    unconfirmed: list[UnconfirmedConcept] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def included(self) -> tuple[ConceptItem, ...]:
        return tuple(i for i in self.items if not i.exclude)

    @property
    def excluded(self) -> tuple[ConceptItem, ...]:
        return tuple(i for i in self.items if i.exclude)

    def listed_ids(self) -> frozenset[int]:
        """The included ids minus the excluded ids, without descendant expansion."""
        return frozenset(i.concept_id for i in self.included) - {i.concept_id for i in self.excluded}

    def resolve(self, descendants: Callable[[Iterable[int]], set[int]] | None = None) -> frozenset[int]:
        """Concept ids matched by the set; ``descendants(ids)`` expands (None: listed ids only)."""
        if descendants is None:
            return self.listed_ids()
        include = {i.concept_id for i in self.included}
        include |= descendants([i.concept_id for i in self.included if i.descendants])
        exclude = {i.concept_id for i in self.excluded}
        exclude |= descendants([i.concept_id for i in self.excluded if i.descendants])
        return frozenset(include - exclude)

    def expand_sql_parts(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """(included, included-with-descendants, excluded, excluded-with-descendants) ids."""
        return (
            [i.concept_id for i in self.included],
            [i.concept_id for i in self.included if i.descendants],
            [i.concept_id for i in self.excluded],
            [i.concept_id for i in self.excluded if i.descendants],
        )


def _validated(raw: Mapping[str, Any], record: str) -> ConceptSet:
    try:
        return ConceptSet.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, record)) from None


def from_yaml(path: Path) -> ConceptSet:
    """Read a lupuscell concept-set YAML file; the file name must equal its ``name``."""
    record = f"concept set {path.name}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError.single(record, "(file)", f"not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ValidationError.single(record, "(file)", "a concept set must be a mapping of fields")
    found = _validated(raw, record)
    if found.name != path.stem:
        raise ValidationError.single(
            record, "name", f"{found.name!r} differs from the file name {path.stem!r}"
        )
    return found


def from_atlas(payload: Any, name: str, *, source: str = "ATLAS export") -> ConceptSet:
    """Read an ATLAS concept-set expression (the JSON ATLAS exports) as a :class:`ConceptSet`.

    ``includeMapped`` items are accepted but noted: the screen matches the standard
    ``*_concept_id`` columns, where mapped source concepts never appear.
    """
    record = f"ATLAS concept set {name}"
    if isinstance(payload, Mapping) and "expression" in payload:
        payload = payload["expression"]
    if not isinstance(payload, Mapping) or not isinstance(payload.get("items"), list):
        raise ValidationError.single(record, "items", "an ATLAS concept set expression needs an 'items' list")
    items, notes, problems = [], [], []
    for n, entry in enumerate(payload["items"]):
        concept = entry.get("concept") if isinstance(entry, Mapping) else None
        if not isinstance(concept, Mapping) or "CONCEPT_ID" not in concept:
            problems.append(Problem(record, f"items[{n}].concept.CONCEPT_ID", "is required"))
            continue
        if entry.get("includeMapped"):
            notes.append(f"items[{n}] ({concept['CONCEPT_ID']}): includeMapped ignored (standard ids only)")
        items.append(
            {
                "concept_id": concept["CONCEPT_ID"],
                "name": concept.get("CONCEPT_NAME") or str(concept["CONCEPT_ID"]),
                "domain": concept.get("DOMAIN_ID"),
                "vocabulary": concept.get("VOCABULARY_ID"),
                "code": None if concept.get("CONCEPT_CODE") is None else str(concept["CONCEPT_CODE"]),
                "standard": concept.get("STANDARD_CONCEPT"),
                "descendants": bool(entry.get("includeDescendants", False)),
                "exclude": bool(entry.get("isExcluded", False)),
                "verified": False,
                "source": source,
            }
        )
    if problems:
        raise ValidationError(problems)
    domains = {i["domain"] for i in items if i["domain"]}
    return _validated(
        {
            "name": name,
            "title": name.replace("_", " "),
            "domain": domains.pop() if len(domains) == 1 else "mixed",
            "description": f"Read from {source}.",
            "items": items,
            "notes": notes,
        },
        record,
    )


def from_atlas_file(path: Path) -> ConceptSet:
    """Read an ATLAS concept-set JSON file; the set is named after the file."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationError.single(
            f"ATLAS concept set {path.name}", "(file)", f"not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    return from_atlas(payload, path.stem, source=f"ATLAS export {path.name}")
