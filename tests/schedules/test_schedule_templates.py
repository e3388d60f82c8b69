"""Shipped schedule templates: their time points and windows are the cited sources', every visit
cites a source, and a bad template is refused naming the field."""

from __future__ import annotations

import pytest
from schedule_sample import HEADER  # type: ignore[import-not-found]

from lupuscell.errors import ValidationError
from lupuscell.protocols import shipped_protocol_names
from lupuscell.schedules import choose_template, load_template, parse_template, shipped_template_names


def _days(name: str) -> dict[str, tuple[int, int, int]]:
    """visit id -> (first target day, window start day, window end day) from the anchor."""
    return {
        v.id: (v.day, v.day - v.window.before, v.day + v.window.after) for v in load_template(name).visits
    }


def test_every_protocol_and_both_registries_have_a_template() -> None:
    names = set(shipped_template_names())
    assert {"ebmt", "cibmtr"} | set(shipped_protocol_names()) == names
    for protocol in shipped_protocol_names():
        assert load_template(protocol).protocol == protocol
        assert choose_template(protocol) == protocol
    assert choose_template("HSCT-CY-RATG") == choose_template(None) == "ebmt"


def test_cibmtr_time_points_and_contact_windows() -> None:
    # Forms Instruction Manual: day 85-115, day 150-210, 1 year day 365-425; 100 d, 6 mo, yearly to 6 y, then biennially
    days = _days("cibmtr")
    assert days["day100"] == (100, 85, 115)
    assert days["month6"] == (180, 150, 210)
    assert days["year1"] == (365, 365, 425)
    template = load_template("cibmtr")
    annual, biennial = template.visit("annual"), template.visit("biennial")
    assert annual.repeat is not None and (annual.day, annual.repeat.every, annual.repeat.until) == (730, 365, 2190)
    assert biennial.repeat is not None and (biennial.day, biennial.repeat.every) == (2920, 730)


def test_ebmt_day_100_then_yearly() -> None:
    template = load_template("ebmt")
    assert [v.id for v in template.visits] == ["day100", "annual"]
    annual = template.visit("annual")
    assert template.visit("day100").day == 100 and annual.day == 365
    assert annual.repeat is not None and annual.repeat.every == 365 and annual.repeat.until is None


@pytest.mark.parametrize("name", shipped_template_names())
def test_every_visit_cites_a_source_of_its_template(name: str) -> None:
    template = load_template(name)
    ids = {s.id for s in template.sources}
    for visit in template.visits:
        assert any(i in visit.source for i in ids) or "programme convention" in visit.source, visit.id


def test_protocol_assessments_anchor_on_the_protocols_first_step() -> None:
    assert load_template("hsct_refractory_sle").visit("baseline").anchor == "course:mobilisation_date"
    assert load_template("cart19_refractory_sle").visit("baseline").anchor == "course:conditioning_start_date"
    assert _days("cart19_refractory_sle")["month3"][0] == 91  # Mackensen 2022: remission at 3 months
    assert _days("ucmsc_lupus_nephritis")["month6"][0] == 182  # EULAR/ERA-EDTA: partial response by 6 months


@pytest.mark.parametrize(
    ("visits", "field", "reason"),
    [
        ("  - {id: a, label: A, day: 5, window: {before: 1, after: 1}, anchor: moon, source: src}", "visits.0.anchor", "is not an anchor"),  # noqa: E501
        ("  - {id: a, label: A, day: 5, window: {before: 1, after: 1}, source: src}\n"
         "  - {id: a, label: B, day: 9, window: {before: 1, after: 1}, source: src}", "visits.1.id", "used twice"),
        ("  - {id: a, label: A, day: 5, window: {before: -1, after: 1}, source: src}", "visits.0.window.before", "greater than"),  # noqa: E501
        ("  - {id: a, label: A, day: 5, window: {before: 1, after: 1}, source: a guess}", "visits.0.source", "cites none"),  # noqa: E501
        ("  - {id: a, label: A, day: 5, window: {before: 1, after: 1}, source: src, repeat: {every: 30}}\n"
         "  - {id: b, label: B, day: 5, window: {before: 1, after: 1}, anchor: 'visit:a', source: src}", "visits.1.anchor", "repeating"),  # noqa: E501
        ("  - {id: a, label: A, day: 50, window: {before: 1, after: 1}, source: src, repeat: {every: 30, until: 20}}", "visits.0.repeat.until", "before day 50"),  # noqa: E501
    ],
)  # fmt: skip
def test_a_bad_template_is_refused_naming_the_field(visits: str, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template(HEADER + visits, "t.yaml")
    problem = caught.value.problems[0]
    assert problem.record == "t.yaml" and problem.field == field and reason in problem.message


def test_an_unknown_template_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ValidationError, match="unknown schedule 'moon'; shipped: cart19_refractory_sle, cibmtr"):
        load_template("moon")
