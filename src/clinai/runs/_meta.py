"""``clinai meta-analyse``: pool site summaries of one model across hospitals (random effects).

Each site validated the model on its own patients and shared a ``site_summary.json``
(``clinai validate ... --summary`` or a run's evaluate stage); no patient-level
data moves. This command checks that every summary is of the same model (name,
version and SHA-256 agree wherever two summaries both know them) and the same
acceptance plan, pools each metric on its pooling scale with
:func:`clinai.evaluation.pool_metric` (REML or DerSimonian-Laird tau²,
Hartung-Knapp-Sidik-Jonkman or Wald interval, prediction interval for a new
site), and writes ``meta_analysis.json``, the report (HTML, Markdown and PDF, in
English and Danish) with a forest plot per metric and the answers to TRIPOD+AI
12d and 23b, and ``audit.json``. The folder is built under a temporary name and
renamed into place only when complete; a chained record is then appended to the
audit log beside it (``<parent of --out>/audit.jsonl``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clinai
from clinai import evaluation
from clinai._utils import atomic_write_text, sha256_file, sha256_text
from clinai.exceptions import DataError
from clinai.runs._audit import append_audit_record, audit_log_path
from clinai.runs._lineage import code_version, environment
from clinai.runs._progress import progress_bar
from clinai.runs._site_summary import read_site_summary
from clinai.runs._staging import staged_folder
from clinai.runs._validate import _check_out_dir

__all__ = ["META_ANALYSIS_FILE", "meta_analyse"]

logger = logging.getLogger(__name__)

META_ANALYSIS_FILE = "meta_analysis.json"
META_SCHEMA = "clinai.meta_analysis/1"

ONE_SITE = (
    "meta-analyse needs site summaries from at least two sites; got {count} ({files}): validate "
    "the model at another site with `clinai validate ... --summary FILE` and pass both files"
)
SAME_FILE = "{file} is given twice: pass each site summary once"
SAME_SITE = (
    "{first} and {second} are both of site {site!r}: pass one summary per site, or relabel one "
    "with `clinai validate ... --site LABEL`"
)
OTHER_MODEL = (
    "{file} is of model {other} but {first} of model {expected}: pool summaries of one model "
    "version only (validate every site with the same model)"
)
OTHER_PLAN = (
    "{file} was validated against acceptance plan {other} but {first} against {expected}: pool "
    "summaries validated against one plan only (`clinai validate ... --config PLAN.yaml`)"
)
SUPPRESSED = (
    "{file}: {metric} is suppressed (site {site!r} has fewer than {min_cell} rows, events or "
    "non-events), and pooling needs it: leave this site out of the meta-analysis"
)
NOT_ESTIMABLE = (
    "{file}: {metric} has no {what} (site {site!r}: not estimable there, e.g. perfect "
    "separation): leave this site out of the meta-analysis"
)
NOT_POSITIVE = (
    "{file}: {metric} has standard error {se!r} (site {site!r}); pooling needs a standard error "
    "greater than 0: give the site summary as `clinai validate ... --summary` wrote it, or "
    "leave this site out"
)
POOLING_FAILED = "{metric} of {files} cannot be pooled: {error}"
#: The fields of a summary's ``model`` that must agree wherever they are known.
_MODEL_FIELDS = ("name", "version", "sha256")
BAD_METHOD = "--method must be REML or DL; got {value!r}"
BAD_CI = "--ci must be hksj or wald; got {value!r}"


def _describe_model(model: dict[str, Any]) -> str:
    sha = model.get("sha256")
    return (
        f"{model.get('name')!r} version {model.get('version') or 'unknown'} "
        f"(sha256 {sha[:12] + '...' if sha else 'unknown'})"
    )


def _read_all(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Read every summary and check they belong together (one line on the first problem)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        key = path.resolve()
        if key in seen:
            raise DataError(SAME_FILE.format(file=path))
        seen[key] = path
    if len(paths) < 2:
        raise DataError(
            ONE_SITE.format(count=len(paths), files=", ".join(str(p) for p in paths) or "none")
        )
    documents = [read_site_summary(path) for path in paths]
    first, reference = paths[0], documents[0]
    sites: dict[str, Path] = {}
    # The model's name, version and SHA-256 as far as known: a run's summary knows the SHA-256
    # of its model folder but not yet the registered version; a scored file the version but not
    # the SHA-256. Two known values that differ are two models.
    known: dict[str, tuple[Any, Path, dict[str, Any]]] = {}
    for path, document in zip(paths, documents, strict=True):
        if document["site"] in sites:
            raise DataError(
                SAME_SITE.format(first=sites[document["site"]], second=path, site=document["site"])
            )
        sites[document["site"]] = path
        for field in _MODEL_FIELDS:
            value = document["model"].get(field)
            if value is None:
                continue
            if field in known and known[field][0] != value:
                raise DataError(
                    OTHER_MODEL.format(
                        file=path,
                        other=_describe_model(document["model"]),
                        first=known[field][1],
                        expected=_describe_model(known[field][2]),
                    )
                )
            known.setdefault(field, (value, path, document["model"]))
        if document["plan_sha256"] != reference["plan_sha256"]:
            raise DataError(
                OTHER_PLAN.format(
                    file=path,
                    other=str(document["plan_sha256"] or "none")[:12],
                    first=first,
                    expected=str(reference["plan_sha256"] or "none")[:12],
                )
            )
    return documents


def _metric_inputs(
    metric: str, paths: Sequence[Path], documents: Sequence[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """Each site's estimate and SE of ``metric`` on its pooling scale; refuse a missing one."""
    estimates, errors = [], []
    for path, document in zip(paths, documents, strict=True):
        entry = document["metrics"].get(metric)
        if entry is None or entry.get("suppressed"):
            min_cell = document["counts"].get("min_cell", "min_cell")
            raise DataError(
                SUPPRESSED.format(
                    file=path, metric=metric, site=document["site"], min_cell=min_cell
                )
            )
        for field, what in (("estimate", "estimate"), ("se", "standard error")):
            if entry.get(field) is None:
                raise DataError(
                    NOT_ESTIMABLE.format(file=path, metric=metric, what=what, site=document["site"])
                )
        if not entry["se"] > 0:
            raise DataError(
                NOT_POSITIVE.format(file=path, metric=metric, se=entry["se"], site=document["site"])
            )
        estimates.append(float(entry["estimate"]))
        errors.append(float(entry["se"]))
    return estimates, errors


def _model(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the pooled model: each field from the first summary that knows it."""
    return {
        field: next((d["model"][field] for d in documents if d["model"].get(field)), None)
        for field in _MODEL_FIELDS
    }


def _document(
    paths: Sequence[Path],
    documents: Sequence[dict[str, Any]],
    *,
    method: str,
    ci: str,
    level: float,
) -> dict[str, Any]:
    labels = [document["site"] for document in documents]
    metrics = {}
    for metric in evaluation.POOLING_SCALES:
        estimates, errors = _metric_inputs(metric, paths, documents)
        try:
            pooled = evaluation.pool_metric(
                metric, estimates, errors, labels=labels, method=method, ci=ci, level=level
            )
        except DataError as exc:
            # name the metric and the files: the message of the pooling speaks of arrays
            files = ", ".join(str(path) for path in paths)
            raise DataError(POOLING_FAILED.format(metric=metric, files=files, error=exc)) from exc
        metrics[metric] = pooled.to_dict()
    return {
        "schema": META_SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "clinai_version": clinai.__version__,
        "method": method,
        "ci": ci,
        "level": level,
        "model": _model(documents),
        "plan_sha256": documents[0]["plan_sha256"],
        "sites": [
            {
                "site": document["site"],
                "file": path.name,
                "sha256": sha256_file(path),
                "n": document["counts"]["n"],
                "events": document["counts"]["events"],
                "created": document["created"],
                "clinai_version": document["clinai_version"],
            }
            for path, document in zip(paths, documents, strict=True)
        ],
        "metrics": metrics,
        "calibration_curves": [
            {"site": document["site"], "points": document["calibration_curve"].get("points", [])}
            for document in documents
        ],
    }


def meta_analyse(
    summaries: Sequence[str | os.PathLike[str]],
    *,
    out_dir: str | os.PathLike[str],
    method: str = "REML",
    ci: str = "hksj",
    level: float = 0.95,
    languages: Sequence[str] = ("en", "da"),
    pdf: bool = True,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Pool site summaries of one model and write the meta-analysis folder.

    Parameters
    ----------
    summaries : sequence of path-like
        ``site_summary.json`` files, one per site (at least two).
    out_dir : path-like
        Output folder; it must not exist or be empty.
    method : {"REML", "DL"}, default="REML"
        Estimator of the between-site variance tau².
    ci : {"hksj", "wald"}, default="hksj"
        Confidence interval of the pooled estimate.
    level : float, default=0.95
        Level of the confidence and prediction intervals.
    languages : sequence of str, default=("en", "da")
        Languages of the report (English always).
    pdf : bool, default=True
        Print the reports as PDF too (skipped, with a line in ``skipped``, when
        WeasyPrint's system libraries are missing).
    show_progress : bool
        Show a Rich progress bar on stderr.

    Returns
    -------
    dict
        ``meta_analysis.json``'s content, plus ``out_dir`` and ``skipped`` (a line
        per document not written, e.g. a PDF without WeasyPrint's libraries).

    Raises
    ------
    DataError
        One line, before anything is written: fewer than two summaries, a file
        given twice, two summaries of one site, a malformed summary, summaries of
        different models or plans, a metric suppressed or not estimable at a site,
        an unknown method or interval, or a non-empty ``out_dir``.
    """
    from clinai.reporting._meta_report import render_meta_report

    # as clinai.evaluation.random_effects_meta: dl, reml, HKSJ and Wald are accepted too
    if not isinstance(method, str) or method.upper() not in ("REML", "DL"):
        raise DataError(BAD_METHOD.format(value=method))
    if not isinstance(ci, str) or ci.lower() not in ("hksj", "wald"):
        raise DataError(BAD_CI.format(value=ci))
    method, ci = method.upper(), ci.lower()
    target = Path(out_dir)
    _check_out_dir(target)
    paths = [Path(p) for p in summaries]
    with progress_bar("meta-analysis", 3, enabled=show_progress) as advance:
        documents = _read_all(paths)
        advance()
        document = _document(paths, documents, method=method, ci=ci, level=level)
        advance()
        with staged_folder(target) as staging:
            text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
            atomic_write_text(staging / META_ANALYSIS_FILE, text)
            report = render_meta_report(document, staging, languages=languages, pdf=pdf)
            outputs = sorted(p for p in staging.rglob("*") if p.is_file())
            audit = {
                "kind": "meta-analyse",
                "created_at": document["created"],
                "model": document["model"],
                "plan_sha256": document["plan_sha256"],
                "inputs": {site["file"]: site["sha256"] for site in document["sites"]},
                "code_version": code_version(),
                "environment": environment(),
                "outputs": {p.relative_to(staging).as_posix(): sha256_file(p) for p in outputs},
                "skipped": report.skipped,
            }
            atomic_write_text(staging / "audit.json", json.dumps(audit, indent=2) + "\n")
        advance()
    append_audit_record(
        audit_log_path(target.parent),
        {
            "kind": "meta-analyse",
            "out_dir": str(target),
            "model": document["model"],
            "plan_sha256": document["plan_sha256"],
            "sites": [site["site"] for site in document["sites"]],
            "inputs_sha256": [site["sha256"] for site in document["sites"]],
            "meta_analysis_sha256": sha256_text(text),
        },
    )
    logger.info("meta-analysis of %d sites written to %s", len(paths), target)
    return {**document, "out_dir": str(target), "skipped": report.skipped}
