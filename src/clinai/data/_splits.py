"""Train/test splits: stratified, patient-grouped, temporal and by site.

:func:`split_train_test` draws a random split (stratified by outcome, or by
patient). :func:`split_temporal` trains on earlier admissions and tests on
later ones (temporal validation); :func:`split_by_site` holds out whole sites
(external validation by site). All return sorted positional index arrays.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = ["parse_times", "split_by_site", "split_temporal", "split_train_test", "time_range"]

logger = logging.getLogger(__name__)

GROUPS_REQUIRED = (
    "split method 'grouped' needs patient identifiers: set data.patient_id in the config "
    "to the column that identifies the patient"
)
UNKNOWN_METHOD = "split method {method!r} is unknown: use 'stratified' or 'grouped'"
BAD_TEST_SIZE = "split test_size must lie strictly between 0 and 1, got {value!r}"
GROUPS_LENGTH = (
    "patient identifiers (data.patient_id) have {got} values for {expected} outcome values: "
    "pass one identifier per row"
)
GROUPS_MISSING = (
    "patient identifier column (data.patient_id) has {count} missing value(s): "
    "every row needs a patient identifier"
)
OUTCOME_MISSING = "the outcome has {count} missing value(s): exclude those rows before splitting"
CANNOT_STRATIFY = (
    "cannot draw a stratified {kind} split with test_size={test_size}: {reason}; "
    "use more data or a different test_size"
)
TIME_NOT_TIMES = (
    "time column {column!r} (split.time_column) has dtype {dtype}: admission times must be "
    "datetimes, ISO 8601 text (YYYY-MM-DD or YYYY-MM-DD HH:MM) or numbers; convert the column"
)
TIME_UNPARSABLE = (
    "time column {column!r} (split.time_column) has {count} value(s) that are not ISO 8601 "
    "dates (YYYY-MM-DD or YYYY-MM-DD HH:MM) or finite numbers: convert them in the data or "
    "the pipeline"
)
TIME_MISSING = (
    "time column {column!r} (split.time_column) has {count} missing value(s): every row needs "
    "an admission time; exclude those rows in the pipeline's exclusions()"
)
TIME_LENGTH = "time column {column!r} (split.time_column) has no rows: check the cohort"
TIME_NO_TRAIN = (
    "time column {column!r} (split.time_column): every {unit} is at or after the cut {cut}, so "
    "no earlier admissions are left for training; use a smaller split.test_size or a column "
    "with more distinct times"
)
SITE_MISSING = (
    "site column {column!r} (split.site_column) has {count} missing value(s): every row needs "
    "a site; exclude those rows in the pipeline's exclusions()"
)
SITES_EMPTY = "split.test_sites is empty: name at least one site of column {column!r} to test on"
UNKNOWN_SITES = (
    "split.test_sites names {unknown}, not found in site column {column!r}: the sites are "
    "{available}; fix split.test_sites"
)
NO_TRAIN_SITE = (
    "split.test_sites names every site of column {column!r}: leave at least one site to train on"
)
#: Most site names listed in an error message.
_MAX_LISTED_SITES = 50


def split_train_test(
    y: pd.Series | np.ndarray | Sequence[Any],
    *,
    groups: pd.Series | np.ndarray | Sequence[Any] | None = None,
    method: Literal["stratified", "grouped"] = "stratified",
    test_size: float = 0.3,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split rows into a training and a held-out test set.

    ``stratified`` keeps the outcome prevalence on both sides
    (:func:`sklearn.model_selection.train_test_split` with ``stratify=y``).
    ``grouped`` draws whole patients: each patient is labelled by whether any of
    their rows has the outcome, the patients are split with stratification on
    that label, and every row follows its patient, so no patient appears on
    both sides. ``test_size`` is then the fraction of patients. The same
    ``random_state`` always gives the same split.

    Parameters
    ----------
    y : pandas.Series or array-like
        Binary outcome, one value per row.
    groups : pandas.Series or array-like, optional
        Patient identifier of each row; required by ``method="grouped"``.
    method : {"stratified", "grouped"}, default "stratified"
        How to split.
    test_size : float, default 0.3
        Fraction of rows (stratified) or patients (grouped) in the test set.
    random_state : int, default 0
        Seed.

    Returns
    -------
    train_idx, test_idx : numpy.ndarray
        Sorted positional (0-based integer) indices into ``y``.

    Raises
    ------
    DataError
        If ``method="grouped"`` has no ``groups``, the inputs are inconsistent, or
        a class is too small to stratify.

    Examples
    --------
    >>> train, test = split_train_test([0, 1] * 10, test_size=0.3, random_state=0)
    >>> len(train), len(test)
    (14, 6)
    """
    from sklearn.model_selection import train_test_split

    if method not in ("stratified", "grouped"):
        raise DataError(UNKNOWN_METHOD.format(method=method))
    if not 0.0 < float(test_size) < 1.0:
        raise DataError(BAD_TEST_SIZE.format(value=test_size))
    y_arr = pd.Series(np.asarray(y)).reset_index(drop=True)
    n_missing = int(y_arr.isna().sum())
    if n_missing:
        raise DataError(OUTCOME_MISSING.format(count=n_missing))
    positions = np.arange(len(y_arr))

    if method == "stratified":
        try:
            train, test = train_test_split(
                positions,
                test_size=test_size,
                stratify=y_arr.to_numpy(),
                random_state=random_state,
            )
        except ValueError as exc:
            raise DataError(
                CANNOT_STRATIFY.format(kind="row", test_size=test_size, reason=_reason(exc))
            ) from exc
        return np.sort(train), np.sort(test)

    if groups is None:
        raise DataError(GROUPS_REQUIRED)
    group_arr = _validate_groups(groups, len(y_arr))
    codes, uniques = pd.factorize(group_arr)
    label = np.zeros(len(uniques), dtype=int)
    np.maximum.at(label, codes, y_arr.to_numpy(dtype=float).astype(int))
    try:
        _, test_groups = train_test_split(
            np.arange(len(uniques)),
            test_size=test_size,
            stratify=label,
            random_state=random_state,
        )
    except ValueError as exc:
        raise DataError(
            CANNOT_STRATIFY.format(kind="patient", test_size=test_size, reason=_reason(exc))
        ) from exc
    in_test = np.isin(codes, test_groups)
    logger.info("grouped split: %s patients, %s in the test set", len(uniques), len(test_groups))
    return positions[~in_test], positions[in_test]


def _reason(exc: ValueError) -> str:
    return " ".join(str(exc).split()).rstrip(".")


def _validate_groups(groups: Any, n: int) -> pd.Series:
    group_arr = pd.Series(np.asarray(groups, dtype=object))
    if len(group_arr) != n:
        raise DataError(GROUPS_LENGTH.format(got=len(group_arr), expected=n))
    n_missing = int(group_arr.isna().sum())
    if n_missing:
        raise DataError(GROUPS_MISSING.format(count=n_missing))
    return group_arr


def _column_name(values: Any, column: str | None, default: str) -> str:
    if column is not None:
        return column
    name = getattr(values, "name", None)
    return str(name) if name is not None else default


def _time_kind(series: pd.Series) -> str:
    """Return the dtype's kind, or pandas' inferred type of the values of an object column."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime-dtype"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool-dtype"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number-dtype"
    return str(pd.api.types.infer_dtype(series, skipna=True))


def parse_times(
    times: pd.Series | np.ndarray | Sequence[Any], *, column: str | None = None
) -> pd.Series:
    """Parse admission times into datetimes or numbers that sort in time order.

    Accepted: a datetime column (time-zone aware or not), Python ``date`` or
    ``datetime`` objects, ISO 8601 text (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM``,
    with or without a UTC offset; text with offsets is converted to UTC), and
    finite numbers (e.g. days since a reference date). Other text is refused
    rather than guessed, because a guessed day/month order would silently put
    admissions in the wrong order.

    Parameters
    ----------
    times : pandas.Series or array-like
        One admission time per row.
    column : str, optional
        The column's name for messages; default the Series name.

    Returns
    -------
    pandas.Series
        ``datetime64`` or ``float64`` values with a fresh ``RangeIndex``.

    Raises
    ------
    DataError
        If a value is missing, cannot be read as a time, or the column has
        another type (boolean, categories of other text).

    Examples
    --------
    >>> parse_times(["2020-03-01", "2020-01-15 08:30"]).dt.month.tolist()
    [3, 1]
    """
    name = _column_name(times, column, "time")
    series = times if isinstance(times, pd.Series) else pd.Series(np.asarray(times, dtype=object))
    series = series.reset_index(drop=True)
    if len(series) == 0:
        raise DataError(TIME_LENGTH.format(column=name))
    n_missing = int(series.isna().sum())
    if n_missing:
        raise DataError(TIME_MISSING.format(column=name, count=n_missing))
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(series.cat.categories.dtype)
    kind = _time_kind(series)
    if kind == "datetime-dtype":
        return series
    if kind in ("number-dtype", "integer", "floating", "mixed-integer-float"):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        bad = int((~np.isfinite(numbers.to_numpy())).sum())
        if bad:
            raise DataError(TIME_UNPARSABLE.format(column=name, count=bad))
        return numbers
    if kind in ("string", "date", "datetime", "datetime64"):
        # utc=True: text with different UTC offsets is put on one clock (naive UTC).
        stamps = pd.to_datetime(series, format="ISO8601", errors="coerce", utc=True)
        bad = int(stamps.isna().sum())
        if bad:
            raise DataError(TIME_UNPARSABLE.format(column=name, count=bad))
        return stamps.dt.tz_convert(None)
    raise DataError(TIME_NOT_TIMES.format(column=name, dtype=series.dtype))


def _format_time(value: Any) -> str | float:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    number = float(value)
    return int(number) if number.is_integer() else number  # type: ignore[return-value]


def time_range(
    times: pd.Series | np.ndarray | Sequence[Any], *, column: str | None = None
) -> dict[str, str | float]:
    """Return the earliest and latest admission time, as dates (or numbers).

    Only the two extremes are returned, at the resolution of a day, never a
    patient-level row; this is what a data manifest records of a temporal split.

    Parameters
    ----------
    times : pandas.Series or array-like
        Admission times (see :func:`parse_times`).
    column : str, optional
        The column's name for messages.

    Returns
    -------
    dict
        ``{"start": ..., "end": ...}``: ISO dates (``"YYYY-MM-DD"``) for
        datetimes, numbers for numeric times.

    Examples
    --------
    >>> time_range(["2020-03-01 10:00", "2019-12-31", "2020-01-15"])
    {'start': '2019-12-31', 'end': '2020-03-01'}
    """
    parsed = parse_times(times, column=column)
    return {"start": _format_time(parsed.min()), "end": _format_time(parsed.max())}


def split_temporal(
    times: pd.Series | np.ndarray | Sequence[Any],
    *,
    test_size: float = 0.3,
    groups: pd.Series | np.ndarray | Sequence[Any] | None = None,
    column: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Temporal validation split: train on earlier admissions, test on later ones.

    The units (rows, or patients when ``groups`` is given) are ordered by
    time. The cut is the time of the ``ceil(test_size * n_units)``-th latest
    unit; every unit at or after the cut is in the test split, every earlier
    unit in the training split. **Ties at the cut go to the test side**, so the
    test split can be a little larger than ``test_size`` but every training
    admission strictly precedes every test admission. There is no randomness.

    With ``groups`` (patient identifiers), a patient's time is that of their
    first admission and all their rows follow them, so no patient is on both
    sides; ``test_size`` is then a fraction of patients. (A patient first seen
    before the cut keeps their later admissions in the training split.)

    Parameters
    ----------
    times : pandas.Series or array-like
        Admission time of each row (see :func:`parse_times` for the accepted
        forms).
    test_size : float, default 0.3
        Fraction of rows (or patients) in the test split, in (0, 1).
    groups : pandas.Series or array-like, optional
        Patient identifier of each row.
    column : str, optional
        The time column's name for messages; default the Series name.

    Returns
    -------
    train_idx, test_idx : numpy.ndarray
        Sorted positional (0-based integer) indices into ``times``.

    Raises
    ------
    DataError
        If a time is missing or unreadable, ``test_size`` is out of range, the
        identifiers are inconsistent, or every unit is at the cut (nothing
        left to train on).

    Examples
    --------
    >>> train, test = split_temporal([5, 1, 4, 2, 3], test_size=0.4)
    >>> train.tolist(), test.tolist()
    ([1, 3, 4], [0, 2])
    """
    if not 0.0 < float(test_size) < 1.0:
        raise DataError(BAD_TEST_SIZE.format(value=test_size))
    name = _column_name(times, column, "time")
    parsed = parse_times(times, column=name)
    positions = np.arange(len(parsed))
    if groups is None:
        codes = positions
        unit_times = parsed
        unit = "row"
    else:
        codes, _ = pd.factorize(_validate_groups(groups, len(parsed)))
        unit_times = parsed.groupby(codes, sort=True).min()
        unit = "patient"
    n_units = len(unit_times)
    n_test = min(n_units, max(1, math.ceil(float(test_size) * n_units)))
    ordered = unit_times.sort_values(kind="stable")
    cut = ordered.iloc[n_units - n_test]
    in_test_unit = (unit_times >= cut).to_numpy()
    if in_test_unit.all():
        raise DataError(TIME_NO_TRAIN.format(column=name, unit=unit, cut=_format_time(cut)))
    in_test = in_test_unit[codes]
    logger.info(
        "temporal split on %s: %s of %s %ss at or after the cut in the test set",
        name,
        int(in_test_unit.sum()),
        n_units,
        unit,
    )
    return positions[~in_test], positions[in_test]


def split_by_site(
    sites: pd.Series | np.ndarray | Sequence[Any],
    *,
    test_sites: Sequence[Any],
    column: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """External validation split by site: the named sites are the test split.

    Rows of the sites in ``test_sites`` form the test split; rows of every
    other site the training split. Site names are compared as text, so
    ``test_sites=[3]`` matches a site column holding the integer 3. There is
    no randomness.

    Parameters
    ----------
    sites : pandas.Series or array-like
        The site (hospital, department) of each row.
    test_sites : sequence
        The sites held out for testing; at least one, and not all.
    column : str, optional
        The site column's name for messages; default the Series name.

    Returns
    -------
    train_idx, test_idx : numpy.ndarray
        Sorted positional (0-based integer) indices into ``sites``.

    Raises
    ------
    DataError
        If a site is missing, ``test_sites`` is empty, names a site that is not
        in the data (the message lists the sites there are), or names every site.

    Examples
    --------
    >>> train, test = split_by_site(["A", "B", "A", "C"], test_sites=["B", "C"])
    >>> train.tolist(), test.tolist()
    ([0, 2], [1, 3])
    """
    name = _column_name(sites, column, "site")
    series = sites if isinstance(sites, pd.Series) else pd.Series(np.asarray(sites, dtype=object))
    series = series.reset_index(drop=True)
    n_missing = int(series.isna().sum())
    if n_missing:
        raise DataError(SITE_MISSING.format(column=name, count=n_missing))
    wanted = list(dict.fromkeys(str(site) for site in test_sites))
    if not wanted:
        raise DataError(SITES_EMPTY.format(column=name))
    labels = series.astype(str)
    available = sorted(pd.unique(labels))
    unknown = [site for site in wanted if site not in set(available)]
    if unknown:
        listed = ", ".join(available[:_MAX_LISTED_SITES])
        if len(available) > _MAX_LISTED_SITES:
            listed += f", ... ({len(available)} in all)"
        raise DataError(
            UNKNOWN_SITES.format(
                unknown=", ".join(map(repr, unknown)), column=name, available=listed
            )
        )
    in_test = labels.isin(wanted).to_numpy()
    if in_test.all():
        raise DataError(NO_TRAIN_SITE.format(column=name))
    positions = np.arange(len(series))
    logger.info(
        "site split on %s: %s of %s sites in the test set", name, len(wanted), len(available)
    )
    return positions[~in_test], positions[in_test]
