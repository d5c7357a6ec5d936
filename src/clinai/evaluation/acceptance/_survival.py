"""The names a survival run's acceptance criteria judge: survival_metrics.json seen by name.

A binary criterion's ``metric`` is a dotted path into ``metrics.json``. A survival
run's metrics sit one level down in ``survival_metrics.json`` (``metrics.harrell_c``),
at the first horizon; the criteria name them directly (``harrell_c``, ``td_auc``),
as the issue and a protocol do. :func:`survival_acceptance_view` lays the document out
that way, and :func:`evaluate_acceptance` judges the criteria on it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SURVIVAL_ALIASES", "survival_acceptance_view"]

#: Other names of survival metrics: ``td_auc`` is Uno's time-dependent AUC at the horizon.
SURVIVAL_ALIASES = {"td_auc": "time_auc"}
#: Blocks of survival_metrics.json a criterion reaches under their own name.
_BLOCKS = ("comparison", "fairness")


def survival_acceptance_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a survival run's acceptance criteria see, by metric name.

    Parameters
    ----------
    document : Mapping
        survival_metrics.json (``clinai.survival_metrics/1``), with, where the run
        has them, ``integrated_brier``, ``comparison`` and ``fairness``.

    Returns
    -------
    dict
        ``n`` (rows), ``events`` (events by the horizon), every estimate of
        ``metrics`` by name (``harrell_c``, ``uno_c``, ``time_auc`` and ``td_auc``,
        ``oe_ratio``, ``calibration_slope``, ``ici``, ``e50``, ``e90``, ``emax``,
        ``brier``, ``null_brier``, ``ipa``), ``integrated_brier``, and the
        ``comparison`` and ``fairness`` blocks.

    Examples
    --------
    >>> doc = {"n": 10, "follow_up": {"events_by_horizon": 4},
    ...        "metrics": {"time_auc": {"estimate": 0.7, "ci_low": 0.6, "ci_high": 0.8}}}
    >>> view = survival_acceptance_view(doc)
    >>> view["td_auc"]["ci_low"], view["events"]
    (0.6, 4)
    """
    metrics = dict(document.get("metrics") or {})
    view: dict[str, Any] = {
        "n": document.get("n"),
        "events": (document.get("follow_up") or {}).get("events_by_horizon"),
        **metrics,
        **{alias: metrics.get(name) for alias, name in SURVIVAL_ALIASES.items()},
        "integrated_brier": document.get("integrated_brier"),
    }
    for block in _BLOCKS:
        if document.get(block) is not None:
            view[block] = document[block]
    return view
