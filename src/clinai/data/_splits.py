"""Train/test splits: stratified by outcome, or grouped by patient."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = ["split_train_test"]

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
                positions, test_size=test_size, stratify=y_arr.to_numpy(),
                random_state=random_state,
            )
        except ValueError as exc:
            raise DataError(
                CANNOT_STRATIFY.format(kind="row", test_size=test_size, reason=_reason(exc))
            ) from exc
        return np.sort(train), np.sort(test)

    if groups is None:
        raise DataError(GROUPS_REQUIRED)
    group_arr = pd.Series(np.asarray(groups, dtype=object))
    if len(group_arr) != len(y_arr):
        raise DataError(GROUPS_LENGTH.format(got=len(group_arr), expected=len(y_arr)))
    n_missing = int(group_arr.isna().sum())
    if n_missing:
        raise DataError(GROUPS_MISSING.format(count=n_missing))
    codes, uniques = pd.factorize(group_arr)
    label = np.zeros(len(uniques), dtype=int)
    np.maximum.at(label, codes, y_arr.to_numpy(dtype=float).astype(int))
    try:
        _, test_groups = train_test_split(
            np.arange(len(uniques)), test_size=test_size, stratify=label,
            random_state=random_state,
        )
    except ValueError as exc:
        raise DataError(
            CANNOT_STRATIFY.format(kind="patient", test_size=test_size, reason=_reason(exc))
        ) from exc
    in_test = np.isin(codes, test_groups)
    logger.info(
        "grouped split: %s patients, %s in the test set", len(uniques), len(test_groups)
    )
    return positions[~in_test], positions[in_test]


def _reason(exc: ValueError) -> str:
    return " ".join(str(exc).split()).rstrip(".")
