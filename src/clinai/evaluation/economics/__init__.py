"""Early health economics: alert burden, net monetary benefit and its sensitivity analysis.

:func:`alert_burden` (alerts per 100 admissions and per ward-day, number needed to
evaluate, staff hours), :func:`net_monetary_benefit` (NMB per 1,000 patients of the
model at each threshold against treat-none, treat-all and the scores in use today, after
predictNMB, Parsons et al. 2023, JOSS 8(84):5328) and :func:`probabilistic_sensitivity`
(Monte Carlo draws of the parameters from beta, gamma, lognormal or normal
distributions: expected NMB with intervals, probability each strategy is best, the
cost-effectiveness acceptability curve). No economic parameter has a default: a caller
without them gets no economic numbers.
"""

from __future__ import annotations

from clinai.evaluation.economics._alerts import AlertBurden, AlertBurdenPoint, alert_burden
from clinai.evaluation.economics._distributions import (
    PARAMETER_DISTRIBUTIONS,
    Distribution,
    parameter_distribution,
)
from clinai.evaluation.economics._net_monetary_benefit import (
    EconomicParameters,
    NetMonetaryBenefit,
    Strategy,
    StrategyNMB,
    net_monetary_benefit,
)
from clinai.evaluation.economics._sensitivity import (
    AcceptabilityCurve,
    SensitivityAnalysis,
    StrategySensitivity,
    probabilistic_sensitivity,
)

__all__ = [
    "PARAMETER_DISTRIBUTIONS",
    "AcceptabilityCurve",
    "AlertBurden",
    "AlertBurdenPoint",
    "Distribution",
    "EconomicParameters",
    "NetMonetaryBenefit",
    "SensitivityAnalysis",
    "Strategy",
    "StrategyNMB",
    "StrategySensitivity",
    "alert_burden",
    "net_monetary_benefit",
    "parameter_distribution",
    "probabilistic_sensitivity",
]
