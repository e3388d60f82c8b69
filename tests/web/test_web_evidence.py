"""The evidence page pools through the library, as ``lupuscell evidence pool`` does: the same
numbers, the same selection (one study per cohort group, the rows left out listed) and the
local rows of ``lupuscell evidence add``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_helpers import Web  # type: ignore[import-not-found]

from lupuscell.cli.main import app as cli

LOCAL_ROW = (
    "study_id,year,therapy,outcome,events,total,source_note\n"
    "ourcentre2026,2026,msc,remission,18,20,our programme's registry\n"
)


def _cli_pool(outcome: str, therapy: str) -> dict:
    printed = CliRunner().invoke(
        cli, ["evidence", "pool", "--outcome", outcome, "--therapy", therapy, "--json"]
    )
    assert printed.exit_code == 0, printed.output
    return dict(json.loads(printed.stdout))


def _shown(html: str) -> tuple[int, str, str, str]:
    m = re.search(
        r"<p>(\d+) studies · REML random effects, PLO: pooled proportion\s+<strong>([\d.]+)</strong> "
        r"\(95% CI ([\d.]+)–([\d.]+);",
        html,
    )
    assert m, "no pooled result on the page"
    return int(m.group(1)), m.group(2), m.group(3), m.group(4)


@pytest.mark.parametrize(
    ("outcome", "therapy"), [("remission", "msc"), ("treatment_related_mortality", "hsct")]
)
def test_the_pooled_numbers_are_the_clis(web: Web, outcome: str, therapy: str, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # no local rows on either side
    client, _ = web.login("inv_a")
    html = client.get(f"/evidence?therapy={therapy}&outcome={outcome}").text
    cli_json = _cli_pool(outcome, therapy)
    b = cli_json["back"]
    assert _shown(html) == (
        cli_json["k"],
        f"{b['estimate']:.2f}",
        f"{b['ci_low']:.2f}",
        f"{b['ci_high']:.2f}",
    )
    for left_out in cli_json["excluded"]:
        assert f"<li>{left_out['study_id']} (" in html


def test_local_rows_are_pooled_and_marked(web: Web, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    client, _ = web.login("inv_a")
    k_before = _shown(client.get("/evidence?therapy=msc&outcome=remission").text)[0]
    local = tmp_path / "lupuscell" / "evidence" / "local_studies.csv"
    local.parent.mkdir(parents=True)
    local.write_text(LOCAL_ROW, encoding="utf-8")
    html = client.get("/evidence?therapy=msc&outcome=remission").text
    cli_json = _cli_pool("remission", "msc")
    assert _shown(html)[0] == k_before + 1 == cli_json["k"]
    assert f"{cli_json['back']['estimate']:.2f}" == _shown(html)[1]
    assert re.search(r"<td> 2026 <span class=\"badge\">local</span></td>", html)


def test_an_outcome_without_studies_is_said_not_a_500(web: Web) -> None:
    client, _ = web.login("inv_a")
    response = client.get("/evidence?therapy=car_t&outcome=no_such_outcome")
    assert response.status_code == 200 and "no studies with counts for outcome" in response.text


def test_the_design_page_shows_simons_published_designs_and_the_librarys_numbers(web: Web) -> None:
    """/design for p0 = 0.05, p1 = 0.25, alpha 0.05, beta 0.2: Simon (1989) Table 1 prints the
    optimal design 0/9, 2/17 (EN 12.0, PET 0.63) and the minimax 0/12, 2/16 (EN 13.8, PET 0.54);
    the page shows them, A'Hern's single stage and the monitoring boundaries as the library
    computes them."""
    from lupuscell.design import MonitoringRule, ahern_design, boundaries

    client, _ = web.login("stat_a")
    page = client.get("/design?p0=0.05&p1=0.25&alpha=0.05&beta=0.2&theta=0.2&cohort=5&n_max=30")
    assert page.status_code == 200
    cells = [re.sub(r"<[^>]+>", " ", row).split() for row in re.findall(r"<tr>(.*?)</tr>", page.text)]
    assert cells[1][:5] == ["optimal", "0/9", "2/17", "12.0", "0.630"]
    assert cells[2][:5] == ["minimax", "0/12", "2/16", "13.8", "0.540"]
    single = ahern_design(0.05, 0.25, 0.05, 0.2)
    assert f"n = {single.n}; reject p0 if ≥ {single.r} responses" in page.text
    rule = MonitoringRule(a=1.0, b=9.0, theta=0.2, cutoff=0.9, cohort=5, n_max=30)
    shown = [row for row in cells if len(row) == 3 and row[0].isdigit()]
    expected = [
        [str(b.patients), str(b.min_events) if b.min_events is not None else "—"] for b in boundaries(rule)
    ]
    assert [row[:2] for row in shown] == expected
