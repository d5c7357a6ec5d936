"""The ``economics:`` section: the assumptions of the early health-economic analysis.

Without the section no economic number is computed or written (clinai never invents
costs). Each of the five parameters is a number, ``{value: x}`` or a distribution for the
probabilistic sensitivity analysis, parameterised as :mod:`clinai.evaluation.economics`
draws it with scipy.stats: ``{distribution: beta, alpha: a, beta: b}`` (mean a / (a + b)),
``{distribution: gamma, shape: k, scale: s}`` (mean k * s), ``{distribution: lognormal,
meanlog: m, sdlog: s}`` (log of the value ~ Normal(m, s)) or ``{distribution: normal,
mean: m, sd: s}``. The config layer may not import :mod:`clinai.evaluation`, so the
distributions' parameters are listed here too (:data:`DISTRIBUTION_PARAMETERS`).

Refused when the config loads, with the field named: a negative cost (a point value or a
normal distribution's mean below 0), a relative risk reduction outside [0, 1] or drawn
from anything but a beta distribution, a distribution without its parameters (or with
another's), an unknown distribution.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DISTRIBUTION_PARAMETERS", "EconomicParameterConfig", "EconomicsConfig"]

#: Each distribution's parameters, and whether each must be > 0.
DISTRIBUTION_PARAMETERS: Final = {
    "point": {"value": False},
    "beta": {"alpha": True, "beta": True},
    "gamma": {"shape": True, "scale": True},
    "lognormal": {"meanlog": False, "sdlog": True},
    "normal": {"mean": False, "sd": True},
}

DISTRIBUTION_KEYS_MSG = "a {kind} distribution takes {expected}; got {given}"
POSITIVE_MSG = "the {kind} distribution's {name} must be > 0"
NEGATIVE_MSG = "{field} is {what} and cannot be negative"
PROPORTION_MSG = (
    "relative_risk_reduction is a proportion: give a value in [0, 1] or a beta distribution"
)
PARAMETER_FORM_MSG = (
    "give a number, {value: x} or {distribution: beta|gamma|lognormal|normal, <its parameters>}"
)

Kind = Literal["point", "beta", "gamma", "lognormal", "normal"]


class _Section(BaseModel):
    # As every config section: unknown keys refused, values frozen once validated; an
    # amount of money must be a number (.nan and .inf are refused).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EconomicParameterConfig(_Section):
    """One economic parameter: a fixed value or a distribution with its parameters.

    A bare number in the YAML is read as ``{value: number}``. ``model_dump()`` gives what
    :func:`clinai.evaluation.parameter_distribution` takes.
    """

    distribution: Kind = "point"
    value: float | None = None
    alpha: float | None = None
    beta: float | None = None
    shape: float | None = None
    scale: float | None = None
    meanlog: float | None = None
    sdlog: float | None = None
    mean: float | None = None
    sd: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_is_a_value(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"value": data}
        if not isinstance(data, dict | EconomicParameterConfig):
            raise ValueError(PARAMETER_FORM_MSG)
        return data

    @model_validator(mode="after")
    def _parameters_of_the_distribution(self) -> EconomicParameterConfig:
        keys = DISTRIBUTION_PARAMETERS[self.distribution]
        given = sorted(k for k in self.model_fields_set if k != "distribution")
        given = [k for k in given if getattr(self, k) is not None]
        if given != sorted(keys):
            raise ValueError(
                DISTRIBUTION_KEYS_MSG.format(
                    kind=self.distribution,
                    expected=" and ".join(keys),
                    given=", ".join(given) or "no parameters",
                )
            )
        for name, positive in keys.items():
            value = getattr(self, name)
            if positive and not value > 0:
                raise ValueError(POSITIVE_MSG.format(kind=self.distribution, name=name))
        return self

    @property
    def central(self) -> float | None:
        """The value, or the mean of a normal distribution (None for the other distributions)."""
        return self.value if self.distribution == "point" else self.mean


class EconomicsConfig(_Section):
    """The assumptions of the economic analysis (money in ``currency``).

    ``cost_alert``: cost of answering one alert; ``cost_outcome``: cost of one outcome
    event; ``relative_risk_reduction``: share of a flagged patient's events the response
    prevents; ``qalys_lost_per_event``; ``willingness_to_pay`` per QALY. ``comparator``:
    the score in use today (a column/score name such as NEWS2), judged at
    ``comparator_thresholds`` (default each of its values). ``thresholds``: the model
    thresholds reported (default the evaluation's). ``n_draws``: Monte Carlo draws of the
    probabilistic sensitivity analysis. ``hours_per_row``: the ward time one row stands
    for (1 for hourly prediction times); the rows then cover ``rows x hours / 24``
    ward-days, which gives the alerts per ward-day (none without it).
    """

    cost_alert: EconomicParameterConfig
    cost_outcome: EconomicParameterConfig
    relative_risk_reduction: EconomicParameterConfig
    qalys_lost_per_event: EconomicParameterConfig
    willingness_to_pay: EconomicParameterConfig
    minutes_per_alert: float | None = Field(None, gt=0)
    hours_per_row: float | None = Field(None, gt=0)
    currency: str = Field("DKK", pattern=r"^[A-Z]{3}$")
    comparator: str | None = Field(None, min_length=1)
    comparator_thresholds: list[float] | None = Field(None, min_length=1)
    n_draws: int = Field(10_000, ge=1, le=1_000_000)
    thresholds: list[Annotated[float, Field(gt=0.0, lt=1.0)]] | None = Field(None, min_length=1)

    @field_validator("cost_alert", "cost_outcome", "qalys_lost_per_event", "willingness_to_pay")
    @classmethod
    def _not_negative(cls, value: EconomicParameterConfig, info: Any) -> EconomicParameterConfig:
        central = value.central
        if central is not None and central < 0:
            what = "a cost" if info.field_name.startswith("cost") else "a non-negative amount"
            raise ValueError(NEGATIVE_MSG.format(field=info.field_name, what=what))
        return value

    @field_validator("relative_risk_reduction")
    @classmethod
    def _proportion(cls, value: EconomicParameterConfig) -> EconomicParameterConfig:
        if value.distribution == "beta":
            return value
        if value.distribution != "point" or not 0.0 <= (value.value or 0.0) <= 1.0:
            raise ValueError(PROPORTION_MSG)
        return value
