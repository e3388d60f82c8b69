"""SLEDAI-2K, clinical SLEDAI and the SELENA-SLEDAI variant.

Sources
-------
Gladman DD, Ibañez D, Urowitz MB. Systemic lupus erythematosus disease activity index 2000.
J Rheumatol 2002;29(2):288-291 (PMID 11838846): 24 descriptors, weights 8/4/2/1, maximum 105,
10-day window. Touma Z, Urowitz MB, Gladman DD. SLEDAI-2K for a 30-day window. Lupus
2010;19(1):49-51, doi:10.1177/0961203309346505. SELENA-SLEDAI: Petri M et al., NEJM
2005;353:2550 (new-or-worse wording for proteinuria, rash, alopecia, mucosal ulcers).

Conventions (each an explicit input field, recorded in the result)
------------------------------------------------------------------
* ``descriptors`` is a checklist: a descriptor left out is *not present*, as on the paper
  form. A descriptor given as ``null`` was *not assessed*: the score is then unknown
  (``sledai_2k`` null, ``complete`` false, ``missing`` lists it) and the possible range is
  reported as ``sledai_2k_min``/``sledai_2k_max``.
* ``events`` + ``window_days``: a descriptor scores when an event lies in the inclusive window
  ``0 <= days_before_visit <= window_days`` (10 by default, 30 for Touma 2010).
* Arthritis joint count (published forms say ">2" or ">=2" joints): when
  ``tender_or_swollen_inflamed_joint_count`` is given, arthritis scores at ``>= 2`` joints
  (``arthritis_rule="ge_2"``, default, pending clinical sign-off) or ``> 2`` joints
  (``"gt_2"``, original SLEDAI and several SLEDAI-2K forms). A tick
  (``descriptors.arthritis``) or an in-window arthritis event that contradicts the count under
  the chosen rule is rejected, never silently overridden.
* ``instrument_version="selena_sledai"``: proteinuria, rash, alopecia and mucosal ulcers score
  only with ``new_or_worse[item] = true``; a present item without that flag is unknown.
* ``missing_states`` (explicit missing-value states of the registry's minimum data,
  docs/data_management/missing_values.md): a descriptor marked ``"unknown"`` or
  ``"not_done"`` is *not assessed* - never scored 0 - so the total is null and ``missing``
  names it (``descriptors.fever (unknown)``). Only the explicit option
  ``not_done_as_absent=true`` scores a ``"not_done"`` item as absent (an item note says so);
  ``"unknown"`` is never read as absent. A descriptor cannot have both a value and a state.
* Clinical SLEDAI removes only ``low_complement`` and ``increased_dna_binding``; leukopenia and
  thrombocytopenia stay in (the no-serology SLEDAI used by DORIS 2021).

The weight table is data (:data:`WEIGHTS`); scoring is a sum over it, so there is nothing a
library would add here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, model_validator

from lupuscell import vocab
from lupuscell.instruments.base import (
    InstrumentResult,
    InstrumentSpec,
    Item,
    StrictInput,
    plain_scalar,
    printed,
    validate_input,
)

VERSION = "sledai_2k"
SOURCE = (
    "Gladman DD, Ibañez D, Urowitz MB. J Rheumatol 2002;29(2):288-291 (PMID 11838846); "
    "30-day window: Touma Z et al. Lupus 2010;19(1):49-51, doi:10.1177/0961203309346505"
)

#: The 24 descriptor keys in the order of Gladman 2002 (one source: :mod:`lupuscell.vocab`).
Descriptor = vocab.SledaiDescriptor
DESCRIPTORS: tuple[Descriptor, ...] = get_args(Descriptor)

#: descriptor -> (weight, one-line definition), Gladman 2002 Table 1.
_TABLE: Mapping[Descriptor, tuple[int, str]] = MappingProxyType(
    {
        "seizure": (8, "recent-onset seizure, not metabolic, infectious or drug-induced"),
        "psychosis": (8, "severe disturbance in perception of reality, not uraemia or drugs"),
        "organic_brain_syndrome": (8, "rapid-onset fluctuating impaired mental function with >=2 features"),
        "visual_disturbance": (8, "retinal changes of SLE or optic neuritis"),
        "cranial_nerve_disorder": (8, "new sensory or motor cranial neuropathy"),
        "lupus_headache": (8, "severe persistent headache unresponsive to narcotic analgesia"),
        "cva": (8, "new cerebrovascular accident, not arteriosclerosis"),
        "vasculitis": (
            8,
            "ulceration, gangrene, finger nodules, periungual infarction or proof of vasculitis",
        ),
        "arthritis": (4, "joints with pain and signs of inflammation"),
        "myositis": (4, "proximal muscle aching/weakness with raised CK/aldolase, EMG or biopsy evidence"),
        "urinary_casts": (4, "heme-granular or red-cell casts"),
        "hematuria": (4, ">5 RBC/high-power field, not stone or infection"),
        "proteinuria": (4, ">0.5 g/24 h"),
        "pyuria": (4, ">5 WBC/high-power field, not infection"),
        "rash": (2, "inflammatory-type rash"),
        "alopecia": (2, "abnormal patchy or diffuse hair loss"),
        "mucosal_ulcers": (2, "oral or nasal ulcers"),
        "pleurisy": (2, "pleuritic chest pain with rub, effusion or pleural thickening"),
        "pericarditis": (2, "pericardial pain with rub, effusion or ECG/echo confirmation"),
        "low_complement": (2, "CH50, C3 or C4 below the lab's lower limit of normal"),
        "increased_dna_binding": (2, "anti-DNA binding above the lab's normal range"),
        "fever": (1, ">38 °C, not infection"),
        "thrombocytopenia": (1, "platelets <100 x10^9/L, not drug-induced"),
        "leukopenia": (1, "WBC <3.0 x10^9/L, not drug-induced"),
    }
)

WEIGHTS: Mapping[str, int] = MappingProxyType({key: _TABLE[key][0] for key in DESCRIPTORS})
DEFINITIONS: Mapping[str, str] = MappingProxyType({key: _TABLE[key][1] for key in DESCRIPTORS})
SEROLOGY: tuple[Descriptor, Descriptor] = ("low_complement", "increased_dna_binding")
MAXIMUM = sum(WEIGHTS.values())  # 105

#: Items whose scoring depends on "new or worse" under SELENA-SLEDAI (Petri 2005).
NewOrWorseItem = Literal["proteinuria", "rash", "alopecia", "mucosal_ulcers"]
SELENA_NEW_OR_WORSE: tuple[NewOrWorseItem, ...] = get_args(NewOrWorseItem)

#: Arthritis joint-count rule (">=2" or ">2" joints) -> minimum number of inflamed joints.
ArthritisRule = Literal["ge_2", "gt_2"]
ARTHRITIS_MIN_JOINTS: Mapping[ArthritisRule, int] = MappingProxyType({"ge_2": 2, "gt_2": 3})

#: Inclusive look-back windows: 10 days (Gladman 2002) or 30 days (Touma 2010).
WindowDays = Literal[10, 30]
WINDOWS_DAYS: tuple[WindowDays, ...] = get_args(WindowDays)

SledaiVersion = Literal["sledai_2k", "selena_sledai"]
AntiDsdnaAssay = Literal["farr", "elisa", "clia", "clift", "other"]
#: Explicit missing-value states (:data:`lupuscell.schemas.missing.MISSING_STATES`).
MissingState = Literal["not_done", "unknown"]


class Event(StrictInput):
    """One dated occurrence of a descriptor relative to the visit."""

    descriptor: Descriptor
    days_before_visit: Annotated[StrictInt, Field(ge=0, le=3650), BeforeValidator(plain_scalar)]


class SledaiInput(StrictInput):
    """Input of ``sledai_2k``: ``descriptors`` or ``events``, not both (docs/instruments/sledai_2k.md)."""

    descriptors: dict[Descriptor, Annotated[StrictBool, BeforeValidator(plain_scalar)] | None] | None = Field(
        default=None,
        description="Checklist at the visit: true = present, absent key = not present, null = not assessed.",
    )
    events: list[Event] | None = Field(
        default=None, description="Dated descriptor occurrences; scored inside the inclusive window."
    )
    window_days: WindowDays = Field(default=10, description="Inclusive look-back window in days.")
    instrument_version: SledaiVersion = "sledai_2k"
    new_or_worse: dict[NewOrWorseItem, StrictBool] = Field(
        default_factory=dict, description="SELENA-SLEDAI only: item is new onset, recurrent or worse."
    )
    tender_or_swollen_inflamed_joint_count: Annotated[StrictInt, Field(ge=0, le=70)] | None = None
    anti_dsdna_assay: AntiDsdnaAssay | None = Field(
        default=None,
        description="Assay behind increased_dna_binding (recorded; the rule is 'above the lab range').",
    )
    arthritis_rule: ArthritisRule = Field(
        default="ge_2", description="Arthritis needs >=2 (default) or >2 inflamed joints."
    )
    missing_states: dict[Descriptor, MissingState] = Field(
        default_factory=dict,
        description="Descriptor -> 'not_done' or 'unknown' (explicit missing-value state): not "
        "assessed, never scored as absent.",
    )
    not_done_as_absent: StrictBool = Field(
        default=False, description="Score a 'not_done' descriptor as absent (explicit, documented option)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> SledaiInput:
        if self.descriptors is not None and self.events is not None:
            raise ValueError("give either 'descriptors' or 'events', not both")
        if self.descriptors is None and self.events is None:
            raise ValueError("one of 'descriptors' or 'events' is required")
        both = sorted(d for d in self.missing_states if (self.descriptors or {}).get(d) is not None)
        if both:
            raise ValueError(
                f"descriptors {both} have both a value and a missing state (missing_states); give one of them"
            )
        return self


def _present(inp: SledaiInput) -> tuple[dict[str, bool | None], list[Item]]:
    """Descriptor -> present (True/False/None unknown), plus window notes for ignored events."""
    notes: list[Item] = []
    if inp.descriptors is not None:
        present: dict[str, bool | None] = {d: inp.descriptors.get(d, False) for d in DESCRIPTORS}  # type: ignore[call-overload]
        return present, notes
    present = dict.fromkeys(DESCRIPTORS, False)
    for event in inp.events or ():
        if event.days_before_visit <= inp.window_days:
            present[event.descriptor] = True
        else:
            notes.append(
                Item(
                    event.descriptor,
                    0,
                    f"event {event.days_before_visit} days before the visit is outside the "
                    f"{inp.window_days}-day window",
                )
            )
    return present, notes


def _apply_states(inp: SledaiInput, present: dict[str, bool | None]) -> list[Item]:
    """Descriptors with an explicit missing-value state become not assessed (None), or absent
    for ``not_done`` under ``not_done_as_absent`` (with a note saying so)."""
    notes = []
    for key, state in inp.missing_states.items():
        if state == "not_done" and inp.not_done_as_absent:
            present[key] = False
            notes.append(Item(key, 0, "not done: scored as absent (option not_done_as_absent)"))
        else:
            present[key] = None
    return notes


def _arthritis(inp: SledaiInput, present: dict[str, bool | None]) -> tuple[bool | None, str]:
    count = inp.tender_or_swollen_inflamed_joint_count
    if count is None:
        return present["arthritis"], DEFINITIONS["arthritis"]
    needed = ARTHRITIS_MIN_JOINTS[inp.arthritis_rule]
    by_count = count >= needed
    if inp.descriptors is not None:
        given, field = inp.descriptors.get("arthritis"), "descriptors.arthritis"
    else:  # an in-window arthritis event is a tick; no event says nothing
        given, field = (True if present["arthritis"] else None), "events.arthritis"
    if given is not None and given != by_count:
        from lupuscell.errors import ValidationError

        raise ValidationError.single(
            "input",
            field,
            f"contradicts tender_or_swollen_inflamed_joint_count={count} under arthritis_rule="
            f"{inp.arthritis_rule!r} (needs >= {needed} joints); give one of them",
        )
    return by_count, f"{count} inflamed joints, rule {inp.arthritis_rule} (>= {needed})"


_IF_INCOMPLETE = printed(omit_if=lambda r: r.complete)
_IF_SELENA = printed(omit_if=lambda r: r.instrument_version != "selena_sledai")


@dataclass(frozen=True, kw_only=True)
class SledaiResult(InstrumentResult):
    """Result of ``sledai_2k``: the totals (null when a descriptor was not assessed, with the
    possible range in the ``*_min``/``*_max`` fields) and the conventions applied."""

    sledai_2k: int | None = None
    clinical_sledai: int | None = None
    active_descriptors: tuple[Descriptor, ...] = ()
    instrument_version: SledaiVersion = "sledai_2k"
    window_days: WindowDays = 10
    arthritis_rule: ArthritisRule = "ge_2"
    anti_dsdna_assay: AntiDsdnaAssay | None = None
    #: SELENA-SLEDAI total (printed only for ``instrument_version="selena_sledai"``).
    selena_sledai: int | None = field(default=None, metadata=_IF_SELENA)
    sledai_2k_min: int | None = field(default=None, metadata=_IF_INCOMPLETE)
    sledai_2k_max: int | None = field(default=None, metadata=_IF_INCOMPLETE)
    clinical_sledai_min: int | None = field(default=None, metadata=_IF_INCOMPLETE)
    clinical_sledai_max: int | None = field(default=None, metadata=_IF_INCOMPLETE)


@dataclass
class _Tally:
    """Running sums over the descriptors: known-present part and not-assessed part."""

    items: list[Item] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    active: list[Descriptor] = field(default_factory=list)
    total: int = 0
    serology: int = 0
    unknown_total: int = 0
    unknown_serology: int = 0

    def add(self, key: Descriptor, reason: str) -> None:
        weight = WEIGHTS[key]
        self.total += weight
        self.serology += weight if key in SEROLOGY else 0
        self.active.append(key)
        self.items.append(Item(key, weight, reason))

    def unknown(self, key: Descriptor, missing: str) -> None:
        self.missing.append(missing)
        self.unknown_total += WEIGHTS[key]
        self.unknown_serology += WEIGHTS[key] if key in SEROLOGY else 0


def _tally(data: SledaiInput, present: dict[str, bool | None], arthritis_reason: str) -> _Tally:
    """Sum the weights of the present descriptors; SELENA-SLEDAI's new-or-worse rule applies."""
    tally = _Tally()
    selena = data.instrument_version == "selena_sledai"
    for key in DESCRIPTORS:
        state = present[key]
        reason = arthritis_reason if key == "arthritis" else DEFINITIONS[key]
        if state and selena and key in SELENA_NEW_OR_WORSE:
            flag = data.new_or_worse.get(key)  # type: ignore[call-overload]
            if flag is None:
                tally.unknown(key, f"new_or_worse.{key}")
                continue
            if not flag:
                tally.items.append(
                    Item(key, 0, "present but not new or worse: does not score in SELENA-SLEDAI")
                )
                continue
            reason += " (new or worse)"
        if state is None:
            given = data.missing_states.get(key)  # type: ignore[call-overload]
            tally.unknown(key, f"descriptors.{key}" + (f" ({given})" if given else ""))
        elif state:
            tally.add(key, reason)
    return tally


def score_sledai_2k(inp: SledaiInput | Mapping[str, Any]) -> SledaiResult:
    """Score SLEDAI-2K (or SELENA-SLEDAI) and clinical SLEDAI for one visit.

    Parameters
    ----------
    inp
        A :class:`SledaiInput` or a mapping validated into one (a rejection raises
        :class:`lupuscell.errors.ValidationError` naming the field).

    Returns
    -------
    SledaiResult
        ``sledai_2k`` and ``clinical_sledai`` (null when a descriptor was not assessed, with
        ``sledai_2k_min``/``_max`` and ``clinical_sledai_min``/``_max``),
        ``active_descriptors``, ``instrument_version``, ``window_days`` and ``arthritis_rule``.

    References
    ----------
    Gladman DD, Ibañez D, Urowitz MB. J Rheumatol 2002;29(2):288-291. Touma Z et al. Lupus
    2010;19(1):49-51. Petri M et al. N Engl J Med 2005;353:2550-2558 (SELENA-SLEDAI).
    """
    data = validate_input(SledaiInput, inp)
    present, notes = _present(data)
    notes += _apply_states(data, present)
    present["arthritis"], arthritis_reason = _arthritis(data, present)
    tally = _tally(data, present, arthritis_reason)
    complete = not tally.missing
    clinical = tally.total - tally.serology
    total = tally.total if complete else None
    return SledaiResult(
        instrument="sledai_2k",
        version=data.instrument_version,
        items=(*tally.items, *notes),
        complete=complete,
        missing=tuple(tally.missing),
        sledai_2k=total,
        clinical_sledai=clinical if complete else None,
        active_descriptors=tuple(tally.active),
        instrument_version=data.instrument_version,
        window_days=data.window_days,
        arthritis_rule=data.arthritis_rule,
        anti_dsdna_assay=data.anti_dsdna_assay,
        selena_sledai=total,
        sledai_2k_min=None if complete else tally.total,
        sledai_2k_max=None if complete else tally.total + tally.unknown_total,
        clinical_sledai_min=None if complete else clinical,
        clinical_sledai_max=None if complete else clinical + tally.unknown_total - tally.unknown_serology,
    )


def sledai_total(active: Mapping[str, bool] | list[str] | tuple[str, ...]) -> int:
    """Full SLEDAI-2K of a set of active descriptor keys (helper for LLDAS/DORIS)."""
    keys = [k for k, v in active.items() if v] if isinstance(active, Mapping) else list(active)
    return sum(WEIGHTS[k] for k in set(keys))


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="sledai_2k",
        input_model=SledaiInput,
        scorer=score_sledai_2k,
        version=VERSION,
        source=SOURCE,
        summary="SLE disease activity (24 descriptors, 0-105) with clinical SLEDAI; 10/30-day window; "
        "SELENA-SLEDAI variant",
        result_type=SledaiResult,
    ),
)
