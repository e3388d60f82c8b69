"""Synthetic data for demos, tests and benchmarks: virtual SLE patients treated with autologous
HSCT, MSC or CD19 CAR-T, with everything the registry stores (docs/synth.md).

Public API
----------
generate_cohort_tables, iter_cohort_tables
    The cohort of ``(n_patients, seed)`` as registry tables, whole or streamed in chunks
    (deterministic: the same for any chunk size).
sites_table, TABLES
    The synthetic sites; the table names in loading order.
CALIBRATION, ADVERSE_EVENTS
    The outcome and adverse-event assumptions, each with its published source
    (:mod:`lupuscell.synth.calibration`).
BASELINE_EFFECTS
    How baseline features (nephritis, SLEDAI-2K, prior immunosuppressants, age, anti-dsDNA)
    change the odds of response and the hazard of relapse, each sourced or marked as an
    assumption; ``baseline_signal=False`` switches them (and every therapy difference in the
    disease course) off (:mod:`lupuscell.synth.effects`).

Submodules load on first use, so ``import lupuscell.synth`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "generate_cohort_tables": "cohort",
    "iter_cohort_tables": "cohort",
    "sites_table": "cohort",
    "TABLES": "cohort",
    "CALIBRATION": "calibration",
    "ADVERSE_EVENTS": "calibration",
    "BASELINE_EFFECTS": "calibration",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"lupuscell.synth.{_HOME[name]}"), name)
    raise AttributeError(f"module 'lupuscell.synth' has no attribute {name!r}")
