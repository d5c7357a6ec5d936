"""The saved model of a survival run: a survival pipeline that answers ``predict_proba``.

MLflow's scikit-learn flavour (``clinai.tracking.save_model_dir``, the registry, a pyfunc
reload) serves ``predict_proba``; a survival model predicts risks at any horizon. The
wrapper fixes the run's horizons and returns, as the binary models do, the two columns
``[1 - risk, risk]`` at the first one, so the registered model scores like a binary one
while ``predict_risk`` still gives every horizon.

With a ``recalibration`` (fitted on out-of-fold risks of the training split, see
:mod:`clinai.models._survival_recalibration`) every risk and the linear predictor are the
recalibrated ones: slope and baseline hazard re-estimated, the ranking unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["HorizonRiskModel"]


class HorizonRiskModel(BaseEstimator):
    """A fitted survival pipeline with its horizons; ``predict_proba`` at the first one.

    Parameters
    ----------
    model : SurvivalPipeline
        Fitted; has ``predict_risk(X, horizons)`` and ``predict`` (linear predictor).
    horizons : sequence of float
        The config's ``outcome.horizons`` (time unit of the data).
    recalibration : SurvivalRecalibration, optional
        Maps the model's risk at the first horizon to recalibrated risks; None keeps
        the model's own risks.
    """

    #: What ``predict_proba`` returns (recorded in training.json).
    OUTPUT = "predict_proba: [1 - risk, risk] of the event by the first horizon ({horizon:g})"

    def __init__(self, model: Any, horizons: Sequence[float], recalibration: Any = None) -> None:
        self.model = model
        self.horizons = horizons
        self.recalibration = recalibration

    def predict_risk(self, X: Any, horizons: Any = None) -> np.ndarray:
        """Risk of the event by each horizon (default the run's), shape (n, horizons)."""
        horizons = self.horizons if horizons is None else horizons
        if getattr(self, "recalibration", None) is None:  # a model saved before recalibration
            return self.model.predict_risk(X, horizons)
        base = self.model.predict_risk(X, [self.recalibration.horizon])[:, 0]
        return self.recalibration.risk(base, horizons)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[1 - risk, risk]`` of the event by the first horizon, shape (n, 2)."""
        risk = self.predict_risk(X, [self.horizons[0]])[:, 0]
        return np.column_stack([1.0 - risk, risk])

    def linear_predictor(self, X: Any) -> np.ndarray:
        """Return the linear predictor (log relative hazard; higher = higher risk).

        Recalibrated: ``slope * cloglog(model risk at the first horizon)``, on whose
        scale a perfectly calibrated model has a Cox calibration slope of 1.
        """
        if getattr(self, "recalibration", None) is None:  # a model saved before recalibration
            return np.asarray(self.model.predict(X), dtype=float)
        base = self.model.predict_risk(X, [self.recalibration.horizon])[:, 0]
        return np.asarray(self.recalibration.linear_predictor(base), dtype=float)
