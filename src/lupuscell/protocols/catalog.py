"""Find and load protocols and concept sets, and check that a protocol is complete.

Shipped protocols live in ``lupuscell/data/protocols/<name>.yaml`` and shipped concept sets in
``lupuscell/data/concept_sets/<name>.yaml``. A user adds their own by passing directories
(``extra_dirs``): a protocol may also be given as a path to a YAML file, and a concept set may be
an ATLAS export (``<name>.json``) in one of those directories.

:func:`load_bundle` returns a protocol with every concept set it names, after checking, before
any data are touched, that each concept set exists and each threshold unit is a unit of its
analyte; every problem names the criterion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from lupuscell.errors import NotFoundError, Problem, ValidationError
from lupuscell.protocols import measures
from lupuscell.protocols.concepts import ConceptSet, from_atlas_file, from_yaml
from lupuscell.protocols.schema import MeasurementCriterion, Protocol, parse_protocol, walk


def _data(*parts: str) -> Traversable:
    return resources.files("lupuscell").joinpath("data", *parts)


def shipped_protocol_names() -> tuple[str, ...]:
    """Names of the protocols that ship with lupuscell, sorted."""
    return tuple(sorted(p.name[:-5] for p in _data("protocols").iterdir() if p.name.endswith(".yaml")))


def _read_yaml(path: Path | Traversable, record: str) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError.single(record, "(file)", f"not valid YAML: {exc}") from None


def load_protocol(name_or_path: str) -> Protocol:
    """A shipped protocol by name, or a protocol YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise NotFoundError(f"protocol file {name_or_path} does not exist")
        return parse_protocol(_read_yaml(path, f"protocol {path.name}"), f"protocol {path.name}")
    if name_or_path not in shipped_protocol_names():
        raise NotFoundError(
            f"unknown protocol {name_or_path!r}; shipped protocols: {', '.join(shipped_protocol_names())}"
            " (or give the path of a .yaml file)"
        )
    source = _data("protocols", f"{name_or_path}.yaml")
    return parse_protocol(_read_yaml(source, f"protocol {name_or_path}"), f"protocol {name_or_path}")


def _candidates(name: str, extra_dirs: Sequence[Path]) -> Iterable[Path]:
    for directory in extra_dirs:
        yield directory / f"{name}.yaml"
        yield directory / f"{name}.json"


def load_concept_set(name: str, extra_dirs: Sequence[Path] = ()) -> ConceptSet:
    """A concept set by name: user directories first (YAML or ATLAS JSON), then the shipped ones."""
    for path in _candidates(name, extra_dirs):
        if path.is_file():
            return from_atlas_file(path) if path.suffix == ".json" else from_yaml(path)
    shipped = _data("concept_sets", f"{name}.yaml")
    if shipped.is_file():
        with resources.as_file(shipped) as path:
            return from_yaml(Path(path))
    raise NotFoundError(f"unknown concept set {name!r}")


def shipped_concept_set_names() -> tuple[str, ...]:
    return tuple(sorted(p.name[:-5] for p in _data("concept_sets").iterdir() if p.name.endswith(".yaml")))


@dataclass(frozen=True)
class Bundle:
    """A protocol with the concept sets it uses, checked for completeness."""

    protocol: Protocol
    concept_sets: Mapping[str, ConceptSet]
    warnings: tuple[str, ...] = field(default=())


def _unit_problems(protocol: Protocol, record: str) -> list[Problem]:
    problems: list[Problem] = []
    for criterion in walk(protocol.criteria):
        if not isinstance(criterion, MeasurementCriterion):
            continue
        where = f"{record}: criterion {criterion.id!r}"
        try:
            m = measures.measure(criterion.analyte)
        except ValidationError as exc:
            problems.extend(Problem(where, "analyte", p.message) for p in exc.problems)
            continue
        if not measures.accepts(criterion.analyte, criterion.threshold.unit):
            units = ", ".join(sorted({u for u in m.factors}))
            problems.append(
                Problem(
                    where,
                    "threshold.unit",
                    f"{criterion.threshold.unit!r} is not a unit of {criterion.analyte} (known: {units})",
                )
            )
    return problems


def _empty_set_warnings(protocol: Protocol, sets: Mapping[str, ConceptSet]) -> list[str]:
    warnings = []
    for name, cs in sets.items():
        if not cs.listed_ids():
            users = [c.id for c in walk(protocol.criteria) if name in c.concept_sets()]
            warnings.append(
                f"concept set {name!r} (used by {', '.join(users)}) has no confirmed concept id, so it can "
                "never match OMOP data; add your site's id to the concept set file"
            )
    return warnings


def load_bundle(protocol: str | Protocol, extra_dirs: Sequence[Path] = ()) -> Bundle:
    """Load a protocol and its concept sets; raise one ValidationError listing every problem."""
    proto = load_protocol(protocol) if isinstance(protocol, str) else protocol
    record = f"protocol {proto.name}"
    problems = _unit_problems(proto, record)
    sets: dict[str, ConceptSet] = {}
    for criterion in walk(proto.criteria):
        for name in criterion.concept_sets():
            if name in sets:
                continue
            try:
                sets[name] = load_concept_set(name, extra_dirs)
            except NotFoundError:
                problems.append(
                    Problem(
                        f"{record}: criterion {criterion.id!r}",
                        "concept_set",
                        f"unknown concept set {name!r}",
                    )
                )
    if problems:
        raise ValidationError(problems)
    return Bundle(proto, sets, tuple(_empty_set_warnings(proto, sets)))
