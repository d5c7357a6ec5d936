"""Runs left ``RUNNING`` by a killed process: marked ``FAILED``, their registered versions gone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from clinai.tracking._client import PARENT_TAG, connect, failure, search_all_runs
from clinai.tracking._registry import delete_versions_of_run

__all__ = ["mark_orphan_runs"]

logger = logging.getLogger(__name__)

_ORPHAN_TAG = "clinai.orphaned"


def _orphans(
    running: list[Any], cutoff_ms: float, alive: Callable[[Mapping[str, str]], bool | None] | None
) -> list[Any]:
    """Pick the running runs whose process is gone (or too old to tell), and their children."""
    orphans: list[Any] = []
    for run in running:
        owner = alive(run.data.tags) if alive is not None else None
        if owner is False or (owner is None and run.info.start_time <= cutoff_ms):
            orphans.append(run)
    parents = {run.info.run_id for run in orphans}
    return orphans + [
        run
        for run in running
        if run.info.run_id not in parents and run.data.tags.get(PARENT_TAG) in parents
    ]


def mark_orphan_runs(
    tracking_uri: str,
    experiment: str,
    *,
    min_age_s: float = 0.0,
    alive: Callable[[Mapping[str, str]], bool | None] | None = None,
) -> int:
    """Mark runs left ``RUNNING`` by a killed process as ``FAILED``.

    Call it before starting a run. With several workers logging to one
    experiment at once, pass ``alive`` (which tells from a run's tags whether
    the process that owns it still runs) or ``min_age_s`` larger than the
    longest run, so that live runs of other workers are left alone. Nested
    runs of a parent that is marked are marked too.

    Parameters
    ----------
    tracking_uri : str
        The tracking URI.
    experiment : str
        Experiment name; a missing experiment has no orphans.
    min_age_s : float, default=0.0
        Runs whose owner ``alive`` cannot tell are marked only if started at
        least this many seconds ago.
    alive : callable, optional
        Called with a run's tags: ``True`` (its process runs: left alone),
        ``False`` (its process is gone: marked whatever its age) or ``None``
        (unknown: ``min_age_s`` decides). Default: unknown for every run.

    Returns
    -------
    int
        The number of runs marked ``FAILED`` (tagged ``clinai.orphaned=true``). Model
        versions registered by a marked run are deleted (a failed run leaves nothing
        registered).
    """
    with failure(tracking_uri, f"marking orphaned runs of experiment {experiment!r}"):
        client = connect(tracking_uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return 0
        cutoff_ms = (time.time() - min_age_s) * 1000
        running = list(
            search_all_runs(client, [found.experiment_id], "attributes.status = 'RUNNING'")
        )
        orphans = _orphans(running, cutoff_ms, alive)
        for run in orphans:
            client.set_tag(run.info.run_id, _ORPHAN_TAG, "true")
            client.set_terminated(run.info.run_id, status="FAILED")
            logger.warning("MLflow run %s was left RUNNING; marked FAILED", run.info.run_id)
            delete_versions_of_run(client, run.info.run_id)
    return len(orphans)
