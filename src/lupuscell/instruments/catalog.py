"""Instrument catalog: name (as in ``lupuscell score NAME``) -> input model, scorer, version, source.

Each instrument module declares ``SPECS: tuple[InstrumentSpec, ...]``; this module gathers
them. Add a module to ``_MODULES`` to publish its instruments.
"""

from __future__ import annotations

from importlib import import_module

from lupuscell.errors import LupuscellError
from lupuscell.instruments.base import InstrumentSpec

_MODULES = (
    "lupuscell.instruments.sledai2k",
    "lupuscell.instruments.eular_acr_2019",
    "lupuscell.instruments.sdi",
    "lupuscell.instruments.response",
    "lupuscell.instruments.renal",
    "lupuscell.instruments.transplant",
    "lupuscell.instruments.labs",
    "lupuscell.instruments.body",
    "lupuscell.instruments.rand36",
)


def _load() -> dict[str, InstrumentSpec]:
    specs: dict[str, InstrumentSpec] = {}
    for module_name in _MODULES:
        module = import_module(module_name)
        for spec in getattr(module, "SPECS", ()):
            if spec.name in specs:
                raise LupuscellError(f"instrument {spec.name!r} declared twice")
            specs[spec.name] = spec
    return dict(sorted(specs.items()))


CATALOG: dict[str, InstrumentSpec] = _load()
"""Every instrument by name (``lupuscell score --list``): input model, scorer, result class, version, source."""


def get(name: str) -> InstrumentSpec:
    """Return the catalog entry for ``name`` or raise with the list of known names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise LupuscellError(f"unknown instrument {name!r}; known: {known}") from None
