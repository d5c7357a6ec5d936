"""Audit-log anchors kept as run tags: found again across every experiment of a store."""

from __future__ import annotations

from typing import Any

from clinai.tracking._client import connect, failure, search_all_runs

__all__ = ["find_audit_anchors"]


def find_audit_anchors(
    tracking_uri: str, *, seq_tag: str, sha_tag: str, chain_tag: str
) -> list[tuple[str, dict[str, Any]]]:
    """Return the audit-log anchors kept as tags of the runs of every experiment.

    Parameters
    ----------
    tracking_uri : str
        The tracking URI.
    seq_tag, sha_tag, chain_tag : str
        Names of the tags holding an anchor's ``seq``, ``sha256`` and ``chain``.

    Returns
    -------
    list of (str, dict)
        ``("MLflow run <run name> (<run id>)", {"seq", "sha256", "chain"})`` for each run
        that carries the three tags.
    """
    anchors: list[tuple[str, dict[str, Any]]] = []
    with failure(tracking_uri, "reading audit anchors"):
        client = connect(tracking_uri)
        ids = [e.experiment_id for e in client.search_experiments()]
        for run in search_all_runs(client, ids, f"tags.`{sha_tag}` LIKE '%'"):
            tags = run.data.tags
            seq = tags.get(seq_tag, "")
            if not seq.isdigit() or not tags.get(sha_tag):
                continue
            where = f"MLflow run {run.info.run_name} ({run.info.run_id})"
            anchors.append(
                (
                    where,
                    {
                        "seq": int(seq),
                        "sha256": tags[sha_tag],
                        "chain": tags.get(chain_tag) or None,
                    },
                )
            )
    return anchors
