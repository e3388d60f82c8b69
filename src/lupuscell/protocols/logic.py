"""Three-valued verdicts: met, not met, unknown (Kleene's strong three-valued logic).

A verdict is coded as an ordered integer, ``NOT_MET = 0 < UNKNOWN = 1 < MET = 2``, so that
"all" is the minimum, "any" the maximum and "not" is ``2 - v``: the same arithmetic runs in
Python here and as ``LEAST``/``GREATEST`` in the compiled SQL (:mod:`lupuscell.screening`),
which is what keeps the per-patient and the population results identical.

References
----------
Kleene SC. Introduction to Metamathematics. North-Holland, 1952, section 64 (strong three-valued
connectives).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Verdict(IntEnum):
    NOT_MET = 0
    UNKNOWN = 1
    MET = 2

    @property
    def label(self) -> str:
        return {0: "not_met", 1: "unknown", 2: "met"}[int(self)]

    @classmethod
    def from_label(cls, label: str) -> Verdict:
        return {"not_met": cls.NOT_MET, "unknown": cls.UNKNOWN, "met": cls.MET}[label]


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    return Verdict(min(verdicts))


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    return Verdict(max(verdicts))


def not_(verdict: Verdict) -> Verdict:
    return Verdict(2 - int(verdict))


def counted(found: int, possible: int, needed: int, complete: bool) -> Verdict:
    """Verdict of "at least ``needed``": ``found`` certain, ``possible`` more that may count."""
    if found >= needed:
        return Verdict.MET
    if found + possible >= needed or not complete:
        return Verdict.UNKNOWN
    return Verdict.NOT_MET
