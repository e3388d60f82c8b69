"""The synthetic cohort in the outcomes engine's form (:class:`~lupuscell.outcomes.cohort.CohortData`).

The generator (:mod:`lupuscell.synth.cohort`) produces registry-shaped tables; the outcomes
engine's table converter (:func:`lupuscell.outcomes.inputs.from_tables`) turns them into the
normalised cohort exactly as it does the registry's, so a synthetic cohort and the same cohort
loaded into a registry give the same endpoints. Lives here, not in ``outcomes``, because the
outcomes package is pure and imports no data source.
"""

from __future__ import annotations

from lupuscell.outcomes.cohort import CohortData
from lupuscell.outcomes.inputs import from_tables
from lupuscell.synth.cohort import generate_cohort_tables


def from_synthetic(n: int, seed: int = 0) -> CohortData:
    """Generate ``n`` synthetic patients (:mod:`lupuscell.synth.cohort`) in normalised form."""
    return from_tables(generate_cohort_tables(n, seed))
