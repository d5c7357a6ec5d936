"""Probabilistic sensitivity analysis (PSA) of the net monetary benefit.

Each economic parameter is drawn ``n_draws`` times from its distribution
(:mod:`clinai.evaluation.economics._distributions`), independently of the others, and the
net monetary benefit per 1,000 patients (definitions in
:mod:`clinai.evaluation.economics._net_monetary_benefit`, after predictNMB, Parsons et al.
2023, JOSS 8(84):5328) of every strategy is computed for every draw. The patients are
fixed: the TP and FP counts of each strategy are counted once, and since the NMB is
linear in them the draws x strategies matrix is a few vectorised products.

Reported (Briggs, Claxton & Sculpher 2006, ch. 5; Fenwick et al. 2001, *Health Econ*
10(8):779-787):

- per strategy the expected NMB (mean over the draws) with the percentile interval
  (2.5th to 97.5th percentile at ``level=0.95``), the same for the incremental NMB
  against treat-none, and the probability that the strategy has the highest NMB of all
  strategies (ties go to the first listed; the probabilities sum to 1);
- the cost-effectiveness acceptability curve (CEAC): for each willingness to pay on a
  grid, the probability that each strategy is best when the WTP is fixed at that value
  and the other parameters are drawn;
- the strategy with the highest expected NMB and the model threshold with the highest
  expected NMB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from clinai.evaluation._docstrings import fill_doc
from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation._inputs import check_ci_level, deprecated_seed
from clinai.evaluation.economics._distributions import Distribution, parameter_distribution
from clinai.evaluation.economics._net_monetary_benefit import (
    CURRENCY_MSG,
    PARAMETER_BOUNDS,
    PER_PATIENTS,
    EconomicParameters,
    Strategy,
    _strategies,
    check_parameter,
)
from clinai.exceptions import DataError

__all__ = [
    "AcceptabilityCurve",
    "SensitivityAnalysis",
    "StrategySensitivity",
    "probabilistic_sensitivity",
]

#: Points of the default willingness-to-pay grid of the CEAC (0 to twice the expected WTP).
CEAC_POINTS = 41
N_DRAWS_MSG = "n_draws must be a positive integer; got {value!r}"
MISSING_PARAMETER_MSG = (
    "distributions lacks {missing}: give a number or a distribution for each of {names}"
)
UNKNOWN_PARAMETER_MSG = "distributions has unknown parameter(s) {unknown}; use {names}"
WTP_GRID_MSG = "wtp_grid must be finite numbers >= 0; got {value!r}"


@dataclass(frozen=True)
class StrategySensitivity(Strategy):
    """One strategy's NMB per 1,000 patients over the draws (see :class:`Strategy`).

    ``nmb`` and ``incremental_nmb`` (against treat-none) hold the mean over the draws and
    the percentile interval; ``probability_best`` the share of draws in which the strategy
    has the highest NMB.
    """

    nmb: Estimate
    incremental_nmb: Estimate
    probability_best: float

    def to_dict(self) -> dict[str, Any]:
        """Return the strategy as plain JSON.

        Keys: ``strategy``, ``name``, ``label``, ``threshold``, ``nmb`` and
        ``incremental_nmb`` (each ``{"estimate", "ci_low", "ci_high"}``), ``probability_best``.
        """
        return {
            **self._identity(),
            "nmb": self.nmb.to_dict(),
            "incremental_nmb": self.incremental_nmb.to_dict(),
            "probability_best": _num(self.probability_best),
        }


@dataclass(frozen=True)
class AcceptabilityCurve:
    """The cost-effectiveness acceptability curve.

    ``probability_best[i][j]`` is the probability that strategy ``labels[i]`` is best at
    willingness to pay ``willingness_to_pay[j]``.
    """

    willingness_to_pay: tuple[float, ...]
    labels: tuple[str, ...]
    probability_best: tuple[tuple[float, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"willingness_to_pay": [...], "probability_best": {label: [...]}}``."""
        return {
            "willingness_to_pay": [_num(w) for w in self.willingness_to_pay],
            "probability_best": {
                label: [_num(v) for v in row]
                for label, row in zip(self.labels, self.probability_best, strict=True)
            },
        }


@dataclass(frozen=True)
class SensitivityAnalysis:
    """Result of :func:`probabilistic_sensitivity`.

    Attributes
    ----------
    n, events, unit, currency
        As in :class:`NetMonetaryBenefit` and :class:`EconomicParameters`.
    n_draws, seed : int
        Monte Carlo draws and their seed.
    level : float
        Coverage of the percentile intervals.
    parameters : tuple of (str, Distribution)
        Each economic parameter's distribution, in the order of :class:`EconomicParameters`.
    strategies : tuple of StrategySensitivity
        In the order of :attr:`NetMonetaryBenefit.strategies`.
    best, best_model_threshold
        As in :class:`NetMonetaryBenefit`, by the expected NMB over the draws.
    acceptability : AcceptabilityCurve
    """

    n: int
    events: int
    n_draws: int
    seed: int
    level: float
    currency: str
    parameters: tuple[tuple[str, Distribution], ...]
    strategies: tuple[StrategySensitivity, ...]
    best: str
    best_model_threshold: float
    acceptability: AcceptabilityCurve
    unit: str = "row"

    def to_dict(self) -> dict[str, Any]:
        """Return the analysis as plain JSON.

        Keys: ``n``, ``events``, ``unit``, ``n_draws``, ``seed``, ``level``, ``currency``,
        ``per_patients``, ``parameters``, ``strategies``, ``best``, ``best_model_threshold``,
        ``acceptability``.
        """
        return {
            "n": self.n,
            "events": self.events,
            "unit": self.unit,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "level": _num(self.level),
            "currency": self.currency,
            "per_patients": PER_PATIENTS,
            "parameters": {name: dist.to_dict() for name, dist in self.parameters},
            "strategies": [s.to_dict() for s in self.strategies],
            "best": self.best,
            "best_model_threshold": _num(self.best_model_threshold),
            "acceptability": self.acceptability.to_dict(),
        }

    def strategy(self, label: str) -> StrategySensitivity:
        """Return the strategy with this label (``"treat_all"``, ``"model >= 0.2"`` ...)."""
        return next(s for s in self.strategies if s.label == label)


def _distributions(
    distributions: Mapping[str, Any] | EconomicParameters,
) -> tuple[dict[str, Distribution], str]:
    """Each parameter's distribution, checked, and the currency."""
    currency = "DKK"
    if isinstance(distributions, EconomicParameters):
        currency = distributions.currency
        distributions = {name: getattr(distributions, name) for name in PARAMETER_BOUNDS}
    names = ", ".join(PARAMETER_BOUNDS)
    unknown = sorted(set(distributions) - set(PARAMETER_BOUNDS))
    if unknown:
        raise DataError(UNKNOWN_PARAMETER_MSG.format(unknown=", ".join(unknown), names=names))
    missing = [name for name in PARAMETER_BOUNDS if name not in distributions]
    if missing:
        raise DataError(MISSING_PARAMETER_MSG.format(missing=", ".join(missing), names=names))
    out = {
        name: parameter_distribution(distributions[name], name=name) for name in PARAMETER_BOUNDS
    }
    # the expected values must be admissible point values (a mean cost >= 0, a mean RRR in [0, 1])
    for name, dist in out.items():
        check_parameter(name, dist.expected_value)
    return out, currency


def _check_currency(value: Any) -> str:
    if not (isinstance(value, str) and len(value) == 3):
        raise DataError(CURRENCY_MSG.format(value=value))
    return value


def _n_draws(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(N_DRAWS_MSG.format(value=value))
    return int(value)


def _wtp_grid(wtp_grid: Any, expected_wtp: float) -> np.ndarray:
    if wtp_grid is None:
        return np.unique(np.linspace(0.0, 2.0 * expected_wtp, CEAC_POINTS))
    try:
        grid = np.atleast_1d(np.asarray(wtp_grid, dtype="float64"))
    except (TypeError, ValueError) as exc:
        raise DataError(WTP_GRID_MSG.format(value=wtp_grid)) from exc
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid) & (grid >= 0)):
        raise DataError(WTP_GRID_MSG.format(value=wtp_grid))
    return grid


def _share_best(nmb: np.ndarray) -> np.ndarray:
    """Share of the rows (draws) in which each column (strategy) is the largest."""
    return np.bincount(np.argmax(nmb, axis=1), minlength=nmb.shape[1]) / nmb.shape[0]


def _estimates(values: np.ndarray, level: float) -> list[Estimate]:
    """Mean and percentile interval of each column."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail], axis=0)
    mean = values.mean(axis=0)
    return [
        Estimate(float(m), float(lo), float(hi)) for m, lo, hi in zip(mean, low, high, strict=True)
    ]


@deprecated_seed
@fill_doc
def probabilistic_sensitivity(
    y_true: Any,
    y_prob: Any,
    thresholds: float | Sequence[float] | np.ndarray,
    distributions: Mapping[str, Any] | EconomicParameters,
    *,
    n_draws: int = 10_000,
    random_state: int = 0,
    comparators: Mapping[str, Any] | None = None,
    wtp_grid: Sequence[float] | np.ndarray | None = None,
    level: float = 0.95,
    currency: str | None = None,
    patient_ids: Any = None,
) -> SensitivityAnalysis:
    """Monte Carlo sensitivity analysis of the net monetary benefit per 1,000 patients.

    Each of the five economic parameters is drawn ``n_draws`` times (independently) from
    its distribution; the NMB of every strategy (treat-none, treat-all, the model at each
    threshold, each comparator at each cut-point; definitions as in
    :func:`net_monetary_benefit`, after predictNMB, Parsons et al. 2023) is computed for
    every draw. See the module docstring for what is reported.

    Parameters
    ----------
    {y_true}
    {y_prob}
    thresholds : float or sequence of float
        As in :func:`net_monetary_benefit`.
    distributions : mapping or EconomicParameters
        For each of ``cost_alert``, ``cost_outcome``, ``relative_risk_reduction``,
        ``qalys_lost_per_event`` and ``willingness_to_pay``: a number (fixed), a
        :class:`Distribution` or a mapping such as ``{{"distribution": "beta",
        "alpha": 20, "beta": 80}}`` (see :func:`parameter_distribution`). An
        :class:`EconomicParameters` fixes all five (and gives the currency).
    n_draws : int, default=10000
        Monte Carlo draws.
    random_state : int, default=0
        Seed of the draws; the same seed gives the same numbers.
    seed : int, optional
        Deprecated alias of ``random_state``; removed in clinai 0.3.
    comparators : mapping, optional
        Scores in use today, as in :func:`net_monetary_benefit`.
    wtp_grid : sequence of float, optional
        Willingness-to-pay values of the CEAC; default 41 points from 0 to twice the
        expected willingness to pay.
    level : float, default=0.95
        Coverage of the percentile intervals.
    currency : str, optional
        Currency of the money amounts; default that of an :class:`EconomicParameters`
        given as ``distributions``, else ``"DKK"``.
    patient_ids : array-like of shape (n,), optional
        Patient of each row: the patient is the unit, as in :func:`net_monetary_benefit`.

    Returns
    -------
    SensitivityAnalysis

    Raises
    ------
    DataError
        On invalid input, a missing or unknown parameter, an invalid distribution, an
        expected value outside the parameter's range, or ``n_draws`` < 1.
    """
    dists, parameters_currency = _distributions(distributions)
    currency = parameters_currency if currency is None else _check_currency(currency)
    draws_n = _n_draws(n_draws)
    ci_level = check_ci_level(level)
    grid = _wtp_grid(wtp_grid, dists["willingness_to_pay"].expected_value)
    counts = _strategies(y_true, y_prob, thresholds, comparators or {}, patient_ids=patient_ids)
    rng = np.random.default_rng(random_state)
    draws = {name: dist.draw(draws_n, rng) for name, dist in dists.items()}
    nmb = counts.nmb_per_1000(**draws)
    nmb_estimates = _estimates(nmb, ci_level)
    incremental = _estimates(nmb - nmb[:, :1], ci_level)
    best_share = _share_best(nmb)
    ceac = np.empty((len(counts.labels), grid.shape[0]))
    for j, wtp in enumerate(grid):
        fixed = {**draws, "willingness_to_pay": np.full(draws_n, wtp)}
        ceac[:, j] = _share_best(counts.nmb_per_1000(**fixed))
    strategies = tuple(
        StrategySensitivity(**asdict(row), nmb=mean, incremental_nmb=gain, probability_best=share)
        for row, mean, gain, share in zip(
            counts.rows, nmb_estimates, incremental, best_share.tolist(), strict=True
        )
    )
    expected = nmb.mean(axis=0)
    return SensitivityAnalysis(
        n_draws=draws_n,
        seed=int(random_state),
        level=ci_level,
        currency=currency,
        parameters=tuple(dists.items()),
        strategies=strategies,
        acceptability=AcceptabilityCurve(
            tuple(float(w) for w in grid),
            counts.labels,
            tuple(tuple(float(v) for v in row) for row in ceac),
        ),
        **counts.result_fields(expected),
    )
