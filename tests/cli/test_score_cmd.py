"""``lupuscell score`` and ``lupuscell score-table`` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.instruments.bulk import score_visit_table
from lupuscell.instruments.sledai2k import DESCRIPTORS

SLE_NAMES = {
    "sledai_2k",
    "eular_acr_2019_sle",
    "slicc_acr_sdi",
    "sri_4",
    "lldas",
    "doris_2021",
    "renal_response_kdigo_2024",
    "renal_response_eular_2019",
}
runner = CliRunner()


def test_list_text_and_json() -> None:
    text = runner.invoke(app, ["score", "--list"])
    assert text.exit_code == 0 and "sledai_2k" in text.stdout
    listed = runner.invoke(app, ["score", "--list", "--json"])
    rows = json.loads(listed.stdout)
    assert {r["name"] for r in rows} >= SLE_NAMES
    assert all(r["source"] and r["version"] for r in rows)


def test_schema() -> None:
    result = runner.invoke(app, ["score", "lldas", "--schema"])
    schema = json.loads(result.stdout)
    assert result.exit_code == 0
    assert schema["properties"]["pga"]["anyOf"][0]["maximum"] == 3.0
    assert schema["additionalProperties"] is False


def test_score_file_json_and_table(tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(
        json.dumps({"descriptors": {"vasculitis": True, "leukopenia": True, "low_complement": True}})
    )
    result = runner.invoke(app, ["score", "sledai_2k", "--input", str(path), "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert (out["sledai_2k"], out["clinical_sledai"], out["window_days"]) == (11, 9, 10)
    assert out["version"] == "sledai_2k" and out["complete"] is True
    assert [i["points"] for i in out["items"]] == [8, 2, 1]
    table = runner.invoke(app, ["score", "sledai_2k", "--input", str(path)])
    assert table.exit_code == 0 and "clinical_sledai" in table.stdout and "vasculitis" in table.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "needles"),
    [
        (["score", "nope", "--input", "-"], "{}", ["unknown instrument 'nope'", "sledai_2k"]),
        (["score", "lldas"], None, ["--input"]),
        (["score"], None, ["instrument NAME"]),
        (["score", "lldas", "--input", "-"], "{not json", ["not valid JSON"]),
        (
            ["score", "lldas", "--input", "-"],
            '{"pga": 3.5}',
            ["stdin: pga", "allowed range: >= 0.0 and <= 3.0"],
        ),
        (["score", "lldas", "--input", "-"], '{"pga": "high"}', ["pga: Input should be a valid number"]),
        (["score", "lldas", "--input", "-"], '{"pgaa": 1}', ["pgaa: unknown field", "allowed fields"]),
        (["score", "sri_4", "--input", "-"], '{"sledai_baseline": 4}', ["sledai_followup: Field required"]),
        (["score", "sledai_2k", "--input", "-"], '{"descriptors": {"fever": 1}}', ["descriptors.fever"]),
        (["score", "lldas", "--input", "/nonexistent/x.json"], None, ["cannot read"]),
    ],
)
def test_invalid_input_exit_2(args: list[str], stdin: str | None, needles: list[str]) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 2
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
    assert result.stdout == ""


def _visits(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({d: rng.random(n) < 0.1 for d in DESCRIPTORS})
    frame["pga"] = rng.integers(0, 31, n) / 10
    frame["prednisolone_mg_per_day"] = rng.choice([0.0, 5.0, 7.5, 10.0], n)
    for col in ("haemolytic_anaemia", "gastrointestinal_activity", "new_activity_since_previous_assessment"):
        frame[col] = rng.random(n) < 0.05
    for col in ("standard_maintenance_therapy_well_tolerated", "immunosuppressives_and_biologics_stable"):
        frame[col] = rng.random(n) < 0.9
    return frame


def test_score_table_parquet_round_trip(tmp_path: Path) -> None:
    frame = _visits(300)
    src, out = tmp_path / "visits.parquet", tmp_path / "scored.parquet"
    frame.to_parquet(src)
    result = runner.invoke(
        app, ["score-table", "all", "--input", str(src), "--out", str(out), "--failed-criteria"]
    )
    assert result.exit_code == 0, result.stderr
    scored = pd.read_parquet(out)
    expected = score_visit_table(frame, failed_criteria=True)
    for col in ("sledai_2k", "clinical_sledai", "lldas", "doris_remission"):
        assert scored[col].astype(object).tolist() == expected[col].astype(object).tolist()
    assert (
        scored["lldas_failed_criteria"].astype(str).tolist()
        == expected["lldas_failed_criteria"].astype(str).tolist()
    )


def test_score_table_csv_with_missing_cells(tmp_path: Path) -> None:
    frame = _visits(5).astype(object)
    frame.loc[1, "rash"] = None
    frame.loc[2, "pga"] = None
    src, out = tmp_path / "visits.csv", tmp_path / "scored.csv"
    frame.to_csv(src, index=False)
    result = runner.invoke(app, ["score-table", "sledai_2k,lldas", "--input", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    scored = pd.read_csv(out)
    assert pd.isna(scored.loc[1, "sledai_2k"]) and not pd.isna(scored.loc[0, "sledai_2k"])
    assert "clinical_sledai" not in scored and "doris_remission" not in scored


def test_score_table_generic_catalog_instrument(tmp_path: Path) -> None:
    src, out = tmp_path / "renal.csv", tmp_path / "renal_scored.csv"
    pd.DataFrame(
        {
            "baseline_upcr_g_g": [3.0, 3.0],
            "followup_upcr_g_g": [0.4, 1.4],
            "baseline_egfr": [80.0, 80.0],
            "followup_egfr": [80.0, 80.0],
            "months_since_treatment_start": [12.0, 12.0],
        }
    ).to_csv(src, index=False)
    result = runner.invoke(
        app, ["score-table", "renal_response_kdigo_2024", "--input", str(src), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert pd.read_csv(out)["renal_response_kdigo_2024.response"].tolist() == ["complete", "partial"]


def test_score_table_errors(tmp_path: Path) -> None:
    src = tmp_path / "visits.csv"
    frame = _visits(3)
    frame.to_csv(src, index=False)
    bad_out = runner.invoke(
        app, ["score-table", "all", "--input", str(src), "--out", str(tmp_path / "x.xlsx")]
    )
    assert bad_out.exit_code == 2 and "allowed formats" in bad_out.stderr
    frame.assign(pga=[0.1, 9.0, 0.2]).to_csv(src, index=False)
    bad_pga = runner.invoke(
        app, ["score-table", "all", "--input", str(src), "--out", str(tmp_path / "o.csv")]
    )
    assert bad_pga.exit_code == 2 and "pga: out of range in rows 1" in bad_pga.stderr
    frame.assign(fever=["yes", "no", "x"]).to_csv(src, index=False)
    bad_bool = runner.invoke(
        app, ["score-table", "all", "--input", str(src), "--out", str(tmp_path / "o.csv")]
    )
    assert bad_bool.exit_code == 2 and "fever" in bad_bool.stderr
    unknown = runner.invoke(
        app, ["score-table", "sdai", "--input", str(src), "--out", str(tmp_path / "o.csv")]
    )
    assert unknown.exit_code == 2 and "unknown instrument" in unknown.stderr


def test_union_errors_merged_and_brackets_not_eaten() -> None:
    union = runner.invoke(
        app, ["score", "slicc_acr_sdi", "--input", "-"], input='{"items": {"malignancy_sites": -1}}'
    )
    assert union.exit_code == 2
    assert "items.malignancy_sites: " in union.stderr
    assert "expected: boolean or integer >= 0 and <= 50" in union.stderr
    key = runner.invoke(app, ["score", "sledai_2k", "--input", "-"], input='{"descriptors": {"fevr": true}}')
    assert "descriptors.fevr: unknown key" in key.stderr
    body = '{"ana_ge_1_80_ever": true, "criteria": {"seizure": true}, "evidence": {"seizure": "[2021] EEG"}}'
    table = runner.invoke(app, ["score", "eular_acr_2019_sle", "--input", "-"], input=body)
    assert table.exit_code == 0 and "[2021] EEG" in table.stdout
