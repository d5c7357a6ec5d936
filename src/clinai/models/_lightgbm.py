"""Gradient-boosted trees (LightGBM) behind the scikit-learn API."""

from __future__ import annotations

import logging
from typing import Any

from clinai.models._family import FloatRange, IntRange, PipelineFactory, SearchSpace

__all__ = ["lightgbm_classifier", "lightgbm_search_space", "make_lightgbm"]

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


def lightgbm_classifier(*, random_state: int = 0, n_jobs: int = 1) -> Any:
    """Return an unfitted LightGBM classifier with clinai's defaults.

    Parameters
    ----------
    random_state : int, default=0
        Seed of LightGBM's bagging and feature subsampling.
    n_jobs : int, default=1
        LightGBM threads. Keep it small on shared machines: LightGBM's default
        (all cores) slowed a tiny study 50x through oversubscription (ENV.md).

    Returns
    -------
    lightgbm.LGBMClassifier
        With :data:`DEFAULT_PARAMS`, deterministic and silent.
    """
    import lightgbm

    return lightgbm.LGBMClassifier(
        **DEFAULT_PARAMS,
        random_state=random_state,
        n_jobs=n_jobs,
        deterministic=True,
        force_col_wise=True,
        verbose=-1,
    )


#: The ``lightgbm`` family's pipeline: ``preprocess`` (imputation with missing indicators,
#: one-hot encoding, scaling) and :func:`lightgbm_classifier`; ``params`` override
#: :data:`DEFAULT_PARAMS`.
make_lightgbm = PipelineFactory(lightgbm_classifier)

#: The ranges reach strong regularisation (4 leaves, 100 patients per leaf, ``reg_lambda``
#: up to 10, half the rows and columns per tree), which small clinical data sets need.
lightgbm_search_space = SearchSpace(
    {
        "num_leaves": IntRange(4, 64, log=True),
        "learning_rate": FloatRange(0.01, 0.3, log=True),
        "n_estimators": IntRange(50, 500, step=50),
        "min_child_samples": IntRange(5, 100, log=True),
        "reg_lambda": FloatRange(1e-3, 10.0, log=True),
        "subsample": FloatRange(0.5, 1.0),
        "colsample_bytree": FloatRange(0.5, 1.0),
    }
)
