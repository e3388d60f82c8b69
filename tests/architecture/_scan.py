"""Shared by the architecture tests: the repository's paths and Python files."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "lupuscell"
TESTS = ROOT / "tests"
DOCS = ROOT / "docs"
PURE = ("instruments", "outcomes", "analysis", "evidence", "design", "schedules")


def python_files(folder: Path) -> Iterator[Path]:
    """Every ``.py`` file under ``folder``, sorted."""
    yield from sorted(folder.rglob("*.py"))


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def rel(path: Path) -> str:
    """``path`` relative to the repository root, with forward slashes."""
    return path.relative_to(ROOT).as_posix()
