"""Synthetic cohort of SLE patients treated with autologous HSCT, MSC or CD19 CAR-T.

Virtual patients with a realistic baseline (age, ~9:1 female:male, disease duration, organ
involvement incl. lupus nephritis class, serology, prior immunosuppressants), a therapy
timeline by protocol, visits at baseline, day 30, months 3, 6, 12 then every 6 months to 5
years (jitter, missed visits, loss to follow-up, administrative censoring), SLEDAI-2K
descriptors coherent with the disease state, PGA, prednisone taper, co-medication, BILAG
grades at some visits, laboratory results in site-specific units (daily ANC and platelets
around the HSCT nadir so that engraftment can be derived), adverse events, relapses, flares,
deaths and last contact.

Outcome rates come from :mod:`lupuscell.synth.calibration` (each with its published source),
all other distributions from :mod:`lupuscell.synth.profiles`; ``docs/synth.md`` lists both.

Determinism and streaming
-------------------------
Patients are generated in fixed internal blocks of :data:`BLOCK_SIZE`; block ``b`` draws from
its own generator ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(b,)))``, so the
output for ``(n_patients, seed)`` is identical whatever ``chunk_size`` the caller streams
with, and only one chunk (plus at most one block) is ever held in memory. Within a block the
sampling is vectorised with NumPy (no per-patient Python loop except building the small list
and JSON columns).

Disease-state model
-------------------
Each patient is a complete responder, a partial responder or a non-responder (probabilities
by therapy), with a response day drawn from the therapy's response window. Complete
responders relapse at a time drawn from the calibrated cumulative incidence (relapse is
permanent within the 5-year window: a simplification); partial responders may have one
transient flare (90 days); non-responders stay active. Visit descriptors follow the state:
remission -> none; partial -> a few persisting renal/serology/mucocutaneous items; active ->
the baseline items persist; relapse/flare -> a newly drawn set. Labs follow the descriptors
(proteinuria <-> uPCR > 0.5 g/g, low complement <-> C3/C4 below normal, anti-dsDNA above 30
IU/mL, platelets < 100, WBC < 3).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lupuscell import vocab
from lupuscell.instruments import sledai2k
from lupuscell.synth import calibration as cal
from lupuscell.synth import effects
from lupuscell.synth import profiles as prof

BLOCK_SIZE = 250
"""Patients per internal random block (fixed: part of the definition of a seed's cohort)."""

THERAPIES: tuple[str, ...] = ("autologous_hsct", "msc", "car_t")
TABLES: tuple[str, ...] = (
    "sites",
    "patients",
    "therapy_courses",
    "drug_administrations",
    "visits",
    "lab_results",
    "adverse_events",
    "clinical_events",
)
"""Table names yielded by :func:`iter_cohort_tables` (``sites`` only in the first chunk)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DESCRIPTORS = vocab.SLEDAI_2K_DESCRIPTORS
_WEIGHTS = np.array([sledai2k.WEIGHTS[name] for name in _DESCRIPTORS], dtype=np.int64)
"""SLEDAI-2K weights in descriptor order (Gladman 2002), used only to set a plausible PGA."""
_D = {name: j for j, name in enumerate(_DESCRIPTORS)}
_SEROLOGY = np.array([name in ("low_complement", "increased_dna_binding") for name in _DESCRIPTORS])
_PARTIAL_MASK = np.array([name in prof.PARTIAL_RESPONSE_DESCRIPTORS for name in _DESCRIPTORS])

# Visit states
BASE, IMPROVING, REMISSION, PARTIAL, ACTIVE, RELAPSE = 0, 1, 2, 3, 4, 5  # profiles.VISIT_STATES order


DAYS_PER_YEAR = 365.25


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def _dates(days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """Days since 1970-01-01 -> datetime64[D]; negative sentinel ``_NO_DATE`` -> NaT."""
    arr = np.asarray(days, dtype=np.int64)
    out = arr.astype("datetime64[D]")
    out[arr == _NO_DATE] = np.datetime64("NaT")
    return out


def _calendar_year(days: IntArray) -> IntArray:
    """Calendar year of days since 1970-01-01."""
    return np.asarray(_dates(days).astype("datetime64[Y]").astype(np.int64) + 1970, dtype=np.int64)


def _criteria(diagnosis_year: IntArray) -> npt.NDArray[np.object_]:
    """Classification criteria recorded for each diagnosis year (profiles)."""
    out = np.full(diagnosis_year.shape, prof.CLASSIFICATION_CRITERIA_BEFORE, dtype=object)
    for year, criteria in reversed(prof.CLASSIFICATION_CRITERIA_FROM_YEAR):
        out[diagnosis_year >= year] = criteria
    return out


_NO_DATE = np.iinfo(np.int64).min
_CART_DAYS = np.array(prof.CAR_T_COUNT_DAYS)
_DATA_CUT = _day(cal.DATA_CUT)


def _choice(rng: np.random.Generator, values: tuple[Any, ...], p: npt.ArrayLike, size: int) -> Any:
    probs = np.asarray(p, dtype=float)
    idx = np.searchsorted(np.cumsum(probs / probs.sum()), rng.random(size), side="right")
    return np.asarray(values, dtype=object)[np.minimum(idx, len(values) - 1)]


def _lognormal(rng: np.random.Generator, median: float | FloatArray, sigma: float, size: int) -> FloatArray:
    return np.asarray(median * np.exp(sigma * rng.standard_normal(size)), dtype=float)


def _uniform_int(rng: np.random.Generator, lo: npt.ArrayLike, hi: npt.ArrayLike, size: int) -> IntArray:
    """Integers uniform on [lo, hi] (inclusive, element-wise bounds)."""
    lo_a = np.asarray(lo, dtype=np.int64)
    hi_a = np.asarray(hi, dtype=np.int64)
    return np.asarray(lo_a + np.floor(rng.random(size) * (hi_a - lo_a + 1)), dtype=np.int64)


def _ensure_one(matrix: BoolArray, rows: BoolArray, fallback: IntArray) -> None:
    """Rows flagged in ``rows`` with no True get their ``fallback`` column set (in place)."""
    empty = rows & ~matrix.any(axis=1)
    matrix[np.flatnonzero(empty), fallback[empty]] = True


def _first_clinical(matrix: BoolArray, default: IntArray) -> IntArray:
    clinical = matrix & ~_SEROLOGY
    has = clinical.any(axis=1)
    return np.where(has, clinical.argmax(axis=1), default)


def _therapy_index(u: FloatArray) -> IntArray:
    """Therapy (index into :data:`THERAPIES`) for uniform draws ``u``, by the calibrated shares."""
    shares = np.array([cal.CALIBRATION[t].share.p for t in THERAPIES])
    idx = np.searchsorted(np.cumsum(shares / shares.sum()), u, side="right")
    return np.asarray(np.minimum(idx, len(THERAPIES) - 1), dtype=np.int64)


@functools.cache
def signal_model() -> effects.SignalModel:
    """The calibrated intercepts and relapse baseline hazards of the baseline effects, solved once
    per process on a fixed reference sample (:mod:`lupuscell.synth.effects`)."""
    blocks = [
        _Block.reference_baseline(np.random.SeedSequence(effects.REFERENCE_SEED, spawn_key=(k,)), BLOCK_SIZE)
        for k in range(effects.REFERENCE_PATIENTS // BLOCK_SIZE)
    ]
    features = {name: np.concatenate([b.features()[name] for b in blocks]) for name in cal.BASELINE_FEATURES}
    return effects.calibrate(features, np.concatenate([b.ti for b in blocks]))


class _Block:
    """All draws of one block of patients (arrays of length m, one entry per patient)."""

    def __init__(self, seed: int, block: int, start: int, m: int, baseline_signal: bool = True) -> None:
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        self.m = m
        self.index = start + np.arange(m)
        self._baseline()
        self._course()
        self._disease_course_therapy(seed, block, baseline_signal)
        self._outcomes()

    @classmethod
    def reference_baseline(cls, seed: int | np.random.SeedSequence, m: int) -> _Block:
        """Baseline draws only, of ``m`` patients (the population the effects are calibrated on)."""
        b = cls.__new__(cls)
        b.rng = np.random.default_rng(
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        b.m, b.index = m, np.arange(m)
        b._baseline()
        return b

    def features(self) -> dict[str, FloatArray]:
        """The baseline features of :data:`lupuscell.synth.calibration.BASELINE_FEATURES`."""
        columns = [self.prior_names.index(name) for name in prof.PRIOR_IMMUNOSUPPRESSANTS]
        return {
            "lupus_nephritis": self.nephritis.astype(float),
            "sledai_2k": (self.B.astype(np.int64) @ _WEIGHTS).astype(float),
            "prior_immunosuppressants": self.prior[:, columns].sum(axis=1).astype(float),
            "age": self.age,
            "anti_dsdna_negative": (~self.B[:, _D["increased_dna_binding"]]).astype(float),
        }

    def _disease_course_therapy(self, seed: int, block: int, baseline_signal: bool) -> None:
        """The therapy whose calibration the disease course follows (``cti``): the patient's own,
        or, for a cohort without baseline signal, one drawn from the shares independently of
        everything recorded at baseline (its own generator: no other draw changes)."""
        self.signal = baseline_signal
        if baseline_signal:
            self.cti = self.ti
        else:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, 1)))
            self.cti = _therapy_index(rng.random(self.m))
        self.course_hsct, self.course_cart = self.cti == 0, self.cti == 2

    # -- baseline -------------------------------------------------------------------------
    def _baseline(self) -> None:
        """Therapy, site and code, then the demographics and the disease at baseline."""
        rng, m = self.rng, self.m
        self.ti = _therapy_index(rng.random(m))
        self.therapy = np.asarray(THERAPIES, dtype=object)[self.ti]
        self.is_hsct = self.ti == 0
        self.is_msc = self.ti == 1
        self.is_cart = self.ti == 2

        u_site = rng.random(m)
        self.site = np.empty(m, dtype=np.int64)
        for ti, therapy in enumerate(THERAPIES):
            allowed = np.array([k for k, s in enumerate(prof.SITES) if therapy in s.therapies])
            mask = self.ti == ti
            self.site[mask] = allowed[(u_site[mask] * len(allowed)).astype(np.int64)]
        self.site_code = np.array([s.code for s in prof.SITES], dtype=object)[self.site]
        self.code = np.array([f"{s}-{i + 1:06d}" for s, i in zip(self.site_code, self.index, strict=True)])
        self._demographics()
        self._disease()

    def _demographics(self) -> None:
        """Sex, age, day 0, weight, birth and diagnosis dates, classification criteria."""
        rng, m = self.rng, self.m
        self.female = rng.random(m) < cal.FEMALE_SHARE.p
        age_par = np.array([prof.AGE_AT_TREATMENT[t] for t in THERAPIES])[self.ti]
        self.age = np.clip(
            age_par[:, 0] + age_par[:, 1] * rng.standard_normal(m), age_par[:, 2], age_par[:, 3]
        )
        period = np.array([[_day(a), _day(b)] for a, b in (prof.TREATMENT_PERIOD[t] for t in THERAPIES)])
        self.d0 = _uniform_int(rng, period[self.ti, 0], period[self.ti, 1], m)
        w_mu = np.where(self.female, prof.WEIGHT_KG["F"][0], prof.WEIGHT_KG["M"][0])
        w_sd = np.where(self.female, prof.WEIGHT_KG["F"][1], prof.WEIGHT_KG["M"][1])
        self.weight = np.clip(w_mu + w_sd * rng.standard_normal(m), *prof.WEIGHT_KG_RANGE)

        med, sigma = prof.DISEASE_DURATION_YEARS
        duration = np.clip(
            _lognormal(rng, med, sigma, m),
            prof.MIN_DISEASE_DURATION_YEARS,
            self.age - prof.MIN_AGE_AT_DIAGNOSIS,
        )
        self.birth_day = self.d0 - np.round(self.age * DAYS_PER_YEAR).astype(np.int64)
        self.diagnosis_day = self.d0 - np.round(duration * DAYS_PER_YEAR).astype(np.int64)
        self.birth_year = _calendar_year(self.birth_day)
        self.criteria = _criteria(_calendar_year(self.diagnosis_day))

    def _disease(self) -> None:
        """Nephritis and its class, organ involvement, prior therapies, SLEDAI-2K descriptors."""
        rng, m = self.rng, self.m
        neph_share = np.array([cal.NEPHRITIS_SHARE[t].p for t in THERAPIES])
        self.nephritis = rng.random(m) < neph_share[self.ti]
        classes = tuple(cal.NEPHRITIS_CLASS_MIX)
        ln_class = _choice(rng, classes, list(cal.NEPHRITIS_CLASS_MIX.values()), m)
        self.nephritis_class = np.where(self.nephritis, ln_class, None)

        organs = vocab.ORGAN_INVOLVEMENT
        self.organ = np.zeros((m, len(organs)), dtype=bool)
        u_org = rng.random((m, len(organs)))
        for j, organ in enumerate(organs):
            self.organ[:, j] = (
                self.nephritis if organ == "renal" else u_org[:, j] < prof.ORGAN_PROBABILITY[organ]
            )
        prior_names = tuple(prof.PRIOR_THERAPY_PROBABILITY)
        self.prior = rng.random((m, len(prior_names))) < np.array(
            list(prof.PRIOR_THERAPY_PROBABILITY.values())
        )
        self.prior_names = prior_names

        # SLEDAI-2K descriptors at baseline (B) and of a later relapse/flare (F)
        p = np.empty((m, len(_DESCRIPTORS)))
        for j, name in enumerate(_DESCRIPTORS):
            organ_name, p_in, p_out = prof.DESCRIPTOR_PROBABILITY[name]
            involved = np.ones(m, bool) if organ_name is None else self.organ[:, organs.index(organ_name)]
            p[:, j] = np.where(involved, p_in, p_out)
        fall = {k: _D[v] for k, v in prof.FALLBACK_DESCRIPTOR.items()}
        self.B = rng.random(p.shape) < p
        fallback = np.where(self.nephritis, fall["baseline_nephritis"], fall["baseline_other"])
        self.B[np.arange(m), _first_clinical(self.B, fallback)] = True
        self.F = rng.random(p.shape) < prof.FLARE_DESCRIPTOR_FACTOR * p
        fallback = np.where(self.nephritis, fall["flare_nephritis"], fall["flare_other"])
        self.F[np.arange(m), _first_clinical(self.F, fallback)] = True

    # -- therapy course ----------------------------------------------------------------------
    def _course(self) -> None:
        rng, m = self.rng, self.m
        h, s, c = self.is_hsct, self.is_msc, self.is_cart
        hsct = cal.CALIBRATION["autologous_hsct"]
        self.mob = np.where(h, -_uniform_int(rng, *prof.MOBILISATION_DAYS_BEFORE_INFUSION, m), _NO_DATE)
        harvest_h = self.mob + _uniform_int(rng, *prof.APHERESIS_DAYS_AFTER_MOBILISATION, m)
        harvest_c = -_uniform_int(rng, *prof.CAR_T_APHERESIS_DAYS_BEFORE_INFUSION, m)
        self.harvest = np.where(h, harvest_h, np.where(c, harvest_c, _NO_DATE))
        self.rituximab = h & (rng.random(m) < hsct.extra["rituximab_in_conditioning"].p)
        start = prof.CONDITIONING_START_DAY
        self.conditioning = np.where(
            h,
            np.where(self.rituximab, start["autologous_hsct_rituximab"], start["autologous_hsct"]),
            np.where(c, start["car_t"], _NO_DATE),
        )
        n_inf = np.where(s & (rng.random(m) < cal.CALIBRATION["msc"].extra["second_infusion"].p), 2, 1)
        self.n_infusions = n_inf

        # engraftment (HSCT): days of ANC >= 0.5 and platelets >= 20 recovery
        graft_failure = h & (rng.random(m) < hsct.extra["graft_failure"].p)
        median = hsct.extra["anc_engraftment_day_median"].p
        lo, hi = cal.ANC_ENGRAFTMENT_DAY_RANGE
        en = np.clip(np.round(_lognormal(rng, median, cal.ANC_ENGRAFTMENT_SIGMA, m)), lo, hi).astype(np.int64)
        self.en = np.where(graft_failure, _uniform_int(rng, *cal.GRAFT_FAILURE_RECOVERY_DAYS, m), en)
        mean, sd = cal.PLATELET_AFTER_ANC_DAYS
        ep = self.en + np.round(mean + sd * rng.standard_normal(m)).astype(np.int64)
        self.ep = np.maximum(ep, np.maximum(self.en - 1, cal.PLATELET_ENGRAFTMENT_MIN_DAY))
        self.graft_failure = graft_failure

        # Baseline = the pre-treatment assessment: for HSCT the admission work-up before
        # conditioning (so it lies within the 60-day baseline window of the outcomes engine even
        # after a long mobilisation), for CAR-T the visit before apheresis, for MSC before infusion.
        base_baseline = np.where(h, self.conditioning, np.where(c, self.harvest, 0))
        self.baseline_day = (
            base_baseline
            - _uniform_int(rng, *prof.BASELINE_DAYS_BEFORE_FIRST_STEP, m)
            - np.where(s, _uniform_int(rng, *prof.MSC_EXTRA_BASELINE_DAYS, m), 0)
        )
        after = prof.DISCHARGE_DAYS
        self.discharge = np.where(
            h,
            self.en + _uniform_int(rng, *after["autologous_hsct"], m),
            np.where(
                c,
                _uniform_int(rng, *after["car_t"], m),
                np.where(n_inf == 2, prof.MSC_SECOND_INFUSION_DAY, 0) + _uniform_int(rng, *after["msc"], m),
            ),
        )
        self._product(n_inf)

    def _product(self, n_inf: IntArray) -> None:
        """Cell dose, CD34+ dose, viability, cell source, donor type and protocol of the course."""
        rng, m = self.rng, self.m
        h, s = self.is_hsct, self.is_msc
        dose = prof.CELL_DOSE_PER_KG
        per_kg = np.where(
            h,
            _lognormal(rng, *dose["autologous_hsct"], m),
            np.where(s, _lognormal(rng, *dose["msc"], m), _lognormal(rng, *dose["car_t"], m)),
        )
        self.dose_per_kg = per_kg
        self.total_dose = per_kg * self.weight * n_inf
        cd34_median, cd34_sigma, cd34_min = prof.CD34_PER_KG
        self.cd34 = np.where(h, np.maximum(_lognormal(rng, cd34_median, cd34_sigma, m), cd34_min), np.nan)
        viability = prof.VIABILITY_PERCENT
        self.viability = np.round(
            np.where(
                h,
                rng.uniform(*viability["autologous_hsct"], m),
                np.where(s, rng.uniform(*viability["msc"], m), rng.uniform(*viability["car_t"], m)),
            ),
            1,
        )
        msc_src = _choice(
            rng,
            cal.MSC_SOURCES,
            [cal.CALIBRATION["msc"].extra[f"cell_source_{x}"].p for x in cal.MSC_SOURCES],
            m,
        )
        self.cell_source = np.where(h, "peripheral_blood", np.where(s, msc_src, "autologous_t_cells")).astype(
            object
        )
        self.donor_type = np.where(s, "allogeneic_third_party", "autologous").astype(object)
        ids = prof.PROTOCOL_IDS
        self.protocol = np.where(
            h,
            np.where(self.rituximab, ids["autologous_hsct"][1], ids["autologous_hsct"][0]),
            np.where(s, np.where(n_inf == 2, ids["msc"][1], ids["msc"][0]), ids["car_t"][0]),
        ).astype(object)

    # -- outcomes ----------------------------------------------------------------------------
    def _per_therapy(self, attr: str) -> FloatArray:
        return np.array([getattr(cal.CALIBRATION[t], attr).p for t in THERAPIES])[self.cti]

    def _anchored_days(self, attr: str, u: FloatArray) -> FloatArray:
        out = np.full(self.m, np.inf)
        for ti, therapy in enumerate(THERAPIES):
            mask = self.cti == ti
            anchors = getattr(cal.CALIBRATION[therapy], attr).anchors
            out[mask] = cal.piecewise_exponential_quantile(u[mask], anchors) * DAYS_PER_YEAR
        return out

    def _response(self) -> None:
        """Complete / partial response and its day; with the baseline signal the probabilities
        depend on the baseline features (lupuscell.synth.effects), else on the therapy only."""
        rng, m = self.rng, self.m
        u = rng.random(m)
        if self.signal:
            p_cr, p_pr = effects.response_probabilities(signal_model(), self.features(), self.cti)
        else:
            p_cr = self._per_therapy("response_complete")
            p_pr = self._per_therapy("response_partial")
        self.complete = u < p_cr
        self.partial = (u >= p_cr) & (u < p_cr + p_pr)
        window = np.array([cal.CALIBRATION[t].response_days for t in THERAPIES])[self.cti]
        self.resp_day = _uniform_int(rng, window[:, 0], window[:, 1], m).astype(float)
        self.resp_day[~(self.complete | self.partial)] = np.inf

    def _relapse_and_flare(self) -> None:
        rng, m = self.rng, self.m
        u = rng.random(m)
        if self.signal:
            relapse = effects.relapse_years(signal_model(), u, self.features(), self.cti) * DAYS_PER_YEAR
        else:
            relapse = self._anchored_days("relapse_after_remission", u)
        earliest = self.resp_day + cal.RELAPSE_MIN_DAYS_AFTER_RESPONSE
        self.relapse_day = np.where(self.complete, np.maximum(relapse, earliest), np.inf)
        flare = self.resp_day + rng.exponential(DAYS_PER_YEAR / cal.FLARE_RATE_PER_YEAR.p, m)
        self.flare_day = np.where(self.partial, flare, np.inf)

    def _outcomes(self) -> None:
        self._response()
        self._relapse_and_flare()
        rng, m = self.rng, self.m
        p_trm = self._per_therapy("treatment_related_death")
        early = np.array([cal.CALIBRATION[t].trm_within_100_days for t in THERAPIES])[self.cti]
        u_t = rng.random(m)
        (e_lo, e_hi), (l_lo, l_hi) = cal.TRM_EARLY_DAYS, cal.TRM_LATE_DAYS
        trm_day = np.where(
            rng.random(m) < early, e_lo + (e_hi - e_lo) * u_t**cal.TRM_EARLY_POWER, l_lo + (l_hi - l_lo) * u_t
        )
        trm_day = np.where(rng.random(m) < p_trm, np.floor(trm_day), np.inf)
        other_day = np.floor(self._anchored_days("other_death", rng.random(m)))
        death_day = np.minimum(trm_day, other_day)
        ltfu = rng.exponential(1.0 / cal.LOSS_TO_FOLLOW_UP_PER_YEAR, m) * DAYS_PER_YEAR
        last_day = prof.VISIT_DAYS[-1] + prof.FOLLOW_UP_AFTER_LAST_VISIT_DAYS
        fu_end = np.floor(np.minimum(np.minimum(ltfu, _DATA_CUT - self.d0), last_day))
        self.dead = death_day <= fu_end
        self.trm = self.dead & (trm_day <= other_day)
        self.end_day = np.where(self.dead, death_day, fu_end).astype(np.int64)
        self.u_cause = rng.random(m)
        self.u_severity = rng.random(m)
        # the patient is "active" at death if not in remission then
        at = self.end_day
        # daily HSCT counts (profiles.HSCT_COUNT_FOLLOW) stop at death / censoring (CAR-T: counts
        # on fixed days up to day 28)
        follow = prof.HSCT_COUNT_FOLLOW
        hsct_last = np.maximum(
            np.maximum(follow["at_least_to_day"], self.en + follow["after_neutrophil_recovery"]),
            self.ep + follow["after_platelet_recovery"],
        )
        self.count_last_day = np.minimum(
            np.where(self.is_hsct, hsct_last, np.where(self.is_cart, int(_CART_DAYS[-1]), -1)), self.end_day
        )
        self.active_at_end = ~(
            (self.complete & (self.resp_day <= at) & (self.relapse_day > at))
            | (self.partial & (self.resp_day <= at))
        )


def _visit_states(b: _Block, pi: IntArray, vi: IntArray, t: IntArray) -> IntArray:
    state = np.full(t.shape, ACTIVE, dtype=np.int64)
    resp = b.resp_day[pi]
    responded = t >= resp
    state[(t > 0) & ~responded & np.isfinite(resp)] = IMPROVING
    complete = b.complete[pi]
    state[complete & responded & (t < b.relapse_day[pi])] = REMISSION
    state[complete & (t >= b.relapse_day[pi])] = RELAPSE
    partial = b.partial[pi] & responded
    state[partial] = PARTIAL
    flare = b.flare_day[pi]
    state[partial & (t >= flare) & (t < flare + cal.FLARE_DAYS)] = RELAPSE
    state[vi == 0] = BASE
    return state


_STATE_NAMES = ("base", "improving", "remission", "partial", "active", "relapse")
_IS_PROBABILITY = np.array(
    [[prof.IMMUNOSUPPRESSANT_PROBABILITY[t][k] for k in _STATE_NAMES] for t in THERAPIES]
)
"""Probability of being on an immunosuppressant, by therapy (rows) and visit state (columns)."""


def _schedule(b: _Block) -> tuple[IntArray, IntArray, IntArray]:
    """Visits kept (patient index, visit index, study day): jittered nominal days, missed visits
    dropped, none after the end of follow-up or at/after death; baseline always kept."""
    rng, m = b.rng, b.m
    nv = len(prof.VISIT_DAYS) + 1
    jitter = np.array((0, *prof.VISIT_JITTER_DAYS))
    days = np.empty((m, nv), dtype=np.int64)
    days[:, 0] = b.baseline_day
    days[:, 1:] = np.array(prof.VISIT_DAYS) + np.round((rng.random((m, nv - 1)) * 2 - 1) * jitter[1:]).astype(
        np.int64
    )
    keep = days <= b.end_day[:, None]
    keep[:, 1:] &= rng.random((m, nv - 1)) >= prof.MISSED_VISIT_PROBABILITY
    keep[b.dead[:, None] & (days >= b.end_day[:, None])] = False
    keep[:, 0] = True
    pi, vi = np.nonzero(keep)
    return pi, vi, days[pi, vi]


def _descriptors(b: _Block, pi: IntArray, t: IntArray, state: IntArray) -> BoolArray:
    """SLEDAI-2K descriptors of each visit, following its state (module docstring)."""
    r = len(t)
    u = b.rng.random((r, len(_DESCRIPTORS)))
    base = b.B[pi]
    persist = prof.DESCRIPTOR_PERSISTENCE
    desc = np.zeros((r, len(_DESCRIPTORS)), dtype=bool)
    sel = state == BASE
    desc[sel] = base[sel]
    sel = state == IMPROVING
    desc[sel] = base[sel] & (u[sel] < persist["improving"])
    sel = state == PARTIAL
    desc[sel] = base[sel] & _PARTIAL_MASK & (u[sel] < persist["partial"])
    sel = state == ACTIVE
    desc[sel] = base[sel] & (u[sel] < persist["active"])
    sel = state == RELAPSE
    desc[sel] = b.F[pi][sel] & (u[sel] < persist["relapse"])
    fb_base = _first_clinical(base, np.full(r, _D["low_complement"]))
    fb_partial = np.where(base[:, _D["proteinuria"]], _D["proteinuria"], _D["low_complement"])
    fallback = np.where(
        state == RELAPSE,
        _first_clinical(b.F[pi], fb_base),
        np.where(state == PARTIAL, fb_partial, fb_base),
    )
    # cytopenias while post-conditioning / lymphodepletion counts are followed are drug-induced,
    # which SLEDAI-2K excludes (Gladman 2002)
    in_count_window = (t > 0) & (t <= b.count_last_day[pi])
    desc[in_count_window, _D["thrombocytopenia"]] = False
    desc[in_count_window, _D["leukopenia"]] = False
    _ensure_one(desc, state != REMISSION, fallback)
    return desc


def _pga(rng: np.random.Generator, state: IntArray, score: IntArray) -> FloatArray:
    """Physician global assessment (0-3), rising with the SLEDAI-2K score; low in remission."""
    noise = rng.standard_normal(len(state))
    rem, act = prof.PGA_REMISSION, prof.PGA_ACTIVE
    pga = np.where(
        state == REMISSION,
        np.clip(rem["intercept"] + rem["noise"] * noise, rem["low"], rem["high"]),
        np.clip(act["intercept"] + act["per_point"] * score + act["noise"] * noise, act["low"], act["high"]),
    )
    return np.asarray(np.round(pga, 1), dtype=float)


def _prednisone(b: _Block, pi: IntArray, t: IntArray, state: IntArray) -> FloatArray:
    """Prednisone-equivalent mg/day: baseline dose, tapered by state, raised at relapse/flare."""
    rng, m, r = b.rng, b.m, len(t)
    pred0 = _choice(rng, *prof.BASELINE_PREDNISONE_MG, m).astype(float)
    floors = prof.REMISSION_PREDNISONE_FLOOR_MG
    (h_low, h_high), (m_low, m_high) = floors["autologous_hsct"], floors["msc"]
    floor = np.where(
        b.course_cart,
        floors["car_t"][0],
        np.where(
            b.course_hsct,
            np.where(rng.random(m) < prof.REMISSION_PREDNISONE_FLOOR_SPLIT, h_low, h_high),
            m_low + (m_high - m_low) * (rng.random(m) < prof.REMISSION_PREDNISONE_FLOOR_SPLIT),
        ),
    )
    tau = np.where(b.course_cart, prof.TAPER_DAYS["car_t_remission"], prof.TAPER_DAYS["remission"])
    p0, tt = pred0[pi], np.maximum(t, 0).astype(float)
    taper = prof.TAPER_DAYS
    pred = np.select(
        [state == BASE, state == REMISSION, state == IMPROVING, state == PARTIAL, state == ACTIVE],
        [
            p0,
            np.maximum(floor[pi], p0 * np.exp(-tt / tau[pi])),
            np.maximum(prof.TAPER_FLOOR_MG["improving"], p0 * np.exp(-tt / taper["improving"])),
            np.maximum(prof.TAPER_FLOOR_MG["partial"], p0 * np.exp(-tt / taper["partial"])),
            np.maximum(prof.TAPER_FLOOR_MG["active"], p0 * np.exp(-tt / taper["active"])),
        ],
        default=_choice(rng, *prof.RELAPSE_PREDNISONE_MG, r).astype(float),
    )
    step = prof.PREDNISONE_STEP_MG
    return np.asarray(np.round(pred / step) * step, dtype=float)


def _co_medication(b: _Block, pi: IntArray, state: IntArray) -> dict[str, BoolArray]:
    """Antimalarial, immunosuppressant and biologic use at each visit."""
    rng, m, r = b.rng, b.m, len(pi)
    hcq_user = rng.random(m) < prof.ANTIMALARIAL_USER_PROBABILITY
    on_hcq = hcq_user[pi] & ~(b.course_cart[pi] & np.isin(state, (IMPROVING, REMISSION)))
    on_is = rng.random(r) < _IS_PROBABILITY[b.cti[pi], state]
    bio = prof.BIOLOGIC_PROBABILITY
    on_bio = rng.random(r) < np.select(
        [state == BASE, state == RELAPSE], [bio["base"], bio["relapse"]], bio["other"]
    )
    return {"on_antimalarial": on_hcq, "on_immunosuppressant": on_is, "on_biologic": on_bio}


def _visits(b: _Block) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ``visits`` table of the block and, for the labs and drugs, the rows it was built from."""
    pi, vi, t = _schedule(b)
    r = len(t)
    state = _visit_states(b, pi, vi, t)
    desc = _descriptors(b, pi, t, state)
    pga = _pga(b.rng, state, desc.astype(np.int64) @ _WEIGHTS)
    pred = _prednisone(b, pi, t, state)
    medication = _co_medication(b, pi, state)
    flare_row = state == RELAPSE
    new_activity = pd.array(flare_row, dtype="boolean")
    new_activity[state == BASE] = pd.NA
    bilag_rows = np.flatnonzero(b.rng.random(r) < prof.BILAG_VISIT_PROBABILITY)
    bilag: list[str | None] = [None] * r
    base = b.B[pi]
    for k in bilag_rows:
        bilag[k] = json.dumps(_bilag(desc[k], base[k]), sort_keys=True)
    frame = pd.DataFrame(
        {
            "patient_code": b.code[pi],
            "visit_date": _dates(b.d0[pi] + t),
            "sledai_window_days": np.full(r, prof.SLEDAI_WINDOW_DAYS, dtype=np.int64),
            **{name: desc[:, j] for j, name in enumerate(_DESCRIPTORS)},
            "pga": pga,
            "prednisone_mg_per_day": pred,
            **medication,
            "immunosuppressives_stable": ~flare_row,
            "haemolytic_anaemia": np.zeros(r, dtype=bool),
            "gastrointestinal_activity": np.zeros(r, dtype=bool),
            "new_activity": new_activity,
            "bilag": bilag,
            "missing": [None] * r,  # explicit missing-value states: none recorded (migration 0006)
        }
    )
    return frame, {"pi": pi, "t": t, "desc": desc, "state": state, "pred": pred}


def _bilag(active: BoolArray, baseline: BoolArray) -> dict[str, str]:
    """BILAG-2004-style grades derived from the descriptors (A/B active, D previously, E never)."""
    grades = dict.fromkeys(vocab.BILAG_DOMAINS, "E")
    for j, name in enumerate(_DESCRIPTORS):
        domain = prof.DESCRIPTOR_BILAG_DOMAIN.get(name)
        if domain is None:
            continue
        if active[j]:
            grades[domain] = "A" if domain in prof.BILAG_A_DOMAINS else min(grades[domain], "B")
        elif baseline[j] and grades[domain] == "E":
            grades[domain] = "D"
    return grades


def _units(b: _Block, pi: IntArray, analyte: str) -> npt.NDArray[np.object_]:
    units = np.array([s.units[analyte] for s in prof.SITES], dtype=object)
    return units[b.site[pi]]


def _entered(values: FloatArray, units: npt.NDArray[np.object_], analyte: str) -> FloatArray:
    out = np.empty(values.shape)
    for unit in np.unique(units):
        factor, decimals = prof.ENTRY_UNITS[f"{unit}|{analyte}"]
        mask = units == unit
        out[mask] = np.round(values[mask] * factor, decimals)
    return out


def _draw(rng: np.random.Generator, law: prof.LogNormal | prof.Uniform, size: Any) -> FloatArray:
    """Draws from a law of :mod:`lupuscell.synth.profiles` (floor and ceiling applied)."""
    if isinstance(law, prof.Uniform):
        return np.asarray(rng.uniform(law.low, law.high, size), dtype=float)
    x = _lognormal(rng, law.median, law.sigma, size)
    if law.floor is not None:
        x = np.maximum(law.floor, x)
    if law.ceiling is not None:
        x = np.minimum(law.ceiling, x)
    return x


def _visit_lab_values(b: _Block, pi: IntArray, desc: BoolArray) -> dict[str, FloatArray]:
    """Canonical-unit values of every visit lab, on the side of each descriptor's cut-off
    (profiles.VISIT_LAB_LAWS and CREATININE); drawn in analyte order."""
    rng, r = b.rng, len(pi)
    crea = prof.CREATININE
    crea_base = np.where(
        b.nephritis, _draw(rng, crea.patient_nephritis, b.m), _draw(rng, crea.patient_other, b.m)
    )
    values: dict[str, FloatArray] = {}
    for analyte in prof.VISIT_LABS:
        if analyte == "creatinine":
            prot = desc[:, _D["proteinuria"]]
            factor = np.where(prot, crea.with_proteinuria, crea.without_proteinuria)
            values[analyte] = crea_base[pi] * factor * _lognormal(rng, 1.0, crea.visit_sigma, r)
            continue
        law = prof.VISIT_LAB_LAWS[analyte]
        abnormal = _draw(rng, law.abnormal, r)
        renal = None if law.normal_nephritis is None else _draw(rng, law.normal_nephritis, r)
        normal = _draw(rng, law.normal, r)
        if renal is not None:
            normal = np.where(b.nephritis[pi], renal, normal)
        values[analyte] = np.where(desc[:, _D[law.descriptor]], abnormal, normal)
    return values


def _visit_labs(b: _Block, rows: dict[str, Any]) -> list[pd.DataFrame]:
    rng = b.rng
    pi, t = rows["pi"], rows["t"]
    r = len(pi)
    values = _visit_lab_values(b, pi, rows["desc"])
    frames = []
    dates = _dates(b.d0[pi] + t)
    daily = t <= b.count_last_day[pi]  # HSCT / CAR-T counts already report platelets then
    for analyte in prof.VISIT_LABS:
        keep = rng.random(r) >= prof.MISSING_LAB_PROBABILITY
        if analyte == "platelets":
            keep &= ~daily
        units = _units(b, pi, analyte)
        frames.append(
            pd.DataFrame(
                {
                    "patient_code": b.code[pi][keep],
                    "result_date": dates[keep],
                    "analyte": analyte,
                    "value": _entered(values[analyte], units, analyte)[keep],
                    "unit": units[keep],
                }
            )
        )
    return frames


_HSCT_GRID = np.arange(prof.HSCT_COUNT_DAYS[0], prof.HSCT_COUNT_DAYS[1] + 1)


def _count_curve(
    rng: np.random.Generator,
    curve: prof.CountCurve,
    d: IntArray,
    recovery: IntArray,
    day_before: prof.Uniform | None = None,
) -> FloatArray:
    """Daily counts of one analyte after conditioning (profiles.CountCurve) on the grid ``d``
    (patients x days) for recovery days ``recovery`` (column); ``day_before``: the law of the
    count on the day before recovery, if it has one."""
    n, g = d.shape
    nadir = _draw(rng, curve.nadir, n)[:, None]
    frac = np.clip((d - prof.HSCT_COUNT_DAYS[0]) / curve.decline_days, 0.0, 1.0)
    x = np.exp(np.log(curve.start) * (1 - frac) + np.log(nadir) * frac) * np.exp(
        curve.noise * rng.standard_normal((n, g))
    )
    deep_until = recovery - (1 if day_before is not None else 0)
    x = np.where((d >= curve.deep_from_day) & (d < deep_until), np.minimum(x, curve.deep_cap), x)
    x = np.where((d >= 0) & (d < recovery), np.minimum(x, curve.cap), x)
    if day_before is not None:
        x = np.where(d == recovery - 1, _draw(rng, day_before, (n, g)), x)
    grown = np.minimum(
        curve.recovery_max, curve.recovery_start * curve.recovery_growth ** np.maximum(d - recovery, 0)
    )
    recovered = grown * np.exp(curve.recovery_noise * rng.standard_normal((n, g)))
    return np.asarray(np.where(d >= recovery, np.maximum(recovered, curve.engrafted_floor), x), dtype=float)


def _count_frames(
    b: _Block, pi: IntArray, days: IntArray, series: dict[str, FloatArray]
) -> list[pd.DataFrame]:
    """One lab-result frame per analyte of counts on study ``days`` of patients ``pi``."""
    dates = _dates(b.d0[pi] + days)
    out = []
    for analyte, values in series.items():
        units = _units(b, pi, analyte)
        out.append(
            pd.DataFrame(
                {
                    "patient_code": b.code[pi],
                    "result_date": dates,
                    "analyte": analyte,
                    "value": _entered(values, units, analyte),
                    "unit": units,
                }
            )
        )
    return out


def _hsct_counts(b: _Block) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Daily ANC and platelets after HSCT from the first grid day until the count window ends
    (profiles.HSCT_COUNT_FOLLOW), and the platelet transfusions given before platelet recovery
    (profiles.PLATELET_TRANSFUSION_BELOW)."""
    rng = b.rng
    hp = np.flatnonzero(b.is_hsct)
    n, g = len(hp), len(_HSCT_GRID)
    d = np.broadcast_to(_HSCT_GRID, (n, g))
    en, ep = b.en[hp][:, None], b.ep[hp][:, None]
    anc = _count_curve(rng, prof.HSCT_ANC, d, en, prof.HSCT_ANC_DAY_BEFORE_RECOVERY)
    plt = np.round(_count_curve(rng, prof.HSCT_PLATELETS, d, ep))

    keep = d <= b.count_last_day[hp][:, None]
    rows, cols = np.nonzero(keep)
    frames = _count_frames(b, hp[rows], d[rows, cols], {"anc": anc[rows, cols], "platelets": plt[rows, cols]})
    soft, share = prof.PLATELET_TRANSFUSION_SOMETIMES_BELOW
    low = (plt < prof.PLATELET_TRANSFUSION_BELOW) | ((plt < soft) & (rng.random((n, g)) < share))
    tr, tc = np.nonzero(keep & (d >= 0) & (d < ep) & low)
    drug, dose, unit, purpose = prof.PLATELET_TRANSFUSION
    transfusions = pd.DataFrame(
        {
            "patient_code": b.code[hp][tr],
            "drug": drug,
            "dose": dose,
            "unit": unit,
            "admin_date": _dates(b.d0[hp][tr] + d[tr, tc]),
            "purpose": purpose,
        }
    )
    return frames, transfusions


def _cart_counts(b: _Block) -> list[pd.DataFrame]:
    """ANC and platelets on the CAR-T count days (profiles.CAR_T_ANC, CAR_T_PLATELETS)."""
    rng = b.rng
    cp = np.flatnonzero(b.is_cart)
    n, g = len(cp), len(_CART_DAYS)
    d = np.broadcast_to(_CART_DAYS, (n, g))
    (anc_median, anc_sigma), (plt_median, plt_sigma) = prof.CAR_T_ANC, prof.CAR_T_PLATELETS
    anc = np.array(anc_median) * np.exp(anc_sigma * rng.standard_normal((n, g)))
    plt = np.round(np.array(plt_median) * np.exp(plt_sigma * rng.standard_normal((n, g))))
    rows, cols = np.nonzero(d <= b.count_last_day[cp][:, None])
    return _count_frames(b, cp[rows], d[rows, cols], {"anc": anc[rows, cols], "platelets": plt[rows, cols]})


def _concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, ignoring empty parts (their all-NA columns would change dtypes)."""
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty or frames[:1], ignore_index=True)


def _template_drugs(
    b: _Block, mask: BoolArray, template: tuple[tuple[str, float, str, str, int, str], ...]
) -> pd.DataFrame:
    idx = np.flatnonzero(mask)
    k = len(template)
    pi = np.repeat(idx, k)
    col = np.tile(np.arange(k), len(idx))
    offset = np.array([x[4] for x in template])[col]
    anchor = np.where(np.array([x[5] == "mob" for x in template])[col], b.mob[pi], 0)
    return pd.DataFrame(
        {
            "patient_code": b.code[pi],
            "drug": np.array([x[0] for x in template], dtype=object)[col],
            "dose": np.array([x[1] for x in template])[col],
            "unit": np.array([x[2] for x in template], dtype=object)[col],
            "admin_date": _dates(b.d0[pi] + anchor + offset),
            "purpose": np.array([x[3] for x in template], dtype=object)[col],
        }
    )


def _drugs(b: _Block, rows: dict[str, Any], transfusions: pd.DataFrame) -> pd.DataFrame:
    frames = [
        _template_drugs(b, b.is_hsct, prof.HSCT_FIXED_DRUGS),
        _template_drugs(b, b.rituximab, prof.HSCT_RITUXIMAB_DRUGS),
        _template_drugs(b, b.is_cart, prof.CAR_T_FIXED_DRUGS),
        _template_drugs(b, b.is_msc, prof.MSC_FIXED_DRUGS),
    ]
    second = b.is_msc & (b.n_infusions == 2)
    premed = _template_drugs(b, second, prof.MSC_FIXED_DRUGS)
    premed["admin_date"] = premed["admin_date"] + pd.Timedelta(days=prof.MSC_SECOND_INFUSION_DAY)
    frames.append(premed)
    # G-CSF daily from mobilisation day +3 to the last apheresis day
    hp = np.flatnonzero(b.is_hsct)
    first = prof.HSCT_GCSF_FIRST_DAY
    k = np.arange(prof.APHERESIS_DAYS_AFTER_MOBILISATION[1] - first + 1)
    day = b.mob[hp][:, None] + first + k
    rr, cc = np.nonzero(day <= b.harvest[hp][:, None])
    drug, dose, unit, purpose = prof.HSCT_GCSF
    frames.append(
        pd.DataFrame(
            {
                "patient_code": b.code[hp][rr],
                "drug": drug,
                "dose": dose,
                "unit": unit,
                "admin_date": _dates(b.d0[hp][rr] + day[rr, cc]),
                "purpose": purpose,
            }
        )
    )
    frames.append(transfusions)
    pred = rows["pred"]
    on = pred > 0
    name, gc_unit, gc_purpose = prof.GLUCOCORTICOID
    frames.append(
        pd.DataFrame(
            {
                "patient_code": b.code[rows["pi"][on]],
                "drug": name,
                "dose": pred[on],
                "unit": gc_unit,
                "admin_date": _dates(b.d0[rows["pi"][on]] + rows["t"][on]),
                "purpose": gc_purpose,
            }
        )
    )
    out = _concat_frames(frames)
    # nothing is given after a death (the registry refuses records dated after it)
    death = pd.Series(_dates(b.d0[b.dead] + b.end_day[b.dead]), index=b.code[b.dead])
    out = out[~(out["admin_date"] > out["patient_code"].map(death)).to_numpy()].reset_index(drop=True)
    out.insert(1, "course_key", out["patient_code"] + "/1")
    return out


class _EventParts:
    """Adverse events of one block, collected part by part (one part per kind of event)."""

    def __init__(self, b: _Block) -> None:
        self.b = b
        self.parts: list[dict[str, Any]] = []

    def add(
        self,
        mask: BoolArray,
        term: npt.ArrayLike,
        category: str | npt.ArrayLike,
        grade: npt.ArrayLike,
        onset: npt.ArrayLike,
        duration: npt.ArrayLike | None,
        serious: npt.ArrayLike,
        relatedness: str | npt.ArrayLike,
    ) -> None:
        """Events of the patients in ``mask``; every other argument is a scalar or per patient."""

        def pick(x: Any) -> Any:
            arr = np.asarray(x)
            return arr[mask] if arr.ndim else np.full(int(mask.sum()), arr.item(), dtype=object)

        onset_a = np.asarray(onset, dtype=np.int64)
        res = (
            np.full(self.b.m, _NO_DATE, dtype=np.int64)
            if duration is None
            else onset_a + np.asarray(duration, dtype=np.int64)
        )
        self.parts.append(
            {
                "pi": np.flatnonzero(mask),
                "term": pick(np.asarray(term, dtype=object)),
                "category": pick(np.asarray(category, dtype=object)),
                "grade": pick(grade).astype(np.int64),
                "onset": onset_a[mask],
                "resolution": res[mask],
                "serious": pick(serious).astype(bool),
                "relatedness": pick(np.asarray(relatedness, dtype=object)),
            }
        )


def _days_between(rng: np.random.Generator, span: tuple[int, int], m: int) -> IntArray:
    """Uniform integer days on ``span`` (no draw when the span is a single day)."""
    lo, hi = span
    return np.full(m, lo, dtype=np.int64) if lo == hi else _uniform_int(rng, lo, hi, m)


def _modelled_events(b: _Block, parts: _EventParts, model: cal.AdverseEventModel) -> None:
    """One kind of event from :data:`lupuscell.synth.calibration.ADVERSE_EVENTS`.

    Draws, in this order: grade (if several), occurrence, term (if several), onset, duration.
    """
    rng, m = b.rng, b.m
    values = tuple(g for g, _ in model.grades)
    grade = (
        np.full(m, values[0])
        if len(values) == 1
        else _choice(rng, values, [p for _, p in model.grades], m).astype(np.int64)
    )
    mask = (b.therapy == model.therapy) & (rng.random(m) < model.probability.p)
    terms = model.terms
    term = terms[0] if len(terms) == 1 else _choice(rng, terms, np.ones(len(terms)), m)
    if model.onset_skew is not None:
        onset = np.floor(model.onset_days[1] * rng.random(m) ** model.onset_skew)
    else:
        onset = _days_between(rng, model.onset_days, m)
    if model.onset_anchor == "neutrophil_engraftment":
        onset = b.en + onset
    duration = _days_between(rng, model.duration_days, m)
    parts.add(
        mask,
        term,
        model.category,
        grade,
        onset,
        duration,
        grade >= model.serious_from_grade,
        model.relatedness,
    )


def _outcome_events(b: _Block, parts: _EventParts, kind: str) -> None:
    """Events of the outcome model: primary graft failure, or the grade-5 event of a TRM."""
    m = b.m
    if kind == "graft_failure":
        day = cal.GRAFT_FAILURE_DECLARED_DAY
        on = np.full(m, day)
        parts.add(
            b.graft_failure,
            "primary graft failure",
            "graft_failure",
            np.full(m, 4),
            on,
            b.en - day,
            True,
            "definite",
        )
        return
    cause = _trm_cause(b)
    category = np.array([prof.TRM_CAUSE_CATEGORY.get(x, "other") for x in cause], dtype=object)
    onset = np.maximum(1, b.end_day - _uniform_int(b.rng, *cal.TRM_EVENT_ONSET_BEFORE_DEATH_DAYS, m))
    parts.add(b.trm, cause, category, np.full(m, 5), onset, None, True, "definite")


def _adverse_events(b: _Block) -> pd.DataFrame:
    """Every adverse event of the block: the calibrated models by therapy, graft failure, TRM."""
    parts = _EventParts(b)
    for model in cal.ADVERSE_EVENTS["autologous_hsct"]:
        _modelled_events(b, parts, model)
    _outcome_events(b, parts, "graft_failure")
    for model in (*cal.ADVERSE_EVENTS["msc"], *cal.ADVERSE_EVENTS["car_t"]):
        _modelled_events(b, parts, model)
    _outcome_events(b, parts, "treatment_related_death")
    return _event_frame(b, parts.parts)


def _event_frame(b: _Block, parts: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``adverse_events`` table: onsets after the end of follow-up dropped, resolutions after
    it (or at/after death) left open."""
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    pi = cols["pi"]
    end = b.end_day[pi]
    keep = cols["onset"] <= end
    resolution = np.where(cols["resolution"] > end, _NO_DATE, cols["resolution"])
    dead_unresolved = b.dead[pi] & (resolution != _NO_DATE) & (resolution >= end)
    resolution = np.where(dead_unresolved, _NO_DATE, resolution)
    res_days = np.where(resolution == _NO_DATE, _NO_DATE, b.d0[pi] + resolution)
    return pd.DataFrame(
        {
            "patient_code": b.code[pi][keep],
            "course_key": (b.code[pi] + "/1")[keep],
            "term": cols["term"][keep],
            "category": cols["category"][keep],
            "grade": cols["grade"][keep],
            # CRS/ICANS graded by ASTCT 2019, the rest by CTCAE v5.0 (vocab.AE_GRADING_BY_CATEGORY)
            "grading_system": np.array(
                [vocab.default_grading_system(c) for c in cols["category"][keep]], dtype=object
            ),
            "onset_date": _dates(b.d0[pi] + cols["onset"])[keep],
            "resolution_date": _dates(res_days)[keep],
            "serious": cols["serious"][keep],
            "relatedness": cols["relatedness"][keep],
        }
    )


def _trm_cause(b: _Block) -> npt.NDArray[np.object_]:
    out = np.empty(b.m, dtype=object)
    for ti, therapy in enumerate(THERAPIES):
        causes = prof.TRM_CAUSES[therapy]
        mask = b.ti == ti
        out[mask] = np.asarray(causes, dtype=object)[(b.u_cause[mask] * len(causes)).astype(np.int64)]
    return out


def _clinical_events(b: _Block) -> pd.DataFrame:
    active_cause = _pick_weighted(prof.OTHER_DEATH_CAUSES_ACTIVE, b.u_cause)
    quiet_cause = _pick_weighted(prof.OTHER_DEATH_CAUSES_QUIET, b.u_cause)
    death_cause = np.where(b.trm, _trm_cause(b), np.where(b.active_at_end, active_cause, quiet_cause))
    end = b.end_day
    relapse_seen = b.complete & (b.relapse_day <= end) & ~(b.dead & (b.relapse_day >= end))
    flare_seen = b.partial & (b.flare_day <= end) & ~(b.dead & (b.flare_day >= end))
    severe = b.u_severity < cal.SEVERE_SHARE["relapse"].p
    specs = (
        (b.dead, "death", end, death_cause, b.trm, None),
        (
            relapse_seen,
            "relapse",
            np.floor(np.where(relapse_seen, b.relapse_day, 0)),
            None,
            None,
            np.where(severe, "severe", "mild_moderate"),
        ),
        (
            flare_seen,
            "flare",
            np.floor(np.where(flare_seen, b.flare_day, 0)),
            None,
            None,
            np.where(b.u_severity < cal.SEVERE_SHARE["flare"].p, "severe", "mild_moderate"),
        ),
        (~b.dead, "last_contact", end, None, None, None),
    )
    frames = []
    for mask, kind, day, cause, related, severity in specs:
        idx = np.flatnonzero(mask)
        frames.append(
            pd.DataFrame(
                {
                    "patient_code": b.code[idx],
                    "event_type": kind,
                    "event_date": _dates(b.d0[idx] + np.asarray(day, dtype=np.int64)[idx]),
                    "cause": None if cause is None else np.asarray(cause, dtype=object)[idx],
                    "treatment_related": pd.array(
                        [None] * len(idx) if related is None else np.asarray(related)[idx], dtype="boolean"
                    ),
                    "severity": None if severity is None else np.asarray(severity, dtype=object)[idx],
                }
            )
        )
    return _concat_frames(frames)


def _pick_weighted(table: tuple[tuple[str, float], ...], u: FloatArray) -> npt.NDArray[np.object_]:
    names = np.array([x[0] for x in table], dtype=object)
    cum = np.cumsum([x[1] for x in table])
    return names[np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(names) - 1)]


def _patients(b: _Block) -> pd.DataFrame:
    organs = vocab.ORGAN_INVOLVEMENT
    return pd.DataFrame(
        {
            "code": b.code,
            "site_code": b.site_code,
            "sex": np.where(b.female, "F", "M").astype(object),
            "birth_year": b.birth_year,
            "sle_diagnosis_date": _dates(b.diagnosis_day),
            "classification_criteria": b.criteria,
            "organ_involvement": [[organs[j] for j in np.flatnonzero(row)] for row in b.organ],
            "nephritis_class": b.nephritis_class,
            "prior_therapies": [[b.prior_names[j] for j in np.flatnonzero(row)] for row in b.prior],
        }
    )


def _courses(b: _Block) -> pd.DataFrame:
    def rel(days: IntArray) -> npt.NDArray[np.datetime64]:
        return _dates(np.where(days == _NO_DATE, _NO_DATE, b.d0 + days))

    discharge = np.where(b.dead & (b.discharge >= b.end_day), _NO_DATE, b.discharge)
    return pd.DataFrame(
        {
            "course_key": b.code + "/1",
            "patient_code": b.code,
            "therapy": b.therapy,
            "cell_source": b.cell_source,
            "donor_type": b.donor_type,
            "protocol_id": b.protocol,
            "mobilisation_date": rel(b.mob),
            "harvest_date": rel(b.harvest),
            "conditioning_start_date": rel(b.conditioning),
            "infusion_date": _dates(b.d0),
            "discharge_date": rel(discharge),
            "total_cell_dose": b.total_dose,
            "cell_dose_per_kg": b.dose_per_kg,
            "cd34_per_kg": b.cd34,
            "viability_percent": b.viability,
            "route": "intravenous",
            "number_of_infusions": b.n_infusions.astype(np.int64),
            "missing": [None] * len(b.code),  # explicit missing-value states: none recorded
        }
    )


def sites_table() -> pd.DataFrame:
    """The synthetic sites (code, name, country)."""
    return pd.DataFrame(
        {
            "code": [s.code for s in prof.SITES],
            "name": [s.name for s in prof.SITES],
            "country": [s.country for s in prof.SITES],
        }
    )


def _in_patient_order(frame: pd.DataFrame, position: dict[str, int], by: list[str]) -> pd.DataFrame:
    """Sort rows by patient (generation order, not code order) then ``by``."""
    key = frame["patient_code"].map(position)
    ordered = frame.assign(_pos=key).sort_values(["_pos", *by], kind="stable", ignore_index=True)
    return ordered.drop(columns="_pos")


def generate_block(
    seed: int, block: int, start: int, size: int, baseline_signal: bool = True
) -> dict[str, pd.DataFrame]:
    """Tables of patients ``start .. start + size - 1`` drawn from random block ``block``."""
    b = _Block(seed, block, start, size, baseline_signal)
    position = {code: k for k, code in enumerate(b.code)}
    visits, rows = _visits(b)
    hsct_labs, transfusions = _hsct_counts(b)
    labs = _concat_frames([*_visit_labs(b, rows), *hsct_labs, *_cart_counts(b)])
    return {
        "patients": _patients(b),
        "therapy_courses": _courses(b),
        "drug_administrations": _in_patient_order(_drugs(b, rows, transfusions), position, ["admin_date"]),
        "visits": visits,
        "lab_results": _in_patient_order(labs, position, ["result_date", "analyte"]),
        "adverse_events": _in_patient_order(_adverse_events(b), position, ["onset_date"]),
        "clinical_events": _in_patient_order(_clinical_events(b), position, ["event_date"]),
    }


def _split(
    tables: dict[str, pd.DataFrame], n_first: int
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Split per-patient tables after the first ``n_first`` patients (in patient order)."""
    codes = set(tables["patients"]["code"].iloc[:n_first])
    head, tail = {}, {}
    for name, frame in tables.items():
        key = "code" if name == "patients" else "patient_code"
        mask = frame[key].isin(codes).to_numpy()
        head[name] = frame[mask].reset_index(drop=True)
        tail[name] = frame[~mask].reset_index(drop=True)
    return head, tail


def _concat(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    if len(parts) == 1:
        return parts[0]
    return {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}


def iter_cohort_tables(
    n_patients: int, seed: int, chunk_size: int = 2000, *, baseline_signal: bool = True
) -> Iterator[dict[str, pd.DataFrame]]:
    """Stream the synthetic cohort as chunks of per-table data frames.

    Parameters
    ----------
    n_patients : int
        Number of virtual patients (>= 0).
    seed : int
        Seed; the cohort is a deterministic function of ``(n_patients, seed)``.
    chunk_size : int, default 2000
        Patients per yielded chunk (the last one may be smaller). The concatenated output
        does not depend on it.
    baseline_signal : bool, default True
        Response and relapse depend on the baseline features by the documented effects
        (:data:`lupuscell.synth.calibration.BASELINE_EFFECTS`). ``False`` gives a cohort without
        any signal: the disease course (response, relapse, flares, deaths, the steroid taper and
        co-medication of each state) follows a therapy drawn independently of the patient, so
        nothing recorded at baseline, the therapy included, predicts it. The patients, their
        baseline and their treatment are the same either way.

    Yields
    ------
    dict of str to pandas.DataFrame
        Keyed by registry table name (:data:`TABLES`). Columns are the ORM model's, with
        ``patient_code`` instead of ``patient_id``, ``site_code`` instead of ``site_id``
        (patients), and ``course_key`` linking drug administrations and adverse events to
        their therapy course. ``sites`` is included in the first chunk only.
    """
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    pending: list[dict[str, pd.DataFrame]] = []
    pending_n = 0
    first = True
    n_blocks = -(-n_patients // BLOCK_SIZE)
    for block in range(n_blocks):
        start = block * BLOCK_SIZE
        size = min(BLOCK_SIZE, n_patients - start)
        pending.append(generate_block(seed, block, start, size, baseline_signal))
        pending_n += size
        while pending_n >= chunk_size or (block == n_blocks - 1 and pending_n > 0):
            merged = _concat(pending)
            take = min(chunk_size, pending_n)
            if take < pending_n:
                head, tail = _split(merged, take)
                pending, pending_n = [tail], pending_n - take
            else:
                head, pending, pending_n = merged, [], 0
            if first:
                head = {"sites": sites_table(), **head}
                first = False
            yield head


def generate_cohort_tables(
    n_patients: int, seed: int, *, baseline_signal: bool = True
) -> dict[str, pd.DataFrame]:
    """The whole cohort in memory (for small ``n_patients``): :func:`iter_cohort_tables` concatenated."""
    parts = list(
        iter_cohort_tables(n_patients, seed, chunk_size=max(n_patients, 1), baseline_signal=baseline_signal)
    )
    if not parts:
        return {"sites": sites_table(), **{name: pd.DataFrame() for name in TABLES[1:]}}
    out = _concat([{k: v for k, v in p.items() if k != "sites"} for p in parts])
    return {"sites": sites_table(), **out}
