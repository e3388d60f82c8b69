"""Write a screen's results: candidates, evidence and attrition as CSV (and Parquet), the plot.

* ``candidates.csv``: ``person_id``, then one column per top-level criterion id (protocol order)
  holding ``met`` or ``unknown`` (``unknown`` appears only with the default ``unknown="keep"``);
* ``attrition.csv``: ``criterion_id, description, remaining`` in protocol order;
* ``evidence.csv``: per candidate and leaf criterion, the verdict and its evidence (date, value,
  unit);
* ``attrition.png``: :func:`lupuscell.screening.attrition.attrition_figure`;
* ``summary.json``: the run (engine, index date, persons screened, verdict counts per step,
  concept-set sizes in this database, warnings);
* with ``parquet=True``, ``candidates.parquet``, ``evidence.parquet`` and ``attrition.parquet``.
"""

from __future__ import annotations

import json
from pathlib import Path

from lupuscell.screening.attrition import attrition_figure
from lupuscell.screening.run import ScreenResult

ATTRITION_COLUMNS = ("criterion_id", "description", "remaining")


def write_results(result: ScreenResult, out_dir: Path, *, parquet: bool = False) -> list[Path]:
    """Write every output file into ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    attrition = result.attrition.loc[:, list(ATTRITION_COLUMNS)]
    frames = {"candidates": result.candidates, "attrition": attrition, "evidence": result.evidence}
    written = []
    for name, frame in frames.items():
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
        if parquet:
            frame.to_parquet(out_dir / f"{name}.parquet", index=False)
            written.append(out_dir / f"{name}.parquet")
    figure = attrition_figure(result.attrition, result.persons, result.protocol.title)
    figure.savefig(out_dir / "attrition.png", dpi=150)
    written.append(out_dir / "attrition.png")
    (out_dir / "summary.json").write_text(json.dumps(result.summary(), indent=2), encoding="utf-8")
    written.append(out_dir / "summary.json")
    return written
