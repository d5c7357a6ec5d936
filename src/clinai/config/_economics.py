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
another's), an unknown distribution, a gamma or lognormal whose mean or variance overflows
(e.g. a lognormal's mean given as its meanlog), a currency that is not an ISO 4217 code
(DDK for DKK), an ``n_draws`` that is not an integer (``true``). A number YAML reads as
text (``1.2e5``, without a sign in the exponent) is read as the number.
"""

from __future__ import annotations

import math
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
CURRENCY_MSG = (
    "{value!r} is not an ISO 4217 currency code: give the three capital letters of the "
    "currency the costs are in, e.g. DKK, EUR, SEK, NOK, GBP or USD"
)
HUGE_MSG = "the {kind} distribution's mean or variance is too large to compute{hint}"
_LOGNORMAL_HINT = (
    ": meanlog and sdlog are on the log scale (mean exp(meanlog + sdlog^2 / 2)); for a mean "
    "of M give meanlog about ln(M), e.g. meanlog: 11.7 for 120000"
)
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG ZWL"""
#: The ISO 4217 codes of the currencies in use (2024), for a typo such as DDK for DKK.
ISO_4217: Final = frozenset(_ISO_4217_CODES.split())
PARAMETER_FORM_MSG = (
    "give a number, {value: x} or {distribution: beta|gamma|lognormal|normal, <its parameters>}"
)

Kind = Literal["point", "beta", "gamma", "lognormal", "normal"]


class _Section(BaseModel):
    # As every config section: unknown keys refused, values frozen once validated; an
    # amount of money must be a number (.nan and .inf are refused).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _moments_finite(kind: str, values: dict[str, float]) -> bool:
    """Whether a gamma's or lognormal's mean and variance are finite numbers (no overflow)."""
    try:
        if kind == "gamma":
            moments = [values["shape"] * values["scale"], values["shape"] * values["scale"] ** 2]
        elif kind == "lognormal":
            meanlog, variance = values["meanlog"], values["sdlog"] ** 2
            moments = [
                math.exp(meanlog + variance / 2),
                math.expm1(variance) * math.exp(2 * meanlog + variance),
            ]
        else:
            return True
    except OverflowError:
        return False
    return all(math.isfinite(m) for m in moments)


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
        if isinstance(data, str):
            # YAML reads 1.2e5 (no sign in the exponent) as text: a number all the same
            try:
                return {"value": float(data.strip())}
            except ValueError:
                raise ValueError(PARAMETER_FORM_MSG) from None
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
        if not _moments_finite(self.distribution, {k: getattr(self, k) for k in keys}):
            hint = _LOGNORMAL_HINT if self.distribution == "lognormal" else ""
            raise ValueError(HUGE_MSG.format(kind=self.distribution, hint=hint))
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
    # strict: YAML's true is not one draw
    n_draws: int = Field(10_000, ge=1, le=1_000_000, strict=True)
    thresholds: list[Annotated[float, Field(gt=0.0, lt=1.0)]] | None = Field(None, min_length=1)

    @field_validator("cost_alert", "cost_outcome", "qalys_lost_per_event", "willingness_to_pay")
    @classmethod
    def _not_negative(cls, value: EconomicParameterConfig, info: Any) -> EconomicParameterConfig:
        central = value.central
        if central is not None and central < 0:
            what = "a cost" if info.field_name.startswith("cost") else "a non-negative amount"
            raise ValueError(NEGATIVE_MSG.format(field=info.field_name, what=what))
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in ISO_4217:
            raise ValueError(CURRENCY_MSG.format(value=value))
        return value

    @field_validator("relative_risk_reduction")
    @classmethod
    def _proportion(cls, value: EconomicParameterConfig) -> EconomicParameterConfig:
        if value.distribution == "beta":
            return value
        if value.distribution != "point" or not 0.0 <= (value.value or 0.0) <= 1.0:
            raise ValueError(PROPORTION_MSG)
        return value
