"""DeLong's variance of the AUROC: a confidence interval and a test of two correlated AUROCs.

Definitions (DeLong, DeLong & Clarke-Pearson, Biometrics 1988;44:837-45). With
``m`` events with scores ``X_1..X_m`` and ``n`` non-events with scores
``Y_1..Y_n`` and the kernel ``psi(x, y) = 1`` if ``x > y``, ``1/2`` if
``x = y`` and ``0`` otherwise, the AUROC is ``A = (1/mn) sum_ij psi(X_i, Y_j)``
and its *structural components* are

- ``V10_i = (1/n) sum_j psi(X_i, Y_j)`` for each event (the share of
  non-events it outranks),
- ``V01_j = (1/m) sum_i psi(X_i, Y_j)`` for each non-event (the share of
  events that outrank it).

``Var(A) = S10/m + S01/n``, with ``S10`` and ``S01`` the sample variances
(denominators ``m - 1`` and ``n - 1``) of the ``V10`` and ``V01``. For two
scores on the same patients the components give the covariance matrix
``S = S10/m + S01/n`` of the two AUROCs, and
``z = (A_1 - A_2) / sqrt(S_11 + S_22 - 2 S_12)`` is compared with the standard
normal distribution (the test in R's ``pROC::roc.test(method = "delong")``).

The components are computed in ``O(N log N)`` with the midrank algorithm of
Sun & Xu (IEEE Signal Process Lett 2014;21:1389-93): with ``T_Z`` the midranks
of a score among all ``N = m + n`` rows, ``T_X`` its midranks among the events
and ``T_Y`` among the non-events, ``V10_i = (T_Z(X_i) - T_X(X_i)) / n`` and
``V01_j = 1 - (T_Z(Y_j) - T_Y(Y_j)) / m`` (ties count one half, as in
``psi``).

The scores may be probabilities or any other risk score where higher means
higher risk (the AUROC depends only on the ranking).

**Several rows per patient** (``patient_ids``): rows of one patient are not
independent, and the variance above is then too small. Obuchowski's clustered
version (Biometrics 1997;53:567-78) treats patients as the independent units.
With ``V10_k`` the sum of the ``V10`` of patient ``k``'s event rows (``m_k`` of
them), ``V01_k`` the sum of the ``V01`` of its non-event rows (``n_k``), ``M``
and ``N`` the numbers of event and non-event rows, ``I10`` and ``I01`` the
numbers of patients with at least one event row and one non-event row, and
``I`` all patients:

- ``S10 = I10 / ((I10 - 1) M) sum_k (V10_k - m_k A)^2``,
- ``S01 = I01 / ((I01 - 1) N) sum_k (V01_k - n_k A)^2``,
- ``S11 = I / (I - 1) sum_k (V10_k - m_k A) (V01_k - n_k A)``,
- ``Var(A) = S10 / M + S01 / N + 2 S11 / (M N)``.

With one row per patient this is DeLong's variance exactly; with every row
repeated within its patient it equals DeLong's variance of the unrepeated
data (both tested). The test of two AUROCs applies it to the differences of
the two scores' components.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._inputs import check_ci_level, check_patient_ids, check_score, check_y_true
from clinai.exceptions import DataError

__all__ = ["TRANSFORM_MSG", "delong_ci", "delong_test"]

TRANSFORM_MSG = "transform must be 'logit' or 'none'; got {value!r}"


class DeLongTest(NamedTuple):
    """DeLong et al.'s test of two correlated AUROCs (see :func:`delong_test`).

    Attributes
    ----------
    auroc_diff : float
        AUROC of the first score minus AUROC of the second.
    z : float
        ``auroc_diff`` divided by its DeLong standard error.
    p_value : float
        Two-sided p-value from the standard normal distribution.
    """

    auroc_diff: float
    z: float
    p_value: float

    def to_dict(self) -> dict[str, float | None]:
        """Return ``{"auroc_diff", "z", "p_value"}``."""
        return {name: _num(value) for name, value in self._asdict().items()}


def _midranks(score: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sun & Xu's midranks of one score, from one stable sort.

    Returns ``T_Z - T_X`` for the events and ``T_Z - T_Y`` for the non-events
    (each in input order), where ``T_Z`` is a row's midrank among all rows and
    ``T_X``/``T_Y`` its midrank within its class. In a block of tied scores
    occupying sorted positions ``s .. e-1``, the midrank among all rows is
    ``(s + 1 + e) / 2`` and, with ``c(s)`` the rows of a class before position
    ``s``, the midrank within the class is ``(c(s) + 1 + c(e)) / 2``.
    """
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    n = ordered.shape[0]
    new_block = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    starts = np.flatnonzero(new_block)
    ends = np.concatenate([starts[1:], [n]])
    block = np.cumsum(new_block) - 1
    start, end = starts[block], ends[block]
    is_event = events[order]
    before1 = np.concatenate([[0], np.cumsum(is_event)])
    before0 = np.arange(n + 1) - before1
    total = start + end
    # T_Z - T_X = ((s + e) - (c1(s) + c1(e))) / 2, likewise for the non-events
    gap = (
        np.where(
            is_event,
            total - before1[start] - before1[end],
            total - before0[start] - before0[end],
        )
        / 2.0
    )
    out = np.empty(n)
    out[order] = gap
    return out[events], out[~events]


def _structural_components(
    y: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeLong's structural components of one or more scores by Sun & Xu's midranks.

    Parameters
    ----------
    y : numpy.ndarray of shape (N,)
        Outcome, 0/1, with at least one event and one non-event.
    scores : numpy.ndarray of shape (k, N)
        One score per row of ``scores``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(auc, v10, v01)`` of shapes ``(k,)``, ``(k, m)`` and ``(k, n)``:
        ``V10 = (T_Z - T_X) / n`` and ``V01 = 1 - (T_Z - T_Y) / m``.
    """
    events = y == 1
    m = int(events.sum())
    n = y.shape[0] - m
    v10 = np.empty((scores.shape[0], m))
    v01 = np.empty((scores.shape[0], n))
    for row, score in enumerate(scores):
        gap_events, gap_non_events = _midranks(score, events)
        v10[row] = gap_events / n
        v01[row] = 1.0 - gap_non_events / m
    auc = v10.mean(axis=1)
    return auc, v10, v01


def _covariance(v10: np.ndarray, v01: np.ndarray) -> np.ndarray:
    """``S10/m + S01/n`` (a ``k x k`` matrix); NaN when a class has a single row."""
    m, n = v10.shape[1], v01.shape[1]
    k = v10.shape[0]
    if m < 2 or n < 2:
        return np.full((k, k), np.nan)
    s10 = np.atleast_2d(np.cov(v10, ddof=1))
    s01 = np.atleast_2d(np.cov(v01, ddof=1))
    return np.asarray(s10 / m + s01 / n, dtype="float64")


def _clustered_variance(
    v10: np.ndarray, v01: np.ndarray, auc: float, codes10: np.ndarray, codes01: np.ndarray
) -> float:
    """Obuchowski's (1997) variance of an AUROC (or of a difference of two) by patient.

    ``v10``/``v01`` are the components of the event and non-event rows (or their
    differences between two scores, with ``auc`` the difference of the AUROCs),
    ``codes10``/``codes01`` the patient code of each of those rows.
    """
    m, n = v10.shape[0], v01.shape[0]
    size = int(max(codes10.max(initial=-1), codes01.max(initial=-1))) + 1
    sum10 = np.bincount(codes10, weights=v10, minlength=size)
    sum01 = np.bincount(codes01, weights=v01, minlength=size)
    m_k = np.bincount(codes10, minlength=size)
    n_k = np.bincount(codes01, minlength=size)
    clusters10, clusters01 = int((m_k > 0).sum()), int((n_k > 0).sum())
    clusters = int(((m_k > 0) | (n_k > 0)).sum())
    if clusters10 < 2 or clusters01 < 2:
        return math.nan
    d10 = sum10 - m_k * auc
    d01 = sum01 - n_k * auc
    s10 = clusters10 / ((clusters10 - 1) * m) * float(np.sum(d10 * d10))
    s01 = clusters01 / ((clusters01 - 1) * n) * float(np.sum(d01 * d01))
    s11 = clusters / (clusters - 1) * float(np.sum(d10 * d01))
    return s10 / m + s01 / n + 2.0 * s11 / (m * n)


def _split_codes(codes: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Patient codes (validated, ``0 .. k - 1``) of the event rows and of the non-event rows."""
    events = y == 1
    return codes[events].astype(np.intp), codes[~events].astype(np.intp)


def _check_transform(transform: Any) -> str:
    if transform not in ("logit", "none"):
        raise DataError(TRANSFORM_MSG.format(value=transform))
    return str(transform)


@fill_doc
def delong_ci(
    y_true: Any,
    y_prob: Any,
    *,
    ci_level: float = 0.95,
    transform: Literal["logit", "none"] = "logit",
    patient_ids: Any = None,
) -> Estimate:
    """AUROC with DeLong et al.'s (1988) confidence interval.

    The variance is ``Var(A) = S10/m + S01/n`` (see the module docstring),
    computed with Sun & Xu's (2014) midrank algorithm; with ``patient_ids``,
    Obuchowski's (1997) clustered variance, patients being the independent units. With
    ``transform="logit"`` (the default) the interval is built on the logit
    scale and transformed back, ``expit(logit(A) +/- z SE / (A (1 - A)))``
    (the delta method; Pepe 2003, section 5.2.1), so it stays inside (0, 1)
    and is asymmetric near 1, where the plain interval undercovers (Qin &
    Hotilovac, Stat Methods Med Res 2008;17:207-21). ``transform="none"``
    gives the plain Wald interval ``A +/- z SE`` clipped to [0, 1], as
    ``pROC::ci.auc(method = "delong")``. ``z`` is the standard normal
    quantile at ``(1 + ci_level) / 2``. When the standard error is 0 (e.g.
    perfect separation) the interval is the single point ``A``.

    Parameters
    ----------
    {y_true}
    y_prob : array-like of shape (n,)
        Predicted probability, or any score where higher means higher risk.
    ci_level : float, default=0.95
        Confidence level.
    transform : {"logit", "none"}, default="logit"
        Scale on which the normal approximation is applied.
    patient_ids : array-like of shape (n,), optional
        Patient of each row, when a patient has several rows.

    Returns
    -------
    Estimate
        The AUROC (equal to :func:`auroc_score`) and the DeLong interval; the
        bounds are NaN when a class has fewer than two rows (or patients).

    Raises
    ------
    DataError
        On an invalid or one-class outcome, a score with missing or non-finite
        values, or an invalid ``ci_level`` or ``transform``.

    See Also
    --------
    delong_test : Compare two AUROCs on the same patients.

    Examples
    --------
    >>> est = delong_ci([0, 0, 1, 0, 1, 1], [0.1, 0.3, 0.35, 0.4, 0.8, 0.9])
    >>> round(est.estimate, 4), round(est.ci_low, 3), round(est.ci_high, 3)
    (0.8889, 0.261, 0.995)
    """
    y = check_y_true(y_true)
    score = check_score(y_prob, y.shape[0], name="y_prob")
    level = check_ci_level(ci_level)
    kind = _check_transform(transform)
    codes = None if patient_ids is None else check_patient_ids(patient_ids, y.shape[0])
    return _delong_ci_arrays(y, score, level, kind, codes)


def auroc_variance(
    y: np.ndarray, score: np.ndarray, codes: np.ndarray | None
) -> tuple[float, float]:
    """Return the AUROC and its DeLong variance (Obuchowski's clustered one with ``codes``).

    Validated arrays: ``y`` 0/1 with both classes, ``score`` finite, ``codes`` the
    patient codes of :func:`~clinai.evaluation._inputs.check_patient_ids` or None.
    The variance is NaN when a class has fewer than two rows (or patients).
    """
    auc_all, v10, v01 = _structural_components(y, score[None, :])
    auc = float(auc_all[0])
    if codes is None:
        return auc, float(_covariance(v10, v01)[0, 0])
    return auc, _clustered_variance(v10[0], v01[0], auc, *_split_codes(codes, y))


def _delong_ci_arrays(
    y: np.ndarray, score: np.ndarray, level: float, kind: str, codes: np.ndarray | None
) -> Estimate:
    """:func:`delong_ci` on validated arrays (``codes``: patient codes or None)."""
    auc, variance = auroc_variance(y, score, codes)
    if not math.isfinite(variance):
        return Estimate(auc, math.nan, math.nan)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2.0))
    se = math.sqrt(max(variance, 0.0))
    if se == 0.0:
        return Estimate(auc, auc, auc)
    if kind == "none":
        return Estimate(auc, max(0.0, auc - z * se), min(1.0, auc + z * se))
    from scipy.special import expit, logit

    centre = float(logit(auc))
    half = z * se / (auc * (1.0 - auc))
    return Estimate(auc, float(expit(centre - half)), float(expit(centre + half)))


@fill_doc
def delong_test(
    y_true: Any, y_prob_a: Any, y_prob_b: Any, *, patient_ids: Any = None
) -> DeLongTest:
    """DeLong et al.'s (1988) test of two correlated AUROCs on the same patients.

    ``z = (A_a - A_b) / sqrt(Var(A_a) + Var(A_b) - 2 Cov(A_a, A_b))`` with the
    variances and covariance from the structural components (module
    docstring), and a two-sided p-value ``2 (1 - Phi(|z|))``. When the
    variance of the difference is 0 (for instance the same ranking twice),
    ``z`` is 0 and the p-value 1 if the AUROCs are equal, and both are NaN
    otherwise (the normal approximation does not apply). With ``patient_ids``
    the variance of the difference is Obuchowski's (1997) clustered one.

    Parameters
    ----------
    {y_true}
    y_prob_a, y_prob_b : array-like of shape (n,)
        Two scores for the same rows (probabilities or any scores where
        higher means higher risk).
    patient_ids : array-like of shape (n,), optional
        Patient of each row, when a patient has several rows.

    Returns
    -------
    DeLongTest
        ``(auroc_diff, z, p_value)`` with ``auroc_diff = A_a - A_b``.

    Raises
    ------
    DataError
        On an invalid or one-class outcome or a score with missing or
        non-finite values or the wrong length.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 1, 1, 0, 1]
    >>> a = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.5, 0.4]
    >>> b = [0.2, 0.1, 0.6, 0.5, 0.3, 0.9, 0.4, 0.8]
    >>> result = delong_test(y, a, b)
    >>> round(result.auroc_diff, 4), round(result.z, 3), round(result.p_value, 3)
    (0.125, 0.612, 0.54)
    """
    y = check_y_true(y_true)
    n = y.shape[0]
    a = check_score(y_prob_a, n, name="y_prob_a")
    b = check_score(y_prob_b, n, name="y_prob_b")
    codes = None if patient_ids is None else check_patient_ids(patient_ids, n)
    return _delong_test_arrays(y, a, b, codes=codes)


def _delong_test_arrays(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, *, codes: np.ndarray | None = None
) -> DeLongTest:
    """:func:`delong_test` on validated arrays (``codes``: patient codes or None)."""
    from scipy.stats import norm

    auc, v10, v01 = _structural_components(y, np.vstack([a, b]))
    diff = float(auc[0] - auc[1])
    d10 = v10[0] - v10[1]
    d01 = v01[0] - v01[1]
    m, n = d10.shape[0], d01.shape[0]
    if m < 2 or n < 2:
        return DeLongTest(diff, math.nan, math.nan)
    # the variance of the difference straight from the differences of the components:
    # the same as the contrast of the 2 x 2 covariance matrix, without its cancellation
    if codes is None:
        variance = float(np.var(d10, ddof=1) / m + np.var(d01, ddof=1) / n)
    else:
        variance = _clustered_variance(d10, d01, diff, *_split_codes(codes, y))
        if not math.isfinite(variance):
            return DeLongTest(diff, math.nan, math.nan)
    if variance <= 0.0:
        if diff == 0.0:
            return DeLongTest(0.0, 0.0, 1.0)
        return DeLongTest(diff, math.nan, math.nan)
    z = diff / math.sqrt(variance)
    return DeLongTest(diff, z, float(2.0 * norm.sf(abs(z))))
