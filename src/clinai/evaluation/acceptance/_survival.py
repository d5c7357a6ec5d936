"""The names a survival run's acceptance criteria judge: survival_metrics.json seen by name.

A binary criterion's ``metric`` is a dotted path into ``metrics.json``. A survival
run's metrics sit one level down in ``survival_metrics.json`` (``metrics.harrell_c``),
at the first horizon; the criteria name them directly (``harrell_c``, ``td_auc``),
as the issue and a protocol do. :func:`survival_acceptance_view` lays the document out
that way, and :func:`evaluate_acceptance` judges the criteria on it unchanged.

A competing-risk run's document (it has a ``competing`` block) is laid out the same
way under its own names: ``wolbers_c``, ``time_auc`` (``td_auc``), ``oe_ratio``
(Aalen-Johansen), ``brier``, ``null_brier``, ``scaled_brier`` (``ipa``),
``calibration_slope`` (Fine-Gray, Wald interval), ``observed_risk`` and
``expected_risk``; ``events`` counts the events of the cause by the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["COMPETING_ALIASES", "SURVIVAL_ALIASES", "survival_acceptance_view"]

#: Other names of survival metrics: ``td_auc`` is Uno's time-dependent AUC at the horizon.
SURVIVAL_ALIASES = {"td_auc": "time_auc"}
#: Other names of competing-risk metrics: the IPA is the scaled Brier score of the CIF.
COMPETING_ALIASES = {"td_auc": "time_auc", "ipa": "scaled_brier"}
#: Estimates of a competing-risk document's ``competing`` block a criterion may judge.
_COMPETING_EXTRA = ("calibration_slope", "observed_risk", "expected_risk")
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
    >>> doc = {"n": 10, "metrics": {"scaled_brier": {"estimate": 0.1}},
    ...        "competing": {"follow_up": {"events_by_horizon": 3}}}
    >>> view = survival_acceptance_view(doc)
    >>> view["ipa"]["estimate"], view["events"]
    (0.1, 3)
    """
    metrics = dict(document.get("metrics") or {})
    competing = document.get("competing")
    aliases = SURVIVAL_ALIASES if competing is None else COMPETING_ALIASES
    follow_up = document.get("follow_up") if competing is None else competing.get("follow_up")
    view: dict[str, Any] = {
        "n": document.get("n"),
        "events": (follow_up or {}).get("events_by_horizon"),
        **metrics,
        **{alias: metrics.get(name) for alias, name in aliases.items()},
    }
    if competing is None:
        view["integrated_brier"] = document.get("integrated_brier")
    else:
        view.update({name: competing.get(name) for name in _COMPETING_EXTRA})
    for block in _BLOCKS:
        if document.get(block) is not None:
            view[block] = document[block]
    return view
