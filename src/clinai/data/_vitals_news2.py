"""NEWS2 as of prediction times, from the last vital signs before each one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from clinai.data._news2 import NEWS2_COMPONENTS, news2
from clinai.data._vitals_features import window_features
from clinai.exceptions import DataError

__all__ = ["news2_at"]

logger = logging.getLogger(__name__)

BAD_MAX_AGE = "news2_at: max_age must be a positive duration such as '4h' or '24h', got {value!r}"
NO_SCALE_COLUMN = (
    "news2_at: spo2_scale='column' needs a column 'spo2_scale' (1 or 2) in prediction_times"
)


def news2_at(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    prediction_times: pd.DataFrame,
    *,
    max_age: str = "24h",
    spo2_scale: int | Literal["column"] = 1,
    stay_column: str = "stay_id",
    time_column: str = "prediction_time",
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """Score NEWS2 at each prediction time from the latest earlier observations.

    Each component uses the most recent measurement of its parameter strictly
    before the prediction time (see :func:`window_features`), provided it is at
    most ``max_age`` old; an older or absent value leaves that component missing,
    so ``news2`` is missing and ``news2_partial`` sums the components present.
    This is how a chart is read at the bedside: the last set of observations.

    Parameters
    ----------
    vitals : path, list of paths, or pandas.DataFrame
        Canonical long vitals (as :func:`read_vitals` returns).
    prediction_times : pandas.DataFrame
        Stay and prediction time per row (and ``spo2_scale`` with ``spo2_scale="column"``).
    max_age : str, default "24h"
        The oldest observation still used.
    spo2_scale : {1, 2, "column"}, default 1
        As in :func:`news2`.
    stay_column, time_column, threads, memory_limit
        As in :func:`window_features`.

    Returns
    -------
    pandas.DataFrame
        The stay and time columns, the observations used (``resp_rate``, ``spo2``,
        ...) and the columns of :func:`news2`, one row per prediction time in
        input order.

    Raises
    ------
    DataError
        A bad ``max_age``, a missing ``spo2_scale`` column, or any error of
        :func:`window_features`.

    Examples
    --------
    >>> t = pd.Timestamp("2024-01-01 10:00")
    >>> vitals = pd.DataFrame({"stay_id": 1, "time": t - pd.Timedelta("30min"),
    ...     "parameter": ["resp_rate", "spo2", "supplemental_oxygen", "sbp", "heart_rate",
    ...                   "consciousness", "temperature"],
    ...     "value": [24, 95, 0, 105, 112, 0, 38.3]})
    >>> preds = pd.DataFrame({"stay_id": [1], "prediction_time": [t]})
    >>> news2_at(vitals, preds)["news2"].tolist()
    [7.0]
    """
    try:
        age = pd.Timedelta(max_age)
    except (ValueError, TypeError) as exc:
        raise DataError(BAD_MAX_AGE.format(value=max_age)) from exc
    if pd.isna(age) or age <= pd.Timedelta(0):
        raise DataError(BAD_MAX_AGE.format(value=max_age))
    if spo2_scale == "column" and "spo2_scale" not in prediction_times.columns:
        raise DataError(NO_SCALE_COLUMN)
    features = window_features(
        vitals,
        prediction_times,
        windows=(),
        parameters=NEWS2_COMPONENTS,
        stay_column=stay_column,
        time_column=time_column,
        threads=threads,
        memory_limit=memory_limit,
    )
    limit = age / pd.Timedelta(hours=1)
    observations = features[[stay_column, time_column]].copy()
    stale = 0
    for name in NEWS2_COMPONENTS:
        hours = features[f"{name}_hours_since_last"].to_numpy()
        too_old = hours > limit
        stale += int(too_old.sum())
        observations[name] = np.where(too_old, np.nan, features[f"{name}_last"].to_numpy())
    if stale:
        logger.info("news2_at: %d observations older than %s were not used", stale, max_age)
    if spo2_scale == "column":
        observations["spo2_scale"] = prediction_times["spo2_scale"].to_numpy()
    return news2(observations, spo2_scale=spo2_scale)
