"""Experiment tracking with MLflow: the only part of clinai that imports mlflow.

:class:`MlflowTracker` logs a clinai run as a parent MLflow run with nested
trial runs, parameters, metrics, artifacts and the model (with signature and a
synthetic input example), and marks a run ``FAILED`` when its block raises.
:class:`ModelRegistry` (``tracker.registry``) points aliases at registered
versions, tags, deletes and loads them. :func:`mark_orphan_runs` fails runs a
killed process left running; :func:`find_audit_anchors` reads the audit log's
anchors back from run tags. mlflow is imported inside the functions, so
``import clinai.tracking`` stays cheap and everything else in clinai works
without MLflow.

Modules: ``_runs`` (run logging), ``_artifacts`` (files and the model of a
run), ``_registry`` (the model registry), ``_orphans`` and ``_anchors`` (scans
over runs), ``_flatten`` (flat MLflow names and values), ``_client`` (the
store: connecting, failures, experiments), ``_model_io`` (the model folder in
a run directory).
"""

from __future__ import annotations

from clinai.tracking._anchors import find_audit_anchors
from clinai.tracking._flatten import flatten_metrics
from clinai.tracking._model_io import load_model_dir, pip_requirements_for, save_model_dir
from clinai.tracking._orphans import mark_orphan_runs
from clinai.tracking._registry import ModelRegistry
from clinai.tracking._runs import MlflowTracker, RunStatus

__all__ = [
    "MlflowTracker",
    "ModelRegistry",
    "RunStatus",
    "find_audit_anchors",
    "flatten_metrics",
    "load_model_dir",
    "mark_orphan_runs",
    "pip_requirements_for",
    "save_model_dir",
]
