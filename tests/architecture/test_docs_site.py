"""The documentation site builds with ``mkdocs build --strict`` (broken links fail), and its API
reference lists every public name (``__all__``) of every pure package."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _scan import PURE, ROOT

# Packages whose owners are writing their __all__ right now (issue 9); the lead empties this at merge.
WITHOUT_ALL_YET: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_every_docs_page_is_built(site: Path) -> None:
    """No explicit nav: every Markdown page under docs/ becomes a page of the site."""
    for page in (ROOT / "docs").rglob("*.md"):
        relative = page.relative_to(ROOT / "docs").with_suffix("")
        built = site / (relative.parent if relative.name == "index" else relative) / "index.html"
        assert built.exists(), f"{page} was not built"


@pytest.mark.parametrize("package", PURE)
def test_api_reference_lists_every_public_name(site: Path, package: str) -> None:
    module = importlib.import_module(f"lupuscell.{package}")
    names = getattr(module, "__all__", None)
    if names is None:
        assert package in WITHOUT_ALL_YET, f"lupuscell.{package} has no __all__"
        return
    assert package not in WITHOUT_ALL_YET, f"remove {package} from WITHOUT_ALL_YET"
    assert module.__doc__ and module.__doc__.strip(), f"lupuscell.{package} has no docstring"
    page = (site / "api" / package / "index.html").read_text(encoding="utf-8")
    missing = [name for name in names if f'id="lupuscell.{package}.{name}"' not in page]
    assert not missing, f"docs/api/{package}.md does not render {missing}"
