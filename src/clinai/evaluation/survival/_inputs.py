"""Input checks shared by the survival metrics (one place; SURV-DISC and SURV-CAL use them).

Every check raises :class:`~clinai.exceptions.DataError` with one line that names
the argument, says what must hold and what was received. Message templates are
module constants so that tests match them exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from clinai.evaluation._inputs import _as_float64, _describe_values
from clinai.exceptions import DataError

__all__ = [
    "CAUSE_MSG",
    "EMPTY_MSG",
    "EVENT_CODES_MSG",
    "EVENT_MSG",
    "HORIZONS_MSG",
    "HORIZON_MSG",
    "LENGTH_MSG",
    "NOT_1D_MSG",
    "NOT_NUMERIC_MSG",
    "NO_EVENTS_MSG",
    "RISK_COLUMNS_MSG",
    "RISK_RANGE_MSG",
    "TIED_TOL_MSG",
    "TIME_MISSING_MSG",
    "TIME_NEGATIVE_MSG",
    "VALUES_MISSING_MSG",
    "check_event_codes",
    "check_has_events",
    "check_horizon",
    "check_horizons",
    "check_risk",
    "check_risk_matrix",
    "check_score",
    "check_survival",
    "check_tied_tol",
]

NOT_NUMERIC_MSG = "{name} must be numeric; got {values}"
NOT_1D_MSG = "{name} must be one-dimensional (one value per patient); got shape {shape}"
EMPTY_MSG = "time is empty: pass at least one patient's follow-up time and event"
LENGTH_MSG = "{name} has {n_other} values but time has {n} rows: pass one value per patient"
TIME_MISSING_MSG = (
    "time has {count} missing or non-finite value(s): every patient needs a follow-up time"
)
TIME_NEGATIVE_MSG = (
    "time has {count} negative value(s) (smallest {low:g}): follow-up time is measured from "
    "time zero and cannot be negative (were time and event swapped?)"
)
EVENT_MSG = (
    "event must be 0 (censored) or 1 (event) with no missing values; got {values} "
    "(were time and event swapped?)"
)
EVENT_CODES_MSG = (
    "event_code must be whole numbers >= 0 (0 censored, 1, 2, ... the causes) with no "
    "missing values; got {values}"
)
CAUSE_MSG = "cause must be a positive event code ({codes}); got {cause!r}"
VALUES_MISSING_MSG = (
    "{name} has {count} missing or non-finite value(s): pass a value for every patient "
    "(drop or impute the rows without one before validating)"
)
RISK_RANGE_MSG = (
    "{name} must lie in [0, 1] (predicted absolute risk by the horizon); "
    "got values from {low:g} to {high:g}"
)
HORIZON_MSG = (
    "{name} must be a finite time within follow-up ({low:g} to below {high:g}); got {value!r}"
)
HORIZONS_MSG = "{name} must be distinct horizons; got {values}"
RISK_COLUMNS_MSG = (
    "{name} must have one column per horizon ({expected}), or be one-dimensional; got shape {shape}"
)
TIED_TOL_MSG = "tied_tol must be a finite number >= 0; got {value!r}"
NO_EVENTS_MSG = "event has no events{where}: a survival metric needs at least one event"


def _vector(values: Any, *, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array (missing values become NaN)."""
    try:
        array = _as_float64(values)
    except (TypeError, ValueError) as exc:
        raise DataError(NOT_NUMERIC_MSG.format(name=name, values=_describe_values(values))) from exc
    if array.ndim != 1:
        raise DataError(NOT_1D_MSG.format(name=name, shape=array.shape))
    return array


def _check_length(array: np.ndarray, n: int, *, name: str) -> None:
    if array.shape[0] != n:
        raise DataError(LENGTH_MSG.format(name=name, n_other=array.shape[0], n=n))


def _check_time(time: Any) -> np.ndarray:
    array = _vector(time, name="time")
    if array.shape[0] == 0:
        raise DataError(EMPTY_MSG)
    finite = np.isfinite(array)
    if not finite.all():
        raise DataError(TIME_MISSING_MSG.format(count=int((~finite).sum())))
    negative = array < 0
    if negative.any():
        raise DataError(TIME_NEGATIVE_MSG.format(count=int(negative.sum()), low=array.min()))
    return array


def _check_time_and_codes(
    time: Any,
    codes: Any,
    *,
    name: str,
    message: str,
    valid: Callable[[np.ndarray], bool],
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``time``, then ``codes`` (one per row, ``valid``); ``message`` names bad codes."""
    time_array = _check_time(time)
    try:
        array = _vector(codes, name=name)
    except DataError as exc:
        raise DataError(message.format(values=_describe_values(codes))) from exc
    _check_length(array, time_array.shape[0], name=name)
    if not valid(array):
        raise DataError(message.format(values=_describe_values(codes)))
    return time_array, array


def _zero_or_one(codes: np.ndarray) -> bool:
    """Whether every code is 0 or 1 (censored or event)."""
    return bool(np.isin(codes, (0.0, 1.0)).all())


def _whole_nonnegative(codes: np.ndarray) -> bool:
    """Whether every code is a finite whole number >= 0 (censored or a cause)."""
    finite = np.isfinite(codes).all()
    return bool(finite and (codes >= 0).all() and (codes == np.floor(codes)).all())


def check_survival(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate right-censored survival data.

    Parameters
    ----------
    time : array-like of shape (n,)
        Follow-up time (event or censoring), finite and >= 0.
    event : array-like of shape (n,)
        1 (or True) for an event, 0 (or False) for censoring.

    Returns
    -------
    tuple of numpy.ndarray
        ``time`` as float64 and ``event`` as bool.

    Raises
    ------
    DataError
        Empty, not one-dimensional, different lengths, missing or negative times,
        event values other than 0/1.
    """
    time_array, event_array = _check_time_and_codes(
        time, event, name="event", message=EVENT_MSG, valid=_zero_or_one
    )
    return time_array, event_array == 1.0


def check_event_codes(time: Any, event_code: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate survival data with competing events: codes 0 (censored), 1, 2, ...

    Returns ``time`` as float64 and ``event_code`` as int64; DataError as
    :func:`check_survival`, and for codes that are negative, fractional or missing.
    """
    time_array, codes = _check_time_and_codes(
        time, event_code, name="event_code", message=EVENT_CODES_MSG, valid=_whole_nonnegative
    )
    return time_array, codes.astype(np.int64)


def check_score(values: Any, n: int, *, name: str) -> np.ndarray:
    """Validate a score (linear predictor or risk) with one finite value per patient."""
    array = _vector(values, name=name)
    _check_length(array, n, name=name)
    finite = np.isfinite(array)
    if not finite.all():
        raise DataError(VALUES_MISSING_MSG.format(name=name, count=int((~finite).sum())))
    return array


def check_risk(values: Any, n: int, *, name: str = "risk") -> np.ndarray:
    """Validate predicted absolute risks in [0, 1], one finite value per patient."""
    array = check_score(values, n, name=name)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise DataError(RISK_RANGE_MSG.format(name=name, low=array.min(), high=array.max()))
    return array


def check_horizon(value: Any, time: np.ndarray, *, name: str = "t") -> float:
    """Validate a horizon: finite, >= the first follow-up time and below the last one."""
    try:
        horizon = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(
            HORIZON_MSG.format(name=name, low=time.min(), high=time.max(), value=value)
        ) from exc
    if not math.isfinite(horizon) or horizon < time.min() or horizon >= time.max():
        raise DataError(HORIZON_MSG.format(name=name, low=time.min(), high=time.max(), value=value))
    return horizon


def check_has_events(event: np.ndarray, *, where: str = "") -> None:
    """Raise when ``event`` holds no event (``where`` says e.g. " before t = 5")."""
    if not event.any():
        raise DataError(NO_EVENTS_MSG.format(where=where))


def check_horizons(values: Any, time: np.ndarray, *, name: str = "times") -> np.ndarray:
    """Validate one or more distinct horizons, each within follow-up; returned as given."""
    given = np.atleast_1d(np.asarray(values, dtype=object)).tolist()
    horizons = np.array([check_horizon(v, time, name=name) for v in given], dtype=float)
    if horizons.size == 0 or np.unique(horizons).size != horizons.size:
        raise DataError(HORIZONS_MSG.format(name=name, values=given))
    return horizons


def check_risk_matrix(
    values: Any, n: int, n_times: int, *, name: str = "risk", bounded: bool = True
) -> np.ndarray:
    """Validate an (n, n_times) matrix: one column per horizon, or one vector for all.

    Values must be finite, and in [0, 1] when ``bounded`` (absolute risks); a 1-D
    input is repeated for every horizon.
    """
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataError(NOT_NUMERIC_MSG.format(name=name, values=_describe_values(values))) from exc
    if array.ndim == 1:
        array = array[:, None].repeat(n_times, axis=1)
    if array.ndim != 2 or array.shape[1] != n_times:
        raise DataError(RISK_COLUMNS_MSG.format(name=name, expected=n_times, shape=array.shape))
    _check_length(array, n, name=name)
    check = check_risk if bounded else check_score
    check(array.ravel(), array.size, name=name)
    return array


def check_tied_tol(value: Any) -> float:
    """Validate a tolerance for ties in score: a finite number >= 0."""
    try:
        tol = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(TIED_TOL_MSG.format(value=value)) from exc
    if not math.isfinite(tol) or tol < 0:
        raise DataError(TIED_TOL_MSG.format(value=value))
    return tol
