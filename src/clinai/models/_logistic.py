"""Penalised logistic regression: the reference model for small clinical data sets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from clinai.models._preprocess import make_preprocessor

if TYPE_CHECKING:
    import optuna

__all__ = ["logistic_search_space", "make_logistic"]

logger = logging.getLogger(__name__)

#: Enough iterations for L-BFGS to converge on scaled data for every ``C`` in the
#: search space (a ``ConvergenceWarning`` would be an error under the tests).
_MAX_ITER = 5000


def make_logistic(
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    n_jobs: int = 1,
    **params: Any,
) -> Pipeline:
    """Build an L2-penalised logistic regression pipeline.

    The L2 (ridge) penalty with the L-BFGS solver is fast and converges
    reliably; a single parameter, the inverse penalty strength ``C``, is tuned.
    Small clinical data sets favour this model (ENV.md: best or tied on most
    bundled tasks).

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns by type.
    random_state : int, default=0
        Passed to :class:`~sklearn.linear_model.LogisticRegression` (unused
        by L-BFGS, kept for a uniform interface).
    n_jobs : int, default=1
        Unused (L-BFGS on one binary problem is single-threaded).
    **params
        :class:`~sklearn.linear_model.LogisticRegression` parameters, e.g. ``C``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``preprocess`` and ``model``.
    """
    del n_jobs
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=_MAX_ITER, random_state=random_state)
    model.set_params(**params)
    return Pipeline([("preprocess", make_preprocessor(numeric, categorical)), ("model", model)])


def logistic_search_space(trial: optuna.Trial) -> dict[str, Any]:
    """Suggest logistic regression parameters for one Optuna trial.

    ``C`` is log-uniform on [1e-3, 1e2]: from a strong penalty (coefficients
    shrunk towards zero, good for a few hundred patients) to almost none.

    Parameters
    ----------
    trial : optuna.Trial
        The trial to draw from.

    Returns
    -------
    dict
        Keyword arguments for ``get_model("logistic", ...)``.
    """
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}
