"""A reviewer's decision on a registered model version, and how it is recorded.

Shared by ``clinai approve`` on a training run (:mod:`clinai.runs._approve`) and on
an update folder (:mod:`clinai.runs._approve_update`): the cleaned decision, the
anchored audit record, the version's ``approval.*`` tags and the ``approved`` alias.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.exceptions import ClinaiError
from clinai.runs._audit import anchor_tags, append_anchored_record

if TYPE_CHECKING:
    from clinai.tracking import MlflowTracker

__all__ = [
    "APPROVAL_FILE",
    "APPROVED_ALIAS",
    "ApprovalError",
    "ApprovalResult",
    "Decision",
    "record_decision",
]

logger = logging.getLogger(__name__)

APPROVAL_FILE = "approval.json"
APPROVED_ALIAS = "approved"
DECISIONS = ("approve", "reject")
EMPTY_TEXT = (
    "--{name} is empty: give {what} (e.g. --{name} {example!r}); an approval names a person"
)
_WHAT = {
    "reviewer": ("the full name of the person who decides", "Jane Doe"),
    "role": ("the reviewer's role", "Chief Medical Officer"),
    "comment": ("the reason for the decision", "Meets the pre-specified criteria"),
}
BAD_DECISION = "--decision must be one of {valid}. Got {got!r} instead."


class ApprovalError(ClinaiError):
    """An approval cannot be recorded (bad reviewer input, or a run that cannot be approved)."""


@dataclass(frozen=True)
class ApprovalResult:
    """What ``clinai approve`` recorded."""

    run_dir: Path
    model_name: str
    version: str
    decision: str
    reviewer: str
    when: str
    audit_seq: int
    alias: str | None
    #: False for an update folder: it has no card or report to render again.
    rendered: bool = True

    @classmethod
    def of(
        cls, path: Path, approval: dict[str, Any], alias: str | None, *, rendered: bool
    ) -> ApprovalResult:
        """Return the result of a decision recorded as ``approval`` (``approval.json``)."""
        evidence = approval["evidence"]
        return cls(
            run_dir=path,
            model_name=str(evidence["model_name"]),
            version=str(evidence["version"]),
            decision=approval["decision"],
            reviewer=approval["reviewer"],
            when=approval["when"],
            audit_seq=int(approval["audit"]["seq"]),
            alias=alias,
            rendered=rendered,
        )


@dataclass(frozen=True)
class Decision:
    """A reviewer's cleaned decision, and when it was made."""

    choice: str
    reviewer: str
    role: str
    comment: str
    when: str

    @classmethod
    def of(cls, *, reviewer: str, role: str, decision: str, comment: str) -> Decision:
        """Return the decision, or raise :class:`ApprovalError` for empty text or a bad choice."""
        reviewer, role, comment = (
            _clean("reviewer", reviewer),
            _clean("role", role),
            _clean("comment", comment),
        )
        choice = (decision or "").strip().lower()
        if choice not in DECISIONS:
            raise ApprovalError(BAD_DECISION.format(valid=list(DECISIONS), got=decision))
        when = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(choice, reviewer, role, comment, when)


def _clean(name: str, value: str | None) -> str:
    text = " ".join((value or "").split())
    if not text:
        what, example = _WHAT[name]
        raise ApprovalError(EMPTY_TEXT.format(name=name, what=what, example=example))
    return text


def record_decision(
    tracker: MlflowTracker,
    decided: Decision,
    evidence: dict[str, Any],
    *,
    experiment: str | None,
    output_dir: Path,
    anchor_in: Path,
) -> tuple[dict[str, Any], str | None]:
    """Record a decision on ``evidence``'s model version: audit log, tags, alias.

    Parameters
    ----------
    tracker : MlflowTracker
        The store the version is registered in.
    decided : Decision
        The reviewer's decision.
    evidence : dict
        What was decided on; names the version (``model_name``, ``version``,
        ``mlflow_run_id``) and goes into the audit record and ``approval.json``.
    experiment : str, optional
        The experiment, for the audit record.
    output_dir : Path
        The folder of the audit log (``audit.jsonl``).
    anchor_in : Path
        The folder whose ``audit_anchor.json`` keeps the record's anchor.

    Returns
    -------
    approval : dict
        The content of ``approval.json``.
    alias : str or None
        ``"approved"`` after an approval, else None.
    """
    name, version = str(evidence["model_name"]), str(evidence["version"])
    # The decision is recorded first: the alias follows a decision on record, never the reverse.
    record, anchor = append_anchored_record(
        output_dir,
        {
            "kind": "approval",
            "experiment": experiment,
            "decision": decided.choice,
            "reviewer": decided.reviewer,
            "role": decided.role,
            "comment": decided.comment,
            "decided_at": decided.when,
            **evidence,
        },
        run_path=anchor_in,
        kind="approval",
    )
    if evidence.get("mlflow_run_id"):
        tracker.set_run_tags(anchor_tags(anchor), run_id=evidence["mlflow_run_id"])
    tracker.registry.set_version_tags(
        name,
        version,
        {
            "approval.reviewer": decided.reviewer,
            "approval.role": decided.role,
            "approval.decision": decided.choice,
            "approval.when": decided.when,
            "approval.comment": decided.comment,
            "approval.audit_seq": record["seq"],
        },
    )
    alias: str | None = None
    if decided.choice == "approve":
        tracker.registry.set_alias(name, APPROVED_ALIAS, version)
        alias = APPROVED_ALIAS
    elif tracker.registry.delete_alias_of(name, APPROVED_ALIAS, version):
        logger.warning(
            "alias %s of model %s removed from version %s", APPROVED_ALIAS, name, version
        )
    approval = {
        "decision": decided.choice,
        "reviewer": decided.reviewer,
        "role": decided.role,
        "when": decided.when,
        "comment": decided.comment,
        "evidence": evidence,
        "audit": {"seq": record["seq"], "sha256": record["sha256"]},
    }
    return approval, alias
