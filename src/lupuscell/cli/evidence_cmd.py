"""CLI ``lupuscell evidence``: meta-analysis, the curated studies, forest plots, benchmarking.

Commands: ``meta`` (JSON in, JSON out), ``pool`` (the curated dataset), ``studies`` (list it),
``forest`` (write a forest plot), ``compare`` (a centre against the pooled literature); the KM
reconstruction commands are attached by :mod:`lupuscell.cli.evidence_ipd_cmd`. Invalid input
exits with code 2 and a message on stderr naming the study and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lupuscell.cli import evidence_ipd_cmd
from lupuscell.cli.common import lazy_module
from lupuscell.cli.common import read_json as _read_json
from lupuscell.errors import LupuscellError, Problem, ValidationError

if TYPE_CHECKING:
    from lupuscell.evidence.benchmark import Comparison
    from lupuscell.evidence.meta import MetaResult
    from lupuscell.evidence.studies import Selection

# The evidence library imports lifelines, statsmodels and matplotlib: load it on first use.
benchmark = lazy_module("lupuscell.evidence.benchmark")
plots = lazy_module("lupuscell.evidence.plots")
studies = lazy_module("lupuscell.evidence.studies")
effects = lazy_module("lupuscell.evidence.effects")
meta = lazy_module("lupuscell.evidence.meta")
request = lazy_module("lupuscell.evidence.request")
sensitivity_mod = lazy_module("lupuscell.evidence.sensitivity")
conventions = lazy_module("lupuscell.analysis.conventions")

evidence_app = typer.Typer(
    name="evidence",
    help="Evidence synthesis: meta-analysis (metafor vocabulary), curated SLE cell-therapy studies, plots.",
    no_args_is_help=True,
)

T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except LupuscellError as exc:
        raise _fail(str(exc)) from exc
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from exc


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


def _pool(
    outcome: str,
    therapy: str | None,
    measure: str,
    method: str,
    test: str,
    timepoint: float | None,
    exact: bool,
    cohort_rule: str,
    data: Path | None,
    moderator: str | None = None,
) -> tuple[Selection, MetaResult]:
    df = studies.load_studies(data)
    sel = studies.select_for_pooling(
        df,
        outcome,
        therapy,
        timepoint=timepoint,
        exact=exact,
        cohort_rule="latest" if cohort_rule == "latest" else "largest",
    )
    if sel.rows.empty:
        raise ValidationError.single(
            "",
            "outcome",
            f"no studies with counts for outcome {outcome!r}"
            f"{'' if therapy is None else f' and therapy {therapy!r}'}",
        )
    es = effects.escalc(measure, sel.records())
    mods = None
    if moderator is not None:
        mods = {moderator: _moderator_values(sel, moderator)}
    return sel, meta.rma(es, method if es.k > 1 else "EE", test if es.k > 1 else "z", mods=mods)  # type: ignore[arg-type]


MODERATORS = ("year", "median_followup_months", "timepoint_months", "n")


def _moderator_values(sel: Selection, name: str) -> list[float]:
    if name not in MODERATORS:
        raise ValidationError.single(
            "", "moderator", f"unknown moderator {name!r}; one of {', '.join(MODERATORS)}"
        )
    rows = sel.table()
    missing = [
        Problem(f"study {r['study_id']}", name, "missing, cannot be used as moderator")
        for r in rows
        if r[name] != r[name]
    ]
    if missing:
        raise ValidationError(missing)
    return [float(r[name]) for r in rows]


@evidence_app.command("meta")
def meta_cmd(
    input: str = typer.Option(..., "--input", "-i", help="Request JSON file, or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Fit a meta-analysis from a JSON request (metafor defaults: REML, z, 0.5 only for zero cells)."""
    payload = _read_json(input)
    _, fit = _guard(lambda: request.fit_request(payload))
    if as_json:
        typer.echo(json.dumps(fit.summary(), indent=2))
    else:
        _print_fit(fit, f"{fit.measure} meta-analysis ({fit.method}, {fit.test})")


@evidence_app.command("pool")
def pool_cmd(
    outcome: str = typer.Option(..., help="Outcome family (e.g. remission) or exact outcome code."),
    therapy: str = typer.Option(None, help="hsct, msc or car_t (default: all)."),
    measure: str = typer.Option("PLO", help="PR, PLO, PAS or PFT."),
    method: str = typer.Option("REML", help="EE, DL, REML, ML, PM, HE or SJ."),
    test: str = typer.Option("z", help="z or knha."),
    timepoint: float = typer.Option(None, help="Keep only rows at this timepoint (months)."),
    exact: bool = typer.Option(False, help="Treat --outcome as an exact outcome code, not a family."),
    cohort_rule: str = typer.Option("largest", help="Shared-patient groups: keep the 'largest' or 'latest'."),
    data: Path = typer.Option(None, help="Your own studies CSV, appended to the curated dataset."),
    plot: Path = typer.Option(None, help="Write a forest plot (.png, .svg or .pdf)."),
    funnel: Path = typer.Option(None, help="Write a funnel plot (.png, .svg or .pdf)."),
    moderator: str = typer.Option(
        None, help="Meta-regression on year, median_followup_months, timepoint_months or n."
    ),
    bubble: Path = typer.Option(None, help="With --moderator: write a bubble plot."),
    sensitivity: bool = typer.Option(False, help="Add estimators, knha, leave-one-out, Egger and GLMM."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Pool one outcome of the curated SLE cell-therapy studies."""
    sel, fit = _guard(
        lambda: _pool(outcome, therapy, measure, method, test, timepoint, exact, cohort_rule, data, moderator)
    )
    if bubble is not None:
        if moderator is None:
            raise _fail("--bubble needs --moderator")
        fig_b, _ = plots.bubble_plot(fit, moderator, labels=sel.labels(), transform=True)
        _guard(lambda: plots.save(fig_b, bubble))
    if funnel is not None:
        fig_f, _ = plots.funnel_plot(fit, labels=sel.labels())
        _guard(lambda: plots.save(fig_f, funnel))
    report = None
    if sensitivity:
        report = _guard(
            lambda: sensitivity_mod.sensitivity_report(effects.escalc(measure, sel.records()), method, test)
        )
    if plot is not None:
        forest_fit = fit
        if moderator is not None:
            _, forest_fit = _guard(
                lambda: _pool(outcome, therapy, measure, method, test, timepoint, exact, cohort_rule, data)
            )
        fig, _ = plots.forest_plot(
            forest_fit,
            labels=sel.labels(),
            extra={"Events/N": sel.counts()},
            title=f"{outcome.replace('_', ' ').capitalize()}: "
            f"{studies.THERAPY_LABELS.get(therapy, therapy) if therapy else 'all therapies'}",
        )
        _guard(lambda: plots.save(fig, plot))
    if as_json:
        out = fit.summary()
        out["studies"] = [
            {
                "study_id": r["study_id"],
                "outcome": r["outcome"],
                "events": int(r["events"]),
                "total": int(r["total"]),
                "definition": r["definition"],
                "timepoint_months": None
                if r["timepoint_months"] != r["timepoint_months"]
                else r["timepoint_months"],
            }
            for r in sel.table()
        ]
        out["excluded"] = [{"study_id": s, "outcome": o, "reason": why} for s, o, why in sel.excluded]
        if report is not None:
            out["sensitivity"] = report
        typer.echo(json.dumps(conventions.json_safe(out), indent=2))
        return
    _print_fit(fit, f"{outcome} ({therapy or 'all therapies'}), {measure} {method}")
    for r in sel.table():
        typer.echo(
            f"  {r['study_id']}: {int(r['events'])}/{int(r['total'])} - {r['outcome']}: {r['definition']}"
        )
    for s, o, why in sel.excluded:
        typer.echo(f"  excluded {s} ({o}): {why}")
    for c in fit.coefficients:
        typer.echo(f"  {c.name}: {c.estimate:.4f} (SE {c.se:.4f}, p = {c.p:.3g})")
    if report is not None:
        for row in report["estimators"]:
            typer.echo(
                f"  {row['method']}: {row['estimate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            )
        if "glmm" in report:
            g = report["glmm"]
            typer.echo(f"  binomial-normal GLMM: {g['estimate']:.3f} [{g['ci_low']:.3f}, {g['ci_high']:.3f}]")
        for note in report["notes"]:
            typer.echo(f"  note: {note}")
    typer.echo("caution: definitions differ between studies (see the list above); read before citing.")


@evidence_app.command("studies")
def studies_cmd(
    therapy: str = typer.Option(None, help="Filter: hsct, msc or car_t."),
    outcome: str = typer.Option(None, help="Filter: outcome family or exact code."),
    data: Path = typer.Option(None, help="Your own studies CSV, appended and validated."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout."),
) -> None:
    """List the curated evidence dataset (one row per study x outcome)."""
    df = _guard(lambda: studies.load_studies(data))
    if therapy:
        df = df[df["therapy"] == therapy]
    if outcome:
        df = df[df["outcome"].isin(studies.outcome_codes(outcome))]
    cols = [
        "study_id",
        "year",
        "therapy",
        "outcome",
        "events",
        "total",
        "timepoint_months",
        "cohort_group",
    ]
    if as_json:
        typer.echo(
            df[[*cols, "definition", "doi", "pmid", "source_note"]].to_json(orient="records", indent=2)
        )
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
) -> None:
    """Write a forest plot (study rows, weights, subgroup and overall diamonds, prediction interval)."""
    if (input is None) == (outcome is None):
        raise _fail("give exactly one of --input or --outcome")

    def build() -> tuple[Any, Any]:
        if input is not None:
            payload = _read_json(input)
            es, fit = request.fit_request(payload)
            groups = [s.get("group") for s in payload.get("studies", [])]
            if all(g is not None for g in groups) and len(set(groups)) > 1:
                sg = meta.subgroup_analysis(es, [str(g) for g in groups], fit.method, fit.test)  # type: ignore[arg-type]
                return plots.forest_plot(sg, groups=[str(g) for g in groups])
            return plots.forest_plot(fit)
        df = studies.load_studies()
        sel = studies.select_for_pooling(df, outcome, therapy)
        es = effects.escalc(measure, sel.records())
        if therapy is None and sel.rows["therapy"].nunique() > 1:
            groups = [studies.THERAPY_LABELS.get(str(t), str(t)) for t in sel.rows["therapy"]]
            sg = meta.subgroup_analysis(es, groups, method, test)  # type: ignore[arg-type]
            return plots.forest_plot(sg, groups=groups, labels=sel.labels(), extra={"Events/N": sel.counts()})
        fit = meta.rma(es, method, test)  # type: ignore[arg-type]
        return plots.forest_plot(fit, labels=sel.labels(), extra={"Events/N": sel.counts()})

    fig, data = _guard(build)
    _guard(lambda: plots.save(fig, output))
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
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON on stdout."),
) -> None:
    """Put a centre's own rate beside the pooled literature estimate and its prediction interval."""

    def build() -> Comparison:
        _, fit = _pool(outcome, therapy, measure, method, "z", None, False, "largest", None)
        centre = benchmark.CentreResult(label=label, events=events, total=total)
        return benchmark.compare(centre, fit, outcome)

    cmp = _guard(build)
    if plot is not None:
        fig, _ = benchmark.comparison_plot(cmp)
        _guard(lambda: plots.save(fig, plot))
    if as_json:
        typer.echo(json.dumps(cmp.to_dict(), indent=2))
    else:
        typer.echo(cmp.sentence)


_ipd_registered = False


def register(app: typer.Typer) -> None:
    """Attach the ``evidence`` group (and the KM-reconstruction commands) to the root app."""
    global _ipd_registered
    if not _ipd_registered:
        evidence_ipd_cmd.register(evidence_app)
        _ipd_registered = True
    app.add_typer(evidence_app, name="evidence")
