"""Baseline effects on the disease course of the synthetic cohort, keeping each therapy's
marginal rates calibrated.

The effects themselves are data (:data:`lupuscell.synth.calibration.BASELINE_EFFECTS`, each
with its source or marked as an assumption); this module turns them into per-patient
probabilities and event times:

* **Complete response.** ``logit P(CR | x, t) = a_t + sum_k beta_k x_k`` over the effects of
  outcome ``complete_response`` that apply to therapy ``t``. The intercept ``a_t`` is solved
  (:func:`scipy.optimize.brentq`) so that the mean of ``P(CR | x, t)`` over the therapy's
  baseline population equals ``CALIBRATION[t].response_complete``: the effects move patients
  around the calibrated rate without changing it.
* **Partial response.** ``P(PR | x, t) = p_PR,t (1 - P(CR | x, t)) / (1 - p_CR,t)``: the same
  share of the patients without a complete response respond partially, whatever their
  baseline, and the marginal stays ``p_PR,t``.
* **Relapse among complete responders.** Proportional hazards, ``H(s | x, t) = H0_t(s) exp(
  sum_k gamma_k x_k)``, with ``H0_t`` linear between the calibration anchors (constant hazard
  between anchors, as :func:`lupuscell.synth.calibration.piecewise_exponential_quantile`).
  ``H0_t`` at each anchor is solved so that the mean cumulative incidence over the complete
  responders (the baseline population weighted by ``P(CR | x, t)``) equals the anchor.

The baseline population is a reference sample of :data:`REFERENCE_PATIENTS` patients drawn by
the generator itself from a fixed seed (:func:`lupuscell.synth.cohort.signal_model`), so the
intercepts are constants of the generator: the same for every seed and chunk size.

Written by hand because it is specific to this generator: two one-dimensional root searches
(scipy's ``brentq``) and a vectorised inverse-transform sampler.

References
----------
Bender R, Augustin T, Blettner M. Generating survival times to simulate Cox proportional
hazards models. Stat Med 2005;24:1713-23 (inverse-transform sampling under proportional hazards).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from lupuscell.synth import calibration as cal

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

THERAPIES: tuple[str, ...] = tuple(cal.CALIBRATION)
"""Therapy order of the therapy indexes (as :data:`lupuscell.synth.cohort.THERAPIES`)."""
REFERENCE_PATIENTS = 40_000
"""Size of the reference baseline sample the intercepts are solved on (about 8,000 CAR-T
patients: the solved marginal rates are within about 0.002 of the targets)."""
REFERENCE_SEED = 14
"""Seed of the reference sample (any fixed value; part of the generator's definition)."""


def linear_predictor(
    features: Mapping[str, FloatArray], therapy_index: IntArray, outcome: cal.Outcome
) -> FloatArray:
    """Sum of the log ratios of ``outcome`` for each patient (0 when no effect applies).

    Parameters
    ----------
    features : mapping of feature name to array
        One array per key of :data:`lupuscell.synth.calibration.BASELINE_FEATURES`.
    therapy_index : array of int
        Index into :data:`THERAPIES` of each patient.
    outcome : {"complete_response", "relapse"}
    """
    lp = np.zeros(len(therapy_index))
    for effect in cal.BASELINE_EFFECTS:
        if effect.outcome != outcome:
            continue
        applies = np.isin(therapy_index, [THERAPIES.index(t) for t in effect.therapies])
        lp += np.where(applies, effect.value / effect.per * np.asarray(features[effect.feature], float), 0.0)
    return lp


@dataclass(frozen=True)
class SignalModel:
    """Calibrated constants: the complete-response intercept of each therapy (logit scale) and
    the relapse baseline cumulative hazard at ``(0, anchor times...)`` (years) of each therapy."""

    intercept: FloatArray
    relapse_times: tuple[FloatArray, ...]
    relapse_cum_hazard: tuple[FloatArray, ...]


def _solve_intercept(lp: FloatArray, target: float) -> float:
    from scipy.optimize import brentq  # only when the constants are solved (once per process)

    return float(brentq(lambda a: float(np.mean(expit(a + lp))) - target, -30.0, 30.0, xtol=1e-12))


def _solve_cum_hazard(ratio: FloatArray, weight: FloatArray, target: float) -> float:
    from scipy.optimize import brentq

    def excess(h: float) -> float:
        return float(np.average(-np.expm1(-h * ratio), weights=weight)) - target

    return float(brentq(excess, 0.0, 50.0 / float(ratio.min()), xtol=1e-12))


def calibrate(features: Mapping[str, FloatArray], therapy_index: IntArray) -> SignalModel:
    """Solve the intercepts and relapse baseline hazards on a baseline population (module docstring)."""
    intercepts, times, hazards = [], [], []
    lp_cr = linear_predictor(features, therapy_index, "complete_response")
    ratio = np.exp(linear_predictor(features, therapy_index, "relapse"))
    for ti, therapy in enumerate(THERAPIES):
        c = cal.CALIBRATION[therapy]
        mask = therapy_index == ti
        a = _solve_intercept(lp_cr[mask], c.response_complete.p)
        weight = expit(a + lp_cr[mask])
        anchors = c.relapse_after_remission.anchors
        h = [_solve_cum_hazard(ratio[mask], weight, p) for _, p in anchors]
        intercepts.append(a)
        times.append(np.array([0.0] + [t for t, _ in anchors]))
        hazards.append(np.array([0.0, *h]))
    return SignalModel(np.array(intercepts), tuple(times), tuple(hazards))


def response_probabilities(
    model: SignalModel, features: Mapping[str, FloatArray], therapy_index: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per-patient probabilities of complete and of partial response (module docstring)."""
    p_cr = expit(
        model.intercept[therapy_index] + linear_predictor(features, therapy_index, "complete_response")
    )
    base_cr = np.array([cal.CALIBRATION[t].response_complete.p for t in THERAPIES])[therapy_index]
    base_pr = np.array([cal.CALIBRATION[t].response_partial.p for t in THERAPIES])[therapy_index]
    return np.asarray(p_cr, dtype=float), base_pr * (1.0 - p_cr) / (1.0 - base_cr)


def relapse_years(
    model: SignalModel, u: FloatArray, features: Mapping[str, FloatArray], therapy_index: IntArray
) -> FloatArray:
    """Relapse times (years after treatment, ``inf``: none) for uniform draws ``u``.

    Inverse transform under proportional hazards (Bender 2005): ``H0_t(s) = -log(1 - u) /
    exp(gamma'x)``, ``H0_t`` interpolated linearly between the anchors, no relapse past the last.
    """
    target = -np.log1p(-np.asarray(u, dtype=float)) / np.exp(
        linear_predictor(features, therapy_index, "relapse")
    )
    out = np.full(target.shape, np.inf)
    for ti in range(len(THERAPIES)):
        times, cum_hazard = model.relapse_times[ti], model.relapse_cum_hazard[ti]
        inside = (therapy_index == ti) & (target < cum_hazard[-1])
        out[inside] = np.interp(target[inside], cum_hazard, times)
    return out
