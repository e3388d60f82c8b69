"""The per-patient evaluator on registry patients: the adapter's reading of the registry, the
default index date, and ``lupuscell eligibility`` / ``protocols list`` / ``protocols show``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupuscell import vocab
from lupuscell.cli.main import app
from lupuscell.protocols.catalog import load_bundle, shipped_protocol_names
from lupuscell.protocols.evaluate import evaluate
from lupuscell.protocols.registry_record import record_from_timeline
from lupuscell.registry.eligibility_read import default_index_date

runner = CliRunner()
DAY0 = dt.date(2024, 3, 1)


def _timeline(**patient) -> dict:
    visit = {d: False for d in vocab.SLEDAI_2K_DESCRIPTORS}
    visit.update(
        arthritis=True, rash=True, low_complement=True, increased_dna_binding=True
    )  # 4 + 2 + 2 + 2 = 10
    base = {
        "code": "KI-0001",
        "birth_year": 1984,
        "sex": "F",
        "sle_diagnosis_date": dt.date(2015, 5, 1),
        "classification_criteria": "eular_acr_2019",
        "organ_involvement": ["renal"],
        "nephritis_class": "IV",
        "prior_therapies": ["hydroxychloroquine", "Mycophenolate mofetil", "cyclophosphamide", "herbal tea"],
    }
    base.update(patient)
    return {
        "patient": base,
        "day0": DAY0,
        "courses": [
            {
                "mobilisation_date": dt.date(2024, 1, 10),
                "harvest_date": dt.date(2024, 1, 20),
                "conditioning_start_date": dt.date(2024, 2, 24),
                "infusion_date": DAY0,
            }
        ],
        "visits": [
            {
                **visit,
                "visit_date": dt.date(2024, 1, 2),
                "sledai_window_days": 10,
                "prednisone_mg_per_day": 15.0,
            }
        ],
        "labs": [
            {"analyte": "egfr", "value": 74.0, "unit": "mL/min/1.73m2", "result_date": dt.date(2023, 12, 20)},
            {"analyte": "bilirubin", "value": 41.0, "unit": "umol/L", "result_date": dt.date(2023, 12, 20)},
        ],
    }


def _results(protocol: str, timeline: dict) -> dict:
    bundle = load_bundle(protocol)
    index, rule = default_index_date(timeline)
    assert index is not None
    record, warnings = record_from_timeline(timeline, index, rule, bundle.concept_sets)
    sets = {n: cs.listed_ids() for n, cs in bundle.concept_sets.items()}
    result = evaluate(bundle.protocol, record, sets, warnings)
    flat = {}

    def walk(items):
        for r in items:
            flat[r.id] = r
            walk(r.children)

    walk(result.criteria)
    return {"result": result, **flat}


def test_default_index_date_is_the_first_treatment_step() -> None:
    index, rule = default_index_date(_timeline())
    assert index == dt.date(2024, 1, 10) and "mobilisation" in rule and str(DAY0) in rule
    assert default_index_date({"courses": [], "day0": None})[0] is None


def test_registry_patient_on_the_car_t_protocol() -> None:
    r = _results("cart19_refractory_sle", _timeline())
    assert r["sle"].verdict.label == "met" and "adjudicated" in r["sle"].reason
    assert r["age"].verdict.label == "met" and r["age"].evidence[0].value == 40
    assert (
        r["refractory"].verdict.label == "met" and "cyclophosphamide, mycophenolate" in r["refractory"].reason
    )
    assert r["glucocorticoid_ever"].verdict.label == "met"  # prednisone dose at a visit
    assert r["active_disease"].verdict.label == "met" and r["active_disease"].evidence[0].value == 10
    assert r["egfr"].verdict.label == "met"
    bili = r["bilirubin"]  # 41 umol/L = 2.4 mg/dL > 2.0
    assert bili.verdict.label == "not_met" and bili.evidence[0].value == pytest.approx(41 / 17.1, rel=1e-3)
    assert r["lvef"].verdict.label == "unknown" and "no lvef result" in r["lvef"].reason
    assert r["no_infection"].verdict.label == "unknown" and "not completely captured" in r["hiv"].reason
    assert r["observed"].verdict.label == "unknown"
    assert r["result"].verdict.label == "not_met"
    assert any("herbal tea" in w for w in r["result"].warnings)


def test_one_prior_drug_is_unknown_not_absent_in_the_registry() -> None:
    r = _results("hsct_refractory_sle", _timeline(prior_therapies=["azathioprine"]))
    assert r["refractory"].verdict.label == "unknown"


def test_nephritis_class_has_no_date_so_a_12_week_window_is_unknown() -> None:
    r = _results("ucmsc_lupus_nephritis", _timeline())
    assert (
        r["nephritis_class"].verdict.label == "unknown"
        and "timing unknown" in r["nephritis_class"].evidence[0].label
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('reg') / 'reg.sqlite'}"
    assert runner.invoke(app, ["synth", "--patients", "12", "--seed", "8", "--db", url]).exit_code == 0
    return url


def _first_code(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        code = conn.execute(sa.text("SELECT code FROM patients ORDER BY code LIMIT 1")).scalar_one()
    engine.dispose()
    return str(code)


def test_eligibility_cli_json(registry: str) -> None:
    code = _first_code(registry)
    result = runner.invoke(
        app,
        ["eligibility", "--protocol", "hsct_refractory_sle", "--patient", code, "--db", registry, "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["person"] == code and payload["verdict"] in ("met", "not_met", "unknown")
    assert [c["id"] for c in payload["criteria"]][:3] == ["observed", "sle", "age"]
    assert all({"verdict", "reason", "evidence", "source"} <= set(c) for c in payload["criteria"])
    table = runner.invoke(
        app, ["eligibility", "--protocol", "hsct_refractory_sle", "--patient", code, "--db", registry]
    )
    assert table.exit_code == 0 and "Index date" in table.stdout


def test_eligibility_cli_bad_input_exits_2(registry: str) -> None:
    result = runner.invoke(
        app, ["eligibility", "--protocol", "hsct_refractory_sle", "--patient", "NOPE-1", "--db", registry]
    )
    assert result.exit_code == 2 and "NOPE-1" in result.stderr
    result = runner.invoke(app, ["eligibility", "--protocol", "nope", "--patient", "X", "--db", registry])
    assert result.exit_code == 2 and "unknown protocol" in result.stderr


def test_protocols_list_and_show() -> None:
    listed = runner.invoke(app, ["protocols", "list"])
    assert listed.exit_code == 0 and listed.stdout.split() == list(shipped_protocol_names())
    shown = runner.invoke(app, ["protocols", "show", "ucmsc_lupus_nephritis"])
    assert shown.exit_code == 0
    assert "Criteria in screening order" in shown.stdout and "NCT03580291" in shown.stdout
    as_json = json.loads(runner.invoke(app, ["protocols", "show", "cart19_refractory_sle", "--json"]).stdout)
    assert as_json["criteria"][0]["id"] == "observed"
    assert runner.invoke(app, ["protocols", "show", "nope"]).exit_code == 2


def test_protocol_yaml_files_are_found_by_path(tmp_path: Path) -> None:
    src = Path(__file__).parents[2] / "src/lupuscell/data/protocols/hsct_refractory_sle.yaml"
    copy = tmp_path / "mine.yaml"
    copy.write_text(src.read_text())
    assert runner.invoke(app, ["protocols", "show", str(copy)]).exit_code == 0
