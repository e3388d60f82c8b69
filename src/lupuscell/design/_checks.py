"""Input checks shared by every design function.

Each check raises :class:`lupuscell.errors.ValidationError` naming the parameter, the value
received and the allowed range, so a bad call never reaches a (possibly long) search.
"""

from __future__ import annotations

import math

from lupuscell.errors import Problem, ValidationError

RECORD = "design"

#: Largest total sample size any exact search accepts. Bounds every search so that a typo
#: (``--nmax 100000``) fails at once instead of running for hours.
NMAX_CAP = 1000


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def open_unit(name: str, value: float, problems: list[Problem]) -> None:
    """``value`` must lie strictly inside (0, 1)."""
    if not _finite(value) or not 0.0 < value < 1.0:
        problems.append(Problem(RECORD, name, f"must be strictly between 0 and 1, got {value!r}"))


def error_rate(name: str, value: float, problems: list[Problem]) -> None:
    """An error rate (alpha or beta) must lie strictly inside (0, 0.5)."""
    if not _finite(value) or not 0.0 < value < 0.5:
        problems.append(Problem(RECORD, name, f"must be strictly between 0 and 0.5, got {value!r}"))


def positive_int(
    name: str, value: int, problems: list[Problem], low: int = 1, high: int | None = None
) -> None:
    """``value`` must be an integer in ``[low, high]``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        upper = f" and at most {high}" if high is not None else ""
        problems.append(Problem(RECORD, name, f"must be an integer of at least {low}{upper}, got {value!r}"))


def positive(name: str, value: float, problems: list[Problem]) -> None:
    """``value`` must be a finite number > 0."""
    if not _finite(value) or value <= 0:
        problems.append(Problem(RECORD, name, f"must be a number greater than 0, got {value!r}"))


def response_rates(p0: float, p1: float, problems: list[Problem]) -> None:
    """``p0`` and ``p1`` in (0, 1) and ``p1 > p0`` (the design tests H0: p <= p0 vs H1: p >= p1)."""
    open_unit("p0", p0, problems)
    open_unit("p1", p1, problems)
    if _finite(p0) and _finite(p1) and 0 < p0 < 1 and 0 < p1 < 1 and p1 <= p0:
        problems.append(Problem(RECORD, "p1", f"must be greater than p0 ({p0!r}), got {p1!r}"))


def raise_if(problems: list[Problem]) -> None:
    """Raise one :class:`ValidationError` carrying every problem found."""
    if problems:
        raise ValidationError(problems)


def check_two_stage_inputs(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> None:
    """Validate the common (p0, p1, alpha, beta, nmax) tuple of the single-arm searches."""
    problems: list[Problem] = []
    response_rates(p0, p1, problems)
    error_rate("alpha", alpha, problems)
    error_rate("beta", beta, problems)
    positive_int("nmax", nmax, problems, low=2, high=NMAX_CAP)
    raise_if(problems)
