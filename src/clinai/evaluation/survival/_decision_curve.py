"""Decision curve at a horizon with Kaplan-Meier net benefit (Vickers et al. 2008).

At threshold p_t a patient is treated (flagged) when their predicted risk by the
horizon t is >= p_t. With censoring the true and false positives are estimated
from the Kaplan-Meier risk among the treated [Vickers, Cronin, Elkin & Gonen
2008, BMC Med Inform Decis Mak 8:53]:

    NB(p_t) = F_above(t) P(above) - (1 - F_above(t)) P(above) p_t / (1 - p_t)

where P(above) is the share of patients with risk >= p_t and F_above(t) = 1 -
KM_above(t), the Kaplan-Meier risk by t among them. Treating all has
``F(t) - (1 - F(t)) p_t / (1 - p_t)`` with F the Kaplan-Meier risk of everyone;
treating none has 0. With competing events (``cause``) F is the Aalen-Johansen
cumulative incidence of the cause (a patient who had a competing event by t is
a "non-event"). Without censoring before t the net benefit equals the binary one
of the outcome ``time <= t and event`` (:func:`clinai.evaluation.net_benefit`).

Where every treated patient's follow-up ends before t while the Kaplan-Meier is
above 0, its last value is carried forward (the estimator is flat where nobody is
at risk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import FieldsRecord, _num
from clinai.evaluation._inputs import check_thresholds
from clinai.evaluation.survival._calibration import check_at_horizon
from clinai.evaluation.survival._kaplan_meier import (
    SortedSurvival,
    _aalen_johansen_sorted,
    sort_survival,
)
from clinai.evaluation.thresholds._decision_curve import DEFAULT_DCA_THRESHOLDS

__all__ = ["SurvivalDecisionCurve", "SurvivalDecisionPoint", "survival_decision_curve"]


@dataclass(frozen=True)
class SurvivalDecisionPoint(FieldsRecord):
    """Net benefit at one threshold.

    Attributes
    ----------
    threshold : float
        Risk threshold p_t.
    net_benefit, net_benefit_treat_all, net_benefit_treat_none : float
        Net benefit of treating those with risk >= p_t, everybody, nobody (0).
    proportion_above : float
        Share of patients with risk >= p_t.
    observed_risk_above : float
        Kaplan-Meier (or Aalen-Johansen) risk by t among them (NaN when none).
    """

    threshold: float
    net_benefit: float
    net_benefit_treat_all: float
    net_benefit_treat_none: float
    proportion_above: float
    observed_risk_above: float


@dataclass(frozen=True)
class SurvivalDecisionCurve:
    """Decision curve at horizon t.

    Attributes
    ----------
    horizon : float
        The horizon t.
    observed_risk : float
        Kaplan-Meier (or Aalen-Johansen) risk by t of everybody.
    points : tuple of SurvivalDecisionPoint
        One per threshold, in the order given.
    cause : int or None
        The cause with competing events, else None.
    """

    horizon: float
    observed_risk: float
    points: tuple[SurvivalDecisionPoint, ...]
    cause: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"horizon", "observed_risk", "cause", "points": [...]}``."""
        return {
            "horizon": _num(self.horizon),
            "observed_risk": _num(self.observed_risk),
            "cause": self.cause,
            "points": [point.to_dict() for point in self.points],
        }


def _risk_by(unique: np.ndarray, incidence: np.ndarray, t: float) -> float:
    index = int(np.searchsorted(unique, t, side="right")) - 1
    return 0.0 if index < 0 else float(incidence[index])


def _up_to(data: SortedSurvival, t: float) -> SortedSurvival:
    """Return the rows of ``data`` with time <= t and one censored row for all later rows.

    Its weight (given per call) is the number of later rows counted; the Kaplan-Meier and
    Aalen-Johansen estimates up to t are the same as on all rows.
    """
    n_groups = int(np.searchsorted(data.unique, t, side="right"))
    rows = int(data.starts[n_groups]) if n_groups < data.starts.shape[0] else data.n
    later = data.time[-1]  # t is below the last follow-up time, so this is after t
    return SortedSurvival(
        order=data.order[: rows + 1],  # not used by the estimators
        time=np.append(data.time[:rows], later),
        event=np.append(data.event[:rows], 0).astype(data.event.dtype),
        unique=np.append(data.unique[:n_groups], later),
        group=np.append(data.group[:rows], n_groups),
        starts=np.append(data.starts[:n_groups], rows),
    )


def survival_decision_curve(
    time: Any,
    event: Any,
    risk: Any,
    *,
    t: float,
    thresholds: Sequence[float] | np.ndarray | None = None,
    cause: int | None = None,
) -> SurvivalDecisionCurve:
    """Net benefit at horizon ``t`` of the model, treat-all and treat-none.

    See the module docstring for the definition (Vickers et al. 2008). The data
    are sorted once; the risk among those above each threshold is the
    Kaplan-Meier (or Aalen-Johansen) estimator of
    :mod:`~clinai.evaluation.survival._kaplan_meier` with weight 1 for a patient
    above and 0 for one below, so no threshold sorts again.

    Parameters
    ----------
    time, event, risk, t, cause
        As :func:`~clinai.evaluation.survival.survival_oe_ratio`: follow-up, event
        (or codes with ``cause``), predicted risk by the horizon ``t``.
    thresholds : sequence of float, optional
        Thresholds strictly between 0 and 1; default 0.01, 0.02, ..., 0.50.

    Returns
    -------
    SurvivalDecisionCurve
        The curve; ``to_dict()`` gives plain JSON.

    Raises
    ------
    DataError
        Bad survival data, risk outside [0, 1], a horizon outside follow-up, no
        event before it, a threshold outside (0, 1).

    Examples
    --------
    >>> curve = survival_decision_curve(
    ...     [1, 2, 3, 4, 5], [1, 1, 0, 1, 0], [0.6, 0.5, 0.2, 0.4, 0.1], t=4, thresholds=[0.3]
    ... )
    >>> round(curve.points[0].net_benefit, 3)
    0.6
    """
    time_array, event_array, risk_array, horizon = check_at_horizon(time, event, risk, t, cause)
    grid = (
        DEFAULT_DCA_THRESHOLDS
        if thresholds is None
        else check_thresholds(thresholds, name="dca_thresholds")
    )
    k = 1 if cause is None else int(cause)
    codes = event_array if cause is not None else event_array.astype(np.int64)
    data = sort_survival(time_array, codes)
    n = data.n
    unique, incidence = _aalen_johansen_sorted(data, k)
    everyone = _risk_by(unique, incidence, horizon)
    # only the rows up to t matter one by one; those followed beyond t only count as at risk,
    # so they are pooled into one censored row after t, weighted by how many are above
    head = _up_to(data, horizon)
    sorted_risk = risk_array[data.order]
    head_risk, tail_risk = np.split(sorted_risk, [head.n - 1])
    points = []
    for threshold in grid:
        odds = threshold / (1.0 - threshold)
        above = (head_risk >= threshold).astype(float)
        beyond = float(np.count_nonzero(tail_risk >= threshold))
        share = (above.sum() + beyond) / n
        if share > 0:
            weights = np.append(above, beyond)
            _, incidence_above = _aalen_johansen_sorted(head, k, weights=weights)
            risk_above = _risk_by(head.unique, incidence_above, horizon)
            benefit = float(risk_above * share - (1.0 - risk_above) * share * odds)
        else:
            risk_above, benefit = float("nan"), 0.0
        points.append(
            SurvivalDecisionPoint(
                threshold=float(threshold),
                net_benefit=benefit,
                net_benefit_treat_all=float(everyone - (1.0 - everyone) * odds),
                net_benefit_treat_none=0.0,
                proportion_above=share,
                observed_risk_above=risk_above,
            )
        )
    return SurvivalDecisionCurve(
        horizon=horizon,
        observed_risk=everyone,
        points=tuple(points),
        cause=None if cause is None else k,
    )
