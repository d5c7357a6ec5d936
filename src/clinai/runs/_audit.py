"""The append-only audit log: one JSON line per run, each holding the hash of the previous line.

``<output_dir>/audit.jsonl`` (``runs/audit.jsonl`` by default) records who ran
what, when, on which config, data and code, with what acceptance verdict and
registry action. Each record carries ``prev_sha256`` (the SHA-256 of the
previous line's bytes; 64 zeros for the first), ``seq`` (its 1-based line
number) and ``sha256`` (of the record without that field), so
:func:`verify_audit_log` detects an edited, deleted, inserted or reordered
line. Truncating the last lines away cannot be detected from the file alone:
keep a copy of the latest ``sha256`` elsewhere (e.g. the MLflow run) to anchor it.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinai.exceptions import ClinaiError

__all__ = [
    "AUDIT_LOG",
    "GENESIS",
    "AuditLogError",
    "append_audit_record",
    "audit_log_path",
    "verify_audit_log",
]

AUDIT_LOG = "audit.jsonl"
#: ``prev_sha256`` of the first record.
GENESIS = "0" * 64

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


def append_audit_record(path: str | os.PathLike[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """Append one run's record to the audit log, chained to the previous line.

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
        The record as written.
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


def verify_audit_log(path: str | os.PathLike[str]) -> int:
    """Check the audit log's hash chain; return the number of records.

    Raises
    ------
    AuditLogError
        If the file is missing, or naming the first line that is not valid JSON,
        does not match its own hash, has the wrong ``seq`` or does not chain to
        the line before it.
    """
    log = Path(path)
    if not log.is_file():
        raise AuditLogError(LOG_MISSING.format(path=log))
    previous: bytes | None = None
    count = 0
    for number, line in enumerate(log.read_bytes().splitlines(), start=1):
        problem = _check_line(line, number, previous)
        if problem is not None:
            raise AuditLogError(BAD_LINE.format(path=log, line=number, problem=problem))
        previous = line
        count = number
    return count


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
