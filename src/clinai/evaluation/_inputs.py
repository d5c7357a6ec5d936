"""Input checks shared by the evaluation functions.

Every check raises :class:`~clinai.exceptions.DataError` with one line that
names the argument, says what must hold and shows what was received. The
message templates are module-level constants so that tests can match them
exactly.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = [
    "CI_LEVEL_MSG",
    "EMPTY_MSG",
    "LENGTH_MSG",
    "MIN_CELL_MSG",
    "N_BOOT_MSG",
    "ONE_CLASS_MSG",
    "PATIENT_IDS_LENGTH_MSG",
    "PATIENT_IDS_MISSING_MSG",
    "PROBABILITY_NON_FINITE_MSG",
    "PROBABILITY_RANGE_MSG",
    "RENAMED_KEYWORD_BOTH_MSG",
    "RENAMED_KEYWORD_MSG",
    "SCORE_LENGTH_MSG",
    "SCORE_NON_FINITE_MSG",
    "SCORE_NOT_1D_MSG",
    "SCORE_NOT_NUMERIC_MSG",
    "THRESHOLD_MSG",
    "Y_PROB_NOT_1D_MSG",
    "Y_PROB_NOT_NUMERIC_MSG",
    "Y_TRUE_NOT_1D_MSG",
    "Y_TRUE_NOT_BINARY_MSG",
    "check_ci_level",
    "check_min_cell",
    "check_n_boot",
    "check_number",
    "check_patient_ids",
    "check_score",
    "check_threshold",
    "check_thresholds",
    "check_y",
    "check_y_true",
    "deprecated_seed",
    "renamed_keyword",
    "to_float_array",
]

_F = TypeVar("_F", bound=Callable[..., Any])

MIN_CELL_MSG = "min_cell must be a non-negative integer; got {value!r}"
EMPTY_MSG = "y_true is empty: evaluate on at least one row with an outcome and a prediction"
Y_TRUE_NOT_1D_MSG = "y_true must be one-dimensional (one outcome per row); got shape {shape}"
Y_PROB_NOT_1D_MSG = (
    "y_prob must be one-dimensional (the predicted probability of the event per row); "
    "got shape {shape}"
)
LENGTH_MSG = (
    "y_true and y_prob have different lengths ({n_true} and {n_prob}): "
    "pass one predicted probability per row"
)
Y_TRUE_NOT_BINARY_MSG = (
    "y_true must contain only 0 (non-event) and 1 (event) and no missing values; got {values}"
)
ONE_CLASS_MSG = "y_true has only one class (all {value}): the outcome needs events and non-events"
PROBABILITY_NON_FINITE_MSG = (
    "y_prob has {count} missing or non-finite value(s): pass a probability for every row"
)
Y_PROB_NOT_NUMERIC_MSG = "y_prob must be numeric (probabilities in [0, 1]); got {values}"
PROBABILITY_RANGE_MSG = (
    "y_prob must lie in [0, 1] (predicted probabilities of the event); "
    "got values from {low:g} to {high:g}"
)
THRESHOLD_MSG = "{name} must lie in {interval}; got {value!r}"
PATIENT_IDS_LENGTH_MSG = (
    "patient_ids has {n_ids} entries but y_true has {n} rows: pass one patient id per row"
)
PATIENT_IDS_MISSING_MSG = "patient_ids has {count} missing value(s): every row needs a patient id"
N_BOOT_MSG = "n_boot must be a non-negative integer; got {value!r}"
CI_LEVEL_MSG = "ci_level must lie strictly between 0 and 1; got {value!r}"
SCORE_NOT_NUMERIC_MSG = (
    "{name} must be numeric (a score where higher means higher risk); got {values}"
)
SCORE_NOT_1D_MSG = "{name} must be one-dimensional (one score per row); got shape {shape}"
SCORE_LENGTH_MSG = "{name} has {n_score} values but y_true has {n} rows: pass one score per row"
RENAMED_KEYWORD_MSG = (
    "{function}(): {old}= is deprecated: pass {new}=...; "
    "{old} will be removed in clinai {removed_in}"
)
RENAMED_KEYWORD_BOTH_MSG = (
    "{function}() got both {old}= and {new}=: pass only {new}= ({old} is its deprecated alias)"
)
SCORE_NON_FINITE_MSG = (
    "{name} has {count} missing or non-finite value(s): pass a score for every row "
    "(drop or impute the rows without one before validating)"
)


def _as_float64(values: Any) -> np.ndarray:
    """Return ``values`` as float64 (pandas NA becomes NaN); TypeError/ValueError if not numeric."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def to_float_array(values: Any, *, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array (missing values become NaN)."""
    try:
        array = _as_float64(values)
    except (TypeError, ValueError) as exc:
        template = Y_TRUE_NOT_BINARY_MSG if name == "y_true" else Y_PROB_NOT_NUMERIC_MSG
        raise DataError(template.format(values=_describe_values(values))) from exc
    if array.ndim != 1:
        template = Y_TRUE_NOT_1D_MSG if name == "y_true" else Y_PROB_NOT_1D_MSG
        raise DataError(template.format(shape=array.shape))
    return array


def _describe_values(values: Any) -> str:
    """Describe up to five distinct values of an array-like for an error message."""
    try:
        unique = pd.unique(pd.Series(np.asarray(values, dtype=object).ravel()))
    except (TypeError, ValueError):
        return repr(values)[:80]
    shown = ", ".join(repr(v) for v in unique[:5])
    more = f" and {len(unique) - 5} more" if len(unique) > 5 else ""
    return f"values {shown}{more}"


def check_y(
    y_true: Any, y_prob: Any, *, require_both_classes: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary outcome and predicted probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 0 (non-event) or 1 (event).
    y_prob : array-like of shape (n,)
        Predicted probability of the event, in [0, 1].
    require_both_classes : bool, default=True
        Raise when ``y_true`` holds only events or only non-events.

    Returns
    -------
    tuple of numpy.ndarray
        ``(y, p)`` as float64 arrays.

    Raises
    ------
    DataError
        On an empty, non-binary or one-class ``y_true``; on ``y_prob`` with
        missing, non-finite or out-of-range values; on different lengths.
    """
    y = to_float_array(y_true, name="y_true")
    p = to_float_array(y_prob, name="y_prob")
    if y.shape[0] != p.shape[0]:
        raise DataError(LENGTH_MSG.format(n_true=y.shape[0], n_prob=p.shape[0]))
    y = check_y_true(y_true, require_both_classes=False, _array=y)
    finite = np.isfinite(p)
    if not finite.all():
        raise DataError(PROBABILITY_NON_FINITE_MSG.format(count=int((~finite).sum())))
    low, high = float(p.min()), float(p.max())
    if low < 0.0 or high > 1.0:
        raise DataError(PROBABILITY_RANGE_MSG.format(low=low, high=high))
    if require_both_classes:
        _check_both_classes(y)
    return y, p


def check_y_true(
    y_true: Any, *, require_both_classes: bool = True, _array: np.ndarray | None = None
) -> np.ndarray:
    """Validate a binary outcome on its own and return it as a float64 array.

    Raises
    ------
    DataError
        On an empty, non-binary or (with ``require_both_classes``) one-class ``y_true``.
    """
    y = to_float_array(y_true, name="y_true") if _array is None else _array
    if y.shape[0] == 0:
        raise DataError(EMPTY_MSG)
    if not np.all((y == 0) | (y == 1)):
        raise DataError(Y_TRUE_NOT_BINARY_MSG.format(values=_describe_values(y_true)))
    if require_both_classes:
        _check_both_classes(y)
    return y


def _check_both_classes(y: np.ndarray) -> None:
    events = float(y.sum())
    if events == 0.0 or events == float(y.shape[0]):
        raise DataError(ONE_CLASS_MSG.format(value=int(y[0])))


def check_threshold(value: Any, *, name: str = "threshold", closed: bool = False) -> float:
    """Check one decision threshold.

    ``closed=False`` requires ``0 < t < 1`` (net benefit divides by ``1 - t``);
    ``closed=True`` allows ``0 <= t <= 1``.
    """
    interval = "[0, 1]" if closed else "(0, 1) (strictly between 0 and 1)"
    if isinstance(value, np.generic):
        value = value.item()
    try:
        t = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(THRESHOLD_MSG.format(name=name, interval=interval, value=value)) from exc
    ok = (0.0 <= t <= 1.0) if closed else (0.0 < t < 1.0)
    if not ok:
        raise DataError(THRESHOLD_MSG.format(name=name, interval=interval, value=value))
    return t


def check_thresholds(values: Any, *, name: str = "thresholds") -> np.ndarray:
    """Check a sequence of thresholds, each strictly between 0 and 1."""
    items = np.atleast_1d(np.asarray(values, dtype=object))
    if items.ndim != 1:
        raise DataError(
            THRESHOLD_MSG.format(name=name, interval="(0, 1) as a 1-D sequence", value=values)
        )
    return np.array([check_threshold(value, name=name) for value in items], dtype="float64")


def check_patient_ids(patient_ids: Any, n: int) -> np.ndarray:
    """Return integer codes (0 .. n_patients - 1) for ``patient_ids``.

    Raises
    ------
    DataError
        When the length differs from ``n`` or an id is missing.
    """
    plain = patient_ids.to_numpy() if isinstance(patient_ids, pd.Series | pd.Index) else None
    values = plain if plain is not None else np.asarray(patient_ids)
    if values.ndim == 1 and np.issubdtype(values.dtype, np.integer):
        # integer ids factorised as integers: the same codes (order of first appearance)
        # as through object values, without hashing a Python object per row (0.5 s at 10^6)
        if values.shape[0] != n:
            raise DataError(PATIENT_IDS_LENGTH_MSG.format(n_ids=values.shape[0], n=n))
        return np.asarray(pd.factorize(values, sort=False)[0], dtype=np.intp)
    if isinstance(patient_ids, pd.Series | pd.Index):
        ids = pd.Series(patient_ids.to_numpy(dtype=object))
    else:
        ids = pd.Series(np.asarray(patient_ids, dtype=object).ravel())
    if ids.shape[0] != n:
        raise DataError(PATIENT_IDS_LENGTH_MSG.format(n_ids=ids.shape[0], n=n))
    missing = int(ids.isna().sum())
    if missing:
        raise DataError(PATIENT_IDS_MISSING_MSG.format(count=missing))
    codes, _ = pd.factorize(ids, sort=False)
    return np.asarray(codes, dtype=np.intp)


def check_n_boot(n_boot: Any) -> int:
    """Check the number of bootstrap replicates (0 means no intervals)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise DataError(N_BOOT_MSG.format(value=n_boot))
    return int(n_boot)


def check_number(
    value: Any, message: str, low: float, high: float, *, closed: bool = False
) -> float:
    """Return ``value`` as a finite float in ``(low, high)``, or ``(low, high]`` when ``closed``.

    Anything else (a bool, text, NaN, a number outside) raises
    :class:`~clinai.exceptions.DataError` with ``message``, the caller's line
    that names the argument and shows the value.

    Examples
    --------
    >>> check_number("0.9", "ci_level ...", 0.0, 1.0)
    0.9
    >>> check_number(1, "target must lie in (0, 1]", 0.0, 1.0, closed=True)
    1.0
    """
    if isinstance(value, bool):
        raise DataError(message)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(message) from exc
    inside = low < number < high or (closed and number == high)
    if not (math.isfinite(number) and inside):
        raise DataError(message)
    return number


def check_ci_level(ci_level: Any) -> float:
    """Check the confidence level of the intervals."""
    return check_number(ci_level, CI_LEVEL_MSG.format(value=ci_level), 0.0, 1.0)


def check_score(values: Any, n: int, *, name: str) -> np.ndarray:
    """Validate a risk score of any scale (e.g. a baseline such as NEWS2 points).

    Parameters
    ----------
    values : array-like of shape (n,)
        The score of each row; higher means higher risk. Any finite real
        numbers (it need not be a probability).
    n : int
        Number of rows it must have (the length of ``y_true``).
    name : str
        How the score is named in error messages (e.g. ``"baseline 'NEWS2'"``).

    Returns
    -------
    numpy.ndarray
        The score as a float64 array.

    Raises
    ------
    DataError
        If the score is not numeric or one-dimensional, has the wrong length,
        or has missing or non-finite values; the message names the score.
    """
    try:
        array = _as_float64(values)
    except (TypeError, ValueError) as exc:
        raise DataError(
            SCORE_NOT_NUMERIC_MSG.format(name=name, values=_describe_values(values))
        ) from exc
    if array.ndim != 1:
        raise DataError(SCORE_NOT_1D_MSG.format(name=name, shape=array.shape))
    if array.shape[0] != n:
        raise DataError(SCORE_LENGTH_MSG.format(name=name, n_score=array.shape[0], n=n))
    finite = np.isfinite(array)
    if not finite.all():
        raise DataError(SCORE_NON_FINITE_MSG.format(name=name, count=int((~finite).sum())))
    return array


def check_min_cell(min_cell: Any) -> int:
    """Check ``min_cell``: the smallest reported cell, a non-negative integer."""
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 0:
        raise DataError(MIN_CELL_MSG.format(value=min_cell))
    return int(min_cell)


def renamed_keyword(old: str, new: str, *, removed_in: str) -> Callable[[_F], _F]:
    """Return a decorator that keeps ``old`` as a deprecated keyword alias of ``new``.

    The decorated function's own signature names only ``new``. A call passing
    ``old=`` gets a :class:`FutureWarning` (shown to users, unlike a
    ``DeprecationWarning`` outside ``__main__``) and runs exactly as with ``new=``;
    a call passing both raises ``TypeError``, as Python does for a repeated argument.

    Parameters
    ----------
    old : str
        The deprecated keyword.
    new : str
        The keyword that replaces it.
    removed_in : str
        The clinai release that drops ``old``, named in the warning.

    Returns
    -------
    callable
        A decorator returning a wrapper of the function (``functools.wraps``: its
        name, docstring and signature are the function's).

    Examples
    --------
    >>> @renamed_keyword("seed", "random_state", removed_in="0.3")
    ... def draw(*, random_state: int = 0) -> int:
    ...     return random_state
    >>> draw(random_state=4)
    4
    """

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                name = func.__name__
                if new in kwargs:
                    raise TypeError(
                        RENAMED_KEYWORD_BOTH_MSG.format(function=name, old=old, new=new)
                    )
                message = RENAMED_KEYWORD_MSG.format(
                    function=name, old=old, new=new, removed_in=removed_in
                )
                # stacklevel 2: the warning points at the caller's line, not this wrapper
                warnings.warn(message, FutureWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return cast(_F, wrapper)

    return decorate


#: ``seed`` became ``random_state`` in clinai 0.2 (the name every other evaluation
#: function uses); the functions that took ``seed`` keep it as an alias until 0.3.
deprecated_seed = renamed_keyword("seed", "random_state", removed_in="0.3")
