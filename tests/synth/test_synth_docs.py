"""docs/synth.md stays in step with the code: the calibration table and the runnable commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.synth.calibration import calibration_table_markdown, effects_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "synth.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_calibration_table_in_docs_is_generated_from_the_code() -> None:
    text = _text()
    start = text.index("<!-- calibration-table:start -->\n") + len("<!-- calibration-table:start -->\n")
    end = text.index("<!-- calibration-table:end -->")
    assert text[start:end] == calibration_table_markdown()


def _quick_start_commands() -> list[list[str]]:
    block = re.search(r"## Quick start\n\n```bash\n(.*?)```", _text(), re.S)
    assert block is not None
    return [shlex.split(line)[1:] for line in block.group(1).splitlines() if line.startswith("lupuscell ")]


def test_quick_start_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = _quick_start_commands()
    assert [c[0] for c in commands] == ["synth", "summary", "synth", "synth", "run"]
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    monkeypatch.setenv("LUPUSCELL_DATABASE_URL", f"sqlite:///{tmp_path / 'default.sqlite'}")
    runner = CliRunner()
    for args in commands:
        args = [url if a == "sqlite:///demo.sqlite" else a for a in args]
        if "--out" in args:
            i = args.index("--out") + 1
            args[i] = str(tmp_path / args[i])
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "cohort" / "visits.parquet").exists()
    assert (tmp_path / "cohort-csv" / "visits.csv").exists()
    assert (tmp_path / "default.sqlite").exists()


def test_effects_table_in_docs_is_generated_from_the_code() -> None:
    text = _text()
    start = text.index("<!-- effects-table:start -->\n") + len("<!-- effects-table:start -->\n")
    end = text.index("<!-- effects-table:end -->")
    assert text[start:end] == effects_table_markdown()
