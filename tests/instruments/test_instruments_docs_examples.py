"""Round-trip every example of every docs/instruments/*.md page through ``lupuscell score``.

Format (stated in docs/instruments/index.md): a fenced block opened with
```` ```json title="input: NAME" ```` holds the input JSON of instrument NAME; the next block
opened with ```` ```json title="output" ```` holds a subset of the expected ``--json`` output.
Every key of the expected object must be in the actual output with an equal value (objects
compared key by key recursively, lists exactly, floats to 1e-9 relative). A block opened with
```` ```json title="error: NAME" ```` is an input that must be rejected with exit code 2; the
next ```` ```text title="stderr" ```` block lists substrings the message must contain.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.instruments.catalog import CATALOG

DOCS = Path(__file__).resolve().parents[2] / "docs" / "instruments"
FENCE = re.compile(r'^```(\w+)\s+title="([^"]+)"\s*\n(.*?)^```\s*$', re.MULTILINE | re.DOTALL)


def _examples() -> list[Any]:
    cases = []
    for page in sorted(DOCS.glob("*.md")):
        blocks = [(m.group(2).strip(), m.group(3)) for m in FENCE.finditer(page.read_text(encoding="utf-8"))]
        for i, (title, body) in enumerate(blocks):
            kind, _, name = title.partition(":")
            if kind not in ("input", "error"):
                continue
            expect = "output" if kind == "input" else "stderr"
            follow = next((b for t, b in blocks[i + 1 :] if t == expect), None)
            cases.append(pytest.param(kind, name.strip(), body, follow, id=f"{page.stem}-{i}"))
    return cases


def _matches(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += _matches(value, actual[key], f"{path}.{key}")
        return problems
    mismatch = [f"{path}: {expected!r} != {actual!r}"]
    if isinstance(expected, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return [] if math.isclose(expected, actual, rel_tol=1e-9) else mismatch
    return [] if expected == actual and type(expected) is type(actual) else mismatch


EXAMPLES = _examples()


def test_docs_have_examples_for_every_sle_page() -> None:
    pages = {p.stem for p in DOCS.glob("*.md")}
    names = {param.values[1] for param in EXAMPLES}
    for name in (
        "sledai_2k",
        "eular_acr_2019_sle",
        "slicc_acr_sdi",
        "sri_4",
        "lldas",
        "doris_2021",
        "renal_response_kdigo_2024",
        "renal_response_eular_2019",
    ):
        assert name in pages and name in names, name


def test_index_lists_every_catalog_instrument() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in CATALOG:
        assert f"[`{name}`]({name}.md)" in index, name


@pytest.mark.parametrize(("kind", "name", "body", "follow"), EXAMPLES)
def test_docs_example_round_trips(kind: str, name: str, body: str, follow: str | None) -> None:
    assert name in CATALOG, f"example names unknown instrument {name!r}"
    assert follow is not None, "example has no following output/stderr block"
    result = CliRunner().invoke(app, ["score", name, "--input", "-", "--json"], input=body)
    if kind == "input":
        assert result.exit_code == 0, result.output
        problems = _matches(json.loads(follow), json.loads(result.stdout))
        assert not problems, problems
    else:
        assert result.exit_code == 2
        for needle in (line.strip() for line in follow.splitlines() if line.strip()):
            assert needle in result.stderr, (needle, result.stderr)
