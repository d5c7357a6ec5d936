"""Gradient-boosted trees (LightGBM) behind the scikit-learn API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from clinai.models._preprocess import make_preprocessor

if TYPE_CHECKING:
    import optuna

__all__ = ["lightgbm_search_space", "make_lightgbm"]

logger = logging.getLogger(__name__)

#: Defaults for small clinical data sets: shallow trees, shrinkage, row and
#: column subsampling and an L2 penalty. Default LightGBM (31 leaves, 100 rounds
#: at 0.1) is over-confident on a few hundred patients.
DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 8,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
}


def make_lightgbm(
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    n_jobs: int = 1,
    **params: Any,
) -> Pipeline:
    """Build a LightGBM classifier pipeline.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns by type.
    random_state : int, default=0
        Seed of LightGBM's bagging and feature subsampling.
    n_jobs : int, default=1
        LightGBM threads. Keep it small on shared machines: LightGBM's default
        (all cores) slowed a tiny study 50x through oversubscription (ENV.md).
    **params
        :class:`lightgbm.LGBMClassifier` parameters overriding
        :data:`DEFAULT_PARAMS`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``preprocess`` and ``model``.
    """
    import lightgbm

    model = lightgbm.LGBMClassifier(
        **DEFAULT_PARAMS,
        random_state=random_state,
        n_jobs=n_jobs,
        deterministic=True,
        force_col_wise=True,
        verbose=-1,
    )
    model.set_params(**params)
    return Pipeline([("preprocess", make_preprocessor(numeric, categorical)), ("model", model)])


def lightgbm_search_space(trial: optuna.Trial) -> dict[str, Any]:
    """Suggest LightGBM parameters for one Optuna trial.

    The ranges reach strong regularisation (4 leaves, 100 patients per leaf,
    ``reg_lambda`` up to 10, half the rows and columns per tree), which small
    clinical data sets need.

    Parameters
    ----------
    trial : optuna.Trial
        The trial to draw from.

    Returns
    -------
    dict
        Keyword arguments for ``get_model("lightgbm", ...)``.
    """
    return {
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 50, 500, step=50),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
    }
