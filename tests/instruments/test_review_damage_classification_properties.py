"""Review: property tests for SDI and EULAR/ACR 2019 (none existed).

* SDI: ticking one more item (or raising a count) never lowers the total; domain maxima and the
  ESRD replacement keep it within 0-47; the total equals the sum of the domain scores.
* EULAR/ACR 2019: ticking one more criterion never lowers the total or un-classifies; the total
  never exceeds 51 and is the sum of the clinical and immunologic scores.
"""

from __future__ import annotations

from typing import Any, get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from lupuscell.instruments.eular_acr_2019 import Criterion, score_eular_acr_2019
from lupuscell.instruments.sdi import COUNT_ITEMS, ITEMS, score_sdi

CRITERIA: tuple[str, ...] = get_args(Criterion)


def _sdi_value(item: str) -> st.SearchStrategy[Any]:
    return st.integers(0, 4) if item in COUNT_ITEMS else st.booleans()


sdi_items = st.lists(st.sampled_from(ITEMS), max_size=15, unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({k: _sdi_value(k) for k in keys})
)


@settings(max_examples=200, deadline=None)
@given(sdi_items, st.sampled_from(ITEMS))
def test_sdi_adding_damage_never_lowers_the_total(items: dict[str, Any], extra: str) -> None:
    before = score_sdi({"items": items})
    more = dict(items)
    more[extra] = (int(items.get(extra, 0)) + 1) if extra in COUNT_ITEMS else True
    after = score_sdi({"items": more})
    assert 0 <= before["sdi_total"] <= after["sdi_total"] <= 47
    assert after["sdi_total"] == sum(after["domain_scores"].values())


criteria_sets = st.dictionaries(st.sampled_from(CRITERIA), st.booleans())


@settings(max_examples=200, deadline=None)
@given(criteria_sets, st.sampled_from(CRITERIA))
def test_eular_adding_a_criterion_never_lowers_or_unclassifies(ticks: dict[str, bool], extra: str) -> None:
    before = score_eular_acr_2019({"ana_ge_1_80_ever": True, "criteria": ticks})
    after = score_eular_acr_2019({"ana_ge_1_80_ever": True, "criteria": {**ticks, extra: True}})
    assert 0 <= before["total_score"] <= after["total_score"] <= 51
    assert after["total_score"] == after["clinical_score"] + after["immunologic_score"]
    assert after["classified_sle"] >= before["classified_sle"]
    assert after["classified_sle"] == (after["total_score"] >= 10 and after["clinical_score"] > 0)
