"""A small Cox proportional hazards fit (Breslow ties) for the calibration models.

The calibration slope and the flexible calibration curve of
:mod:`clinai.evaluation.survival._calibration` each fit a Cox model with one to
four covariates on the validation data. statsmodels' ``PHReg(..., ties="breslow")``
is the reference (the tests check coefficients, standard errors and the
baseline cumulative hazard against it), but it is far too slow at the sizes a
validation runs at: measured on this project's shared 2-core machine, PHReg took
171 s to fit one covariate on 1,000,000 rows (it loops over the distinct event
times in Python), whereas the Newton-Raphson below, vectorised over the rows with
one sort and reverse cumulative sums, takes about a second.

Breslow partial likelihood, with R_j the risk set (time >= t_j) and D_j the
events at distinct event time t_j [Breslow 1974, Biometrics 30:89]:

    l(b) = sum_j [ sum_{i in D_j} x_i'b - d_j log sum_{k in R_j} exp(x_k'b) ]

and the Breslow baseline cumulative hazard
H0(t) = sum_{t_j <= t} d_j / sum_{k in R_j} exp(x_k'b) (for the covariates as
given, not centred). With competing events the same code fits Fine & Gray's
subdistribution hazards model (see ``competing`` of :func:`fit_cox`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from clinai.evaluation.survival._kaplan_meier import (
    SortedSurvival,
    _censoring_at_unique,
    sort_survival,
)
from clinai.exceptions import DataError

__all__ = ["COX_NOT_CONVERGED_MSG", "CoxFit", "fit_cox", "newton_raphson"]

COX_NOT_CONVERGED_MSG = (
    "the Cox calibration model did not converge after {n_iter} iterations ({what}): "
    "the predictions may be constant or perfectly separate events from non-events"
)

_MAX_ITER = 50
_TOL = 1e-9
_MAX_HALVINGS = 30


@dataclass(frozen=True, eq=False)
class CoxFit:
    """A fitted Cox model.

    Attributes
    ----------
    coef : numpy.ndarray of shape (p,)
        Maximum partial likelihood estimates.
    cov : numpy.ndarray of shape (p, p)
        Inverse of the observed information at ``coef``.
    event_times : numpy.ndarray
        The distinct event times, ascending.
    cumulative_hazard : numpy.ndarray
        Breslow baseline cumulative hazard at each of ``event_times``.
    log_likelihood : float
        Log partial likelihood at ``coef``.
    n_iter : int
        Newton iterations used.
    """

    coef: np.ndarray
    cov: np.ndarray
    event_times: np.ndarray
    cumulative_hazard: np.ndarray
    log_likelihood: float
    n_iter: int

    @property
    def se(self) -> np.ndarray:
        """Model-based standard errors of ``coef``."""
        return np.sqrt(np.diag(self.cov))

    def baseline_cumulative_hazard(self, t: float) -> float:
        """Breslow H0(t) (right-continuous step function; 0 before the first event)."""
        index = int(np.searchsorted(self.event_times, t, side="right")) - 1
        return 0.0 if index < 0 else float(self.cumulative_hazard[index])


def _risk_set_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return the sums of ``values`` (last axis: rows in time order) over each risk set.

    The sum from row ``k`` on is the total minus the sum of the rows before ``k``.
    """
    before = np.cumsum(values, axis=-1)
    total = before[..., -1:]
    return total - before[..., starts] + values[..., starts]


def _risk_sets(
    data: SortedSurvival,
    starts: np.ndarray,
    groups: np.ndarray,
    case: np.ndarray,
    competing: np.ndarray | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Return the function summing per-row values over the risk set of each event time.

    Cox: the rows with time >= s. Fine-Gray (``competing`` given): also each row
    with a competing event before s, weighted G(s-)/G(T_j-), which factorises as
    G(s-) times a running sum of value_j / G(T_j-): still one pass per sum.
    """
    if competing is None:
        return lambda values: _risk_set_sums(values, starts)
    comp = np.asarray(competing, dtype=bool)[data.order]
    censoring = _censoring_at_unique(replace(data, event=data.event | comp), case)
    before = np.r_[1.0, censoring[:-1]]  # G(s-) at each distinct time
    inverse = np.where(comp, 1.0 / before[data.group], 0.0)
    g_at_events = before[groups]

    def sums(values: np.ndarray) -> np.ndarray:
        weighted = values * inverse
        earlier = np.cumsum(weighted, axis=-1)[..., starts] - weighted[..., starts]
        return _risk_set_sums(values, starts) + g_at_events * earlier

    return sums


Parts = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def newton_raphson(
    parts: Parts, start: np.ndarray, what: str
) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Maximise a concave log partial likelihood by Newton-Raphson with step halving.

    ``parts(beta)`` returns ``(loglik, score, information)``. Stops when no
    coefficient moves by ``_TOL`` or more. Returns ``(beta, loglik, cov, n_iter)``,
    ``cov`` the inverse information at ``beta``; raises :class:`DataError` when
    the iterations do not converge or the information is singular.
    """
    beta = np.asarray(start, dtype=float).copy()
    loglik, score, info = parts(beta)
    for n_iter in range(1, _MAX_ITER + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=n_iter, what=what)) from exc
        for _ in range(_MAX_HALVINGS):
            trial = parts(beta + step)
            # the log partial likelihood is concave: a full Newton step rarely overshoots
            if np.isfinite(trial[0]) and trial[0] >= loglik - 1e-12 * abs(loglik):
                break
            step = step / 2.0
        beta = beta + step
        loglik, score, info = trial
        if np.max(np.abs(step)) < _TOL:
            break
    else:
        raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=_MAX_ITER, what=what))
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=n_iter, what=what)) from exc
    return beta, loglik, cov, n_iter


def fit_cox(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    *,
    what: str,
    weights: np.ndarray | None = None,
    start: np.ndarray | None = None,
    competing: np.ndarray | None = None,
) -> CoxFit:
    """Fit a Cox model with Breslow ties by Newton-Raphson with step halving.

    Parameters
    ----------
    time : numpy.ndarray of shape (n,)
        Checked follow-up times.
    event : numpy.ndarray of shape (n,)
        Checked event indicator (bool).
    x : numpy.ndarray of shape (n,) or (n, p)
        Covariates (finite).
    what : str
        What the model is, for the error message (e.g. ``"calibration slope"``).
    weights : numpy.ndarray of shape (n,), optional
        Frequency weights in input order (a bootstrap replicate's count of each
        row): a row of weight 2 counts as two rows.
    start : numpy.ndarray of shape (p,), optional
        Where Newton-Raphson starts (default 0). The maximum does not depend on
        it (the log partial likelihood is concave); starting at a calibrated
        model's coefficients (1, 0, ...) saves iterations.
    competing : numpy.ndarray of shape (n,), optional
        Competing events (bool, input order; ``event`` is then the cause of
        interest). Fits the Fine-Gray subdistribution hazards model instead: a
        patient with a competing event at T_j stays in the risk sets after T_j
        with weight G(s-)/G(T_j-), G the Kaplan-Meier of censoring [Fine & Gray
        1999, JASA 94:496]. The covariance is then the inverse information,
        which ignores that G is estimated (Fine & Gray's sandwich is wider).

    Returns
    -------
    CoxFit
        Coefficients, their covariance and the baseline cumulative hazard.

    Raises
    ------
    DataError
        When the iterations do not converge or the information is singular.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    data = sort_survival(time, event)
    # covariates as rows (p, n), in time order and centred: contiguous products and sums,
    # and exp() stays finite; centring leaves the coefficients unchanged
    xs = np.ascontiguousarray((x - x.mean(axis=0)).T[:, data.order])
    case = np.ones(data.n) if weights is None else np.asarray(weights, float)[data.order]
    p = xs.shape[0]
    d = np.add.reduceat(np.where(data.event, case, 0.0), data.starts)
    has = d > 0
    starts, d = data.starts[has], d[has]
    x_events = xs[:, data.event] @ case[data.event]
    rows, cols = np.triu_indices(p)
    cross = xs[rows] * xs[cols]
    risk_sums = _risk_sets(data, starts, np.flatnonzero(has), case, competing)

    def parts(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = beta @ xs
        top = eta.max()
        w = case * np.exp(eta - top)
        s0 = risk_sums(w)
        # a trial step whose risk sets underflow gives a non-finite log likelihood, which
        # newton_raphson's step halving rejects: no warning for the user to puzzle over
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = float(x_events @ beta - (d * (np.log(s0) + top)).sum())
            s1 = risk_sums(w * xs) / s0
            s2 = risk_sums(w * cross) / s0
        score = x_events - s1 @ d
        upper = s2 @ d
        info = np.empty((p, p))
        info[rows, cols] = upper
        info[cols, rows] = upper
        info -= (s1 * d) @ s1.T
        return loglik, score, info

    beta0 = np.zeros(p) if start is None else np.asarray(start, dtype=float)
    beta, loglik, cov, n_iter = newton_raphson(parts, beta0, what)
    # Breslow baseline for the covariates as given: exp(x'b) = exp(xc'b) exp(mean'b)
    eta = beta @ xs
    offset = float(x.mean(axis=0) @ beta)
    s0 = risk_sums(case * np.exp(eta - eta.max())) * np.exp(eta.max() + offset)
    return CoxFit(
        coef=beta,
        cov=cov,
        event_times=data.unique[has],
        cumulative_hazard=np.cumsum(d / s0),
        log_likelihood=loglik,
        n_iter=n_iter,
    )
