"""Orchestration: the only layer that reads the config and knows the order of the stages.

Each stage reads and writes files in the run directory, so ``dvc.yaml`` can call
the stages one by one.
"""

from __future__ import annotations

from clinai.runs._approve import ApprovalError, ApprovalResult, approve_run
from clinai.runs._audit import append_audit_record, verify_audit_log
from clinai.runs._check_data import check_data
from clinai.runs._demo import demo_configs, run_demo
from clinai.runs._experiment import (
    RunResult,
    evaluate_stage,
    prepare_stage,
    report_stage,
    run_experiment,
    train_stage,
)
from clinai.runs._meta import meta_analyse
from clinai.runs._monitor import MonitorError, monitor
from clinai.runs._plan import MonitoringPlanError, check_monitoring_plan
from clinai.runs._plugins import find_pipeline_names, load_pipeline
from clinai.runs._rundir import RunDir, resolve_run_dir
from clinai.runs._score import score
from clinai.runs._update import UpdateError, update
from clinai.runs._validate import validate_predictions_file

__all__ = [
    "ApprovalError",
    "ApprovalResult",
    "MonitorError",
    "MonitoringPlanError",
    "RunDir",
    "RunResult",
    "UpdateError",
    "append_audit_record",
    "approve_run",
    "check_data",
    "check_monitoring_plan",
    "demo_configs",
    "evaluate_stage",
    "find_pipeline_names",
    "load_pipeline",
    "meta_analyse",
    "monitor",
    "prepare_stage",
    "report_stage",
    "resolve_run_dir",
    "run_demo",
    "run_experiment",
    "score",
    "train_stage",
    "update",
    "validate_predictions_file",
    "verify_audit_log",
]
