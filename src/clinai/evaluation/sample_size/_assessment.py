"""Whether the development data hold the minimum sample size of Riley et al.'s criteria."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation.sample_size._sample_size import PARAMETER_MSG, SampleSizeResult
from clinai.exceptions import DataError

__all__ = ["AVAILABLE_MSG", "SHORTFALL_WARNING", "SampleSizeAssessment", "assess_sample_size"]

AVAILABLE_MSG = "{name} must be a non-negative integer; got {value!r}"
SHORTFALL_WARNING = (
    "The development data have {n_available} participants and {events_available} events "
    "({epp:.1f} events per candidate parameter), fewer than the minimum of {n_required} "
    "participants and {events_required} events from Riley et al.'s criteria for "
    "{n_parameters} candidate parameters (criteria not met: {unmet}). Expect overfitting "
    "and imprecise predictions: reduce the number of candidate parameters, use penalised "
    "estimation, or collect more data."
)


@dataclass(frozen=True)
class SampleSizeAssessment(FieldsRecord):
    """Whether the available data meet a :class:`SampleSizeResult`.

    Attributes
    ----------
    adequate : bool
        ``True`` when both the participants and the events reach the minimum.
    n_available, events_available : int
        Participants and events in the development data.
    n_required, events_required : int
        The minimum from :func:`riley_sample_size`.
    events_per_parameter : float
        Events per candidate parameter in the available data.
    unmet : tuple of str
        Names of the criteria the available participants do not meet.
    warning : str or None
        A plain-language warning when the data fall short, else ``None``.
    """

    _json_counts = ("n_available", "events_available", "n_required", "events_required")

    adequate: bool
    n_available: int
    events_available: int
    n_required: int
    events_required: int
    events_per_parameter: float
    unmet: tuple[str, ...]
    warning: str | None


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise DataError(AVAILABLE_MSG.format(name=name, value=value))
    return int(value)


def assess_sample_size(
    result: SampleSizeResult, *, n_available: int, events_available: int
) -> SampleSizeAssessment:
    """Whether the development data are large enough, with a warning when they are not.

    The data are adequate when they hold at least the minimum number of
    participants (``result.n``) and of events (``result.events``). A criterion
    is *unmet* when the available participants are fewer than it requires, or
    (for the minimum as a whole) when the events are fewer than required.

    Parameters
    ----------
    result : SampleSizeResult
        From :func:`riley_sample_size`.
    n_available : int
        Participants available for development.
    events_available : int
        Events among them.

    Returns
    -------
    SampleSizeAssessment
        ``adequate``, the shortfall's criteria (``unmet``), events per
        candidate parameter in the available data and, when short, a
        plain-language ``warning``.

    Raises
    ------
    DataError
        If a count is not a non-negative integer or the events exceed the
        participants.

    Examples
    --------
    >>> from clinai.evaluation import riley_sample_size
    >>> result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24)
    >>> check = assess_sample_size(result, n_available=400, events_available=70)
    >>> check.adequate, check.unmet
    (False, ('shrinkage', 'optimism', 'events'))
    """
    n = _check_count(n_available, "n_available")
    events = _check_count(events_available, "events_available")
    if events > n:
        raise DataError(
            PARAMETER_MSG.format(
                name="events_available",
                rule=f"at most n_available ({n})",
                value=events_available,
            )
        )
    unmet = [criterion.name for criterion in result.criteria if n < criterion.n]
    if events < result.events:
        unmet.append("events")
    adequate = not unmet
    epp = events / result.n_parameters
    # the counts, named as both the warning and the assessment name them
    counts = {
        "n_available": n,
        "events_available": events,
        "n_required": result.n,
        "events_required": result.events,
    }
    warning = None
    if not adequate:
        warning = SHORTFALL_WARNING.format(
            epp=epp, n_parameters=result.n_parameters, unmet=", ".join(unmet), **counts
        )
    return SampleSizeAssessment(
        adequate=adequate,
        events_per_parameter=epp,
        unmet=tuple(unmet),
        warning=warning,
        **counts,
    )
