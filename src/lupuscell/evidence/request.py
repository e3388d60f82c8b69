"""The JSON request/response of ``lupuscell evidence meta`` (docs/evidence/meta_analysis.md).

Request::

    {"measure": "PLO", "method": "REML", "test": "z",
     "studies": [{"id": "a", "events": 4, "total": 10}, ...],
     "mods": {"year": [2009, ...]},            # optional
     "add": 0.5, "to": "only0", "level": 0.95,  # optional, metafor defaults
     "drop00": true}                            # MH only: leave double-zero studies out of Q

``studies`` items carry, by measure: ``events``/``total`` (PR, PLO, PAS, PFT), ``ai, bi, ci,
di`` (RR, OR, RD), ``m1i, sd1i, n1i, m2i, sd2i, n2i`` (MD, SMD) or ``yi``/``vi`` (GEN; also
accepted with any measure to pool precomputed effects). ``method`` is ``EE``, ``MH``
(Mantel-Haenszel; RR/OR/RD), ``DL``, ``REML``, ``ML``, ``PM``, ``HE`` or ``SJ``. Defaults are
metafor's: REML, z, 0.5 added only to studies with a zero cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from lupuscell.errors import Problem, ValidationError
from lupuscell.evidence.effects import MEASURES, EffectSizes, ToRule, escalc
from lupuscell.evidence.meta import METHODS, TESTS, MetaResult, Test, rma, rma_mh

KNOWN_KEYS = {"measure", "method", "test", "studies", "mods", "add", "to", "level", "groups", "drop00"}


def parse_effects(payload: Mapping[str, Any]) -> EffectSizes:
    """Validate the request and compute the effect sizes."""
    if not isinstance(payload, Mapping):
        raise ValidationError.single("input", "", "must be a JSON object")
    problems: list[Problem] = []
    unknown = sorted(set(payload) - KNOWN_KEYS)
    if unknown:
        problems.append(
            Problem("input", ",".join(unknown), f"unknown key(s); allowed: {', '.join(sorted(KNOWN_KEYS))}")
        )
    measure = str(payload.get("measure", "GEN"))
    if measure not in MEASURES:
        problems.append(
            Problem("input", "measure", f"unknown measure {measure!r}; one of {', '.join(MEASURES)}")
        )
    method = str(payload.get("method", "REML"))
    if method not in (*METHODS, "MH"):
        problems.append(
            Problem("input", "method", f"unknown method {method!r}; one of {', '.join((*METHODS, 'MH'))}")
        )
    test = str(payload.get("test", "z"))
    if test not in TESTS:
        problems.append(Problem("input", "test", f"unknown test {test!r}; one of z, knha"))
    studies = payload.get("studies")
    if not isinstance(studies, list) or not studies:
        problems.append(Problem("input", "studies", "must be a non-empty list of study objects"))
    elif not all(isinstance(s, dict) for s in studies):
        problems.append(Problem("input", "studies", "every study must be a JSON object"))
    level = payload.get("level", 0.95)
    if not isinstance(level, int | float) or not 0 < float(level) < 1:
        problems.append(Problem("input", "level", "must be a number between 0 and 1"))
    to = payload.get("to", "only0")
    if to not in ("only0", "all", "none"):
        problems.append(Problem("input", "to", "one of only0, all, none"))
    add = payload.get("add")
    if add is not None and (not isinstance(add, int | float) or add < 0):
        problems.append(Problem("input", "add", "must be a number >= 0"))
    if not isinstance(payload.get("drop00", True), bool):
        problems.append(Problem("input", "drop00", "must be true or false"))
    if problems:
        raise ValidationError(problems)
    assert isinstance(studies, list)
    if all("yi" in s and "vi" in s for s in studies) and measure != "GEN":
        es = escalc("GEN", studies)
        return EffectSizes(measure, es.ids, es.yi, es.vi, es.ni, es.corrected, es.raw)
    return escalc(measure, studies, add=None if add is None else float(add), to=cast(ToRule, to))


def fit_request(payload: Mapping[str, Any]) -> tuple[EffectSizes, MetaResult]:
    """Parse, compute effect sizes and fit the model the request asks for."""
    es = parse_effects(payload)
    method = str(payload.get("method", "REML"))
    level = float(payload.get("level", 0.95))
    mods = payload.get("mods")
    if mods is not None and not isinstance(mods, dict):
        raise ValidationError.single("input", "mods", "must be an object {name: [one value per study]}")
    if method == "MH":
        if mods:
            raise ValidationError.single("input", "mods", "Mantel-Haenszel takes no moderators")
        if not es.raw or "ai" not in es.raw:
            raise ValidationError.single("input", "method", "MH needs 2x2 counts ai, bi, ci, di")
        return es, rma_mh(es, level=level, drop00=bool(payload.get("drop00", True)))
    return es, rma(es, method, cast(Test, str(payload.get("test", "z"))), mods=mods, level=level)


def run_request(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON response: ``MetaResult.summary()``."""
    _, fit = fit_request(payload)
    return fit.summary()
