"""Tests fail instead of skipping: the only skip is a missing service, through ``require_service``.

A skip on one of the project's own modules hides a broken import; a skip on a file outside the
repository hides a test that never runs in CI (copy such fixtures into ``tests/``). Only an
external service (PostgreSQL, later a browser or Spark) may be missing, and then
``tests/conftest.py::require_service`` skips or, with ``LUPUSCELL_REQUIRE_ALL_SERVICES=1``,
fails.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap

from _scan import ROOT, TESTS, parse, python_files, rel

SKIPPING = {"skip", "skipif", "importorskip", "SkipTest"}
HELPER = "tests/conftest.py"

# Skips being removed by their owners right now (issue 9); the lead empties this at merge.
ALLOWED: dict[str, str] = {
}


def _skips(tree: ast.Module) -> list[int]:
    """Line numbers of every ``pytest.skip``, ``mark.skip(if)``, ``importorskip`` or ``SkipTest``."""
    lines = []
    for node in ast.walk(tree):
        name = (
            node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        )
        if name in SKIPPING:
            lines.append(node.lineno)
    return lines


def _helper_lines() -> set[int]:
    """The lines of ``require_service`` itself (the one place allowed to skip)."""
    tree = parse(ROOT / HELPER)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "require_service")
    return set(range(fn.lineno, (fn.end_lineno or fn.lineno) + 1))


def test_no_test_skips_except_through_require_service() -> None:
    found = []
    for path in python_files(TESTS):
        name = rel(path)
        if name in ALLOWED:
            continue
        lines = _skips(parse(path))
        if name == HELPER:
            lines = [n for n in lines if n not in _helper_lines()]
        found += [f"{name}:{n}" for n in lines]
    assert not found, "skip only through require_service (tests/conftest.py): " + ", ".join(found)


def test_allow_list_names_only_files_that_still_skip() -> None:
    """An entry whose file no longer skips must go (so the list only shrinks)."""
    stale = [name for name in ALLOWED if not (ROOT / name).exists() or not _skips(parse(ROOT / name))]
    assert not stale, f"remove from ALLOWED: {stale}"


def test_the_guard_sees_every_spelling() -> None:
    source = textwrap.dedent(
        """
        import pytest, unittest
        mod = pytest.importorskip("lupuscell.synth")
        @pytest.mark.skipif(True, reason="x")
        def f(): pytest.skip("x")
        @pytest.mark.skip
        def g(): raise unittest.SkipTest("x")
        """
    )
    assert len(_skips(ast.parse(source))) == 5


def _run_pg_fixture_test(tmp_path, require_all: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_pg.py").write_text("def test_needs_pg(pg_url):\n    assert pg_url\n")
    env = {
        k: v for k, v in os.environ.items() if k not in ("LUPUSCELL_TEST_POSTGRES_URL", "PYTEST_XDIST_WORKER")
    }
    env["LUPUSCELL_REQUIRE_ALL_SERVICES"] = require_all
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--confcutdir",
            str(TESTS),
            "-c",
            "/dev/null",
            str(tmp_path / "test_pg.py"),
            "--override-ini",
            f"pythonpath={TESTS}",
            "-p",
            "conftest",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_service_skips_or_fails_by_the_environment(tmp_path) -> None:
    """Without a PostgreSQL URL the ``pg_url`` fixture skips, and fails when every service is required."""
    skipped = _run_pg_fixture_test(tmp_path, "0")
    assert "1 skipped" in skipped.stdout, skipped.stdout + skipped.stderr
    assert "PostgreSQL unavailable: LUPUSCELL_TEST_POSTGRES_URL not set" in skipped.stdout
    failed = _run_pg_fixture_test(tmp_path, "1")
    assert failed.returncode != 0 and "1 error" in failed.stdout, failed.stdout + failed.stderr
    assert "PostgreSQL unavailable" in failed.stdout
