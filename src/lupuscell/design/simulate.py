"""Simulated operating characteristics of a single-arm design with virtual cohorts.

Each replicate is one virtual trial: a cohort of ``n`` patients drawn by
:func:`virtual_cohort`, a small internal generator (deliberately independent of the
registry's synthetic-cohort module) in which every patient

* responds with probability ``rate`` (the true response rate of the scenario);
* drops out before the response assessment with probability ``dropout``; a drop-out is
  counted as a non-responder (intention to treat, the conservative convention of phase II
  protocols);
* if a responder, has a *delayed* response with probability ``delayed``: the response is
  not yet visible at the stage-1 (interim) analysis but is counted at the final analysis.

The design's own decision rules are then applied: Simon (1989) — stop after stage 1 if the
responses visible at the interim are ``<= r1`` of ``n1``, otherwise reject H0 if the total
responses are ``> r`` of ``n``; a single-stage design is the special case without interim
(``n1 = n``, ``r1 = -1``).

Replicates are processed in chunks as ``(chunk, n)`` NumPy arrays (vectorised, no loop over
patients); a seeded ``numpy.random.Generator`` makes runs reproducible: the same seed gives
the same numbers whatever the chunk size. The estimates come with Monte Carlo standard
errors: ``sqrt(p (1 - p) / R)`` for probabilities and ``sd / sqrt(R)`` for the mean sample size.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Controlled Clinical
Trials 1989;10:1-10.
Morris TP, White IR, Crowther MJ. Using simulation studies to evaluate statistical methods.
Statistics in Medicine 2019;38:2074-2102 (Monte Carlo standard errors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from lupuscell.design._checks import RECORD, positive_int, raise_if
from lupuscell.design.simon import DEFAULT_NMAX, check_choice, simon_design
from lupuscell.errors import Problem

#: Upper bound on replicates per scenario (bounds memory and time).
MAX_REPLICATES = 5_000_000


@dataclass(frozen=True)
class TwoStageRule:
    """Decision rule in Simon's notation; a single-stage design has ``n1 == n`` and ``r1 == -1``."""

    r1: int
    n1: int
    r: int
    n: int

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        positive_int("n", self.n, problems, low=1, high=10_000)
        if not problems:
            positive_int("n1", self.n1, problems, low=1, high=self.n)
        if not isinstance(self.r1, int) or self.r1 < -1 or self.r1 >= max(self.n1, 0):
            problems.append(Problem(RECORD, "r1", f"must be an integer in -1..n1-1, got {self.r1!r}"))
        if not isinstance(self.r, int) or self.r < -1 or self.r >= self.n:
            problems.append(Problem(RECORD, "r", f"must be an integer in -1..n-1, got {self.r!r}"))
        raise_if(problems)

    @classmethod
    def simon(
        cls,
        p0: float,
        p1: float,
        alpha: float,
        beta: float,
        choice: str = "optimal",
        nmax: int = DEFAULT_NMAX,
    ) -> TwoStageRule:
        """The rule of Simon's ``optimal`` or ``minimax`` design for ``p0``/``p1`` (searched up to
        ``nmax`` patients, see :func:`lupuscell.design.simon.simon_design`)."""
        check_choice(choice)
        d = simon_design(p0, p1, alpha, beta, nmax).choose(choice)
        return cls(r1=d.r1, n1=d.n1, r=d.r, n=d.n)

    @classmethod
    def single_stage(cls, n: int, r_min: int) -> TwoStageRule:
        """A'Hern design: reject if responses >= ``r_min`` (Simon's ``r = r_min - 1``)."""
        return cls(r1=-1, n1=n, r=r_min - 1, n=n)


@dataclass(frozen=True)
class Scenario:
    """True response rate, drop-out probability and probability that a response is delayed."""

    rate: float
    dropout: float = 0.0
    delayed: float = 0.0
    label: str = ""

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("rate", "dropout", "delayed"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= v <= 1.0):
                problems.append(Problem(RECORD, name, f"must be between 0 and 1, got {v!r}"))
        raise_if(problems)


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate and its standard error."""

    value: float
    mc_se: float


@dataclass(frozen=True)
class ScenarioResult:
    """Simulated operating characteristics for one scenario."""

    scenario: Scenario
    replicates: int
    reject: Estimate
    early_stop: Estimate
    expected_n: Estimate

    def to_dict(self) -> dict[str, object]:
        return {
            "rate": self.scenario.rate,
            "dropout": self.scenario.dropout,
            "delayed": self.scenario.delayed,
            "label": self.scenario.label,
            "replicates": self.replicates,
            "reject": asdict(self.reject),
            "early_stop": asdict(self.early_stop),
            "expected_n": asdict(self.expected_n),
        }


def virtual_cohort(
    rng: np.random.Generator, size: tuple[int, int], scenario: Scenario
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``size = (trials, patients)`` virtual patients.

    Returns
    -------
    (final, interim) : tuple of bool arrays
        ``final``: response counted at the final analysis (responder and not dropped out);
        ``interim``: response already visible at the stage-1 analysis (``final`` and not delayed).
    """
    # trial-major layout: the draws of trial i do not depend on how trials are chunked
    u = rng.random((size[0], 3, size[1]))
    final = (u[:, 0] < scenario.rate) & (u[:, 1] >= scenario.dropout)
    interim = final & (u[:, 2] >= scenario.delayed)
    return final, interim


def _proportion(hits: int, total: int) -> Estimate:
    p = hits / total
    return Estimate(p, math.sqrt(p * (1 - p) / total))


def simulate_design(
    rule: TwoStageRule,
    scenarios: Sequence[Scenario],
    replicates: int = 10_000,
    seed: int = 20260101,
    chunk: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> list[ScenarioResult]:
    """Run ``rule`` ``replicates`` times under each scenario.

    Parameters
    ----------
    rule
        The design's decision rule.
    scenarios
        True response rate, drop-out and delayed-response probabilities.
    replicates
        Virtual trials per scenario (>= 100).
    seed
        Seed of ``numpy.random.default_rng``; scenario ``i`` uses the ``i``-th child stream
        of ``SeedSequence(seed)``, so adding a scenario does not change the others.
    chunk
        Replicates per vectorised block (memory ~ ``3 * chunk * n * 8`` bytes).
    progress
        Callback ``progress(advance)`` called with the number of replicates just finished.

    Returns
    -------
    list of ScenarioResult
        P(reject H0) (type I error when ``rate == p0``, power when ``rate == p1``),
        P(early stop), expected number of patients, each with its Monte Carlo SE.
    """
    problems: list[Problem] = []
    positive_int("replicates", replicates, problems, low=100, high=MAX_REPLICATES)
    positive_int("chunk", chunk, problems, low=1)
    if not scenarios:
        problems.append(Problem(RECORD, "scenarios", "give at least one scenario"))
    raise_if(problems)
    streams = np.random.SeedSequence(seed).spawn(len(scenarios))
    out: list[ScenarioResult] = []
    for sc, ss in zip(scenarios, streams, strict=True):
        rng = np.random.default_rng(ss)
        rejects = stops = 0
        n_sum = n_sq = 0.0
        done = 0
        while done < replicates:
            m = min(chunk, replicates - done)
            final, interim = virtual_cohort(rng, (m, rule.n), sc)
            x1 = interim[:, : rule.n1].sum(axis=1)
            stop = x1 <= rule.r1
            total = final.sum(axis=1)
            reject = ~stop & (total > rule.r)
            n_used = np.where(stop, rule.n1, rule.n).astype(np.float64)
            rejects += int(reject.sum())
            stops += int(stop.sum())
            n_sum += float(n_used.sum())
            n_sq += float((n_used**2).sum())
            done += m
            if progress is not None:
                progress(m)
        mean_n = n_sum / replicates
        var_n = max(n_sq / replicates - mean_n**2, 0.0) * replicates / max(replicates - 1, 1)
        out.append(
            ScenarioResult(
                scenario=sc,
                replicates=replicates,
                reject=_proportion(rejects, replicates),
                early_stop=_proportion(stops, replicates),
                expected_n=Estimate(mean_n, math.sqrt(var_n / replicates)),
            )
        )
    return out


def reported_quantity(rate: float, p0: float | None, p1: float | None) -> str:
    """What the rejection probability at ``rate`` measures: the type I error at or below
    ``p0``, the power at or above ``p1``, otherwise plain P(reject H0)."""
    if p0 is not None and rate <= p0:
        return "type I error"
    if p1 is not None and rate >= p1:
        return "power"
    return "P(reject H0)"
