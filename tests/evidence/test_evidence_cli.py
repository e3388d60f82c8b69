"""`lupuscell evidence ...` commands (CliRunner) and the documented JSON example, round-tripped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupuscell.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_user_evidence(tmp_path, monkeypatch):
    """Every test sees an empty XDG data dir: no local evidence file from the machine."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


DOCS = Path(__file__).resolve().parents[2] / "docs" / "evidence"


def doc_block(marker: str) -> str:
    text = (DOCS / "meta_analysis.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```json\n(.*?)```", text, re.S)
    assert match, f"block {marker} not found in meta_analysis.md"
    return match.group(1)


def approx_tree(actual, expected):
    if isinstance(expected, dict):
        assert set(actual) == set(expected)
        for key in expected:
            approx_tree(actual[key], expected[key])
    elif isinstance(expected, list):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            approx_tree(a, e)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12)
    else:
        assert actual == expected


def test_documented_meta_example_round_trips():
    result = runner.invoke(
        app, ["evidence", "meta", "--input", "-", "--json"], input=doc_block("meta-request")
    )
    assert result.exit_code == 0, result.output
    approx_tree(json.loads(result.stdout), json.loads(doc_block("meta-response")))


def test_meta_from_file_with_moderators_and_required_keys(tmp_path):
    payload = json.loads(doc_block("meta-request"))
    payload["mods"] = {"year": [2009, 2013, 2017, 2018]}
    payload["test"] = "knha"
    path = tmp_path / "req.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = runner.invoke(app, ["evidence", "meta", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    for key in (
        "k",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pred_low",
        "pred_high",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_p",
        "back",
        "coefficients",
        "r2",
        "qe",
    ):
        assert key in out
    assert set(out["back"]) >= {"estimate", "ci_low", "ci_high"}
    assert [c["name"] for c in out["coefficients"]] == ["intrcpt", "year"]
    assert set(out["coefficients"][0]) == {"name", "estimate", "se", "ci_low", "ci_high", "p"}


def test_meta_defaults_are_metafor_defaults():
    body = json.dumps(
        {
            "measure": "PLO",
            "studies": [{"id": "a", "events": 0, "total": 10}, {"id": "b", "events": 3, "total": 10}],
        }
    )
    out = json.loads(runner.invoke(app, ["evidence", "meta", "-i", "-", "--json"], input=body).stdout)
    assert out["method"] == "REML" and out["test"] == "z"


def test_meta_mantel_haenszel():
    body = json.dumps(
        {
            "measure": "RR",
            "method": "MH",
            "studies": [
                {"id": "a", "ai": 4, "bi": 119, "ci": 11, "di": 128},
                {"id": "b", "ai": 6, "bi": 300, "ci": 29, "di": 274},
            ],
        }
    )
    result = runner.invoke(app, ["evidence", "meta", "-i", "-", "--json"], input=body)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == "MH"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"measure": "PLO", "studies": [{"id": "x", "events": 5, "total": 3}]},
            "study x: events: exceeds total",
        ),
        (
            {"measure": "GEN", "studies": [{"id": "y", "yi": 1, "vi": -1}]},
            "study y: vi: sampling variance must be >= 0",
        ),
        ({"measure": "FOO", "studies": [{"id": "z", "yi": 1, "vi": 1}]}, "measure: unknown measure 'FOO'"),
        (
            {"measure": "PLO", "method": "BAYES", "studies": [{"id": "z", "events": 1, "total": 3}]},
            "method: unknown method",
        ),
        ({"measure": "PLO", "studies": []}, "studies: must be a non-empty list"),
    ],
)
def test_meta_invalid_input_exit_2(body, message):
    result = runner.invoke(app, ["evidence", "meta", "-i", "-", "--json"], input=json.dumps(body))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_meta_not_json_and_missing_file(tmp_path):
    result = runner.invoke(app, ["evidence", "meta", "-i", "-"], input="{not json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    result = runner.invoke(app, ["evidence", "meta", "-i", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_pool_msc_remission_matches_worked_example(tmp_path):
    plot = tmp_path / "forest.svg"
    result = runner.invoke(
        app, ["evidence", "pool", "--outcome", "remission", "--therapy", "msc", "--json", "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [s["study_id"] for s in out["studies"]] == [
        "wang2013_ct",
        "li2016_fuzhou",
        "deng2017",
        "barbado2018",
    ]
    assert {"wang2018_scr", "sun2009", "yuan2019"} <= {e["study_id"] for e in out["excluded"]}
    assert [s["evidence_level"] for s in out["studies"]] == ["abstract", "table", "table", "abstract"]
    # numbers quoted in docs/evidence/worked_example_msc_remission.md
    assert round(out["back"]["estimate"], 2) == 0.34
    assert (round(out["back"]["ci_low"], 2), round(out["back"]["ci_high"], 2)) == (0.24, 0.46)
    assert (round(out["back"]["pred_low"], 2), round(out["back"]["pred_high"], 2)) == (0.21, 0.50)
    assert round(out["i2"]) == 18
    assert plot.stat().st_size > 1000
    text = runner.invoke(app, ["evidence", "pool", "--outcome", "remission", "--therapy", "msc"])
    assert "caution: definitions differ" in text.stdout and "excluded wang2018_scr" in text.stdout


def test_pool_errors():
    result = runner.invoke(app, ["evidence", "pool", "--outcome", "remission", "--therapy", "cart"])
    assert result.exit_code == 2 and "therapy: unknown therapy code 'cart'" in result.stderr
    result = runner.invoke(app, ["evidence", "pool", "--outcome", "nothing_like_this"])
    assert result.exit_code == 2 and "no studies with counts" in result.stderr


def test_studies_listing_and_user_csv(tmp_path):
    result = runner.invoke(app, ["evidence", "studies", "--json", "--therapy", "car_t"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len({r["study_id"] for r in rows}) == 9
    bad = tmp_path / "bad.csv"
    bad.write_text("study_id,year,therapy,outcome,events,total\nx,2020,msc,remission,9,4\n", encoding="utf-8")
    result = runner.invoke(app, ["evidence", "studies", "--data", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv row 2 (study x): events: events (9) exceed total (4)" in result.stderr
    assert runner.invoke(app, ["evidence", "studies"]).exit_code == 0


def test_forest_command_from_dataset_and_request(tmp_path):
    out = tmp_path / "f.png"
    data = tmp_path / "f.csv"
    result = runner.invoke(
        app, ["evidence", "forest", "--outcome", "remission", "-o", str(out), "--data-out", str(data)]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000
    assert "subgroup" in data.read_text(encoding="utf-8")
    req = json.loads(doc_block("meta-request"))
    for s, g in zip(req["studies"], ["a", "a", "b", "b"], strict=True):
        s["group"] = g
    pdf = tmp_path / "f.pdf"
    result = runner.invoke(app, ["evidence", "forest", "-i", "-", "-o", str(pdf)], input=json.dumps(req))
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    result = runner.invoke(app, ["evidence", "forest", "-o", str(pdf)])
    assert result.exit_code == 2 and "exactly one of --input or --outcome" in result.stderr


def test_compare_command(tmp_path):
    png = tmp_path / "c.png"
    result = runner.invoke(
        app,
        [
            "evidence",
            "compare",
            "--outcome",
            "treatment_related_mortality",
            "--therapy",
            "hsct",
            "--events",
            "2",
            "--total",
            "25",
            "--label",
            "Centre A",
            "--json",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["position"] == "within" and out["k"] == 5
    assert out["sentence"].startswith("Centre A's treatment related mortality of 8% (2/25)")
    assert png.stat().st_size > 1000
    result = runner.invoke(
        app,
        [
            "evidence",
            "compare",
            "--outcome",
            "treatment_related_mortality",
            "--therapy",
            "hsct",
            "--events",
            "30",
            "--total",
            "25",
        ],
    )
    assert result.exit_code == 2 and "events: events (30) exceed total (25)" in result.stderr


def test_help_for_every_command():
    for cmd in ("meta", "pool", "studies", "forest", "compare", "add", "questions", "patient-info"):
        result = runner.invoke(app, ["evidence", cmd, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_pool_meta_regression_sensitivity_and_plots(tmp_path):
    bubble, funnel, forest = tmp_path / "b.png", tmp_path / "fu.svg", tmp_path / "fo.png"
    args = [
        "evidence",
        "pool",
        "--outcome",
        "remission",
        "--moderator",
        "year",
        "--bubble",
        str(bubble),
        "--funnel",
        str(funnel),
        "--plot",
        str(forest),
        "--sensitivity",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [c["name"] for c in out["coefficients"]] == ["intrcpt", "year"]
    assert out["k"] == 13 and "r2" in out and "qe" in out
    sens = out["sensitivity"]
    assert [e["method"] for e in sens["estimators"]] == ["DL", "REML", "PM", "EE"]
    assert len(sens["leave_one_out"]) == 13
    assert sens["egger"]["model"] == "rma" and sens["egger"]["df"] is None  # z test, as metafor regtest
    assert sens["egger"]["p"] is not None
    assert 0 < sens["glmm"]["estimate"] < 1
    for path in (bubble, funnel, forest):
        assert path.stat().st_size > 1000


def test_pool_moderator_errors():
    result = runner.invoke(
        app, ["evidence", "pool", "--outcome", "remission", "--moderator", "median_followup_months"]
    )
    assert result.exit_code == 2
    assert "study jayne2004: median_followup_months: missing" in result.stderr
    result = runner.invoke(app, ["evidence", "pool", "--outcome", "remission", "--moderator", "colour"])
    assert result.exit_code == 2 and "moderator: unknown moderator 'colour'" in result.stderr
    result = runner.invoke(app, ["evidence", "pool", "--outcome", "remission", "--bubble", "x.png"])
    assert result.exit_code == 2 and "--bubble needs --moderator" in result.stderr


def test_studies_version_prints_the_exact_line_and_changes():
    result = runner.invoke(app, ["evidence", "studies", "--version"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "curated SLE cell-therapy evidence, version 2: 33 studies, 149 rows"
    assert "## Version 2" in result.stdout and "Deng 2017 remission 9/12" in result.stdout


def test_filters_in_pool_and_studies():
    result = runner.invoke(
        app,
        [
            "evidence",
            "pool",
            "--outcome",
            "remission",
            "--therapy",
            "msc",
            "--evidence-level",
            "table",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [s["study_id"] for s in out["studies"]] == ["li2016_fuzhou", "deng2017"]
    assert out["filters"]["evidence_level"] == ["table"]
    result = runner.invoke(
        app,
        [
            "evidence",
            "pool",
            "--outcome",
            "remission",
            "--therapy",
            "msc",
            "--exclude-cohort-group",
            "nanjing_msc",
        ],
    )
    assert result.exit_code == 0 and "wang2013_ct" not in result.stdout
    assert "filter: cohort group not in nanjing_msc" in result.stdout
    rows = json.loads(
        runner.invoke(
            app, ["evidence", "studies", "--cohort-group", "northwestern_hsct_2000s", "--json"]
        ).stdout
    )
    assert {r["study_id"] for r in rows} == {"burt2006", "traynor2000"}
    bad = runner.invoke(app, ["evidence", "studies", "--evidence-level", "blog"])
    assert bad.exit_code == 2 and "evidence_level: unknown level 'blog'" in bad.stderr


def test_pool_continuous_outcomes_from_the_command_line():
    result = runner.invoke(
        app, ["evidence", "pool", "--outcome", "serum_creatinine_6mo", "--measure", "MD", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (round(out["estimate"], 2), round(out["ci_low"], 2), round(out["ci_high"], 2)) == (
        4.0,
        -8.47,
        16.47,
    )
    result = runner.invoke(
        app, ["evidence", "pool", "--outcome", "sledai", "--measure", "MC", "--correlation", "0.7"]
    )
    assert result.exit_code == 0, result.output
    assert "assumption: correlation between baseline and follow-up assumed r = 0.7" in result.stdout


def test_add_appends_to_the_local_file_merged_by_every_command(tmp_path):
    row = tmp_path / "new.csv"
    row.write_text(
        "study_id,first_author,year,therapy,outcome,events,total,evidence_level,source_note\n"
        "centre2026,Centre,2026,msc,complete_remission,6,10,table,our own series (Table 1)\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["evidence", "add", "--row", str(row)])
    assert result.exit_code == 0, result.output
    local = tmp_path / "xdg" / "lupuscell" / "evidence" / "local_studies.csv"
    assert local.exists() and "centre2026" in local.read_text(encoding="utf-8")
    assert (
        "local rows (lupuscell evidence add): 1"
        in runner.invoke(app, ["evidence", "studies", "--version"]).stdout
    )
    out = json.loads(
        runner.invoke(
            app, ["evidence", "pool", "--outcome", "remission", "--therapy", "msc", "--json"]
        ).stdout
    )
    mine = [s for s in out["studies"] if s["study_id"] == "centre2026"]
    assert mine and mine[0]["local"] is True
    off = json.loads(
        runner.invoke(
            app, ["evidence", "pool", "--outcome", "remission", "--therapy", "msc", "--no-local", "--json"]
        ).stdout
    )
    assert "centre2026" not in [s["study_id"] for s in off["studies"]]
    again = runner.invoke(app, ["evidence", "add", "--row", str(row)])
    assert again.exit_code == 2 and "(study centre2026): outcome: duplicate row" in again.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "x2026,X,2026,msc,sledai_6mo,,12,5,,table,Table 2",
            "(study x2026): sd: missing: a continuous row needs mean, sd and total",
        ),
        (
            "x2026,X,2026,msc,remission,12,10,,,table,p. 3",
            "(study x2026): events: events (12) exceed total (10)",
        ),
        ("x2026,X,2026,msc,remission,2,10,,,table,", "(study x2026): source_note: missing"),
        (
            "x2026,X,2026,hsct,overall_survival_KM,8,10,,,table,Fig. 2",
            "(study x2026): events: must be empty on a Kaplan-Meier",
        ),
    ],
)
def test_add_rejects_bad_rows_naming_study_and_field(tmp_path, line, message):
    row = tmp_path / "bad.csv"
    row.write_text(
        "study_id,first_author,year,therapy,outcome,events,total,mean,sd,evidence_level,source_note\n"
        + line
        + "\n"
    )
    result = runner.invoke(app, ["evidence", "add", "--row", str(row)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "xdg" / "lupuscell" / "evidence" / "local_studies.csv").exists()


def test_questions_and_patient_info_commands(tmp_path):
    result = runner.invoke(app, ["evidence", "questions", "--out", str(tmp_path / "q")])
    assert result.exit_code == 0, result.output
    for name in ("questions.html", "questions.pdf", "questions.json"):
        assert (tmp_path / "q" / name).stat().st_size > 1000
    assert result.stdout.startswith("remission_by_therapy: The evidence is very limited")
    result = runner.invoke(app, ["evidence", "patient-info", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "not medical advice" in (tmp_path / "p" / "patient_info.html").read_text(encoding="utf-8")
