"""Explanations of a fitted model.

SHAP values and importance, rank intervals, subgroup importance, dependence data
and synthetic profiles.
"""

from __future__ import annotations

from clinai.evaluation.explain import _results
from clinai.evaluation.explain._global import (
    dependence_data,
    explain_global,
    importance_rank_intervals,
    subgroup_importance,
)
from clinai.evaluation.explain._importance import (
    importance_from_values,
    shap_importance,
    variable_contributions,
)
from clinai.evaluation.explain._profiles import (
    SyntheticProfiles,
    explain_profiles,
    synthetic_profiles,
)
from clinai.evaluation.explain._results import *  # noqa: F403
from clinai.evaluation.explain._shap import ShapValues, mean_shap_values, shap_values

__all__ = [
    "ShapValues",
    "SyntheticProfiles",
    "dependence_data",
    "explain_global",
    "explain_profiles",
    "importance_from_values",
    "importance_rank_intervals",
    "mean_shap_values",
    "shap_importance",
    "shap_values",
    "subgroup_importance",
    "synthetic_profiles",
    "variable_contributions",
]
# the result records: every name of _results.__all__
__all__ += _results.__all__
