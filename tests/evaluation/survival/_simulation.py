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


def exponential_latent_times(
    rng: np.random.Generator, n: int, *, censor_mean: float, censor_cap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``lp ~ N(0, 1)``, event times with hazard ``0.1 exp(lp)`` and censoring times.

    Censoring is exponential with mean ``censor_mean``, cut at ``censor_cap`` (the end of
    follow-up). The draws come from ``rng`` in that order, so a caller that draws more
    columns afterwards gets the same cohort as before; it rounds and combines them itself.
    """
    lp = rng.normal(size=n)
    event_time = rng.exponential(1.0 / (0.1 * np.exp(lp)))
    censor_time = np.minimum(rng.exponential(censor_mean, size=n), censor_cap)
    return lp, event_time, censor_time


@dataclass(frozen=True)
class CompetingCohort:
    """A simulated cohort with two causes and the true cumulative incidence of cause 1."""

    time: np.ndarray
    codes: np.ndarray
    x: np.ndarray
    p: float

    def cif(self, t: float, *, power: float = 1.0) -> np.ndarray:
        """Predicted cumulative incidence of cause 1 by ``t``; ``power`` scales the lp."""
        return 1.0 - (1.0 - self.p * (1.0 - np.exp(-t))) ** np.exp(power * self.x)


def fine_gray_cohort(seed: int, n: int = 3000, *, p: float = 0.4) -> CompetingCohort:
    """Fine & Gray's (1999) simulation: cause 1 with subdistribution hazards in x.

    F1(t | x) = 1 - (1 - p (1 - exp(-t))) ** exp(x); cause 2 otherwise, exponential
    with rate exp(x / 2); censoring uniform on [0, 5].
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    relative = np.exp(x)
    total = 1.0 - (1.0 - p) ** relative  # F1(infinity | x)
    first = rng.random(n) < total
    drawn = rng.random(n) * total  # F1(T1 | x) is uniform on [0, F1(infinity)]
    t1 = -np.log1p(-(1.0 - (1.0 - drawn) ** (1.0 / relative)) / p)
    t2 = rng.exponential(1.0 / np.exp(0.5 * x))
    latent = np.where(first, t1, t2)
    censor = rng.uniform(0.0, 5.0, n)
    codes = np.where(latent <= censor, np.where(first, 1, 2), 0)
    return CompetingCohort(time=np.minimum(latent, censor), codes=codes, x=x, p=p)
