"""Effect sizes in metafor's ``escalc`` vocabulary: observed outcomes ``yi`` and variances ``vi``.

Measures (Viechtbauer 2010, J Stat Softw 36(3); metafor ``escalc`` documentation):

* single proportions from ``events``/``total``: ``PR`` (raw), ``PLO`` (logit), ``PAS``
  (arcsine square root), ``PFT`` (Freeman & Tukey 1950 double arcsine, on metafor's scale,
  i.e. half of Miller's 1978 definition);
* two-group binary data from the 2x2 cells ``ai, bi, ci, di``: ``RR`` (log risk ratio),
  ``OR`` (log odds ratio), ``RD`` (risk difference);
* two-group means ``m1i, sd1i, n1i, m2i, sd2i, n2i``: ``MD`` (raw mean difference, unequal
  variances) and ``SMD`` (Hedges' g with the exact gamma-function bias correction and
  metafor's default large-sample variance, ``vtype="LS"``);
* single-group change ``m1i, sd1i, m2i, sd2i, ni, ri`` (a before/after summary with the
  correlation ``ri`` between the two occasions assumed): ``MC`` (raw mean change
  ``m1i - m2i``, variance ``(sd1i^2 + sd2i^2 - 2 ri sd1i sd2i) / ni``) and ``SMCR`` (Becker 1988
  raw-score standardisation by ``sd1i`` with the exact small-sample correction J(ni - 1) and
  metafor's large-sample variance ``2 (1 - ri) / ni + yi^2 / (2 ni)``); as in metafor's
  ``dat.morris2008`` example, pass the follow-up mean as ``m1i`` and the baseline SD as
  ``sd1i``;
* incidence rates from ``xi`` events over ``ti`` person-time (0.5 added to ``xi`` when it is 0,
  as metafor): ``IR`` (``xi/ti``, variance
  ``xi/ti^2``) and ``IRLN`` (log rate, variance ``1/xi``);
* ``GEN``: generic ``yi``/``vi`` supplied by the user.

Zero cells follow metafor's defaults (``add=1/2, to="only0"``): 0.5 is added to every cell of
a study (or to ``events`` and ``total - events``) only when one of its cells is 0. For ``PAS``
and ``PFT`` the transformation is defined at 0 and 1, so nothing is added by default, as in
metafor. The correction is configurable (``add``, ``to`` in ``{"only0", "all", "none"}``).

Why hand-written: statsmodels has no escalc equivalent (``effectsize_smd`` and
``effectsize_2proportions`` exist in ``statsmodels.stats.meta_analysis`` but cover neither the
proportion transformations nor metafor's continuity-correction rules), so the formulas are
written out here with NumPy, vectorised over studies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, gammaln

from lupuscell.errors import Problem, ValidationError

FloatArray = NDArray[np.float64]

PROPORTION_MEASURES = ("PR", "PLO", "PAS", "PFT")
TWO_GROUP_BINARY = ("RR", "OR", "RD")
MEAN_MEASURES = ("MD", "SMD")
CHANGE_MEASURES = ("MC", "SMCR")
RATE_MEASURES = ("IR", "IRLN")
MEASURES = (
    *PROPORTION_MEASURES,
    *TWO_GROUP_BINARY,
    *MEAN_MEASURES,
    *CHANGE_MEASURES,
    *RATE_MEASURES,
    "GEN",
)

#: Default amount added to zero cells, per measure (metafor: 1/2, but 0 for PAS/PFT).
DEFAULT_ADD: dict[str, float] = {
    "PR": 0.5,
    "PLO": 0.5,
    "PAS": 0.0,
    "PFT": 0.0,
    "RR": 0.5,
    "OR": 0.5,
    "RD": 0.5,
    "IR": 0.5,
    "IRLN": 0.5,
}

#: Fields each measure family needs, in the order they are validated.
FIELDS: dict[str, tuple[str, ...]] = {
    "proportion": ("events", "total"),
    "binary": ("ai", "bi", "ci", "di"),
    "means": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "change": ("m1i", "sd1i", "m2i", "sd2i", "ni", "ri"),
    "rate": ("xi", "ti"),
    "generic": ("yi", "vi"),
}

ToRule = Literal["only0", "all", "none"]


def family_of(measure: str) -> str:
    """Return the input family (``proportion``/``binary``/``means``/``generic``) of a measure."""
    if measure in PROPORTION_MEASURES:
        return "proportion"
    if measure in TWO_GROUP_BINARY:
        return "binary"
    if measure in MEAN_MEASURES:
        return "means"
    if measure in CHANGE_MEASURES:
        return "change"
    if measure in RATE_MEASURES:
        return "rate"
    if measure == "GEN":
        return "generic"
    raise ValidationError.single("", "measure", f"unknown measure {measure!r}; one of {', '.join(MEASURES)}")


@dataclass(frozen=True)
class EffectSizes:
    """Observed outcomes of ``k`` studies on the model scale.

    ``ni`` holds each study's total sample size (used by the PFT back-transformation and the
    funnel plot); ``corrected`` flags studies that received the zero-cell correction.
    """

    measure: str
    ids: tuple[str, ...]
    yi: FloatArray
    vi: FloatArray
    ni: FloatArray
    corrected: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    raw: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.ids)

    def subset(self, mask: NDArray[np.bool_] | Sequence[bool]) -> EffectSizes:
        m = np.asarray(mask, dtype=bool)
        return EffectSizes(
            measure=self.measure,
            ids=tuple(i for i, keep in zip(self.ids, m, strict=True) if keep),
            yi=self.yi[m],
            vi=self.vi[m],
            ni=self.ni[m],
            corrected=self.corrected[m] if self.corrected.size else self.corrected,
            raw={key: val[m] for key, val in self.raw.items()},
        )


def _column(
    studies: Sequence[dict[str, object]], name: str, ids: Sequence[str], problems: list[Problem]
) -> FloatArray:
    out = np.full(len(studies), np.nan)
    for i, (study, sid) in enumerate(zip(studies, ids, strict=True)):
        value = study.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(f"study {sid}", name, "missing"))
            continue
        if isinstance(value, bool):
            problems.append(Problem(f"study {sid}", name, f"not a number: {value!r}"))
            continue
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(Problem(f"study {sid}", name, f"not a number: {value!r}"))
            continue
        if not np.isfinite(number):
            problems.append(Problem(f"study {sid}", name, f"not finite: {value!r}"))
            continue
        out[i] = number
    return out


def _check(
    cond: NDArray[np.bool_], ids: Sequence[str], name: str, message: str, problems: list[Problem]
) -> None:
    for sid, bad in zip(ids, cond, strict=True):
        if bad:
            problems.append(Problem(f"study {sid}", name, message))


def study_ids(studies: Sequence[dict[str, object]]) -> tuple[str, ...]:
    """Study labels: ``id`` when given, else ``"#<position>"`` (1-based)."""
    return tuple(str(s.get("id", s.get("study", f"#{i + 1}"))) for i, s in enumerate(studies))


def escalc(
    measure: str, studies: Sequence[dict[str, object]], *, add: float | None = None, to: ToRule = "only0"
) -> EffectSizes:
    """Compute ``yi``/``vi`` for ``measure`` from a list of study records.

    Parameters
    ----------
    measure
        One of :data:`MEASURES`.
    studies
        One mapping per study with the fields of :data:`FIELDS` for the measure's family and an
        optional ``id``.
    add, to
        Continuity correction (metafor ``add``/``to``); ``add=None`` uses :data:`DEFAULT_ADD`.

    Raises
    ------
    ValidationError
        Naming every offending study and field (events > total, negative variance, ...).
    """
    fam = family_of(measure)
    if to not in ("only0", "all", "none"):
        raise ValidationError.single("", "to", f"unknown correction rule {to!r}; one of only0, all, none")
    if not studies:
        raise ValidationError.single("", "studies", "no studies given")
    ids = study_ids(studies)
    problems: list[Problem] = []
    cols = {name: _column(studies, name, ids, problems) for name in FIELDS[fam]}
    if problems:
        raise ValidationError(problems)
    a = DEFAULT_ADD.get(measure, 0.0) if add is None else float(add)
    if a < 0:
        raise ValidationError.single("", "add", f"must be >= 0, got {a}")
    if fam == "proportion":
        return _proportions(measure, ids, cols["events"], cols["total"], a, to)
    if fam == "binary":
        return _binary(measure, ids, cols, a, to)
    if fam == "means":
        return _means(measure, ids, cols)
    if fam == "change":
        return _change(measure, ids, cols)
    if fam == "rate":
        return _rates(measure, ids, cols["xi"], cols["ti"], a, to)
    return _generic(ids, cols["yi"], cols["vi"])


def _counts_ok(values: FloatArray, ids: Sequence[str], name: str, problems: list[Problem]) -> None:
    _check(values < 0, ids, name, "must be >= 0", problems)
    _check(values != np.round(values), ids, name, "must be a whole number", problems)


def _proportions(
    measure: str, ids: Sequence[str], x: FloatArray, n: FloatArray, add: float, to: ToRule
) -> EffectSizes:
    problems: list[Problem] = []
    _counts_ok(x, ids, "events", problems)
    _counts_ok(n, ids, "total", problems)
    _check(n <= 0, ids, "total", "must be > 0", problems)
    _check(x > n, ids, "events", "exceeds total", problems)
    if problems:
        raise ValidationError(problems)
    zero = (x == 0) | (x == n)
    corr = np.ones_like(zero) if to == "all" else (zero if to == "only0" else np.zeros_like(zero))
    xc = x + np.where(corr, add, 0.0)
    nc = n + np.where(corr, 2 * add, 0.0)
    p = xc / nc
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi, vi = p, p * (1 - p) / nc
        elif measure == "PLO":
            yi, vi = np.log(xc / (nc - xc)), 1 / xc + 1 / (nc - xc)
        elif measure == "PAS":
            yi, vi = np.arcsin(np.sqrt(p)), 1 / (4 * nc)
        else:  # PFT, metafor's scale (Miller 1978 / 2)
            yi = 0.5 * (np.arcsin(np.sqrt(xc / (nc + 1))) + np.arcsin(np.sqrt((xc + 1) / (nc + 1))))
            vi = 1 / (4 * nc + 2)
    _undefined(yi, vi, ids, "events", problems)
    return EffectSizes(measure, tuple(ids), yi, vi, n.copy(), corr & (add > 0), {"events": x, "total": n})


def _binary(
    measure: str, ids: Sequence[str], cols: dict[str, FloatArray], add: float, to: ToRule
) -> EffectSizes:
    problems: list[Problem] = []
    for name in FIELDS["binary"]:
        _counts_ok(cols[name], ids, name, problems)
    n1 = cols["ai"] + cols["bi"]
    n2 = cols["ci"] + cols["di"]
    _check(n1 <= 0, ids, "ai", "group 1 has no patients (ai + bi = 0)", problems)
    _check(n2 <= 0, ids, "ci", "group 2 has no patients (ci + di = 0)", problems)
    if problems:
        raise ValidationError(problems)
    cells = np.vstack([cols[c] for c in FIELDS["binary"]])
    zero = (cells == 0).any(axis=0)
    corr = np.ones_like(zero) if to == "all" else (zero if to == "only0" else np.zeros_like(zero))
    a, b, c, d = cells + np.where(corr, add, 0.0)
    m1, m2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(a / m1) - np.log(c / m2)
            vi = 1 / a - 1 / m1 + 1 / c - 1 / m2
        elif measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        else:  # RD
            p1, p2 = a / m1, c / m2
            yi = p1 - p2
            vi = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
    _undefined(yi, vi, ids, "ai", problems)
    raw = {name: cols[name] for name in FIELDS["binary"]}
    return EffectSizes(measure, tuple(ids), yi, vi, n1 + n2, corr & (add > 0), raw)


def hedges_correction(df: FloatArray) -> FloatArray:
    """Exact small-sample correction J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)) (Hedges 1981)."""
    return np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))


def _means(measure: str, ids: Sequence[str], cols: dict[str, FloatArray]) -> EffectSizes:
    problems: list[Problem] = []
    for name in ("sd1i", "sd2i"):
        _check(cols[name] < 0, ids, name, "standard deviation must be >= 0", problems)
    for name in ("n1i", "n2i"):
        _check(cols[name] < 1, ids, name, "sample size must be >= 1", problems)
    if measure == "SMD":
        _check(cols["n1i"] + cols["n2i"] < 4, ids, "n1i", "SMD needs n1i + n2i >= 4", problems)
    if problems:
        raise ValidationError(problems)
    m1, s1, n1, m2, s2, n2 = (cols[c] for c in FIELDS["means"])
    if measure == "MD":
        yi = m1 - m2
        vi = s1**2 / n1 + s2**2 / n2
    else:
        df = n1 + n2 - 2
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df)
        _check(sp == 0, ids, "sd1i", "pooled standard deviation is 0", problems)
        if problems:
            raise ValidationError(problems)
        yi = hedges_correction(df) * (m1 - m2) / sp
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    _undefined(yi, vi, ids, "sd1i", problems)
    return EffectSizes(measure, tuple(ids), yi, vi, n1 + n2, np.zeros(len(ids), dtype=bool), dict(cols))


def _change(measure: str, ids: Sequence[str], cols: dict[str, FloatArray]) -> EffectSizes:
    problems: list[Problem] = []
    for name in ("sd1i", "sd2i"):
        _check(cols[name] < 0, ids, name, "standard deviation must be >= 0", problems)
    _check(cols["ni"] < 2, ids, "ni", "sample size must be >= 2", problems)
    _check(np.abs(cols["ri"]) > 1, ids, "ri", "correlation must lie in [-1, 1]", problems)
    if problems:
        raise ValidationError(problems)
    m1, s1, m2, s2, n, r = (cols[c] for c in FIELDS["change"])
    if measure == "MC":
        yi = m1 - m2
        vi = (s1**2 + s2**2 - 2 * r * s1 * s2) / n
    else:
        _check(s1 == 0, ids, "sd1i", "SMCR standardises by sd1i, which is 0", problems)
        if problems:
            raise ValidationError(problems)
        yi = hedges_correction(n - 1) * (m1 - m2) / s1
        vi = 2 * (1 - r) / n + yi**2 / (2 * n)
    _undefined(yi, vi, ids, "sd1i", problems)
    return EffectSizes(measure, tuple(ids), yi, vi, n.copy(), np.zeros(len(ids), dtype=bool), dict(cols))


def _rates(
    measure: str, ids: Sequence[str], x: FloatArray, t: FloatArray, add: float, to: ToRule
) -> EffectSizes:
    problems: list[Problem] = []
    _counts_ok(x, ids, "xi", problems)
    _check(t <= 0, ids, "ti", "person-time must be > 0", problems)
    if problems:
        raise ValidationError(problems)
    zero = x == 0
    corr = np.ones_like(zero) if to == "all" else (zero if to == "only0" else np.zeros_like(zero))
    xc = x + np.where(corr, add, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IR":
            yi, vi = xc / t, xc / t**2
        else:
            yi, vi = np.log(xc / t), 1 / xc
    _undefined(yi, vi, ids, "xi", problems)
    return EffectSizes(measure, tuple(ids), yi, vi, x.copy(), corr & (add > 0), {"xi": x, "ti": t})


def _generic(ids: Sequence[str], yi: FloatArray, vi: FloatArray) -> EffectSizes:
    problems: list[Problem] = []
    _check(vi < 0, ids, "vi", "sampling variance must be >= 0", problems)
    if problems:
        raise ValidationError(problems)
    return EffectSizes(
        "GEN", tuple(ids), yi.copy(), vi.copy(), np.full(len(ids), np.nan), np.zeros(len(ids), dtype=bool), {}
    )


def _undefined(
    yi: FloatArray, vi: FloatArray, ids: Sequence[str], name: str, problems: list[Problem]
) -> None:
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | (vi <= 0)
    _check(
        bad,
        ids,
        name,
        "effect size undefined here (zero cell with add=0?); use a continuity correction or another measure",
        problems,
    )
    if problems:
        raise ValidationError(problems)


# ---------------------------------------------------------------- back-transformations


def transf_ipft(y: FloatArray | float, n: FloatArray | float) -> FloatArray:
    """Inverse Freeman-Tukey transformation for one sample size (Miller 1978, metafor scale)."""
    y_arr = np.asarray(y, dtype=float)
    n_arr = np.broadcast_to(np.asarray(n, dtype=float), y_arr.shape)
    s = np.sin(2 * y_arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = 1 - (s + (s - 1 / s) / n_arr) ** 2
        p = 0.5 * (1 - np.sign(np.cos(2 * y_arr)) * np.sqrt(inner))
    lo = 0.5 * np.arcsin(np.sqrt(1 / (n_arr + 1)))  # PFT of 0 events (metafor scale)
    hi = 0.5 * (np.arcsin(np.sqrt(n_arr / (n_arr + 1))) + np.pi / 2)  # PFT of n events
    p = np.where(y_arr <= lo, 0.0, np.where(y_arr >= hi, 1.0, p))
    return np.asarray(np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0), dtype=float)


def harmonic_mean(n: FloatArray) -> float:
    """Harmonic mean of the sample sizes, the ``n`` of metafor's ``transf.ipft.hm``."""
    return float(1 / np.mean(1 / np.asarray(n, dtype=float)))


def back_transform(measure: str, values: FloatArray | float, ni: FloatArray | None = None) -> FloatArray:
    """Model scale -> natural scale (proportion, RR, OR, rate); identity for PR, RD, MD, SMD, MC, GEN.

    ``PFT`` uses the harmonic mean of ``ni`` (metafor ``transf.ipft.hm``, Miller 1978).
    """
    v = np.asarray(values, dtype=float)
    if measure == "PLO":
        return np.asarray(expit(v), dtype=float)
    if measure == "PAS":
        return np.asarray(np.sin(np.clip(v, 0, np.pi / 2)) ** 2, dtype=float)
    if measure == "PFT":
        if ni is None:
            raise ValueError("PFT back-transformation needs the sample sizes")
        return transf_ipft(v, harmonic_mean(ni))
    if measure in ("RR", "OR", "IRLN"):
        return np.asarray(np.exp(v), dtype=float)
    return v
