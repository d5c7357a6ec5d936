"""Alert burden: how many alerts the ward gets at a threshold, and the staff time they take.

A row is an alert when its predicted risk is at or above the threshold (``p >= t``,
counted as in :mod:`clinai.evaluation.thresholds`). With ``alerts = TP + FP``:

- alerts per 100 admissions = 100 * alerts / admissions (``admissions`` defaults to the
  number of rows, so with one row per admission it is alerts per 100 admissions; with
  hourly prediction times pass the number of stays);
- alerts per ward-day = alerts / ward_days (when ``ward_days`` is given);
- number needed to evaluate (NNE) = alerts / TP = 1 / PPV: the alerts a clinician
  answers per true event found (Romero-Brufau et al. 2015, *Appl Clin Inform*
  6(4):763-776); undefined (None) when no alert is a true event;
- staff hours = alerts * minutes_per_alert / 60 (when ``minutes_per_alert`` is given),
  and per ward-day when both are given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import FieldsRecord, _num
from clinai.evaluation._inputs import check_number, check_y
from clinai.evaluation.economics._net_monetary_benefit import check_model_thresholds
from clinai.evaluation.thresholds._decision_curve import _flag_counts

__all__ = ["AlertBurden", "AlertBurdenPoint", "alert_burden"]

POSITIVE_MSG = "{name} must be a finite number > 0; got {value!r}"


@dataclass(frozen=True)
class AlertBurdenPoint(FieldsRecord):
    """The alert burden at one threshold (NaN where its input was not given)."""

    threshold: float
    alerts: int
    true_alerts: int
    alerts_per_100_admissions: float
    alerts_per_ward_day: float
    ppv: float
    number_needed_to_evaluate: float
    staff_hours: float
    staff_hours_per_ward_day: float


@dataclass(frozen=True)
class AlertBurden:
    """Alert burden at each threshold, with the inputs it was computed from."""

    n: int
    admissions: int
    ward_days: float | None
    minutes_per_alert: float | None
    points: tuple[AlertBurdenPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n", "admissions", "ward_days", "minutes_per_alert", "thresholds"}``."""
        return {
            "n": self.n,
            "admissions": self.admissions,
            "ward_days": _num(self.ward_days),
            "minutes_per_alert": _num(self.minutes_per_alert),
            "thresholds": [point.to_dict() for point in self.points],
        }


def _optional_positive(value: Any, name: str) -> float | None:
    if value is None:
        return None
    return check_number(value, POSITIVE_MSG.format(name=name, value=value), 0.0, math.inf)


@fill_doc
def alert_burden(
    y_true: Any,
    y_prob: Any,
    thresholds: float | Sequence[float] | np.ndarray,
    *,
    minutes_per_alert: float | None = None,
    ward_days: float | None = None,
    admissions: int | None = None,
) -> AlertBurden:
    """Alerts per 100 admissions and per ward-day, number needed to evaluate, staff hours.

    See the module docstring for the definitions.

    Parameters
    ----------
    {y_true}
    {y_prob}
    thresholds : float or sequence of float
        Risk thresholds, each strictly between 0 and 1.
    minutes_per_alert : float, optional
        Staff minutes spent answering one alert (> 0); gives the staff hours.
    ward_days : float, optional
        Ward-days (beds x days) the rows cover (> 0); gives the rates per ward-day.
    admissions : int, optional
        Admissions the rows come from (> 0); default the number of rows.

    Returns
    -------
    AlertBurden

    Raises
    ------
    DataError
        On invalid or one-class input, a threshold outside (0, 1), or a non-positive
        ``minutes_per_alert``, ``ward_days`` or ``admissions``.

    Examples
    --------
    >>> burden = alert_burden([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0.3], minutes_per_alert=20)
    >>> point = burden.points[0]
    >>> point.alerts, point.number_needed_to_evaluate, point.staff_hours
    (3, 1.5, 1.0)
    """
    y, p = check_y(y_true, y_prob)
    grid = check_model_thresholds(thresholds)
    minutes = _optional_positive(minutes_per_alert, "minutes_per_alert")
    days = _optional_positive(ward_days, "ward_days")
    stays = _optional_positive(admissions, "admissions")
    n_admissions = int(y.shape[0]) if stays is None else int(stays)
    tp, fp = _flag_counts(y, p, grid)
    points = []
    for t, true_count, false_count in zip(grid, tp, fp, strict=True):
        true_alerts, alerts = int(true_count), int(true_count + false_count)
        hours = math.nan if minutes is None else alerts * minutes / 60.0
        per_day = math.nan if days is None else 1.0 / days
        points.append(
            AlertBurdenPoint(
                threshold=float(t),
                alerts=alerts,
                true_alerts=true_alerts,
                alerts_per_100_admissions=100.0 * alerts / n_admissions,
                alerts_per_ward_day=alerts * per_day,
                ppv=true_alerts / alerts if alerts else math.nan,
                number_needed_to_evaluate=alerts / true_alerts if true_alerts else math.nan,
                staff_hours=hours,
                staff_hours_per_ward_day=hours * per_day,
            )
        )
    return AlertBurden(int(y.shape[0]), n_admissions, days, minutes, tuple(points))
