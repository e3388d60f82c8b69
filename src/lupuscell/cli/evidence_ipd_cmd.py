"""CLI: ``lupuscell evidence reconstruct``: patient data rebuilt from a published KM curve.

A thin shell over :mod:`lupuscell.evidence.ipd` (Guyot et al. 2012, BMC Med Res Methodol
12:9). Input files (see docs/evidence/reconstruct.md):

* ``--curve``: CSV with header ``time,survival``, one digitised point per row, survival as a
  proportion (0-1; ``--percent`` for 0-100);
* ``--at-risk``: CSV with header ``time,n_risk``, the published numbers at risk, first row at
  time 0.

Lines starting with ``#`` are comments. The rebuilt data are written as CSV ``time,event``
(1 event, 0 censored).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lupuscell.cli.common import fail, fail_validation
from lupuscell.errors import LupuscellError, ValidationError

if TYPE_CHECKING:  # lupuscell.evidence.ipd pulls in lifelines: imported when the command runs
    from lupuscell.evidence.ipd import Reconstruction


def _fmt_time(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "not reached"


def summary_lines(rec: Reconstruction, landmarks: list[float], alpha: float = 0.05) -> list[str]:
    """The human-readable summary printed by ``evidence reconstruct``."""
    s = rec.summary(landmarks=landmarks, alpha=alpha)
    level = f"{100 * (1 - alpha):g}% CI"
    reported = f", reported total {rec.total_events}" if rec.total_events is not None else ""
    lines = [
        f"Reconstructed {rec.n} patients: {rec.events} events, {rec.censored} censored{reported}",
        f"Median: {_fmt_time(s.median)} "
        f"({level} {_fmt_time(s.median_ci_low)} to {_fmt_time(s.median_ci_high)})",
    ]
    for lm in s.landmarks:
        if math.isnan(lm.survival):
            lines.append(f"S({lm.time:g}): beyond the end of the curve")
        else:
            lines.append(f"S({lm.time:g}) = {lm.survival:.3f} ({level} {lm.ci_low:.3f} to {lm.ci_high:.3f})")
    f = rec.fit
    lines.append(
        f"Fit vs digitised curve: RMSE {f.rmse:.4f}, mean |error| {f.mean_abs_error:.4f}, "
        f"max |error| {f.max_abs_error:.4f}, KS distance {f.ks_distance:.4f} ({f.n_points} points)"
    )
    lines.extend(f"warning: {w}" for w in rec.warnings)
    return lines


def register(evidence_app: typer.Typer) -> None:
    """Attach the reconstruction commands to the ``evidence`` sub-app."""

    @evidence_app.command("reconstruct")
    def reconstruct(
        curve: Path = typer.Option(
            ...,
            "--curve",
            help="Digitised Kaplan-Meier curve: CSV with header 'time,survival' (survival 0-1).",
        ),
        at_risk: Path | None = typer.Option(
            None,
            "--at-risk",
            help="Published numbers at risk: CSV with header 'time,n_risk', first row at time 0.",
        ),
        n_patients: int | None = typer.Option(
            None, "--n-patients", "-N", help="Initial number of patients (required without --at-risk)."
        ),
        total_events: int | None = typer.Option(
            None, "--total-events", "-D", help="Total number of events reported in the paper."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Write the rebuilt data (CSV 'time,event') here; '-' for stdout."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
        plot: Path | None = typer.Option(
            None, "--plot", help="Draw digitised vs reconstructed curve (.png, .svg or .pdf)."
        ),
        landmark: list[float] = typer.Option(
            [], "--landmark", help="Report survival at this time (repeatable)."
        ),
        percent: bool = typer.Option(False, "--percent", help="Survival in the curve CSV is 0-100."),
        censor_placement: str = typer.Option(
            "midpoint", "--censor-placement", help="'midpoint' (IPDfromKM) or 'spread' (Guyot's times)."
        ),
        time_unit: str = typer.Option("months", "--time-unit", help="Time unit, for the plot's axis label."),
    ) -> None:
        """Rebuild patient-level data from a digitised KM curve and its risk table (Guyot 2012)."""
        to_stdout = out is not None and str(out) == "-"
        if to_stdout and as_json:
            raise fail("--out - and --json both want stdout; write the IPD to a file")
        rec = _run(curve, at_risk, n_patients, total_events, censor_placement, percent, plot, time_unit)
        _report(rec, out, as_json, plot, landmark)


def _run(
    curve: Path,
    at_risk: Path | None,
    n_patients: int | None,
    total_events: int | None,
    censor_placement: str,
    percent: bool,
    plot: Path | None,
    time_unit: str,
) -> Reconstruction:
    """Reconstruct (and draw, if asked); a library error exits 2 naming the row and field."""
    from lupuscell.evidence.ipd import CENSOR_PLACEMENTS, reconstruct_from_csv

    try:
        if censor_placement not in CENSOR_PLACEMENTS:
            raise ValidationError.single(
                "options", "--censor-placement", f"unknown {censor_placement!r}; use midpoint or spread"
            )
        rec = reconstruct_from_csv(
            curve,
            at_risk,
            n_patients=n_patients,
            total_events=total_events,
            censor_placement="spread" if censor_placement == "spread" else "midpoint",
            scale="percent" if percent else "proportion",
        )
        if plot is not None:
            from lupuscell.evidence.ipd_plot import plot_reconstruction
            from lupuscell.reports.figures import save_figure

            save_figure(plot_reconstruction(rec, time_unit=time_unit), plot, dpi=150, tight=False)
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except LupuscellError as exc:
        raise fail(str(exc)) from None
    return rec


def _report(
    rec: Reconstruction, out: Path | None, as_json: bool, plot: Path | None, landmark: list[float]
) -> None:
    """Write the rebuilt patients and print the summary (text or JSON)."""
    to_stdout = out is not None and str(out) == "-"
    if out is not None:
        if to_stdout:
            rec.ipd.to_csv(sys.stdout, index=False, float_format="%.6g")
        else:
            rec.ipd.to_csv(out, index=False, float_format="%.6g")
    if as_json:
        payload = rec.to_dict(landmarks=landmark)
        payload["ipd_file"] = str(out) if out is not None else None
        payload["plot_file"] = str(plot) if plot is not None else None
        typer.echo(json.dumps(payload, indent=2))
        return
    for line in summary_lines(rec, landmark):
        typer.echo(line, err=to_stdout)
    if out is not None and not to_stdout:
        typer.echo(f"IPD written to {out}", err=to_stdout)
    elif out is None:
        typer.echo("(use --out FILE.csv to write the rebuilt patients)", err=True)
    if plot is not None:
        typer.echo(f"Plot written to {plot}", err=to_stdout)
