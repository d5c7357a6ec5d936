"""Penalised logistic regression: the reference model for small clinical data sets."""

from __future__ import annotations

import logging

from sklearn.linear_model import LogisticRegression

from clinai.models._family import FloatRange, PipelineFactory, SearchSpace

__all__ = ["logistic_classifier", "logistic_search_space", "make_logistic"]

logger = logging.getLogger(__name__)

#: Enough iterations for L-BFGS to converge on scaled data for every ``C`` in the
#: search space (a ``ConvergenceWarning`` would be an error under the tests).
_MAX_ITER = 5000


def logistic_classifier(*, random_state: int = 0, n_jobs: int = 1) -> LogisticRegression:
    """Return an unfitted L2-penalised logistic regression.

    The L2 (ridge) penalty with the L-BFGS solver is fast and converges
    reliably; a single parameter, the inverse penalty strength ``C``, is tuned.
    Small clinical data sets favour this model (ENV.md: best or tied on most
    bundled tasks).

    Parameters
    ----------
    random_state : int, default=0
        Passed to :class:`~sklearn.linear_model.LogisticRegression` (unused
        by L-BFGS, kept for a uniform interface).
    n_jobs : int, default=1
        Unused (L-BFGS on one binary problem is single-threaded).

    Returns
    -------
    sklearn.linear_model.LogisticRegression
        ``C=1``, L-BFGS.
    """
    del n_jobs
    return LogisticRegression(C=1.0, solver="lbfgs", max_iter=_MAX_ITER, random_state=random_state)


#: The ``logistic`` family's pipeline: ``preprocess`` (imputation with missing indicators,
#: one-hot encoding, scaling) and :func:`logistic_classifier`; ``params`` such as ``C``
#: are set on the regression.
make_logistic = PipelineFactory(logistic_classifier)

#: ``C`` is log-uniform on [1e-3, 1e2]: from a strong penalty (coefficients shrunk towards
#: zero, good for a few hundred patients) to almost none.
logistic_search_space = SearchSpace({"C": FloatRange(1e-3, 1e2, log=True)})
