"""The whitelisted view of a reviewer's approval decision for the card and the report.

``clinai approve`` records a named person's decision (``approval.json`` in the run
directory); the documents say who decided, when, and on which evidence (the run
and its hashes), or that no decision has been made yet. Only named fields are
copied, as text.
"""

from __future__ import annotations

from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["APPROVAL_DECISIONS", "approval_view"]

#: The decisions a reviewer can record.
APPROVAL_DECISIONS = ("approve", "reject")
_EVIDENCE = ("run_id", "model_name", "version", "config_sha256", "data_sha256", "code_version")


def approval_view(value: Any) -> dict[str, Any] | None:
    """Return ``{"decision", "reviewer", "role", "when", "date", "comment", <evidence>}`` or None.

    Parameters
    ----------
    value : mapping or None
        The run's ``approval.json``: ``decision`` (``approve`` or ``reject``),
        ``reviewer``, ``role``, ``when`` (ISO 8601), ``comment`` and ``evidence``
        (``run_id``, ``model_name``, ``version``, ``config_sha256``,
        ``data_sha256``, ``code_version``).

    Returns
    -------
    dict or None
        None when there is no decision (the documents then say the model awaits one).

    Examples
    --------
    >>> view = approval_view({"decision": "approve", "reviewer": "Jane Doe", "role": "CMO",
    ...                       "when": "2026-12-04T10:00:00+00:00", "comment": "ok",
    ...                       "evidence": {"run_id": "r1"}})
    >>> view["date"], view["run_id"], view["data_sha256"]
    ('2026-12-04', 'r1', None)
    >>> approval_view(None) is None
    True
    """
    record = s.mapping(value)
    decision = s.text(record.get("decision"))
    if decision not in APPROVAL_DECISIONS:
        return None
    when = s.text(record.get("when")) or ""
    evidence = s.mapping(record.get("evidence"))
    view: dict[str, Any] = {
        "decision": decision,
        "reviewer": s.text(record.get("reviewer")),
        "role": s.text(record.get("role")),
        "when": when or None,
        "date": when[:10] or None,
        "comment": s.text(record.get("comment")),
    }
    view.update({key: s.text(evidence.get(key)) for key in _EVIDENCE})
    return view
