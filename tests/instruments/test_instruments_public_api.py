"""``lupuscell.instruments`` names what users call: every scorer and result class of the catalog,
importable from the package, without loading every instrument on ``import``."""

from __future__ import annotations

import subprocess
import sys

import lupuscell.instruments as instruments
from lupuscell.instruments.catalog import CATALOG


def test_every_public_name_resolves() -> None:
    assert sorted(instruments._EXPORTS) == sorted(instruments.__all__)
    for name in instruments.__all__:
        assert getattr(instruments, name) is not None, name


def test_every_catalog_scorer_and_result_class_is_public() -> None:
    public = {id(getattr(instruments, name)) for name in instruments.__all__}
    for spec in CATALOG.values():
        assert spec.result_type.__name__ in instruments.__all__, spec.name
        assert id(spec.result_type) in public
        scorer = spec.scorer if spec.name != "sri_4" else instruments.score_sri  # sri_4 wraps score_sri
        assert id(scorer) in public, spec.name


def test_docstring_lists_the_scorers() -> None:
    doc = instruments.__doc__ or ""
    scorers = [n for n in instruments.__all__ if n.startswith("score_")]
    assert scorers and all(name in doc for name in scorers)


def test_importing_one_module_does_not_load_every_instrument() -> None:
    code = (
        "import sys, lupuscell.instruments.base as b, lupuscell.instruments as i; "
        "print(sorted(m for m in sys.modules if m.startswith('lupuscell.instruments.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "lupuscell.instruments.bulk" not in loaded and "lupuscell.instruments.rand36" not in loaded
