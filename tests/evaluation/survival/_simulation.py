"""Simulated cohorts with a known truth for the calibration tests (SYNTHETIC data only).

Exponential survival with hazard ``base * exp(x)``, ``x ~ N(0, 1)``, and uniform
censoring: the true risk by ``t`` is ``1 - exp(-base exp(x) t)`` and the true
survival at a patient's own time ``s`` is ``exp(-base exp(x) s)``. A model that
reports these is perfectly calibrated; scaling its hazard or its linear
predictor miscalibrates it in a known direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cohort:
    """A simulated cohort: follow-up, events and the true hazard of each patient."""

    time: np.ndarray
    event: np.ndarray
    hazard: np.ndarray
    x: np.ndarray

    def risk(self, t: float, *, scale: float = 1.0, power: float = 1.0) -> np.ndarray:
        """Predicted risk by ``t`` of a model with hazard ``scale * base * exp(power * x)``."""
        base = self.hazard / np.exp(self.x)
        return 1.0 - np.exp(-scale * base * np.exp(power * self.x) * t)

    def survival_at_own_time(self, *, scale: float = 1.0) -> np.ndarray:
        """Predicted S(T_i | x_i) of a model whose hazard is ``scale`` times the truth."""
        return np.exp(-scale * self.hazard * self.time)


def exponential_cohort(
    seed: int, n: int = 2000, *, base: float = 0.1, censor_max: float = 15.0
) -> Cohort:
    """Draw a cohort; ``censor_max = inf`` gives no censoring."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    hazard = base * np.exp(x)
    latent = rng.exponential(1.0 / hazard)
    censor = rng.uniform(0.0, censor_max, size=n) if np.isfinite(censor_max) else np.inf
    time = np.minimum(latent, censor)
    return Cohort(time=time, event=latent <= censor, hazard=hazard, x=x)
