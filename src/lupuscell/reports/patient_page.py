"""The plain-language patient page: one self-contained HTML string from the curated evidence.

:func:`render_patient_page` returns the page (inline CSS, no scripts, no external files) so the
CLI can write it (``lupuscell evidence patient-info --out DIR``) and a web application can serve
it as it is. The text answers the seven questions patients ask; every number in it is a
:class:`lupuscell.evidence.patient_info.Fact` computed from the curated rows when the page is
built, rendered as a link to a "where the numbers come from" list that names its studies, and
the studies link to their PubMed/DOI records. The page states the evidence version and the
newest publication year it includes, and that it is not medical advice.

References
----------
Cochrane (2022). Guidance for writing a Cochrane Plain language summary. Flesch R (1948). A new
readability yardstick. J Appl Psychol 32:221-233 (reading ease, checked in the tests).
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
import pandas as pd

from lupuscell.evidence.patient_info import STATS, PatientFacts, patient_facts
from lupuscell.evidence.studies import study_label


def _reference(r: pd.Series) -> dict[str, Any]:
    journal = f" {r['journal']}," if r["journal"] else ""
    pmid = str(r["pmid"]).strip()
    doi = str(r["doi"]).strip()
    if r["first_author"]:
        text = f"{r['first_author']} et al.{journal} {int(r['year'])}."
    else:  # congress abstracts: no author is recorded, so none is printed (the id is not a name)
        trial = re.search(r"NCT\d{8}", str(r.get("design", "")))
        text = f"{str(r['journal']) or 'Unpublished report'}, {int(r['year'])} (no author recorded"
        text += f"; trial {trial.group(0)})." if trial else ")."
    if pmid:
        text += f" PubMed ID {pmid}."
    link = f"https://doi.org/{doi}" if doi else (f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "")
    return {
        "study_id": str(r["study_id"]),
        "text": text,
        "link": link,
        "link_text": "Read the study" if link else "",
    }


def page_context(facts: PatientFacts) -> dict[str, Any]:
    """What the template needs: the facts (value, stat, row keys, studies), labels, references."""
    refs = facts.cited_rows()
    views = {
        key: {
            "value": f.value,
            "stat": f.stat,
            "rows": ";".join(r.key() for r in f.rows),
            "studies": f.studies,
            "about": f.about,
        }
        for key, f in facts.facts.items()
    }
    return {
        "facts": views,
        "how": STATS,
        "labels": {str(r["study_id"]): study_label(r) for _, r in refs.iterrows()},
        "refs": [_reference(r) for _, r in refs.iterrows()],
        "version": facts.version,
        "newest_year": facts.newest_year,
    }


def render_patient_page(df: pd.DataFrame) -> str:
    """The patient page for the curated rows ``df`` (see the module docstring), as HTML."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lupuscell.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("patient_info.html.j2").render(**page_context(patient_facts(df)))
