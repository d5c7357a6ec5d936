"""``clinai update CONFIG --monitoring RUN``: propose, validate and register a model update.

RUN is a ``clinai monitor`` output folder. Its ``monitoring.json`` names the
approved model version it monitored and the predictions files (``risk``,
``outcome``, ``feature:<name>`` columns). The monitored periods with outcomes are
split in time: the update is chosen and fitted on the earlier periods by the closed
testing procedure of Vergouwe et al. (2017) (no update, recalibration in the large,
logistic recalibration or revision: a refit of the approved version's model family
with its hyperparameters), and validated on the later periods beside the original
model (AUROC, O/E and calibration slope with patient-clustered bootstrap CIs). The
update is registered as a new version with the alias ``candidate`` (``approved`` is
left to ``clinai approve``), with ``update.json`` and ``change_log.md`` logged with
it and an audit-log record of kind ``update``. Nothing is registered when the
procedure keeps the original model. This module reads the inputs, proposes and
validates the update; :mod:`clinai.runs._update_publish` writes and registers it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai._utils import sha256_file
from clinai.config import load_config
from clinai.exceptions import ClinaiError
from clinai.runs._monitor_inputs import FEATURE_PREFIX, read_stream
from clinai.runs._plan import check_monitoring_plan
from clinai.runs._prepare import config_sha256
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import absolute_sqlite_uri
from clinai.runs._update_publish import FIGURES, publish_update

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.evaluation.monitoring._updating import UpdateProposal
    from clinai.runs._monitor_inputs import Stream

__all__ = ["UpdateError", "update"]

logger = logging.getLogger(__name__)

MONITORING_FILE = "monitoring.json"
APPROVED_ALIAS = "approved"
#: Folds of the out-of-fold risks of a flexible family's revision.
REVISION_FOLDS = 5

OUT_EXISTS = "--out {path} exists: choose a new folder for the update (nothing is overwritten)"
DEFAULT_OUT_EXISTS = (
    "{path} exists (the default folder of an update of this monitoring run): pass --out with a "
    "new folder, or remove the earlier update (nothing is overwritten)"
)
RISKS_DIFFER = (
    "column 'risk' of the predictions is not what version {version} of {model!r} gives for their "
    "feature columns (largest difference {gap:.3g}): pass predictions `clinai score` wrote with "
    "that version"
)
#: Largest difference between a stored risk and the approved model's risk for its features.
RISK_TOLERANCE = 1e-6
NO_MONITORING = "--monitoring {path} has no monitoring.json: pass a folder `clinai monitor` wrote"
BAD_MONITORING = "{path} is not a monitoring.json of `clinai monitor` ({problem})"
TRACKING_OFF = (
    "tracking.enabled is false in {config}: an update is registered in the MLflow model "
    "registry; turn tracking on"
)
NO_APPROVED = (
    "model {model!r} has no version with the alias @approved at {uri}: an update is made "
    "against the approved version (`clinai approve`)"
)
NOT_APPROVED = (
    "{path} monitored version {monitored} of {model!r}, but @approved is version {approved}: "
    "monitor the approved version (`clinai monitor`), then update"
)
PLAN_DIFFERS = (
    "{path} was made under another monitoring plan than the one in {config} (sha256 differs): "
    "run `clinai monitor` again with this config"
)
PREDICTIONS_NOT_FOUND = (
    "input file {name!r} named in {path} was not found (looked beside it, in the working "
    "directory and in the folders beside the monitoring folder): pass it with --predictions "
    "or --outcomes"
)
PREDICTIONS_CHANGED = (
    "input file {file} differs from the one {path} monitored (sha256 differs): pass the "
    "file that was monitored"
)
NO_OUTCOMES = (
    "{path}: the monitored predictions hold no outcomes: an update is fitted and validated on "
    "observed outcomes; run `clinai monitor` with --outcomes first"
)
NO_LATER_PERIOD = (
    "{path}: outcomes in {count} period(s) ({periods}): an update needs earlier periods to fit "
    "on and a later period to validate on; monitor more periods (or choose --validate-from)"
)
BAD_VALIDATE_FROM = (
    "--validate-from {value!r} is not a monitored period with outcomes after the first; "
    "choose one of {periods}"
)
FEW_EVENTS = (
    "{what} periods ({periods}) hold {events} events, fewer than the plan's min_events "
    "({min_events}): wait for more outcomes, or move --validate-from"
)
FEATURES_MISSING = (
    "the predictions files lack the model's input column(s) {columns} (as feature:<name>): "
    "score with `clinai score` of this clinai version"
)
NO_TRAINING = (
    "version {version} of {model!r} was trained in run {run!r}, whose training.json and "
    "data_manifest.json are not in {folder}: a revision refits that run's model family with "
    "its hyperparameters; run `clinai update` in the workspace that trained it"
)


class UpdateError(ClinaiError):
    """An update cannot be proposed, validated or registered from the given monitoring."""


# -- inputs ------------------------------------------------------------------------------------


def _read_monitoring(folder: Path) -> dict[str, Any]:
    path = folder / MONITORING_FILE
    if not path.is_file():
        raise UpdateError(NO_MONITORING.format(path=folder))
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        model = report["model"]
        report["_name"], report["_version"] = str(model["name"]), str(model["version"])
        if not report["inputs"]["predictions"][0]["file_name"]:
            raise KeyError("inputs.predictions[0].file_name")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UpdateError(BAD_MONITORING.format(path=path, problem=f"{exc!r}")) from exc
    return report


def _input_file(entry: dict[str, Any], folder: Path, given: list[Path]) -> Path:
    """Return the file a monitoring.json input entry names, checked against its sha256.

    monitoring.json keeps the file's name, not its path: it is looked for among the
    files given, beside monitoring.json, in the working directory, beside the
    monitoring folder and in that folder's sibling folders (``<out>/predictions/``
    beside ``<out>/monitoring/``). The recorded sha256 decides which file is the one.
    """
    name = str(entry["file_name"])
    places = [p for p in given if p.name == name] or [
        folder / name,
        Path(name),
        folder.parent / name,
        *sorted(folder.parent.glob(f"*/{name}")),
    ]
    existing = list(dict.fromkeys(p for p in places if p.is_file()))
    if not existing:
        raise UpdateError(PREDICTIONS_NOT_FOUND.format(name=name, path=folder / MONITORING_FILE))
    expected = entry.get("sha256")
    found = next((p for p in existing if not expected or sha256_file(p) == expected), None)
    if found is None:
        raise UpdateError(
            PREDICTIONS_CHANGED.format(file=existing[0], path=folder / MONITORING_FILE)
        )
    return found


def _split(
    stream: Stream, labelled: np.ndarray, validate_from: str | None, folder: Path
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Return the rows to fit on (earlier periods) and validate on (later), and their labels."""
    codes = sorted({int(c) for c in np.unique(stream.period[labelled])})
    labels = [stream.periods[c].label for c in codes]
    if len(codes) < 2:
        raise UpdateError(
            NO_LATER_PERIOD.format(
                path=folder, count=len(codes), periods=", ".join(labels) or "none"
            )
        )
    if validate_from is None:
        first = len(codes) - 1  # the latest period validates; every earlier one fits
    elif validate_from in labels[1:]:
        first = labels.index(validate_from)
    else:
        raise UpdateError(
            BAD_VALIDATE_FROM.format(value=validate_from, periods=", ".join(labels[1:]))
        )
    boundary = codes[first]
    fit = labelled & (stream.period >= 0) & (stream.period < boundary)
    validate = labelled & (stream.period >= boundary)
    return fit, validate, labels[:first], labels[first:]


def _features(stream: Stream, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Return the model's input columns of the chosen rows, in the model's order."""
    import pyarrow.parquet as pq

    missing = [c for c in columns if f"{FEATURE_PREFIX}{c}" not in stream.feature_columns]
    if missing:
        raise UpdateError(FEATURES_MISSING.format(columns=", ".join(map(repr, missing))))
    names = [f"{FEATURE_PREFIX}{c}" for c in columns]
    frames = [pq.read_table(path, columns=names).to_pandas() for path in stream.paths]
    frame = pd.concat(frames, ignore_index=True).iloc[np.flatnonzero(rows)]
    frame.columns = columns
    return frame.reset_index(drop=True)


def _model_columns(base: Any, input_schema: list[dict[str, Any]]) -> list[str]:
    names = [str(c["name"]) for c in input_schema]
    if not names and hasattr(base, "feature_names_in_"):
        names = [str(c) for c in base.feature_names_in_]
    return names


# -- the update --------------------------------------------------------------------------------


def _training_of(config: ExperimentConfig, run_id: str | None, model: str, version: str) -> Any:
    """Return training.json and data_manifest.json of the run that trained the version."""
    folder = Path(config.output_dir) / config.experiment / str(run_id)
    files = [folder / "training.json", folder / "data_manifest.json"]
    if run_id is None or not all(f.is_file() for f in files):
        raise UpdateError(
            NO_TRAINING.format(version=version, model=model, run=run_id, folder=folder)
        )
    training, manifest = (json.loads(f.read_text(encoding="utf-8")) for f in files)
    return training, manifest


def _revision(
    config: ExperimentConfig,
    training: dict[str, Any],
    manifest: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
) -> tuple[Any, np.ndarray, int]:
    """Refit the approved family with its hyperparameters; its risks for the tests and df.

    A logistic revision is the paper's: coefficients re-estimated, in-sample risks,
    ``df`` = columns after preprocessing + 1. Another family is refitted the same way,
    but its risks for the tests are out of fold (grouped by patient), as its in-sample
    fit would win every test, and ``df`` is counted as for a logistic revision on the
    same inputs (see :func:`clinai.evaluation.monitoring._updating.closed_testing_update`).
    The registered revision is calibrated as the approved model was.
    """
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from clinai import models

    family = str(training["selected"])
    features = manifest["features"]

    def build() -> Any:
        return models.get_model(
            family,
            numeric=features["numeric"],
            categorical=features["categorical"],
            random_state=config.seed,
            **training.get("best_params", {}),
        )

    fitted = build().fit(X, y)
    df = int(fitted.named_steps["preprocess"].transform(X.head(1)).shape[1]) + 1
    if family == "logistic":
        risks = fitted.predict_proba(X)[:, 1]
    else:
        folds = GroupKFold(n_splits=min(REVISION_FOLDS, len(np.unique(groups))))
        risks = cross_val_predict(build(), X, y, cv=folds, groups=groups, method="predict_proba")
        risks = risks[:, 1]
    calibration = training.get("calibration") or {}
    model = models.calibrate_model(
        build(),
        X,
        y,
        method=calibration.get("method", config.calibration.method),
        cv=calibration.get("cv", config.calibration.cv),
        random_state=config.seed,
        groups=groups,
        ensemble=calibration.get("ensemble", config.calibration.ensemble),
    )
    return model, np.asarray(risks, dtype="float64"), df


def _figures(y: np.ndarray, p: np.ndarray, patients: np.ndarray, n_boot: int, seed: int) -> Any:
    from clinai import evaluation

    metrics = {
        "auroc": evaluation.auroc_score,
        "oe_ratio": evaluation.oe_ratio,
        "calibration_slope": evaluation.calibration_slope,
        "calibration_intercept": evaluation.calibration_intercept,
    }
    result = evaluation.bootstrap(
        y, p, metric=metrics, patient_ids=patients, n_boot=n_boot, random_state=seed
    )
    return {name: result[name].to_dict() for name in FIGURES}


def update(
    config_path: str | os.PathLike[str],
    *,
    monitoring: str | os.PathLike[str],
    predictions: Sequence[str | os.PathLike[str]] | None = None,
    outcomes: str | os.PathLike[str] | None = None,
    validate_from: str | None = None,
    alpha: float = 0.05,
    show_progress: bool = True,
    out: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Propose, validate and register an update of the approved model from a monitoring run.

    Parameters
    ----------
    config_path : path-like
        The experiment YAML (its ``monitoring:`` plan must be the registered one).
    monitoring : path-like
        A ``clinai monitor`` output folder (``monitoring.json``).
    predictions : list of path-like, optional
        The predictions files monitoring.json names, where they are not beside it or
        in the working directory (each is checked against the sha256 recorded).
    outcomes : path-like, optional
        The outcomes file monitoring.json names, likewise.
    validate_from : str, optional
        The first period to validate on (e.g. ``"2025-10"``); default the latest
        monitored period with outcomes. Every earlier period with outcomes is fitted on.
    alpha : float, default=0.05
        Level of the closed testing procedure's likelihood-ratio tests.
    out : path-like, optional
        Folder for ``update.json`` and ``change_log.md`` (default
        ``<monitoring>/update``); it must not exist.
    show_progress : bool, default=True
        Rich progress bars.

    Returns
    -------
    dict
        ``update.json``'s content plus ``"folder"``.

    Raises
    ------
    UpdateError
        Bad input (see the module's messages): nothing is written or registered.
    """
    from clinai.evaluation.monitoring._updating import closed_testing_update
    from clinai.models import RecalibratedModel
    from clinai.tracking import MlflowTracker

    config = load_config(config_path)
    folder = Path(monitoring)
    report = _read_monitoring(folder)
    target = Path(out) if out is not None else folder / "update"
    if target.exists():
        message = OUT_EXISTS if out is not None else DEFAULT_OUT_EXISTS
        raise UpdateError(message.format(path=target))
    if not config.tracking.enabled:
        raise UpdateError(TRACKING_OFF.format(config=config_path))
    name, monitored = report["_name"], report["_version"]
    uri = absolute_sqlite_uri(config.tracking.uri)
    tracker = MlflowTracker(uri, f"{config.experiment}-update")
    approved = tracker.registry.load_version(name, alias=APPROVED_ALIAS)
    if approved is None:
        raise UpdateError(NO_APPROVED.format(model=name, uri=uri))
    if approved["version"] != monitored:
        raise UpdateError(
            NOT_APPROVED.format(
                path=folder, monitored=monitored, model=name, approved=approved["version"]
            )
        )
    plan = check_monitoring_plan(
        config, approved["tags"], config_path=config_path, model_name=name, version=monitored
    )
    recorded = (report.get("plan") or {}).get("sha256")
    if recorded and recorded != plan["sha256"]:
        raise UpdateError(PLAN_DIFFERS.format(path=folder / MONITORING_FILE, config=config_path))

    given = [Path(p) for p in predictions or ()]
    paths = [_input_file(e, folder, given) for e in report["inputs"]["predictions"]]
    stream = read_stream(paths, period=plan["plan"]["period"], subgroups=())
    if report["inputs"].get("outcomes"):
        from clinai.data import get_pseudonym_key
        from clinai.runs._monitor_outcomes import attach_outcomes

        extra = [Path(outcomes)] if outcomes is not None else []
        source = _input_file(report["inputs"]["outcomes"], folder, extra)
        key = get_pseudonym_key(required=False)  # attach_outcomes says when it is missing
        attach_outcomes(stream, source, patient_column=config.data.patient_id, key=key)
    labelled = stream.keep & np.isfinite(stream.outcome)
    if not labelled.any():
        raise UpdateError(NO_OUTCOMES.format(path=folder))
    fit, validate, fit_periods, validation_periods = _split(stream, labelled, validate_from, folder)
    min_events = int(plan["plan"]["min_events"])
    for what, rows, periods in (
        ("the fitting", fit, fit_periods),
        ("the validation", validate, validation_periods),
    ):
        events = int(stream.outcome[rows].sum())
        if events < min_events:
            raise UpdateError(
                FEW_EVENTS.format(
                    what=what.capitalize(),
                    periods=", ".join(periods),
                    events=events,
                    min_events=min_events,
                )
            )

    base = approved["model"]
    columns = _model_columns(base, approved["input_schema"])
    X_fit, X_val = _features(stream, fit, columns), _features(stream, validate, columns)
    y_fit, y_val = stream.outcome[fit].astype(int), stream.outcome[validate].astype(int)
    # The recalibration is fitted to the stored risks and applied to the model's own: the two
    # must be the same numbers.
    gap = float(np.max(np.abs(base.predict_proba(X_fit)[:, 1] - stream.risk[fit])))
    if gap > RISK_TOLERANCE:
        raise UpdateError(RISKS_DIFFER.format(version=monitored, model=name, gap=gap))
    training, manifest = _training_of(
        config, approved["tags"].get("clinai_run_id"), name, monitored
    )
    with progress_bar("proposing the update", 3, enabled=show_progress) as advance:
        revised, revised_risk, revision_df = _revision(
            config, training, manifest, X_fit, y_fit, stream.patient[fit]
        )
        advance()
        proposal: UpdateProposal = closed_testing_update(
            y_fit,
            stream.risk[fit],
            revised_prob=revised_risk,
            revision_df=revision_df,
            alpha=alpha,
        )
        candidate: Any = None
        if proposal.method == "revision":
            candidate = revised
        elif proposal.method != "none":  # fit() checks the base and the numbers; fits nothing
            candidate = RecalibratedModel(base, proposal.intercept, proposal.slope).fit(X_fit)
        advance()
        n_boot, patients = int(plan["plan"]["n_boot"]), stream.patient[validate]
        original = stream.risk[validate]
        updated = original if candidate is None else candidate.predict_proba(X_val)[:, 1]
        validation = {
            "n": int(validate.sum()),
            "events": int(y_val.sum()),
            "original": _figures(y_val, original, patients, n_boot, config.seed),
            "update": _figures(y_val, updated, patients, n_boot, config.seed),
            "n_boot": n_boot,
        }
        advance()

    record: dict[str, Any] = {
        "schema_version": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {"name": name, "version": monitored, "family": training.get("selected")},
        "registered": None,
        "proposal": {
            **proposal.to_dict(),
            "revision": {
                "family": training.get("selected"),
                "hyperparameters": training.get("best_params", {}),
                "df_counted_as": "columns after preprocessing + 1",
                "risks_for_tests": "in-sample"
                if training.get("selected") == "logistic"
                else f"out-of-fold ({REVISION_FOLDS} folds by patient)",
            },
        },
        "periods": {
            "unit": plan["plan"]["period"],
            "fit": fit_periods,
            "validation": validation_periods,
        },
        "validation": validation,
        "data": {
            "monitoring_sha256": sha256_file(folder / MONITORING_FILE),
            "predictions": stream.files,
            "outcomes": stream.outcomes,
        },
        "config_sha256": config_sha256(config),
        "monitoring_plan_sha256": plan["sha256"],
    }

    publish_update(config, tracker, record, target, candidate, X_fit, stream.files)
    return {**record, "folder": str(target)}
