"""Model families, search spaces, tuning, calibration and explainer inputs.

Arrays and DataFrames in, scikit-learn estimators out. Every model is a
:class:`~sklearn.pipeline.Pipeline` with a ``preprocess`` step (imputation,
one-hot encoding, scaling) and a ``model`` step, built by name from a registry
(:func:`get_model`, :func:`get_model_names`). torch, lightgbm and optuna are
imported only by the functions that need them, so importing this package is
cheap.
"""

from __future__ import annotations

from clinai.models._calibration import CALIBRATION_METHODS, calibrate_model
from clinai.models._explain_inputs import ExplainInputs, explain_inputs, synthetic_input_example
from clinai.models._levels import known_levels
from clinai.models._mlp import TorchMLPClassifier
from clinai.models._recalibrated import RecalibratedModel
from clinai.models._registry import (
    UNKNOWN_MODEL_MSG,
    get_default_params,
    get_model,
    get_model_names,
    get_model_task,
    get_search_space,
)
from clinai.models._sequence import TorchGRUClassifier
from clinai.models._shrinkage import (
    SHRINKAGE_BOOTSTRAP,
    bootstrap_shrinkage,
    candidate_parameters,
    effective_shrinkage,
    heuristic_shrinkage,
    likelihood_ratio_chi2,
    shrink_predictions,
    unpenalised_heuristic_shrinkage,
)
from clinai.models._study import TrialRecord, TuningResult
from clinai.models._survival import CauseSpecificCox, CoxNetSurvival, GradientBoostedSurvival
from clinai.models._survival_base import SurvivalPipeline, survival_target
from clinai.models._survival_recalibration import (
    SurvivalRecalibration,
    fit_survival_recalibration,
    out_of_fold_risk,
)
from clinai.models._survival_torch import DeepSurv
from clinai.models._survival_tuning import SURVIVAL_SCORINGS, tune_survival_model
from clinai.models._tuning import SCORINGS, cv_splits, tune_model

__all__ = [
    "CALIBRATION_METHODS",
    "SCORINGS",
    "SHRINKAGE_BOOTSTRAP",
    "SURVIVAL_SCORINGS",
    "UNKNOWN_MODEL_MSG",
    "CauseSpecificCox",
    "CoxNetSurvival",
    "DeepSurv",
    "ExplainInputs",
    "GradientBoostedSurvival",
    "RecalibratedModel",
    "SurvivalPipeline",
    "SurvivalRecalibration",
    "TorchGRUClassifier",
    "TorchMLPClassifier",
    "TrialRecord",
    "TuningResult",
    "bootstrap_shrinkage",
    "calibrate_model",
    "candidate_parameters",
    "cv_splits",
    "effective_shrinkage",
    "explain_inputs",
    "fit_survival_recalibration",
    "get_default_params",
    "get_model",
    "get_model_names",
    "get_model_task",
    "get_search_space",
    "heuristic_shrinkage",
    "known_levels",
    "likelihood_ratio_chi2",
    "out_of_fold_risk",
    "shrink_predictions",
    "survival_target",
    "synthetic_input_example",
    "tune_model",
    "tune_survival_model",
    "unpenalised_heuristic_shrinkage",
]
