"""``clinai monitor``: a registered model's predictions judged against its pre-registered plan.

:func:`monitor` reads the predictions files that ``clinai score`` wrote (and, if
given, an outcomes file), loads the model version they name from the MLflow
registry with its tags and its training run's ``monitoring_plan.json``,
``drift_reference.json`` and ``metrics.json``, checks that the config's plan is the
one registered, and computes per period (calendar month or ISO week of the
prediction time, else of the scoring time) the numbers of ``monitoring.json``
(MONITORING.md section 4). The output folder is written under a temporary name
and renamed at the end; the pass is an MLflow run in ``<experiment>-monitoring``
tagged with the model version and the verdict, and a ``monitor`` record in the
audit log.

Bad input stops with one line (a :class:`~clinai.exceptions.ClinaiError`), nothing
written, and the MLflow run, once started, marked FAILED. Decisions:

- A period whose outcomes hold no event is not an error: its performance is
  ``null`` and the performance limits are "not assessable" (drift and estimates
  are still judged). An ``--outcomes`` file without any event at all is an error
  (a wrong coding is far likelier than a year without a single event).
- Outcomes embedded in the predictions (``outcome``, retrospective scoring) are
  used when ``--outcomes`` is not given; ``--outcomes`` replaces them.
- Predictions repeated across files (same patient and prediction time) count once.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.exceptions import ClinaiError, DataError
from clinai.runs._monitor_inputs import FEATURE_PREFIX, MonitoredModel, Stream, read_stream
from clinai.runs._monitor_outcomes import attach_outcomes
from clinai.runs._monitor_output import write_outputs
from clinai.runs._rundir import absolute_sqlite_uri

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig

__all__ = ["MonitorError", "monitor"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: Files of the training run that the pass reads.
RUN_FILES = ("monitoring_plan.json", "drift_reference.json", "metrics.json")

WRONG_MODEL = (
    "the predictions come from model {got!r}, but {config} registers model {expected!r}: "
    "pass predictions scored with this config's model, or the config of model {got!r}"
)
VERSION_GONE = (
    "model {name!r} version {version} named by the predictions is not in the registry at "
    "{uri}: set tracking.uri of the config to the store it was registered in"
)
NO_REFERENCE = (
    "version {version} of model {name!r} has no drift_reference.json (its training run did "
    "not log one): register a new version with `clinai run`"
)
FEATURES_MISSING = (
    "the predictions lack {count} feature column(s) of version {version}'s drift reference "
    "({names}): score the new data with this config's pipeline (`clinai score`)"
)
TRACKING_OFF = (
    "{config} has tracking.enabled false: monitoring reads the model version from the MLflow "
    "registry; turn tracking on"
)
SURVIVAL_NOT_MONITORED = (
    "clinai monitor does not support survival models ({what}): validate the scored risks once "
    "follow-up is complete with `clinai validate PREDS --time outcome_time --event "
    "outcome_event --horizon H --score risk`"
)
OUT_NOT_EMPTY = "--out {path} exists and is not empty: choose a new folder (nothing written)"


class MonitorError(ClinaiError):
    """A monitoring pass cannot run on these inputs."""


def _load_config(config_path: str | os.PathLike[str]) -> ExperimentConfig:
    from clinai.config import load_config
    from clinai.runs._plan import NO_PLAN_MSG, MonitoringPlanError

    config = load_config(config_path)
    if config.is_survival:  # before the plan check: no plan would make it monitorable
        what = f"{config_path} has outcome.type: survival"
        raise MonitorError(SURVIVAL_NOT_MONITORED.format(what=what))
    if config.monitoring is None:
        raise MonitoringPlanError(NO_PLAN_MSG.format(config=config_path))
    if not config.tracking.enabled:
        raise MonitorError(TRACKING_OFF.format(config=config_path))
    return config


def _refuse_survival_predictions(predictions: Sequence[str | os.PathLike[str]]) -> None:
    """Stop before anything is written when a predictions file is a survival model's."""
    from clinai.runs._monitor_inputs import expand_paths
    from clinai.runs._score_table import survival_horizons_of_file

    for path in expand_paths(predictions):
        if survival_horizons_of_file(path) is not None:
            raise MonitorError(SURVIVAL_NOT_MONITORED.format(what=f"{path} holds survival risks"))


def _model(
    config: ExperimentConfig, stream: Stream, tracker: Any, config_path: Any
) -> MonitoredModel:
    """Return the registered version the predictions name, checked against the config's model."""
    from clinai._utils import redact_url

    expected = config.tracking.model_name or config.experiment
    if stream.model_name != expected:
        raise MonitorError(
            WRONG_MODEL.format(got=stream.model_name, expected=expected, config=config_path)
        )
    facts = tracker.registry.model_version(stream.model_name, stream.model_version)
    if facts is None:
        raise MonitorError(
            VERSION_GONE.format(
                name=stream.model_name,
                version=stream.model_version,
                uri=redact_url(tracker.tracking_uri),
            )
        )
    aliases = facts["aliases"]
    alias = "approved" if "approved" in aliases else (aliases[0] if aliases else None)
    return MonitoredModel(
        stream.model_name, stream.model_version, alias, facts["run_id"], facts["tags"]
    )


def _output_folder(config: ExperimentConfig, out: str | os.PathLike[str] | None) -> Path:
    if out is None:
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        return Path("monitoring") / config.experiment / stamp
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise MonitorError(OUT_NOT_EMPTY.format(path=path))
    return path


def _reference(model: MonitoredModel, found: dict[str, Any], stream: Stream) -> Any:
    """Return the version's drift reference; every reference feature must be in the predictions."""
    from clinai.evaluation.monitoring import DriftReference

    raw = found.get("drift_reference.json")
    if raw is None:
        raise MonitorError(NO_REFERENCE.format(version=model.version, name=model.name))
    reference = DriftReference.from_dict(raw)
    present = {c[len(FEATURE_PREFIX) :] for c in stream.feature_columns}
    missing = [name for name in reference.names if name not in present]
    if missing:
        names = ", ".join(f"{FEATURE_PREFIX}{n}" for n in missing[:5])
        raise DataError(
            FEATURES_MISSING.format(
                count=len(missing),
                version=model.version,
                names=names + (" ..." * (len(missing) > 5)),
            )
        )
    return reference


def _development(metrics: dict[str, Any] | None, threshold: float) -> dict[str, Any]:
    """Alert rate at the operating threshold, prevalence and n of the validation data."""
    if not metrics:
        return {"alert_rate": None, "prevalence": None, "n": None}
    rate = None
    for row in metrics.get("thresholds") or []:
        if row.get("threshold") is not None and abs(float(row["threshold"]) - threshold) < 1e-12:
            rate = (row.get("flag_rate") or {}).get("estimate")
    return {"alert_rate": rate, "prevalence": metrics.get("prevalence"), "n": metrics.get("n")}


def monitor(
    config_path: str | os.PathLike[str],
    *,
    predictions: Sequence[str | os.PathLike[str]],
    outcomes: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Monitor a registered model's predictions against its pre-registered plan.

    Parameters
    ----------
    config_path : path-like
        The experiment config (with its ``monitoring:`` section).
    predictions : sequence of path-like
        Parquet files written by ``clinai score`` (several are concatenated; a
        prediction repeated across them counts once).
    outcomes : path-like, optional
        CSV or Parquet with the raw patient identifier (``data.patient_id``),
        ``prediction_time`` (where the predictions have one) and ``outcome`` (0/1).
    out : path-like, optional
        The output folder (default ``monitoring/<experiment>/<monitoring id>``);
        must not exist or be empty.
    show_progress : bool, default=True
        Rich progress bars on stderr.

    Returns
    -------
    dict
        ``monitoring.json`` plus ``out_dir`` and ``mlflow_run_id``.

    Raises
    ------
    ClinaiError
        On bad input (see the module docstring); nothing is written and the
        MLflow run is marked FAILED.
    """
    from clinai.runs._plan import check_monitoring_plan
    from clinai.tracking import MlflowTracker

    config = _load_config(config_path)
    assert config.monitoring is not None  # checked by _load_config
    _refuse_survival_predictions(predictions)
    folder = _output_folder(config, out)
    uri = absolute_sqlite_uri(config.tracking.uri)
    tracker = MlflowTracker(uri, f"{config.experiment}-monitoring")
    with tracker.run(f"monitor-{folder.name}", tags={"clinai.kind": "monitor"}) as run_id:
        plan = config.monitoring
        stream = read_stream(predictions, period=plan.period, subgroups=plan.subgroups)
        tracker.set_run_tags(
            {"clinai.model_name": stream.model_name, "clinai.model_version": stream.model_version}
        )
        model = _model(config, stream, tracker, config_path)
        checked = check_monitoring_plan(
            config,
            model.tags,
            config_path=config_path,
            model_name=model.name,
            version=model.version,
        )
        document = _compute(config, stream, model, checked, uri, outcomes, show_progress)
        write_outputs(config, tracker, document, folder, run_id, model)
    return {**document, "out_dir": str(folder), "mlflow_run_id": run_id}


def _compute(
    config: ExperimentConfig,
    stream: Stream,
    model: MonitoredModel,
    checked: dict[str, Any],
    uri: str,
    outcomes: Any,
    show_progress: bool,
) -> dict[str, Any]:
    """Every number of ``monitoring.json`` (nothing written yet)."""
    from clinai import __version__
    from clinai.data import get_pseudonym_key
    from clinai.runs._monitor_document import period_entries
    from clinai.tracking._monitoring import run_json_artifacts

    assert config.monitoring is not None
    found = run_json_artifacts(uri, model.run_id, RUN_FILES) if model.run_id else {}
    reference = _reference(model, found, stream)
    if outcomes is not None:
        key = get_pseudonym_key(required=False)
        attach_outcomes(stream, outcomes, patient_column=config.data.patient_id, key=key)
    plan = config.monitoring
    development = _development(found.get("metrics.json"), plan.operating_threshold)
    periods, cusum = period_entries(
        stream, plan, reference, development, seed=config.seed, show_progress=show_progress
    )
    last = periods[-1]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clinai_version": __version__,
        "model": {
            "name": model.name,
            "version": model.version,
            "alias": model.alias,
            "run_id": model.tags.get("clinai_run_id") or model.run_id,
            "mlflow_run_id": model.run_id,
        },
        "plan": {**checked["plan"], "sha256": checked["sha256"]},
        "period_unit": stream.period_unit,
        "inputs": {
            "predictions": stream.files,
            "outcomes": stream.outcomes,
            "duplicates_dropped": stream.duplicates,
        },
        "development": development,
        "periods": periods,
        "cusum": cusum,
        "verdict": {"period": last["period"], **last["verdict"]},
    }
