"""``lupuscell users ...`` and ``lupuscell serve --help``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lupuscell.cli.main import app
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    engine = make_engine(url)
    Registry(engine).create("site", {"code": "KI", "name": "Site"}, actor="t")
    engine.dispose()
    return url


def test_users_add_list_set_role_disable(tmp_path: Path) -> None:
    url = _db(tmp_path)
    added = runner.invoke(
        app,
        ["users", "add", "ada", "--role", "admin", "--site", "KI", "--password-stdin", "--db", url],
        input="a long password\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {"username": "ada", "role": "admin", "sites": ["KI"]}
    assert runner.invoke(app, ["users", "set-role", "ada", "monitor", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "ada", "--db", url]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["users", "list", "--json", "--db", url]).output)
    assert listed == [
        {"username": "ada", "full_name": "", "role": "monitor", "sites": ["KI"], "active": False}
    ]


def test_users_add_rejects_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    url = _db(tmp_path)
    short = runner.invoke(
        app, ["users", "add", "bob", "--role", "admin", "--password-stdin", "--db", url], input="short\n"
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    role = runner.invoke(
        app,
        ["users", "add", "bob", "--role", "boss", "--password-stdin", "--db", url],
        input="a long password\n",
    )
    assert role.exit_code == 2 and "unknown role" in role.output
    site = runner.invoke(
        app,
        ["users", "add", "bob", "--role", "monitor", "--site", "XX", "--password-stdin", "--db", url],
        input="a long password\n",
    )
    assert site.exit_code == 2 and "unknown site" in site.output
    missing = runner.invoke(app, ["users", "disable", "nobody", "--db", url])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_serve_help_lists_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--workers", "--demo"):
        assert option in result.output


def test_serve_demo_prints_the_cohort_summary_the_logins_and_the_urls(tmp_path: Path, monkeypatch) -> None:
    """What ``make run`` prints before uvicorn takes over (uvicorn itself is not started here)."""
    import uvicorn

    from lupuscell.cli import synth_cmd

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: started.append({"target": target, **kw}))
    monkeypatch.setattr(synth_cmd, "DEMO_PATIENTS", 24)
    monkeypatch.setenv("LUPUSCELL_SECRET_KEY", "k" * 48)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    result = runner.invoke(app, ["serve", "--demo", "--db", url, "--port", "8123"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Cohort summary" in out and "median FU" in out and "Deaths by cause" not in out
    total = next(line for line in out.splitlines() if line.strip("│ ").startswith("all"))
    assert total.split("│")[2].strip() == "24"  # the demo cohort, all therapies
    assert "Demo logins (password for all: lupuscell-demo)" in out
    for role in ("admin", "investigator", "coordinator", "monitor", "statistician"):
        assert role in out
    assert "http://127.0.0.1:8123/ " in out and "http://127.0.0.1:8123/patient-info" in out
    assert out.index("Cohort summary") < out.index("Demo logins") < out.index("http://127.0.0.1:8123/")
    assert started == [
        {
            "target": "lupuscell.web.asgi:app",
            "host": "127.0.0.1",
            "port": 8123,
            "workers": 1,
            "log_level": "info",
            "proxy_headers": False,
        }
    ]
    again = runner.invoke(app, ["serve", "--demo", "--db", url, "--port", "8123"])  # not loaded twice
    assert again.exit_code == 0 and "empty registry" not in again.output
    assert next(line for line in again.stdout.splitlines() if line.strip("│ ").startswith("all")) == total
