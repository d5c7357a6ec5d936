"""IPCW Brier score, index of prediction accuracy (IPA) and integrated Brier score.

O(n) after one sort by time: the cases (event by t) are the sorted rows before
``searchsorted(time, t)``, the controls the rows after. :func:`_brier_from_sorted`
takes per-row weights, so a bootstrap replicate reuses the sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import _num
from clinai.evaluation.survival._horizons import prepare_horizons
from clinai.evaluation.survival._kaplan_meier import (
    KaplanMeier,
    SortedSurvival,
    _survival_at_unique,
    _value_at,
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
class SurvivalBrier:
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

    def to_dict(self) -> dict[str, float | None]:
        """Return the four numbers as plain JSON (NaN -> None)."""
        return {
            "t": _num(self.t),
            "brier": _num(self.brier),
            "null_brier": _num(self.null_brier),
            "ipa": _num(self.ipa),
        }


@dataclass(frozen=True)
class IntegratedBrier:
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

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as plain JSON (tuples as lists, NaN -> None)."""
        return {
            "times": [float(t) for t in self.times],
            "brier": [_num(b) for b in self.brier],
            "null_brier": [_num(b) for b in self.null_brier],
            "integrated": _num(self.integrated),
            "null_integrated": _num(self.null_integrated),
            "ipa": _num(self.ipa),
        }


def _inverse(values: np.ndarray) -> np.ndarray:
    """1 / G, and 0 where G is 0 (scikit-survival's choice: those rows add nothing)."""
    return np.divide(1.0, values, out=np.zeros_like(values), where=values > 0)


def _brier_from_sorted(
    data: SortedSurvival,
    sorted_risk: np.ndarray,
    t: float,
    censoring_unique: np.ndarray,
    weights: np.ndarray | None = None,
    survival_unique: np.ndarray | None = None,
) -> tuple[float, float]:
    """(model Brier, null Brier) at ``t``; all arrays in time order.

    ``censoring_unique`` is G at each distinct time (from these data or mapped
    from another G); ``survival_unique`` the Kaplan-Meier for the null model
    (computed from ``weights`` when None).
    """
    w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=float)
    split = int(np.searchsorted(data.time, t, side="right"))
    case_weight = np.where(data.event[:split], w[:split], 0.0) * _inverse(
        censoring_unique[data.group[:split]]
    )
    control_weight = w[split:] * _inverse(np.array([_value_at(data.unique, censoring_unique, t)]))
    total = w.sum()
    model = (
        np.dot(case_weight, np.square(1.0 - sorted_risk[:split]))
        + np.dot(control_weight, np.square(sorted_risk[split:]))
    ) / total
    if survival_unique is None:
        survival_unique = _survival_at_unique(data, weights)
    null_risk = 1.0 - _value_at(data.unique, survival_unique, t)
    null = (
        case_weight.sum() * (1.0 - null_risk) ** 2 + control_weight.sum() * null_risk**2
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
    """
    data, horizons, sorted_risk, g_unique = prepare_horizons(
        time, event, risk, t, censoring, name="t"
    )
    brier, null = _brier_from_sorted(data, sorted_risk[:, 0], float(horizons[0]), g_unique)
    return SurvivalBrier(t=float(horizons[0]), brier=brier, null_brier=null, ipa=_ipa(brier, null))


def index_of_prediction_accuracy(
    time: Any, event: Any, risk: Any, t: float, *, censoring: KaplanMeier | None = None
) -> float:
    """IPA = 1 - BS(t) / BS_0(t) at a horizon (see :func:`ipcw_brier_score`).

    [Kattan & Gerds 2018, Diagn Progn Res 2:7.] 1 is perfect, 0 no better than
    the Kaplan-Meier risk for everyone, below 0 worse.
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
    """
    data, horizons, sorted_risk, g_unique = prepare_horizons(time, event, risk, times, censoring)
    if horizons.shape[0] < 2:
        raise DataError(TWO_TIMES_MSG.format(count=horizons.shape[0]))
    survival_unique = _survival_at_unique(data)
    pairs = np.array(
        [
            _brier_from_sorted(
                data, sorted_risk[:, k], float(t), g_unique, survival_unique=survival_unique
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
