"""Net monetary benefit (NMB) of acting on a prediction model, per 1,000 patients.

Definitions after predictNMB (Parsons R, Blythe R, Cramb SM, McPhail SM. predictNMB:
an R package to estimate if or when a clinical prediction model is worthwhile. *Journal
of Open Source Software* 2023; 8(84):5328, doi:10.21105/joss.05328). A patient is
flagged (alerted, then treated) when the score is at or above the threshold. With the
per-patient costs and health effects valued in money at the willingness to pay (WTP) per
QALY, and ``harm = cost_outcome + qalys_lost_per_event * WTP`` the monetary value of one
outcome event, each patient contributes:

- true positive (flagged event): ``-cost_alert - (1 - RRR) * harm`` (the alert is paid
  and the intervention prevents a share RRR of the event);
- false positive (flagged non-event): ``-cost_alert``;
- false negative (missed event): ``-harm``;
- true negative: ``0``.

The NMB of a strategy is the mean over the patients, times 1,000:
``NMB = 1000 / n * (-cost_alert * (TP + FP) - harm * (FN + (1 - RRR) * TP))``.
Treating none flags nobody (``-harm`` per event); treating all flags everybody. A
strategy is better than another when its NMB is higher; the *incremental* NMB is the
NMB minus that of treating none (money saved per 1,000 patients by the strategy).
The counts are those of :mod:`clinai.evaluation.thresholds` (flag when ``p >= t``).

The unit is a patient: with one row per patient as given; with several rows per patient
(hourly prediction times) pass ``patient_ids``, and a patient is an event when any of their
rows is and is flagged (one response, one ``cost_alert``) when any row's score reaches the
threshold. Counting rows as patients would count one event once for every hour before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import _num
from clinai.evaluation._inputs import (
    check_number,
    check_patient_ids,
    check_score,
    check_thresholds,
    check_y,
)
from clinai.evaluation.thresholds._decision_curve import _flag_counts
from clinai.exceptions import DataError

__all__ = [
    "EconomicParameters",
    "NetMonetaryBenefit",
    "Strategy",
    "StrategyNMB",
    "net_monetary_benefit",
]

#: NMB and alerts are reported per this many patients (rows).
PER_PATIENTS = 1000
#: A comparator score with at most this many distinct values is cut at each of them.
MAX_COMPARATOR_CUTS = 50

PARAMETER_MSG = "economic parameter {name} must be a finite number {bound}; got {value!r}"
CURRENCY_MSG = "currency must be a three-letter code such as DKK; got {value!r}"
COMPARATOR_MSG = (
    "comparator {name!r} must be a score array, or a pair (scores, thresholds); got {kind}"
)
NO_THRESHOLDS_MSG = "thresholds is empty: give at least one risk threshold in (0, 1)"
COMPARATOR_CUTS_MSG = (
    "comparator {name!r} cut-points must be finite numbers (e.g. [5, 7] for NEWS2); got {value!r}"
)
COMPARATOR_NAME_MSG = (
    "comparator name {name!r} is reserved for a strategy of its own: rename the comparator"
)

#: Each economic parameter and the interval it must lie in, as the messages say it.
PARAMETER_BOUNDS: Mapping[str, tuple[float, float, str]] = {
    "cost_alert": (0.0, math.inf, ">= 0 (a cost)"),
    "cost_outcome": (0.0, math.inf, ">= 0 (a cost)"),
    "relative_risk_reduction": (0.0, 1.0, "in [0, 1] (a proportion)"),
    "qalys_lost_per_event": (0.0, math.inf, ">= 0"),
    "willingness_to_pay": (0.0, math.inf, ">= 0 (money per QALY)"),
}
#: Strategy kinds, in the order they are listed.
TREAT_NONE, TREAT_ALL, MODEL, COMPARATOR = "treat_none", "treat_all", "model", "comparator"
#: What one counted unit is: a row as given, or a patient (their rows combined).
ROW, PATIENT = "row", "patient"


def check_parameter(name: str, value: Any) -> float:
    """Return an economic parameter as a float, or raise a one-line ``DataError`` naming it."""
    low, high, bound = PARAMETER_BOUNDS[name]
    message = PARAMETER_MSG.format(name=name, bound=bound, value=value)
    number = check_number(value, message, -math.inf, math.inf)
    if not low <= number <= high:
        raise DataError(message)
    return number


@dataclass(frozen=True)
class EconomicParameters:
    """The point values of the economic model (money in ``currency``).

    Parameters
    ----------
    cost_alert : float
        Cost of responding to one alert (staff time, tests), >= 0.
    cost_outcome : float
        Cost of one outcome event (e.g. an ICU stay), >= 0.
    relative_risk_reduction : float
        Share of the events of flagged patients the response prevents, in [0, 1].
    qalys_lost_per_event : float
        Quality-adjusted life years lost per event, >= 0.
    willingness_to_pay : float
        Money per QALY gained the decision maker is willing to pay, >= 0.
    currency : str, default "DKK"
        Three-letter currency code of the money amounts.

    Raises
    ------
    DataError
        One line naming the parameter: a negative cost, a relative risk reduction outside
        [0, 1], a value that is not a finite number.
    """

    cost_alert: float
    cost_outcome: float
    relative_risk_reduction: float
    qalys_lost_per_event: float
    willingness_to_pay: float
    currency: str = "DKK"

    def __post_init__(self) -> None:
        for name in PARAMETER_BOUNDS:
            object.__setattr__(self, name, check_parameter(name, getattr(self, name)))
        if not (isinstance(self.currency, str) and len(self.currency) == 3):
            raise DataError(CURRENCY_MSG.format(value=self.currency))

    @property
    def harm_per_event(self) -> float:
        """Monetary value of one event: ``cost_outcome + qalys_lost_per_event * WTP``."""
        return self.cost_outcome + self.qalys_lost_per_event * self.willingness_to_pay

    def to_dict(self) -> dict[str, Any]:
        """Return the five parameters, ``currency`` and ``harm_per_event``."""
        out: dict[str, Any] = {
            k: _num(v) if k != "currency" else v for k, v in asdict(self).items()
        }
        out["harm_per_event"] = _num(self.harm_per_event)
        return out


@dataclass(frozen=True)
class Strategy:
    """Which strategy a result row is about.

    ``strategy`` is ``"treat_none"``, ``"treat_all"``, ``"model"`` or ``"comparator"``;
    ``name`` the model's or comparator's name; ``threshold`` the cut-point (a risk for the
    model, a score for a comparator; ``None`` for treat-none and treat-all); ``label``
    a short text such as ``"model >= 0.2"``.
    """

    strategy: str
    name: str
    label: str
    threshold: float | None

    def _identity(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "name": self.name,
            "label": self.label,
            "threshold": _num(self.threshold),
        }


@dataclass(frozen=True)
class StrategyNMB(Strategy):
    """One strategy's counts and net monetary benefit per 1,000 patients (see :class:`Strategy`)."""

    tp: int
    fp: int
    fn: int
    tn: int
    alerts_per_1000: float
    nmb_per_1000: float
    incremental_nmb_per_1000: float

    def to_dict(self) -> dict[str, Any]:
        """Return every field as plain JSON (NaN -> None)."""
        out = {**asdict(self), **self._identity()}
        for key in ("alerts_per_1000", "nmb_per_1000", "incremental_nmb_per_1000"):
            out[key] = _num(out[key])
        return out


@dataclass(frozen=True)
class NetMonetaryBenefit:
    """Net monetary benefit per 1,000 patients of each strategy (see the module docstring).

    Attributes
    ----------
    n : int
        Units counted: rows, or patients when ``patient_ids`` was given.
    events : int
        Units with the outcome.
    parameters : EconomicParameters
    strategies : tuple of StrategyNMB
        Treat-none, treat-all, the model at each threshold, each comparator at each of its
        cut-points, in that order.
    best : str
        Label of the strategy with the highest NMB (the first listed on a tie).
    best_model_threshold : float
        The model threshold with the highest NMB.
    unit : {"row", "patient"}
        What was counted: each row, or each patient (``patient_ids`` given).
    """

    n: int
    events: int
    parameters: EconomicParameters
    strategies: tuple[StrategyNMB, ...]
    best: str
    best_model_threshold: float
    unit: str = ROW

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON.

        Keys: ``n``, ``events``, ``unit``, ``per_patients``, ``parameters``,
        ``strategies``, ``best``, ``best_model_threshold``.
        """
        return {
            "n": self.n,
            "events": self.events,
            "unit": self.unit,
            "per_patients": PER_PATIENTS,
            "parameters": self.parameters.to_dict(),
            "strategies": [s.to_dict() for s in self.strategies],
            "best": self.best,
            "best_model_threshold": _num(self.best_model_threshold),
        }

    def strategy(self, label: str) -> StrategyNMB:
        """Return the strategy with this label (``"treat_all"``, ``"model >= 0.2"`` ...)."""
        return next(s for s in self.strategies if s.label == label)


@dataclass(frozen=True)
class _Strategies:
    """Flag counts of every strategy, computed once (the NMB is linear in the parameters)."""

    rows: tuple[Strategy, ...]
    tp: np.ndarray
    fp: np.ndarray
    n: int
    events: int
    unit: str

    @property
    def labels(self) -> tuple[str, ...]:
        """Each strategy's label."""
        return tuple(row.label for row in self.rows)

    def best_model_threshold(self, nmb: np.ndarray) -> float:
        """Return the model threshold with the highest of ``nmb`` (one value per strategy)."""
        model = [i for i, row in enumerate(self.rows) if row.strategy == MODEL]
        return float(self.rows[model[int(np.argmax(nmb[model]))]].threshold)  # type: ignore[arg-type]

    def result_fields(self, nmb: np.ndarray) -> dict[str, Any]:
        """Return the fields a result reads from the counts, the best strategy judged by ``nmb``.

        ``n``, ``events`` and ``unit`` (the sample), ``best`` and ``best_model_threshold``
        (by ``nmb``, one value per strategy): named as in :class:`NetMonetaryBenefit` and
        :class:`~clinai.evaluation.economics.SensitivityAnalysis`, which both take them.
        """
        return {
            "n": self.n,
            "events": self.events,
            "unit": self.unit,
            "best": self.labels[int(np.argmax(nmb))],
            "best_model_threshold": self.best_model_threshold(nmb),
        }

    def nmb_per_1000(
        self,
        cost_alert: np.ndarray,
        cost_outcome: np.ndarray,
        relative_risk_reduction: np.ndarray,
        qalys_lost_per_event: np.ndarray,
        willingness_to_pay: np.ndarray,
    ) -> np.ndarray:
        """NMB per 1,000 patients, shape (d, s), for d parameter sets (arrays of shape (d,))."""
        harm = (cost_outcome + qalys_lost_per_event * willingness_to_pay)[:, None]
        alerts = (self.tp + self.fp)[None, :]
        fn = (self.events - self.tp)[None, :]
        kept = (1.0 - relative_risk_reduction)[:, None] * self.tp[None, :]
        total = -cost_alert[:, None] * alerts - harm * (fn + kept)
        return np.asarray(total * (PER_PATIENTS / self.n), dtype="float64")


def _comparator_cuts(
    name: str, spec: Any, n: int, combine: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the comparator's scores (per unit) and cut-points (each but the lowest, or given)."""
    if isinstance(spec, tuple) and len(spec) == 2:
        scores = combine(check_score(spec[0], n, name=f"comparator {name!r}"))
        try:
            cuts = np.atleast_1d(np.asarray(spec[1], dtype="float64"))
        except (TypeError, ValueError) as exc:
            raise DataError(COMPARATOR_CUTS_MSG.format(name=name, value=spec[1])) from exc
        if cuts.ndim != 1 or cuts.size == 0 or not np.all(np.isfinite(cuts)):
            raise DataError(COMPARATOR_CUTS_MSG.format(name=name, value=spec[1]))
        return scores, np.unique(cuts)
    if isinstance(spec, str | bytes | Mapping) or np.ndim(spec) != 1:
        raise DataError(COMPARATOR_MSG.format(name=name, kind=type(spec).__name__))
    scores = combine(check_score(spec, n, name=f"comparator {name!r}"))
    values = np.unique(scores)
    if values.shape[0] > MAX_COMPARATOR_CUTS:
        values = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, MAX_COMPARATOR_CUTS - 1)))
    # the lowest value flags everybody: that is treat-all, listed once already
    return scores, values[values > scores.min()]


def check_model_thresholds(thresholds: Any) -> np.ndarray:
    """Return the model's thresholds: at least one, each strictly between 0 and 1."""
    grid = check_thresholds(thresholds)
    if grid.size == 0:
        raise DataError(NO_THRESHOLDS_MSG)
    return grid


def _highest_per_patient(patient_ids: Any, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """Return a function giving each patient's highest value of a row array (identity: no ids).

    A patient is an event when any row is, and is flagged when any row's score reaches the
    threshold, i.e. when the patient's highest score does.
    """
    if patient_ids is None:
        return lambda values: values
    codes = check_patient_ids(patient_ids, n)
    n_patients = int(codes.max()) + 1

    def combine(values: np.ndarray) -> np.ndarray:
        out = np.full(n_patients, -np.inf)
        np.maximum.at(out, codes, values)
        return out

    return combine


def _strategies(
    y_true: Any,
    y_prob: Any,
    thresholds: Any,
    comparators: Mapping[str, Any],
    *,
    patient_ids: Any = None,
    model_name: str = MODEL,
) -> _Strategies:
    """Validate the inputs and count TP and FP of every strategy once (per row or patient)."""
    y_rows, p_rows = check_y(y_true, y_prob)
    combine = _highest_per_patient(patient_ids, y_rows.shape[0])
    y, p = combine(y_rows), combine(p_rows)
    n, events = int(y.shape[0]), int(y.sum())
    rows = [Strategy(kind, kind, kind, None) for kind in (TREAT_NONE, TREAT_ALL)]
    tp_parts, fp_parts = [np.array([0, events])], [np.array([0, n - events])]
    scored = [(MODEL, model_name, p, check_model_thresholds(thresholds))]
    for name, spec in comparators.items():
        if name in (TREAT_NONE, TREAT_ALL, model_name):
            raise DataError(COMPARATOR_NAME_MSG.format(name=name))
        scored.append((COMPARATOR, name, *_comparator_cuts(name, spec, y_rows.shape[0], combine)))
    for kind, name, scores, cuts in scored:
        tp, fp = _flag_counts(y, scores, cuts)
        tp_parts.append(tp)
        fp_parts.append(fp)
        rows.extend(Strategy(kind, name, f"{name} >= {cut:g}", float(cut)) for cut in cuts)
    return _Strategies(
        tuple(rows),
        np.concatenate(tp_parts).astype("float64"),
        np.concatenate(fp_parts).astype("float64"),
        n,
        events,
        ROW if patient_ids is None else PATIENT,
    )


def _as_draws(parameters: EconomicParameters) -> dict[str, np.ndarray]:
    """Return the five parameters as arrays of one draw (the deterministic case)."""
    return {name: np.array([getattr(parameters, name)]) for name in PARAMETER_BOUNDS}


@fill_doc
def net_monetary_benefit(
    y_true: Any,
    y_prob: Any,
    thresholds: float | Sequence[float] | np.ndarray,
    parameters: EconomicParameters,
    *,
    comparators: Mapping[str, Any] | None = None,
    patient_ids: Any = None,
) -> NetMonetaryBenefit:
    """Net monetary benefit per 1,000 patients of the model, treat-none, treat-all, comparators.

    Per patient (predictNMB, Parsons et al. 2023, JOSS 8(84):5328), with
    ``harm = cost_outcome + qalys_lost_per_event * willingness_to_pay``:
    TP = ``-cost_alert - (1 - RRR) * harm``, FP = ``-cost_alert``, FN = ``-harm``,
    TN = ``0``; a patient is flagged when the score is at or above the threshold. The
    NMB is the mean over the patients times 1,000; the incremental NMB is the NMB minus
    that of treating none.

    Parameters
    ----------
    {y_true}
    {y_prob}
    thresholds : float or sequence of float
        The model's risk thresholds, each strictly between 0 and 1.
    parameters : EconomicParameters
        The point values of the costs, effect, QALYs and willingness to pay.
    comparators : mapping of str to array-like or (array-like, sequence of float), optional
        Scores in use today (e.g. ``{{"NEWS2": news2}}``; higher means higher risk), each
        judged at its own cut-points: the pair's second item, or else each distinct value
        of the score but the lowest (the 2nd to 98th percentiles when it has more than
        50 distinct values).
    patient_ids : array-like of shape (n,), optional
        Patient (or stay) of each row, when a patient has several rows (e.g. hourly
        prediction times): the patient is then the unit, an event when any of their rows
        is, flagged once when any row's score reaches the threshold (their highest score
        is compared), and ``n`` counts patients. Without it each row is a patient.

    Returns
    -------
    NetMonetaryBenefit

    Raises
    ------
    DataError
        On invalid or one-class input, a threshold outside (0, 1), or an invalid comparator.

    Examples
    --------
    >>> params = EconomicParameters(100, 10_000, 0.5, 1.0, 0)
    >>> result = net_monetary_benefit([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0.3], params)
    >>> result.strategy("model >= 0.3").nmb_per_1000  # (-3 * 100 - 2 * 0.5 * 10,000) / 4 * 1000
    -2575000.0
    >>> result.strategy("treat_none").nmb_per_1000  # -2 * 10,000 / 4 * 1000
    -5000000.0
    """
    counts = _strategies(y_true, y_prob, thresholds, comparators or {}, patient_ids=patient_ids)
    nmb = counts.nmb_per_1000(**_as_draws(parameters))[0]
    incremental = nmb - nmb[0]
    rows = []
    for i, row in enumerate(counts.rows):
        tp, fp = int(counts.tp[i]), int(counts.fp[i])
        rows.append(
            StrategyNMB(
                **asdict(row),
                tp=tp,
                fp=fp,
                fn=counts.events - tp,
                tn=counts.n - counts.events - fp,
                alerts_per_1000=(tp + fp) * PER_PATIENTS / counts.n,
                nmb_per_1000=float(nmb[i]),
                incremental_nmb_per_1000=float(incremental[i]),
            )
        )
    return NetMonetaryBenefit(
        parameters=parameters, strategies=tuple(rows), **counts.result_fields(nmb)
    )
