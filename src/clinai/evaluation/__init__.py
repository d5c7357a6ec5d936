"""Evaluation of clinical prediction models: pure functions, frozen results.

Discrimination (:func:`auroc_score`, :func:`average_precision_score`),
overall accuracy (:func:`brier_score`, :func:`scaled_brier_score`),
calibration (:func:`calibration_intercept`, :func:`calibration_slope`,
:func:`oe_ratio`, :func:`calibration_errors`, :func:`lowess_calibration_curve`),
threshold metrics and decision curves (:func:`threshold_metrics`,
:func:`net_benefit`, :func:`net_benefit_treat_all`, :func:`decision_curve`),
bootstrap intervals (:func:`bootstrap`), DeLong's AUROC interval and test
(:func:`delong_ci`, :func:`delong_test`), comparison with a baseline score
(:func:`compare_with_baseline`), subgroups (:func:`subgroup_metrics`), fairness across groups and
intersections (:func:`fairness_metrics`) and post-processing mitigation
(:func:`threshold_optimizer_mitigation`),
SHAP importance (:func:`shap_importance`; rank intervals, subgroup importance,
dependence data and synthetic profiles: :func:`explain_global`,
:func:`synthetic_profiles`, :func:`explain_profiles`), acceptance criteria
(:func:`evaluate_acceptance`), monitoring after deployment (drift against
development bins: :func:`drift_reference`, :func:`count_bins`,
:func:`feature_drift`), survival (time-to-event) validation (:func:`kaplan_meier`,
:func:`harrell_c`, :func:`uno_c`, :func:`time_dependent_auc`, :func:`ipcw_brier_score`,
:func:`integrated_brier_score`), Riley et al.'s minimum sample size
(:func:`riley_sample_size`, :func:`assess_sample_size`) and the whole
validation in one call (:func:`evaluate_predictions`, whose ``to_dict()`` is
``metrics.json``).

Each concern is a subpackage (``discrimination``, ``calibration``, ``thresholds``,
``resampling`` (the bootstrap engine), ``comparison``, ``fairness``, ``explain``,
``acceptance``, ``sample_size``, ``monitoring``, ``meta``, ``survival``, ``validate``; the map
is in ``docs/architecture.md``); every public name is imported from here: each concern's
``__all__`` is re-exported below, so a name is listed once, in its concern's ``__init__``.

No I/O, no plotting, no MLflow. shap, fairlearn and statsmodels are imported
inside the functions that use them.
"""

from __future__ import annotations

from clinai.evaluation import (
    acceptance,
    calibration,
    comparison,
    discrimination,
    economics,
    explain,
    fairness,
    meta,
    monitoring,
    resampling,
    sample_size,
    survival,
    thresholds,
    validate,
)
from clinai.evaluation._estimate import Estimate as Estimate
from clinai.evaluation.acceptance import *  # noqa: F403
from clinai.evaluation.calibration import *  # noqa: F403
from clinai.evaluation.comparison import *  # noqa: F403
from clinai.evaluation.discrimination import *  # noqa: F403
from clinai.evaluation.economics import *  # noqa: F403
from clinai.evaluation.explain import *  # noqa: F403
from clinai.evaluation.fairness import *  # noqa: F403
from clinai.evaluation.meta import *  # noqa: F403
from clinai.evaluation.monitoring import *  # noqa: F403
from clinai.evaluation.resampling import *  # noqa: F403
from clinai.evaluation.sample_size import *  # noqa: F403
from clinai.evaluation.survival import *  # noqa: F403
from clinai.evaluation.thresholds import *  # noqa: F403
from clinai.evaluation.validate import *  # noqa: F403

__all__ = sorted(
    [
        "Estimate",
        *acceptance.__all__,
        *calibration.__all__,
        *comparison.__all__,
        *discrimination.__all__,
        *economics.__all__,
        *explain.__all__,
        *fairness.__all__,
        *meta.__all__,
        *monitoring.__all__,
        *resampling.__all__,
        *sample_size.__all__,
        *survival.__all__,
        *thresholds.__all__,
        *validate.__all__,
    ]
)
