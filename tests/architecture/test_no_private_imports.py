"""No package imports another package's private names (a leading underscore): what a front end
or a report needs from a library is public API, documented and kept stable (the web evidence
page once reached into ``reports.build._cif_by_therapy``)."""

from __future__ import annotations

import ast
from pathlib import Path

from _scan import SRC, parse, python_files


def private_imports(src: Path = SRC) -> list[str]:
    """``path: module.name`` for every ``from lupuscell.<other> import _name`` under ``src``."""
    found = []
    for path in python_files(src):
        package = path.relative_to(src).parts[0]
        for node in ast.walk(parse(path)):
            if not (
                isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lupuscell.")
            ):
                continue
            other = node.module.split(".")[1]
            found += [
                f"{path.relative_to(src.parent).as_posix()}: {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__") and other != package
            ]
    return found


def test_no_package_imports_private_names_of_another() -> None:
    assert not private_imports()


def test_the_scan_finds_a_private_import_and_allows_one_within_a_package(tmp_path: Path) -> None:
    src = tmp_path / "lupuscell"
    (src / "web").mkdir(parents=True)
    (src / "web" / "x.py").write_text(
        "from lupuscell.reports.build import _cif_by_therapy\n", encoding="utf-8"
    )
    (src / "web" / "y.py").write_text("from lupuscell.web.x import _helper\n", encoding="utf-8")
    assert private_imports(src) == ["lupuscell/web/x.py: lupuscell.reports.build._cif_by_therapy"]
