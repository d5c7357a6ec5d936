"""Experiment tracking with MLflow: the only part of clinai that imports mlflow.

:class:`MlflowTracker` logs a clinai run as a parent MLflow run with nested
trial runs, parameters, metrics, artifacts and the model (with signature and a
synthetic input example), registers versions and points aliases at them, and
marks a run ``FAILED`` when its block raises. mlflow is imported inside the
functions, so ``import clinai.tracking`` stays cheap and everything else in
clinai works without MLflow.
"""

from __future__ import annotations

from clinai.tracking._model_io import load_model_dir, pip_requirements_for, save_model_dir
from clinai.tracking._tracker import (
    MlflowTracker,
    RunStatus,
    find_audit_anchors,
    flatten_metrics,
    mark_orphan_runs,
)

__all__ = [
    "MlflowTracker",
    "RunStatus",
    "find_audit_anchors",
    "flatten_metrics",
    "load_model_dir",
    "mark_orphan_runs",
    "pip_requirements_for",
    "save_model_dir",
]
