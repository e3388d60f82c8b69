"""CLI ``lupuscell evidence``: meta-analysis, the curated studies, forest plots, benchmarking.

Commands: ``meta`` (JSON in, JSON out), ``pool`` (the curated dataset), ``studies`` (list it),
``forest`` (write a forest plot), ``compare`` (a centre against the pooled literature), ``add``
(append rows to the local evidence file); the report commands (``questions``,
``patient-info``) are attached by :mod:`lupuscell.cli.evidence_report_cmd` and the KM
reconstruction by :mod:`lupuscell.cli.evidence_ipd_cmd`. Every command that reads the curated
evidence filters it by ``--evidence-level`` and ``--cohort-group`` and merges the local file
(``--no-local`` leaves it out). Invalid input exits with code 2 (:mod:`lupuscell.cli.common`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lupuscell.cli import evidence_ipd_cmd, evidence_report_cmd
from lupuscell.cli.common import fail, fail_validation, lazy_module, read_json
from lupuscell.errors import LupuscellError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from lupuscell.evidence.benchmark import Comparison
    from lupuscell.evidence.meta import MetaResult
    from lupuscell.evidence.pooling import PooledAnalysis
    from lupuscell.evidence.studies import StudyFilter

# The evidence library imports lifelines, statsmodels and matplotlib: load it on first use.
benchmark = lazy_module("lupuscell.evidence.benchmark")
plots = lazy_module("lupuscell.evidence.plots")
studies = lazy_module("lupuscell.evidence.studies")
effects = lazy_module("lupuscell.evidence.effects")
meta = lazy_module("lupuscell.evidence.meta")
request = lazy_module("lupuscell.evidence.request")
pooling = lazy_module("lupuscell.evidence.pooling")
local_mod = lazy_module("lupuscell.evidence.local")
figures = lazy_module("lupuscell.reports.figures")

evidence_app = typer.Typer(
    name="evidence",
    help="Evidence synthesis: meta-analysis (metafor vocabulary), curated SLE cell-therapy studies, plots.",
    no_args_is_help=True,
)

T = TypeVar("T")

LEVEL_HELP = (
    "Keep only rows of this evidence level (repeatable): "
    "table, abstract, conference_abstract, secondary, low_confidence."
)
GROUP_HELP = "Keep only rows of this cohort group (repeatable; 'none' = rows in no group)."
NO_LEVEL_HELP = "Leave out rows of this evidence level (repeatable)."
NO_GROUP_HELP = "Leave out rows of this cohort group (repeatable), e.g. nanjing_msc."
LOCAL_HELP = "Merge the local evidence file written by 'lupuscell evidence add' (marked local)."


def guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; a library error exits 2 with its message (one line per problem)."""
    try:
        return fn()
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except (LupuscellError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None


def study_filter(
    levels: list[str] | None,
    no_levels: list[str] | None,
    groups: list[str] | None,
    no_groups: list[str] | None,
) -> StudyFilter:
    return studies.StudyFilter(
        tuple(levels or ()), tuple(no_levels or ()), tuple(groups or ()), tuple(no_groups or ())
    )


def load(data: Path | None, use_local: bool) -> pd.DataFrame:
    """The curated rows + ``--data`` + (unless ``--no-local``) the local file, validated."""
    local = local_mod.local_evidence_path() if use_local else None
    return guard(lambda: studies.load_studies(data, local=local))


def save(fig: Any, path: Path) -> None:
    guard(lambda: figures.save_figure(fig, path))


def _print_fit(fit: MetaResult, title: str) -> None:
    console = Console()
    table = Table(title=title)
    if fit.coefficients:
        for col in ("coefficient", "estimate", "SE", "95% CI", "p"):
            table.add_column(col)
        for c in fit.coefficients:
            table.add_row(
                c.name, f"{c.estimate:.4f}", f"{c.se:.4f}", f"{c.ci_low:.4f} to {c.ci_high:.4f}", f"{c.p:.3g}"
            )
        console.print(table)
        r2 = "NA" if fit.r2 is None else f"{fit.r2:.1f}%"
        console.print(
            f"k = {fit.k}; residual tau² = {fit.tau2:.4f}; R² = {r2}; QE = {fit.q:.2f} (df = {fit.q_df}); "
            f"QM = {fit.qm:.2f} (p = {fit.qm_p:.3g}); coefficients on the {fit.measure} scale"
        )
        return
    for col in ("k", "estimate", "95% CI", "95% PI", "tau²", "I² (%)", "Q (p)"):
        table.add_column(col)
    b = fit.back
    table.add_row(
        str(fit.k),
        f"{b.estimate:.3f}",
        f"{b.ci_low:.3f} to {b.ci_high:.3f}",
        f"{b.pred_low:.3f} to {b.pred_high:.3f}",
        f"{fit.tau2:.4f}",
        "NA" if fit.i2 is None else f"{fit.i2:.1f}",
        f"{fit.q:.2f} ({'NA' if fit.q_p is None else f'{fit.q_p:.3g}'})",
    )
    console.print(table)
    for note in fit.notes:
        console.print(f"note: {note}")


@evidence_app.command("meta")
def meta_cmd(
    input: str = typer.Option(..., "--input", "-i", help="Request JSON file, or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Fit a meta-analysis from a JSON request (metafor defaults: REML, z, 0.5 only for zero cells)."""
    payload = read_json(input)
    _, fit = guard(lambda: request.fit_request(payload))
    if as_json:
        typer.echo(json.dumps(fit.summary(), indent=2))
    else:
        _print_fit(fit, f"{fit.measure} meta-analysis ({fit.method}, {fit.test})")


def _write_pool_plots(a: PooledAnalysis, plot: Path | None, funnel: Path | None, bubble: Path | None) -> None:
    if bubble is not None:
        if a.options.moderator is None:
            raise fail("--bubble needs --moderator")
        fig_b, _ = plots.bubble_plot(a.fit, a.options.moderator, labels=a.labels(), transform=True)
        save(fig_b, bubble)
    if funnel is not None:
        fig_f, _ = plots.funnel_plot(a.fit, labels=a.labels())
        save(fig_f, funnel)
    if plot is not None:
        fig, _ = plots.pooled_forest_plot(a)
        save(fig, plot)


def _print_pool(a: PooledAnalysis) -> None:
    o = a.options
    _print_fit(a.fit, f"{o.outcome} ({o.therapy or 'all therapies'}), {o.measure} {o.method}")
    for line in a.text_lines():
        typer.echo(line)


@evidence_app.command("pool")
def pool_cmd(
    outcome: str = typer.Option(
        ..., help="Outcome family (e.g. remission), exact code, or measure stem (MD/MC)."
    ),
    therapy: str = typer.Option(None, help="hsct, msc or car_t (default: all)."),
    measure: str = typer.Option(
        "PLO",
        help="PR, PLO, PAS, PFT (proportions); MD, SMD, RR, OR, RD (trial arms); MC, SMCR (before/after).",
    ),
    method: str = typer.Option("REML", help="EE, DL, REML, ML, PM, HE or SJ."),
    test: str = typer.Option("z", help="z or knha."),
    timepoint: float = typer.Option(None, help="Keep only rows at this timepoint (months)."),
    exact: bool = typer.Option(False, help="Treat --outcome as an exact outcome code, not a family."),
    cohort_rule: str = typer.Option("largest", help="Shared-patient groups: keep the 'largest' or 'latest'."),
    correlation: float = typer.Option(
        0.5, help="MC/SMCR: assumed correlation between baseline and follow-up (not published)."
    ),
    data: Path = typer.Option(None, help="Your own studies CSV, appended to the curated dataset."),
    plot: Path = typer.Option(None, help="Write a forest plot (.png, .svg or .pdf)."),
    funnel: Path = typer.Option(None, help="Write a funnel plot (.png, .svg or .pdf)."),
    moderator: str = typer.Option(
        None, help="Meta-regression on year, median_followup_months, timepoint_months, n or dose_per_kg."
    ),
    bubble: Path = typer.Option(None, help="With --moderator: write a bubble plot."),
    sensitivity: bool = typer.Option(False, help="Add estimators, knha, leave-one-out, Egger and GLMM."),
    evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
    exclude_evidence_level: list[str] = typer.Option(None, "--exclude-evidence-level", help=NO_LEVEL_HELP),
    cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
    exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
    use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Pool one outcome of the curated SLE cell-therapy studies (one study per cohort group)."""
    options = pooling.PoolOptions(
        outcome=outcome,
        therapy=therapy,
        measure=measure,
        method=method,
        test=test,
        timepoint=timepoint,
        exact=exact,
        cohort_rule=cohort_rule,
        moderator=moderator,
        correlation=correlation,
        filter=study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group),
    )
    df = load(data, use_local)
    if bubble is not None and moderator is None:
        raise fail("--bubble needs --moderator")
    analysis = guard(lambda: pooling.pool_curated(df, options, sensitivity=sensitivity))
    _write_pool_plots(analysis, plot, funnel, bubble)
    if as_json:
        typer.echo(json.dumps(analysis.document(), indent=2))
        return
    _print_pool(analysis)


def _print_version(df: pd.DataFrame) -> None:
    v = studies.dataset_version(df)
    typer.echo(v.line())
    n_local = int(df["local"].sum())
    if n_local:
        typer.echo(f"local rows (lupuscell evidence add): {n_local}, from {local_mod.local_evidence_path()}")
    typer.echo("")
    typer.echo(v.changes)


@evidence_app.command("studies")
def studies_cmd(
    therapy: str = typer.Option(None, help="Filter: hsct, msc or car_t."),
    outcome: str = typer.Option(None, help="Filter: outcome family or exact code."),
    data: Path = typer.Option(None, help="Your own studies CSV, appended and validated."),
    version: bool = typer.Option(
        False, "--version", help="Print the dataset's version and changes, then exit."
    ),
    evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
    exclude_evidence_level: list[str] = typer.Option(None, "--exclude-evidence-level", help=NO_LEVEL_HELP),
    cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
    exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
    use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout."),
) -> None:
    """List the curated evidence dataset (one row per study x outcome)."""
    df = load(data, use_local)
    if version:
        _print_version(df)
        return
    filt = study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group)
    df = guard(lambda: filt.apply(df))
    if therapy:
        guard(lambda: studies.check_therapy(therapy))
        df = df[df["therapy"] == therapy]
    if outcome:
        df = df[df["outcome"].isin(studies.outcome_codes(outcome))]
    cols = ["study_id", "year", "therapy", "outcome", "events", "total", "mean", "sd", "timepoint_months"]
    cols += ["cohort_group", "evidence_level"]
    if as_json:
        extra = ["definition", "doi", "pmid", "source_note", "local"]
        typer.echo(df[[*cols, *extra]].to_json(orient="records", indent=2))
        return
    table = Table(title=f"SLE cell-therapy evidence ({len(df)} rows)")
    for c in cols:
        table.add_column(c, overflow="fold")
    for row in df[cols].to_dict(orient="records"):
        table.add_row(*[_cell(row[c]) for c in cols])
    Console().print(table)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if v != v else f"{v:g}"
    return str(v)


def _forest_from_request(input: str) -> tuple[Any, Any]:
    payload = read_json(input)
    es, fit = request.fit_request(payload)
    groups = [s.get("group") for s in payload.get("studies", [])]
    if all(g is not None for g in groups) and len(set(groups)) > 1:
        sg = meta.subgroup_analysis(es, [str(g) for g in groups], fit.method, fit.test)
        return plots.forest_plot(sg, groups=[str(g) for g in groups])
    return plots.forest_plot(fit)


def _forest_from_dataset(
    df: pd.DataFrame,
    outcome: str,
    therapy: str | None,
    measure: str,
    method: str,
    test: str,
    filt: StudyFilter,
) -> tuple[Any, Any, Any]:
    sel = studies.select_for_pooling(filt.apply(df), outcome, therapy)
    if sel.rows.empty:
        raise ValidationError.single("", "outcome", f"no studies with counts for outcome {outcome!r}")
    es = effects.escalc(measure, sel.records())
    extra = {"Events/N": sel.counts(), "Level": sel.levels(short=True)}
    if therapy is None and sel.rows["therapy"].nunique() > 1:
        groups = [studies.THERAPY_LABELS.get(str(t), str(t)) for t in sel.rows["therapy"]]
        sg = meta.subgroup_analysis(es, groups, method, test)
        return (*plots.forest_plot(sg, groups=groups, labels=sel.labels(), extra=extra), sel)
    fit = meta.rma(es, method, test)
    return (*plots.forest_plot(fit, labels=sel.labels(), extra=extra), sel)


@evidence_app.command("forest")
def forest_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="Figure file (.png, .svg or .pdf)."),
    input: str = typer.Option(
        None, "--input", "-i", help="Request JSON (as for `meta`); studies may carry 'group'."
    ),
    outcome: str = typer.Option(None, help="Or: pool this outcome of the curated dataset."),
    therapy: str = typer.Option(None, help="With --outcome: one therapy; omit for subgroups by therapy."),
    measure: str = typer.Option("PLO", help="With --outcome: PR, PLO, PAS or PFT."),
    method: str = typer.Option("REML", help="With --outcome: tau^2 estimator or EE."),
    test: str = typer.Option("z", help="With --outcome: z or knha."),
    data_out: Path = typer.Option(None, "--data-out", help="Also write the plotted numbers as CSV."),
    evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
    exclude_evidence_level: list[str] = typer.Option(None, "--exclude-evidence-level", help=NO_LEVEL_HELP),
    cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
    exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
    use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
) -> None:
    """Write a forest plot (study rows, weights, subgroup and overall diamonds, prediction interval)."""
    if (input is None) == (outcome is None):
        raise fail("give exactly one of --input or --outcome")
    if input is not None:
        fig, data = guard(lambda: _forest_from_request(input))
    else:
        df = load(None, use_local)
        filt = study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group)
        fig, data, sel = guard(
            lambda: _forest_from_dataset(df, outcome, therapy, measure, method, test, filt)
        )
        for s, o, why in sel.excluded:
            typer.echo(f"excluded {s} ({o}): {why}", err=True)
    save(fig, output)
    if data_out is not None:
        data.to_csv(data_out, index=False)
    typer.echo(str(output))


@evidence_app.command("compare")
def compare_cmd(
    outcome: str = typer.Option(..., help="Outcome family or exact code, e.g. treatment_related_mortality."),
    therapy: str = typer.Option(..., help="hsct, msc or car_t."),
    events: int = typer.Option(..., help="The centre's number of events."),
    total: int = typer.Option(..., help="The centre's number of patients."),
    label: str = typer.Option("This centre", help="Name of the centre in the sentence and plot."),
    measure: str = typer.Option("PLO", help="Measure for pooling the literature."),
    method: str = typer.Option("REML", help="tau^2 estimator."),
    plot: Path = typer.Option(None, help="Write the comparison plot (.png, .svg or .pdf)."),
    evidence_level: list[str] = typer.Option(None, "--evidence-level", help=LEVEL_HELP),
    exclude_evidence_level: list[str] = typer.Option(None, "--exclude-evidence-level", help=NO_LEVEL_HELP),
    cohort_group: list[str] = typer.Option(None, "--cohort-group", help=GROUP_HELP),
    exclude_cohort_group: list[str] = typer.Option(None, "--exclude-cohort-group", help=NO_GROUP_HELP),
    use_local: bool = typer.Option(True, "--local/--no-local", help=LOCAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON on stdout."),
) -> None:
    """Put a centre's own rate beside the pooled literature estimate and its prediction interval."""
    options = pooling.PoolOptions(
        outcome=outcome,
        therapy=therapy,
        measure=measure,
        method=method,
        filter=study_filter(evidence_level, exclude_evidence_level, cohort_group, exclude_cohort_group),
    )
    df = load(None, use_local)

    def build() -> Comparison:
        analysis = pooling.pool_curated(df, options)
        centre = benchmark.CentreResult(label=label, events=events, total=total)
        return benchmark.compare(centre, analysis.fit, outcome)

    cmp = guard(build)
    if plot is not None:
        fig, _ = benchmark.comparison_plot(cmp)
        save(fig, plot)
    if as_json:
        typer.echo(json.dumps(cmp.to_dict(), indent=2))
    else:
        typer.echo(cmp.sentence)


@evidence_app.command("add")
def add_cmd(
    row: Path = typer.Option(..., "--row", help="CSV with the curated columns: one or more new rows."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; write nothing."),
) -> None:
    """Validate new evidence rows and append them to the local evidence file (merged by every command)."""
    import pandas as pd

    path = local_mod.local_evidence_path()
    try:
        new = pd.read_csv(row, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise fail(f"--row: cannot read {row}: {exc}") from None
    rows = guard(lambda: local_mod.check_new_rows(new, row.name, path))
    if dry_run:
        typer.echo(f"{len(rows)} row(s) valid; nothing written (--dry-run)")
        return
    header = not path.exists()
    guard(lambda: path.parent.mkdir(parents=True, exist_ok=True))
    guard(lambda: rows.to_csv(path, mode="a", header=header, index=False))
    typer.echo(f"{len(rows)} row(s) added to {path} (marked local in every evidence command)")


_sub_registered = False


def register(app: typer.Typer) -> None:
    """Attach the ``evidence`` group (with the report and KM-reconstruction commands) to the root app."""
    global _sub_registered
    if not _sub_registered:
        evidence_report_cmd.register(evidence_app)
        evidence_ipd_cmd.register(evidence_app)
        _sub_registered = True
    app.add_typer(evidence_app, name="evidence")
