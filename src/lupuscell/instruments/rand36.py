"""RAND 36-Item Health Survey 1.0: eight health scales (0-100) and a patient global assessment.

Sources
-------
* Hays RD, Sherbourne CD, Mazel RM. The RAND 36-Item Health Survey 1.0. Health Econ
  1993;2(3):217-227, doi:10.1002/hec.4730020305.
* RAND Health Care. 36-Item Short Form Survey (SF-36) scoring instructions (RAND 36-Item
  Health Survey 1.0): Table 1 (recoding of every item), Table 2 (the items of each scale) and the
  rule for missing items.
* Ware JE, Sherbourne CD. The MOS 36-item short-form health survey (SF-36). I. Conceptual
  framework and item selection. Med Care 1992;30(6):473-483 (the items).

Scoring (RAND's two steps)
--------------------------
1. Each answer (1, 2, ... in the order printed on the form) is recoded to 0-100 by RAND
   Table 1, so that a higher value is always a better health state (:data:`RESPONSE_SETS`).
2. Each scale is the mean of the recoded items of the scale that were answered (RAND Table 2,
   :data:`SCALE_ITEMS`). Item 2 (health now compared with one year ago) is in no scale; it is
   reported on its own as ``health_change``.

Missing items
-------------
RAND: items left blank are not taken into account; a scale score is the average of the items
of the scale that the respondent answered. RAND's instructions set no minimum number of
answered items, so by default (``missing_item_rule="rand"``) a scale with at least one
answered item is scored and only a scale with none is null. ``"half_of_items"`` applies the
stricter half-scale rule of the SF-36 manual (a scale is scored only when at least half of its
items are answered), for programmes that follow it; the rule used is echoed in the result.
This is the RAND scoring, not the SF-36 norm-based scoring (QualityMetric), which differs for
pain and general health and is licensed separately; physical and mental component summaries
are not part of the RAND 1.0 scoring and are not computed.

Patient global assessment
-------------------------
``patient_global_assessment`` is the patient's rating of how their lupus is affecting them
overall, recorded beside the survey (not part of RAND scoring): a 0-10 numeric rating scale
(``"nrs_0_10"``, default) or a 0-100 mm visual analogue scale (``"vas_0_100_mm"``), 0 = very
well, the top of the scale = very poorly. It is validated against the scale given and echoed.

Licence
-------
RAND lets anyone use the RAND 36-Item Health Survey 1.0 without written permission; changes
must be identified as such, and printed copies carry the credit line "developed at RAND as part
of the Medical Outcomes Study". docs/instruments/rand36.md names the lupus-specific and other
instruments that need a licence (none of them is built).

Why hand-written: the scoring is a table lookup and a mean per scale. The Python SF-36 packages
implement the licensed norm-based SF-36 algorithm, not RAND's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, ValidationInfo, create_model, field_validator

from lupuscell.instruments._ranges import TypedInput
from lupuscell.instruments.base import InstrumentResult, InstrumentSpec, Item, validate_input

VERSION = "rand36_1.0"
SOURCE = (
    "Hays RD, Sherbourne CD, Mazel RM. Health Econ 1993;2(3):217-227, doi:10.1002/hec.4730020305; "
    "RAND 36-Item Health Survey 1.0 scoring instructions (Tables 1 and 2)"
)

Scale = Literal[
    "physical_functioning",
    "role_physical",
    "role_emotional",
    "energy_fatigue",
    "emotional_wellbeing",
    "social_functioning",
    "pain",
    "general_health",
]
SCALES: tuple[Scale, ...] = get_args(Scale)
MissingItemRule = Literal["rand", "half_of_items"]
PgaScale = Literal["nrs_0_10", "vas_0_100_mm"]
PGA_MAXIMUM: Mapping[PgaScale, float] = MappingProxyType({"nrs_0_10": 10.0, "vas_0_100_mm": 100.0})


@dataclass(frozen=True)
class ResponseSet:
    """The answers of a question, in the order printed (answer 1 first), and their 0-100 values."""

    labels: tuple[str, ...]
    recoded: tuple[int, ...]


_TIME_6 = (
    "all of the time",
    "most of the time",
    "a good bit of the time",
    "some of the time",
    "a little of the time",
    "none of the time",
)
_TRUE_FALSE = ("definitely true", "mostly true", "don't know", "mostly false", "definitely false")

#: RAND Table 1: answer -> recoded value, per response set (the answer number is the position).
RESPONSE_SETS: Mapping[str, ResponseSet] = MappingProxyType(
    {
        "excellent_to_poor": ResponseSet(
            ("excellent", "very good", "good", "fair", "poor"), (100, 75, 50, 25, 0)
        ),
        "health_change": ResponseSet(
            (
                "much better now than one year ago",
                "somewhat better now than one year ago",
                "about the same as one year ago",
                "somewhat worse now than one year ago",
                "much worse now than one year ago",
            ),
            (100, 75, 50, 25, 0),
        ),
        "limited": ResponseSet(
            ("yes, limited a lot", "yes, limited a little", "no, not limited at all"), (0, 50, 100)
        ),
        "yes_no": ResponseSet(("yes", "no"), (0, 100)),
        "extent": ResponseSet(
            ("not at all", "slightly", "moderately", "quite a bit", "extremely"), (100, 75, 50, 25, 0)
        ),
        "pain_severity": ResponseSet(
            ("none", "very mild", "mild", "moderate", "severe", "very severe"), (100, 80, 60, 40, 20, 0)
        ),
        "pain_interference": ResponseSet(
            ("not at all", "a little bit", "moderately", "quite a bit", "extremely"), (100, 75, 50, 25, 0)
        ),
        "time_positive": ResponseSet(_TIME_6, (100, 80, 60, 40, 20, 0)),
        "time_negative": ResponseSet(_TIME_6, (0, 20, 40, 60, 80, 100)),
        "time_social": ResponseSet(
            (
                "all of the time",
                "most of the time",
                "some of the time",
                "a little of the time",
                "none of the time",
            ),
            (0, 25, 50, 75, 100),
        ),
        "true_false_negative": ResponseSet(_TRUE_FALSE, (0, 25, 50, 75, 100)),
        "true_false_positive": ResponseSet(_TRUE_FALSE, (100, 75, 50, 25, 0)),
    }
)


@dataclass(frozen=True)
class Question:
    """One item of the survey: its number, scale (None for item 2), response set and wording."""

    number: int
    scale: Scale | None
    answers: str
    text: str

    @property
    def key(self) -> str:
        return f"q{self.number}"


_PHYSICAL = "because of your physical health, in the past 4 weeks"
_EMOTIONAL = "because of emotional problems, in the past 4 weeks"

#: The 36 items (RAND 36-Item Health Survey 1.0), with the scale each belongs to (RAND Table 2).
QUESTIONS: tuple[Question, ...] = (
    Question(1, "general_health", "excellent_to_poor", "in general, would you say your health is"),
    Question(2, None, "health_change", "compared to one year ago, your health in general now"),
    Question(3, "physical_functioning", "limited", "vigorous activities (running, lifting heavy objects)"),
    Question(4, "physical_functioning", "limited", "moderate activities (moving a table, vacuuming)"),
    Question(5, "physical_functioning", "limited", "lifting or carrying groceries"),
    Question(6, "physical_functioning", "limited", "climbing several flights of stairs"),
    Question(7, "physical_functioning", "limited", "climbing one flight of stairs"),
    Question(8, "physical_functioning", "limited", "bending, kneeling, or stooping"),
    Question(9, "physical_functioning", "limited", "walking more than a mile"),
    Question(10, "physical_functioning", "limited", "walking several blocks"),
    Question(11, "physical_functioning", "limited", "walking one block"),
    Question(12, "physical_functioning", "limited", "bathing or dressing yourself"),
    Question(13, "role_physical", "yes_no", f"cut down time on work or other activities {_PHYSICAL}"),
    Question(14, "role_physical", "yes_no", f"accomplished less than you would like {_PHYSICAL}"),
    Question(15, "role_physical", "yes_no", f"limited in the kind of work or activities {_PHYSICAL}"),
    Question(16, "role_physical", "yes_no", f"difficulty performing work or activities {_PHYSICAL}"),
    Question(17, "role_emotional", "yes_no", f"cut down time on work or other activities {_EMOTIONAL}"),
    Question(18, "role_emotional", "yes_no", f"accomplished less than you would like {_EMOTIONAL}"),
    Question(19, "role_emotional", "yes_no", f"did work or activities less carefully {_EMOTIONAL}"),
    Question(20, "social_functioning", "extent", "health problems interfered with normal social activities"),
    Question(21, "pain", "pain_severity", "how much bodily pain in the past 4 weeks"),
    Question(22, "pain", "pain_interference", "pain interfered with your normal work"),
    Question(23, "energy_fatigue", "time_positive", "did you feel full of pep?"),
    Question(24, "emotional_wellbeing", "time_negative", "have you been a very nervous person?"),
    Question(25, "emotional_wellbeing", "time_negative", "so down in the dumps nothing could cheer you up?"),
    Question(26, "emotional_wellbeing", "time_positive", "have you felt calm and peaceful?"),
    Question(27, "energy_fatigue", "time_positive", "did you have a lot of energy?"),
    Question(28, "emotional_wellbeing", "time_negative", "have you felt downhearted and blue?"),
    Question(29, "energy_fatigue", "time_negative", "did you feel worn out?"),
    Question(30, "emotional_wellbeing", "time_positive", "have you been a happy person?"),
    Question(31, "energy_fatigue", "time_negative", "did you feel tired?"),
    Question(32, "social_functioning", "time_social", "how much of the time health interfered with social life"),
    Question(33, "general_health", "true_false_negative", "I seem to get sick a little easier than others"),
    Question(34, "general_health", "true_false_positive", "I am as healthy as anybody I know"),
    Question(35, "general_health", "true_false_negative", "I expect my health to get worse"),
    Question(36, "general_health", "true_false_positive", "my health is excellent"),
)
QUESTION_KEYS: tuple[str, ...] = tuple(q.key for q in QUESTIONS)
#: RAND Table 2, derived from :data:`QUESTIONS`: scale -> its item numbers.
SCALE_ITEMS: Mapping[Scale, tuple[int, ...]] = MappingProxyType(
    {scale: tuple(q.number for q in QUESTIONS if q.scale == scale) for scale in SCALES}
)


def recode(question: Question, answer: int) -> int:
    """RAND Table 1: the 0-100 value of ``answer`` (1 = the first printed answer) to ``question``."""
    return RESPONSE_SETS[question.answers].recoded[answer - 1]


def _answer_check(question: Question) -> Callable[[int | None], int | None]:
    labels = RESPONSE_SETS[question.answers].labels

    def check(answer: int | None) -> int | None:
        if answer is not None and not 1 <= answer <= len(labels):
            choices = "; ".join(f"{i} = {label}" for i, label in enumerate(labels, start=1))
            raise ValueError(
                f"answer {answer} is not one of the {len(labels)} answers of {question.key} ({choices})"
            )
        return answer

    return check


def _answer_field(question: Question) -> Any:
    labels = RESPONSE_SETS[question.answers].labels
    return (
        Annotated[int | None, AfterValidator(_answer_check(question))],
        Field(
            default=None,
            description=f"{question.text}: 1-{len(labels)} ({', '.join(labels)}); left out = not answered.",
            json_schema_extra={"minimum": 1, "maximum": len(labels)},
        ),
    )


if TYPE_CHECKING:

    class Rand36Responses(TypedInput):
        """The answers q1..q36 (each an integer, or left out when not answered)."""

        def __getattr__(self, name: str) -> int | None: ...

else:
    Rand36Responses = create_model(
        "Rand36Responses",
        __base__=TypedInput,
        __doc__="The answers q1..q36: 1 = the first answer printed on the form; left out = not answered.",
        **{q.key: _answer_field(q) for q in QUESTIONS},
    )


class Rand36Input(TypedInput):
    """Input of ``rand36``: the answers and, optionally, a patient global assessment."""

    responses: Rand36Responses = Field(default_factory=Rand36Responses)
    """Answers q1..q36 by item number (1 = first printed answer); unanswered items left out."""
    missing_item_rule: MissingItemRule = "rand"
    """rand: a scale is the mean of its answered items (RAND); half_of_items: needs half answered."""
    patient_global_assessment_scale: PgaScale = "nrs_0_10"
    """Scale of the patient global assessment: 0-10 rating (default) or 0-100 mm VAS."""
    patient_global_assessment: float | None = None
    """Patient's overall rating, 0 = very well: 0-10 (nrs_0_10) or 0-100 (vas_0_100_mm); not part
    of RAND scoring, echoed in the result."""

    @field_validator("patient_global_assessment")
    @classmethod
    def _within_scale(cls, value: float | None, info: ValidationInfo) -> float | None:
        scale = info.data.get("patient_global_assessment_scale", "nrs_0_10")
        top = PGA_MAXIMUM.get(scale, PGA_MAXIMUM["nrs_0_10"])
        if value is not None and not (math.isfinite(value) and 0 <= value <= top):
            raise ValueError(f"{value:g} is outside the range [0, {top:g}] of the {scale} scale")
        return value


@dataclass(frozen=True, kw_only=True)
class Rand36Result(InstrumentResult):
    """Result of ``rand36``: the eight scale scores (0-100, higher = better health; null when
    the scale cannot be scored), item 2 on its own, the answered items per scale and the patient
    global assessment."""

    physical_functioning: float | None = None
    role_physical: float | None = None
    role_emotional: float | None = None
    energy_fatigue: float | None = None
    emotional_wellbeing: float | None = None
    social_functioning: float | None = None
    pain: float | None = None
    general_health: float | None = None
    health_change: float | None = None
    items_answered: Mapping[str, int] = field(default_factory=dict)
    missing_item_rule: MissingItemRule = "rand"
    patient_global_assessment: float | None = None
    patient_global_assessment_scale: PgaScale = "nrs_0_10"


def _question_item(question: Question, answer: int | None) -> Item:
    where = question.scale or "health change (in no scale)"
    if answer is None:
        return Item(question.key, None, f"{where}: not answered, left out")
    label = RESPONSE_SETS[question.answers].labels[answer - 1]
    value = recode(question, answer)
    return Item(question.key, value, f"{where}: answer {answer} '{label}' -> {value}")


def _scale_score(scale: Scale, values: list[int], rule: MissingItemRule) -> tuple[float | None, Item]:
    """Mean of the answered items of ``scale`` (RAND), or None when the rule says not scorable."""
    n_items = len(SCALE_ITEMS[scale])
    items = ", ".join(f"q{n}" for n in SCALE_ITEMS[scale])
    needed = 1 if rule == "rand" else -(-n_items // 2)
    if len(values) < needed:
        why = (
            f"{len(values)} of {n_items} answered, {needed} needed ({rule})" if values else "no item answered"
        )
        return None, Item(scale, None, f"not scored: {why} ({items})")
    score = sum(values) / len(values)
    return score, Item(scale, score, f"mean of the {len(values)} of {n_items} items answered ({items})")


def score_rand36(inp: Rand36Input | Mapping[str, Any]) -> Rand36Result:
    """Score the RAND 36-Item Health Survey 1.0: eight scales 0-100 (RAND Tables 1 and 2).

    References
    ----------
    Hays RD, Sherbourne CD, Mazel RM. Health Econ 1993;2(3):217-227. RAND 36-Item Health Survey
    1.0 scoring instructions.
    """
    data = validate_input(Rand36Input, inp)
    answers: dict[str, int | None] = data.responses.model_dump()
    recoded: dict[Scale, list[int]] = {scale: [] for scale in SCALES}
    for question in QUESTIONS:
        answer = answers[question.key]
        if answer is not None and question.scale is not None:
            recoded[question.scale].append(recode(question, answer))
    scores: dict[str, float | None] = {}
    scale_items: list[Item] = []
    for scale in SCALES:
        scores[scale], item = _scale_score(scale, recoded[scale], data.missing_item_rule)
        scale_items.append(item)
    change = answers["q2"]
    missing = tuple(f"responses.{key}" for key in QUESTION_KEYS if answers[key] is None)
    return Rand36Result(
        instrument="rand36",
        version=VERSION,
        items=(*scale_items, *(_question_item(q, answers[q.key]) for q in QUESTIONS)),
        complete=not missing,
        missing=missing,
        physical_functioning=scores["physical_functioning"],
        role_physical=scores["role_physical"],
        role_emotional=scores["role_emotional"],
        energy_fatigue=scores["energy_fatigue"],
        emotional_wellbeing=scores["emotional_wellbeing"],
        social_functioning=scores["social_functioning"],
        pain=scores["pain"],
        general_health=scores["general_health"],
        health_change=None if change is None else float(recode(QUESTIONS[1], change)),
        items_answered={scale: len(recoded[scale]) for scale in SCALES},
        missing_item_rule=data.missing_item_rule,
        patient_global_assessment=data.patient_global_assessment,
        patient_global_assessment_scale=data.patient_global_assessment_scale,
    )


def row_input(row: Mapping[str, Any]) -> dict[str, Any]:
    """One table row (columns q1..q36 and the option columns) as the ``rand36`` input.

    Answers read from a table with empty cells arrive as floats (``2.0``); whole numbers become
    integers, anything else is left for validation to reject.
    """
    responses = {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key, value in row.items()
        if key in QUESTION_KEYS
    }
    options = {k: v for k, v in row.items() if k in Rand36Input.model_fields and k != "responses"}
    return {"responses": responses, **options}


SPECS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        name="rand36",
        input_model=Rand36Input,
        scorer=score_rand36,
        version=VERSION,
        source=SOURCE,
        summary="RAND 36-Item Health Survey 1.0: eight scales 0-100 (RAND scoring) and patient global",
        result_type=Rand36Result,
        row_input=row_input,
    ),
)
