"""lupuscell: a platform for stem-cell and cellular therapy programmes in systemic lupus erythematosus.

Layers (see docs/architecture.md): ``instruments`` (scores), ``registry`` (SQL, audit),
``outcomes`` (endpoints per patient), ``analysis`` (cohort statistics), ``evidence``
(meta-analysis), ``design`` (trial design), ``synth`` (virtual cohorts), ``reports`` and ``cli``.
"""

__version__ = "0.1.0"
