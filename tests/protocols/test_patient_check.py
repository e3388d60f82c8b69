"""The one path from a registry timeline to an eligibility result (CLI and web app share it)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_eligibility_registry import _timeline  # type: ignore[import-not-found]
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.errors import ValidationError
from lupuscell.protocols.catalog import load_bundle
from lupuscell.protocols.patient_check import (
    NoIndexDateError,
    check_timeline,
    shipped_concept_sets,
    trial_record,
)


def test_the_default_index_date_is_the_first_treatment_step() -> None:
    result = check_timeline(_timeline(), load_bundle("cart19_refractory_sle"))
    assert result.index_date == dt.date(2024, 1, 10)
    assert result.index_date_rule.startswith("first treatment step of the first course (mobilisation")


def test_a_given_date_is_used_with_its_rule() -> None:
    result = check_timeline(
        _timeline(), load_bundle("cart19_refractory_sle"), dt.date(2023, 12, 21), "chosen"
    )
    assert (result.index_date, result.index_date_rule) == (dt.date(2023, 12, 21), "chosen")
    egfr = next(c for c in result.criteria if c.id == "egfr")
    assert [(e.date, e.value, e.unit) for e in egfr.evidence] == [
        (dt.date(2023, 12, 20), 74.0, "mL/min/1.73m2")
    ]


def test_no_course_and_no_date_is_refused_naming_index_date() -> None:
    timeline = {**_timeline(), "courses": []}
    with pytest.raises(NoIndexDateError) as caught:
        check_timeline(timeline, load_bundle("hsct_refractory_sle"))
    assert isinstance(caught.value, ValidationError)
    assert [(p.record, p.field) for p in caught.value.problems] == [("patient KI-0001", "index_date")]
    assert "no therapy course recorded" in caught.value.problems[0].message


def test_the_trial_record_matches_prior_therapies_to_every_shipped_set() -> None:
    record = trial_record(_timeline(), dt.date(2025, 6, 1))
    assert record.index_date == dt.date(2025, 6, 1) and record.index_date_rule == "the search date"
    names = {d.concept_set for d in record.drugs}
    assert {"mycophenolate", "cyclophosphamide", "hydroxychloroquine"} <= names <= set(shipped_concept_sets())


def test_the_cli_says_which_option_gives_the_missing_date(tmp_path) -> None:
    from lupuscell.registry.repository import Registry
    from lupuscell.registry.session import make_engine

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    engine = make_engine(url)
    reg = Registry(engine)
    reg.create("site", {"code": "KI", "name": "Site"}, actor="t")
    reg.create("patient", {"code": "KI-001", "site_code": "KI", "sex": "F", "birth_year": 1990}, actor="t")
    engine.dispose()
    args = ["eligibility", "--protocol", "hsct_refractory_sle", "--patient", "KI-001", "--db", url]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert (
        "patient KI-001: no therapy course recorded: pass the screening date (--index-date YYYY-MM-DD)"
        in (" ".join(refused.stderr.split()))
    )
    given = runner.invoke(app, [*args, "--index-date", "2024-02-01", "--json"])
    assert given.exit_code == 0 and '"index_date_rule": "given with --index-date"' in given.stdout
