"""``clinai score``: apply a registered model to new patients through the use case's pipeline.

The new data go through the same steps as at training (the pipeline's ``load()`` or
a CSV/Parquet file with the source's columns, pseudonymised identifiers, exclusions,
features, sensitive attributes, baseline; the outcome only where it can be derived).
The registered version (alias ``approved`` by default, or ``--version N``) is loaded
from MLflow and its input schema (the MLflow signature) is checked against the
features before anything is predicted. The predictions go to one Parquet file
(columns: :mod:`clinai.runs._score_table`), written atomically, and the audit log
gets a ``score`` record (counts and hashes, never an identifier).

A survival model (``outcome.type: survival``, a
:class:`~clinai.runs._survival_model.HorizonRiskModel`) scores the absolute risk of the
event by each of its horizons (recalibrated as at the run's evaluation, so a test-split
patient gets the risk the run validated); the config's horizons must be the model's.
Follow-up (time, event) is kept where the data carry it, as a binary outcome is.

Incremental mode: when the output file exists, the keys (``patient_id``,
``prediction_time``) already in it are read and only the new data's rows with other
keys are scored; the union of old and new rows is written to a temporary file and
renamed over the old one, so a rerun on the same data adds nothing and a failure
leaves the old file as it was. ``--since T`` keeps only prediction times after T
(and is passed to a pipeline ``load()`` that takes ``since``, so features are
computed for the new hours only).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import clinai
from clinai._utils import atomic_write_bytes, sha256_file, sha256_text
from clinai.config import load_config
from clinai.data import (
    apply_exclusions,
    check_columns,
    get_pseudonym_key,
    pseudonymise,
    read_table,
)
from clinai.exceptions import DataError, TrackingError
from clinai.models import known_levels
from clinai.runs._audit import append_audit_record, audit_log_path
from clinai.runs._lineage import code_version
from clinai.runs._plugins import load_pipeline
from clinai.runs._prepare import _call, config_sha256
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import absolute_sqlite_uri
from clinai.runs._score_table import (
    SURVIVAL,
    TIME_COLUMN,
    as_follow_up,
    as_outcome,
    check_identifiers,
    check_model_inputs,
    concat_predictions,
    existing_predictions,
    first_data_row,
    iso_times,
    predictions_table,
    select_rows,
)

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig

__all__ = ["score"]

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "approved"
#: A pipeline names the column of its rows' prediction times with this attribute.
PREDICTION_TIME_ATTRIBUTE = "PREDICTION_TIME"
_CHUNK = 200_000  # rows predicted at once (bounded memory, a moving progress bar)

UNSEEN_LEVELS = (
    "column %r: %d row(s) hold a level that version %s of model %r never saw in training "
    "(%d distinct level(s)); the model scores them as having no level: check the coding (a "
    "new code, or another case or spelling than in the training data)"
)
NO_MODEL = (
    "model {name!r} has no {what} in the MLflow store of tracking.uri: approve a version "
    "(`clinai approve RUN ...`), pick one with --version N, or register one with "
    "`clinai run CONFIG`"
)
TRACKING_OFF = (
    "tracking.enabled is false: clinai score loads the registered model from MLflow; "
    "set tracking.enabled: true and register a model with `clinai run CONFIG`"
)
OUT_SUFFIX = "--out {path} must be a .parquet file: name the predictions file *.parquet"
BAD_SINCE = "--since {value!r} is not a time: give ISO 8601, e.g. 2025-03-01 or 2025-03-01T08:00"
NO_KEY = (
    "CLINAI_PSEUDONYM_KEY is not set: clinai score writes patient pseudonyms that must match "
    "the outcomes and earlier predictions; export the key used for this data"
)
DATA_NOT_FOUND = "--data {path} not found: give a CSV or Parquet file, or a data folder"
DATA_FOLDER = (
    "--data {path} is a folder, but the data source of the config is not a pipeline whose "
    "load() takes data_dir: give a CSV or Parquet file with the columns of the source"
)
BAD_TIMES = (
    "column {column!r} (the prediction time of pipeline {pipeline!r}) holds values that are not "
    "times: fix the column (ISO 8601, e.g. 2025-03-01T08:00)"
)
MISSING_TIMES = (
    "column {column!r} (the prediction time of pipeline {pipeline!r}) is empty in {count} "
    "row(s) (first at data row {row}): give every row its prediction time (monitoring files "
    "each prediction in the period of its time)"
)
HORIZONS_DIFFER = (
    "outcome.horizons {config} of the config differ from the horizons {model} of version "
    "{version} of model {name!r}: score with the config the model was trained with, or "
    "train and register a model at these horizons (`clinai run CONFIG`)"
)
OUTCOME_KIND = (
    "version {version} of model {name!r} is a {model} model, but the config's outcome.type is "
    "{config}: score with the config the model was trained with (or --version N of a "
    "{config} model)"
)
FUTURE_TIMES = (
    "{count} prediction time(s) lie in the future (the latest {latest}, now {now}): fix "
    "the timestamps of the data (or the clock) and score again"
)


def _utc_naive(value: Any) -> pd.Timestamp:
    import pandas as pd

    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _parse_since(since: str | datetime | None) -> pd.Timestamp | None:
    if since is None:
        return None
    try:
        return _utc_naive(since)
    except (TypeError, ValueError) as exc:
        raise DataError(BAD_SINCE.format(value=str(since))) from exc


def _folder_sha256(folder: Path) -> str:
    """Return the hash of a data folder: each file's relative path and SHA-256, in sorted order."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return sha256_text("\n".join(f"{p.relative_to(folder)} {sha256_file(p)}" for p in files))


def _read_source(
    config: ExperimentConfig,
    pipeline: ModuleType,
    source: Path,
    since: pd.Timestamp | None,
) -> tuple[pd.DataFrame, str]:
    """Read the new data as the config's source would be read; return it and its hash."""
    if not source.exists():
        raise DataError(DATA_NOT_FOUND.format(path=source))
    if source.is_file():
        ids = [config.data.patient_id] if config.data.patient_id else []
        return read_table(source, text_columns=ids), sha256_file(source)  # ids as at training
    loader = getattr(pipeline, "load", None)
    accepts = inspect.signature(loader).parameters if callable(loader) else {}
    if config.data.source.type != "pipeline" or "data_dir" not in accepts:
        raise DataError(DATA_FOLDER.format(path=source))
    options = {**config.data.source.options, "data_dir": str(source)}
    if since is not None and "since" in accepts:
        options["since"] = since
    digest = _folder_sha256(source)
    return _call(pipeline, config.pipeline, "load", options), digest


def _pseudonyms(ids: pd.Series, key: bytes) -> pd.Series:
    """Return the keyed HMAC of each identifier, computed once per distinct identifier."""
    import pandas as pd

    text = ids.astype(str)  # as at training: the same identifier gives the same pseudonym
    unique = pd.Series(text.unique())
    mapping = dict(zip(unique, pseudonymise(unique, key=key), strict=True))
    return text.map(mapping)


def _load_model(config: ExperimentConfig, alias: str, version: int | None) -> dict[str, Any]:
    from clinai.tracking import ModelRegistry

    if not config.tracking.enabled:
        raise TrackingError(TRACKING_OFF)
    name = config.tracking.model_name or config.experiment
    registry = ModelRegistry(absolute_sqlite_uri(config.tracking.uri))
    found = registry.load_version(name, alias=alias, version=version)
    if found is None:
        what = f"version {version}" if version is not None else f"alias @{alias}"
        raise TrackingError(NO_MODEL.format(name=name, what=what))
    return {**found, "name": name}


def _survival_horizons(config: ExperimentConfig, model: dict[str, Any]) -> list[float] | None:
    """Return the model's horizons for a survival model, None for a binary one.

    Raises
    ------
    DataError
        If the config's outcome type is not the model's, or its horizons differ from
        the model's (the risks would speak of other times than the config says).
    """
    horizons = getattr(model["model"], "horizons", None)
    model_kind = "binary" if horizons is None else SURVIVAL
    config_kind = SURVIVAL if config.is_survival else "binary"
    if model_kind != config_kind:
        raise DataError(
            OUTCOME_KIND.format(
                version=model["version"], name=model["name"], model=model_kind, config=config_kind
            )
        )
    if horizons is None:
        return None
    assert config.outcome is not None  # a survival config
    wanted, given = [float(h) for h in config.outcome.horizons], [float(h) for h in horizons]
    if wanted != given:
        raise DataError(
            HORIZONS_DIFFER.format(
                config="[" + ", ".join(f"{h:g}" for h in wanted) + "]",
                model="[" + ", ".join(f"{h:g}" for h in given) + "]",
                version=model["version"],
                name=model["name"],
            )
        )
    return given


def _prediction_times(
    pipeline: ModuleType, cohort: pd.DataFrame, *, name: str, rows: Any = None
) -> pd.Series | None:
    """Return the rows' prediction times, or None if the pipeline names none.

    Text is read as ISO 8601 only (a day/month/year date is refused, not guessed).
    Times with a time zone are checked against the UTC clock and written in UTC; times
    without one are the data's wall clock and are checked against this machine's local
    clock (a hospital's records are kept in local time), and written as they are.
    ``rows``: each cohort row's data row in the file, for the messages.

    Raises
    ------
    DataError
        If the column holds values that are not ISO 8601 times, is empty in a row, or a
        time lies in the future.
    """
    import pandas as pd

    column = getattr(pipeline, PREDICTION_TIME_ATTRIBUTE, None)
    if not column or column not in cohort.columns:
        return None
    try:
        times = iso_times(cohort[column], column=column, where="the data", rows=rows)
    except DataError as exc:
        raise DataError(BAD_TIMES.format(column=column, pipeline=name)) from exc
    missing = times.isna().to_numpy()
    if missing.any():
        raise DataError(
            MISSING_TIMES.format(
                column=column,
                pipeline=name,
                count=int(missing.sum()),
                row=first_data_row(missing, rows),
            )
        )
    aware = getattr(times.dt, "tz", None) is not None
    now = pd.Timestamp.now(tz="UTC") if aware else pd.Timestamp.now()
    future = times > now
    if future.any():
        raise DataError(
            FUTURE_TIMES.format(
                count=int(future.sum()),
                latest=times.max().isoformat(),
                now=now.isoformat(timespec="seconds"),
            )
        )
    if aware:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.astype("datetime64[us]")


def score(
    config_path: str | Path,
    *,
    data: str | Path,
    out: str | Path,
    alias: str = DEFAULT_ALIAS,
    version: int | None = None,
    since: str | datetime | None = None,
    overrides: Iterable[str] = (),
    show_progress: bool = True,
) -> dict[str, Any]:
    """Score new patients with a registered model and append the predictions to ``out``.

    Parameters
    ----------
    config_path : path-like
        The experiment config the model was trained with (pipeline, source, tracking).
    data : path-like
        A CSV/Parquet file with the source's columns, or (for a ``pipeline`` source
        whose ``load()`` takes ``data_dir``) a data folder.
    out : path-like
        The predictions Parquet file; if it exists, only rows not yet in it are scored.
    alias : str, default "approved"
        The alias of the registered version to use (ignored when ``version`` is given).
    version : int, optional
        A registered version number.
    since : str or datetime, optional
        Score only prediction times after this time (compared with the data's times as
        written: a time zone, if given, is converted to UTC).
    overrides : iterable of str
        ``--set key=value`` overrides of the config.
    show_progress : bool, default True
        Show a Rich progress bar on stderr.

    Returns
    -------
    dict
        ``out``, ``model_name``, ``model_version``, ``alias``, counts (``n_source_rows``,
        ``n_cohort``, ``n_already_scored``, ``n_before_since``, ``n_scored``, ``n_total``),
        ``outcome_available``, ``seconds``, ``prediction_times_per_s`` and ``audit_seq``.

    Raises
    ------
    DataError, PipelineError, TrackingError
        On bad input, with one line naming the column, option or model; nothing is written.
    """
    started = time.perf_counter()
    out_path = Path(out)
    if out_path.suffix != ".parquet":
        raise DataError(OUT_SUFFIX.format(path=out_path))
    config = load_config(config_path, overrides=overrides)
    since_at = _parse_since(since)
    patient_column = config.data.patient_id
    key = None
    if patient_column is not None:
        key = get_pseudonym_key(required=False)
        if key is None:
            raise DataError(NO_KEY)
    pipeline = load_pipeline(config.pipeline)
    model = _load_model(config, alias, version)
    horizons = _survival_horizons(config, model)
    existing = existing_predictions(out_path, name=model["name"], version=model["version"])
    with progress_bar("clinai score", 3, enabled=show_progress) as advance:
        raw, data_key = _read_source(config, pipeline, Path(data), since_at)
        if patient_column is not None:
            assert key is not None
            check_columns(raw, [patient_column], where="the data (data.patient_id)")
            check_identifiers(raw[patient_column], column=patient_column, where="the data")
            raw = raw.copy()
            raw[patient_column] = _pseudonyms(raw[patient_column], key)
        steps = _call(pipeline, config.pipeline, "exclusions", raw)
        cohort, _ = apply_exclusions(raw, steps)
        rows = raw.index.get_indexer(cohort.index) if raw.index.is_unique else None
        cohort = cohort.reset_index(drop=True)
        times = _prediction_times(pipeline, cohort, name=config.pipeline, rows=rows)
        now = _utc_naive(datetime.now(UTC))
        keep, counts = select_rows(
            cohort,
            times,
            patient_column=patient_column,
            pipeline=config.pipeline,
            existing=existing,
            since=since_at,
            out=out_path,
            rows=rows,
        )
        if not keep.all():  # a full first scoring needs no copy of the cohort
            cohort = cohort[keep].reset_index(drop=True)
            times = None if times is None else times[keep].reset_index(drop=True)
        advance()
        table = _score_cohort(config, pipeline, model, cohort, times, data_key, now)
        advance()
        combined = table if existing is None else concat_predictions(existing, table)
        atomic_write_bytes(out_path, combined.to_parquet(index=False))
        advance()
    seconds = time.perf_counter() - started
    summary = {
        "model_name": model["name"],
        "model_version": model["version"],
        "alias": model["alias"],
        "n_source_rows": len(raw),
        **counts,
        "n_scored": len(table),
        "n_total": len(combined),
        "outcome_available": "outcome" in table.columns or TIME_COLUMN in table.columns,
        "outcome_type": "binary" if horizons is None else SURVIVAL,
        **({} if horizons is None else {"horizons": horizons}),
    }
    # counts and hashes only: an identifier or a time of a patient never enters the log
    record = append_audit_record(
        audit_log_path(config.output_dir),
        {
            "kind": "score",
            "experiment": config.experiment,
            **summary,
            "config_sha256": config_sha256(config),
            "data_sha256": data_key,
            "predictions_file": out_path.name,
            "predictions_sha256": sha256_file(out_path),
            "code_version": code_version(),
        },
    )
    logger.info("scored %d rows with %s v%s", len(table), model["name"], model["version"])
    return {
        "out": str(out_path),
        **summary,
        "seconds": seconds,
        "prediction_times_per_s": len(table) / seconds if seconds > 0 else None,
        "audit_seq": record["seq"],
    }


def warn_unseen_levels(
    X: pd.DataFrame, levels: Mapping[str, frozenset[str]], *, name: str, version: Any
) -> dict[str, int]:
    """Warn, per categorical column, of rows whose level the model never saw in training.

    The one-hot encoder scores such a row as having no level, silently. Values are
    compared as the preprocessing sees them (``str`` of each non-missing value); the
    warning counts rows and levels and never shows a value. Returns the row counts.
    """
    counts: dict[str, int] = {}
    for column, known in levels.items():
        if column not in X.columns:
            continue
        values = X[column][X[column].notna()].map(str)
        new = ~values.isin(known)
        if new.any():
            counts[column] = int(new.sum())
            logger.warning(
                UNSEEN_LEVELS, column, counts[column], version, name, int(values[new].nunique())
            )
    return counts


def _score_cohort(
    config: ExperimentConfig,
    pipeline: ModuleType,
    model: dict[str, Any],
    cohort: pd.DataFrame,
    times: pd.Series | None,
    data_sha256: str,
    now: pd.Timestamp,
) -> pd.DataFrame:
    """Features, risks, groups, outcome and baseline of the selected rows, as one table."""
    import numpy as np
    import pandas as pd

    name = config.pipeline
    X = _call(pipeline, name, "features", cohort)
    X = check_model_inputs(X, model["input_schema"], name=model["name"], version=model["version"])
    fitted = model["model"]
    warn_unseen_levels(X, known_levels(fitted), name=model["name"], version=model["version"])
    survival = config.is_survival
    # predicted in chunks: bounded memory however many prediction times are new
    chunks = [
        # a survival model: the (recalibrated) risk by each horizon; else P(event)
        fitted.predict_risk(part) if survival else fitted.predict_proba(part)[:, 1]
        for part in (X.iloc[start : start + _CHUNK] for start in range(0, len(X), _CHUNK))
    ]
    width = (len(fitted.horizons),) if survival else ()
    risks = np.concatenate(chunks) if chunks else np.zeros((0, *width))
    groups = _call(pipeline, name, "sensitive_attributes", cohort)
    try:
        raw_outcome = _call(pipeline, name, "outcome", cohort)
    except DataError as exc:  # prospective data: the outcome columns are not there yet
        logger.info("no outcome in the scored data: %s", exc)
        raw_outcome = None
    # outcome values that are there must be valid: a wrong coding is refused, not dropped
    outcome = None
    if raw_outcome is not None and not survival:
        outcome = as_outcome(raw_outcome, pipeline=name)
    extra = None
    if survival:
        codes = config.outcome.codes if config.outcome is not None else None
        assert codes is not None  # a survival config
        follow_up = None
        if raw_outcome is not None:
            follow_up = as_follow_up(
                raw_outcome,
                pipeline=name,
                censored=codes.censored,
                event=codes.event,
                competing=codes.competing,
            )
        extra = {"horizons": list(fitted.horizons), "risks": risks, "follow_up": follow_up}
    baseline = None
    if callable(getattr(pipeline, "baseline", None)):
        baseline = pd.to_numeric(_call(pipeline, name, "baseline", cohort), errors="coerce")
    patient = config.data.patient_id
    return predictions_table(
        patient_id=cohort[patient] if patient is not None else None,
        prediction_time=times,
        risk=risks[:, 0] if survival else risks,
        model={"name": model["name"], "version": model["version"]},
        hashes={"config_sha256": config_sha256(config), "data_sha256": data_sha256},
        scored_at=pd.Timestamp(now, tz="UTC"),
        clinai_version=clinai.__version__,
        outcome=outcome,
        groups=groups,
        features=X,
        baseline=baseline,
        survival=extra,
    )
