"""Distributions of the economic parameters for the probabilistic sensitivity analysis.

Each parameter of :class:`~clinai.evaluation.economics.EconomicParameters` is either a
fixed number (``point``) or one of four distributions, parameterised as in
predictNMB and the health-economics literature (Briggs, Claxton & Sculpher 2006,
*Decision Modelling for Health Economic Evaluation*, ch. 4) and drawn with
:mod:`scipy.stats`:

- ``beta(alpha, beta)``: ``scipy.stats.beta(a=alpha, b=beta)``; mean
  alpha / (alpha + beta); for probabilities (the relative risk reduction);
- ``gamma(shape, scale)``: ``scipy.stats.gamma(a=shape, scale=scale)``; mean
  shape * scale, variance shape * scale**2; for costs;
- ``lognormal(meanlog, sdlog)``: the log of the value is normal with mean ``meanlog``
  and standard deviation ``sdlog``: ``scipy.stats.lognorm(s=sdlog, scale=exp(meanlog))``;
  mean exp(meanlog + sdlog**2 / 2); for costs and QALYs;
- ``normal(mean, sd)``: ``scipy.stats.norm(loc=mean, scale=sd)``; its draws may fall
  below 0, and they are used as drawn.

A mapping ``{"distribution": "beta", "alpha": 2, "beta": 8}`` (as the config's
``economics:`` section dumps it), ``{"value": x}`` or a bare number is turned into one of
these by :func:`parameter_distribution`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from clinai.evaluation._estimate import _num
from clinai.exceptions import DataError

__all__ = ["PARAMETER_DISTRIBUTIONS", "Distribution", "parameter_distribution"]

DISTRIBUTION_PARAMETER_MSG = (
    "{owner}: the {kind} distribution's {name} must be a finite number{bound}; got {value!r}"
)
UNKNOWN_DISTRIBUTION_MSG = (
    "{owner}: unknown distribution {value!r}; use one of beta, gamma, lognormal, normal "
    "(or a plain number)"
)
DISTRIBUTION_KEYS_MSG = "{owner}: a {kind} distribution takes {expected}; got {given}"
MOMENTS_MSG = (
    "{owner}: the {kind} distribution's mean or variance is too large to compute ({given}): "
    "check the parameters{hint}"
)
_LOGNORMAL_HINT = "; meanlog and sdlog are on the log scale (meanlog about ln(mean))"


#: Each distribution's parameters (name -> must it be > 0?) and its scipy.stats form
#: (none for a point: scipy has no zero-width distribution).
PARAMETER_DISTRIBUTIONS: Mapping[str, tuple[Mapping[str, bool], Callable[..., Any] | None]] = {
    "point": ({"value": False}, None),
    "beta": ({"alpha": True, "beta": True}, lambda alpha, beta: stats.beta(a=alpha, b=beta)),
    "gamma": (
        {"shape": True, "scale": True},
        lambda shape, scale: stats.gamma(a=shape, scale=scale),
    ),
    "lognormal": (
        {"meanlog": False, "sdlog": True},
        lambda meanlog, sdlog: stats.lognorm(s=sdlog, scale=math.exp(meanlog)),
    ),
    "normal": ({"mean": False, "sd": True}, lambda mean, sd: stats.norm(loc=mean, scale=sd)),
}


@dataclass(frozen=True)
class Distribution:
    """One economic parameter's distribution (``kind`` a key of :data:`PARAMETER_DISTRIBUTIONS`).

    Build it with :func:`parameter_distribution`, which checks the parameters.

    Attributes
    ----------
    kind : str
        ``"point"``, ``"beta"``, ``"gamma"``, ``"lognormal"`` or ``"normal"``.
    parameters : tuple of (str, float)
        The distribution's parameters by name, in the order of :data:`PARAMETER_DISTRIBUTIONS`.
    """

    kind: str
    parameters: tuple[tuple[str, float], ...]

    def _frozen(self) -> Any:
        form = PARAMETER_DISTRIBUTIONS[self.kind][1]
        return None if form is None else form(**dict(self.parameters))

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` draws as a float64 array (a point uses no random numbers)."""
        frozen = self._frozen()
        if frozen is None:
            return np.full(n, self.parameters[0][1])
        return np.asarray(frozen.rvs(size=n, random_state=rng), dtype="float64")

    @property
    def expected_value(self) -> float:
        """Mean of the distribution."""
        frozen = self._frozen()
        return self.parameters[0][1] if frozen is None else float(frozen.mean())

    @property
    def variance(self) -> float:
        """Variance of the distribution (0 for a point)."""
        frozen = self._frozen()
        return 0.0 if frozen is None else float(frozen.var())

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"distribution": kind, <parameters>..., "expected_value": mean}``."""
        out: dict[str, Any] = {"distribution": self.kind}
        out.update({name: _num(value) for name, value in self.parameters})
        out["expected_value"] = _num(self.expected_value)
        return out


def _parameter(owner: str, kind: str, name: str, value: Any, positive: bool) -> float:
    """Return one distribution parameter as a float, or raise a ``DataError`` naming it."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and (not positive or float(value) > 0)
    if not ok:
        bound = " > 0" if positive else ""
        raise DataError(
            DISTRIBUTION_PARAMETER_MSG.format(
                owner=owner, kind=kind, name=name, bound=bound, value=value
            )
        )
    return float(value)


def parameter_distribution(spec: Any, *, name: str = "parameter") -> Distribution:
    """Turn a number, ``{"value": x}`` or ``{"distribution": kind, ...}`` into a distribution.

    Parameters
    ----------
    spec : float, Distribution or mapping
        A number (a fixed value), a :class:`Distribution`, or a mapping with the key
        ``distribution`` (``beta``, ``gamma``, ``lognormal``, ``normal`` or ``point``)
        and that distribution's parameters (``alpha``/``beta``, ``shape``/``scale``,
        ``meanlog``/``sdlog``, ``mean``/``sd``, ``value``); ``{"value": x}`` alone is a
        fixed value. Keys whose value is ``None`` are ignored.
    name : str
        The economic parameter's name, for error messages.

    Returns
    -------
    Distribution

    Raises
    ------
    DataError
        On an unknown distribution, missing or extra parameters, or a parameter that is
        not a finite number (or not positive where it must be).

    Examples
    --------
    >>> parameter_distribution({"distribution": "gamma", "shape": 4, "scale": 250}).expected_value
    1000.0
    >>> parameter_distribution(0.3)
    Distribution(kind='point', parameters=(('value', 0.3),))
    """
    if isinstance(spec, Distribution):
        return spec
    given = (
        {str(k): v for k, v in spec.items() if v is not None}
        if isinstance(spec, Mapping)
        else {"value": spec}
    )
    kind = given.pop("distribution", "point")
    if kind not in PARAMETER_DISTRIBUTIONS:
        raise DataError(UNKNOWN_DISTRIBUTION_MSG.format(owner=name, value=kind))
    keys = PARAMETER_DISTRIBUTIONS[kind][0]
    if sorted(given) != sorted(keys):
        raise DataError(
            DISTRIBUTION_KEYS_MSG.format(
                owner=name,
                kind=kind,
                expected=" and ".join(keys),
                given=", ".join(sorted(given)) or "no parameters",
            )
        )
    values = tuple(
        (key, _parameter(name, kind, key, given[key], positive)) for key, positive in keys.items()
    )
    distribution = Distribution(kind, values)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            finite = math.isfinite(distribution.expected_value) and math.isfinite(
                distribution.variance
            )
    except OverflowError:  # math.exp of a lognormal's meanlog
        finite = False
    if not finite:
        shown = ", ".join(f"{key} {value:g}" for key, value in values)
        hint = _LOGNORMAL_HINT if kind == "lognormal" else ""
        raise DataError(MOMENTS_MSG.format(owner=name, kind=kind, given=shown, hint=hint))
    return distribution
