"""A registered model recalibrated on new data: the same inputs, updated risks.

``clinai update`` proposes recalibration in the large (an intercept) or logistic
recalibration (an intercept and a slope) of the approved model (Vergouwe et al.
2017). :class:`RecalibratedModel` wraps the approved model unchanged and maps its
risk ``p`` to ``expit(intercept + slope * logit(p))``, so the update is saved,
registered and loaded like any other model (MLflow's sklearn flavour) and takes
exactly the base model's input columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["RECALIBRATION_CLIP", "RecalibratedModel"]

#: Base risks are clipped to ``[RECALIBRATION_CLIP, 1 - RECALIBRATION_CLIP]`` before the
#: logit, as the calibration statistics clip them (clinai.evaluation, PROB_CLIP).
RECALIBRATION_CLIP = 1e-6

BAD_NUMBER_MSG = "The '{name}' parameter must be a finite number. Got {got!r} instead."
NO_PROBA_MSG = (
    "The 'base' parameter must be a fitted classifier with predict_proba. Got {got} instead."
)


class RecalibratedModel(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose risks are recalibrated on the logit scale.

    ``predict_proba(X)[:, 1] = expit(intercept + slope * logit(base risk))``;
    ``intercept=0, slope=1`` gives back the base model's risks. The base model is
    used as it is (already fitted): :meth:`fit` fits nothing and only checks it.

    Parameters
    ----------
    base : estimator
        The fitted model being recalibrated (e.g. the approved version's pipeline).
    intercept : float, default=0.0
        Added on the logit scale (recalibration in the large when ``slope`` is 1).
    slope : float, default=1.0
        Multiplies the base model's logit (logistic recalibration).

    Attributes
    ----------
    classes_ : numpy.ndarray
        The base model's classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.arange(20.0).reshape(-1, 1), np.r_[np.zeros(10), np.ones(10)]
    >>> base = LogisticRegression().fit(X, y)
    >>> same = RecalibratedModel(base).predict_proba(X)
    >>> bool(np.allclose(same, base.predict_proba(X)))
    True
    """

    def __init__(self, base: Any, intercept: float = 0.0, slope: float = 1.0) -> None:
        self.base = base
        self.intercept = intercept
        self.slope = slope

    def __sklearn_is_fitted__(self) -> bool:
        try:
            check_is_fitted(self.base)
        except Exception:  # any failure means "not fitted"
            return False
        return True

    @property
    def classes_(self) -> np.ndarray:
        """The base model's classes."""
        return np.asarray(self.base.classes_)

    def _check(self) -> tuple[float, float]:
        if not hasattr(self.base, "predict_proba"):
            raise TypeError(NO_PROBA_MSG.format(got=type(self.base).__name__))
        values = []
        for name in ("intercept", "slope"):
            value = getattr(self, name)
            if isinstance(value, bool) or not np.isfinite(np.asarray(value, dtype=float)).all():
                raise ValueError(BAD_NUMBER_MSG.format(name=name, got=value))
            values.append(float(value))
        return values[0], values[1]

    def fit(self, X: Any, y: Any = None) -> RecalibratedModel:
        """Check the base model and the recalibration; nothing is fitted (the base is).

        Returns
        -------
        RecalibratedModel
            ``self``.
        """
        self._check()
        check_is_fitted(self.base)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return ``[1 - q, q]`` with ``q = expit(intercept + slope * logit(p))``.

        Parameters
        ----------
        X : pandas.DataFrame
            The base model's input columns.

        Returns
        -------
        numpy.ndarray of shape (n, 2)
        """
        check_is_fitted(self)
        intercept, slope = self._check()
        p = np.asarray(self.base.predict_proba(X), dtype="float64")[:, 1]
        lp = logit(np.clip(p, RECALIBRATION_CLIP, 1.0 - RECALIBRATION_CLIP))
        q = expit(intercept + slope * lp)
        return np.column_stack([1.0 - q, q])

    def predict(self, X: Any) -> np.ndarray:
        """Return the class with the higher recalibrated probability."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
