"""The typed result classes print exactly the JSON the instruments printed before them.

``fixtures/results_before_typed_results.json.gz`` was captured from the code before the results
became typed classes (see ``fixtures/capture_results.py``): every docs example and a seeded
set of generated inputs per instrument, with the ``to_dict()`` of each result. Here every
case is scored again, by calling the scorer with the plain dict (as Python users do) and, for
the docs examples, through ``lupuscell score NAME --json``; the JSON *text* must be identical:
same keys in the same order, same values, same types.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.instruments.catalog import CATALOG

FIXTURE = Path(__file__).parent / "fixtures" / "results_before_typed_results.json.gz"


def _cases() -> dict[str, list[dict[str, Any]]]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_name[record["instrument"]].append(record)
    return dict(by_name)


CASES = _cases()


def _text(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, ensure_ascii=False, **kwargs)


def test_fixture_covers_every_instrument_that_existed() -> None:
    assert len(CASES) == 16 and all(len(cases) >= 60 for cases in CASES.values())
    assert set(CASES) <= set(CATALOG)


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_dict_is_unchanged(name: str) -> None:
    scorer = CATALOG[name].scorer
    changed = [
        case["source"]
        for case in CASES[name]
        if _text(scorer(case["input"]).to_dict()) != _text(case["output"])
    ]
    assert not changed, f"{len(changed)} of {len(CASES[name])} outputs changed: {changed[:5]}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_json_is_unchanged(name: str) -> None:
    runner = CliRunner()
    for case in (c for c in CASES[name] if c["source"].startswith("docs:")):
        result = runner.invoke(app, ["score", name, "--input", "-", "--json"], input=_text(case["input"]))
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == _text(case["output"], indent=2), case["source"]
