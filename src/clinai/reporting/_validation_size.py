"""Whether the data a model was validated on hold enough outcomes for precise estimates.

Collins, Ogundimu and Altman (Sample size considerations for the external validation
of a multivariable prognostic model: a resampling study. Stat Med 2016;35:214-26)
found that at least 100 events and 100 non-events are needed for a validation's
estimates of discrimination and calibration to be reasonably precise; Riley et al.
(Minimum sample size for external validation of a clinical prediction model with a
binary outcome. Stat Med 2021;40:4230-51) show that precise calibration often needs
more. Below 100 of either, the documents say so beside the estimates.
"""

from __future__ import annotations

from typing import Any

from clinai.reporting import _sanitize as s

__all__ = ["VALIDATION_MIN_OUTCOMES", "validation_size"]

#: Events, and rows without the event, below which a validation is called imprecise
#: (Collins, Ogundimu and Altman 2016).
VALIDATION_MIN_OUTCOMES = 100


def validation_size(n: Any, events: Any) -> dict[str, int] | None:
    """Return ``{"events", "others", "minimum"}`` when either count is below the minimum.

    Parameters
    ----------
    n, events : int
        Rows the model was validated on, and those with the outcome.

    Returns
    -------
    dict or None
        None when both the events and the rows without the event (``others``)
        reach :data:`VALIDATION_MIN_OUTCOMES`, or when a count is unknown.
    """
    n, events = s.number(n), s.number(events)
    if n is None or events is None or not 0 <= events <= n:
        return None
    others = int(n) - int(events)
    if min(int(events), others) >= VALIDATION_MIN_OUTCOMES:
        return None
    return {"events": int(events), "others": others, "minimum": VALIDATION_MIN_OUTCOMES}
