"""The layer contracts of pyproject.toml (``[tool.importlinter]``) hold, so CI fails on a violation.

``make lint`` runs the same check; this test puts it in the suite that ``.ci/run`` executes.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = ("instruments", "outcomes", "analysis", "evidence", "design", "schedules")


def _lint_imports() -> subprocess.CompletedProcess[str]:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_cover_every_pure_package_and_forbidden_import() -> None:
    """The contracts name what the architecture promises (a contract cannot be quietly narrowed)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    pure = contracts["pure-core"]
    assert sorted(pure["source_modules"]) == sorted(f"lupuscell.{p}" for p in PURE)
    for forbidden in ("registry", "cli", "reports", "synth"):
        assert f"lupuscell.{forbidden}" in pure["forbidden_modules"]
    for external in ("sqlalchemy", "typer", "fastapi"):
        assert external in pure["forbidden_modules"]
    layers = " ".join(contracts["layers"]["layers"])
    for future in ("web", "screening", "interop", "protocols"):
        assert f"lupuscell.{future}" in layers
    bottom = contracts["layers"]["layers"][-1]
    assert all(f"lupuscell.{p}" in bottom for p in PURE)
    registry = contracts["registry-below-front-ends"]
    assert set(registry["forbidden_modules"]) >= {"lupuscell.cli", "lupuscell.reports"}
