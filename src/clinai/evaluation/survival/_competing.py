"""Validation of predicted cumulative incidence with competing events, at a horizon t.

Data: ``time``, ``event_code`` (0 censored, a positive code per cause) and the
predicted absolute risk of the cause of interest ``cause`` by t (its cumulative
incidence function, CIF). Every patient is one of: a *case* (an event of the cause
by t), a *competing* event by t, a *survivor* (followed beyond t) or censored before
t. G is the Kaplan-Meier of the censoring times with any event a non-censoring
(:func:`~clinai.evaluation.survival.censoring_survival` of ``event_code > 0``); an
event at T_i weighs 1 / G(T_i), clinai's convention for G at an event (the
right-continuous value at a tie between an event and a censoring, as
scikit-survival; riskRegression's G(T_i-) differs only there), so that without
competing events every metric below equals its ordinary survival version
(tested). A weight with G = 0 is 0.

- **Observed risk and O/E**: the Aalen-Johansen CIF of the cause by t
  (:func:`~clinai.evaluation.survival.aalen_johansen`) over the mean predicted
  CIF [Aalen & Johansen 1978; Putter et al. 2007, Stat Med 26:2389]; with the
  Dinse-Larson interval in :func:`~clinai.evaluation.survival.survival_oe_ratio`
  (``cause=``).
- **Time-dependent AUC** (cumulative cases, "definition 2" of Blanche, Dartigues &
  Jacqmin-Gadda 2013, Stat Med 32:5381): cases the events of the cause by t,
  controls every other patient not censored before t (survivors and competing
  events by t); cases weigh 1/G(T_i), competing controls 1/G(T_j), survivors 1/G(t):
  AUC = sum_ij a_i b_j [1(r_i > r_j) + 1(r_i = r_j)/2] / (sum a_i sum b_j).
- **Brier score of the CIF** [Schoop et al. 2011, Stat Med 30:1170]:
  BS(t) = (1/n) sum_i [1(case) (1 - r_i)^2 / G(T_i) + 1(competing by t) r_i^2 /
  G(T_i) + 1(T_i > t) r_i^2 / G(t)]; the null model gives everyone the
  Aalen-Johansen CIF; scaled Brier (IPA) = 1 - BS / BS_null [Kattan & Gerds 2018].
- **Wolbers' C** truncated at t [Wolbers et al. 2009, Epidemiology 20:555; Wolbers
  et al. 2014, Biostatistics 15:526]: among pairs where i has an event of the cause
  by t and j either is followed longer (kind A: T_j > T_i, or T_j = T_i without an
  event of the cause) or had a competing event before T_i (kind B), the weighted
  share where i has the higher predicted risk (ties 1/2). IPCW weights: kind A
  1/G(T_i)^2, kind B 1/(G(T_i) G(T_j)); ``ipcw=False`` weighs every pair 1 (the
  2009 estimator). Without competing events the IPCW C equals Uno's C and the
  unweighted one Harrell's C, both truncated at t (events at t itself count here, as in
  the CIF by t; Uno's ``tau`` scores events before it only).

The weights differ from Blanche's and Wolbers' papers (G(T_i-), riskRegression's) only where
a censoring shares its time with an event: clinai keeps one convention for G everywhere so
that the metrics with and without competing events agree.

Everything is computed from data sorted once by time and row weights
(:func:`prepare_competing`, :func:`competing_metrics_weighted`), so that the
bootstrap passes each replicate's counts as weights and sorts nothing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation.survival._calibration import _check_event
from clinai.evaluation.survival._concordance import _ConcordanceInputs, _prepare
from clinai.evaluation.survival._inputs import (
    check_has_events,
    check_horizon,
    check_risk,
    check_score,
    check_tied_tol,
)
from clinai.evaluation.survival._kaplan_meier import (
    SortedSurvival,
    _aalen_johansen_sorted,
    _censoring_at_unique,
    sort_survival,
)

__all__ = [
    "COMPETING_METRICS",
    "CompetingInputs",
    "CompetingRiskMetrics",
    "competing_brier_score",
    "competing_metrics_weighted",
    "competing_risk_metrics",
    "competing_time_auc",
    "prepare_competing",
    "wolbers_c",
]

#: The metrics of :func:`competing_metrics_weighted`, in its order.
COMPETING_METRICS = (
    "wolbers_c",
    "time_auc",
    "observed_risk",
    "expected_risk",
    "oe_ratio",
    "brier",
    "null_brier",
    "scaled_brier",
)
NO_CAUSE_EVENTS = " of cause {cause} up to t = {t:g}"


@dataclass(frozen=True, eq=False)
class CompetingInputs:
    """Competing-risk data at one horizon, sorted by time once (rows in time order).

    ``data.event`` holds the event codes; ``case``, ``competing`` and ``survivor``
    mark the events of the cause by t, the competing events by t and the patients
    followed beyond t; ``competing_any`` every competing event (for Wolbers' C).
    """

    data: SortedSurvival
    cause: int
    t: float
    risk: np.ndarray
    case: np.ndarray
    competing: np.ndarray
    competing_any: np.ndarray
    survivor: np.ndarray
    t_index: int
    ranks: _ConcordanceInputs
    by_risk: np.ndarray
    run_starts: np.ndarray

    @property
    def n(self) -> int:
        """Rows."""
        return self.data.n


def prepare_competing(
    time: Any, event_code: Any, risk: Any, t: Any, **options: Any
) -> CompetingInputs:
    """Check competing-risk data and predictions at ``t``; sort and rank them once.

    ``options``: ``cause`` (int, default 1), ``bounded`` (``risk`` must lie in [0, 1];
    default True) and ``tied_tol`` (default 1e-8), as the public functions take them.

    Raises
    ------
    DataError
        Bad time or codes, ``cause`` not among the codes, ``risk`` missing or (when
        ``bounded``) outside [0, 1], ``t`` outside follow-up, no event of ``cause``
        by ``t`` (one line each).
    """
    cause = options.get("cause", 1)
    check = check_risk if options.get("bounded", True) else check_score
    time_array, codes = _check_event(time, event_code, cause)
    values = check(risk, time_array.shape[0], name="risk")
    horizon = check_horizon(t, time_array)
    check_has_events(
        (codes == cause) & (time_array <= horizon),
        where=NO_CAUSE_EVENTS.format(cause=cause, t=horizon),
    )
    tol = check_tied_tol(options.get("tied_tol", 1e-8))
    data = sort_survival(time_array, codes)
    sorted_risk = values[data.order]
    within = data.time <= horizon
    other = (data.event > 0) & (data.event != cause)
    by_risk = np.argsort(sorted_risk, kind="stable")
    new = np.empty(by_risk.shape[0], dtype=bool)
    new[:1] = True
    np.greater(np.diff(sorted_risk[by_risk]), tol, out=new[1:])
    return CompetingInputs(
        data=data,
        cause=int(cause),
        t=horizon,
        risk=sorted_risk,
        case=(data.event == cause) & within,
        competing=other & within,
        competing_any=other,
        survivor=~within,
        t_index=int(np.searchsorted(data.unique, horizon, side="right")) - 1,
        ranks=_prepare(data, values, tol),
        by_risk=by_risk,
        run_starts=np.flatnonzero(new),
    )


def _inverse(values: np.ndarray) -> np.ndarray:
    """1 / values, 0 where values are 0 (an undefined weight adds nothing)."""
    return np.divide(1.0, values, out=np.zeros_like(values), where=values > 0)


def _auc(inputs: CompetingInputs, case_w: np.ndarray, control_w: np.ndarray) -> float:
    """Weighted AUC over tie runs of the risk (rows in time order, weights per row)."""
    cases = np.add.reduceat(case_w[inputs.by_risk], inputs.run_starts)
    controls = np.add.reduceat(control_w[inputs.by_risk], inputs.run_starts)
    below = np.cumsum(controls) - controls
    denominator = cases.sum() * controls.sum()
    if denominator <= 0:
        return float("nan")
    return float(np.dot(cases, below + 0.5 * controls) / denominator)


def _wolbers(inputs: CompetingInputs, w: np.ndarray, inverse_g: np.ndarray) -> float:
    """Wolbers' C from the compiled pair sums (``inverse_g`` all 1 without IPCW)."""
    from clinai.evaluation.survival._competing_kernels import wolbers_sums  # numba

    ranks = inputs.ranks
    case = np.where(inputs.case, w * inverse_g, 0.0)
    sums = wolbers_sums(
        inputs.data.starts,
        np.ascontiguousarray(inputs.data.event == inputs.cause),
        ranks.rank,
        ranks.below,
        ranks.upto,
        ranks.n_ranks,
        np.ascontiguousarray(w),
        case * inverse_g,
        case,
        np.where(inputs.competing_any, w * inverse_g, 0.0),
    )
    pairs = sums[1] + sums[3]
    return float((sums[0] + sums[2]) / pairs) if pairs > 0 else float("nan")


def competing_metrics_weighted(
    inputs: CompetingInputs, weights: np.ndarray | None = None, *, ipcw: bool = True
) -> np.ndarray:
    """Every metric of :data:`COMPETING_METRICS` under row weights (in time order).

    ``weights`` are a bootstrap replicate's counts per row (None: 1 each); G and the
    Aalen-Johansen CIF are re-estimated under them. ``ipcw`` applies to Wolbers' C.
    """
    data = inputs.data
    w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=float)
    total = float(w.sum())
    if total <= 0:
        return np.full(len(COMPETING_METRICS), np.nan)
    g_unique = _censoring_at_unique(data, w)
    incidence = _aalen_johansen_sorted(data, inputs.cause, w)[1]
    inside = inputs.t_index >= 0
    observed = float(incidence[inputs.t_index]) if inside else 0.0
    g_t = float(g_unique[inputs.t_index]) if inside else 1.0
    inverse_g = _inverse(g_unique[data.group])
    inverse_g_t = 1.0 / g_t if g_t > 0 else 0.0
    # IPCW of each row: events by t at their own time, survivors at t, censored before t 0
    event_by_t = inputs.case | inputs.competing
    ipcw_row = np.where(event_by_t, inverse_g, np.where(inputs.survivor, inverse_g_t, 0.0))
    weight = w * ipcw_row
    r = inputs.risk
    expected = float(np.dot(w, r) / total)
    brier = float(np.dot(weight, np.where(inputs.case, (1.0 - r) ** 2, r**2)) / total)
    case_weight = float(weight[inputs.case].sum())
    null = (
        case_weight * (1.0 - observed) ** 2 + (weight.sum() - case_weight) * observed**2
    ) / total
    return np.array(
        [
            _wolbers(inputs, w, inverse_g if ipcw else np.ones(data.n)),
            _auc(inputs, np.where(inputs.case, weight, 0.0), np.where(inputs.case, 0.0, weight)),
            observed,
            expected,
            observed / expected if expected > 0 else np.nan,
            brier,
            null,
            1.0 - brier / null if null > 0 else np.nan,
        ]
    )


@dataclass(frozen=True)
class CompetingRiskMetrics(FieldsRecord):
    """The competing-risk metrics of predicted cumulative incidence at a horizon.

    Parameters
    ----------
    t : float
        The horizon.
    cause : int
        The event code of interest.
    wolbers_c : float
        Wolbers' C truncated at t (IPCW unless ``ipcw=False``).
    time_auc : float
        Blanche's cumulative/dynamic AUC at t (definition 2).
    observed_risk, expected_risk, oe_ratio : float
        Aalen-Johansen CIF by t, mean predicted CIF and their ratio.
    brier, null_brier, scaled_brier : float
        IPCW Brier score of the CIF, of the Aalen-Johansen null model, and
        1 - brier / null_brier.
    n, cases, competing, censored_before : int
        Patients; events of the cause by t; competing events by t; censored before t.
    """

    t: float
    cause: int
    wolbers_c: float
    time_auc: float
    observed_risk: float
    expected_risk: float
    oe_ratio: float
    brier: float
    null_brier: float
    scaled_brier: float
    n: int
    cases: int
    competing: int
    censored_before: int


@fill_doc
def competing_risk_metrics(
    time: Any,
    event_code: Any,
    risk: Any,
    t: float,
    *,
    cause: int = 1,
    ipcw: bool = True,
    tied_tol: float = 1e-8,
) -> CompetingRiskMetrics:
    """Wolbers' C, the AUC, O/E and the Brier score of a predicted CIF at horizon ``t``.

    Parameters
    ----------
    {time}
    event_code : array-like of shape (n,)
        0 censored, a positive code per cause.
    risk : array-like of shape (n,)
        Predicted cumulative incidence of ``cause`` by ``t``, in [0, 1].
    t : float
        Horizon, within follow-up, with an event of ``cause`` by it.
    cause : int, default 1
        The event code of interest; every other positive code competes.
    ipcw : bool, default True
        Weigh Wolbers' C by the censoring (Wolbers et al. 2014).
    tied_tol : float, default 1e-8
        Risks closer than this count as tied.

    Returns
    -------
    CompetingRiskMetrics

    Raises
    ------
    DataError
        See :func:`prepare_competing`.

    Examples
    --------
    >>> time = [2, 3, 3, 5, 6, 8, 9, 12]
    >>> code = [1, 2, 0, 1, 0, 2, 1, 0]
    >>> risk = [0.6, 0.2, 0.5, 0.25, 0.1, 0.3, 0.35, 0.1]
    >>> m = competing_risk_metrics(time, code, risk, 6)
    >>> round(m.wolbers_c, 4), round(m.time_auc, 4), round(m.observed_risk, 4)
    (0.7972, 0.7091, 0.275)
    >>> round(m.oe_ratio, 4), round(m.scaled_brier, 4)
    (0.9167, 0.2305)
    """
    inputs = prepare_competing(time, event_code, risk, t, cause=cause, tied_tol=tied_tol)
    values = dict(
        zip(COMPETING_METRICS, competing_metrics_weighted(inputs, ipcw=ipcw), strict=True)
    )
    data = inputs.data
    return CompetingRiskMetrics(
        t=inputs.t,
        cause=inputs.cause,
        **{name: float(value) for name, value in values.items()},
        n=data.n,
        cases=int(inputs.case.sum()),
        competing=int(inputs.competing.sum()),
        censored_before=int(((data.event == 0) & (data.time < inputs.t)).sum()),
    )


def wolbers_c(time: Any, event_code: Any, score: Any, t: float, **options: Any) -> float:
    """Wolbers' concordance index for competing risks, truncated at ``t``.

    ``score``: higher means higher risk of the cause (the predicted CIF by t, as
    Wolbers et al. recommend, or any score). ``options``: ``cause`` (default 1),
    ``ipcw`` (default True) and ``tied_tol`` (default 1e-8), as
    :func:`competing_risk_metrics`. Definition in the module docstring; without
    competing events it equals :func:`~clinai.evaluation.survival.uno_c` (``ipcw``)
    or Harrell's C over the events by t (``ipcw=False``). O(n log n).

    Examples
    --------
    >>> wolbers_c([1, 2, 3, 4], [1, 2, 1, 0], [0.9, 0.2, 0.5, 0.1], 3.5)
    1.0
    """
    ipcw = options.pop("ipcw", True)
    inputs = prepare_competing(time, event_code, score, t, bounded=False, **options)
    w = np.ones(inputs.n)
    inverse_g = _inverse(_censoring_at_unique(inputs.data)[inputs.data.group])
    return _wolbers(inputs, w, inverse_g if ipcw else w)


def competing_time_auc(
    time: Any, event_code: Any, risk: Any, t: float, *, cause: int = 1, tied_tol: float = 1e-8
) -> float:
    """Cumulative/dynamic AUC at ``t`` with competing events (Blanche et al. 2013, def. 2).

    Controls include the competing events by t; see the module docstring. Without
    competing events it equals :func:`~clinai.evaluation.survival.time_dependent_auc`.

    Examples
    --------
    >>> competing_time_auc([1, 2, 3, 4], [1, 2, 1, 0], [0.9, 0.2, 0.5, 0.1], 3.5)
    1.0
    """
    return competing_risk_metrics(
        time, event_code, risk, t, cause=cause, tied_tol=tied_tol
    ).time_auc


def competing_brier_score(
    time: Any, event_code: Any, risk: Any, t: float, *, cause: int = 1
) -> tuple[float, float, float]:
    """IPCW Brier score of a predicted CIF at ``t``: ``(brier, null_brier, scaled_brier)``.

    The null model predicts the Aalen-Johansen CIF for everyone; scaled = 1 -
    brier / null (IPA). Without competing events it equals
    :func:`~clinai.evaluation.survival.ipcw_brier_score`.

    Examples
    --------
    >>> b = competing_brier_score([1, 2, 3, 4], [1, 2, 1, 0], [0.9, 0.2, 0.5, 0.1], 3.5)
    >>> [round(x, 4) for x in b]
    [0.0775, 0.25, 0.69]
    """
    m = competing_risk_metrics(time, event_code, risk, t, cause=cause)
    return m.brier, m.null_brier, m.scaled_brier
