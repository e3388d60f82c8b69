"""The one exception hierarchy of lupuscell.

Every rejection names the record, the field and the reason, so a data manager can fix the
source without reading a traceback (see docs/architecture.md, "Errors").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class LupuscellError(Exception):
    """Base class of every error lupuscell raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One reason a record was rejected.

    ``record`` identifies the record (e.g. ``"patient P-001"`` or ``"visits.csv row 12"``),
    ``field`` the offending field (dotted path for nested fields) and ``message`` the reason,
    ideally with the allowed values or range.
    """

    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.record}: " if self.record else ""
        return f"{where}{self.field}: {self.message}"


class ValidationError(LupuscellError):
    """Input rejected at the boundary; carries every problem found, nothing was written."""

    def __init__(self, problems: Iterable[Problem] | Problem) -> None:
        self.problems: Sequence[Problem] = (
            [problems] if isinstance(problems, Problem) else list(problems)
        )
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, record: str, field: str, message: str) -> ValidationError:
        return cls(Problem(record, field, message))


class NotFoundError(LupuscellError):
    """A referenced record does not exist."""


class ConfigurationError(LupuscellError):
    """The environment or a settings value is wrong (e.g. an unusable database URL)."""


class ConflictError(LupuscellError):
    """A write based on a stale read: the record changed since the caller read it (optimistic
    locking). ``current`` is the record as stored now, so the caller can show what changed;
    nothing was written."""

    def __init__(self, record: str, expected_version: int, current_version: int, current: dict) -> None:
        self.record = record
        self.expected_version = expected_version
        self.current_version = current_version
        self.current = current
        super().__init__(
            f"{record} was changed by someone else (you edited version {expected_version}, "
            f"the saved version is now {current_version}); nothing was written"
        )
