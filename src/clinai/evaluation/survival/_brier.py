"""IPCW Brier score, index of prediction accuracy (IPA) and integrated Brier score.

O(n) after one sort by time: the cases (event by t) are among the sorted rows
before ``searchsorted(time, t)``, the controls the rows after
(:func:`_prepare_brier`, once per horizon). :func:`_brier_from_prepared` takes
per-row weights, so a bootstrap replicate reuses the sort and the losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation.survival._horizons import prepare_horizons
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    SortedSurvival,
    _survival_at_unique,
)
from clinai.exceptions import DataError

__all__ = [
    "IntegratedBrier",
    "SurvivalBrier",
    "index_of_prediction_accuracy",
    "integrated_brier_score",
    "ipcw_brier_score",
]

TWO_TIMES_MSG = "times must hold at least two distinct horizons to integrate over; got {count}"


@dataclass(frozen=True)
class SurvivalBrier(FieldsRecord):
    """IPCW Brier score at a horizon, of the model and of the null model.

    Parameters
    ----------
    t : float
        The horizon.
    brier : float
        The model's IPCW Brier score at ``t`` (0 best).
    null_brier : float
        The Brier score of the null model, which predicts the Kaplan-Meier risk
        1 - S(t) for everyone.
    ipa : float
        Index of prediction accuracy, 1 - brier / null_brier (1 best, 0 no
        better than the null model, negative worse); NaN when null_brier is 0.
    """

    t: float
    brier: float
    null_brier: float
    ipa: float


@dataclass(frozen=True)
class IntegratedBrier(FieldsRecord):
    """Brier scores over a grid of horizons and their time averages.

    Parameters
    ----------
    times : tuple of float
        The horizons, ascending.
    brier, null_brier : tuple of float
        IPCW Brier score of the model and of the Kaplan-Meier null model at each.
    integrated, null_integrated : float
        Trapezoidal integral over ``times`` divided by the range of ``times``
        (scikit-survival's ``integrated_brier_score``).
    ipa : float
        1 - integrated / null_integrated.
    """

    times: tuple[float, ...]
    brier: tuple[float, ...]
    null_brier: tuple[float, ...]
    integrated: float
    null_integrated: float
    ipa: float


@dataclass(frozen=True, eq=False)
class _BrierInputs:
    """One horizon's Brier score, prepared once: who is a case, who a control, their losses.

    Nothing here changes between bootstrap replicates; a replicate brings its row
    weights (time order), its G and its Kaplan-Meier.
    """

    split: int  # sorted rows before it have T <= t (cases or censored), after it controls
    case_rows: np.ndarray  # sorted rows with an event by t
    case_group: np.ndarray  # index of their times in data.unique
    case_loss: np.ndarray  # (1 - r_i)^2
    control_loss: np.ndarray  # r_j^2 of the rows from ``split`` on
    t_index: int  # index in data.unique of the last time <= t (-1: none)


def _prepare_brier(data: SortedSurvival, sorted_risk: np.ndarray, t: float) -> _BrierInputs:
    """Mark cases and controls at ``t`` (rows in time order) and their squared errors."""
    split = int(np.searchsorted(data.time, t, side="right"))
    case_rows = np.flatnonzero(data.event[:split])
    return _BrierInputs(
        split=split,
        case_rows=case_rows,
        case_group=data.group[case_rows],
        case_loss=np.square(1.0 - sorted_risk[case_rows]),
        control_loss=np.square(sorted_risk[split:]),
        t_index=int(np.searchsorted(data.unique, t, side="right")) - 1,
    )


def _brier_from_prepared(
    inputs: _BrierInputs,
    censoring_unique: np.ndarray,
    survival_unique: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """Return (model Brier, null Brier) of a prepared horizon; O(cases + controls).

    ``censoring_unique`` and ``survival_unique``: G and the Kaplan-Meier (for the
    null model's risk 1 - S(t)) at each distinct time, of the same weights. A
    case with G(T_i) = 0 adds nothing (scikit-survival's choice).
    """
    n = inputs.split + inputs.control_loss.shape[0]
    g = censoring_unique[inputs.case_group]
    inverse_g = np.divide(1.0, g, out=np.zeros_like(g), where=g > 0)
    g_t = censoring_unique[inputs.t_index] if inputs.t_index >= 0 else 1.0
    inverse_g_t = 1.0 / g_t if g_t > 0 else 0.0
    if weights is None:
        case_weight, control_total, total = inverse_g, float(inputs.control_loss.shape[0]), n
        control_loss = float(inputs.control_loss.sum())
    else:
        case_weight = weights[inputs.case_rows] * inverse_g
        control_weights = weights[inputs.split :]
        control_total, total = float(control_weights.sum()), float(weights.sum())
        control_loss = float(np.dot(control_weights, inputs.control_loss))
    if total <= 0:
        return float("nan"), float("nan")
    model = (np.dot(case_weight, inputs.case_loss) + inverse_g_t * control_loss) / total
    null_risk = 1.0 - (survival_unique[inputs.t_index] if inputs.t_index >= 0 else 1.0)
    null = (
        case_weight.sum() * (1.0 - null_risk) ** 2 + inverse_g_t * control_total * null_risk**2
    ) / total
    return float(model), float(null)


def _ipa(brier: float, null: float) -> float:
    return 1.0 - brier / null if null > 0 else float("nan")


@fill_doc
def ipcw_brier_score(
    time: Any, event: Any, risk: Any, t: float, *, censoring: KaplanMeier | None = None
) -> SurvivalBrier:
    """IPCW Brier score at a horizon, with the null model's and the IPA.

    BS(t) = (1/n) sum_i [ (1 - r_i)^2 1(T_i <= t, D_i = 1) / G(T_i)
    + r_i^2 1(T_i > t) / G(t) ], r_i the predicted risk by t; patients censored
    before t enter only through the weights [Graf et al. 1999, Stat Med
    18:2529; Gerds & Schumacher 2006, Biom J 48:1029]. G(T_i) is the
    right-continuous value (scikit-survival's convention; see
    :func:`censoring_survival`). IPA = 1 - BS(t) / BS_0(t), BS_0 the Brier score
    of the Kaplan-Meier risk 1 - S(t) given to everyone [Kattan & Gerds 2018,
    Diagn Progn Res 2:7]. The Brier score equals scikit-survival's
    ``brier_score`` (which takes survival 1 - r).

    Parameters
    ----------
    {time}
    {event}
    risk : array-like of shape (n,)
        Predicted absolute risk of the event by ``t``, in [0, 1].
    t : float
        The horizon, within follow-up (first time <= t < last time).
    {censoring}

    Returns
    -------
    SurvivalBrier

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> risk = [0.6, 0.2, 0.5, 0.45, 0.1, 0.3, 0.35, 0.1]
    >>> result = ipcw_brier_score(time, event, risk, 6)
    >>> round(result.brier, 4), round(result.null_brier, 4), round(result.ipa, 4)
    (0.2059, 0.249, 0.1732)
    """
    data, horizons, sorted_risk, g_unique = prepare_horizons(
        time, event, risk, t, censoring, name="t"
    )
    inputs = _prepare_brier(data, sorted_risk[:, 0], float(horizons[0]))
    brier, null = _brier_from_prepared(inputs, g_unique, _survival_at_unique(data))
    return SurvivalBrier(t=float(horizons[0]), brier=brier, null_brier=null, ipa=_ipa(brier, null))


def index_of_prediction_accuracy(
    time: Any, event: Any, risk: Any, t: float, *, censoring: KaplanMeier | None = None
) -> float:
    """IPA = 1 - BS(t) / BS_0(t) at a horizon (see :func:`ipcw_brier_score`).

    [Kattan & Gerds 2018, Diagn Progn Res 2:7.] 1 is perfect, 0 no better than
    the Kaplan-Meier risk for everyone, below 0 worse.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> risk = [0.6, 0.2, 0.5, 0.45, 0.1, 0.3, 0.35, 0.1]
    >>> round(index_of_prediction_accuracy(time, event, risk, 6), 4)
    0.1732
    """
    return ipcw_brier_score(time, event, risk, t, censoring=censoring).ipa


@fill_doc
def integrated_brier_score(
    time: Any,
    event: Any,
    risk: Any,
    times: Any,
    *,
    censoring: KaplanMeier | None = None,
) -> IntegratedBrier:
    """Integrated IPCW Brier score over a grid of horizons.

    IBS = (1 / (t_K - t_1)) * integral_{t_1}^{t_K} BS(t) dt by the trapezoidal
    rule over the grid [Graf et al. 1999, Stat Med 18:2529]; equals
    scikit-survival's ``integrated_brier_score``. The null model's integral and
    the integrated IPA come with it.

    Parameters
    ----------
    {time}
    {event}
    risk : array-like of shape (n, len(times))
        Predicted risk by each horizon, one column per horizon (ascending).
    times : array-like
        At least two distinct horizons within follow-up.
    {censoring}

    Returns
    -------
    IntegratedBrier

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> event = [1, 1, 0, 1, 0, 1, 0, 0]
    >>> import numpy as np
    >>> risk = np.array([0.6, 0.2, 0.5, 0.45, 0.1, 0.3, 0.35, 0.1])
    >>> by_horizon = np.column_stack([0.8 * risk, risk, np.minimum(1.2 * risk, 1)])
    >>> result = integrated_brier_score(time, event, by_horizon, [4, 6, 8])
    >>> round(result.integrated, 4), round(result.ipa, 4)
    (0.2104, 0.1083)
    """
    data, horizons, sorted_risk, g_unique = prepare_horizons(time, event, risk, times, censoring)
    if horizons.shape[0] < 2:
        raise DataError(TWO_TIMES_MSG.format(count=horizons.shape[0]))
    survival_unique = _survival_at_unique(data)
    pairs = np.array(
        [
            _brier_from_prepared(
                _prepare_brier(data, sorted_risk[:, k], float(t)), g_unique, survival_unique
            )
            for k, t in enumerate(horizons)
        ]
    )
    span = horizons[-1] - horizons[0]
    integrated = float(np.trapezoid(pairs[:, 0], horizons) / span)
    null_integrated = float(np.trapezoid(pairs[:, 1], horizons) / span)
    return IntegratedBrier(
        times=tuple(float(t) for t in horizons),
        brier=tuple(float(b) for b in pairs[:, 0]),
        null_brier=tuple(float(b) for b in pairs[:, 1]),
        integrated=integrated,
        null_integrated=null_integrated,
        ipa=_ipa(integrated, null_integrated),
    )
