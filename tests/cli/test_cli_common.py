"""Shared CLI helpers: errors keep their text, JSON input errors name the option."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from lupuscell.cli.common import EXIT_INVALID, fail, read_json


def test_fail_prints_markup_like_text_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    exit_ = fail("seizure: allowed [none, clinical] and [bold] in [0, 4]")
    assert isinstance(exit_, typer.Exit) and exit_.exit_code == EXIT_INVALID
    assert "allowed [none, clinical] and [bold] in [0, 4]" in capsys.readouterr().err


def test_read_json_names_the_option_and_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "in.json"
    bad.write_text('{"a": 1,\n}')
    with pytest.raises(typer.Exit):
        read_json(str(bad))
    message = capsys.readouterr().err
    assert "--input:" in message and "not valid JSON (line 2" in message
    with pytest.raises(typer.Exit):
        read_json(str(tmp_path / "missing.json"), option="--curve")
    assert "--curve: cannot read" in capsys.readouterr().err
    good = tmp_path / "ok.json"
    good.write_text('{"a": [1, 2]}')
    assert read_json(str(good)) == {"a": [1, 2]}


def test_fail_options_names_the_option_of_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    from lupuscell.cli.common import fail_options
    from lupuscell.errors import LupuscellError, Problem, ValidationError

    exc = ValidationError(
        [Problem("design", "n_max", "must be >= 1, got 0"), Problem("design", "a", "in [0, 1]")]
    )
    exit_ = fail_options(exc, {"a": "--prior-a"})
    assert exit_.exit_code == EXIT_INVALID
    assert capsys.readouterr().err.splitlines() == [
        "error: --n-max: must be >= 1, got 0",
        "error: --prior-a: in [0, 1]",
    ]
    fail_options(ValidationError(Problem("", "--r1/--n1", "give all four")))
    assert capsys.readouterr().err.strip() == "error: --r1/--n1: give all four"
    fail_options(LupuscellError("no design"))
    assert capsys.readouterr().err.strip() == "error: no design"
