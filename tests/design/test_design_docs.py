"""Round trip of docs/design/*.md: every ``$ lupuscell ...`` line runs, and the JSON shown after
it matches the real output (numbers to the precision printed in the docs)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "design"
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str, str | None]]:
    out = []
    for page in sorted(DOCS.glob("*.md")):
        blocks = FENCE.findall(page.read_text(encoding="utf-8"))
        for i, (lang, body) in enumerate(blocks):
            if lang != "console":
                continue
            expected = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "json" else None
            for line in body.splitlines():
                if line.startswith("$ lupuscell "):
                    out.append((page.name, line[2:], expected))
    return out


EXAMPLES = _examples()


def _match(got, want, path="$"):
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for k, v in want.items():
            assert k in got, f"{path}.{k} missing"
            _match(got[k], v, f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _match(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        decimals = len(repr(want).split(".")[1]) if "." in repr(want) else 0
        assert got == pytest.approx(want, abs=0.5 * 10**-decimals + 1e-12), path
    else:
        assert got == want, path


def test_design_docs_have_examples_for_every_command():
    commands = {shlex.split(cmd)[2] for _, cmd, _ in EXAMPLES}
    assert {"simon", "single-stage", "monitor", "sample-size", "simulate", "report"} <= commands


IDS = [f"{page}:{command[17:60]}" for page, command, _ in EXAMPLES]


@pytest.mark.parametrize(("page", "command", "expected"), EXAMPLES, ids=IDS)
def test_design_docs_example_runs(page, command, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, shlex.split(command)[1:])
    assert res.exit_code == 0, f"{page}: {command}\n{res.output}"
    if expected is not None:
        _match(json.loads(res.stdout), json.loads(expected))
