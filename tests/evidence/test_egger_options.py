"""egger_test rejects an unknown ``model`` instead of silently running the meta-regression."""

from __future__ import annotations

import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import egger_test


def test_unknown_egger_model_is_a_validation_error_naming_it() -> None:
    counts = [(4, 9), (23, 83), (9, 12), (2, 5), (7, 20)]
    studies = [{"id": str(i), "events": x, "total": n} for i, (x, n) in enumerate(counts)]
    es = escalc("PLO", studies)
    with pytest.raises(ValidationError) as err:
        egger_test(es, model="wls")  # type: ignore[arg-type]
    assert err.value.problems[0].field == "model"
    assert "'rma', 'lm'" in str(err.value)
    assert egger_test(es, model="lm").model == "lm"
