"""Transplant and immune-effector-cell instruments: HCT-CI, MAGIC acute GVHD, ASTCT CRS and ICANS.

This is the module the catalog lists; the instruments live in one module each:

* :mod:`lupuscell.instruments.hct_ci` - HCT-CI (Sorror 2005) with and without the indication,
  and the separate HCT-CI/age composite (Sorror 2014).
* :mod:`lupuscell.instruments.gvhd` - MAGIC acute GVHD staging and overall grade (Harris 2016).
* :mod:`lupuscell.instruments.cellular_toxicity` - ASTCT CRS grade, ICE score and ICANS grade
  (Lee 2019).

Conventions and worked examples: ``docs/instruments/hct_ci.md``, ``magic_agvhd.md``,
``astct_crs.md`` and ``astct_icans.md``.
"""

from __future__ import annotations

from lupuscell.instruments import cellular_toxicity, gvhd, hct_ci
from lupuscell.instruments.base import InstrumentSpec
from lupuscell.instruments.cellular_toxicity import score_crs, score_icans
from lupuscell.instruments.gvhd import score as score_magic_agvhd
from lupuscell.instruments.hct_ci import score as score_hct_ci

__all__ = ["SPECS", "score_crs", "score_hct_ci", "score_icans", "score_magic_agvhd"]

SPECS: tuple[InstrumentSpec, ...] = hct_ci.SPECS + gvhd.SPECS + cellular_toxicity.SPECS
