"""Random-effects meta-analysis of one estimate per study (or per hospital).

The model is the normal-normal random-effects model: study ``i`` reports an
estimate ``y_i`` with a known within-study variance ``v_i``, and
``y_i ~ N(theta_i, v_i)`` with ``theta_i ~ N(mu, tau^2)``. The functions here
estimate the between-study variance ``tau^2``, the pooled mean ``mu`` with its
confidence interval, the prediction interval for the true value in a new study,
and the heterogeneity statistics Q and I^2.

Sources: DerSimonian & Laird 1986 (Control Clin Trials 7:177); Viechtbauer 2005
(J Educ Behav Stat 30:261) for REML by Fisher scoring; Hartung & Knapp 2001
(Stat Med 20:3875) and Sidik & Jonkman 2002 (Stat Med 21:3153) for the HKSJ
interval; Riley, Higgins & Deeks 2011 (BMJ 342:d549) for the prediction
interval; Higgins & Thompson 2002 (Stat Med 21:1539) for I^2. The
implementation follows the definitions of R's metafor (Viechtbauer 2010, J Stat
Softw 36(3)), whose ``rma()`` defaults these choices mirror.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from scipy import optimize, special

from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation._inputs import check_number
from clinai.exceptions import DataError

__all__ = [
    "CI_METHODS",
    "CI_METHOD_MSG",
    "ESTIMATES_MSG",
    "FEW_STUDIES_MSG",
    "LABELS_MSG",
    "LENGTHS_MSG",
    "LEVEL_MSG",
    "METHODS",
    "METHOD_MSG",
    "OVERFLOW_MSG",
    "REML_MAX_ITER",
    "REML_TOL",
    "VARIANCES_MSG",
    "MetaAnalysis",
    "random_effects_meta",
]

#: The estimators of tau^2 offered, and the intervals of the pooled mean.
Method = Literal["REML", "DL"]
CiMethod = Literal["hksj", "wald"]
METHODS = ("REML", "DL")
CI_METHODS = ("hksj", "wald")
#: Fisher scoring stops when tau^2 changes by less than this (absolute) ...
REML_TOL = 1e-10
#: ... or after this many steps (then the REML likelihood is maximised by Brent's method).
REML_MAX_ITER = 100

FEW_STUDIES_MSG = (
    "a meta-analysis needs at least 2 sites (studies); got {k}: "
    "pool summaries from two or more sites"
)
ESTIMATES_MSG = (
    "{name} must be one finite number per site; got {values}: "
    "check the site summaries for missing or non-numeric values"
)
VARIANCES_MSG = (
    "{name} must be finite and greater than 0 (one per site); got {values}: "
    "a site summary without a positive {what} cannot be pooled"
)
LENGTHS_MSG = (
    "{first} and {second} have different lengths ({n_first} and {n_second}): pass one per site"
)
OVERFLOW_MSG = (
    "{first} and {second} are too large to pool (got {values} and {errors}): "
    "check the site summaries for a mistyped estimate or {what}"
)
LABELS_MSG = "labels has {n_labels} entries but there are {k} sites: pass one label per site"
METHOD_MSG = "method must be one of {allowed}; got {value!r}"
CI_METHOD_MSG = "ci must be one of {allowed}; got {value!r}"
LEVEL_MSG = "level must lie strictly between 0 and 1 (e.g. 0.95); got {value!r}"


@dataclass(frozen=True)
class MetaAnalysis(FieldsRecord):
    """The result of :func:`random_effects_meta`.

    Attributes
    ----------
    k : int
        Number of studies (sites) pooled.
    estimate : float
        Pooled mean ``mu`` (random-effects weighted mean).
    se : float
        Standard error of ``estimate`` that the confidence interval uses: the
        HKSJ standard error when ``ci_method == "hksj"``, else ``sqrt(1 / sum(w))``.
    ci_low, ci_high : float
        Confidence interval of the pooled mean at ``level``.
    pi_low, pi_high : float or None
        Prediction interval for the true value in a new study; ``None`` when
        ``k < 3`` (it needs ``k - 2`` degrees of freedom).
    tau2, tau : float
        Between-study variance (truncated at 0) and its square root.
    i2 : float
        Higgins & Thompson's I^2 = max(0, (Q - (k - 1)) / Q), in [0, 1]
        (0 when Q = 0).
    q, q_df, q_pvalue : float, int, float
        Cochran's Q, its degrees of freedom ``k - 1`` and the chi-squared p-value.
    method : str
        Estimator of tau^2, ``"REML"`` or ``"DL"``.
    ci_method : str
        ``"hksj"`` or ``"wald"``.
    weights : tuple of float
        Normalised random-effects weights ``w_i / sum(w)`` with
        ``w_i = 1 / (v_i + tau^2)``; they sum to 1.
    labels : tuple of str
        The studies' labels, in input order.
    level : float
        Confidence level of both intervals.
    """

    k: int
    # the pooled mean and its intervals
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    # heterogeneity
    tau2: float
    tau: float
    i2: float
    q: float
    q_df: int
    q_pvalue: float
    # how it was computed (random_effects_meta's defaults), and the sites
    method: Method = "REML"
    ci_method: CiMethod = "hksj"
    level: float = 0.95
    weights: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()

    _json_counts = ("k", "q_df")


def _describe(values: np.ndarray) -> str:
    """Show up to six values of a short array for an error message."""
    shown = ", ".join(f"{v:g}" for v in values[:6])
    return f"[{shown}{', ...' if values.shape[0] > 6 else ''}]"


def check_meta_inputs(
    estimates: Any,
    variances: Any,
    labels: Sequence[Any] | None,
    *,
    names: tuple[str, str] = ("estimates", "variances"),
    what: str = "variance",
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Validate one estimate and one variance (or standard error) per site.

    ``names`` are the argument names the messages use, ``what`` the quantity
    the second argument holds. Raises :class:`~clinai.exceptions.DataError`
    with one line on any problem.
    """
    arrays = []
    for name, values in zip(names, (estimates, variances), strict=True):
        try:
            array = np.asarray(values, dtype="float64")
        except (TypeError, ValueError) as exc:
            raise DataError(ESTIMATES_MSG.format(name=name, values=repr(values)[:80])) from exc
        arrays.append(np.atleast_1d(array).ravel() if array.ndim <= 1 else array)
    y, v = arrays
    if y.ndim != 1 or v.ndim != 1:
        raise DataError(ESTIMATES_MSG.format(name=names[y.ndim == 1], values="a 2-D array"))
    if y.shape[0] != v.shape[0]:
        raise DataError(
            LENGTHS_MSG.format(
                first=names[0], second=names[1], n_first=y.shape[0], n_second=v.shape[0]
            )
        )
    if y.shape[0] < 2:
        raise DataError(FEW_STUDIES_MSG.format(k=y.shape[0]))
    if not np.isfinite(y).all():
        raise DataError(ESTIMATES_MSG.format(name=names[0], values=_describe(y)))
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise DataError(VARIANCES_MSG.format(name=names[1], values=_describe(v), what=what))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # the weighted sums of the pooling (e.g. sum(y^2 / v)) must stay finite
        spread = (y - y.mean()) ** 2 / v
        finite = bool(
            np.isfinite(spread).all() and np.isfinite(y * y / v).all() and np.isfinite(1 / v).all()
        )
    if not finite:
        raise DataError(
            OVERFLOW_MSG.format(
                first=names[0], second=names[1], values=_describe(y), errors=_describe(v), what=what
            )
        )
    if labels is None:
        names_out = tuple(f"site {i + 1}" for i in range(y.shape[0]))
    else:
        names_out = tuple(str(label) for label in labels)
        if len(names_out) != y.shape[0]:
            raise DataError(LABELS_MSG.format(n_labels=len(names_out), k=y.shape[0]))
    return y, v, names_out


def check_meta_options(method: Any, ci: Any, level: Any) -> tuple[Method, CiMethod, float]:
    """Validate ``method`` (case-insensitive), ``ci`` and ``level``; return them normalised."""
    method_norm = str(method).upper() if isinstance(method, str) else method
    if method_norm not in METHODS:
        raise DataError(METHOD_MSG.format(allowed=", ".join(METHODS), value=method))
    ci_norm = str(ci).lower() if isinstance(ci, str) else ci
    if ci_norm not in CI_METHODS:
        raise DataError(CI_METHOD_MSG.format(allowed=", ".join(CI_METHODS), value=ci))
    level_value = check_number(level, LEVEL_MSG.format(value=level), 0.0, 1.0)
    return cast(Method, method_norm), cast(CiMethod, ci_norm), level_value


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.dot(w, y) / w.sum())


def tau2_dersimonian_laird(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian & Laird's moment estimator of tau^2, truncated at 0.

    ``tau^2 = max(0, (Q - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))`` with the
    fixed-effect weights ``w = 1 / v`` and Cochran's Q about the fixed-effect mean
    (DerSimonian & Laird 1986, Control Clin Trials 7:177).
    """
    w = 1.0 / v
    q = float(np.dot(w, (y - _weighted_mean(y, w)) ** 2))
    c = float(w.sum() - np.dot(w, w) / w.sum())
    return max(0.0, float((q - (y.shape[0] - 1)) / c))


def _reml_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Return the restricted log-likelihood of tau^2, up to a constant."""
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    return -0.5 * float(np.log(v + tau2).sum() + math.log(w.sum()) + np.dot(w, (y - mu) ** 2))


def tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Return the restricted maximum likelihood (REML) estimate of tau^2, truncated at 0.

    Fisher scoring (Viechtbauer 2005, J Educ Behav Stat 30:261, as metafor's
    ``rma(method="REML")``): from the DerSimonian-Laird estimate, repeat

    ``tau^2 <- max(0, tau^2 + (sum(w^2 (y - mu)^2) - tr P) / tr(P^2))``

    with ``w = 1 / (v + tau^2)``, ``mu = sum(w y) / sum(w)``,
    ``tr P = sum(w) - sum(w^2) / sum(w)`` and
    ``tr(P^2) = sum(w^2) - 2 sum(w^3) / sum(w) + (sum(w^2) / sum(w))^2``,
    halving a step that lowers the restricted likelihood, until tau^2 changes by
    less than :data:`REML_TOL` (absolute). Should that take more than
    :data:`REML_MAX_ITER` steps, the restricted likelihood is maximised by
    Brent's bounded method over ``[0, 10 (var(y) + max(v))]`` instead, so a result
    is always the maximiser over tau^2 >= 0 (negative values are truncated at 0).
    """
    tau2 = tau2_dersimonian_laird(y, v)
    loglik = _reml_loglik(tau2, y, v)
    for _ in range(REML_MAX_ITER):
        w = 1.0 / (v + tau2)
        sw, sw2, sw3 = w.sum(), np.dot(w, w), np.dot(w, w * w)
        mu = float(np.dot(w, y) / sw)
        trace_p = sw - sw2 / sw
        trace_pp = sw2 - 2.0 * sw3 / sw + (sw2 / sw) ** 2
        step = (float(np.dot(w * w, (y - mu) ** 2)) - trace_p) / trace_pp
        for _halving in range(30):
            candidate = max(0.0, tau2 + step)
            candidate_loglik = _reml_loglik(candidate, y, v)
            if candidate_loglik >= loglik - 1e-12:
                break
            step /= 2.0
        change = abs(candidate - tau2)
        tau2, loglik = candidate, candidate_loglik
        if change < REML_TOL:
            return tau2
    upper = 10.0 * (float(np.var(y)) + float(v.max()))
    found = optimize.minimize_scalar(
        lambda t: -_reml_loglik(t, y, v),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": REML_TOL},
    )
    return float(found.x)


def random_effects_meta(
    estimates: Any,
    variances: Any,
    *,
    method: str = "REML",
    ci: str = "hksj",
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
) -> MetaAnalysis:
    """Pool one estimate per study (site) with a random-effects meta-analysis.

    Parameters
    ----------
    estimates : array-like of shape (k,)
        The studies' estimates ``y_i`` on the pooling scale (e.g. logit AUROC).
    variances : array-like of shape (k,)
        Their within-study variances ``v_i`` (squared standard errors), each > 0.
    method : {"REML", "DL"}, default="REML"
        Estimator of the between-study variance tau^2: restricted maximum
        likelihood by Fisher scoring (:func:`tau2_reml`), or DerSimonian-Laird's
        closed form (:func:`tau2_dersimonian_laird`). Both are truncated at 0.
    ci : {"hksj", "wald"}, default="hksj"
        Confidence interval of the pooled mean (see Notes).
    level : float, default=0.95
        Confidence level of the confidence and prediction intervals.
    labels : sequence of str, optional
        One label per study; default ``"site 1"``, ``"site 2"``, ...

    Returns
    -------
    MetaAnalysis
        Pooled mean, its standard error and interval, the prediction interval,
        tau^2, I^2, Q and the normalised weights.

    Raises
    ------
    DataError
        With one line, on fewer than 2 studies, lengths that differ, a
        non-finite estimate, a variance that is not finite and positive, an
        unknown ``method`` or ``ci``, or ``level`` outside (0, 1).

    Notes
    -----
    With ``w_i = 1 / (v_i + tau^2)`` the pooled mean is
    ``mu = sum(w_i y_i) / sum(w_i)``.

    - Wald interval: ``mu +- z_{(1+level)/2} se`` with ``se = sqrt(1 / sum(w_i))``.
    - Hartung-Knapp-Sidik-Jonkman interval (Hartung & Knapp 2001, Stat Med
      20:3875; Sidik & Jonkman 2002, Stat Med 21:3153):
      ``mu +- t_{k-1,(1+level)/2} se_HKSJ`` with
      ``se_HKSJ^2 = sum(w_i (y_i - mu)^2) / ((k - 1) sum(w_i))``. No ad hoc
      ``max(1, q)`` modification (Roever et al. 2015) is applied, as in
      metafor's default ``rma(test="knha")``; ``se`` then reports ``se_HKSJ``.
      Where the estimates agree exactly, ``se_HKSJ`` is 0 and the interval a
      single point; with few sites it may also be narrower than the Wald
      interval, which is what that modification guards against.
    - Prediction interval for the true value in a new study (Riley, Higgins &
      Deeks 2011, BMJ 342:d549): ``mu +- t_{k-2,(1+level)/2} sqrt(tau^2 + se^2)``
      with the ``se`` of the chosen interval; ``None`` when ``k < 3``.
    - Cochran's Q about the fixed-effect mean with weights ``1 / v_i``,
      ``Q = sum((y_i - mu_FE)^2 / v_i)``, its p-value from chi-squared with
      ``k - 1`` degrees of freedom, and ``I^2 = max(0, (Q - (k - 1)) / Q)``
      (Higgins & Thompson 2002, Stat Med 21:1539; 0 when Q = 0).

    Examples
    --------
    >>> result = random_effects_meta([0.1, 0.3, 0.35, 0.8], [0.01, 0.02, 0.015, 0.03])
    >>> round(result.estimate, 3), round(sum(result.weights), 12)
    (0.366, 1.0)
    """
    method_norm, ci_norm, level_value = check_meta_options(method, ci, level)
    y, v, names = check_meta_inputs(estimates, variances, labels)
    k = y.shape[0]

    w_fixed = 1.0 / v
    q = float(np.dot(w_fixed, (y - _weighted_mean(y, w_fixed)) ** 2))
    q_df = k - 1
    i2 = max(0.0, (q - q_df) / q) if q > 0 else 0.0

    tau2 = tau2_reml(y, v) if method_norm == "REML" else tau2_dersimonian_laird(y, v)
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    upper_tail = (1.0 + level_value) / 2.0
    if ci_norm == "hksj":
        se = math.sqrt(float(np.dot(w, (y - mu) ** 2)) / (q_df * float(w.sum())))
        crit = float(special.stdtrit(q_df, upper_tail))
    else:
        se = math.sqrt(1.0 / float(w.sum()))
        crit = float(special.ndtri(upper_tail))

    pi_low: float | None = None
    pi_high: float | None = None
    if k >= 3:
        half = float(special.stdtrit(k - 2, upper_tail)) * math.sqrt(tau2 + se**2)
        pi_low, pi_high = mu - half, mu + half

    return MetaAnalysis(
        k=k,
        estimate=mu,
        se=se,
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=float(tau2),
        tau=math.sqrt(tau2),
        i2=i2,
        q=q,
        q_df=q_df,
        q_pvalue=float(special.chdtrc(q_df, q)),
        method=method_norm,
        ci_method=ci_norm,
        weights=tuple(float(x) for x in w / w.sum()),
        labels=names,
        level=level_value,
    )
