"""The pure packages stay pure beyond imports: no plotting backend set, no file written.

(SQL, the registry and the front ends are kept out by the import contracts,
test_import_contracts.py.) Plot functions return a ``Figure``; saving happens in ``reports/``,
``web/`` or ``cli/``.
"""

from __future__ import annotations

import ast

from _scan import PURE, SRC, parse, python_files, rel

FORBIDDEN_CALLS = {
    "savefig",
    "write_text",
    "write_bytes",
    "to_csv",
    "to_parquet",
    "to_excel",
    "mkdir",
    "open",
}

# Files their owners are cleaning right now (issue 9); the lead empties this at merge.
ALLOWED: dict[str, str] = {
}


def _offences(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if name in FORBIDDEN_CALLS or (owner == "matplotlib" and name == "use"):
            found.append(f"{node.lineno}: {owner + '.' if owner else ''}{name}(...)")
    return found


def _pure_files() -> list[str]:
    return [rel(p) for package in PURE for p in python_files(SRC / package)]


def test_pure_packages_set_no_backend_and_write_no_files() -> None:
    offences = [
        f"{name}:{o}"
        for name in _pure_files()
        if name not in ALLOWED
        for o in _offences(parse(SRC.parents[1] / name))
    ]
    assert not offences, "move file writing / backends to reports/, web/ or cli/: " + ", ".join(offences)


def test_allow_list_names_only_files_that_still_offend() -> None:
    stale = [name for name in ALLOWED if not _offences(parse(SRC.parents[1] / name))]
    assert not stale, f"remove from ALLOWED: {stale}"


def test_the_scan_sees_each_kind_of_offence() -> None:
    source = "import matplotlib\nmatplotlib.use('Agg')\nfig.savefig(p)\nopen(p, 'w')\npath.write_text('x')\n"
    assert len(_offences(ast.parse(source))) == 4
