"""Synthetic example profiles at percentiles of predicted risk, and their local explanations.

A model card explains three example patients: low, middle and high predicted
risk. They must never be real patients, so each is built from summaries: the
median of each numeric variable and the most frequent level of each other
variable, over the rows whose predicted risk lies in a narrow band around the
percentile (at least ``min_cell`` rows). A profile that still equals a row of
the data is moved off it: one numeric variable takes the midpoint between its
value and the next observed value, which no row holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation.explain._importance import variable_contributions
from clinai.evaluation.explain._results import ContributionItem, LocalExplanation
from clinai.evaluation.explain._shap import ShapValues
from clinai.exceptions import DataError

__all__ = [
    "PROFILE_PERCENTILES",
    "SyntheticProfiles",
    "explain_profiles",
    "synthetic_profiles",
]

#: Percentiles of predicted risk of the three example profiles.
PROFILE_PERCENTILES = (10.0, 50.0, 90.0)

Y_PROB_MSG = "y_prob has {n_prob} values but X has {n_rows} rows: pass one prediction per row"
PERCENTILE_MSG = "percentiles must lie in [0, 100]; got {value!r}"
NO_ROWS_MSG = "X has no rows: synthetic profiles need data to summarise"
PROFILE_COUNT_MSG = (
    "{name} has {n_rows} rows but there are {n_profiles} profiles: pass one per profile"
)


@dataclass(frozen=True, eq=False)
class SyntheticProfiles:
    """Synthetic profiles (not patients) at percentiles of predicted risk.

    Attributes
    ----------
    X : pandas.DataFrame
        One synthetic row per profile, with the columns of the data.
    percentiles : tuple of float
    target_risks : tuple of float
        The predicted-risk percentile each profile was built at.
    n_rows : tuple of int
        Rows summarised into each profile.
    """

    X: pd.DataFrame
    percentiles: tuple[float, ...]
    target_risks: tuple[float, ...]
    n_rows: tuple[int, ...]


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values.dtype)) and not bool(
        pd.api.types.is_bool_dtype(values.dtype)
    )


def _summary_row(band: pd.DataFrame) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in band.columns:
        values = band[column]
        if _numeric(values):
            median = pd.to_numeric(values, errors="coerce").median()
            row[column] = float(median) if pd.notna(median) else np.nan
        else:
            modes = values.mode(dropna=True)
            row[column] = modes.iloc[0] if len(modes) else values.iloc[0]
    return row


def _equal_rows(reference: pd.DataFrame, row: Mapping[str, Any]) -> np.ndarray:
    """Which rows of ``reference`` equal ``row`` in every column (missing equals missing)."""
    same = np.ones(len(reference), dtype=bool)
    for column in reference.columns:
        values = reference[column]
        value = row[column]
        if pd.isna(value):
            same &= values.isna().to_numpy()
        elif _numeric(values):
            same &= (pd.to_numeric(values, errors="coerce") == float(value)).to_numpy()
        else:
            same &= (values.astype(object) == value).fillna(False).to_numpy(dtype=bool)
    return same


def _move_off_data(row: dict[str, Any], reference: pd.DataFrame) -> bool:
    """Give one numeric variable a value no row holds; False when there is none to move."""
    candidates = [
        c
        for c in reference.columns
        if _numeric(reference[c])
        and pd.to_numeric(reference[c], errors="coerce").nunique() > 1
        and pd.notna(row[c])
    ]
    if not candidates:
        return False
    # the variable with the most distinct values moves the least
    column = max(candidates, key=lambda c: reference[c].nunique())
    observed = np.unique(pd.to_numeric(reference[column], errors="coerce").dropna().to_numpy())
    value = float(row[column])
    above, below = observed[observed > value], observed[observed < value]
    row[column] = (value + above[0]) / 2 if len(above) else (value + below[-1]) / 2
    return True


def synthetic_profiles(
    X: pd.DataFrame,
    y_prob: Any,
    *,
    percentiles: Sequence[float] = PROFILE_PERCENTILES,
    band: float = 5.0,
    min_cell: int = 5,
    reference: pd.DataFrame | None = None,
) -> SyntheticProfiles:
    """Build one synthetic profile at each percentile of predicted risk.

    For percentile ``p`` the rows whose predicted risk lies between the
    ``p - band`` and ``p + band`` percentiles are summarised (at least the
    ``min_cell`` rows nearest in risk to the ``p`` percentile): numeric
    variables by their median, other variables by their most frequent level.
    If the result equals a row of ``reference`` (default ``X``), the numeric
    variable with the most distinct values is set to the midpoint between its
    value and the nearest other observed value, so no row equals the profile.
    When there is no numeric variable to move, the profile is dropped.

    Parameters
    ----------
    X : pandas.DataFrame
        Clinical variables of the rows (e.g. the test set).
    y_prob : array-like of shape (n,)
        Predicted risk of each row.
    percentiles : sequence of float, default=(10, 50, 90)
    band : float, default=5.0
        Half-width of the band, in percentile points.
    min_cell : int, default=5
        Fewest rows summarised into a profile.
    reference : pandas.DataFrame, optional
        Rows no profile may equal (e.g. training and test rows together); default ``X``.

    Returns
    -------
    SyntheticProfiles

    Raises
    ------
    DataError
        If ``X`` is empty, ``y_prob`` has the wrong length or a percentile is outside [0, 100].
    """
    if len(X) == 0:
        raise DataError(NO_ROWS_MSG)
    risk = np.asarray(y_prob, dtype="float64").ravel()
    if len(risk) != len(X):
        raise DataError(Y_PROB_MSG.format(n_prob=len(risk), n_rows=len(X)))
    frame = X.reset_index(drop=True)
    ref = frame if reference is None else reference.reset_index(drop=True)[list(frame.columns)]
    rows, kept, targets, counts = [], [], [], []
    for p in percentiles:
        if not 0 <= float(p) <= 100:
            raise DataError(PERCENTILE_MSG.format(value=p))
        target = float(np.percentile(risk, p))
        low, high = np.percentile(risk, [max(0.0, p - band), min(100.0, p + band)])
        in_band = np.flatnonzero((risk >= low) & (risk <= high))
        if len(in_band) < min_cell:
            in_band = np.argsort(np.abs(risk - target), kind="stable")[:min_cell]
        row = _summary_row(frame.iloc[in_band])
        if _equal_rows(ref, row).any() and not _move_off_data(row, ref):
            continue  # every variable categorical and the combination exists: not synthetic
        rows.append(row)
        kept.append(float(p))
        targets.append(target)
        counts.append(len(in_band))
    out = pd.DataFrame(rows, columns=frame.columns)
    for column in frame.columns:
        if not _numeric(frame[column]):
            out[column] = out[column].astype(frame[column].dtype)
    return SyntheticProfiles(out, tuple(kept), tuple(targets), tuple(counts))


def explain_profiles(
    profiles: SyntheticProfiles,
    *,
    predicted_risk: Any,
    shap: ShapValues,
    feature_to_variable: Mapping[str, str],
    top_k: int = 5,
) -> tuple[LocalExplanation, ...]:
    """Local explanations of synthetic profiles: the top contributions by clinical variable.

    The contribution of variable ``v`` to a profile is the sum of the SHAP
    values of its encoded columns; ``direction`` says whether it pushes the
    predicted risk up (``"raises"``) or down (``"lowers"``) from the base value.

    Parameters
    ----------
    profiles : SyntheticProfiles
        From :func:`synthetic_profiles`.
    predicted_risk : array-like of shape (n_profiles,)
        The model's predicted risk of each profile.
    shap : ShapValues
        SHAP values of the profiles (every profile explained, in order).
    feature_to_variable : Mapping[str, str]
        Clinical variable of each encoded column.
    top_k : int, default=5
        Contributions kept per profile, by absolute size.

    Returns
    -------
    tuple of LocalExplanation

    Raises
    ------
    DataError
        If the number of predictions or SHAP rows differs from the number of profiles.
    """
    n = len(profiles.X)
    risk = np.asarray(predicted_risk, dtype="float64").ravel()
    if len(risk) != n:
        raise DataError(
            PROFILE_COUNT_MSG.format(name="predicted_risk", n_rows=len(risk), n_profiles=n)
        )
    if shap.values.shape[0] != n:
        raise DataError(
            PROFILE_COUNT_MSG.format(name="shap", n_rows=shap.values.shape[0], n_profiles=n)
        )
    variables, contributions, _ = variable_contributions(
        shap.values, feature_names=shap.feature_names, feature_to_variable=feature_to_variable
    )
    out = []
    for i in range(n):
        row = profiles.X.iloc[i]
        order = np.argsort(-np.abs(contributions[i]), kind="stable")[:top_k]
        items = tuple(
            ContributionItem(
                variable=variables[k],
                value=row[variables[k]] if variables[k] in row.index else None,
                contribution=float(contributions[i, k]),
                direction="raises"
                if contributions[i, k] > 0
                else ("lowers" if contributions[i, k] < 0 else "none"),
            )
            for k in order
        )
        out.append(
            LocalExplanation(
                percentile=profiles.percentiles[i],
                target_risk=profiles.target_risks[i],
                n_rows=profiles.n_rows[i],
                predicted_risk=float(risk[i]),
                base_value=shap.base_value,
                scale=shap.scale,
                profile=tuple((str(c), row[c]) for c in profiles.X.columns),
                contributions=items,
            )
        )
    return tuple(out)
