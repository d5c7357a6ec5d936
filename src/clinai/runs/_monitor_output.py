"""``clinai monitor``'s outputs: the folder, written whole or not at all, its MLflow run, the audit.

The folder (``monitoring.json``, the reports, their plots) is written under a
temporary name beside its destination, logged to the monitoring run, and renamed
at the end; the audit record follows the rename, so a record always names a
complete folder. The model version gets the tags ``monitoring.latest_run_id`` and
``monitoring.latest_verdict``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.runs._audit import append_audit_record, audit_log_path

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._monitor_inputs import MonitoredModel

__all__ = ["MONITORING_FILE", "PDF_SKIPPED", "VERDICT_RANK", "write_outputs"]

logger = logging.getLogger(__name__)

MONITORING_FILE = "monitoring.json"
#: Logged (one WARNING line) where WeasyPrint cannot run: the monitoring pass still
#: completes with the HTML and Markdown reports. The reason says what to install.
PDF_SKIPPED = "monitoring report PDF skipped (HTML and Markdown written): %s"
#: The verdict as a number for MLflow's charts (0 in control .. 3 suspend).
VERDICT_RANK = {"in_control": 0, "investigate": 1, "recalibrate": 2, "suspend": 3}


def _render(config: ExperimentConfig, document: dict[str, Any], folder: Path) -> None:
    """Render the monitoring report (html, pdf, md; English and the config's languages).

    A missing PDF library costs the PDF only: a monitoring pass is an operational
    routine, and its verdict, monitoring.json and the readable reports still matter.
    """
    from clinai.reporting import check_pdf_support, render_monitoring_report

    try:
        check_pdf_support()
    except ImportError as exc:
        logger.warning(PDF_SKIPPED, " ".join(str(exc).split()))  # one line, whatever it held
        pdf = False
    else:
        pdf = True
    render_monitoring_report(document, folder, languages=list(config.languages), pdf=pdf)


#: Per-period numbers logged as MLflow metrics (step = the period's index), by path.
_LOGGED = {
    "auroc": ("performance", "auroc", "estimate"),
    "oe_ratio": ("performance", "oe_ratio", "estimate"),
    "calibration_slope": ("performance", "calibration_slope", "estimate"),
    "estimated_auroc": ("estimated", "auroc", "estimate"),
    "risk_psi": ("drift", "risk", "psi"),
    "cusum_end": ("cusum", "end"),
}


def _log_numbers(tracker: Any, document: dict[str, Any]) -> None:
    """Log a few numbers of each period as MLflow metrics (aggregates only, never a row)."""
    for step, period in enumerate(document["periods"]):
        found: dict[str, float] = {}
        for name, path in _LOGGED.items():
            value: Any = period
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, int | float):
                found[name] = float(value)
        found["verdict_level"] = float(VERDICT_RANK[period["verdict"]["level"]])
        tracker.log_metrics(found, step=step)


def write_outputs(
    config: ExperimentConfig,
    tracker: Any,
    document: dict[str, Any],
    folder: Path,
    run_id: str,
    model: MonitoredModel,
) -> None:
    """Write the folder under a temporary name, log it, rename it, then audit the pass."""
    from clinai._utils import sha256_text

    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.parent / f".{folder.name}.tmp-{secrets.token_hex(4)}"
    temporary.mkdir()
    try:
        text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)
        (temporary / MONITORING_FILE).write_text(text + "\n", encoding="utf-8")
        _render(config, document, temporary)
        tracker.log_artifacts(temporary)
        _log_numbers(tracker, document)
        level = document["verdict"]["level"]
        tracker.set_run_tags(
            {
                "clinai.monitoring_verdict": level,
                "clinai.monitoring_period": document["verdict"]["period"],
                "clinai.model_run_id": model.run_id or "",
                "clinai.monitoring_plan_sha256": document["plan"]["sha256"],
            }
        )
        tracker.registry.set_version_tags(
            model.name,
            model.version,
            {"monitoring.latest_run_id": run_id, "monitoring.latest_verdict": level},
        )
        if folder.exists():  # an empty folder given as --out
            folder.rmdir()
        os.replace(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    append_audit_record(
        audit_log_path(config.output_dir),
        {
            "kind": "monitor",
            "experiment": config.experiment,
            "model_name": model.name,
            "version": model.version,
            "mlflow_run_id": run_id,
            "out_dir": str(folder),
            "verdict": document["verdict"]["level"],
            "verdict_period": document["verdict"]["period"],
            "monitoring_plan_sha256": document["plan"]["sha256"],
            "inputs_sha256": [f["sha256"] for f in document["inputs"]["predictions"]],
            "outcomes_sha256": (document["inputs"]["outcomes"] or {}).get("sha256"),
            "monitoring_sha256": sha256_text(text + "\n"),
        },
    )
