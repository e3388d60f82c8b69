"""CLI ``lupuscell predict``: fit the responder and risk models, and apply them to a candidate.

``predict fit`` reads the registry, derives the analysis dataset ADSL, fits the penalised
logistic model of remission by 12 months and the penalised Cox model of relapse-free survival
(:mod:`lupuscell.analysis.prediction`) with bootstrap validation, and writes to ``--out``:
``model.json`` (both models, enough to rebuild them), ``performance.json`` (the TRIPOD-style
summaries, including the optimism-corrected C-statistic and the events per variable) and a
calibration plot per model. ``predict apply`` loads ``model.json`` and prints the predicted
probabilities, with bootstrap intervals, for a registry patient (``--patient CODE``) or for
baseline values in a JSON file (``--input FILE.json``). Errors go to stderr, exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lupuscell import __version__
from lupuscell.cli.common import err, fail, fail_validation, lazy_module, read_json, registry_read_failed
from lupuscell.errors import LupuscellError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from lupuscell.analysis.prediction import PredictionModel

# scikit-learn, statsmodels and matplotlib load on first use, not at every ``lupuscell`` start
prediction = lazy_module("lupuscell.analysis.prediction")
conventions = lazy_module("lupuscell.analysis.conventions")

MODELS = {"remission_12m": "fit_remission_model", "rfs": "fit_rfs_model"}

predict_app = typer.Typer(
    name="predict",
    help="Responder and risk prediction from baseline features (fit on the registry; apply to a candidate).",
    no_args_is_help=True,
)


def _registry_adsl(db: str | None) -> pd.DataFrame:
    """ADSL of the whole registry: the one place this command reads the registry."""
    from sqlalchemy.exc import DBAPIError

    from lupuscell.outcomes.datasets import build_datasets
    from lupuscell.outcomes.endpoints import derive_endpoints
    from lupuscell.registry.session import make_engine
    from lupuscell.registry.tables import from_registry

    engine = make_engine(db)
    try:
        cohort = from_registry(engine)
    except DBAPIError as exc:  # no such table, unreachable server: a hint, never a traceback
        raise registry_read_failed(exc) from None
    finally:
        engine.dispose()
    return build_datasets(cohort, result=derive_endpoints(cohort)).adsl


def _fit_one(name: str, frame: pd.DataFrame, n_bootstrap: int, horizon: float, seed: int) -> PredictionModel:
    progress = Progress(
        TextColumn(f"bootstrap {name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task(name, total=n_bootstrap)
        fit = getattr(prediction, MODELS[name])
        model: PredictionModel = fit(
            frame, n_bootstrap=n_bootstrap, horizon_days=horizon, seed=seed,
            progress=lambda done: progress.update(task, completed=done),
        )
    return model


def _print_performance(models: dict[str, PredictionModel]) -> None:
    table = Table(title="Prediction models (bootstrap optimism-corrected)")
    for col in ("model", "n", "events", "EPV", "C apparent", "C corrected", "slope corrected"):
        table.add_column(col)
    for name, model in models.items():
        s = model.summary()
        table.add_row(
            name, str(s["n"]), str(s["events"]), f"{s['events_per_variable']:.1f}",
            f"{s['c_statistic_apparent']:.3f}", f"{s['c_statistic_corrected']:.3f}",
            f"{s['calibration_slope_corrected']:.2f}",
        )
    Console(stderr=True).print(table)
    for name, model in models.items():
        for warning in model.warnings:
            err.print(f"warning ({name}): {warning}", highlight=False, markup=False)


@predict_app.command("fit")
def fit_command(
    db: str | None = typer.Option(
        None, "--db", help="Registry database URL (default: LUPUSCELL_DATABASE_URL or the embedded SQLite)."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (created if missing)."),
    model: str = typer.Option("both", "--model", help="remission_12m, rfs or both."),
    n_bootstrap: int = typer.Option(
        200, "--bootstrap", min=10, help="Bootstrap samples for the optimism correction."
    ),
    horizon: float = typer.Option(365.0, "--horizon-days", min=1, help="Prediction horizon (days from day 0)."),
    seed: int = typer.Option(20240601, "--seed", help="Seed of the cross-validation and the bootstrap."),
) -> None:
    """Fit the prediction models on the registry and write model.json, performance.json and plots."""
    names = list(MODELS) if model == "both" else [model]
    if any(n not in MODELS for n in names):
        raise fail(f"--model: {model!r}; use remission_12m, rfs or both")
    try:
        frame = prediction.prediction_frame(_registry_adsl(db), horizon_days=horizon)
        models = {name: _fit_one(name, frame, n_bootstrap, horizon, seed) for name in names}
    except ValidationError as exc:
        raise fail_validation(exc) from None
    except LupuscellError as exc:
        raise fail(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    payload = {"lupuscell_version": __version__, "models": {n: m.to_dict() for n, m in models.items()}}
    (out / "model.json").write_text(json.dumps(payload, allow_nan=False), encoding="utf-8")
    performance = {n: m.summary() for n, m in models.items()}
    (out / "performance.json").write_text(json.dumps(performance, indent=2, allow_nan=False), encoding="utf-8")
    for name, fitted in models.items():
        prediction.calibration_plot(fitted).savefig(out / f"calibration_{name}.png", dpi=150)
    _print_performance(models)
    for path in ("model.json", "performance.json", *(f"calibration_{n}.png" for n in models)):
        typer.echo(str(out / path))


def _load_models(directory: Path) -> dict[str, PredictionModel]:
    path = directory / "model.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return {name: prediction.PredictionModel.from_dict(d) for name, d in payload["models"].items()}
    except OSError as exc:
        raise fail(f"--model: cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise fail(f"--model: {path} is not a model written by 'lupuscell predict fit' ({exc})") from None


def _registry_pattern(db: str | None, code: str) -> dict[str, Any]:
    adsl = _registry_adsl(db)
    frame = prediction.prediction_frame(adsl)
    row = frame[frame["USUBJID"] == code]
    if row.empty:
        raise fail(f"--patient: no patient {code!r} in the registry")
    outcomes = ("USUBJID", "remission_12m", "rfs_days", "rfs_event")
    return {k: v for k, v in row.iloc[0].to_dict().items() if k not in outcomes}


@predict_app.command("apply")
def apply_command(
    model_dir: Path = typer.Option(..., "--model", help="Directory written by 'lupuscell predict fit'."),
    patient: str | None = typer.Option(
        None, "--patient", help="Registry patient code (baseline values from the registry)."
    ),
    input_file: str | None = typer.Option(
        None, "--input", help="JSON file (- for stdin) with the baseline values, e.g. {\"AGE\": 31, ...}."
    ),
    db: str | None = typer.Option(None, "--db", help="Registry database URL (with --patient)."),
) -> None:
    """Predicted probabilities, with bootstrap intervals, for one candidate (JSON on stdout)."""
    if (patient is None) == (input_file is None):
        raise fail("give exactly one of --patient CODE or --input FILE.json")
    models = _load_models(model_dir)
    if patient is not None:
        pattern = _registry_pattern(db, patient)
    else:
        pattern = read_json(input_file or "-")
        if not isinstance(pattern, dict):
            raise fail("--input: expected a JSON object mapping each predictor to its value")
    known = {c for m in models.values() for c in m.scaling.design.covariates}
    unknown = sorted(set(pattern) - known - {"USUBJID"})
    if unknown:
        raise fail(f"--input: not predictors of the models: {unknown}; expected {sorted(known)}")
    try:
        predictions = {
            name: fitted.predict({k: pattern.get(k) for k in fitted.scaling.design.covariates})
            for name, fitted in models.items()
        }
    except ValidationError as exc:
        raise fail_validation(exc) from None
    result = {"patient": patient, "predictors": pattern, "predictions": predictions}
    typer.echo(json.dumps(conventions.json_safe(result), indent=2, allow_nan=False))


def register(app: typer.Typer) -> None:
    """Attach the ``predict`` group to the root app."""
    app.add_typer(predict_app, name="predict")
