"""The threshold that reaches a target sensitivity on the validation data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._inputs import check_number, check_y

__all__ = ["TARGET_SENSITIVITY_MSG", "target_sensitivity_threshold"]

TARGET_SENSITIVITY_MSG = (
    "target_sensitivities must be numbers in (0, 1] (e.g. 0.9 for 90% of events flagged); "
    "got {value!r}"
)


def check_targets(values: Any) -> np.ndarray:
    """Check target sensitivities, each in (0, 1]."""
    items = np.atleast_1d(np.asarray(values, dtype=object))
    targets = [
        check_number(value, TARGET_SENSITIVITY_MSG.format(value=value), 0.0, 1.0, closed=True)
        for value in items
    ]
    return np.array(targets, dtype="float64")


@fill_doc
def target_sensitivity_threshold(y_true: Any, y_prob: Any, *, target: float) -> float:
    """Highest threshold whose sensitivity on these data is at least ``target``.

    Sensitivity at threshold ``t`` is the share of events with ``y_prob >= t``;
    it only falls as ``t`` rises. With ``E`` events, the smallest number of
    flagged events that reaches the target is the smallest ``k`` with
    ``k / E >= target``, and the highest threshold that flags at least ``k``
    events is the ``k``-th highest predicted probability among the events.
    The threshold is chosen on the same data it is then evaluated on, so its
    sensitivity is optimistic for new patients.

    Parameters
    ----------
    {y_true}
    {y_prob}
    target : float
        Target sensitivity in (0, 1].

    Returns
    -------
    float
        The threshold, one of the events' predicted probabilities.

    Raises
    ------
    DataError
        On invalid or one-class input or a target outside (0, 1].

    Examples
    --------
    >>> y = [0, 1, 1, 0, 1, 1]
    >>> target_sensitivity_threshold(y, [0.1, 0.2, 0.4, 0.5, 0.7, 0.9], target=0.75)
    0.4
    """
    y, p = check_y(y_true, y_prob)
    return float(_target_thresholds(y, p, check_targets([target]))[0])


def _target_thresholds(y: np.ndarray, p: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """:func:`target_sensitivity_threshold` for each target on validated arrays."""
    event_p = np.sort(p[y == 1])[::-1]
    events = event_p.shape[0]
    out = []
    for target in targets:
        k = min(max(math.ceil(target * events), 1), events)
        while k > 1 and (k - 1) / events >= target:
            k -= 1
        while k < events and k / events < target:
            k += 1
        out.append(float(event_p[k - 1]))
    return np.array(out, dtype="float64")
