"""``clinai approve UPDATE``: a named reviewer's decision on a version ``clinai update`` registered.

``clinai update`` registers an update as a new version with the alias
``candidate`` and leaves ``update.json``, ``change_log.md`` and the anchor of its
audit record (``audit_anchor.json``) in its folder. The decision is taken on that
folder as it was written: ``update.json`` must still have the sha256 its audit
record holds; the decision names the sha256 of the ``change_log.md`` the reviewer
read. It is recorded as for a run (:func:`clinai.runs._approve.record_decision`:
the audit record with its anchor, the version's ``approval.*`` tags, the alias)
and in ``approval.json`` in the update folder. An approval moves ``approved`` from the
version the update was made against (which keeps its number) to the update's
version; a rejection leaves ``approved`` where it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai._utils import atomic_write_text, redact_url, sha256_file
from clinai.runs._audit import ANCHOR_FILE, AUDIT_LOG, AuditLogError, read_anchors
from clinai.runs._decision import (
    APPROVAL_FILE,
    APPROVED_ALIAS,
    ApprovalError,
    ApprovalResult,
    record_decision,
)
from clinai.runs._rundir import absolute_sqlite_uri
from clinai.runs._update_publish import CHANGE_LOG_FILE, UPDATE_FILE

if TYPE_CHECKING:
    import os

    from clinai.runs._decision import Decision

__all__ = ["approve_update", "is_update_folder"]

#: The folder the audit log is looked for in, beside the update folder's ancestors
#: and in the working directory (the default ``output_dir``).
LOG_FOLDER = "runs"
#: The MLflow store looked for beside the audit log's folder (the default tracking.uri).
STORE_FILE = "mlruns.db"

BAD_UPDATE = "{path} is not an update.json of `clinai update` ({problem}): nothing was recorded"
NOTHING_REGISTERED = (
    "update {path} registered no version (the procedure kept version {base} of {model!r}): "
    "there is nothing to approve or reject"
)
NO_ANCHOR = (
    "update {path} has no anchor of its audit record in {anchor}: it did not finish; run "
    "`clinai update` again"
)
LOG_NOT_FOUND = (
    "the audit log holding record {seq} of update {path} was not found (looked for "
    "runs/audit.jsonl in the working directory and above the folder): run `clinai approve` "
    "in the workspace that made the update"
)
UPDATE_EDITED = (
    "{path} was edited after `clinai update` wrote it (sha256 differs from audit record {seq}): "
    "restore it, or run `clinai update` again; nothing was recorded"
)
NO_CHANGE_LOG = (
    "update {path} has no {name}: the reviewer decides on it; restore it, or run "
    "`clinai update` again"
)
NEEDS_STORE = (
    "no MLflow store {store} beside {log}: pass --tracking-uri of the store update {path} was "
    "registered in"
)
UPDATE_VERSION_GONE = (
    "model {name!r} version {version} of update {path} is not in the registry at {uri} "
    "(deleted?): nothing was recorded"
)
UPDATE_VERSION_OTHER = (
    "model {name!r} version {version} at {uri} was not registered by update {path} (another "
    "MLflow run): pass --tracking-uri of the store the update was registered in"
)
APPROVED_MOVED = (
    "update {path} is of version {base} of {model!r}, which no longer holds @approved: approve "
    "an update of the approved version (`clinai monitor`, then `clinai update`); "
    "--decision reject is always allowed"
)


def is_update_folder(path: str | os.PathLike[str]) -> bool:
    """Return whether ``path`` is a folder ``clinai update`` wrote (it holds ``update.json``)."""
    return (Path(path) / UPDATE_FILE).is_file()


def _read_update(folder: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Return update.json, its ``registered`` entry and the anchor of its audit record."""
    path = folder / UPDATE_FILE
    try:
        update = json.loads(path.read_text(encoding="utf-8"))
        name, base = str(update["model"]["name"]), str(update["model"]["version"])
        registered = update["registered"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ApprovalError(BAD_UPDATE.format(path=path, problem=repr(exc))) from exc
    if not isinstance(registered, dict) or registered.get("version") is None:
        raise ApprovalError(NOTHING_REGISTERED.format(path=folder, base=base, model=name))
    anchor_file = folder / ANCHOR_FILE
    try:
        anchors = read_anchors(anchor_file) if anchor_file.is_file() else []
    except AuditLogError as exc:
        raise ApprovalError(str(exc)) from exc
    made = [a for a in anchors if a.get("kind") == "update"]
    if not made:
        raise ApprovalError(NO_ANCHOR.format(path=folder, anchor=anchor_file))
    return update, registered, made[-1]


def _logged_record(folder: Path, anchor: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Return the audit log holding the anchored record of the update, and that record.

    The log is not named in the update folder: it is the ``runs/audit.jsonl`` (in
    the working directory or above the folder) whose line ``seq`` has the anchor's
    sha256.
    """
    places = [Path(LOG_FOLDER), *(p / LOG_FOLDER for p in folder.resolve().parents)]
    seq = int(anchor["seq"])
    for log in dict.fromkeys(p / AUDIT_LOG for p in places):
        if not log.is_file():
            continue
        with log.open(encoding="utf-8") as lines:
            line = next((text for number, text in enumerate(lines, 1) if number == seq), None)
        try:
            record = json.loads(line) if line else None
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("sha256") == anchor["sha256"]:
            return log, record
    raise ApprovalError(LOG_NOT_FOUND.format(seq=seq, path=folder))


def _checked_store(log: Path, folder: Path, given: str | None) -> str:
    if given:
        return absolute_sqlite_uri(given)
    store = log.resolve().parent.parent / STORE_FILE
    if not store.is_file():
        raise ApprovalError(NEEDS_STORE.format(store=STORE_FILE, log=log, path=folder))
    return f"sqlite:///{store}"


def approve_update(
    folder: Path, decided: Decision, *, tracking_uri: str | None = None
) -> ApprovalResult:
    """Record a named reviewer's decision on the version an update folder registered.

    Parameters
    ----------
    folder : Path
        The folder ``clinai update`` wrote (``update.json``, ``change_log.md``,
        ``audit_anchor.json``).
    decided : Decision
        The reviewer's decision (checked by ``approve_run``).
    tracking_uri : str, optional
        The MLflow store the update was registered in (default: ``mlruns.db``
        beside the audit log's folder).

    Returns
    -------
    ApprovalResult
        ``rendered`` is False: an update has no card or report of its own.

    Raises
    ------
    ApprovalError
        Before anything is recorded, if update.json is unreadable, registered no
        version, or differs from the sha256 in its audit record; if change_log.md is
        missing; if the audit log or the store is not found; if
        the version is gone or not the update's; or if an approval is asked while
        the version the update was made against no longer holds ``approved``.
    """
    from clinai.tracking import MlflowTracker

    update, registered, anchor = _read_update(folder)
    log, logged = _logged_record(folder, anchor)
    if sha256_file(folder / UPDATE_FILE) != logged.get("update_sha256"):
        raise ApprovalError(UPDATE_EDITED.format(path=folder / UPDATE_FILE, seq=anchor["seq"]))
    change_log = folder / CHANGE_LOG_FILE
    if not change_log.is_file():
        raise ApprovalError(NO_CHANGE_LOG.format(path=folder, name=CHANGE_LOG_FILE))

    uri = _checked_store(log, folder, tracking_uri)
    name, base = str(update["model"]["name"]), str(update["model"]["version"])
    version = str(registered["version"])
    experiment = logged.get("experiment")
    tracker = MlflowTracker(uri, f"{experiment or name}-update")
    found = tracker.registry.model_version(name, version)
    where = {"name": name, "version": version, "path": folder, "uri": redact_url(uri)}
    if found is None:
        raise ApprovalError(UPDATE_VERSION_GONE.format(**where))
    if registered.get("mlflow_run_id") and found["run_id"] != registered["mlflow_run_id"]:
        raise ApprovalError(UPDATE_VERSION_OTHER.format(**where))
    previous = tracker.registry.model_version(name, base)
    if decided.choice == "approve" and APPROVED_ALIAS not in (previous or {}).get("aliases", []):
        raise ApprovalError(APPROVED_MOVED.format(path=folder, base=base, model=name))

    evidence = {
        "update": folder.name,
        "model_name": name,
        "version": version,
        "base_version": base,
        "mlflow_run_id": found["run_id"],
        "method": update.get("proposal", {}).get("method"),
        "update_sha256": logged["update_sha256"],
        "change_log_sha256": sha256_file(change_log),
        "update_audit_seq": anchor["seq"],
        "config_sha256": update.get("config_sha256"),
        "monitoring_plan_sha256": update.get("monitoring_plan_sha256"),
        "validation_periods": update.get("periods", {}).get("validation"),
    }
    approval, alias = record_decision(
        tracker, decided, evidence, experiment=experiment, output_dir=log.parent, anchor_in=folder
    )
    atomic_write_text(folder / APPROVAL_FILE, json.dumps(approval, indent=2) + "\n")
    return ApprovalResult.of(folder, approval, alias, rendered=False)
