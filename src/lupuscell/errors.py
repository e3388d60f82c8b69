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
        self.problems: Sequence[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, record: str, field: str, message: str) -> ValidationError:
        return cls(Problem(record, field, message))


class NotFoundError(LupuscellError):
    """A referenced record does not exist."""


class ConfigurationError(LupuscellError):
    """The environment or a settings value is wrong (e.g. an unusable database URL)."""


SHOWN_CHARACTERS = 60
"""Longest value quoted in full in a problem message; longer ones are cut (see :func:`shorten`)."""


def shorten(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters with the full length noted.

    A 10,000-character cell must not flood an error list: ``'aaaa…' (10000 characters)``.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    length = len(value) if isinstance(value, str) else len(text)
    return f"{text[: limit - 1]}…' ({length} characters)" if isinstance(value, str) else f"{text[:limit]}…"


def _row_number(record: str) -> int:
    """``12`` of ``"visits.csv row 12"`` (0 when the record names no row)."""
    _, sep, rest = record.rpartition(" row ")
    digits = rest.split(" ", 1)[0] if sep else ""
    return int(digits) if digits.isdigit() else 0


class ProblemList:
    """Problems collected across a whole input, readable however many rows are wrong.

    At most ``per_kind`` problems are listed for one (source, field) - the others are counted
    and summarised in one line ("... and 1,995 more row(s) with a problem in this field") -
    and at most ``limit`` in all. Rows that depend on a record rejected earlier (the visits of
    a rejected patient) are not listed one by one: :meth:`dependant` counts them and they are
    reported once per source, after the root causes.
    """

    def __init__(self, limit: int = 200, per_kind: int = 5) -> None:
        self.limit, self.per_kind = limit, per_kind
        self.kept: list[Problem] = []
        self._kept_sources: list[str] = []
        self.total = 0
        self._seen: dict[tuple[str, str], list[int]] = {}  # (source, field) -> [seen, kept]
        self._dependants: dict[tuple[str, str], tuple[int, list[str]]] = {}

    def __bool__(self) -> bool:
        return self.total > 0 or bool(self._dependants)

    def full(self) -> bool:
        """True when no further problem would be listed (callers may stop looking)."""
        return len(self.kept) >= self.limit

    def add(self, problem: Problem, source: str | None = None) -> None:
        """Record one problem; ``source`` (e.g. the file) groups it with others of its field."""
        self.total += 1
        counts = self._seen.setdefault((source or problem.record, problem.field), [0, 0])
        counts[0] += 1
        if counts[1] < self.per_kind and len(self.kept) < self.limit:
            counts[1] += 1
            self.kept.append(problem)
            self._kept_sources.append(source or problem.record)

    def count_more(self, source: str, field: str, n: int) -> None:
        """Count ``n`` further problems of (source, field) without listing them."""
        self.total += n
        self._seen.setdefault((source, field), [0, 0])[0] += n

    def extend(self, problems: Iterable[Problem], source: str | None = None) -> None:
        for problem in problems:
            self.add(problem, source)

    def dependant(self, source: str, parent: str, keys: Iterable[str], count: int) -> None:
        """``count`` rows of ``source`` refer to ``parent`` records (``keys``) rejected earlier."""
        if count <= 0:
            return
        n, shown = self._dependants.get((source, parent), (0, []))
        self._dependants[(source, parent)] = (n + count, list(dict.fromkeys([*shown, *keys]))[:6])

    def problems(self) -> list[Problem]:
        """The readable list: root causes (by source, then row), how many more, dependent rows."""
        order = {source: rank for rank, source in enumerate(dict.fromkeys(self._kept_sources))}
        ranked = sorted(
            zip(self._kept_sources, self.kept, strict=True),
            key=lambda item: (order[item[0]], _row_number(item[1].record)),
        )
        out = [problem for _, problem in ranked]
        for (source, field), (seen, kept) in self._seen.items():
            if seen > kept:
                out.append(
                    Problem(
                        source, field, f"... and {seen - kept:,} more row(s) with a problem in this field"
                    )
                )
        for (source, parent), (n, shown) in self._dependants.items():
            keys = ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else "")
            out.append(
                Problem(
                    source,
                    "(dependent rows)",
                    f"{n:,} row(s) refer to {parent} rejected above ({keys}); fix those first",
                )
            )
        return out

    def raise_if_any(self) -> None:
        """Raise :class:`ValidationError` with :meth:`problems` when anything was recorded."""
        if self:
            raise ValidationError(self.problems())
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
