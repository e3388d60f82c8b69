"""lupuscell.evidence: a documented public API, every name importable, nothing heavy at import."""

from __future__ import annotations

import subprocess
import sys

import lupuscell.evidence as evidence


def test_every_public_name_resolves_and_is_documented() -> None:
    assert evidence.__doc__ and "Public API" in evidence.__doc__
    for name in evidence.__all__:
        assert getattr(evidence, name) is not None, name
        assert name in evidence.__doc__, f"{name} missing from the package docstring"


def test_import_is_cheap() -> None:
    code = "import sys, lupuscell.evidence; print('matplotlib' in sys.modules, 'statsmodels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_no_pyplot_or_backend_in_the_pure_package() -> None:
    code = (
        "import sys, lupuscell.evidence as e\n"
        "for n in e.__all__: getattr(e, n)\n"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
