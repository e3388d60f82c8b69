"""CLI commands of the design group: ``lupuscell design ...``.

Thin shell over :mod:`lupuscell.design`: parse, call, render. JSON goes to stdout (``--json``),
tables to stdout otherwise, progress bars and errors to stderr; invalid input exits with
code 2 and names the parameter. See docs/design/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell.errors import LupuscellError, ValidationError

EXIT_INVALID = 2

_err = Console(stderr=True)
_out = Console()

design_app = typer.Typer(
    name="design",
    help=(
        "Trial design: Simon two-stage, exact single-stage, Bayesian safety monitoring, "
        "sample size, simulation, report."
    ),
    no_args_is_help=True,
)
sample_size_app = typer.Typer(
    name="sample-size",
    help="Two-arm sample size: binary response, continuous change (SLEDAI-2K), time to event.",
    no_args_is_help=True,
)
design_app.add_typer(sample_size_app, name="sample-size")


def _fail(exc: LupuscellError) -> typer.Exit:
    if isinstance(exc, ValidationError):
        for p in exc.problems:
            _err.print(
                f"[bold red]error:[/] --{p.field.replace('_', '-')}: {p.message}",
                highlight=False,
                soft_wrap=True,
            )
    else:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)


def _bad(option: str, message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {option}: {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)


def _emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2))


def _floats(option: str, text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise _bad(option, f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise _bad(option, "give at least one value")
    return values


@contextmanager
def _progress(description: str, total: int, show: bool = True) -> Iterator[Any]:
    """A Rich progress bar on stderr; yields ``advance(step)``."""
    if not show:
        yield lambda step=1: None
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as prog:
        task = prog.add_task(description, total=total)
        yield lambda step=1: prog.advance(task, step)


# --------------------------------------------------------------------------- simon / single-stage

P0 = typer.Option(..., "--p0", help="Uninteresting response rate (H0: p <= p0).")
P1 = typer.Option(..., "--p1", help="Target response rate (H1: p >= p1), greater than p0.")
ALPHA = typer.Option(0.05, "--alpha", help="Maximum one-sided type I error, in (0, 0.5).")
BETA = typer.Option(0.2, "--beta", help="Maximum type II error (power = 1 - beta), in (0, 0.5).")
JSON = typer.Option(False, "--json", help="Print JSON to stdout.")


def _simon_row(table: Table, name: str, d: Any) -> None:
    w = f"{d.w_low:.3f}-{d.w_high:.3f}" if getattr(d, "w_low", None) is not None else ""
    table.add_row(
        name,
        f"{d.r1}/{d.n1}",
        f"{d.r}/{d.n}",
        f"{d.en_p0:.2f}",
        f"{d.pet_p0:.3f}",
        f"{d.alpha:.4f}",
        f"{d.power:.4f}",
        w,
    )


@design_app.command("simon")
def simon_cmd(
    p0: float = P0,
    p1: float = P1,
    alpha: float = ALPHA,
    beta: float = BETA,
    nmax: int = typer.Option(100, "--nmax", help="Largest total sample size searched (<= 1000)."),
    as_json: bool = JSON,
) -> None:
    """Simon (1989) optimal and minimax two-stage designs, and the admissible designs between them.

    Stop after stage 1 if responses <= r1 of n1; reject H0 if responses > r of n.
    """
    from lupuscell.design.simon import simon_design

    try:
        with _progress("Simon search", max(nmax - 1, 1), show=nmax > 150) as advance:
            res = simon_design(p0, p1, alpha, beta, nmax, progress=lambda done, total: advance(1))
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(res.to_dict())
        return
    t = Table(title=f"Simon two-stage designs: p0={p0}, p1={p1}, alpha<={alpha}, power>={1 - beta:.3g}")
    for col in ("design", "r1/n1", "r/n", "EN(p0)", "PET(p0)", "alpha", "power", "w range"):
        t.add_column(col, justify="right")
    _simon_row(t, "optimal", res.optimal)
    _simon_row(t, "minimax", res.minimax)
    for d in res.admissible:
        _simon_row(t, "admissible", d)
    _out.print(t)


@design_app.command("single-stage")
def single_stage_cmd(
    p0: float = P0,
    p1: float = P1,
    alpha: float = ALPHA,
    beta: float = BETA,
    nmax: int = typer.Option(1000, "--nmax", help="Largest n searched (<= 1000)."),
    as_json: bool = JSON,
) -> None:
    """A'Hern (2001) exact single-stage design: reject H0 if responses >= r of n."""
    from lupuscell.design.single_stage import ahern_design

    try:
        d = ahern_design(p0, p1, alpha, beta, nmax)
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(d.to_dict())
        return
    _out.print(
        f"A'Hern single-stage: n = {d.n}, reject H0 if responses >= r = {d.r}; "
        f"exact alpha = {d.alpha:.4f}, power = {d.power:.4f}"
    )


# --------------------------------------------------------------------------- monitor


@design_app.command("monitor")
def monitor_cmd(
    theta: float = typer.Option(..., "--theta", help="Unacceptable event rate (e.g. TRM 0.10)."),
    n_max: int = typer.Option(..., "--n-max", help="Maximum number of patients."),
    prior_a: float = typer.Option(1.0, "--prior-a", help="Beta prior a (> 0)."),
    prior_b: float = typer.Option(1.0, "--prior-b", help="Beta prior b (> 0)."),
    cutoff: float = typer.Option(0.9, "--cutoff", help="Stop if P(rate > theta | data) > cutoff."),
    cohort: int = typer.Option(1, "--cohort", help="Check after every this many patients."),
    rates: str = typer.Option(
        "0.05,0.1,0.15,0.2,0.3", "--rates", help="True event rates for the operating characteristics."
    ),
    as_json: bool = JSON,
) -> None:
    """Bayesian beta-binomial safety monitoring: boundaries and exact operating characteristics."""
    from lupuscell.design.bayes_monitor import MonitoringRule, boundaries, operating_characteristics

    grid = _floats("--rates", rates)
    try:
        rule = MonitoringRule(a=prior_a, b=prior_b, theta=theta, cutoff=cutoff, cohort=cohort, n_max=n_max)
        bounds = boundaries(rule)
        oc = operating_characteristics(rule, grid)
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(
            {
                "rule": {
                    "prior_a": prior_a,
                    "prior_b": prior_b,
                    "theta": theta,
                    "cutoff": cutoff,
                    "cohort": cohort,
                    "n_max": n_max,
                },
                "boundaries": [{"patients": b.patients, "min_events": b.min_events} for b in bounds],
                "operating_characteristics": [
                    {"rate": o.rate, "p_stop": o.p_stop, "expected_n": o.expected_n} for o in oc
                ],
            }
        )
        return
    t = Table(title=f"Stop if P(rate > {theta} | data) > {cutoff}; Beta({prior_a:g}, {prior_b:g}) prior")
    t.add_column("patients", justify="right")
    t.add_column("stop if events >=", justify="right")
    for b in bounds:
        t.add_row(str(b.patients), "-" if b.min_events is None else str(b.min_events))
    _out.print(t)
    t2 = Table(title="Exact operating characteristics")
    for col in ("true rate", "P(stop)", "E[N]"):
        t2.add_column(col, justify="right")
    for o in oc:
        t2.add_row(f"{o.rate:.3f}", f"{o.p_stop:.4f}", f"{o.expected_n:.2f}")
    _out.print(t2)


# --------------------------------------------------------------------------- sample size


@sample_size_app.command("binary")
def ss_binary_cmd(
    p1: float = typer.Option(..., "--p1", help="Response rate, control arm."),
    p2: float = typer.Option(..., "--p2", help="Response rate, experimental arm."),
    alpha: float = ALPHA,
    beta: float = BETA,
    ratio: float = typer.Option(1.0, "--ratio", help="n2 / n1."),
    method: str = typer.Option("normal", "--method", help="normal | normal-cc | arcsine | exact."),
    sided: int = typer.Option(2, "--sided", help="1 or 2."),
    simulate: int = typer.Option(
        0, "--simulate", help="Also estimate power at the result by this many simulated trials."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed for --simulate."),
    as_json: bool = JSON,
) -> None:
    """Two-arm binary response (normal approximation with/without continuity correction, arcsine, exact)."""
    from lupuscell.design.power import binary_sample_size, simulate_binary_power

    try:
        res = binary_sample_size(p1, p2, alpha, beta, ratio, method, sided)  # type: ignore[arg-type]
        payload: dict[str, Any] = res.to_dict()
        if simulate:
            sim = simulate_binary_power(
                res.n1, res.n2, p1, p2, alpha, sided, simulate, seed, correction=method == "normal-cc"
            )
            payload["simulated"] = sim.to_dict()
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(payload)
        return
    _out.print(f"{method}: n1 = {res.n1}, n2 = {res.n2}, total = {res.total} (unrounded n1 = {res.raw:.2f})")
    if simulate:
        s = payload["simulated"]
        _out.print(f"simulated power ({s['replicates']} trials): {s['power']:.4f} (MC SE {s['mc_se']:.4f})")


@sample_size_app.command("continuous")
def ss_continuous_cmd(
    delta: float = typer.Option(..., "--delta", help="Difference in mean change (e.g. SLEDAI-2K points)."),
    sd: float = typer.Option(..., "--sd", help="Standard deviation of the change."),
    alpha: float = ALPHA,
    beta: float = BETA,
    ratio: float = typer.Option(1.0, "--ratio", help="n2 / n1."),
    method: str = typer.Option("t", "--method", help="t | normal."),
    sided: int = typer.Option(2, "--sided", help="1 or 2."),
    as_json: bool = JSON,
) -> None:
    """Two-arm continuous endpoint, e.g. change from baseline in SLEDAI-2K."""
    from lupuscell.design.power import continuous_sample_size

    try:
        res = continuous_sample_size(delta, sd, alpha, beta, ratio, method, sided)  # type: ignore[arg-type]
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(res.to_dict())
        return
    _out.print(f"{method}: n1 = {res.n1}, n2 = {res.n2}, total = {res.total} (unrounded n1 = {res.raw:.2f})")


@sample_size_app.command("survival")
def ss_survival_cmd(
    hr: float = typer.Option(..., "--hr", help="Hazard ratio, experimental vs control."),
    median_control: float = typer.Option(
        ..., "--median-control", help="Median time to event, control arm (e.g. months)."
    ),
    accrual: float = typer.Option(..., "--accrual", help="Accrual period (same unit)."),
    follow_up: float = typer.Option(
        ..., "--follow-up", help="Follow-up after the end of accrual (same unit)."
    ),
    alpha: float = ALPHA,
    beta: float = BETA,
    allocation: float = typer.Option(
        0.5, "--allocation", help="Proportion allocated to the experimental arm."
    ),
    method: str = typer.Option("schoenfeld", "--method", help="schoenfeld | freedman."),
    dropout_hazard: float = typer.Option(
        0.0, "--dropout-hazard", help="Exponential loss-to-follow-up hazard per time unit."
    ),
    sided: int = typer.Option(2, "--sided", help="1 or 2."),
    as_json: bool = JSON,
) -> None:
    """Time to event: events (Schoenfeld / Freedman) and patients (exponential, uniform accrual)."""
    from lupuscell.design.power import survival_sample_size

    try:
        res = survival_sample_size(
            hr,
            median_control,
            accrual,
            follow_up,
            alpha,
            beta,
            allocation,
            method,  # type: ignore[arg-type]
            dropout_hazard,
            sided,
        )
    except LupuscellError as exc:
        raise _fail(exc) from None
    if as_json:
        _emit_json(res.to_dict())
        return
    _out.print(
        f"{method}: {res.events} events (unrounded {res.events_raw:.2f}); P(event) = {res.p_event:.4f}; "
        f"{res.patients} patients"
    )


# --------------------------------------------------------------------------- simulate


@design_app.command("simulate")
def simulate_cmd(
    p0: float | None = typer.Option(
        None, "--p0", help="Find the Simon design for p0/p1 (or give --n1/--r1/--n/--r)."
    ),
    p1: float | None = typer.Option(None, "--p1", help="Target response rate."),
    alpha: float = ALPHA,
    beta: float = BETA,
    design: str = typer.Option("optimal", "--design", help="optimal | minimax (with --p0/--p1)."),
    r1: int | None = typer.Option(
        None, "--r1", help="Stop after stage 1 if responses <= r1 (-1: single stage)."
    ),
    n1: int | None = typer.Option(None, "--n1", help="Stage-1 size (= n for a single stage)."),
    r: int | None = typer.Option(None, "--r", help="Reject H0 if responses > r."),
    n: int | None = typer.Option(None, "--n", help="Total size."),
    rates: str | None = typer.Option(None, "--rates", help="True response rates (default: p0,p1)."),
    dropout: str = typer.Option("0", "--dropout", help="Drop-out probabilities (counted as non-responders)."),
    delayed: str = typer.Option(
        "0", "--delayed", help="Probabilities that a response is not yet visible at the interim."
    ),
    replicates: int = typer.Option(10_000, "--replicates", help="Virtual trials per scenario."),
    seed: int = typer.Option(20260101, "--seed", help="Random seed (reproducible)."),
    as_json: bool = JSON,
) -> None:
    """Simulate a design's operating characteristics with virtual cohorts.

    Scenarios are every combination of --rates, --dropout and --delayed.
    """
    from lupuscell.design.simon import simon_design
    from lupuscell.design.simulate import Scenario, TwoStageRule, simulate_design

    explicit = [v is not None for v in (r1, n1, r, n)]
    try:
        if all(explicit):
            rule = TwoStageRule(r1=int(r1), n1=int(n1), r=int(r), n=int(n))  # type: ignore[arg-type]
        elif any(explicit):
            raise _bad("--r1/--n1/--r/--n", "give all four, or none and --p0/--p1")
        elif p0 is None or p1 is None:
            raise _bad("--p0/--p1", "give --p0 and --p1 (to search the Simon design) or --r1/--n1/--r/--n")
        else:
            if design not in ("optimal", "minimax"):
                raise _bad("--design", f"must be optimal or minimax, got {design!r}")
            res = simon_design(p0, p1, alpha, beta, 100)
            d = res.optimal if design == "optimal" else res.minimax
            rule = TwoStageRule(r1=d.r1, n1=d.n1, r=d.r, n=d.n)
        if rates is None:
            if p0 is None or p1 is None:
                raise _bad("--rates", "give --rates (or --p0/--p1)")
            grid = [p0, p1]
        else:
            grid = _floats("--rates", rates)
        scenarios = [
            Scenario(rate=q, dropout=dr, delayed=dl)
            for q in grid
            for dr in _floats("--dropout", dropout)
            for dl in _floats("--delayed", delayed)
        ]
        with _progress("Simulating", replicates * len(scenarios)) as advance:
            results = simulate_design(rule, scenarios, replicates, seed, progress=advance)
    except LupuscellError as exc:
        raise _fail(exc) from None

    def quantity(q: float) -> str:
        if p0 is not None and q <= p0:
            return "type I error"
        if p1 is not None and q >= p1:
            return "power"
        return "P(reject H0)"

    rows = [{**x.to_dict(), "quantity": quantity(x.scenario.rate)} for x in results]
    if as_json:
        _emit_json(
            {
                "design": {"r1": rule.r1, "n1": rule.n1, "r": rule.r, "n": rule.n},
                "replicates": replicates,
                "seed": seed,
                "scenarios": rows,
            }
        )
        return
    t = Table(
        title=(
            f"Simulated OC of r1/n1 = {rule.r1}/{rule.n1}, r/n = {rule.r}/{rule.n} ({replicates} trials each)"
        )
    )
    for col in ("rate", "dropout", "delayed", "P(reject H0)", "", "P(early stop)", "E[N]"):
        t.add_column(col, justify="right")
    for x, row in zip(results, rows, strict=True):
        t.add_row(
            f"{x.scenario.rate:.3f}",
            f"{x.scenario.dropout:.2f}",
            f"{x.scenario.delayed:.2f}",
            f"{x.reject.value:.4f} ± {x.reject.mc_se:.4f}",
            str(row["quantity"]),
            f"{x.early_stop.value:.4f} ± {x.early_stop.mc_se:.4f}",
            f"{x.expected_n.value:.2f} ± {x.expected_n.mc_se:.2f}",
        )
    _out.print(t)


# --------------------------------------------------------------------------- report


@design_app.command("report")
def report_cmd(
    p0: float = P0,
    p1: float = P1,
    alpha: float = ALPHA,
    beta: float = BETA,
    nmax: int = typer.Option(100, "--nmax", help="Largest total sample size searched."),
    design: str = typer.Option("optimal", "--design", help="optimal | minimax."),
    out: Path = typer.Option(..., "--out", help="Output directory (created if missing)."),
    tox_theta: float | None = typer.Option(
        None, "--tox-theta", help="Add safety monitoring: unacceptable event rate."
    ),
    tox_n_max: int | None = typer.Option(
        None, "--tox-n-max", help="Safety monitoring: maximum patients (default: n)."
    ),
    tox_prior_a: float = typer.Option(1.0, "--tox-prior-a", help="Safety monitoring: Beta prior a."),
    tox_prior_b: float = typer.Option(1.0, "--tox-prior-b", help="Safety monitoring: Beta prior b."),
    tox_cutoff: float = typer.Option(0.9, "--tox-cutoff", help="Safety monitoring: posterior cut-off."),
    tox_cohort: int = typer.Option(1, "--tox-cohort", help="Safety monitoring: patients between looks."),
) -> None:
    """Write a design summary (Markdown + HTML + operating-characteristics PNG) for a protocol."""
    from lupuscell.design.bayes_monitor import MonitoringRule
    from lupuscell.design.report import build_design_summary, write_report

    if design not in ("optimal", "minimax"):
        raise _bad("--design", f"must be optimal or minimax, got {design!r}")
    try:
        monitor = None
        summary = build_design_summary(p0, p1, alpha, beta, nmax, design)  # type: ignore[arg-type]
        if tox_theta is not None:
            monitor = MonitoringRule(
                a=tox_prior_a,
                b=tox_prior_b,
                theta=tox_theta,
                cutoff=tox_cutoff,
                cohort=tox_cohort,
                n_max=tox_n_max if tox_n_max is not None else summary.design.n,
            )
            summary = build_design_summary(p0, p1, alpha, beta, nmax, design, monitor)  # type: ignore[arg-type]
        paths = write_report(summary, out)
    except LupuscellError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _bad("--out", f"cannot write to {out}: {exc.strerror}") from None
    for kind, path in paths.items():
        _err.print(f"wrote {kind}: {path}", highlight=False)
    _emit_json({k: str(v) for k, v in paths.items()})


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.add_typer(design_app, name="design")
