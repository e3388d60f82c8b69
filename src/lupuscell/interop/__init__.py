"""Exchange with systems outside the registry.

:mod:`lupuscell.interop.ctgov`: the ClinicalTrials.gov API v2 client and trial finder (recruiting
CAR-T, MSC and HSCT trials in SLE, a registry patient screened against each trial's limits).
"""

from __future__ import annotations

from lupuscell.interop.ctgov import (
    ClinicalTrialsClient,
    Trial,
    TrialMatch,
    TrialsUnavailableError,
    parse_studies,
    screen_patient,
    screen_trials,
)

__all__ = [
    "ClinicalTrialsClient",
    "Trial",
    "TrialMatch",
    "TrialsUnavailableError",
    "parse_studies",
    "screen_patient",
    "screen_trials",
]
