"""Choosing how to update a prediction model: the closed testing procedure.

Vergouwe, Nieboer, Oostenbrink, Debray, Murray, Kattan, Seidel & Steyerberg (2017),
"A closed testing procedure to select an appropriate method for updating prediction
models", Stat Med 36:4529-39. Four candidate models are fitted on the new data, from
the least to the most extensive update:

0. ``none``: the original model as it is (no parameter estimated);
1. ``recalibration_in_the_large``: ``logit P(y=1) = a + logit(p)`` (``logit(p)`` an
   offset; 1 parameter);
2. ``logistic_recalibration``: ``logit P(y=1) = c + b logit(p)`` (2 parameters);
3. ``revision``: the model's own parameters estimated anew (``revision_df`` of them).

Likelihood-ratio tests in the paper's order, each at level ``alpha``: first the
revision against the original model (the global test, ``df = revision_df``); if it is
not significant, the original model stays. Otherwise the revision is tested against
recalibration in the large (``df = revision_df - 1``) and, if that is significant,
against logistic recalibration (``df = revision_df - 2``): the first simpler update the
revision does not beat is chosen, else the revision. Because every step is entered
only after the global null was rejected, the procedure keeps the chosen type I error
(closed testing, Marcus, Peritz & Gabriel 1976).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.special import expit
from scipy.stats import chi2

from clinai.evaluation._inputs import check_number, check_y
from clinai.evaluation.calibration._calibration import (
    PROB_CLIP,
    _fit_intercept,
    _fit_slope,
    _logit_clipped,
)
from clinai.exceptions import DataError

__all__ = [
    "UPDATE_METHODS",
    "LikelihoodRatioTest",
    "UpdateProposal",
    "closed_testing_update",
]

#: The update methods, least to most extensive.
UPDATE_METHODS: Final = (
    "none",
    "recalibration_in_the_large",
    "logistic_recalibration",
    "revision",
)
#: Parameters each recalibration estimates (the revision's count is the caller's).
_RECALIBRATION_DF: Final = {"none": 0, "recalibration_in_the_large": 1, "logistic_recalibration": 2}

REVISION_DF_MSG = (
    "revision_df must be an integer of at least 2 (the parameters the revision estimates, "
    "intercept included); got {value!r}"
)
ALPHA_MSG = "alpha must lie strictly between 0 and 1; got {value!r}"
REVISED_LENGTH_MSG = (
    "revised_prob has {n_revised} values but y_true has {n} rows: pass the revised model's "
    "risk for every row"
)
NO_FIT_MSG = (
    "the {method} fit did not converge on these data ({events} events in {n} rows; the classes "
    "may be separated by the risks): the update cannot be chosen by likelihood-ratio tests"
)


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """One likelihood-ratio test of the procedure.

    Attributes
    ----------
    name : str
        ``"revision_vs_none"``, ``"revision_vs_recalibration_in_the_large"`` or
        ``"revision_vs_logistic_recalibration"``.
    larger, smaller : str
        The two models compared (the smaller is nested in the larger).
    statistic : float
        ``2 (loglik(larger) - loglik(smaller))``, at least 0.
    df : int
        Difference in the number of estimated parameters.
    p_value : float
        Upper tail of the chi-squared distribution with ``df`` degrees of freedom.
    significant : bool
        ``p_value < alpha``.
    """

    name: str
    larger: str
    smaller: str
    statistic: float
    df: int
    p_value: float
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the test as a JSON-ready dict."""
        return {
            "name": self.name,
            "larger": self.larger,
            "smaller": self.smaller,
            "statistic": float(self.statistic),
            "df": int(self.df),
            "p_value": float(self.p_value),
            "significant": bool(self.significant),
        }


@dataclass(frozen=True)
class UpdateProposal:
    """The update the closed testing procedure chose, with every test and fit.

    Attributes
    ----------
    method : str
        One of :data:`UPDATE_METHODS`.
    intercept, slope : float
        The recalibration of the chosen method, applied as
        ``expit(intercept + slope * logit(p))``: ``(0, 1)`` for ``none``, ``(a, 1)``
        for recalibration in the large, ``(c, b)`` for logistic recalibration. For
        ``revision`` they are those of logistic recalibration (reported; the revised
        model replaces the original).
    intercept_in_the_large : float
        ``a`` of recalibration in the large.
    recalibration_intercept, recalibration_slope : float
        ``c`` and ``b`` of logistic recalibration.
    tests : tuple of LikelihoodRatioTest
        The tests carried out, in order (one, two or three).
    log_likelihoods : dict
        Log-likelihood of each of the four models on the update data.
    df : dict
        Parameters each model estimates.
    n, events : int
        Rows and events of the update data.
    alpha : float
        Level of every test.
    """

    method: str
    intercept: float
    slope: float
    intercept_in_the_large: float
    recalibration_intercept: float
    recalibration_slope: float
    tests: tuple[LikelihoodRatioTest, ...]
    log_likelihoods: dict[str, float]
    df: dict[str, int]
    n: int
    events: int
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """Return the proposal as a JSON-ready dict (aggregates only, no row)."""
        return {
            "method": self.method,
            "intercept": float(self.intercept),
            "slope": float(self.slope),
            "intercept_in_the_large": float(self.intercept_in_the_large),
            "recalibration_intercept": float(self.recalibration_intercept),
            "recalibration_slope": float(self.recalibration_slope),
            "tests": [test.to_dict() for test in self.tests],
            "log_likelihoods": {k: float(v) for k, v in self.log_likelihoods.items()},
            "df": {k: int(v) for k, v in self.df.items()},
            "n": int(self.n),
            "events": int(self.events),
            "alpha": float(self.alpha),
            "procedure": "closed testing (Vergouwe et al. 2017, Stat Med 36:4529-39)",
        }


def bernoulli_log_likelihood(y: np.ndarray, p: np.ndarray) -> float:
    """Return ``sum(y log p + (1 - y) log(1 - p))`` with ``p`` clipped as the logit is."""
    q = np.clip(p, PROB_CLIP, 1.0 - PROB_CLIP)
    return float(np.sum(y * np.log(q) + (1.0 - y) * np.log1p(-q)))


def _lr_test(
    name: str, larger: str, smaller: str, loglik: dict[str, float], df: int, alpha: float
) -> LikelihoodRatioTest:
    # A revision fitted with a penalty (or out of fold) can fit worse than a recalibration
    # in the sample: the statistic is then 0, not negative.
    statistic = max(0.0, 2.0 * (loglik[larger] - loglik[smaller]))
    p_value = float(chi2.sf(statistic, df)) if df > 0 else 1.0
    return LikelihoodRatioTest(
        name=name,
        larger=larger,
        smaller=smaller,
        statistic=statistic,
        df=df,
        p_value=p_value,
        significant=p_value < alpha,
    )


def closed_testing_update(
    y_true: Any,
    y_prob: Any,
    *,
    revised_prob: Any,
    revision_df: int,
    alpha: float = 0.05,
) -> UpdateProposal:
    """Choose the least extensive adequate update by closed testing (Vergouwe et al. 2017).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome (0/1) in the update data.
    y_prob : array-like of shape (n,)
        The original model's risks for the same rows.
    revised_prob : array-like of shape (n,)
        The revised model's risks for the same rows. For a logistic model the
        revision re-estimates its coefficients on the update data (the paper's
        model revision) and these are its fitted risks. For another family (a
        gradient-boosted model, a neural network) the revision is a refit of the
        same family with the same hyperparameters on the update data; its
        in-sample risks would win every test, so pass its out-of-fold risks.
    revision_df : int
        Parameters the revision estimates, intercept included: for a logistic
        model the number of its coefficients plus one. A flexible family has no
        such count; the caller then uses the count a logistic revision on the
        same inputs would have (the model's input columns after preprocessing,
        plus one), which makes the first test a test of whether re-learning the
        inputs' effects improves on the original risks.
    alpha : float, default=0.05
        Level of each likelihood-ratio test.

    Returns
    -------
    UpdateProposal

    Raises
    ------
    DataError
        On invalid inputs (one class, probabilities outside [0, 1], lengths that
        differ), ``revision_df`` below 2, ``alpha`` outside (0, 1), or a
        recalibration fit that does not converge.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, 4000)
    >>> y = rng.binomial(1, p)  # the model is right: no update
    >>> closed_testing_update(y, p, revised_prob=p, revision_df=4).method
    'none'
    """
    y, p = check_y(y_true, y_prob)
    _, revised = check_y(y_true, revised_prob)
    if revised.shape[0] != y.shape[0]:  # pragma: no cover - check_y compares the lengths
        raise DataError(REVISED_LENGTH_MSG.format(n_revised=revised.shape[0], n=y.shape[0]))
    if isinstance(revision_df, bool) or not isinstance(revision_df, int | np.integer):
        raise DataError(REVISION_DF_MSG.format(value=revision_df))
    if revision_df < 2:
        raise DataError(REVISION_DF_MSG.format(value=revision_df))
    level = check_number(alpha, ALPHA_MSG.format(value=alpha), 0.0, 1.0)

    n, events = int(y.shape[0]), int(y.sum())
    lp = _logit_clipped(p)
    ones = np.ones((1, n))
    a = float(_fit_intercept(y, lp, ones)[0])
    c_arr, b_arr = _fit_slope(y, lp, ones)
    c, b = float(c_arr[0]), float(b_arr[0])
    for method, values in (("recalibration in the large", (a,)), ("recalibration", (c, b))):
        if not all(math.isfinite(v) for v in values):
            raise DataError(NO_FIT_MSG.format(method=method, events=events, n=n))

    loglik = {
        "none": bernoulli_log_likelihood(y, p),
        "recalibration_in_the_large": bernoulli_log_likelihood(y, expit(a + lp)),
        "logistic_recalibration": bernoulli_log_likelihood(y, expit(c + b * lp)),
        "revision": bernoulli_log_likelihood(y, revised),
    }
    df = {**_RECALIBRATION_DF, "revision": int(revision_df)}

    tests = [_lr_test("revision_vs_none", "revision", "none", loglik, df["revision"], level)]
    method = "none"
    if tests[0].significant:
        method = "revision"
        for simpler in ("recalibration_in_the_large", "logistic_recalibration"):
            test = _lr_test(
                f"revision_vs_{simpler}",
                "revision",
                simpler,
                loglik,
                df["revision"] - df[simpler],
                level,
            )
            tests.append(test)
            if not test.significant:
                method = simpler
                break

    intercept, slope = {
        "none": (0.0, 1.0),
        "recalibration_in_the_large": (a, 1.0),
    }.get(method, (c, b))
    # In the field order of UpdateProposal.
    return UpdateProposal(
        method, intercept, slope, a, c, b, tuple(tests), loglik, df, n, events, level
    )
