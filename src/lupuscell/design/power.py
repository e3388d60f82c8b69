"""Two-arm sample size: binary response, continuous change in SLEDAI-2K, time to event.

Binary response (e.g. SRI-4 or DORIS remission, MSC vs placebo), two-sided level ``alpha``,
power ``1 - beta``, ``ratio = n2 / n1`` (arm 2 = experimental):

* ``normal``: pooled-variance normal approximation (Fleiss, Levin and Paik 2003, eq. 4.14)
  ``n1 = [z_{a/2} sqrt(pbar qbar (1 + 1/ratio)) + z_b sqrt(p1 q1 + p2 q2 / ratio)]^2 / delta^2``
  with ``pbar = (p1 + ratio p2) / (1 + ratio)``;
* ``normal-cc``: the same with the Fleiss, Tytun and Ury (1980) continuity correction
  ``n1' = n1 / 4 [1 + sqrt(1 + 2 (ratio + 1) / (ratio n1 |delta|))]^2``;
* ``arcsine``: Cohen's ``h = 2 asin(sqrt p2) - 2 asin(sqrt p1)`` with the two-sided normal
  power solved exactly (the same computation as ``statsmodels`` ``NormalIndPower`` with
  ``proportion_effectsize``, used as the cross-check in the tests);
* ``exact``: the smallest ``n1`` whose *exact* power — the sum over all outcomes
  ``(x1, x2)`` of the two binomials of the rejection indicator of the pooled z-test (or the
  Yates-corrected test, ``correction=True``) — reaches ``1 - beta``. This is the limit of a
  simulation with infinitely many replicates; :func:`simulate_binary_power` gives the
  Monte Carlo estimate with its standard error for any ``n``.

Continuous change from baseline in SLEDAI-2K: ``normal`` ``n1 = (1 + 1/ratio) sigma^2
(z_{a/2} + z_b)^2 / delta^2``, and ``t`` (exact power of the two-sample t-test through the
noncentral t distribution; cross-checked against ``statsmodels`` ``TTestIndPower``).

Time to event (e.g. event-free survival), proportion ``p`` allocated to the experimental
arm, hazard ratio ``HR``:

* Schoenfeld (1983): ``events = (z_{a/2} + z_b)^2 / (p (1 - p) log(HR)^2)``;
* Freedman (1982): ``events = (z_{a/2} + z_b)^2 (1 + phi HR)^2 / (phi (1 - HR)^2)``,
  ``phi = p / (1 - p)``;
* events to patients: exponential survival with control median ``m`` (hazard
  ``ln 2 / m``), uniform accrual over ``A`` and further follow-up ``F``, optional
  exponential loss to follow-up with hazard ``eta``; the probability that a patient's
  event is observed is
  ``lambda / (lambda + eta) * (1 - [exp(-g F) - exp(-g (A + F))] / (g A))`` with ``g = lambda + eta``
  (Lachin and Foulkes 1986), averaged over the arms; patients = events / that probability.

statsmodels covers the normal / t power computations but not continuity correction,
exact enumeration or survival designs, hence the hand-written parts.

References
----------
Fleiss JL, Levin B, Paik MC. Statistical Methods for Rates and Proportions, 3rd ed. Wiley 2003.
Fleiss JL, Tytun A, Ury HK. A simple approximation for calculating sample sizes for
comparing independent proportions. Biometrics 1980;36:343-346.
Schoenfeld D. Sample-size formula for the proportional-hazards regression model.
Biometrics 1983;39:499-503.
Freedman LS. Tables of the number of patients required in clinical trials using the
logrank test. Statistics in Medicine 1982;1:121-129.
Lachin JM, Foulkes MA. Evaluation of sample size and power for analyses of survival with
allowance for nonuniform patient entry, losses to follow-up, noncompliance, and
stratification. Biometrics 1986;42:507-519.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy import optimize, stats

from lupuscell.design._checks import RECORD, error_rate, open_unit, positive, positive_int, raise_if
from lupuscell.errors import Problem, ValidationError

BinaryMethod = Literal["normal", "normal-cc", "arcsine", "exact"]
ContinuousMethod = Literal["normal", "t"]
EventMethod = Literal["schoenfeld", "freedman"]

#: Upper bound on per-arm size for the exact search (bounds the enumeration).
EXACT_N_CAP = 2000


@dataclass(frozen=True)
class SampleSize:
    """Per-arm and total sample size; ``raw`` is the unrounded first-arm size."""

    method: str
    n1: int
    n2: int
    total: int
    raw: float
    power: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class EventSampleSize:
    """Events and patients for a time-to-event comparison."""

    method: str
    events: int
    events_raw: float
    p_event: float | None
    patients: int | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _z(alpha: float, beta: float, sided: int) -> tuple[float, float]:
    return float(stats.norm.isf(alpha / sided)), float(stats.norm.isf(beta))


def _common(alpha: float, beta: float, ratio: float, sided: int, problems: list[Problem]) -> None:
    error_rate("alpha", alpha, problems)
    error_rate("beta", beta, problems)
    positive("ratio", ratio, problems)
    if sided not in (1, 2):
        problems.append(Problem(RECORD, "sided", f"must be 1 or 2, got {sided!r}"))


def _arms(n1_raw: float, ratio: float, method: str, power: float | None = None) -> SampleSize:
    n1 = math.ceil(n1_raw - 1e-9)
    n2 = math.ceil(n1 * ratio - 1e-9)
    return SampleSize(method=method, n1=n1, n2=n2, total=n1 + n2, raw=float(n1_raw), power=power)


def binary_exact_power(
    n1: int, n2: int, p1: float, p2: float, alpha: float, sided: int = 2, correction: bool = False
) -> float:
    """Exact power of the pooled z-test (Yates-corrected if ``correction``) by enumeration.

    Sums ``P(X1 = x1) P(X2 = x2)`` over every outcome that the test rejects; the test is
    two-sided (``sided=2``) or one-sided in the direction ``p2 > p1``.
    """
    x1 = np.arange(n1 + 1)[:, None]
    x2 = np.arange(n2 + 1)[None, :]
    reject = _z_reject(x1, x2, n1, n2, alpha, sided, correction)
    w = stats.binom.pmf(x1, n1, p1) * stats.binom.pmf(x2, n2, p2)
    return float(np.sum(w * reject))


def _z_reject(
    x1: np.ndarray, x2: np.ndarray, n1: int, n2: int, alpha: float, sided: int, correction: bool
) -> np.ndarray:
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = x2 / n2 - x1 / n1
    if correction:
        cc = 0.5 * (1 / n1 + 1 / n2)
        diff = np.sign(diff) * np.maximum(np.abs(diff) - cc, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
    crit = stats.norm.isf(alpha / sided)
    return np.asarray(np.abs(z) > crit if sided == 2 else z > crit)


def binary_sample_size(
    p1: float,
    p2: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    ratio: float = 1.0,
    method: BinaryMethod = "normal",
    sided: int = 2,
) -> SampleSize:
    """Per-arm sample size to detect response rates ``p1`` (control) vs ``p2`` (experimental).

    See the module docstring for the four methods. ``sided=1`` uses ``z_alpha``.
    """
    problems: list[Problem] = []
    open_unit("p1", p1, problems)
    open_unit("p2", p2, problems)
    _common(alpha, beta, ratio, sided, problems)
    if not problems and p1 == p2:
        problems.append(Problem(RECORD, "p2", f"must differ from p1 ({p1})"))
    if method not in ("normal", "normal-cc", "arcsine", "exact"):
        problems.append(
            Problem(RECORD, "method", f"must be normal, normal-cc, arcsine or exact, got {method!r}")
        )
    raise_if(problems)
    za, zb = _z(alpha, beta, sided)
    delta = abs(p2 - p1)
    pbar = (p1 + ratio * p2) / (1 + ratio)
    n_norm = (
        za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio))
        + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    ) ** 2 / delta**2
    if method == "normal":
        return _arms(n_norm, ratio, method)
    if method == "normal-cc":
        n_cc = n_norm / 4 * (1 + math.sqrt(1 + 2 * (ratio + 1) / (ratio * n_norm * delta))) ** 2
        return _arms(n_cc, ratio, method)
    if method == "arcsine":
        h = abs(2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1)))
        crit = stats.norm.isf(alpha / sided)

        def arcsine_power(n1: float) -> float:
            ncp = h * math.sqrt(n1 * ratio / (1 + ratio))
            pw = stats.norm.sf(crit - ncp)
            return float(pw + (stats.norm.cdf(-crit - ncp) if sided == 2 else 0.0))

        n_raw = optimize.brentq(lambda n: arcsine_power(n) - (1 - beta), 1e-6, 1e9, xtol=1e-10)
        return _arms(n_raw, ratio, method, arcsine_power(math.ceil(n_raw)))
    # exact: smallest n1 (and n2 = ceil(ratio n1)) with exact power >= 1 - beta,
    # scanning upward from a point well below the normal approximation.
    n = max(2, int(0.6 * n_norm))
    while n <= EXACT_N_CAP:
        m2 = math.ceil(n * ratio - 1e-9)
        pw = binary_exact_power(n, m2, p1, p2, alpha, sided)
        if pw >= 1 - beta:
            return SampleSize(method="exact", n1=n, n2=m2, total=n + m2, raw=float(n), power=pw)
        n += 1
    raise ValidationError.single(
        RECORD, "p2", f"exact sample size exceeds {EXACT_N_CAP} per arm; the difference is too small"
    )


@dataclass(frozen=True)
class SimulatedPower:
    """Monte Carlo power of the pooled z-test with its standard error."""

    n1: int
    n2: int
    replicates: int
    power: float
    mc_se: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def simulate_binary_power(
    n1: int,
    n2: int,
    p1: float,
    p2: float,
    alpha: float = 0.05,
    sided: int = 2,
    replicates: int = 10_000,
    seed: int = 1,
    correction: bool = False,
) -> SimulatedPower:
    """Power of the pooled z-test estimated from ``replicates`` simulated trials (seeded)."""
    problems: list[Problem] = []
    open_unit("p1", p1, problems)
    open_unit("p2", p2, problems)
    positive_int("n1", n1, problems)
    positive_int("n2", n2, problems)
    positive_int("replicates", replicates, problems, low=100, high=10_000_000)
    raise_if(problems)
    rng = np.random.default_rng(seed)
    x1 = rng.binomial(n1, p1, size=replicates)
    x2 = rng.binomial(n2, p2, size=replicates)
    rej = _z_reject(x1, x2, n1, n2, alpha, sided, correction)
    pw = float(rej.mean())
    return SimulatedPower(n1, n2, replicates, pw, math.sqrt(pw * (1 - pw) / replicates))


def continuous_sample_size(
    delta: float,
    sd: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    ratio: float = 1.0,
    method: ContinuousMethod = "t",
    sided: int = 2,
) -> SampleSize:
    """Per-arm size to detect a mean difference ``delta`` (e.g. SLEDAI-2K points) with SD ``sd``."""
    problems: list[Problem] = []
    positive("sd", sd, problems)
    if not (isinstance(delta, int | float) and math.isfinite(delta) and delta != 0):
        problems.append(Problem(RECORD, "delta", f"must be a non-zero number, got {delta!r}"))
    _common(alpha, beta, ratio, sided, problems)
    if method not in ("normal", "t"):
        problems.append(Problem(RECORD, "method", f"must be normal or t, got {method!r}"))
    raise_if(problems)
    za, zb = _z(alpha, beta, sided)
    d = abs(delta) / sd
    n_norm = (1 + 1 / ratio) * (za + zb) ** 2 / d**2
    if method == "normal":
        return _arms(n_norm, ratio, method)

    def t_power(n1: float) -> float:
        n2 = n1 * ratio
        df = n1 + n2 - 2
        ncp = d * math.sqrt(n1 * n2 / (n1 + n2))
        crit = stats.t.isf(alpha / sided, df)
        pw = float(stats.nct.sf(crit, df, ncp))
        # far tail (rejecting in the wrong direction); scipy may return NaN where it underflows
        far = float(stats.nct.cdf(-crit, df, ncp)) if sided == 2 else 0.0
        return pw + (far if math.isfinite(far) else 0.0)

    lo = max(2.0 / min(1.0, ratio), 1.5)
    if t_power(lo) >= 1 - beta:
        n_raw = lo
    else:
        n_raw = optimize.brentq(lambda n: t_power(n) - (1 - beta), lo, max(3 * n_norm, lo + 10), xtol=1e-10)
    return _arms(n_raw, ratio, method, t_power(math.ceil(n_raw)))


def events_required(
    hr: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    allocation: float = 0.5,
    method: EventMethod = "schoenfeld",
    sided: int = 2,
) -> float:
    """Number of events (unrounded) for a log-rank comparison at hazard ratio ``hr``."""
    problems: list[Problem] = []
    positive("hr", hr, problems)
    if not problems and hr == 1:
        problems.append(Problem(RECORD, "hr", "must differ from 1"))
    open_unit("allocation", allocation, problems)
    _common(alpha, beta, 1.0, sided, problems)
    if method not in ("schoenfeld", "freedman"):
        problems.append(Problem(RECORD, "method", f"must be schoenfeld or freedman, got {method!r}"))
    raise_if(problems)
    za, zb = _z(alpha, beta, sided)
    p = allocation
    if method == "schoenfeld":
        return (za + zb) ** 2 / (p * (1 - p) * math.log(hr) ** 2)
    phi = p / (1 - p)
    return (za + zb) ** 2 * (1 + phi * hr) ** 2 / (phi * (1 - hr) ** 2)


def probability_of_event(
    hazard: float, accrual: float, follow_up: float, dropout_hazard: float = 0.0
) -> float:
    """P(event observed) with exponential hazard, uniform accrual over ``accrual`` and extra ``follow_up``.

    With ``accrual == 0`` every patient is followed for ``follow_up``.
    """
    total = hazard + dropout_hazard
    share = hazard / total
    if accrual == 0:
        return share * (1 - math.exp(-total * follow_up))
    return share * (
        1 - (math.exp(-total * follow_up) - math.exp(-total * (accrual + follow_up))) / (total * accrual)
    )


def survival_sample_size(
    hr: float,
    median_control: float,
    accrual: float,
    follow_up: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    allocation: float = 0.5,
    method: EventMethod = "schoenfeld",
    dropout_hazard: float = 0.0,
    sided: int = 2,
) -> EventSampleSize:
    """Events (Schoenfeld or Freedman) and patients under exponential survival and uniform accrual.

    Times (``median_control``, ``accrual``, ``follow_up``) share one unit (e.g. months);
    ``dropout_hazard`` is per that unit.
    """
    problems: list[Problem] = []
    positive("median_control", median_control, problems)
    if not (isinstance(accrual, int | float) and math.isfinite(accrual) and accrual >= 0):
        problems.append(Problem(RECORD, "accrual", f"must be a number >= 0, got {accrual!r}"))
    if not (isinstance(follow_up, int | float) and math.isfinite(follow_up) and follow_up >= 0):
        problems.append(Problem(RECORD, "follow_up", f"must be a number >= 0, got {follow_up!r}"))
    elif accrual == 0 and follow_up == 0:
        problems.append(Problem(RECORD, "follow_up", "accrual and follow_up cannot both be 0"))
    if not (isinstance(dropout_hazard, int | float) and dropout_hazard >= 0):
        problems.append(Problem(RECORD, "dropout_hazard", f"must be >= 0, got {dropout_hazard!r}"))
    raise_if(problems)
    d = events_required(hr, alpha, beta, allocation, method, sided)
    lam_c = math.log(2) / median_control
    lam_e = lam_c * hr
    pe = (1 - allocation) * probability_of_event(lam_c, accrual, follow_up, dropout_hazard) + allocation * (
        probability_of_event(lam_e, accrual, follow_up, dropout_hazard)
    )
    events = math.ceil(d - 1e-9)
    return EventSampleSize(
        method=method, events=events, events_raw=d, p_event=pe, patients=math.ceil(events / pe - 1e-9)
    )
