"""``clinai validate --time ... --competing-code M``: validate competing-risk predictions.

The rows were checked by :func:`clinai.runs._validate_survival.validate_survival_file`
(columns, codes, horizon); here :func:`clinai.evaluation.evaluate_competing` judges
the predicted cumulative incidence of the event by the horizon, with, for ``--group``
columns, the fairness tables of :func:`clinai.evaluation.competing_fairness`. The
output folder is built under a temporary name and renamed into place when complete:
``survival_metrics.json``, ``validation_report.{md,html,pdf}`` and their ``.da`` versions,
``audit.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinai import evaluation
from clinai._utils import sha256_file
from clinai.reporting._competing_card import competing_report
from clinai.reporting._markdown_html import write_markdown_document
from clinai.reporting._meta_report import write_languages
from clinai.runs._lineage import code_version, environment
from clinai.runs._progress import progress_bar
from clinai.runs._rundir import RunDir
from clinai.runs._staging import staged_folder

__all__ = ["validate_competing_rows", "write_validation_audit"]

SURVIVAL_METRICS_FILE = "survival_metrics.json"
#: The languages of the report (as the survival validation report's).
REPORT_LANGUAGES = ("en", "da")


def write_validation_audit(
    run_dir: RunDir,
    *,
    predictions: str | Path,
    created: str,
    columns: Mapping[str, str | None],
    horizon: float,
    skipped: Sequence[str],
    outputs: Sequence[Path],
) -> None:
    """Write ``audit.json``: the input's hash, the columns, lineage and each output's hash.

    ``columns``: the options' columns (a patient id column is named only by
    ``patient_clustered``, never by name).
    """
    run_dir.write_json(
        "audit.json",
        {
            "created_at": created,
            "predictions_sha256": sha256_file(predictions),
            "columns": {k: v for k, v in columns.items() if k != "patient"},
            "patient_clustered": columns.get("patient") is not None,
            "horizon": float(horizon),
            "code_version": code_version(),
            "environment": environment(),
            "skipped": list(skipped),
            "outputs": {str(Path(p).relative_to(run_dir.path)): sha256_file(p) for p in outputs},
        },
    )


def validate_competing_rows(
    predictions: str | Path,
    target: Path,
    rows: Mapping[str, Any],
    *,
    options: Mapping[str, Any],
    show_progress: bool = True,
    pdf: bool = True,
) -> dict[str, Any]:
    """Validate checked competing-risk rows; write the output folder; return the metrics.

    Parameters
    ----------
    predictions : path-like
        The predictions file (named and hashed in the outputs).
    target : Path
        The output folder (checked: absent or empty).
    rows : mapping
        ``time``, ``event`` (0 censored, 1 the event, 2 competing), ``risk``,
        ``sensitive`` (a frame of ``--group`` columns, or None) and ``patients``
        (pseudonyms, or None).
    options : mapping
        ``horizon``, ``score`` (the column's name), ``n_boot``, ``seed``, ``codes``
        (censored, event), ``competing`` (the competing codes as given) and
        ``columns`` (the options' columns, for the audit).
    show_progress : bool
        Show a Rich progress bar on stderr.
    pdf : bool
        Print each HTML report as PDF (skipped with one line without WeasyPrint).
    """
    horizon, seed, boots = float(options["horizon"]), int(options["seed"]), int(options["n_boot"])
    with progress_bar("bootstrap", boots, enabled=show_progress) as advance:
        result = evaluation.evaluate_competing(
            rows["time"],
            rows["event"],
            rows["risk"],
            horizon=horizon,
            patient_ids=rows["patients"],
            n_boot=boots,
            random_state=seed,
            score_name=options["score"],
            progress=advance,
        )
    metrics = result.to_dict()
    censored, event = options["codes"]
    competing = [int(code) for code in options["competing"]]
    metrics["competing"]["competing_codes"] = competing  # the file's codes, not 2
    metrics["competing"]["event_codes"] = {
        "censored": censored,
        "event": event,
        "competing": competing,
    }
    sensitive: pd.DataFrame | None = rows["sensitive"]
    if sensitive is not None:
        tables = evaluation.competing_fairness(
            rows["time"],
            rows["event"],
            rows["risk"],
            sensitive,
            horizon=horizon,
            random_state=np.random.SeedSequence([seed, 4]),
            patient_ids=rows["patients"],
            n_boot=boots,
        )
        metrics["fairness"] = {name: table.to_dict() for name, table in tables.items()}
    created = datetime.now(UTC).isoformat(timespec="seconds")
    with staged_folder(target) as staging:
        run_dir = RunDir(staging)
        outputs = [run_dir.write_json(SURVIVAL_METRICS_FILE, metrics)]

        def write_language(language: str) -> tuple[Path, Path, list[Path]]:
            text = competing_report(
                metrics, language, source=Path(predictions).name, created=created
            )
            suffix = "" if language == "en" else f".{language}"
            html, markdown = write_markdown_document(
                run_dir.path, f"validation_report{suffix}", text, language=language
            )
            return html, markdown, []

        documents = write_languages(write_language, REPORT_LANGUAGES, pdf=pdf)
        outputs += documents.files
        skipped = tuple(documents.skipped)
        write_validation_audit(
            run_dir,
            predictions=predictions,
            created=created,
            columns=options["columns"],
            horizon=horizon,
            skipped=skipped,
            outputs=outputs,
        )
    return dict(json.loads(json.dumps(metrics)))
