"""Minimum sample size for developing a prediction model of a binary outcome (Riley et al.).

Criteria (Riley RD, Snell KIE, Ensor J, et al. Minimum sample size for developing a
multivariable prediction model: Part II - binary and time-to-event outcomes. Stat Med
2019;38:1276-96, with its correction Stat Med 2019;38:5672; and Riley RD, Ensor J,
Snell KIE, et al. Calculating the sample size required for developing a clinical
prediction model. BMJ 2020;368:m441). With ``phi`` the anticipated outcome
proportion, ``P`` the number of candidate predictor parameters and ``R2`` the
anticipated (adjusted) Cox-Snell R² of the model:

1. *Small overfitting*: expected uniform shrinkage of the predictor effects at
   least ``S`` (default 0.9): ``n >= P / ((S - 1) ln(1 - R2 / S))``.
2. *Small optimism in apparent fit*: apparent and adjusted Nagelkerke R²
   differ by at most ``delta`` (default 0.05). With
   ``max(R2) = 1 - exp(2 lnL_null / n) = 1 - (phi^phi (1 - phi)^(1 - phi))^2`` this
   needs shrinkage ``S_VH = R2 / (R2 + delta max(R2))``, hence
   ``n >= P / ((S_VH - 1) ln(1 - R2 / S_VH))``.
3. *Precise overall risk*: the 95% confidence interval of ``phi`` has a
   margin of error at most ``margin`` (default 0.05):
   ``n >= (1.96 / margin)^2 phi (1 - phi)``.
4. *Small mean absolute prediction error* (optional; van Smeden M, Moons KGM,
   de Groot JAH, et al. Sample size for binary logistic prediction models:
   beyond events per variable criteria. Stat Methods Med Res 2019;28:2455-74,
   used as a criterion in Riley et al. BMJ 2020): their simulation-based
   formula ``MAPE = exp(-0.508 + 0.259 ln(phi) + 0.504 ln(P) - 0.544 ln(n))``
   solved for ``n`` at the target MAPE:
   ``n >= exp((-0.508 + 0.259 ln(phi) + 0.504 ln(P) - ln(MAPE)) / 0.544)``.

Each requirement is rounded up to a whole participant; the minimum sample size
is the largest. Events are ``ceil(n phi)`` and events per candidate parameter
``n phi / P``. These reproduce the published worked examples of the
``pmsampsize`` package (R, Stata and Python), which the tests check.

When only the anticipated C-statistic is known, the Cox-Snell R² follows from
Riley RD, Van Calster B, Collins GS. A note on estimating the Cox-Snell R² from a
reported C statistic (AUROC) to inform sample size calculations for developing a
prediction model with a binary outcome. Stat Med 2021;40:859-64: the linear
predictor is normal with variance 1 in events and in non-events, its means
``sqrt(2) Phi^-1(C)`` apart, so that the model's C-statistic is ``C``; the
logistic model on that linear predictor is then exactly right, and ``R2`` is
the Cox-Snell R² it attains in a very large sample,
``R2 = 1 - exp(-LR / n) -> 1 - exp(-2 I)``, where ``I`` is the mutual
information (in nats) between outcome and linear predictor. Riley et al. (and
``pmsampsize``) estimate it by simulating one million patients; here ``I`` is
computed by numerical integration, which gives the same quantity without
simulation error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinai.evaluation._estimate import FieldsRecord, _num
from clinai.evaluation._inputs import check_number
from clinai.exceptions import DataError

__all__ = [
    "C_STATISTIC_MSG",
    "PARAMETER_MSG",
    "R2_MSG",
    "R2_SOURCE_MSG",
    "cox_snell_r2_from_c_statistic",
    "max_cox_snell_r2",
    "riley_sample_size",
]

PARAMETER_MSG = "{name} must be {rule}; got {value!r}"
R2_SOURCE_MSG = (
    "give exactly one of r2_cs (anticipated Cox-Snell R²) and c_statistic (anticipated "
    "C-statistic, converted to R² by Riley et al. 2021); got r2_cs={r2!r}, "
    "c_statistic={c!r}"
)
R2_MSG = (
    "r2_cs must be above 0 and below both the largest Cox-Snell R² possible at prevalence "
    "{prevalence:g} ({max_r2:.4f}) and the target shrinkage {shrinkage:g}; got {value!r}"
)
C_STATISTIC_MSG = "c_statistic must lie strictly between 0.5 and 1; got {value!r}"
#: Normal quantile of Riley et al.'s 95% margin-of-error criterion (as published).
_Z = 1.96
#: Coefficients of van Smeden et al.'s (2019) MAPE formula.
_MAPE_COEF = (-0.508, 0.259, 0.504, 0.544)

_DESCRIPTIONS = {
    "shrinkage": "small overfitting: expected shrinkage of predictor effects at least {target:g}",
    "optimism": (
        "small optimism: apparent and adjusted Nagelkerke R² differ by at most {target:g}"
    ),
    "overall_risk": "precise overall risk: margin of error of the outcome proportion at most "
    "{target:g}",
    "mape": "small mean absolute prediction error: at most {target:g} (van Smeden et al. 2019)",
}


@dataclass(frozen=True)
class SampleSizeCriterion(FieldsRecord):
    """One of Riley et al.'s minimum sample size criteria (see :func:`riley_sample_size`).

    Attributes
    ----------
    name : str
        ``"shrinkage"``, ``"optimism"``, ``"overall_risk"`` or ``"mape"``.
    description : str
        What the criterion ensures, in plain words.
    target : float
        The criterion's target (expected shrinkage, R² difference, margin of
        error or mean absolute prediction error).
    n : int
        Smallest number of participants that meets it.
    events : int
        Expected number of events at that size, ``ceil(n * prevalence)``.
    events_per_parameter : float
        ``n * prevalence / n_parameters``.
    """

    _json_counts = ("n", "events")

    name: str
    description: str
    target: float
    n: int
    events: int
    events_per_parameter: float


@dataclass(frozen=True)
class SampleSizeResult:
    """Minimum sample size for developing a binary-outcome model (Riley et al.).

    Attributes
    ----------
    prevalence : float
        Anticipated outcome proportion.
    r2_cs : float
        Anticipated Cox-Snell R² of the model.
    r2_cs_source : str
        ``"given"`` or ``"c_statistic"`` (derived from ``c_statistic``).
    c_statistic : float or None
        Anticipated C-statistic, when ``r2_cs`` was derived from it.
    max_r2_cs : float
        Largest Cox-Snell R² possible at this prevalence.
    r2_nagelkerke : float
        ``r2_cs / max_r2_cs``.
    n_parameters : int
        Candidate predictor parameters.
    criteria : tuple of SampleSizeCriterion
        Each criterion's requirement.
    n : int
        The minimum sample size: the largest requirement.
    events : int
        Expected events at ``n``: ``ceil(n * prevalence)``.
    events_per_parameter : float
        ``n * prevalence / n_parameters``.
    expected_shrinkage : float
        Expected uniform shrinkage of a model developed on ``n`` participants.
    binding_criterion : str
        Name of the criterion that requires ``n``.
    """

    prevalence: float
    r2_cs: float
    r2_cs_source: str
    c_statistic: float | None
    max_r2_cs: float
    r2_nagelkerke: float
    n_parameters: int
    criteria: tuple[SampleSizeCriterion, ...]
    n: int
    events: int
    events_per_parameter: float
    expected_shrinkage: float
    binding_criterion: str

    def __getitem__(self, name: str) -> SampleSizeCriterion:
        for criterion in self.criteria:
            if criterion.name == name:
                return criterion
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON values."""
        return {
            "prevalence": _num(self.prevalence),
            "r2_cs": _num(self.r2_cs),
            "r2_cs_source": self.r2_cs_source,
            "c_statistic": _num(self.c_statistic),
            "max_r2_cs": _num(self.max_r2_cs),
            "r2_nagelkerke": _num(self.r2_nagelkerke),
            "n_parameters": int(self.n_parameters),
            "criteria": [c.to_dict() for c in self.criteria],
            "n": int(self.n),
            "events": int(self.events),
            "events_per_parameter": _num(self.events_per_parameter),
            "expected_shrinkage": _num(self.expected_shrinkage),
            "binding_criterion": self.binding_criterion,
        }


def _shared_inputs(
    n_parameters: Any, shrinkage: Any, delta_r2: Any, margin: Any
) -> tuple[int, float, float, float]:
    """Check the inputs every outcome type's criteria share (binary and time-to-event)."""
    if (
        isinstance(n_parameters, bool)
        or not isinstance(n_parameters, int | np.integer)
        or n_parameters < 1
    ):
        raise DataError(
            PARAMETER_MSG.format(name="n_parameters", rule="a positive integer", value=n_parameters)
        )
    params = int(n_parameters)
    target_s = _real(shrinkage, "shrinkage", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    delta = _real(delta_r2, "delta_r2", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    moe = _real(margin, "margin", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    return params, target_s, delta, moe


def _real(value: Any, name: str, rule: str, low: float, high: float, *, closed: bool) -> float:
    """Return ``value`` as a float in ``(low, high)`` (``(low, high]`` when closed)."""
    message = PARAMETER_MSG.format(name=name, rule=rule, value=value)
    return check_number(value, message, low, high, closed=closed)


def max_cox_snell_r2(prevalence: float) -> float:
    """Largest Cox-Snell R² possible for a binary outcome with this prevalence.

    ``max(R2) = 1 - exp(2 lnL_null / n) = 1 - (phi^phi (1 - phi)^(1 - phi))^2``,
    the R² of a model that predicts every outcome perfectly (Riley et al. 2019,
    equation 23).

    Parameters
    ----------
    prevalence : float
        Outcome proportion, strictly between 0 and 1.

    Returns
    -------
    float
        The maximum, e.g. 0.75 at a prevalence of 0.5.

    Examples
    --------
    >>> round(max_cox_snell_r2(0.5), 4)
    0.75
    """
    phi = _real(prevalence, "prevalence", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    null_loglik = phi * math.log(phi) + (1.0 - phi) * math.log(1.0 - phi)
    return 1.0 - math.exp(2.0 * null_loglik)


def cox_snell_r2_from_c_statistic(c_statistic: float, prevalence: float) -> float:
    """Anticipated Cox-Snell R² from an anticipated C-statistic (Riley et al. 2021).

    The linear predictor is ``N(0, 1)`` in non-events and ``N(mu, 1)`` in
    events with ``mu = sqrt(2) Phi^-1(C)`` (so its C-statistic is ``C``), a
    proportion ``phi`` being events. The logistic model on it is then exact,
    and its Cox-Snell R² in a large sample is ``1 - exp(-2 I)``, ``I`` the
    mutual information between outcome and linear predictor:
    ``I = phi E_1[-ln(phi + (1 - phi) exp(mu^2/2 - mu x))]
    + (1 - phi) E_0[-ln(1 - phi + phi exp(mu x - mu^2/2))]``, the expectations
    under ``N(mu, 1)`` and ``N(0, 1)``, computed by adaptive quadrature.
    Riley et al. (and ``pmsampsize``) estimate the same quantity by simulating
    one million patients.

    Parameters
    ----------
    c_statistic : float
        Anticipated C-statistic (AUROC), strictly between 0.5 and 1.
    prevalence : float
        Anticipated outcome proportion, strictly between 0 and 1.

    Returns
    -------
    float
        The anticipated Cox-Snell R².

    Raises
    ------
    DataError
        If ``c_statistic`` or ``prevalence`` is out of range.

    Examples
    --------
    >>> round(cox_snell_r2_from_c_statistic(0.8, 0.2), 4)
    0.1827
    """
    from scipy.integrate import quad
    from scipy.stats import norm

    phi = _real(prevalence, "prevalence", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    c = check_number(c_statistic, C_STATISTIC_MSG.format(value=c_statistic), 0.5, 1.0)
    mu = math.sqrt(2.0) * float(norm.ppf(c))
    log_phi, log_rest = math.log(phi), math.log(1.0 - phi)

    def events(x: float) -> float:
        # -ln(phi + (1 - phi) exp(mu^2/2 - mu x)) weighted by the N(mu, 1) density
        value = -np.logaddexp(log_phi, log_rest + mu * mu / 2.0 - mu * x)
        return float(value * norm.pdf(x, loc=mu))

    def non_events(x: float) -> float:
        value = -np.logaddexp(log_rest, log_phi + mu * x - mu * mu / 2.0)
        return float(value * norm.pdf(x))

    span = 12.0
    part1, _ = quad(events, mu - span, mu + span, epsabs=1e-13, epsrel=1e-12, limit=200)
    part0, _ = quad(non_events, -span, span, epsabs=1e-13, epsrel=1e-12, limit=200)
    information = phi * part1 + (1.0 - phi) * part0
    return 1.0 - math.exp(-2.0 * information)


def _shrinkage_n(n_parameters: int, r2: float, shrinkage: float) -> float:
    """``P / ((S - 1) ln(1 - R2 / S))``: participants for an expected shrinkage ``S``."""
    return n_parameters / ((shrinkage - 1.0) * math.log(1.0 - r2 / shrinkage))


def _expected_shrinkage(n: int, n_parameters: int, r2: float) -> float:
    """Return the expected shrinkage ``S`` of a model developed on ``n`` participants.

    The root in ``(R2, 1)`` of ``(S - 1) ln(1 - R2 / S) = P / n``, the shrinkage
    formula of criterion 1 solved for ``S``.
    """
    from scipy.optimize import brentq

    target = n_parameters / n

    def gap(s: float) -> float:
        return (s - 1.0) * math.log(1.0 - r2 / s) - target

    low = r2 * (1.0 + 1e-12) + 1e-300
    high = 1.0 - 1e-15
    if gap(high) > 0.0:
        return 1.0
    return float(brentq(gap, low, high, xtol=1e-14, rtol=1e-14))


def _criterion(
    name: str, target: float, n: float, prevalence: float, n_parameters: int
) -> SampleSizeCriterion:
    whole = max(math.ceil(n - 1e-9), 1)
    return SampleSizeCriterion(
        name=name,
        description=_DESCRIPTIONS[name].format(target=target),
        target=target,
        n=whole,
        events=math.ceil(whole * prevalence - 1e-9),
        events_per_parameter=whole * prevalence / n_parameters,
    )


def riley_sample_size(
    *,
    prevalence: float,
    n_parameters: int,
    r2_cs: float | None = None,
    c_statistic: float | None = None,
    shrinkage: float = 0.9,
    delta_r2: float = 0.05,
    margin: float = 0.05,
    mape: float | None = None,
) -> SampleSizeResult:
    """Minimum sample size to develop a binary-outcome prediction model (Riley et al.).

    Computes the participants each criterion requires (module docstring;
    Riley et al., Stat Med 2019;38:1276-96 and BMJ 2020;368:m441):
    ``shrinkage`` (expected uniform shrinkage >= ``shrinkage``), ``optimism``
    (apparent minus adjusted Nagelkerke R² <= ``delta_r2``),
    ``overall_risk`` (margin of error of the outcome proportion <= ``margin``)
    and, when ``mape`` is given, ``mape`` (van Smeden et al.'s mean absolute
    prediction error <= ``mape``). The minimum is the largest requirement.

    Parameters
    ----------
    prevalence : float
        Anticipated outcome proportion in the development data, in (0, 1).
    n_parameters : int
        Candidate predictor parameters (a categorical predictor with k levels
        counts k - 1, a spline of a continuous predictor its number of terms).
    r2_cs : float, optional
        Anticipated Cox-Snell R² of the model (e.g. the adjusted R² of an
        existing model). Give this or ``c_statistic``.
    c_statistic : float, optional
        Anticipated C-statistic, converted to ``r2_cs`` by
        :func:`cox_snell_r2_from_c_statistic` (Riley et al. 2021).
    shrinkage : float, default=0.9
        Target expected shrinkage, in (0, 1).
    delta_r2 : float, default=0.05
        Largest acceptable difference between apparent and adjusted
        Nagelkerke R², in (0, 1).
    margin : float, default=0.05
        Largest acceptable margin of error of the overall outcome proportion
        (half-width of its 95% confidence interval), in (0, 1).
    mape : float, optional
        Largest acceptable mean absolute prediction error, in (0, 1); adds the
        van Smeden et al. (2019) criterion.

    Returns
    -------
    SampleSizeResult
        Each criterion's participants, events and events per parameter, the
        minimum, and the expected shrinkage at the minimum.

    Raises
    ------
    DataError
        If a parameter is out of range, both or neither of ``r2_cs`` and
        ``c_statistic`` are given, or ``r2_cs`` is not below the largest
        possible R² and the target shrinkage.

    Examples
    --------
    The worked example of Riley et al. and ``pmsampsize`` (prevalence 0.174,
    Cox-Snell R² 0.288, 24 candidate parameters):

    >>> result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24)
    >>> [c.n for c in result.criteria], result.n, result.events
    ([623, 662, 221], 662, 116)
    """
    phi = _real(prevalence, "prevalence", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    params, target_s, delta, moe = _shared_inputs(n_parameters, shrinkage, delta_r2, margin)
    target_mape = (
        None
        if mape is None
        else _real(mape, "mape", "strictly between 0 and 1", 0.0, 1.0, closed=False)
    )
    if (r2_cs is None) == (c_statistic is None):
        raise DataError(R2_SOURCE_MSG.format(r2=r2_cs, c=c_statistic))
    max_r2 = max_cox_snell_r2(phi)
    if r2_cs is None:
        r2 = cox_snell_r2_from_c_statistic(float(c_statistic), phi)  # type: ignore[arg-type]
        source = "c_statistic"
    else:
        r2 = _real(r2_cs, "r2_cs", "a number", -math.inf, math.inf, closed=False)
        source = "given"
    if not 0.0 < r2 < min(max_r2, target_s):
        raise DataError(
            R2_MSG.format(prevalence=phi, max_r2=max_r2, shrinkage=target_s, value=r2_cs)
        )
    s_vh = r2 / (r2 + delta * max_r2)
    criteria = [
        _criterion("shrinkage", target_s, _shrinkage_n(params, r2, target_s), phi, params),
        _criterion("optimism", delta, _shrinkage_n(params, r2, s_vh), phi, params),
        _criterion("overall_risk", moe, (_Z / moe) ** 2 * phi * (1.0 - phi), phi, params),
    ]
    if target_mape is not None:
        a, b, c, d = _MAPE_COEF
        log_n = (a + b * math.log(phi) + c * math.log(params) - math.log(target_mape)) / d
        n_mape = math.exp(log_n)
        criteria.append(_criterion("mape", target_mape, n_mape, phi, params))
    binding = max(criteria, key=lambda item: item.n)
    n = binding.n
    return SampleSizeResult(
        prevalence=phi,
        r2_cs=r2,
        r2_cs_source=source,
        c_statistic=None if c_statistic is None else float(c_statistic),
        max_r2_cs=max_r2,
        r2_nagelkerke=r2 / max_r2,
        n_parameters=params,
        criteria=tuple(criteria),
        n=n,
        events=binding.events,
        events_per_parameter=n * phi / params,
        expected_shrinkage=_expected_shrinkage(n, params, r2),
        binding_criterion=binding.name,
    )
