"""API fuzzing with schemathesis against the OpenAPI schema, on a bounded number of examples per
operation: no 5xx, every response conforms to the declared status codes, content types and
schemas. Runs on SQLite (the API code is the same on both engines; the engine-specific paths are
covered by the other API tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_helpers import seed  # type: ignore[import-not-found]

from lupuscell.registry import accounts, migrate
from lupuscell.registry.session import make_engine
from lupuscell.web import Settings, create_app, security

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
_STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "registry.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    seed(engine)
    admin = accounts.get_by_username(engine, "admin")
    assert admin is not None
    token, digest, prefix = security.new_api_token()
    accounts.create_token(engine, admin[0].id, "fuzz", digest, prefix)
    _STATE["headers"] = {"Authorization": f"Bearer {token}"}
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="fuzz-" + "z" * 40))
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    app.state.lc.engine.dispose()
    engine.dispose()


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(headers=_STATE["headers"], checks=CHECKS)
