"""``clinai update``'s output: update.json, change_log.md, the candidate version, the audit record.

:func:`publish_update` takes the record :func:`clinai.runs._update.update` built (the
proposal and its validation) and puts it on record in one step: the candidate is
registered as a new version with the alias ``candidate`` and the record's files are
logged with it, the audit log gets a record of kind ``update``, and the output folder
appears last. A failure anywhere leaves no folder that looks complete and no
registered version.
"""

from __future__ import annotations

import json
import shutil
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from clinai._utils import atomic_write_text, sha256_file
from clinai.runs import _audit
from clinai.runs._console_text import estimate_text
from clinai.runs._plan import MONITORING_PLAN_TAG

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.tracking import MlflowTracker

__all__ = ["CHANGE_LOG_FILE", "FIGURES", "UPDATE_FILE", "publish_update"]

UPDATE_FILE = "update.json"
CHANGE_LOG_FILE = "change_log.md"
CANDIDATE_ALIAS = "candidate"

#: Version tags of an update: the version it updates and the method chosen.
UPDATE_OF_TAG = "clinai.update_of"
UPDATE_METHOD_TAG = "clinai.update_method"

#: The validation figures of the original model and the update, in update.json's order.
FIGURES = ("auroc", "oe_ratio", "calibration_slope", "calibration_intercept")


def publish_update(
    config: ExperimentConfig,
    tracker: MlflowTracker,
    record: dict[str, Any],
    target: Path,
    candidate: Any,
    example: pd.DataFrame,
    files: list[dict[str, Any]],
) -> None:
    """Register the candidate, write and log the change log, append the audit record.

    Everything happens in a staging folder and, when there is a candidate, inside one
    MLflow run: any failure deletes the registered version, marks the run FAILED and
    leaves no folder that looks complete.
    """
    name, base = record["model"]["name"], record["model"]["version"]
    method = record["proposal"]["method"]
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    version: str | None = None
    run_tags = {"clinai.kind": "update", "clinai.model_name": name, "clinai.model_version": base}
    try:
        with (
            tracker.run(f"update-{name}-v{base}", tags=run_tags)
            if candidate is not None
            else nullcontext()
        ):
            if candidate is not None:
                tags = {
                    UPDATE_OF_TAG: base,
                    UPDATE_METHOD_TAG: method,
                    MONITORING_PLAN_TAG: record["monitoring_plan_sha256"],
                    "approval.decision": "pending",
                }
                version = _register(tracker, name, candidate, example, tags)
                record["registered"] = {
                    "version": version,
                    "alias": CANDIDATE_ALIAS,
                    "mlflow_run_id": tracker.run_id,
                }
            _write(staging, record)
            if candidate is not None:
                tracker.log_artifacts(staging)
            log = _audit.audit_log_path(config.output_dir)
            entry = _audit.append_audit_record(
                log,
                {
                    "kind": "update",
                    "experiment": config.experiment,
                    "model_name": name,
                    "base_version": base,
                    "version": version,
                    "method": method,
                    "fit_periods": record["periods"]["fit"],
                    "validation_periods": record["periods"]["validation"],
                    "config_sha256": record["config_sha256"],
                    "monitoring_plan_sha256": record["monitoring_plan_sha256"],
                    "data_sha256": [f["sha256"] for f in files],
                    "update_sha256": sha256_file(staging / UPDATE_FILE),
                },
            )
            anchor = _audit.anchor_of(log, entry)
            _audit.write_anchor(staging, anchor, kind="update")
            if version is not None:
                tracker.set_run_tags(_audit.anchor_tags(anchor))
                # Last, once everything is on record: deleting a failed version would also
                # take away the alias from the candidate it had replaced.
                tracker.registry.set_alias(name, CANDIDATE_ALIAS, version)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if version is not None:
            tracker.registry.delete_version(name, version)
        raise


def _write(folder: Path, record: dict[str, Any]) -> None:
    atomic_write_text(folder / UPDATE_FILE, json.dumps(record, indent=2, sort_keys=True) + "\n")
    atomic_write_text(folder / CHANGE_LOG_FILE, _change_log(record))


def _change_log(record: dict[str, Any]) -> str:
    """Return the Markdown change log of the update against the approved version."""
    proposal, validation = record["proposal"], record["validation"]
    lines = [
        f"# Update of {record['model']['name']} version {record['model']['version']}",
        "",
        f"- Proposed: **{proposal['method']}** "
        f"(intercept {proposal['intercept']:.4f}, slope {proposal['slope']:.4f})",
        f"- Registered as: {record['registered'] or 'nothing (the original model stays)'}",
        f"- Fitted on periods {', '.join(record['periods']['fit'])} "
        f"(n={proposal['n']}, events={proposal['events']})",
        f"- Validated on periods {', '.join(record['periods']['validation'])} "
        f"(n={validation['n']}, events={validation['events']})",
        f"- Procedure: {proposal['procedure']}, alpha {proposal['alpha']}",
        "",
        "| test | statistic | df | p | significant |",
        "| --- | --- | --- | --- | --- |",
    ]
    for test in proposal["tests"]:
        lines.append(
            f"| {test['name']} | {test['statistic']:.2f} | {test['df']} | "
            f"{test['p_value']:.4g} | {'yes' if test['significant'] else 'no'} |"
        )
    lines += ["", "| on the validation periods | original | update |", "| --- | --- | --- |"]
    for name in FIGURES:
        cells = []
        for model in ("original", "update"):
            value = validation[model][name]
            cells.append(estimate_text(value, missing="not estimable"))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "Data: "
        + ", ".join(
            f"{f['file_name']} sha256 {f['sha256']}" for f in record["data"]["predictions"]
        ),
        "",
    ]
    return "\n".join(lines)


def _register(
    tracker: MlflowTracker,
    name: str,
    model: Any,
    example: pd.DataFrame,
    tags: dict[str, Any],
) -> str:
    """Log the update in the active MLflow run and register it as a new version (no alias)."""
    from clinai import models

    info = tracker.log_model(
        model, input_example=models.synthetic_input_example(example), registered_model_name=name
    )
    version = str(info["version"])
    try:
        tracker.registry.set_version_tags(name, version, tags)
    except BaseException:
        tracker.registry.delete_version(name, version)
        raise
    return version
