"""Every package that declares a public API (``__all__``) has a docstring and every listed name
resolves; importing ``lupuscell.synth`` or ``lupuscell.reports`` loads no plotting library."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from _scan import SRC

PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_resolve(package: str) -> None:
    module = importlib.import_module(f"lupuscell.{package}")
    names = getattr(module, "__all__", None)
    if names is None:
        return
    assert module.__doc__ and module.__doc__.strip()
    for name in names:
        assert getattr(module, name) is not None, name
        assert name in module.__doc__, f"lupuscell.{package}.__doc__ does not describe {name}"


def test_lazy_packages_load_nothing_heavy_at_import() -> None:
    code = "import sys, lupuscell.synth, lupuscell.reports; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
