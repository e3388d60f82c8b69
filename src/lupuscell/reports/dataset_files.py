"""Write the analysis datasets ADSL, ADTTE and ADRS to files (CSV or Parquet).

The frames are built by the pure :mod:`lupuscell.outcomes.datasets`; this module only writes
them, beside ``endpoint_options.json`` (the definitions that produced them), for
``lupuscell datasets`` and the report's ``datasets/`` folder (docs/outcomes/datasets.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from lupuscell.errors import ValidationError
from lupuscell.outcomes.datasets import AnalysisDatasets, Format

FORMATS: tuple[str, ...] = ("csv", "parquet")


def write_datasets(datasets: AnalysisDatasets, out_dir: str | Path, fmt: Format = "csv") -> list[Path]:
    """Write ``adsl``, ``adtte``, ``adrs`` (``.csv`` or ``.parquet``) and ``endpoint_options.json``.

    Returns the paths written; ``out_dir`` is created if missing.
    """
    if fmt not in FORMATS:
        raise ValidationError.single("datasets", "format", f"{fmt!r}; use csv or parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in (("adsl", datasets.adsl), ("adtte", datasets.adtte), ("adrs", datasets.adrs)):
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, na_rep="")
        else:
            frame.to_parquet(path, index=False)
        paths.append(path)
    options_path = out / "endpoint_options.json"
    options_path.write_text(json.dumps(datasets.options.to_dict(), indent=2) + "\n", encoding="utf-8")
    paths.append(options_path)
    return paths
