"""Sample size for validating a binary-outcome model with precise estimates (Pavlou et al.).

Pavlou M, Qu C, Omar RZ, Seaman SR, Steyerberg EW, White IR, Ambler G. Estimation of
required sample size for external validation of risk models for binary outcomes. Stat
Methods Med Res 2021;30:2187-206. The linear predictor ``LP`` of a model that is
well calibrated in the validation population is taken to be normal, with (their eqs 7
and 8, for a prevalence ``phi <= 0.5``; a larger one is mirrored)

    sigma_c = sqrt(2) Phi^-1(C),
    mu = (2 phi - 1) sigma_c² / 2 + logit(phi),
    sigma = sqrt(sigma_c² (1 + phi (1 - phi) sigma_c²)),

so that the model's C-statistic is about ``C`` and its mean risk about ``phi``. Then:

1. *C-statistic* (their eq 9, closed form): ``n = (C - 2 T(-Phi^-1(C), 1/sqrt(3)) - C²)
   / (phi (1 - phi) SE_C²)``, with ``T`` Owen's T function.
2. *Calibration slope* (eq 12): ``n = [I^-1]_22 / SE_CS²``, where ``I = E[pi (1 - pi)
   (1, LP)(1, LP)']`` is the Fisher information per patient of the calibration model
   ``logit P(Y = 1) = a + b LP`` at ``a = 0, b = 1``, ``pi = expit(LP)``.
3. *Calibration-in-the-large* (eq 13): ``n = 1 / (E[pi (1 - pi)] SE_CL²)``.

The expectations are integrals over the normal ``LP`` (scipy's adaptive quadrature).
Each size is rounded up; the recommended size is the largest. These reproduce the
published worked examples of the authors' ``sampsizeval`` package, which the tests
check. For ``C > 0.8`` eqs 7 and 8 give a linear predictor whose actual C falls short
of ``C``; the authors widen ``sigma_c`` by a factor raised in steps of 0.01 until the
actual C is within 0.0025. Here the factor is solved for exactly (the actual C,
integrated, equals ``C``), so sizes for ``C > 0.8`` can differ slightly from theirs.

A standard error of 0.025 for C gives a 95% interval about 0.1 wide, and 0.1 for the
calibration slope or intercept one about 0.4 wide (the authors' example); Riley et al.
(Stat Med 2021;40:4230-51) suggest a slope interval 0.2 wide (``se_slope=0.051``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import FieldsRecord
from clinai.evaluation._inputs import check_number

__all__ = ["ValidationSampleSize", "validation_sample_size"]

VALIDATION_PARAMETER_MSG = "{name} must be {rule}; got {value!r}"
#: Above this anticipated C the normal approximation is tuned to reach it (see above).
_TUNE_ABOVE_C = 0.8


@dataclass(frozen=True)
class ValidationSampleSize(FieldsRecord):
    """Patients needed to validate a binary-outcome model precisely (Pavlou et al. 2021).

    Attributes
    ----------
    prevalence, c_statistic : float
        The anticipated outcome proportion and C-statistic in the validation population.
    se_c_statistic, se_slope, se_large : float
        The target standard errors of the C-statistic, the calibration slope and the
        calibration-in-the-large.
    n_c_statistic, n_slope, n_large : int
        Patients each target needs.
    n : int
        The recommended size: the largest of the three.
    events : int
        Expected events at ``n``: ``ceil(n * prevalence)``.
    binding_criterion : str
        ``"c_statistic"``, ``"calibration_slope"`` or ``"calibration_large"``.
    """

    prevalence: float
    c_statistic: float
    se_c_statistic: float
    se_slope: float
    se_large: float
    n_c_statistic: int
    n_slope: int
    n_large: int
    n: int
    events: int
    binding_criterion: str


def _linear_predictor(phi: float, c: float, factor: float) -> tuple[float, float]:
    """Mean and SD of the normal linear predictor (Pavlou et al. eqs 7 and 8)."""
    from scipy.stats import norm

    sigma_c = math.sqrt(2.0) * float(norm.ppf(c)) * factor
    mu = 0.5 * (2.0 * phi - 1.0) * sigma_c**2 + math.log(phi / (1.0 - phi))
    return mu, math.sqrt(sigma_c**2 * (1.0 + phi * (1.0 - phi) * sigma_c**2))


def _expectation(function: Any, mu: float, sigma: float) -> float:
    """``E[function(LP)]`` for ``LP ~ N(mu, sigma²)``."""
    from scipy import integrate
    from scipy.stats import norm

    value, _ = integrate.quad(lambda x: function(x) * norm.pdf(x, mu, sigma), -np.inf, np.inf)
    return float(value)


def _actual_c(mu: float, sigma: float) -> float:
    """Return the C-statistic of a calibrated logistic model whose LP is ``N(mu, sigma²)``.

    ``P(LP of an event > LP of a non-event)``, the densities ``expit(x) f(x)`` and
    ``(1 - expit(x)) f(x)`` normalised, on a fine grid (trapezoid rule).
    """
    from scipy.special import expit
    from scipy.stats import norm

    x = np.linspace(mu - 12.0 * sigma, mu + 12.0 * sigma, 40_001)
    density = norm.pdf(x, mu, sigma)
    events, others = expit(x) * density, (1.0 - expit(x)) * density
    events /= np.trapezoid(events, x)
    others /= np.trapezoid(others, x)
    steps = np.diff(x)
    below = np.concatenate([[0.0], np.cumsum(0.5 * (events[1:] + events[:-1]) * steps)])
    return float(np.trapezoid(others * (1.0 - below), x))


def _tuned(phi: float, c: float) -> tuple[float, float]:
    """Return the linear predictor whose actual C is ``c`` (eqs 7-8, ``sigma_c`` scaled)."""
    from scipy.optimize import brentq

    if c <= _TUNE_ABOVE_C:
        return _linear_predictor(phi, c, 1.0)
    factor = brentq(lambda f: _actual_c(*_linear_predictor(phi, c, f)) - c, 1.0, 3.0, xtol=1e-10)
    return _linear_predictor(phi, c, factor)


def validation_sample_size(
    prevalence: float,
    c_statistic: float,
    *,
    se_c_statistic: float = 0.025,
    se_slope: float = 0.1,
    se_large: float = 0.1,
) -> ValidationSampleSize:
    """Return the patients needed to estimate C, the calibration slope and intercept precisely.

    The criteria of Pavlou et al. (Stat Methods Med Res 2021;30:2187-206) for the
    external validation of a binary-outcome model; see the module docstring for the
    formulas.

    Parameters
    ----------
    prevalence : float
        Anticipated outcome proportion in the validation population, in (0, 1).
    c_statistic : float
        Anticipated C-statistic (AUROC) there, in (0.5, 1).
    se_c_statistic, se_slope, se_large : float, default=0.025, 0.1, 0.1
        Target standard errors of the C-statistic, the calibration slope and the
        calibration-in-the-large (intervals about 0.1, 0.4 and 0.4 wide).

    Returns
    -------
    ValidationSampleSize

    Raises
    ------
    DataError
        If an argument is outside its range.

    See Also
    --------
    riley_sample_size : the minimum sample size for developing a model.

    Examples
    --------
    >>> size = validation_sample_size(0.1, 0.75)
    >>> size.n, size.binding_criterion
    (1536, 'calibration_slope')
    """
    from scipy.special import expit, owens_t
    from scipy.stats import norm

    def number(value: Any, name: str, low: float, high: float) -> float:
        rule = f"a number strictly between {low:g} and {high:g}"
        message = VALIDATION_PARAMETER_MSG.format(name=name, rule=rule, value=value)
        return check_number(value, message, low, high, closed=False)

    phi = number(prevalence, "prevalence", 0.0, 1.0)
    c = number(c_statistic, "c_statistic", 0.5, 1.0)
    targets = [number(se, name, 0.0, 1.0) for se, name in (
        (se_c_statistic, "se_c_statistic"), (se_slope, "se_slope"), (se_large, "se_large"),
    )]  # fmt: skip
    mirrored = min(phi, 1.0 - phi)  # the formulas take the rarer class as the outcome
    mu, sigma = _tuned(mirrored, c)

    def weight(x: Any) -> Any:
        risk = expit(x)
        return risk * (1.0 - risk)

    info = np.array(
        [
            [_expectation(weight, mu, sigma), _expectation(lambda x: weight(x) * x, mu, sigma)],
            [0.0, _expectation(lambda x: weight(x) * x * x, mu, sigma)],
        ]
    )
    info[1, 0] = info[0, 1]
    variance_c = c - 2.0 * float(owens_t(-norm.ppf(c), 1.0 / math.sqrt(3.0))) - c**2
    sizes = {
        "c_statistic": variance_c / (mirrored * (1.0 - mirrored) * targets[0] ** 2),
        "calibration_slope": float(np.linalg.inv(info)[1, 1]) / targets[1] ** 2,
        "calibration_large": 1.0 / (info[0, 0] * targets[2] ** 2),
    }
    needed = {name: math.ceil(value) for name, value in sizes.items()}
    binding = max(needed, key=lambda name: needed[name])
    return ValidationSampleSize(
        prevalence=phi,
        c_statistic=c,
        se_c_statistic=targets[0],
        se_slope=targets[1],
        se_large=targets[2],
        n_c_statistic=needed["c_statistic"],
        n_slope=needed["calibration_slope"],
        n_large=needed["calibration_large"],
        n=needed[binding],
        events=math.ceil(needed[binding] * phi),
        binding_criterion=binding,
    )
