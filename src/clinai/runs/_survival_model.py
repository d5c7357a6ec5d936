"""The saved model of a survival run: a survival pipeline that answers ``predict_proba``.

MLflow's scikit-learn flavour (``clinai.tracking.save_model_dir``, the registry, a pyfunc
reload) serves ``predict_proba``; a survival model predicts risks at any horizon. The
wrapper fixes the run's horizons and returns, as the binary models do, the two columns
``[1 - risk, risk]`` at the first one, so the registered model scores like a binary one
while ``predict_risk`` still gives every horizon.
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
    """

    #: What ``predict_proba`` returns (recorded in training.json).
    OUTPUT = "predict_proba: [1 - risk, risk] of the event by the first horizon ({horizon:g})"

    def __init__(self, model: Any, horizons: Sequence[float]) -> None:
        self.model = model
        self.horizons = horizons

    def predict_risk(self, X: Any, horizons: Any = None) -> np.ndarray:
        """Risk of the event by each horizon (default the run's), shape (n, horizons)."""
        return self.model.predict_risk(X, self.horizons if horizons is None else horizons)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[1 - risk, risk]`` of the event by the first horizon, shape (n, 2)."""
        risk = self.predict_risk(X, [self.horizons[0]])[:, 0]
        return np.column_stack([1.0 - risk, risk])

    def linear_predictor(self, X: Any) -> np.ndarray:
        """Return the linear predictor (log relative hazard; higher = higher risk)."""
        return np.asarray(self.model.predict(X), dtype=float)
