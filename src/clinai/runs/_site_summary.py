"""``site_summary.json``: one site's validation, shared for a meta-analysis, without row-level data.

``clinai validate ... --summary FILE`` and the run's evaluate stage write it;
``clinai meta-analyse`` reads it. It holds per metric the estimate and standard
error on the pooling scale, the counts (small cells suppressed), the calibration
curve at fixed risks (:func:`clinai.evaluation.site_summary`), the site's label,
the model's name, version and SHA-256, the acceptance plan's SHA-256, the clinai
version and the time it was made. Its JSON Schema ships as
``clinai/reporting/schemas/site_summary.schema.json``; :func:`read_site_summary`
checks the same structure without needing a JSON Schema validator at run time.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import clinai
from clinai import evaluation
from clinai._utils import atomic_write_text
from clinai.exceptions import DataError

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "SITE_SUMMARY_FILE",
    "SITE_SUMMARY_SCHEMA",
    "check_model_sha256",
    "check_summary_target",
    "model_identity",
    "read_site_summary",
    "site_summary_document",
    "write_run_site_summary",
    "write_site_summary",
]

logger = logging.getLogger(__name__)

SITE_SUMMARY_FILE = "site_summary.json"
#: The value of the ``schema`` field this clinai writes and reads.
SITE_SUMMARY_SCHEMA = "clinai.site_summary/1"

SUMMARY_EXISTS = "--summary {path} exists: choose another file name or remove it"
NOT_A_SUMMARY = (
    "{path} is not a clinai site summary ({problem}): give the site_summary.json written by "
    "`clinai validate ... --summary` or by a run"
)
_NOT_JSON = "not JSON: {error}"
_MISSING = "field {field!r} is missing"
_WRONG_TYPE = "field {field!r} must be {kind}"
_ABSENT = object()
BAD_MODEL_SHA256 = "--model-sha256 must be 64 lowercase hex digits (a SHA-256); got {value!r}"
_WRONG_SCHEMA = "field 'schema' is {value!r}, not {expected!r}"
_NOT_FINITE = "field {field!r} must be a finite number or null; got {value!r}"
_OTHER_SCALE = "field {field!r} is {value!r}, but {metric} is pooled on the {expected!r} scale"
_EMPTY_SITE = "field 'site' is empty: name the site (`clinai validate ... --site LABEL`)"

# The structure read_site_summary checks (mirrors site_summary.schema.json): each field's
# accepted types and how the error line describes them.
_TEXT = ((str,), "a string")
_TEXT_OR_NULL = ((str, type(None)), "a string or null")
_OBJECT = ((dict,), "an object")
_NUMBER = ((int, float, type(None)), "a number or null")
_COUNT = ((int, type(None)), "an integer or null")
_FLAG = ((bool,), "true or false")
_TOP = {
    "schema": _TEXT,
    "site": _TEXT,
    "model": _OBJECT,
    "plan_sha256": _TEXT_OR_NULL,
    "clinai_version": _TEXT,
    "created": _TEXT,
    "metrics": _OBJECT,
    "counts": _OBJECT,
    "calibration_curve": _OBJECT,
}
_MODEL = {"name": _TEXT, "version": _TEXT_OR_NULL, "sha256": _TEXT_OR_NULL}
_METRIC = {"estimate": _NUMBER, "se": _NUMBER, "scale": _TEXT, "suppressed": _FLAG}
_COUNTS = {"n": _COUNT, "events": _COUNT, "suppressed": _FLAG}
_CURVE = {"points": ((list,), "a list")}
_POINT = {"p": ((int, float), "a number"), "observed": _NUMBER}


def site_summary_document(
    y_true: Any,
    y_prob: Any,
    *,
    site: str,
    model: Mapping[str, Any],
    plan_sha256: str | None,
    patient_ids: Any = None,
    min_cell: int = evaluation.SITE_MIN_CELL,
) -> dict[str, Any]:
    """Build the ``site_summary.json`` document of one site's predictions.

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n,)
        Observed 0/1 outcome and predicted risk.
    site : str
        The site's label (a hospital's name or code; never a patient's).
    model : mapping
        ``{"name", "version", "sha256"}`` of the model that made the predictions
        (``version`` and ``sha256`` may be ``None`` when not known).
    plan_sha256 : str or None
        SHA-256 of the acceptance plan the site validated against.
    patient_ids : array-like, optional
        Patient of each row, for clustered standard errors; never written.
    min_cell : int
        Smallest count shown (see :func:`clinai.evaluation.site_summary`).

    Returns
    -------
    dict
        The document (plain JSON values).
    """
    summary = evaluation.site_summary(y_true, y_prob, patient_ids=patient_ids, min_cell=min_cell)
    version = model.get("version")
    return {
        "schema": SITE_SUMMARY_SCHEMA,
        "site": str(site),
        "model": {
            "name": str(model.get("name") or ""),
            "version": None if version is None else str(version),
            "sha256": model.get("sha256"),
        },
        "plan_sha256": plan_sha256,
        "clinai_version": clinai.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **summary.to_dict(),
    }


def write_site_summary(path: str | Path, document: Mapping[str, Any]) -> Path:
    """Write a site summary atomically (strict JSON: NaN is refused, not written)."""
    text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)
    return atomic_write_text(Path(path), text + "\n")


def check_model_sha256(value: str | None) -> None:
    """Refuse a ``--model-sha256`` that is not 64 lowercase hex digits (before any work)."""
    if value is not None and re.fullmatch(r"[0-9a-f]{64}", value) is None:
        raise DataError(BAD_MODEL_SHA256.format(value=value))


def check_summary_target(path: str | Path) -> Path:
    """Refuse a ``--summary`` file that already exists (before any work is done)."""
    target = Path(path)
    if target.exists():
        raise DataError(SUMMARY_EXISTS.format(path=target))
    return target


def _check_fields(
    record: Any, fields: Mapping[str, tuple[tuple[type, ...], str]], prefix: str, path: Path
) -> None:
    """Raise one line naming ``path`` and the first field missing or of the wrong type."""
    if not isinstance(record, dict):
        problem = _WRONG_TYPE.format(field=prefix.rstrip(".") or "document", kind="an object")
        raise DataError(NOT_A_SUMMARY.format(path=path, problem=problem))
    for name, (types, kind) in fields.items():
        field = f"{prefix}{name}"
        value = record.get(name, _ABSENT)
        if value is _ABSENT:
            problem = _MISSING.format(field=field)
        # bool is an int in Python: a number or a count must not be true/false
        elif not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            problem = _WRONG_TYPE.format(field=field, kind=kind)
        else:
            continue
        raise DataError(NOT_A_SUMMARY.format(path=path, problem=problem))


def _refuse(path: Path, problem: str) -> NoReturn:
    raise DataError(NOT_A_SUMMARY.format(path=path, problem=problem))


def _check_finite(
    record: Mapping[str, Any], fields: tuple[str, ...], prefix: str, path: Path
) -> None:
    """Refuse NaN or Infinity (which Python's json reads) in a number field of ``record``."""
    for field in fields:
        value = record[field]
        if value is not None and not math.isfinite(value):
            _refuse(path, _NOT_FINITE.format(field=prefix + field, value=value))


def _check_metrics(metrics: Mapping[str, Any], path: Path) -> None:
    """Refuse a metric of the wrong structure, a non-finite number or a foreign scale."""
    for name, metric in metrics.items():
        prefix = f"metrics.{name}."
        _check_fields(metric, _METRIC, prefix, path)
        _check_finite(metric, ("estimate", "se"), prefix, path)
        expected = evaluation.POOLING_SCALES.get(name)
        if expected is not None and metric["scale"] != expected:
            problem = _OTHER_SCALE.format(
                field=prefix + "scale", value=metric["scale"], metric=name, expected=expected
            )
            _refuse(path, problem)


def read_site_summary(path: str | Path) -> dict[str, Any]:
    """Read and check one ``site_summary.json``.

    A UTF-8 byte-order mark (a file saved by a Windows editor) is accepted.

    Raises
    ------
    DataError
        One line naming the file and the first field that is missing, of the
        wrong type, not finite (NaN, Infinity) or on another scale than the
        metric's pooling scale, an empty site label, another schema, or the file
        when it is not JSON.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise DataError(NOT_A_SUMMARY.format(path=source, problem="file not found")) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = _NOT_JSON.format(error=str(exc).splitlines()[0])
        raise DataError(NOT_A_SUMMARY.format(path=source, problem=problem)) from exc
    # the schema first: another clinai document (survival_metrics.json, meta_analysis.json)
    # is named as such, not by the first site-summary field it lacks
    schema = document.get("schema") if isinstance(document, dict) else None
    if isinstance(schema, str) and schema != SITE_SUMMARY_SCHEMA:
        _refuse(source, _WRONG_SCHEMA.format(value=schema, expected=SITE_SUMMARY_SCHEMA))
    _check_fields(document, _TOP, "", source)
    if not document["site"].strip():
        _refuse(source, _EMPTY_SITE)
    _check_fields(document["model"], _MODEL, "model.", source)
    _check_fields(document["counts"], _COUNTS, "counts.", source)
    _check_metrics(document["metrics"], source)
    _check_fields(document["calibration_curve"], _CURVE, "calibration_curve.", source)
    for index, point in enumerate(document["calibration_curve"]["points"]):
        prefix = f"calibration_curve.points[{index}]."
        _check_fields(point, _POINT, prefix, source)
        _check_finite(point, ("p", "observed"), prefix, source)
    return dict(document)


def model_identity(
    frame: Any,
    *,
    score: str,
    name: str | None = None,
    version: str | None = None,
    sha256: str | None = None,
) -> dict[str, Any]:
    """Return the model of a predictions file: the options given, else its own columns.

    A file from ``clinai score`` carries ``model_name`` and ``model_version`` columns;
    a single value of each is taken. Without them the model is named by its score
    column and its version and SHA-256 stay unknown (``None``).
    """

    def column(label: str) -> str | None:
        if label not in frame.columns:
            return None
        values = frame[label].dropna().astype(str).unique()
        return str(values[0]) if len(values) == 1 else None

    check_model_sha256(sha256)
    return {
        "name": name or column("model_name") or score,
        "version": version if version is not None else column("model_version"),
        "sha256": sha256,
    }


def write_run_site_summary(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    y: Any,
    y_prob: Any,
    patients: Any,
    plan_sha256: str,
) -> Path | None:
    """Write the evaluate stage's ``site_summary.json`` of the test split into the run folder.

    The site is the held-out site(s) of a ``site`` split, else the experiment's own
    test split. The model is named as it will be registered, with the SHA-256 of its
    saved folder (its version is given at registration, after this stage: ``None``).
    Without a test split nothing is written: a summary of the development data
    would carry its optimism into a meta-analysis.
    """
    from clinai.runs._score import _folder_sha256

    split = config.split
    if split.method == "none":
        logger.info("no site summary: the run has no test split (split.method none)")
        return None
    if split.method == "site" and split.test_sites:
        site = "site " + ", ".join(str(s) for s in split.test_sites)
    else:
        site = f"{config.experiment} (test split)"
    document = site_summary_document(
        y,
        y_prob,
        site=site,
        model={
            "name": config.tracking.model_name or config.experiment,
            "version": None,
            "sha256": _folder_sha256(run_dir.model),
        },
        plan_sha256=plan_sha256,
        patient_ids=patients if config.data.patient_id is not None else None,
        min_cell=max(config.evaluation.min_cell, evaluation.SITE_MIN_CELL),
    )
    return write_site_summary(run_dir.file(SITE_SUMMARY_FILE), document)
