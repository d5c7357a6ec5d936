"""Stage 1, prepare: source -> cohort -> outcome, features, sensitive attributes -> split."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from clinai import data
from clinai._utils import (
    atomic_write_bytes,
    atomic_write_text,
    redact_url,
    sha256_file,
    sha256_text,
)
from clinai.exceptions import ClinaiError, DataError, PipelineError
from clinai.runs._lineage import frame_sha256
from clinai.runs._plugins import load_pipeline
from clinai.runs._survival_outcome import (
    check_split_follow_up,
    competing_event_code,
    survival_outcome,
)

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd

    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "OUTCOME",
    "PATIENT",
    "QUALITY_FILE",
    "SENSITIVE_PREFIX",
    "Cohort",
    "cohort_quality",
    "config_for_output",
    "config_sha256",
    "load_cohort",
    "prepare",
    "read_baseline",
    "read_split",
]

logger = logging.getLogger(__name__)

#: The data-quality report's file name in a run directory (written by the prepare stage).
QUALITY_FILE = "data_quality.json"
OUTCOME = "__outcome__"
PATIENT = "__patient__"
SENSITIVE_PREFIX = "__sensitive__"
BASELINE = "__baseline__"
#: Follow-up time of a survival outcome (``__outcome__`` then holds the event, 0/1).
TIME = "__time__"
#: With competing events: 0 censored, 1 the event, 2 a competing event (``__outcome__`` 0/1).
EVENT_CODE = "__event_code__"
_RESERVED = "feature {column!r} of pipeline {pipeline!r} uses a reserved name; rename it"
_PIPELINE_COLUMN = (
    "column {column} not found by {function}() of pipeline {pipeline!r}: the data have "
    "{available}; fix the data source or the pipeline"
)
_PIPELINE_FAILED = "pipeline {pipeline!r} failed in {function}(): {error}"
_NO_LOADER = (
    "data.source.type is 'pipeline' but pipeline {pipeline!r} has no load() function: add "
    "load(**options) returning a data frame, or use a bundled, csv or parquet source"
)
_PER_ROW_LENGTH = (
    "{function}() of pipeline {pipeline!r} returned {got} rows for the {expected} rows of the "
    "cohort: return one {what} per cohort row (drop patients in exclusions(), not here)"
)
_PER_ROW_TWICE = (
    "{function}() of pipeline {pipeline!r} returned the column(s) {columns} more than once: "
    "give each column its own name"
)
_PER_ROW_KIND = "{function}() of pipeline {pipeline!r} returned {got}: return {what}"
_CATEGORICAL_BAD = (
    "CATEGORICAL of pipeline {pipeline!r} must be a list of feature column names, got "
    "{got}: write CATEGORICAL = ['ward', ...]"
)
_CATEGORICAL_UNKNOWN = (
    "CATEGORICAL of pipeline {pipeline!r} names {names}, which features() does not return "
    "(it returns {available}); fix the name in CATEGORICAL"
)
_SENSITIVE_MISSING = (
    "evaluation.sensitive_attributes names {missing}, which pipeline {pipeline!r} does not "
    "provide (it provides {available}); fix the config or the pipeline's sensitive_attributes()"
)


def config_sha256(config: ExperimentConfig) -> str:
    """Hash of the resolved config (YAML, sorted keys)."""
    return sha256_text(resolved_config_yaml(config))


def config_for_output(config: ExperimentConfig) -> dict[str, Any]:
    """Return the config as plain data with the passwords of its URLs hidden.

    A storage or tracking URL may carry a database password; the resolved
    config is written to the run directory and logged to MLflow, so it never
    holds one.
    """
    plain = config.model_dump(mode="json")
    plain["tuning"]["storage"] = redact_url(plain["tuning"]["storage"])
    plain["tracking"]["uri"] = redact_url(plain["tracking"]["uri"])
    return plain


#: The config a run's latest stage ran with (written by prepare, updated by later stages).
RESOLVED_CONFIG_FILE = "config.resolved.yaml"


def resolved_config_yaml(config: ExperimentConfig) -> str:
    """Return the text of ``config.resolved.yaml`` (plain data, keys sorted, passwords hidden)."""
    return yaml.safe_dump(config_for_output(config), sort_keys=True, allow_unicode=True)


def _load_source(
    config: ExperimentConfig, pipeline: ModuleType
) -> tuple[pd.DataFrame, dict[str, Any], str]:
    source = config.data.source
    if source.type == "pipeline":
        loader = getattr(pipeline, "load", None)
        if not callable(loader):
            raise PipelineError(_NO_LOADER.format(pipeline=config.pipeline))
        raw = _call(pipeline, config.pipeline, "load", dict(source.options))
        provenance = {
            "type": "pipeline",
            "name": str(pipeline.METADATA.get("dataset", config.pipeline)),
            "options": dict(source.options),
            "synthetic": bool(pipeline.METADATA.get("synthetic", False)),
        }
        return raw, provenance, frame_sha256(raw)
    if source.type == "bundled":
        assert source.name is not None  # guaranteed by the config schema
        info = data.get_dataset_info(source.name)
        raw = data.load_dataset(source.name)
        return raw, {"type": "bundled", **info.__dict__}, frame_sha256(raw)
    assert source.path is not None and source.file is not None
    # source.file: the path read from the config file's folder (an error names it in full)
    ids = [config.data.patient_id] if config.data.patient_id else []
    raw = data.read_table(source.file, text_columns=ids)  # identifiers as written
    provenance = {"type": source.type, "name": Path(source.path).name, "path": source.path}
    return raw, provenance, sha256_file(source.file)


@dataclass(frozen=True)
class Cohort:
    """A use case's analysis cohort: features, outcome, sensitive attributes, pseudonyms."""

    X: pd.DataFrame
    y: pd.Series
    sensitive: pd.DataFrame
    groups: pd.Series | None
    numeric: list[str]
    categorical: list[str]
    flow: list[dict[str, Any]]
    provenance: dict[str, Any]
    data_sha256: str
    n_source_rows: int
    metadata: dict[str, Any]
    pseudonym_key: str | None
    split_values: pd.Series | None = None
    """The cohort's ``split.time_column`` or ``split.site_column`` (None for other methods)."""
    baseline: pd.Series | None = None
    """The pipeline's existing clinical score per row (None if it defines no ``baseline()``)."""
    ingest: tuple[data.FhirIngestReport, ...] = ()
    """Reports of the FHIR exports the pipeline's ``load()`` read (what was skipped, by line)."""
    time: pd.Series | None = None
    """Follow-up time of a survival outcome (``y`` is then the event); None for binary."""
    event_code: pd.Series | None = None
    """With competing events: 0 censored, 1 the event, 2 competing; None otherwise."""


def _call(pipeline: ModuleType, name: str, function: str, frame: Any) -> Any:
    """Call a pipeline function; turn a missing column or a crash into one clear line.

    ``frame`` is the data frame the function takes, or for ``load`` the source
    options passed as keyword arguments.
    """
    try:
        if function == "load":
            return getattr(pipeline, function)(**frame)
        return getattr(pipeline, function)(frame)
    except ClinaiError:
        raise
    except KeyError as exc:
        column = str(exc.args[0]) if exc.args else "?"
        # pandas says "['a', 'b'] not in index" when a list of columns is selected.
        listed = re.fullmatch(r"\[(.*)\] not in index", column)
        raise DataError(
            _PIPELINE_COLUMN.format(
                column=", ".join(
                    name.strip(" '\"")
                    for name in (listed.group(1) if listed else column).split(",")
                ),
                pipeline=name,
                function=function,
                available=", ".join(map(str, getattr(frame, "columns", list(frame))[:30])),
            )
        ) from exc
    except Exception as exc:
        raise PipelineError(
            _PIPELINE_FAILED.format(
                pipeline=name,
                function=function,
                error=f"{type(exc).__name__}: {exc}",
            )
        ) from exc


def load_cohort(config: ExperimentConfig) -> Cohort:
    """Load the source, pseudonymise identifiers, apply the pipeline and check the result.

    Raises
    ------
    DataError, PipelineError
        On any bad input, with one line naming the column or field.
    """
    pipeline = load_pipeline(config.pipeline)
    with data.collect_fhir_reports() as ingest:  # a pipeline's load() may read FHIR
        raw, provenance, data_hash = _load_source(config, pipeline)

    if config.data.phi_columns:
        data.check_columns(raw, list(config.data.phi_columns), where="the data (data.phi_columns)")
    patient_column = config.data.patient_id
    key = data.get_pseudonym_key(required=config.data.require_pseudonymisation)
    if patient_column is not None:
        data.check_columns(raw, [patient_column], where="the data (data.patient_id)")
        # Without a configured key an ephemeral one (never stored) still hides the identifiers.
        raw = raw.copy()
        raw[patient_column] = data.pseudonymise(
            raw[patient_column].astype(str), key=key or secrets.token_bytes(32)
        )

    steps = _call(pipeline, config.pipeline, "exclusions", raw)
    cohort, flow = data.apply_exclusions(raw, steps)
    data.check_cohort_not_empty(cohort, where=f"pipeline {config.pipeline!r}")
    split_values = _split_column(config, cohort)
    y = _call(pipeline, config.pipeline, "outcome", cohort)
    time = event_code = None
    if config.is_survival:  # outcome() returns time and event: y becomes the event (0/1)
        y = _in_cohort_order(y, cohort)  # a table, its length checked by survival_outcome
        checked = survival_outcome(config, y, len(cohort))
        event_code = competing_event_code(config, y)  # None without competing events
        time, y = checked
    else:
        y = _per_row(y, cohort, config.pipeline, "outcome")
    data.check_binary_outcome(y, column=f"outcome of pipeline {config.pipeline!r}")
    X = _per_row(
        _call(pipeline, config.pipeline, "features", cohort), cohort, config.pipeline, "features"
    )
    sensitive = _per_row(
        _call(pipeline, config.pipeline, "sensitive_attributes", cohort),
        cohort,
        config.pipeline,
        "sensitive_attributes",
    )
    missing = [a for a in config.evaluation.sensitive_attributes if a not in sensitive.columns]
    if missing:
        raise DataError(
            _SENSITIVE_MISSING.format(
                missing=", ".join(missing),
                pipeline=config.pipeline,
                available=", ".join(map(str, sensitive.columns)) or "none",
            )
        )
    sensitive = sensitive[list(config.evaluation.sensitive_attributes)]
    for column in X.columns:
        if str(column).startswith("__"):
            raise DataError(_RESERVED.format(column=column, pipeline=config.pipeline))
    data.check_all_missing(X)
    data.check_finite_features(X)
    data.check_numeric_text(X, categorical=_declared_categorical(pipeline, config.pipeline, X))
    numeric, categorical = data.infer_feature_types(X)
    baseline = _baseline(pipeline, config.pipeline, cohort)
    return Cohort(
        X=X,
        y=y,
        sensitive=sensitive,
        groups=cohort[patient_column] if patient_column is not None else None,
        numeric=numeric,
        categorical=categorical,
        flow=flow,
        provenance=provenance,
        data_sha256=data_hash,
        n_source_rows=len(raw),
        metadata={"name": config.pipeline, **pipeline.METADATA},
        pseudonym_key="configured" if key else ("ephemeral" if patient_column else None),
        split_values=split_values,
        baseline=baseline,
        ingest=tuple(ingest),
        time=time,
        event_code=event_code,
    )


def _declared_categorical(pipeline: ModuleType, name: str, X: pd.DataFrame) -> list[str]:
    """Return the feature columns a pipeline declares categorical (``CATEGORICAL``, optional).

    A text feature whose values are mostly numbers is taken for a numeric column
    holding text (:func:`clinai.data.check_numeric_text`) unless it is declared
    here or has dtype ``category``.
    """
    declared = getattr(pipeline, "CATEGORICAL", ())
    if isinstance(declared, str) or not all(isinstance(c, str) for c in declared):
        raise PipelineError(_CATEGORICAL_BAD.format(pipeline=name, got=repr(declared)[:80]))
    unknown = [c for c in declared if c not in X.columns]
    if unknown:
        raise PipelineError(
            _CATEGORICAL_UNKNOWN.format(
                pipeline=name,
                names=", ".join(f"'{c}'" for c in unknown),
                available=", ".join(map(str, X.columns[:30])),
            )
        )
    return list(declared)


def _baseline(pipeline: ModuleType, name: str, cohort: pd.DataFrame) -> pd.Series | None:
    """Return the use case's existing clinical score (e.g. NEWS2), if it defines ``baseline()``."""
    if not callable(getattr(pipeline, "baseline", None)):
        return None
    return _per_row(_call(pipeline, name, "baseline", cohort), cohort, name, "baseline")


# What each pipeline function returns per cohort row: (a table?, the words for one row, the kind)
_PER_ROW = {
    "outcome": (False, "outcome value", "one pandas Series of 0/1 values"),
    "features": (True, "row of features", "a pandas DataFrame of feature columns"),
    "sensitive_attributes": (True, "row of attributes", "a pandas DataFrame (attribute_frame)"),
    "baseline": (False, "score", "one pandas Series of scores"),
}


def _per_row(value: Any, cohort: pd.DataFrame, name: str, function: str) -> Any:
    """Check that a pipeline function returned one row per cohort row, in the cohort's order.

    The later stages take the rows by position; a result with the cohort's index in another
    order (a ``sort_values`` in ``features()``) is put back in the cohort's order, and one of
    another length stops here, instead of pairing patients with other patients' outcomes.
    """
    import pandas as pd

    table, row, kind = _PER_ROW[function]
    if isinstance(value, pd.DataFrame) is not table or not hasattr(value, "__len__"):
        got = (
            f"a table of {value.shape[1]} column(s)"
            if isinstance(value, pd.DataFrame)
            else f"a {type(value).__name__}"
        )
        raise PipelineError(
            _PER_ROW_KIND.format(function=function, pipeline=name, got=got, what=kind)
        )
    if table and not value.columns.is_unique:
        twice = value.columns[value.columns.duplicated()].unique()
        raise PipelineError(
            _PER_ROW_TWICE.format(
                function=function, pipeline=name, columns=", ".join(f"'{c}'" for c in twice)
            )
        )
    if len(value) != len(cohort):
        raise PipelineError(
            _PER_ROW_LENGTH.format(
                function=function, pipeline=name, got=len(value), expected=len(cohort), what=row
            )
        )
    return _in_cohort_order(value, cohort)


def _in_cohort_order(value: Any, cohort: pd.DataFrame) -> Any:
    """Return ``value`` with its rows in the cohort's order, when its index holds the cohort's."""
    index = getattr(value, "index", None)
    if (
        index is not None
        and cohort.index.is_unique
        and not index.equals(cohort.index)
        and index.sort_values().equals(cohort.index.sort_values())
    ):
        return value.loc[cohort.index]
    return value


def _split_column(config: ExperimentConfig, cohort: pd.DataFrame) -> pd.Series | None:
    """Take the time or site column of a temporal or site split from the cohort frame."""
    split = config.split
    field, column = {
        "temporal": ("split.time_column", split.time_column),
        "site": ("split.site_column", split.site_column),
    }.get(split.method, ("", None))
    if column is None:
        return None
    data.check_columns(cohort, [column], where=f"the data ({field})")
    return cohort[column].reset_index(drop=True)


def _split(config: ExperimentConfig, cohort: Cohort) -> tuple[Any, Any, dict[str, Any]]:
    """Draw the train/test split the config names; return the indices and manifest entries."""
    import numpy as np

    split = config.split
    values = cohort.split_values
    if split.method == "none":
        return np.arange(len(cohort.y)), np.arange(0), {"test_size": 0.0}
    if split.method == "temporal":
        assert values is not None and split.time_column is not None  # set by load_cohort
        train_idx, test_idx = data.split_temporal(
            values, test_size=split.test_size, groups=cohort.groups, column=split.time_column
        )
        info: dict[str, Any] = {
            "test_size": split.test_size,
            "time_column": split.time_column,
            "train_period": data.time_range(values.iloc[train_idx], column=split.time_column),
            "test_period": data.time_range(values.iloc[test_idx], column=split.time_column),
        }
        return train_idx, test_idx, info
    if split.method == "site":
        assert values is not None and split.site_column is not None and split.test_sites
        train_idx, test_idx = data.split_by_site(
            values, test_sites=split.test_sites, column=split.site_column
        )
        labels = values.astype(str)
        info = {
            "test_size": None,
            "site_column": split.site_column,
            "train_sites": sorted(labels.iloc[train_idx].unique().tolist()),
            "test_sites": sorted(labels.iloc[test_idx].unique().tolist()),
        }
        return train_idx, test_idx, info
    train_idx, test_idx = data.split_train_test(
        cohort.y,
        groups=cohort.groups,
        method=split.method,
        test_size=split.test_size,
        random_state=config.seed,
    )
    return train_idx, test_idx, {"test_size": split.test_size}


def cohort_quality(
    config: ExperimentConfig, cohort: Cohort, train_idx: Any, test_idx: Any
) -> data.DataQualityReport:
    """Run the data checks of a prepared cohort and its train/test split.

    The lines a FHIR read of the pipeline's ``load()`` skipped (listed by
    number), features (types, finite values, share missing), the outcome (binary,
    complete, prevalence in a plausible band), repeated patient identifiers
    (allowed when the split keeps each patient's rows together) and patients
    in both splits. Used by the prepare stage (``data_quality.json``) and by
    ``clinai check-data``.

    Parameters
    ----------
    config : ExperimentConfig
        The experiment config (split method, identifier column).
    cohort : Cohort
        From :func:`load_cohort`.
    train_idx, test_idx : array-like of int
        Row positions of the split.

    Returns
    -------
    DataQualityReport
        Counts and messages only; no identifier or patient-level value.
    """
    splits = {"train": train_idx, "test": test_idx} if len(test_idx) else {"train": train_idx}
    return data.check_cohort_quality(
        cohort.X,
        cohort.y.to_numpy(),
        numeric=cohort.numeric,
        categorical=cohort.categorical,
        patients=None if cohort.groups is None else cohort.groups.to_numpy(),
        patient_column=config.data.patient_id or "patient_id",
        splits=splits,
        repeats_allowed=config.split.method != "stratified",
        source_checks=data.fhir_quality_checks(cohort.ingest),
    )


def _n_patients(groups: Any, index: Any) -> int:
    """Distinct patients among the rows ``index`` (each row one patient without identifiers)."""
    return len(index) if groups is None else int(groups.iloc[index].nunique())


def prepare(config: ExperimentConfig, run_dir: RunDir) -> dict[str, Any]:
    """Build the cohort and the train/test split and write them to the run directory.

    Writes ``config.resolved.yaml``, ``data_manifest.json`` (provenance, hashes,
    cohort flow, split sizes, a Table-1 summary with small cells suppressed) and
    the patient-level splits under ``prepared/`` (never logged to MLflow).

    Returns
    -------
    dict
        The data manifest.
    """
    import pandas as pd

    cohort = load_cohort(config)
    X, y, sensitive, groups = cohort.X, cohort.y, cohort.sensitive, cohort.groups
    train_idx, test_idx, split_info = _split(config, cohort)
    y_values = y.to_numpy().astype(int)
    data.check_binary_outcome(
        pd.Series(y_values[train_idx]), column="outcome in the training split"
    )
    if len(test_idx):
        data.check_binary_outcome(pd.Series(y_values[test_idx]), column="outcome in the test split")
    if groups is not None:
        data.check_no_patient_overlap(groups.iloc[train_idx], groups.iloc[test_idx])
    if cohort.time is not None:  # each split must reach past the horizons (before any write)
        splits = {"training": train_idx, "test": test_idx}
        check_split_follow_up(config, cohort.time.to_numpy(), y_values, splits)
    quality = cohort_quality(config, cohort, train_idx, test_idx)
    run_dir.write_json(QUALITY_FILE, quality.to_dict())

    table = X.reset_index(drop=True).copy()
    table[OUTCOME] = y_values
    for name in sensitive.columns:
        table[f"{SENSITIVE_PREFIX}{name}"] = sensitive[name].astype(str).to_numpy()
    table[PATIENT] = (
        groups.to_numpy() if groups is not None else [f"row{i}" for i in range(len(table))]
    )
    if cohort.baseline is not None:
        table[BASELINE] = cohort.baseline.to_numpy()
    if cohort.time is not None:
        table[TIME] = cohort.time.to_numpy()
    if cohort.event_code is not None:
        table[EVENT_CODE] = cohort.event_code.to_numpy()
    for name, index in (("train", train_idx), ("test", test_idx)):
        buffer = table.iloc[index].reset_index(drop=True).to_parquet(index=False)
        atomic_write_bytes(run_dir.prepared / f"{name}.parquet", buffer)

    manifest = {
        "use_case": cohort.metadata,
        "source": cohort.provenance,
        "data_sha256": cohort.data_sha256,
        "cohort_sha256": frame_sha256(table.drop(columns=[PATIENT])),
        "n_source_rows": int(cohort.n_source_rows),
        "cohort_flow": cohort.flow,
        "n": len(table),
        "events": int(y_values.sum()),
        "features": {"numeric": cohort.numeric, "categorical": cohort.categorical},
        "sensitive_attributes": list(sensitive.columns),
        "split": {
            "method": config.split.method,
            "test_size": split_info.pop("test_size"),
            "seed": config.seed,
            "n_train": len(train_idx),
            "n_test": len(test_idx),
            "events_train": int(y_values[train_idx].sum()),
            "events_test": int(y_values[test_idx].sum()),
            # distinct patients (counts only): a row may be one of a patient's prediction times
            "n_patients_train": _n_patients(groups, train_idx),
            "n_patients_test": _n_patients(groups, test_idx),
            # temporal: time_column, train_period/test_period {start, end} (dates only);
            # site: site_column, train_sites, test_sites.
            **split_info,
        },
        "population_summary": data.summarise_population(
            X, sensitive, y, min_cell=config.evaluation.min_cell
        ),
        "pseudonymised": groups is not None,
        "pseudonym_key": cohort.pseudonym_key,
    }
    atomic_write_text(run_dir.file(RESOLVED_CONFIG_FILE), resolved_config_yaml(config))
    run_dir.write_json("data_manifest.json", manifest)
    logger.info("prepared %s: n=%d events=%d", config.experiment, manifest["n"], manifest["events"])
    return manifest


def read_split(run_dir: RunDir, name: str) -> tuple[pd.DataFrame, Any, pd.DataFrame, Any]:
    """Read a prepared split: features, outcome array, sensitive attributes, patient pseudonyms."""
    import pandas as pd

    path = run_dir.require(f"prepared/{name}.parquet", stage="prepare")
    table = pd.read_parquet(path)
    sensitive_cols = [c for c in table.columns if c.startswith(SENSITIVE_PREFIX)]
    sensitive = table[sensitive_cols].rename(columns=lambda c: c.removeprefix(SENSITIVE_PREFIX))
    X = table.drop(columns=[OUTCOME, PATIENT, *sensitive_cols], errors="ignore")
    X = X.drop(columns=[BASELINE, TIME, EVENT_CODE], errors="ignore")
    return X, table[OUTCOME].to_numpy(), sensitive, table[PATIENT].to_numpy()


def read_baseline(run_dir: RunDir, name: str) -> Any:
    """Return the baseline score of a prepared split (an array), or None if there is none."""
    import pandas as pd

    path = run_dir.require(f"prepared/{name}.parquet", stage="prepare")
    table = pd.read_parquet(path)
    return table[BASELINE].to_numpy(dtype=float) if BASELINE in table.columns else None
