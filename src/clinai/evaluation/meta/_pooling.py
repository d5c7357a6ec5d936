"""Pool a performance metric across sites on its pooling scale, and report it on the natural one.

A metric is pooled on the scale where its sampling distribution is closest to
normal and its between-site spread closest to additive: AUROC (the C-statistic)
on the logit scale and the observed/expected ratio on the log scale (Debray et
al. 2017, BMJ 356:i6460; Snell et al. 2018, Stat Methods Med Res 27:3505), the
calibration intercept and slope as they are. The pooled estimate and its
intervals are transformed back (logit -> expit, log -> exp) for reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from scipy import special

from clinai.evaluation._estimate import FieldsRecord, _num
from clinai.evaluation.meta._random_effects import (
    MetaAnalysis,
    check_meta_inputs,
    check_meta_options,
    random_effects_meta,
)
from clinai.exceptions import DataError

__all__ = [
    "POOLING_SCALES",
    "UNKNOWN_METRIC_MSG",
    "PooledMetric",
    "SiteEstimate",
    "back_transform",
    "pool_metric",
]

#: The scale on which each metric is pooled (and on which a site summary stores it).
POOLING_SCALES: Mapping[str, str] = MappingProxyType(
    {
        "auroc": "logit",
        "oe_ratio": "log",
        "calibration_intercept": "identity",
        "calibration_slope": "identity",
    }
)

#: The transformation from each pooling scale back to the metric's natural scale.
_BACK: Mapping[str, Callable[[float], float]] = MappingProxyType(
    {"logit": lambda x: float(special.expit(x)), "log": math.exp, "identity": float}
)

UNKNOWN_METRIC_MSG = (
    "metric must be one of {allowed} (clinai.evaluation.POOLING_SCALES); got {value!r}"
)


def back_transform(value: float | None, scale: str) -> float | None:
    """Return ``value`` on the natural scale of a metric pooled on ``scale`` (``None`` stays)."""
    return None if value is None else _BACK[scale](value)


@dataclass(frozen=True)
class SiteEstimate(FieldsRecord):
    """One site's estimate on the natural scale, a row of a forest plot.

    Attributes
    ----------
    label : str
        The site's label.
    estimate, ci_low, ci_high : float
        The site's estimate and its Wald interval ``y +- z se`` at the analysis'
        level, computed on the pooling scale and transformed back.
    weight : float
        The site's normalised random-effects weight in the pooled estimate.
    """

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    weight: float


@dataclass(frozen=True)
class PooledMetric:
    """A metric pooled across sites: :func:`pool_metric`'s result.

    Attributes
    ----------
    metric : str
        The metric's name, a key of :data:`POOLING_SCALES`.
    scale : str
        Its pooling scale: ``"logit"``, ``"log"`` or ``"identity"``.
    analysis : MetaAnalysis
        The random-effects meta-analysis on the pooling scale.
    estimate, ci_low, ci_high : float
        Pooled estimate and confidence interval, back on the natural scale.
    pi_low, pi_high : float or None
        Prediction interval for a new site on the natural scale (``None`` with
        fewer than 3 sites).
    sites : tuple of SiteEstimate
        The sites' estimates with intervals and weights, for a forest plot.
    """

    metric: str
    scale: str
    analysis: MetaAnalysis
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    sites: tuple[SiteEstimate, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the pooled metric as plain JSON values."""
        return {
            "metric": self.metric,
            "scale": self.scale,
            **{
                name: _num(getattr(self, name))
                for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
            },
            "analysis": self.analysis.to_dict(),
            "sites": [site.to_dict() for site in self.sites],
        }


def pool_metric(
    metric: str,
    estimates: Any,
    standard_errors: Any,
    *,
    labels: Sequence[Any] | None = None,
    method: str = "REML",
    ci: str = "hksj",
    level: float = 0.95,
) -> PooledMetric:
    """Pool one performance metric across sites and transform it back to its natural scale.

    Parameters
    ----------
    metric : str
        A key of :data:`POOLING_SCALES`: ``"auroc"`` (pooled as logit AUROC),
        ``"oe_ratio"`` (as log O/E), ``"calibration_intercept"`` or
        ``"calibration_slope"`` (as they are).
    estimates : array-like of shape (k,)
        The sites' estimates ON THE POOLING SCALE, as a site summary stores them.
    standard_errors : array-like of shape (k,)
        Their standard errors on the pooling scale, each finite and > 0.
    labels : sequence of str, optional
        One label per site; default ``"site 1"``, ``"site 2"``, ...
    method : {"REML", "DL"}, default="REML"
        Estimator of tau^2 (see :func:`random_effects_meta`).
    ci : {"hksj", "wald"}, default="hksj"
        Confidence interval of the pooled mean.
    level : float, default=0.95
        Level of the pooled confidence and prediction intervals and of the
        sites' own intervals.

    Returns
    -------
    PooledMetric
        The meta-analysis on the pooling scale, and the pooled estimate, its
        confidence and prediction intervals and each site's estimate, Wald
        interval (``y +- z_{(1+level)/2} se``) and weight on the natural scale.
        Each bound is transformed back by ``expit`` (logit scale) or ``exp``
        (log scale); both are increasing, so an interval stays an interval.

    Raises
    ------
    DataError
        With one line, on an unknown metric and on everything
        :func:`random_effects_meta` rejects (fewer than 2 sites, a standard
        error that is not finite and positive, lengths that differ ...).

    Examples
    --------
    >>> pooled = pool_metric("auroc", [1.2, 1.5, 1.0], [0.10, 0.12, 0.09])
    >>> pooled.scale, round(pooled.estimate, 3)
    ('logit', 0.773)
    """
    if not isinstance(metric, str) or metric not in POOLING_SCALES:
        raise DataError(UNKNOWN_METRIC_MSG.format(allowed=", ".join(POOLING_SCALES), value=metric))
    scale = POOLING_SCALES[metric]
    check_meta_options(method, ci, level)
    y, se, names = check_meta_inputs(
        estimates,
        standard_errors,
        labels,
        names=("estimates", "standard_errors"),
        what="standard error",
    )
    analysis = random_effects_meta(y, se**2, method=method, ci=ci, level=level, labels=names)
    z = float(special.ndtri((1.0 + analysis.level) / 2.0))
    back = _BACK[scale]
    sites = tuple(
        SiteEstimate(
            label=label,
            estimate=back(float(value)),
            ci_low=back(float(value - z * error)),
            ci_high=back(float(value + z * error)),
            weight=weight,
        )
        for label, value, error, weight in zip(names, y, se, analysis.weights, strict=True)
    )
    return PooledMetric(
        metric=metric,
        scale=scale,
        analysis=analysis,
        estimate=back(analysis.estimate),
        ci_low=back(analysis.ci_low),
        ci_high=back(analysis.ci_high),
        pi_low=back_transform(analysis.pi_low, scale),
        pi_high=back_transform(analysis.pi_high, scale),
        sites=sites,
    )
