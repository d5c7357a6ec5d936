"""Random-effects meta-analysis: pool a metric across sites without moving patient data.

:func:`random_effects_meta` pools any estimates with their variances (REML or
DerSimonian-Laird tau^2, Hartung-Knapp-Sidik-Jonkman or Wald interval,
prediction interval, Q and I^2); :func:`pool_metric` pools a performance metric
on its scale in :data:`POOLING_SCALES` and transforms it back for reading and
forest plots.
"""

from __future__ import annotations

from clinai.evaluation.meta._pooling import (
    POOLING_SCALES,
    PooledMetric,
    SiteEstimate,
    pool_metric,
)
from clinai.evaluation.meta._random_effects import MetaAnalysis, random_effects_meta
from clinai.evaluation.meta._site import (
    CALIBRATION_POINTS,
    SITE_MIN_CELL,
    SiteMetric,
    SiteSummary,
    site_summary,
)

__all__ = [
    "CALIBRATION_POINTS",
    "POOLING_SCALES",
    "SITE_MIN_CELL",
    "MetaAnalysis",
    "PooledMetric",
    "SiteEstimate",
    "SiteMetric",
    "SiteSummary",
    "pool_metric",
    "random_effects_meta",
    "site_summary",
]
