"""REDCap API import through PyCap against recorded API responses (no network).

The responses were hand-assembled from REDCap's documented API formats (API help pages of
"Export Metadata (Data Dictionary)" and "Export Records": CSV with the metadata keys
``field_name, form_name, ...`` and raw records with ``redcap_event_name``,
``redcap_repeat_instrument``, ``redcap_repeat_instance``), since no REDCap server is reachable
from the test machines: the metadata is the example project's dictionary in the API's column
names, and the records are the example longitudinal export. PyCap itself runs unchanged; only
its HTTP session's ``post`` is replaced.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import redcap.request
import requests
from interop_helpers import ACTOR, tables  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.interop.redcap import import_redcap_api
from lupuscell.interop.redcap_project import DICTIONARY_HEADERS

EXAMPLES = Path(__file__).parents[2] / "docs" / "interop" / "examples"
TOKEN = "0123456789ABCDEF0123456789ABCDEF"
URL = "https://redcap.example.org/api/"


def _metadata() -> list[dict[str, str]]:
    rows = csv.DictReader((EXAMPLES / "sle_cell_therapy_dictionary.csv").open(encoding="utf-8"))
    return [{DICTIONARY_HEADERS[k]: v for k, v in row.items()} for row in rows]


def _metadata_csv() -> str:
    rows = _metadata()
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _response(text: str, status: int = 200, kind: str = "text/csv") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = text.encode("utf-8")
    response.headers["Content-Type"] = f"{kind}; charset=utf-8"
    response.encoding = "utf-8"
    return response


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """PyCap's HTTP session answers from the recorded responses; returns the requests made."""
    calls: list[dict[str, Any]] = []
    answers = {
        "metadata": _metadata_csv(),
        "record": (EXAMPLES / "sle_cell_therapy_records_longitudinal.csv").read_text(encoding="utf-8"),
    }

    def post(url: str, data: dict[str, Any], **kwargs: Any) -> requests.Response:
        calls.append({"url": url, **data})
        if data.get("token") != TOKEN:  # REDCap's answer to a bad token, in the requested format
            if data.get("format") == "json":
                return _response(
                    json.dumps({"error": "You do not have permissions to use the API"}),
                    403,
                    "application/json",
                )
            return _response("ERROR: You do not have permissions to use the API", 403)
        if data.get("format") == "json":  # PyCap reads the metadata as JSON to find the record id field
            return _response(json.dumps(_metadata()), kind="application/json")
        return _response(answers[data["content"]])

    monkeypatch.setattr(redcap.request._session, "post", post)
    return calls


def test_api_import_reads_dictionary_and_raw_records(
    engine: Engine, recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_REDCAP_TOKEN", TOKEN)
    report = import_redcap_api(
        engine,
        url=URL,
        token_env="SITE_REDCAP_TOKEN",
        mapping=EXAMPLES / "sle_cell_therapy_mapping.yaml",
        actor=ACTOR,
        reason="API test",
    )
    assert report.counts["patients"] == 3 and report.counts["lab_results"] == 31
    assert report.source == f"redcap-api:{URL}"
    assert {c["content"] for c in recorded} == {"metadata", "record"}
    record_call = next(c for c in recorded if c["content"] == "record")
    assert record_call["format"] == "csv" and record_call["rawOrLabel"] == "raw"
    assert {p["code"] for p in tables(engine)["patients"]} == {"HD-101", "HD-102", "HD-103"}


def test_refused_token_is_reported_without_the_token(
    engine: Engine, recorded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_REDCAP_TOKEN", "F" * 32)
    with pytest.raises(ValidationError) as info:
        import_redcap_api(
            engine,
            url=URL,
            token_env="SITE_REDCAP_TOKEN",
            mapping=EXAMPLES / "sle_cell_therapy_mapping.yaml",
            actor=ACTOR,
            reason="r",
        )
    message = str(info.value)
    assert "the REDCap API request failed" in message and "permissions" in message
    assert "F" * 32 not in message


def test_missing_token_variable_is_named(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(ValidationError) as info:
        import_redcap_api(
            engine,
            url=URL,
            token_env="NO_SUCH_TOKEN_VAR",
            mapping=EXAMPLES / "sle_cell_therapy_mapping.yaml",
            actor=ACTOR,
            reason="r",
        )
    assert info.value.problems[0].field == "NO_SUCH_TOKEN_VAR"
