"""A 50 MB REDCap records export with one bad row at the very end: nothing is written and the row
is named (SQLite and PostgreSQL). Bounded in time: the file is large through a free-text
laboratory comment the mapping does not import (REDCap notes fields), so the registry checks
about 40,000 laboratory rows, not millions."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from interop_helpers import ACTOR, count_rows  # type: ignore[import-not-found]
from sqlalchemy.engine import Engine

from lupuscell.errors import ValidationError
from lupuscell.interop.redcap import import_redcap_files

EXAMPLES = Path(__file__).parents[2] / "docs" / "interop" / "examples"
TARGET_BYTES = 50_000_000
TIME_LIMIT_S = 180


def _large_export(path: Path) -> tuple[int, int]:
    """The example project's record 101, then lab instances until the file holds 50 MB; the
    last row's neutrophil unit code (9) is not a choice of ``lab_anc_unit``. Returns its line and instance."""
    source = list(
        csv.DictReader((EXAMPLES / "sle_cell_therapy_records_longitudinal.csv").open(encoding="utf-8"))
    )
    header = list(source[0])
    comment = "Sample haemolysed on arrival; repeated the next morning; clinician informed. " * 16
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(r for r in source if r["record_id"] == "101")
        line, instance = 1 + sum(1 for r in source if r["record_id"] == "101"), 2
        while handle.tell() < TARGET_BYTES:
            instance += 1
            line += 1
            day = 1 + instance % 28
            writer.writerow(
                {
                    "record_id": "101",
                    "redcap_event_name": "follow_up_arm_1",
                    "redcap_repeat_instrument": "labs",
                    "redcap_repeat_instance": str(instance),
                    "lab_date": f"2022-0{1 + instance % 9}-{day:02d}",
                    "lab_anc": "3.1",
                    "lab_anc_unit": "1",
                    "lab_comment": comment,
                    "labs_complete": "2",
                }
            )
        line += 1
        writer.writerow(
            {
                "record_id": "101",
                "redcap_event_name": "follow_up_arm_1",
                "redcap_repeat_instrument": "labs",
                "redcap_repeat_instance": str(instance + 1),
                "lab_date": "2022-12-30",
                "lab_anc": "3.1",
                "lab_anc_unit": "9",
                "labs_complete": "2",
            }
        )
    return line, instance + 1


@pytest.mark.slow
def test_fifty_megabytes_with_one_bad_last_row(engine: Engine, tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    bad_line, bad_instance = _large_export(records)
    assert records.stat().st_size >= TARGET_BYTES
    started = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        import_redcap_files(
            engine,
            dictionary=EXAMPLES / "sle_cell_therapy_dictionary.csv",
            records=records,
            mapping=EXAMPLES / "sle_cell_therapy_mapping.yaml",
            actor=ACTOR,
            reason="large file",
        )
    elapsed = time.perf_counter() - started
    assert [str(p) for p in info.value.problems] == [
        f"records.csv line {bad_line} (record 101, event follow_up_arm_1, labs #{bad_instance}): lab_anc_unit "
        "(lab_results.unit): code '9' is not a choice of lab_anc_unit (choices: 1, 2)"
    ]
    assert count_rows(engine) == 0
    assert elapsed < TIME_LIMIT_S
