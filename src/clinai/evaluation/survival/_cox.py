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
given, not centred).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinai.evaluation.survival._kaplan_meier import sort_survival
from clinai.exceptions import DataError

__all__ = ["COX_NOT_CONVERGED_MSG", "CoxFit", "fit_cox"]

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
    """Sum of ``values`` (rows in ascending time order) over each risk set (time >= s)."""
    return np.cumsum(values[::-1], axis=0)[::-1][starts]


def fit_cox(time: np.ndarray, event: np.ndarray, x: np.ndarray, *, what: str) -> CoxFit:
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
    # centred covariates keep exp() finite; the coefficients are the same
    xs = x[data.order] - x.mean(axis=0)
    p = xs.shape[1]
    d = np.add.reduceat(data.event.astype(float), data.starts)
    has = d > 0
    starts, d = data.starts[has], d[has]
    x_events = xs[data.event].sum(axis=0)
    rows, cols = np.triu_indices(p)
    cross = xs[:, rows] * xs[:, cols]

    def parts(beta: np.ndarray, second: bool) -> tuple[float, np.ndarray, np.ndarray]:
        eta = xs @ beta
        w = np.exp(eta - eta.max())
        s0 = _risk_set_sums(w, starts)
        loglik = float(x_events @ beta - (d * (np.log(s0) + eta.max())).sum())
        if not second:
            return loglik, np.empty(0), np.empty(0)
        s1 = _risk_set_sums(w[:, None] * xs, starts) / s0[:, None]
        s2 = _risk_set_sums(w[:, None] * cross, starts) / s0[:, None]
        score = x_events - d @ s1
        upper = d @ s2
        info = np.empty((p, p))
        info[rows, cols] = upper
        info[cols, rows] = upper
        info -= (s1 * d[:, None]).T @ s1
        return loglik, score, info

    beta = np.zeros(p)
    loglik, score, info = parts(beta, True)
    for n_iter in range(1, _MAX_ITER + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError as exc:
            raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=n_iter, what=what)) from exc
        for _ in range(_MAX_HALVINGS):
            trial = beta + step
            trial_loglik = parts(trial, False)[0]
            if np.isfinite(trial_loglik) and trial_loglik >= loglik - 1e-12 * abs(loglik):
                break
            step = step / 2.0
        beta = trial
        loglik, score, info = parts(beta, True)
        if np.max(np.abs(step)) < _TOL:
            break
    else:
        raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=_MAX_ITER, what=what))
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise DataError(COX_NOT_CONVERGED_MSG.format(n_iter=n_iter, what=what)) from exc
    # Breslow baseline for the covariates as given: exp(x'b) = exp(xc'b) exp(mean'b)
    eta = xs @ beta
    offset = float(x.mean(axis=0) @ beta)
    s0 = _risk_set_sums(np.exp(eta - eta.max()), starts) * np.exp(eta.max() + offset)
    return CoxFit(
        coef=beta,
        cov=cov,
        event_times=data.unique[has],
        cumulative_hazard=np.cumsum(d / s0),
        log_likelihood=loglik,
        n_iter=n_iter,
    )
