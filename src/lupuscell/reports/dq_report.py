"""Files of a data-quality run (``lupuscell dq run --out FILE``): CSV, JSON or HTML.

* CSV - one row per violation (rule, severity, entity, record, patient, site, field, value,
  every value the rule read as JSON), for a spreadsheet or a follow-up import;
* JSON - the report (per rule: count, examples) with every violation;
* HTML - a self-contained page: the summary per rule and the examples (values escaped).
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from lupuscell.registry.dq.batch import DqReport

FORMATS = (".csv", ".json", ".html")
CSV_COLUMNS = (
    "rule_id",
    "severity",
    "entity",
    "record_id",
    "patient_code",
    "site_code",
    "field",
    "value",
    "values",
)


def write_report(report: DqReport, path: Path) -> str:
    """Write ``report`` to ``path`` in the format its suffix names; return the format."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out {path}: the file must end in {', '.join(FORMATS)}")
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for violation in report.violations:
                row = violation.as_dict()
                writer.writerow({**row, "values": json.dumps(row["values"], sort_keys=True)})
    elif suffix == ".json":
        payload = report.as_dict()
        payload["all_violations"] = [v.as_dict() for v in report.violations]
        path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    else:
        path.write_text(html_page(report), encoding="utf-8")
    return suffix[1:]


def _cell(value: Any) -> str:
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def html_page(report: DqReport) -> str:
    """The report as one HTML page (every stored value escaped)."""
    data = report.as_dict()
    rows = []
    for rule in data["rules"]:
        examples = "<br>".join(
            html.escape(
                f"{e['entity']} {e['record_id']} (patient {e['patient_code']}): {e['field']} = {e['value']}"
            )
            for e in rule["examples"]
        )
        cells = "".join(
            _cell(rule[k]) for k in ("rule_id", "entity", "severity", "field", "count", "message")
        )
        rows.append(f"<tr>{cells}<td>{examples}</td></tr>")
    records = ", ".join(f"{html.escape(k)}: {v}" for k, v in data["records"].items())
    scope = "all sites" if report.site is None else f"site {html.escape(report.site)}"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Data-quality report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}</style></head><body>"
        f"<h1>Data-quality report</h1><p>{scope}; {data['violations']} violation(s); records: {records}; "
        f"{data['seconds']} s</p><table><tr><th>rule</th><th>entity</th><th>severity</th><th>field</th>"
        f"<th>count</th><th>message</th><th>examples</th></tr>{''.join(rows)}</table></body></html>"
    )
