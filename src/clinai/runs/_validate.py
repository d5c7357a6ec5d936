"""``clinai validate``: validate any model's predictions (a vendor's, a published score) locally.

The same engine as ``clinai run``'s evaluate stage; the output folder is built
under a temporary name and renamed into place only when complete.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from clinai import data, evaluation, reporting
from clinai._utils import sha256_file, sha256_text
from clinai.config import EvaluationConfig, load_plan
from clinai.config._load import load_plan_economics
from clinai.exceptions import ConfigError, DataError
from clinai.runs._docstrings import fill_doc
from clinai.runs._economics import check_validate_economics, validate_economics
from clinai.runs._lineage import code_version, describe_code, environment
from clinai.runs._prediction_columns import (
    check_named_columns,
    groups_and_patients,
    numeric_column,
    risk_column,
)
from clinai.runs._progress import progress_bar
from clinai.runs._report import acceptance_verdict, precise_validation_size
from clinai.runs._rundir import RunDir
from clinai.runs._site_summary import (
    SITE_SUMMARY_FILE,
    check_model_sha256,
    check_summary_target,
    model_identity,
    site_summary_document,
    write_site_summary,
)
from clinai.runs._staging import staged_folder

__all__ = ["validate_predictions_file"]

logger = logging.getLogger(__name__)

_OUT_EXISTS = "output folder {path} exists and is not empty: choose another --out or remove it"
_OUT_IS_FILE = "--out {path}: {file} is a file, not a folder: choose a new folder for the output"
_TOO_FEW_REPLICATES = (
    "--bootstrap must be at least 1 (got {n}): the confidence intervals need bootstrap "
    "replicates; leave it out to use the plan's evaluation.n_boot"
)


@fill_doc
def validate_predictions_file(
    predictions: str | Path,
    *,
    outcome: str,
    score: str,
    out_dir: str | Path,
    groups: Sequence[str] = (),
    baseline: str | None = None,
    patient: str | None = None,
    plan_path: str | Path | None = None,
    n_boot: int | None = None,
    seed: int = 0,
    show_progress: bool = True,
    summary: str | Path | None = None,
    site: str | None = None,
    model: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Validate the predictions in a CSV or Parquet file and write metrics, plots and a report.

    {parameters_predictions_file}
    outcome, score : str
        Columns of the observed 0/1 outcome and the predicted risk in [0, 1].
    out_dir : path-like
        Output folder: ``metrics.json``, ``validation_report.html``, ``plots/*.png``,
        ``audit.json``. It must not exist or be empty.
    groups : sequence of str
        Sensitive-attribute columns for subgroup results (small cells suppressed).
    baseline : str, optional
        Column of an existing score to compare with (higher means higher risk).
    patient : str, optional
        Patient identifier column: the bootstrap then resamples patients, not rows.
        Identifiers are pseudonymised on reading and never written anywhere.
    plan_path : path-like, optional
        Validation plan YAML (the ``evaluation`` block of a config: thresholds,
        decision-curve range, ``min_cell``, acceptance criteria, ``n_boot``).
    n_boot : int, optional
        Bootstrap replicates (overrides the plan).
    seed : int
        Random seed of the bootstrap.
    show_progress : bool
        Show Rich progress bars on stderr.
    summary : path-like, optional
        Also write a site summary for ``clinai meta-analyse`` to this file (which
        must not exist); it is ``site_summary.json`` of the output folder too.
    site : str, optional
        The site's label in the summary (default: the predictions file's stem).
    model : mapping, optional
        ``{"name", "version", "sha256"}`` of the model, for the summary; each missing
        one is taken from the file's ``model_name``/``model_version`` columns when
        present (see :func:`~clinai.runs._site_summary.model_identity`).

    Returns
    -------
    dict
        The metrics (``metrics.json``).
    """
    # Every argument is checked before anything is read or written.
    if n_boot is not None and n_boot < 1:
        raise ConfigError(_TOO_FEW_REPLICATES.format(n=n_boot))
    target = Path(out_dir)
    _check_out_dir(target)
    summary_path = None if summary is None else check_summary_target(summary)
    check_model_sha256((model or {}).get("sha256"))
    plan = load_plan(plan_path) if plan_path is not None else EvaluationConfig()
    economics_spec = load_plan_economics(plan_path) if plan_path is not None else None
    check_validate_economics(economics_spec, baseline)
    if n_boot is not None:
        plan = plan.model_copy(update={"n_boot": n_boot})

    frame = data.read_table(predictions, text_columns=[patient] if patient else [])
    where = f"predictions file {Path(predictions).name!r}"
    named = {"outcome": outcome, "score": score, "baseline": baseline, "patient": patient}
    check_named_columns(frame, named, groups, where=where)
    data.check_binary_outcome(frame[outcome], column=outcome, in_file=where)
    y_true = frame[outcome].to_numpy().astype(int)
    y_prob = risk_column(frame, score)
    sensitive, patient_ids = groups_and_patients(frame, groups, patient)
    baseline_kwargs: dict[str, Any] = {}
    if baseline is not None:
        baseline_kwargs = {
            "y_baseline": numeric_column(frame, baseline, "--baseline"),
            "baseline_name": baseline,
        }

    low, high, step = plan.decision_curve
    with progress_bar("bootstrap", plan.n_boot, enabled=show_progress) as advance:
        result = evaluation.evaluate_predictions(
            y_true,
            y_prob,
            patient_ids=patient_ids,
            sensitive_features=sensitive,
            thresholds=plan.thresholds,
            dca_thresholds=np.round(np.arange(low, high + step / 2, step), 6),
            n_boot=plan.n_boot,
            ci_level=plan.ci_level,
            min_cell=plan.min_cell,
            random_state=seed,
            progress=advance,
            **baseline_kwargs,
        )
    metrics = result.to_dict()
    criteria = [c.model_dump() for c in plan.acceptance]
    metrics["acceptance"] = [a.to_dict() for a in evaluation.evaluate_acceptance(metrics, criteria)]
    # issue 17: only with the plan's economics: section (never invented defaults)
    economics = validate_economics(
        economics_spec,
        y_true,
        y_prob,
        plan=plan,
        seed=seed,
        baseline=None if baseline is None else (baseline, baseline_kwargs["y_baseline"]),
        patients=patient_ids,
    )
    if economics is not None:
        metrics["economics"] = economics
    plan_sha256 = sha256_text(repr(criteria)) if plan_path else None
    site_document = None
    if summary_path is not None:
        site_document = site_summary_document(
            y_true,
            y_prob,
            site=site or Path(predictions).stem,
            model=model_identity(frame, score=score, **dict(model or {})),
            plan_sha256=plan_sha256,
            patient_ids=patient_ids,
            min_cell=max(plan.min_cell, evaluation.SITE_MIN_CELL),
        )

    with staged_folder(target) as staging:
        run_dir = RunDir(staging)
        run_dir.write_json("metrics.json", metrics)
        plots = reporting.render_plots(metrics, importance=None, out_dir=run_dir.plots)
        context = _context(
            predictions,
            score=score,
            outcome=outcome,
            n_rows=len(frame),
            metrics=metrics,
            criteria=criteria,
        )
        reporting.write_validation_report(
            context,
            metrics,
            plots=plots,
            importance=None,
            out_path=run_dir.file("validation_report.html"),
        )
        outputs = [
            *plots.values(),
            run_dir.file("metrics.json"),
            run_dir.file("validation_report.html"),
        ]
        if site_document is not None:
            outputs.append(write_site_summary(run_dir.file(SITE_SUMMARY_FILE), site_document))
        run_dir.write_json(
            "audit.json",
            {
                "created_at": context["created_at"],
                "predictions_sha256": context["lineage"]["data_sha256"],
                "plan_sha256": plan_sha256,
                "code_version": code_version(),
                "environment": environment(),
                "acceptance_verdict": context["acceptance_verdict"],
                "outputs": {str(Path(p).relative_to(staging)): sha256_file(p) for p in outputs},
            },
        )
    if summary_path is not None and site_document is not None:
        write_site_summary(summary_path, site_document)
    return metrics


def _check_out_dir(target: Path) -> None:
    """Refuse an output folder that is a file, lies under a file, or already holds files."""
    for folder in (target, *target.parents):
        if folder.exists():
            if not folder.is_dir():
                raise DataError(_OUT_IS_FILE.format(path=target, file=folder))
            break
    if target.is_dir() and any(target.iterdir()):
        raise DataError(_OUT_EXISTS.format(path=target))


def _context(
    predictions: str | Path,
    *,
    score: str,
    outcome: str,
    n_rows: int,
    metrics: dict[str, Any],
    criteria: list[dict[str, Any]],
) -> dict[str, Any]:
    code = code_version()
    env = environment()
    name = Path(predictions).name
    return {
        "experiment": f"validate-{Path(predictions).stem}",
        "run_id": datetime.now(UTC).strftime("%Y%m%dT%H%M%S"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "use_case": {
            "name": f"validation of {score}",
            "title": f"Validation of the score {score!r} against the outcome {outcome!r}",
            "outcome": f"column {outcome!r} of {name} (1 = event)",
            "prediction_time": "as defined by the source of the predictions",
            "intended_use": "Local validation of an existing model's predictions.",
            "not_for": [],
            "limitations": [
                "clinai did not train this model: its development data and procedure are "
                "not known to this report.",
            ],
        },
        "dataset": {"name": name, "title": name, "n_rows": n_rows},
        "cohort_flow": [{"step": "source", "excluded": 0, "remaining": n_rows}],
        "model": {"family": f"external score ({score})"},
        "lineage": {
            "data_sha256": sha256_file(predictions),
            "code_version": describe_code(code),
            "git_dirty": code["git_dirty"],
            "python": env["python"],
            "platform": env["platform"],
            "packages": env["packages"],
            "config_sha256": sha256_text(repr(criteria)),
        },
        "acceptance_verdict": acceptance_verdict(metrics),
        "validation_sample_size": precise_validation_size(metrics),
        "registry": None,
    }
