"""Issue 10 through the command line, as a user meets it: points 3 (analytics on a stored
date, record correction), 4 (text is not markup), 6 (synth audited), 7 (odd files and
arguments), 9 (same behaviour on both engines) and 10 (readable error lists)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import random
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from lupuscell.cli import registry_options
from lupuscell.cli.main import app
from lupuscell.registry.models import ImportBatch, Visit
from lupuscell.registry.repository import Registry

ACTOR = "dm.cli"
runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"LUPUSCELL_ACTOR": ACTOR, "COLUMNS": "200"})


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables wide enough that no cell wraps (assertions read whole values)."""
    monkeypatch.setattr(registry_options.out, "width", 250)


def _synth(url: str, patients: int = 12, *extra: str) -> Any:
    result = _run("synth", "--patients", str(patients), "--seed", "3", "--db", url, *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# --------------------------------------------------------------------------- point 3


def _store_visit_in_2300(engine: Engine) -> int:
    """A visit dated 2300-01-01, written as an older lupuscell could have stored it."""
    stamp = dt.datetime(2024, 1, 1)
    with engine.begin() as conn:
        patient_id = conn.execute(sa.text("SELECT min(id) FROM patients")).scalar_one()
        return int(
            conn.execute(
                sa.insert(Visit.__table__).returning(Visit.__table__.c.id),
                {
                    "patient_id": patient_id,
                    "visit_date": dt.date(2300, 1, 1),
                    "sledai_window_days": 10,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            ).scalar_one()
        )


def test_analytics_survive_a_stored_date_in_2300_and_the_cli_corrects_it(
    engine: Engine, migrated_db_url: str, tmp_path: Path
) -> None:
    _synth(migrated_db_url)
    visit_id = _store_visit_in_2300(engine)
    for command in (["summary"], ["run"], ["datasets", "--out", str(tmp_path / "ds")]):
        result = _run(*command, "--db", migrated_db_url)
        assert result.exit_code == 0, (command, result.output)
        _no_traceback(result)
    assert "1 in visits left out" in _run("summary", "--db", migrated_db_url).stderr
    listed = json.loads(
        _run("record", "list", "visit", "--out-of-window", "--json", "--db", migrated_db_url).stdout
    )
    assert [r["id"] for r in listed["records"]] == [visit_id]
    no_reason = _run(
        "record", "update", "visit", str(visit_id), "--set", "visit_date=2023-01-05", "--db", migrated_db_url
    )
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    future = _run(
        "record",
        "update",
        "visit",
        str(visit_id),
        "--set",
        "visit_date=2299-01-05",
        "--reason",
        "typo",
        "--db",
        migrated_db_url,
    )
    assert future.exit_code == 2 and "visit_date" in future.stderr and "in the future" in future.stderr
    fixed = _run(
        "record",
        "update",
        "visit",
        str(visit_id),
        "--set",
        "visit_date=2023-01-05",
        "--set",
        "pga=",
        "--reason",
        "year mistyped, source document checked",
        "--db",
        migrated_db_url,
    )
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["visit_date"] == "2023-01-05"
    history = json.loads(
        _run("record", "history", "visit", str(visit_id), "--json", "--db", migrated_db_url).stdout
    )
    update = [h for h in history["history"] if h["action"] == "update"]
    assert [(h["field"], h["old_value"], h["new_value"], h["actor"]) for h in update] == [
        ("visit_date", '"2300-01-01"', '"2023-01-05"', ACTOR)
    ]
    deleted = _run(
        "record", "delete", "visit", str(visit_id), "--reason", "entered twice", "--db", migrated_db_url
    )
    assert deleted.exit_code == 0 and json.loads(deleted.stdout)["deleted"] == 1
    assert Registry(engine).history("visit", visit_id)[-1]["action"] == "delete"


def test_report_survives_a_stored_date_in_2300(tmp_path: Path) -> None:
    """The report reads through the same filtered queries on both engines; SQLite suffices."""
    from lupuscell.registry.session import make_engine

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    _synth(url, 8)
    engine = make_engine(url)
    try:
        _store_visit_in_2300(engine)
    finally:
        engine.dispose()
    result = _run("report", "--out", str(tmp_path / "report"), "--db", url)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_endpoints_input_refuses_non_finite_numbers(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "in.json"
    path.write_text('{"patients": [{"id": "P1", "day0": "2020-01-01", "weight": ' + constant + "}]}")
    result = _run("endpoints", "--input", str(path))
    assert result.exit_code == 2 and "--input" in result.stderr and constant in result.stderr


# --------------------------------------------------------------------------- point 4

MARKUP = ("[/bold] x", "[/]", "sepsis [culture confirmed]")


def test_stored_text_is_shown_as_written(engine: Engine, migrated_db_url: str, wide: None) -> None:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    for n, cause in enumerate(MARKUP, start=1):
        code = f"KI-{n}"
        registry.create(
            "patient", {"code": code, "site_code": "KI", "sex": "F", "birth_year": 1980}, actor=ACTOR
        )
        registry.create(
            "therapy_course",
            {"patient_code": code, "therapy": "msc", "infusion_date": "2020-01-01"},
            actor=ACTOR,
        )
        registry.create(
            "adverse_event",
            {
                "patient_code": code,
                "term": cause,
                "category": "infection",
                "grade": 2,
                "onset_date": "2020-02-01",
            },
            actor=ACTOR,
        )
        registry.create(
            "clinical_event",
            {"patient_code": code, "event_type": "death", "event_date": "2021-01-01", "cause": cause},
            actor=ACTOR,
        )
    summary = _run("summary", "--db", migrated_db_url)
    run = _run("run", "--db", migrated_db_url)
    shows = [_run("patients", "show", f"KI-{n}", "--db", migrated_db_url) for n in range(1, 4)]
    for result in (summary, run, *shows):
        assert result.exit_code == 0, result.output
    for text in MARKUP:
        assert text in summary.stdout and text in run.stdout
    for text, show in zip(MARKUP, shows, strict=True):
        assert text in show.stdout


# --------------------------------------------------------------------------- point 6


def test_synth_audits_its_sites_and_takes_an_actor(engine: Engine, migrated_db_url: str) -> None:
    payload = _synth(migrated_db_url, 12, "--actor", "synth.bot")
    with engine.connect() as conn:
        sites = conn.execute(sa.text("SELECT count(*) FROM sites")).scalar_one()
        batch = conn.execute(sa.select(ImportBatch.__table__)).mappings().one()
    assert sites > 0 and payload["row_counts"]["sites"] == sites == batch["row_counts"]["sites"]
    audit = Registry(engine).history()
    assert {a["entity"] for a in audit} >= {"sites", "patients"}
    assert {a["actor"] for a in audit} == {"synth.bot"}


# --------------------------------------------------------------------------- point 7


def _odd_import(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / ("patients.parquet" if "parquet" in kind else "patients.csv")
    header = "code,site_code,sex,birth_year\n"
    if kind == "ragged":
        target.write_text(header + "KI-1,KI,F,1980\nKI-2,KI,F,1980,extra\n")
    elif kind == "latin-1":
        target.write_bytes((header + "KI-1,KI,F,1980\nKI-\xe9,KI,F,1980\n").encode("latin-1"))
    elif kind == "gzip":
        target.write_bytes(gzip.compress((header + "KI-1,KI,F,1980\n").encode()))
    elif kind == "random bytes":
        target.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(400)))
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "directory":
        target.mkdir()
    elif kind == "corrupt parquet":
        target.write_bytes(b"PAR1" + b"\x00garbage" * 20)
    elif kind == "truncated parquet":
        buffer = io.BytesIO()
        pd.DataFrame({"code": ["KI-1"], "site_code": ["KI"], "sex": ["F"], "birth_year": [1980]}).to_parquet(
            buffer
        )
        target.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    elif kind == "unknown columns only":
        target.write_text("foo,bar\n")
    return folder


@pytest.mark.parametrize(
    "kind",
    [
        "ragged",
        "latin-1",
        "gzip",
        "random bytes",
        "empty",
        "directory",
        "corrupt parquet",
        "truncated parquet",
        "unknown columns only",
    ],
)
def test_odd_import_files_exit_2_naming_the_file(
    engine: Engine, migrated_db_url: str, tmp_path: Path, kind: str
) -> None:
    folder = _odd_import(tmp_path, kind)
    result = _run("import", "--from", str(folder), "--reason", "odd", "--db", migrated_db_url)
    assert result.exit_code == 2, result.output
    assert "patients." in result.stderr
    _no_traceback(result)


def _utf16(tmp_path: Path) -> list[str]:
    path = tmp_path / "utf16.json"
    path.write_text('{"patients": []}', encoding="utf-16")
    return ["endpoints", "--input", str(path)]


def _nested(tmp_path: Path) -> list[str]:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return ["endpoints", "--input", str(path)]


def _not_a_database(tmp_path: Path) -> list[str]:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    return ["patients", "list", "--db", f"sqlite:///{path}"]


def _export_to_file(tmp_path: Path) -> list[str]:
    path = tmp_path / "existing.csv"
    path.write_text("x")
    return ["export", "--out", str(path)]


def _report_uninitialised(tmp_path: Path) -> list[str]:
    return ["report", "--out", str(tmp_path / "r"), "--db", f"sqlite:///{tmp_path / 'empty.sqlite'}"]


ODD_ARGUMENTS = {
    "UTF-16 JSON input": (_utf16, "--input"),
    "deeply nested JSON input": (_nested, "--input"),
    "--limit 10^20": (lambda p: ["patients", "list", "--limit", str(10**20)], "--limit"),
    "--db a text file": (_not_a_database, "--db"),
    "export --out an existing file": (_export_to_file, "--out"),
    "report on an uninitialised database": (_report_uninitialised, "--db"),
    "synth --seed -1": (
        lambda p: ["synth", "--patients", "2", "--seed", "-1", "--out", str(p / "s")],
        "--seed",
    ),
    "db upgrade --revision nonsense": (
        lambda p: ["db", "upgrade", "--revision", "nonsense", "--db", f"sqlite:///{p / 'x.sqlite'}"],
        "--revision",
    ),
}


@pytest.mark.parametrize("case", list(ODD_ARGUMENTS))
def test_odd_arguments_exit_2_naming_the_option(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, option = ODD_ARGUMENTS[case]
    monkeypatch.setenv("LUPUSCELL_DATABASE_URL", f"sqlite:///{tmp_path / 'default.sqlite'}")
    result = _run(*make(tmp_path))
    assert result.exit_code == 2, result.output
    assert option in result.output
    _no_traceback(result)


def test_library_warnings_do_not_reach_the_user(
    engine: Engine, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lupuscell.registry import cohort_summary

    real = cohort_summary.summarise

    def noisy(engine: Engine) -> Any:
        warnings.warn_explicit("deprecated", FutureWarning, "frame.py", 1, module="pandas.core.frame")
        warnings.warn_explicit("Mean of empty slice", RuntimeWarning, "fromnumeric.py", 1, module="numpy")
        return real(engine)

    monkeypatch.setattr(cohort_summary, "summarise", noisy)
    result = _run("summary", "--db", migrated_db_url)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr


# --------------------------------------------------------------------------- point 9


def test_over_long_actor_and_nul_are_refused_alike_on_both_engines(
    engine: Engine, migrated_db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    long_actor = _run(
        "import", "--from", str(folder), "--reason", "x", "--actor", "a" * 101, "--db", migrated_db_url
    )
    assert (
        long_actor.exit_code == 2 and "actor" in long_actor.stderr and "100 characters" in long_actor.stderr
    )
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\x00 Hospital\n")
    nul = _run("import", "--from", str(folder), "--reason", "x", "--db", migrated_db_url)
    assert nul.exit_code == 2 and "NUL" in nul.stderr
    registry = Registry(engine)
    assert registry.counts()["sites"] == 0 and registry.history() == []


def test_patient_codes_differing_only_in_case_are_refused(
    engine: Engine, migrated_db_url: str, tmp_path: Path
) -> None:
    registry = Registry(engine)
    registry.create("site", {"code": "KI", "name": "Karolinska"}, actor=ACTOR)
    registry.create(
        "patient", {"code": "KI-0001", "site_code": "KI", "sex": "F", "birth_year": 1980}, actor=ACTOR
    )
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "patients.csv").write_text("code,site_code,sex,birth_year\nki-0001,KI,F,1980\n")
    result = _run("import", "--from", str(folder), "--reason", "x", "--db", migrated_db_url)
    assert result.exit_code == 2 and "differs only in case" in result.stderr and "'KI-0001'" in result.stderr
    (folder / "patients.csv").unlink()
    (folder / "visits.csv").write_text("patient_code,visit_date\nki-0001,2021-01-01\n")
    result = _run("import", "--from", str(folder), "--reason", "x", "--db", migrated_db_url)
    assert result.exit_code == 2 and "did you mean 'KI-0001'" in result.stderr


# --------------------------------------------------------------------------- point 10


def test_one_bad_patient_is_reported_once_with_a_count_of_its_rows(
    engine: Engine, migrated_db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    (folder / "patients.csv").write_text("code,site_code,sex,birth_year\nKI-1,KI,female,1980\n")
    visits = pd.DataFrame(
        {"patient_code": "KI-1", "visit_date": pd.date_range("2020-01-01", periods=187).strftime("%Y-%m-%d")}
    )
    visits.to_csv(folder / "visits.csv", index=False)
    result = _run("import", "--from", str(folder), "--reason", "x", "--db", migrated_db_url)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert lines == [
        "  patients.csv row 1: sex: unknown sex 'female'; allowed values: F, M",
        "  visits.csv: (dependent rows): 187 row(s) refer to patients rejected above (KI-1); fix those first",
    ]


def test_long_values_are_shown_cut(engine: Engine, migrated_db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "patients.csv").write_text("code,site_code,sex,birth_year\nKI-1,KI," + "F" * 5000 + ",1980\n")
    result = _run("import", "--from", str(folder), "--reason", "x", "--db", migrated_db_url)
    assert result.exit_code == 2 and "(5000 characters)" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 300


def test_a_locked_sqlite_database_gets_its_own_hint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    assert _run("init", "--db", url).exit_code == 0
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    holder = sa.create_engine(url, connect_args={"isolation_level": None})
    with holder.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # another writer holds the lock
        result = _run("import", "--from", str(folder), "--reason", "x", "--db", url + "?timeout=0.2")
        conn.exec_driver_sql("ROLLBACK")
    holder.dispose()
    assert result.exit_code == 1, result.output
    assert "database is locked" in result.stderr and "one writer at a time" in result.stderr
    assert "reachable and initialised" not in result.stderr


def test_a_read_only_database_gets_the_permission_hint(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    assert _run("init", "--db", f"sqlite:///{path}").exit_code == 0
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    result = _run(
        "import", "--from", str(folder), "--reason", "x", "--db", f"sqlite:///file:{path}?mode=ro&uri=true"
    )
    assert result.exit_code == 1, result.output
    assert "refuses to be changed" in result.stderr


@pytest.mark.postgres
def test_a_read_only_postgresql_role_gets_the_permission_hint(pg_url: str, tmp_path: Path) -> None:
    """A role that may read but not write (GRANT SELECT only): the import is refused with the
    privileges hint, nothing is written, no traceback."""
    url = sa.make_url(pg_url)
    schema, role = f"ro_{tmp_path.name[-8:].lower().replace('-', '_')}", "lupuscell_test_reader"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    owner_url = url.set(query={"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    assert _run("init", "--db", owner_url).exit_code == 0
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
        )
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sites.csv").write_text("code,name\nKI,Karolinska\n")
    reader_url = url.set(username=role, query={"options": f"-csearch_path={schema}"})
    try:
        result = _run(
            "import",
            "--from",
            str(folder),
            "--reason",
            "x",
            "--db",
            reader_url.render_as_string(hide_password=False),
        )
        assert result.exit_code == 1, result.output
        assert "refuses to be changed" in result.stderr and "GRANT INSERT" in result.stderr
        assert "Traceback" not in result.output + result.stderr
        with admin.connect() as conn:
            assert conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}".sites').scalar_one() == 0
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')  # and the role's grants on it
        admin.dispose()
