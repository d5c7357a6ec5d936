"""The development data's distributions: the drift reference (train) and TRIPOD+AI 20c (evaluate).

``drift_reference.json`` (train stage) summarises the training split's model
inputs, and the predicted risks where a monitoring plan needs them, into
aggregated bins (:func:`clinai.evaluation.monitoring.drift_reference`): no row is
kept. ``clinai monitor`` compares each period with it.

``predictor_drift.json`` (evaluate stage) compares the test split with the same
reference: TRIPOD+AI item 20c, the predictors' distributions in the development
and the evaluation data. It holds the features with the largest PSI (the report
shows them) and a count of the rest; ``metrics.json`` is not touched.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai.runs._progress import progress_bar

if TYPE_CHECKING:
    import pandas as pd

    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "DRIFT_REFERENCE_FILE",
    "PREDICTOR_DRIFT_FILE",
    "TOP_FEATURES",
    "write_drift_reference",
    "write_predictor_drift",
]

logger = logging.getLogger(__name__)

DRIFT_REFERENCE_FILE = "drift_reference.json"
PREDICTOR_DRIFT_FILE = "predictor_drift.json"
#: Features listed one by one in predictor_drift.json (largest PSI first); the rest are counted.
TOP_FEATURES = 10
#: What the risks of the reference are (written into the file, so a reader knows).
RISK_SOURCE = "out-of-fold predicted risks of the training split ({cv}-fold, grouped by patient)"


def write_drift_reference(
    config: ExperimentConfig,
    run_dir: RunDir,
    model: Any,
    *,
    X: pd.DataFrame,
    y: np.ndarray,
    patients: Any,
    categorical: list[str],
    show_progress: bool = True,
) -> dict[str, Any]:
    """Write ``drift_reference.json``: the training split's inputs (and risks) in bins.

    The risks are out-of-fold: each row's risk comes from a copy of the model
    fitted without that row's patient, so their distribution is that of patients
    the model has not seen, which is what monitoring scores. The final model's
    predictions on its own training rows would be more extreme than on new
    patients (a flexible model fits its training rows), and a stable stream would
    then look like risk drift. They cost ``tuning.cv_folds`` refits, so they are
    computed only when the config has a ``monitoring:`` plan (the only reader);
    without one the reference holds the features only (TRIPOD+AI 20c needs no more).
    """
    from clinai.evaluation.monitoring import drift_reference
    from clinai.runs._fairness import _out_of_fold

    risk = None
    payload: dict[str, Any] = {}
    if config.monitoring is not None:
        folds = config.tuning.cv_folds
        with progress_bar("drift reference (out-of-fold risks)", 1, enabled=show_progress) as done:
            risk = _out_of_fold(
                model,
                X,
                y,
                patients=patients if config.data.patient_id is not None else None,
                cv=folds,
                seed=config.seed,
            )
            done()
        payload["risk_source"] = RISK_SOURCE.format(cv=folds)
    reference = drift_reference(
        X,
        risk=risk,
        categorical=[name for name in categorical if name in X.columns],
        min_cell=config.evaluation.min_cell,
    )
    payload = {**reference.to_dict(), **payload}
    run_dir.write_json(DRIFT_REFERENCE_FILE, payload)
    return payload


def _summary(values: pd.Series, reference: Any, feature: str, min_cell: int) -> dict[str, Any]:
    """Mean and SD (numeric) or the reference levels' shares (categorical) of a split.

    A level seen in fewer than ``min_cell`` rows is suppressed (its share would tell
    the count), as small cells are everywhere else.
    """
    from clinai.evaluation.monitoring import count_bins

    ref = reference.get(feature)
    if ref.kind == "categorical":
        return {
            "levels": _levels(ref, np.asarray(count_bins(reference, feature, values)), min_cell)
        }
    observed = values.to_numpy(dtype="float64", na_value=np.nan)
    observed = observed[np.isfinite(observed)]
    if not observed.size:
        return {"mean": None, "sd": None}
    sd = float(np.std(observed, ddof=1)) if observed.size > 1 else None
    return {"mean": float(np.mean(observed)), "sd": sd}


def _levels(ref: Any, counts: np.ndarray, min_cell: int) -> list[dict[str, Any]]:
    observed = float(counts[: len(ref.levels)].sum())
    rows = []
    for level, reference_share, count in zip(ref.levels, ref.shares, counts, strict=False):
        if reference_share == 0 and count == 0:
            continue  # an empty "other" says nothing
        small = 0 < count < min_cell
        share = None if small or not observed else float(count / observed)
        rows.append(
            {
                "level": level,
                "share_reference": float(reference_share),
                "share_current": share,
                "suppressed": bool(small),
            }
        )
    return rows


def _reference_summary(ref: Any) -> dict[str, Any]:
    if ref.kind != "categorical":
        return {
            "mean": None if math.isnan(ref.mean) else float(ref.mean),
            "sd": None if math.isnan(ref.sd) else float(ref.sd),
        }
    return {}


def write_predictor_drift(
    config: ExperimentConfig, run_dir: RunDir, X: pd.DataFrame, y_prob: np.ndarray
) -> dict[str, Any] | None:
    """Write ``predictor_drift.json``: the test split against the training split's reference.

    Per feature: PSI, KS, Wasserstein, missing shares, and mean and SD (numeric)
    or level shares (categorical) in both splits; the :data:`TOP_FEATURES`
    features with the largest PSI are listed, the rest counted. Without a test
    split (``split.method: none``) or a drift reference there is nothing to
    compare, and no file is written.

    Returns
    -------
    dict or None
        The content of the file.
    """
    path = run_dir.file(PREDICTOR_DRIFT_FILE)
    reference_file = run_dir.file(DRIFT_REFERENCE_FILE)
    if config.split.method == "none" or not reference_file.is_file():
        path.unlink(missing_ok=True)
        return None
    from clinai.evaluation.monitoring import DriftReference, feature_drift_frame

    reference = DriftReference.from_dict(run_dir.read_json(DRIFT_REFERENCE_FILE, stage="train"))
    risk = y_prob if reference.risk is not None else None
    drift = feature_drift_frame(reference, X, risk=risk)
    min_cell = config.evaluation.min_cell
    rows = []
    for item in drift.features:
        rows.append(
            {
                **item.to_dict(),
                "reference": _reference_summary(reference.get(item.feature)),
                "current": _summary(X[item.feature], reference, item.feature, min_cell),
            }
        )
    # Largest PSI first; a PSI that could not be computed (no values) goes last.
    rows.sort(key=lambda row: -row["psi"] if row["psi"] is not None else math.inf)
    shown, rest = rows[:TOP_FEATURES], rows[TOP_FEATURES:]
    rest_psi = [row["psi"] for row in rest if row["psi"] is not None]
    payload = {
        "reference": "training split",
        "current": "test split",
        "n_reference": reference.features[0].n if reference.features else 0,
        "n_current": len(X),
        "n_features": len(rows),
        "features": shown,
        "others": {"count": len(rest), "max_psi": max(rest_psi) if rest_psi else None},
        "risk": None if drift.risk is None else drift.risk.risk_dict(),
    }
    run_dir.write_json(PREDICTOR_DRIFT_FILE, payload)
    return payload
