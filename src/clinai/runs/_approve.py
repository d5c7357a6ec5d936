"""``clinai approve``: a named reviewer's decision on a registered model version.

A run that meets its acceptance criteria is registered under the alias
``candidate``; only a person may make it ``approved``. :func:`approve_run` records
the decision (reviewer, role, approve or reject, comment, and the evidence: run,
model version and the run's config, data and code hashes) in four places:

- the hash-chained audit log (a record of kind ``approval``), anchored in the
  run directory (``audit_anchor.json``) and in the MLflow run's tags;
- the model version's tags (``approval.reviewer``, ``approval.role``,
  ``approval.decision``, ``approval.when``, ``approval.comment``);
- the registry alias: ``approved`` points at the version after an approval; a
  rejection removes ``approved`` if it pointed at the version;
- ``approval.json`` in the run directory, from which the model card and the
  validation report are rendered again (from the facts they were first rendered
  from, ``report_context.json``: nothing is computed anew) to say who decided,
  when and on which evidence.

RUN may also be the folder ``clinai update`` wrote (``update.json``): the decision
then concerns the update's version (see :mod:`clinai.runs._approve_update`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.runs._decision import (
    APPROVAL_FILE,
    ApprovalError,
    ApprovalResult,
    Decision,
    record_decision,
)
from clinai.runs._lineage import describe_code
from clinai.runs._prepare import RESOLVED_CONFIG_FILE
from clinai.runs._rundir import RunDir, absolute_sqlite_uri

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig

__all__ = ["APPROVAL_FILE", "ApprovalError", "ApprovalResult", "approve_run"]


#: Where runs are looked up by id when RUN is not a path (the default output_dir).
DEFAULT_OUTPUT_DIR = Path("runs")

RUN_NOT_FOUND = (
    "run {run!r} not found: pass a run directory (runs/<experiment>/<run_id>) or the run id "
    "of one under runs/"
)
RUN_AMBIGUOUS = "run id {run!r} names several run directories ({paths}): pass the directory"
RUN_FAILED = (
    "run {path} failed (see its error.txt): a failed run cannot be approved or rejected; "
    "fix the cause and run it again"
)
RUN_INCOMPLETE = (
    "run {path} has no audit.json: it did not finish; only a finished, registered run can be "
    "approved"
)
SURVIVAL_NOT_APPROVABLE = (
    "run {path} is a time-to-event (survival) run: clinai approve records decisions on "
    "binary models only, so far; review its model card and validation report and record "
    "the decision outside clinai"
)
NOT_REGISTERED = (
    "run {path} was never registered in the model registry (tracking.enabled or "
    "tracking.register_model was off): run it again with both on, then approve it"
)
NOT_ACCEPTED = (
    "run {path} did not meet its pre-specified acceptance criteria (verdict: {verdict}): "
    "it cannot be approved; --decision reject is always allowed"
)
NEEDS_URI = (
    "run {path} was registered at {uri}, whose password is not stored: pass --tracking-uri "
    "with the full URL"
)
VERSION_GONE = (
    "model {name!r} version {version} of run {path} is not in the registry at {uri} "
    "(deleted?): nothing was recorded"
)
VERSION_OTHER_RUN = (
    "model {name!r} version {version} at {uri} belongs to run {other!r}, not to run {run!r}: "
    "pass --tracking-uri of the store this run was registered in"
)


def _find_run(run: str | Path) -> Path:
    """Return the run directory RUN names (a path, or a run id under runs/)."""
    path = Path(run)
    if path.name.endswith(".failed") and path.is_dir():
        raise ApprovalError(RUN_FAILED.format(path=path))
    if path.is_dir():
        return path
    if path.with_name(f"{path.name}.failed").is_dir():
        raise ApprovalError(RUN_FAILED.format(path=path.with_name(f"{path.name}.failed")))
    if len(path.parts) == 1:  # a bare run id
        found = sorted(DEFAULT_OUTPUT_DIR.glob(f"*/{path.name}"))
        failed = sorted(DEFAULT_OUTPUT_DIR.glob(f"*/{path.name}.failed"))
        if not found and failed:
            raise ApprovalError(RUN_FAILED.format(path=failed[0]))
        if len(found) > 1:
            raise ApprovalError(
                RUN_AMBIGUOUS.format(run=str(run), paths=", ".join(map(str, found)))
            )
        if found and found[0].is_dir():
            return found[0]
    raise ApprovalError(RUN_NOT_FOUND.format(run=str(run)))


def _tracking_uri(run_dir: RunDir, registry: dict[str, Any], given: str | None) -> str:
    if given:
        return absolute_sqlite_uri(given)
    uri = registry.get("tracking_uri")
    if not uri:  # registered before the URI was kept with the run: use the config's
        uri = absolute_sqlite_uri(_run_config(run_dir).tracking.uri)
    if "***@" in uri:
        raise ApprovalError(NEEDS_URI.format(path=run_dir.path, uri=uri))
    return str(uri)


def approve_run(
    run: str | Path,
    *,
    reviewer: str,
    role: str,
    decision: str,
    comment: str,
    tracking_uri: str | None = None,
) -> ApprovalResult:
    """Record a named reviewer's decision on the model version a run registered.

    Parameters
    ----------
    run : str or path-like
        The run directory (``runs/<experiment>/<run_id>``), a run id under ``runs/``,
        or the folder ``clinai update`` wrote (its version is decided on).
    reviewer : str
        Full name of the person who decides.
    role : str
        The reviewer's role (e.g. ``"Chief Medical Officer"``).
    decision : {"approve", "reject"}
        The decision.
    comment : str
        The reason for it. Write no patient data here: it goes into the card.
    tracking_uri : str, optional
        The MLflow store the run was registered in (default: the one the run recorded).

    Returns
    -------
    ApprovalResult

    Raises
    ------
    ApprovalError
        If the reviewer, role or comment is empty, the decision is not ``approve`` or
        ``reject``, the run is unknown, failed, unfinished or was never registered,
        its version is no longer in the registry, or an approval is asked for a run
        that did not meet its acceptance criteria (a rejection is always allowed); for
        an update folder, see :func:`clinai.runs._approve_update.approve_update`.
    """
    decided = Decision.of(reviewer=reviewer, role=role, decision=decision, comment=comment)
    choice = decided.choice
    from clinai.runs._approve_update import approve_update, is_update_folder

    if is_update_folder(run):
        return approve_update(Path(run), decided, tracking_uri=tracking_uri)
    run_dir = RunDir(_find_run(run))
    if not run_dir.file("audit.json").is_file():
        if _is_survival_run(run_dir):  # it writes no audit record yet
            raise ApprovalError(SURVIVAL_NOT_APPROVABLE.format(path=run_dir.path))
        raise ApprovalError(RUN_INCOMPLETE.format(path=run_dir.path))
    audit = json.loads(run_dir.file("audit.json").read_text(encoding="utf-8"))
    registry = audit.get("registry")
    if not isinstance(registry, dict) or registry.get("version") is None:
        raise ApprovalError(NOT_REGISTERED.format(path=run_dir.path))
    verdict = audit.get("acceptance_verdict")
    if choice == "approve" and verdict == "not accepted":
        raise ApprovalError(NOT_ACCEPTED.format(path=run_dir.path, verdict=verdict))

    from clinai._utils import redact_url
    from clinai.tracking import MlflowTracker

    uri = _tracking_uri(run_dir, registry, tracking_uri)
    name, version = str(registry["model_name"]), str(registry["version"])
    tracker = MlflowTracker(uri, str(audit.get("experiment") or name))
    found = tracker.registry.model_version(name, version)
    if found is None:
        raise ApprovalError(
            VERSION_GONE.format(name=name, version=version, path=run_dir.path, uri=redact_url(uri))
        )
    other = found["tags"].get("clinai_run_id")
    if other is not None and other != run_dir.run_id:
        raise ApprovalError(
            VERSION_OTHER_RUN.format(
                name=name, version=version, uri=redact_url(uri), other=other, run=run_dir.run_id
            )
        )

    code = audit.get("code_version")
    pipeline = audit.get("pipeline")
    evidence = {
        "run_id": run_dir.run_id,
        "model_name": name,
        "version": version,
        "mlflow_run_id": found["run_id"],
        "config_sha256": audit.get("config_sha256"),
        "data_sha256": audit.get("data_sha256"),
        "code_version": describe_code(code) if isinstance(code, dict) else code,
        "source_sha256": code.get("source_sha256") if isinstance(code, dict) else None,
        "pipeline_sha256": pipeline.get("sha256") if isinstance(pipeline, dict) else None,
        "acceptance_plan_sha256": audit.get("acceptance_plan_sha256"),
        "acceptance_verdict": verdict,
        "metrics_sha256": (audit.get("outputs") or {}).get("metrics.json"),
    }
    approval, alias = record_decision(
        tracker,
        decided,
        evidence,
        experiment=audit.get("experiment"),
        output_dir=run_dir.path.parent.parent,
        anchor_in=run_dir.path,
    )
    run_dir.write_json(APPROVAL_FILE, approval)
    _render_again(run_dir, approval)
    return ApprovalResult.of(run_dir.path, approval, alias, rendered=True)


def _is_survival_run(run_dir: RunDir) -> bool:
    """Whether the run's resolved config asks for a time-to-event outcome."""
    import yaml

    path = run_dir.file(RESOLVED_CONFIG_FILE)
    if not path.is_file():
        return False
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    outcome = raw.get("outcome") if isinstance(raw, dict) else None
    return isinstance(outcome, dict) and outcome.get("type") == "survival"


def _run_config(run_dir: RunDir) -> ExperimentConfig:
    """Return the run's resolved config (its data source is not looked for: nothing is read)."""
    import yaml

    from clinai.config import parse_config

    path = run_dir.require(RESOLVED_CONFIG_FILE, stage="prepare")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_config(raw, source=str(path))


def _render_again(run_dir: RunDir, approval: dict[str, Any]) -> None:
    """Render the card and the report again from the facts they were rendered from."""
    from clinai.runs._report import CONTEXT_FILE, report

    config = _run_config(run_dir)
    if run_dir.file(CONTEXT_FILE).is_file():
        context = run_dir.read_json(CONTEXT_FILE, stage="report")
    else:  # a run reported before the context was kept: the report stage's facts, anew
        from clinai.runs._report import build_context

        audit = run_dir.read_json("audit.json", stage="report")
        context = build_context(
            config,
            run_dir,
            manifest=run_dir.read_json("data_manifest.json", stage="prepare"),
            training=run_dir.read_json("training.json", stage="train"),
            metrics=run_dir.read_json("metrics.json", stage="evaluate"),
            registry=audit.get("registry"),
        )
    context["approval"] = approval
    report(config, run_dir, registry=context.get("registry"), context=context)
