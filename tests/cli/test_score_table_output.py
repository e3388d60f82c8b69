"""``lupuscell score-table`` never destroys data: ``--out`` naming the ``--input`` file (by any
spelling or link) is refused before anything is opened for writing, and the output is written
to a temporary file moved into place only when every chunk succeeded, so a failure leaves an
existing ``--out`` file as it was (and no temporary file behind)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lupuscell.cli import score_cmd
from lupuscell.cli.main import app
from lupuscell.instruments.sledai2k import DESCRIPTORS

runner = CliRunner()


def _visits(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({d: rng.random(n) < 0.1 for d in DESCRIPTORS})
    frame["pga"] = rng.integers(0, 31, n) / 10
    frame["prednisolone_mg_per_day"] = rng.choice([0.0, 5.0, 7.5, 10.0], n)
    for col in ("haemolytic_anaemia", "gastrointestinal_activity", "new_activity_since_previous_assessment"):
        frame[col] = False
    for col in ("standard_maintenance_therapy_well_tolerated", "immunosuppressives_and_biologics_stable"):
        frame[col] = True
    return frame


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)


def _score_table(src: Path | str, out: Path | str) -> object:
    return runner.invoke(app, ["score-table", "all", "--input", str(src), "--out", str(out)])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("spelling", ["same", "dot_dot", "symlink", "hardlink", "relative"])
def test_out_equal_to_input_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, spelling: str
) -> None:
    src = tmp_path / "data" / f"visits{suffix}"
    src.parent.mkdir()
    _write(_visits(50), src)
    before = src.read_bytes()
    out: Path | str
    if spelling == "same":
        out = src
    elif spelling == "dot_dot":
        out = tmp_path / "data" / ".." / "data" / "." / src.name
    elif spelling == "symlink":
        out = tmp_path / f"link{suffix}"
        out.symlink_to(src)
    elif spelling == "hardlink":
        out = tmp_path / f"hard{suffix}"
        os.link(src, out)
    else:
        monkeypatch.chdir(tmp_path)
        out = f"data/{src.name}"
    result = _score_table(src, out)
    assert result.exit_code == 2, result.output
    assert "--out" in result.stderr and "same file as --input" in result.stderr
    assert src.read_bytes() == before
    assert sorted(p.name for p in src.parent.iterdir()) == [src.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_failure_in_a_later_chunk_keeps_the_existing_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setattr(score_cmd, "CHUNK_ROWS", 4)
    frame = _visits(12)
    frame["pga"] = frame["pga"].astype(object)
    frame.loc[10, "pga"] = 9.5  # out of range, in the third chunk
    src = tmp_path / f"visits{suffix}"
    src_frame = frame.astype({"pga": float})
    _write(src_frame, src)
    out = tmp_path / f"scored{suffix}"
    out.write_bytes(b"yesterday's scores")
    result = _score_table(src, out)
    assert result.exit_code == 2 and "pga" in result.stderr, result.output
    assert out.read_bytes() == b"yesterday's scores"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, out.name])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_success_replaces_the_output_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setattr(score_cmd, "CHUNK_ROWS", 4)
    src, out = tmp_path / f"visits{suffix}", tmp_path / f"scored{suffix}"
    _write(_visits(10), src)
    out.write_bytes(b"old")
    os.chmod(out, 0o640)
    result = _score_table(src, out)
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(scored) == 10 and "sledai_2k" in scored
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # the replaced file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, out.name])


def test_output_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    src, target = tmp_path / "visits.csv", tmp_path / "real.csv"
    _write(_visits(3), src)
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = _score_table(src, link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and "sledai_2k" in target.read_text()


def test_unwritable_or_missing_output_folder(tmp_path: Path) -> None:
    src = tmp_path / "visits.csv"
    _write(_visits(3), src)
    missing = _score_table(src, tmp_path / "no" / "such" / "out.csv")
    assert missing.exit_code == 2 and "--out" in missing.stderr
    folder = tmp_path / "out.csv"
    folder.mkdir()
    is_dir = _score_table(src, folder)
    assert is_dir.exit_code == 2 and "--out" in is_dir.stderr and "folder" in is_dir.stderr
