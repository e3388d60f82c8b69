"""Exchange with systems outside the registry.

:mod:`lupuscell.interop.ctgov`: the ClinicalTrials.gov API v2 client and trial finder (recruiting
CAR-T, MSC and HSCT trials in SLE, a registry patient screened against each trial's limits).

Public API
----------
ClinicalTrialsClient, TrialsUnavailableError, parse_studies
    The ClinicalTrials.gov API v2 client, its offline error, and its study parser.
screen_patient, screen_trials, TrialMatch
    A registry patient screened against each trial's age and sex limits and structured criteria.
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
