"""The append-only audit log: one JSON line per run, each holding the hash of the previous line.

``<output_dir>/audit.jsonl`` (``runs/audit.jsonl`` by default) records who ran
what, when, on which config, data and code, with what acceptance verdict and
registry action. Each record carries ``prev_sha256`` (the SHA-256 of the
previous line's bytes; 64 zeros for the first), ``seq`` (its 1-based line
number) and ``sha256`` (of the record without that field), so
:func:`verify_audit_log` detects an edited, deleted, inserted or reordered
line. Truncating the last lines away cannot be detected from the file alone, so
each record is also anchored outside it: its ``seq`` and ``sha256`` are kept in
the run directory (``audit_anchor.json``, also in a ``.failed`` one) and as tags of
the MLflow run (``clinai.audit_seq``, ``clinai.audit_sha256`` and
``clinai.audit_chain``, the ``sha256`` of the log's first record, which tells
logs sharing one MLflow store apart). :func:`verify_audit_log` checks every
anchor it finds against the file: an anchor past the end of the log, or at a
line with another hash, means lines were removed or rewritten.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinai._utils import atomic_write_text
from clinai.exceptions import ClinaiError

__all__ = [
    "ANCHOR_FILE",
    "AUDIT_LOG",
    "GENESIS",
    "AuditLogError",
    "anchor_of",
    "anchor_tags",
    "append_anchored_record",
    "append_audit_record",
    "audit_log_path",
    "read_anchors",
    "verify_audit_log",
    "write_anchor",
]

AUDIT_LOG = "audit.jsonl"
#: The file in a run directory that keeps the seq and sha256 of the run's audit records.
ANCHOR_FILE = "audit_anchor.json"
#: ``prev_sha256`` of the first record.
GENESIS = "0" * 64
#: MLflow run tags that anchor a run's latest audit record outside the log.
SEQ_TAG = "clinai.audit_seq"
SHA_TAG = "clinai.audit_sha256"
CHAIN_TAG = "clinai.audit_chain"

LOG_MISSING = (
    "audit log {path} not found: pass the path of an audit.jsonl (default runs/audit.jsonl)"
)
BAD_LINE = (
    "audit log {path}: line {line} {problem}: the log was edited, reordered or lines were "
    "deleted after it was written; restore it from a backup and investigate"
)
_NOT_JSON = "is not a JSON record"
_SELF_HASH = "does not match its own sha256"
_CHAIN = "does not follow line {previous} (prev_sha256 differs)"
_FIRST = "is not the first record (prev_sha256 is not the genesis value)"
_SEQ = "has seq {seq}, not {line}"
TRUNCATED = (
    "audit log {path} ends at line {count} but {source} anchors line {seq}: lines were removed "
    "from the end of the log after they were written; restore it from a backup and investigate"
)
REWRITTEN = (
    "audit log {path}: line {seq} is not the record {source} anchors (its sha256 differs): "
    "the log was rewritten after that record was written; restore it from a backup and "
    "investigate"
)
BAD_ANCHOR = (
    "audit anchor {path} is not a JSON list of {{seq, sha256}} records: it was edited; "
    "restore the run directory from a backup"
)


class AuditLogError(ClinaiError):
    """The audit log is missing or has been tampered with."""


def audit_log_path(output_dir: str | os.PathLike[str]) -> Path:
    """Return the audit log of an output directory: ``<output_dir>/audit.jsonl``."""
    return Path(output_dir) / AUDIT_LOG


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return f"uid:{os.getuid()}"


def _line_sha256(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _record_sha256(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(_dumps(body).encode("utf-8")).hexdigest()


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """Open the log for appending under an exclusive lock (several workers may append)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _last_line(fd: int) -> tuple[bytes | None, int]:
    """Return the last line of the open log and the number of lines."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None, 0
    os.lseek(fd, 0, os.SEEK_SET)
    with os.fdopen(os.dup(fd), "rb") as handle:
        lines = handle.read().splitlines()
    lines = [line for line in lines if line.strip()]
    return (lines[-1] if lines else None), len(lines)


def _first_sha256(fd: int) -> str | None:
    """Return the ``sha256`` of the open log's first record (the chain's identity)."""
    os.lseek(fd, 0, os.SEEK_SET)
    with os.fdopen(os.dup(fd), "rb") as handle:
        first = handle.readline()
    try:
        value = json.loads(first).get("sha256") if first.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def append_audit_record(path: str | os.PathLike[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """Append one record to the audit log, chained to the previous line.

    Parameters
    ----------
    path : path-like
        The audit log (created if missing).
    record : mapping
        JSON-serialisable facts of the run (experiment, run id, hashes, verdict, ...).
        ``who``, ``when``, ``seq``, ``prev_sha256`` and ``sha256`` are added.

    Returns
    -------
    dict
        The record as written. It does not carry the chain's identity; use
        :func:`anchor_of` for the anchor to keep outside the log.
    """
    log = Path(path)
    with _locked(log) as fd:
        last, count = _last_line(fd)
        full: dict[str, Any] = {
            "who": _user(),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            **record,
            "seq": count + 1,
            "prev_sha256": GENESIS if last is None else _line_sha256(last),
        }
        full["sha256"] = _record_sha256(full)
        os.write(fd, (_dumps(full) + "\n").encode("utf-8"))
        os.fsync(fd)
    return full


def anchor_of(path: str | os.PathLike[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the anchor of an appended record: ``{"seq", "sha256", "chain"}``.

    ``chain`` is the ``sha256`` of the log's first record, which identifies the log.
    """
    chain = record["sha256"] if record["seq"] == 1 else None
    if chain is None and Path(path).is_file():
        fd = os.open(path, os.O_RDONLY)
        try:
            chain = _first_sha256(fd)
        finally:
            os.close(fd)
    return {"seq": record["seq"], "sha256": record["sha256"], "chain": chain}


def anchor_tags(anchor: Mapping[str, Any]) -> dict[str, str]:
    """Return the MLflow run tags that keep an audit anchor outside the log."""
    return {
        SEQ_TAG: str(anchor["seq"]),
        SHA_TAG: str(anchor["sha256"]),
        CHAIN_TAG: str(anchor.get("chain") or ""),
    }


def write_anchor(run_path: str | os.PathLike[str], anchor: Mapping[str, Any], *, kind: str) -> Path:
    """Add an audit record's anchor to ``<run_path>/audit_anchor.json`` (atomically).

    The file is a JSON list of ``{"kind", "seq", "sha256", "chain"}``, one per audit
    record of the run (its run record, then any approval decisions).
    """
    target = Path(run_path) / ANCHOR_FILE
    anchors = read_anchors(target) if target.is_file() else []
    anchors.append({"kind": kind, **{k: anchor.get(k) for k in ("seq", "sha256", "chain")}})
    return atomic_write_text(target, json.dumps(anchors, indent=2) + "\n")


def append_anchored_record(
    output_dir: str | os.PathLike[str],
    record: Mapping[str, Any],
    *,
    run_path: str | os.PathLike[str] | None,
    kind: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Append a record to ``<output_dir>/audit.jsonl`` and anchor it in its run folder.

    The record is written first (:func:`append_audit_record`), then its anchor
    (:func:`anchor_of`) is added to ``<run_path>/audit_anchor.json``
    (:func:`write_anchor`; skipped when ``run_path`` is None). The caller keeps
    the anchor as tags of the MLflow run too (:func:`anchor_tags`).

    Returns
    -------
    record, anchor : dict
        The record as written and its anchor ``{"seq", "sha256", "chain"}``.
    """
    log = audit_log_path(output_dir)
    written = append_audit_record(log, record)
    anchor = anchor_of(log, written)
    if run_path is not None:
        write_anchor(run_path, anchor, kind=kind)
    return written, anchor


def read_anchors(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read an ``audit_anchor.json``.

    Raises
    ------
    AuditLogError
        If it is not a JSON list of records with an integer ``seq`` and a text ``sha256``.
    """
    try:
        anchors = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditLogError(BAD_ANCHOR.format(path=path)) from exc
    valid = isinstance(anchors, list) and all(
        isinstance(a, dict) and isinstance(a.get("seq"), int) and isinstance(a.get("sha256"), str)
        for a in anchors
    )
    if not valid:
        raise AuditLogError(BAD_ANCHOR.format(path=path))
    return anchors


def verify_audit_log(
    path: str | os.PathLike[str],
    *,
    anchors: Iterable[tuple[str, Mapping[str, Any]]] | None = None,
    tracking_uri: str | None = None,
    find_tracking: bool = True,
) -> int:
    """Check the audit log's hash chain and the anchors kept outside it; return the record count.

    The anchors checked are those of the run directories under the log's folder
    (``<folder>/<experiment>/<run_id>[.failed]/audit_anchor.json``) and any
    given in ``anchors`` or kept as tags of the MLflow runs at ``tracking_uri``
    (default: the SQLite store ``mlruns.db`` beside the log's folder, if there is
    one), of which those of another log (another ``chain``) are skipped.

    Parameters
    ----------
    path : path-like
        The audit log.
    anchors : iterable of (str, mapping), optional
        ``(where it was found, {"seq", "sha256", "chain"})`` pairs kept elsewhere.
    tracking_uri : str, optional
        An MLflow store whose run tags hold anchors.
    find_tracking : bool, default=True
        Without ``tracking_uri``, use ``<log folder>/../mlruns.db`` if it exists.

    Returns
    -------
    int
        The number of records.

    Raises
    ------
    AuditLogError
        If the file is missing; naming the first line that is not valid JSON,
        does not match its own hash, has the wrong ``seq`` or does not chain to
        the line before it; or naming an anchor that points past the end of the
        log (lines were removed) or at a line with another hash.
    """
    log = Path(path)
    if not log.is_file():
        raise AuditLogError(LOG_MISSING.format(path=log))
    previous: bytes | None = None
    hashes: list[str] = []
    for number, line in enumerate(log.read_bytes().splitlines(), start=1):
        problem = _check_line(line, number, previous)
        if problem is not None:
            raise AuditLogError(BAD_LINE.format(path=log, line=number, problem=problem))
        previous = line
        hashes.append(json.loads(line)["sha256"])
    chain = hashes[0] if hashes else None
    found: list[tuple[str, Mapping[str, Any]]] = list(_run_dir_anchors(log.parent))
    outside: list[tuple[str, Mapping[str, Any]]] = list(anchors or ())
    outside += _mlflow_anchors(log, tracking_uri, find_tracking=find_tracking)
    found += [(where, a) for where, a in outside if a.get("chain") in (None, "", chain)]
    # The anchor furthest along first: a truncation is reported against the latest record lost.
    for where, anchor in sorted(found, key=lambda item: -int(item[1]["seq"])):
        seq = int(anchor["seq"])
        if seq > len(hashes):
            raise AuditLogError(
                TRUNCATED.format(path=log, count=len(hashes), source=where, seq=seq)
            )
        if seq < 1 or hashes[seq - 1] != anchor["sha256"]:
            raise AuditLogError(REWRITTEN.format(path=log, seq=seq, source=where))
    return len(hashes)


def _mlflow_anchors(
    log: Path, tracking_uri: str | None, *, find_tracking: bool
) -> list[tuple[str, dict[str, Any]]]:
    """Return the anchors kept as MLflow run tags (none without a store)."""
    if tracking_uri is None and find_tracking:
        database = log.resolve().parent.parent / "mlruns.db"
        tracking_uri = f"sqlite:///{database}" if database.is_file() else None
    if not tracking_uri:
        return []
    from clinai.tracking import find_audit_anchors

    return find_audit_anchors(tracking_uri, seq_tag=SEQ_TAG, sha_tag=SHA_TAG, chain_tag=CHAIN_TAG)


def _run_dir_anchors(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``("run <experiment>/<run_id>", anchor)`` for every run directory under ``folder``."""
    for anchor_file in sorted(folder.glob(f"*/*/{ANCHOR_FILE}")):
        run = f"run {anchor_file.parent.parent.name}/{anchor_file.parent.name}"
        for anchor in read_anchors(anchor_file):
            yield run, anchor


def _check_line(line: bytes, number: int, previous: bytes | None) -> str | None:
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON
    if not isinstance(record, dict):
        return _NOT_JSON
    if record.get("sha256") != _record_sha256(record):
        return _SELF_HASH
    if record.get("seq") != number:
        return _SEQ.format(seq=record.get("seq"), line=number)
    expected = GENESIS if previous is None else _line_sha256(previous)
    if record.get("prev_sha256") != expected:
        return _FIRST if previous is None else _CHAIN.format(previous=number - 1)
    return None
