"""The records of :func:`~clinai.evaluation.evaluate_survival`: ``survival_metrics.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from clinai.evaluation._estimate import Estimate, _num
from clinai.evaluation.resampling.engine import CI_METHOD

__all__ = [
    "SURVIVAL_METRICS",
    "SURVIVAL_SCHEMA",
    "FollowUp",
    "SurvivalSubgroup",
    "SurvivalValidationResult",
]

#: The ``schema`` of survival_metrics.json.
SURVIVAL_SCHEMA = "clinai.survival_metrics/1"
#: The scalar metrics, in the order of survival_metrics.json.
SURVIVAL_METRICS = (
    "harrell_c",
    "uno_c",
    "time_auc",
    "oe_ratio",
    "calibration_slope",
    "ici",
    "e50",
    "e90",
    "emax",
    "brier",
    "null_brier",
    "ipa",
)


@dataclass(frozen=True)
class SurvivalSubgroup:
    """Harrell's C and O/E of one group (no numbers when ``suppressed``)."""

    attribute: str
    group: str
    n: int | None
    events: int | None
    suppressed: bool
    harrell_c: Estimate
    oe_ratio: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Return the row as plain JSON."""
        return {
            "attribute": self.attribute,
            "group": self.group,
            "n": self.n,
            "events": self.events,
            "suppressed": self.suppressed,
            "harrell_c": self.harrell_c.to_dict(),
            "oe_ratio": self.oe_ratio.to_dict(),
        }


@dataclass(frozen=True)
class FollowUp:
    """How the patients were followed: censoring and follow-up at the horizon."""

    n: int
    events: int
    events_by_horizon: int
    censored_before_horizon: int
    share_censored_before_horizon: float
    median_follow_up: float | None
    max_follow_up: float

    def to_dict(self) -> dict[str, Any]:
        """Return the description as plain JSON (counts as ints, NaN -> None)."""
        return {
            f.name: _num(getattr(self, f.name)) if f.type != "int" else getattr(self, f.name)
            for f in fields(self)
        }


@dataclass(frozen=True)
class SurvivalValidationResult:
    """Everything :func:`evaluate_survival` measures; ``to_dict()`` is survival_metrics.json.

    Attributes
    ----------
    horizon : float
        The horizon t the risks speak of.
    n, n_patients : int
        Rows and patients (rows when no patient ids were given).
    metrics : mapping of str to Estimate
        :data:`SURVIVAL_METRICS`, each with its bootstrap interval.
    n_skipped : mapping of str to int
        Replicates where a metric was undefined (skipped for its interval).
    calibration_covariate : str
        ``"lp"`` or ``"cloglog_risk"``: what the calibration slope regressed on.
    calibration_curve : tuple of (float, float, float, float)
        Flexible calibration curve: predicted, observed, and the observed band.
    decision_curve : tuple of dict
        Per threshold: net benefit (with interval), treat all, share above.
    natural_frequency : dict
        Of 100 patients like these, how many had the event by the horizon (observed)
        and how many the model expected.
    risk_groups : tuple of RiskGroup
        Observed (Kaplan-Meier) against predicted risk by risk group.
    subgroups : tuple of SurvivalSubgroup
        C and O/E per group of each attribute (small cells suppressed).
    follow_up : FollowUp
        Censoring and follow-up.
    """

    horizon: float
    n: int
    n_patients: int
    event_of_interest: int
    score: str
    metrics: Mapping[str, Estimate]
    n_boot: int
    ci_level: float
    n_skipped: Mapping[str, int]
    calibration_covariate: str
    calibration_curve: tuple[tuple[float, float, float, float], ...]
    decision_curve: tuple[dict[str, Any], ...]
    natural_frequency: dict[str, Any]
    risk_groups: tuple[dict[str, Any], ...]
    subgroups: tuple[SurvivalSubgroup, ...]
    follow_up: FollowUp
    min_cell: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return survival_metrics.json as plain JSON values (NaN -> None)."""
        return {
            "schema": SURVIVAL_SCHEMA,
            "horizon": float(self.horizon),
            "n": self.n,
            "n_patients": self.n_patients,
            "event_of_interest": self.event_of_interest,
            "score": self.score,
            "n_boot": self.n_boot,
            "ci_level": float(self.ci_level),
            "ci_method": CI_METHOD + ", patient-clustered",
            "min_cell": self.min_cell,
            "metrics": {name: self.metrics[name].to_dict() for name in SURVIVAL_METRICS},
            "n_skipped": {k: int(v) for k, v in self.n_skipped.items()},
            "calibration_covariate": self.calibration_covariate,
            "calibration_curve": [
                {"predicted": _num(p), "observed": _num(o), "ci_low": _num(lo), "ci_high": _num(hi)}
                for p, o, lo, hi in self.calibration_curve
            ],
            "decision_curve": [
                {k: (v if isinstance(v, dict) else _num(v)) for k, v in point.items()}
                for point in self.decision_curve
            ],
            "natural_frequency": dict(self.natural_frequency),
            "risk_groups": [dict(g) for g in self.risk_groups],
            "subgroups": [s.to_dict() for s in self.subgroups],
            "follow_up": self.follow_up.to_dict(),
        }
