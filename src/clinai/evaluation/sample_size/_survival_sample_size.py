"""Minimum sample size for developing a prediction model of a time-to-event outcome (Riley et al.).

Riley RD, Snell KIE, Ensor J, et al. Minimum sample size for developing a
multivariable prediction model: Part II - binary and time-to-event outcomes. Stat
Med 2019;38:1276-96 (section 4), as computed by the ``pmsampsize`` package
(``type = "s"``). With ``lambda`` the overall event rate (events per unit of
person-time), ``T`` the mean follow-up, ``t`` the timepoint of interest, ``P`` the
number of candidate predictor parameters and ``R2`` the anticipated Cox-Snell R²:

1. *Small overfitting*: expected uniform shrinkage of the predictor effects at
   least ``S`` (default 0.9): ``n >= P / ((S - 1) ln(1 - R2 / S))``, as for a
   binary outcome.
2. *Small optimism in apparent fit*: apparent and adjusted Nagelkerke R² differ
   by at most ``delta`` (default 0.05). The largest Cox-Snell R² is that of the
   null exponential (constant hazard) model, ``max(R2) = 1 - exp(2 lnL_null / n)``
   with ``lnL_null = E ln(E / n) - E`` and ``E = n lambda T`` the expected events
   (the paper's equation and ``pmsampsize``'s; it does not depend on ``n``). The
   needed shrinkage is ``S_VH = R2 / (R2 + delta max(R2))``, hence
   ``n >= P / ((S_VH - 1) ln(1 - R2 / S_VH))``.
3. *Precise overall risk at the timepoint*: under exponential survival the risk
   by ``t`` is ``1 - exp(-lambda t)``; with the rate's standard error
   ``sqrt(lambda / (n T))`` the 95% upper limit of the risk,
   ``1 - exp(-(lambda + 1.96 sqrt(lambda / (n T))) t)``, exceeds the risk by at
   most ``margin`` (default 0.05; the upper margin, which ``pmsampsize`` reports).
   Solved for ``n``: with ``u = -ln(exp(-lambda t) - margin) / t``,
   ``n >= lambda / (T ((u - lambda) / 1.96)^2)`` (any ``n`` when
   ``exp(-lambda t) <= margin``).

Each requirement is rounded up to a whole participant; the minimum is the
largest. Events are ``ceil(n lambda T)``, events per candidate parameter
``n lambda T / P``. ``pmsampsize`` only reports criterion 3 at the size of
criteria 1 and 2; here it is a requirement of its own (it rarely binds).
"""

from __future__ import annotations

import dataclasses
import math

from clinai.evaluation.sample_size._sample_size import (
    _Z,
    PARAMETER_MSG,
    SampleSizeResult,
    _criterion,
    _expected_shrinkage,
    _real,
    _shared_inputs,
    _shrinkage_n,
)
from clinai.exceptions import DataError

__all__ = ["SURVIVAL_R2_MSG", "max_cox_snell_r2_survival", "riley_sample_size_survival"]

SURVIVAL_R2_MSG = (
    "r2_cs must be above 0 and below both the largest Cox-Snell R² possible at "
    "{events_per_person:g} expected events per participant ({max_r2:.4f}) and the target "
    "shrinkage {shrinkage:g}; got {value!r}"
)
_RISK_DESCRIPTION = (
    "precise overall risk: margin of error of the risk by time {timepoint:g} at most {target:g}"
)


def max_cox_snell_r2_survival(rate: float, mean_follow_up: float) -> float:
    """Largest Cox-Snell R² for a time-to-event outcome (null exponential model).

    ``max(R2) = 1 - exp(2 lnL_null / n)`` with ``lnL_null = E ln(E / n) - E`` and
    ``E / n = rate * mean_follow_up`` (Riley et al. 2019, Part II; ``pmsampsize``).

    Parameters
    ----------
    rate : float
        Overall event rate, events per unit of person-time (> 0).
    mean_follow_up : float
        Mean follow-up per participant, in the same time unit (> 0).

    Returns
    -------
    float
        The largest possible Cox-Snell R², in (0, 1).

    Examples
    --------
    >>> round(max_cox_snell_r2_survival(0.065, 2.07), 3)
    0.555
    """
    lam = _real(rate, "rate", "a positive number", 0.0, math.inf, closed=False)
    fup = _real(mean_follow_up, "mean_follow_up", "a positive number", 0.0, math.inf, closed=False)
    per_person = lam * fup
    return 1.0 - math.exp(2.0 * (per_person * math.log(per_person) - per_person))


def _risk_n(rate: float, mean_follow_up: float, timepoint: float, margin: float) -> float:
    """Participants for an upper margin of error ``margin`` of ``1 - exp(-rate t)``."""
    survival = math.exp(-rate * timepoint)
    if survival <= margin:  # the upper limit (at most 1) cannot exceed the risk by more
        return 1.0
    upper_rate = -math.log(survival - margin) / timepoint
    se_max = (upper_rate - rate) / _Z
    return rate / (mean_follow_up * se_max**2)


def riley_sample_size_survival(
    *,
    rate: float,
    mean_follow_up: float,
    timepoint: float,
    n_parameters: int,
    r2_cs: float | None = None,
    shrinkage: float = 0.9,
    delta_r2: float = 0.05,
    margin: float = 0.05,
) -> SampleSizeResult:
    """Minimum sample size to develop a time-to-event prediction model (Riley et al.).

    Computes the participants each criterion requires (module docstring; Riley
    et al., Stat Med 2019;38:1276-96; ``pmsampsize`` ``type = "s"``):
    ``shrinkage`` (expected uniform shrinkage >= ``shrinkage``), ``optimism``
    (apparent minus adjusted Nagelkerke R² <= ``delta_r2``) and ``overall_risk``
    (95% upper margin of error of the risk by ``timepoint`` <= ``margin``, under
    exponential survival). The minimum is the largest requirement.

    Parameters
    ----------
    rate : float
        Overall event rate: events per unit of person-time (> 0).
    mean_follow_up : float
        Mean follow-up per participant, same time unit (> 0).
    timepoint : float
        Time at which the model predicts risk (the horizon), same unit (> 0).
    n_parameters : int
        Candidate predictor parameters.
    r2_cs : float, optional
        Anticipated Cox-Snell R². Default: 15% of the largest possible
        (:func:`max_cox_snell_r2_survival`), Riley et al.'s (BMJ 2020)
        suggestion when nothing better is known.
    shrinkage : float, default=0.9
        Target expected shrinkage, in (0, 1).
    delta_r2 : float, default=0.05
        Largest acceptable difference between apparent and adjusted Nagelkerke R².
    margin : float, default=0.05
        Largest acceptable margin of error of the overall risk by ``timepoint``.

    Returns
    -------
    SampleSizeResult
        As for a binary outcome; its ``prevalence`` is the expected events per
        participant, ``rate * mean_follow_up``, so that ``events`` is
        ``ceil(n * rate * mean_follow_up)``. ``r2_cs_source`` is ``"given"`` or
        ``"default: 15% of the largest possible"``.

    Raises
    ------
    DataError
        If a parameter is out of range, the expected events per participant are
        not below 1, or ``r2_cs`` is not below the largest possible R² and the
        target shrinkage.

    Examples
    --------
    The worked example of Riley et al. (2019, Part II) and ``pmsampsize``:

    >>> result = riley_sample_size_survival(
    ...     rate=0.065, mean_follow_up=2.07, timepoint=2, n_parameters=30, r2_cs=0.051
    ... )
    >>> [c.n for c in result.criteria], result.n, result.events
    ([5143, 1039, 141], 5143, 692)
    """
    lam = _real(rate, "rate", "a positive number", 0.0, math.inf, closed=False)
    fup = _real(mean_follow_up, "mean_follow_up", "a positive number", 0.0, math.inf, closed=False)
    t = _real(timepoint, "timepoint", "a positive number", 0.0, math.inf, closed=False)
    per_person = lam * fup
    if per_person >= 1.0:
        raise DataError(
            PARAMETER_MSG.format(
                name="rate * mean_follow_up",
                rule="below 1 (events per participant)",
                value=per_person,
            )
        )
    params, target_s, delta, moe = _shared_inputs(n_parameters, shrinkage, delta_r2, margin)
    max_r2 = max_cox_snell_r2_survival(lam, fup)
    if r2_cs is None:
        r2, source = 0.15 * max_r2, "default: 15% of the largest possible"
    else:
        r2, source = _real(r2_cs, "r2_cs", "a number", -math.inf, math.inf, closed=False), "given"
    if not 0.0 < r2 < min(max_r2, target_s):
        raise DataError(
            SURVIVAL_R2_MSG.format(
                events_per_person=per_person, max_r2=max_r2, shrinkage=target_s, value=r2_cs
            )
        )
    s_vh = r2 / (r2 + delta * max_r2)
    risk = _criterion("overall_risk", moe, _risk_n(lam, fup, t, moe), per_person, params)
    criteria = (
        _criterion("shrinkage", target_s, _shrinkage_n(params, r2, target_s), per_person, params),
        _criterion("optimism", delta, _shrinkage_n(params, r2, s_vh), per_person, params),
        dataclasses.replace(risk, description=_RISK_DESCRIPTION.format(timepoint=t, target=moe)),
    )
    binding = max(criteria, key=lambda item: item.n)
    return SampleSizeResult(
        prevalence=per_person,
        r2_cs=r2,
        r2_cs_source=source,
        c_statistic=None,
        max_r2_cs=max_r2,
        r2_nagelkerke=r2 / max_r2,
        n_parameters=params,
        criteria=criteria,
        n=binding.n,
        events=binding.events,
        events_per_parameter=binding.n * per_person / params,
        expected_shrinkage=_expected_shrinkage(binding.n, params, r2),
        binding_criterion=binding.name,
    )
