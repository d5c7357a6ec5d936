"""Whether the data a model was validated on hold enough outcomes for precise estimates.

Collins, Ogundimu and Altman (Sample size considerations for the external validation
of a multivariable prognostic model: a resampling study. Stat Med 2016;35:214-26)
found that at least 100 events and 100 non-events are needed for a validation's
estimates of discrimination and calibration to be reasonably precise; Riley et al.
(Minimum sample size for external validation of a clinical prediction model with a
binary outcome. Stat Med 2021;40:4230-51) show that precise calibration often needs
more. Below 100 of either, the documents say so beside the estimates; and where the
run computed the patients a precise validation needs at the observed prevalence and
AUROC (Pavlou et al., :func:`clinai.evaluation.validation_sample_size`) and had fewer,
they say that too.
"""

from __future__ import annotations

from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["VALIDATION_MIN_OUTCOMES", "validation_size"]

#: Events, and rows without the event, below which a validation is called imprecise
#: (Collins, Ogundimu and Altman 2016).
VALIDATION_MIN_OUTCOMES = 100


def validation_size(n: Any, events: Any, plan: Any = None) -> dict[str, Any] | None:
    """Return what the documents say of a validation too small for precise estimates.

    Parameters
    ----------
    n, events : int
        Rows the model was validated on, and those with the outcome.
    plan : mapping, optional
        :func:`clinai.evaluation.validation_sample_size`'s ``to_dict()`` at the
        observed prevalence and AUROC (its ``n`` and ``events``).

    Returns
    -------
    dict or None
        ``{"n", "events", "others", "minimum", "few", "needed", "needed_events"}``:
        ``few`` when the events or the rows without the event (``others``) are below
        :data:`VALIDATION_MIN_OUTCOMES`; ``needed`` (and its events) when the plan
        needs more rows than ``n``, else None. None when neither holds, or a count
        is unknown.
    """
    n, events = s.number(n), s.number(events)
    if n is None or events is None or not 0 <= events <= n:
        return None
    others = int(n) - int(events)
    few = min(int(events), others) < VALIDATION_MIN_OUTCOMES
    needed = s.number(s.mapping(plan).get("n"))
    short = needed is not None and int(n) < needed
    if not (few or short):
        return None
    return {
        "n": int(n),
        "events": int(events),
        "others": others,
        "minimum": VALIDATION_MIN_OUTCOMES,
        "few": few,
        "needed": int(needed) if short and needed is not None else None,
        "needed_events": int(s.mapping(plan).get("events") or 0) if short else None,
    }
