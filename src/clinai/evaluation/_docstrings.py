"""Shared numpydoc text of the evaluation functions, filled into their docstrings at import.

Many public functions take the same arguments (``y_true``, ``y_prob``, ``n_boot``,
``ci_level`` ...) and document them in the same words. Each such block is written
once in :data:`SHARED_DOCS`; a docstring names it by a line holding only its
placeholder, e.g. ``{y_true}``, and :func:`fill_doc` replaces that line by the block,
indented as the placeholder is, when the module is imported (as pandas' ``doc``
decorator and matplotlib's ``_docstring.interpd`` do). ``help()``, IDEs and the
doctests read the filled text; each function keeps its own summary, definitions,
returns and examples in its own docstring. A block may also be a whole section
(its title, underline and the placeholders of its entries) that a family of
functions with the same inputs, or the same result, shares word for word.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from clinai._utils._docstrings import UNKNOWN_BLOCK, doc_filler

__all__ = ["SHARED_DOCS", "UNKNOWN_BLOCK_MSG", "fill_doc"]

_F = TypeVar("_F", bound=Callable[..., Any])

_TABLE = "clinai.evaluation._docstrings.SHARED_DOCS"
UNKNOWN_BLOCK_MSG = UNKNOWN_BLOCK.replace("{table}", _TABLE)

#: The shared blocks, by placeholder name: a parameter's (or a raised error's) first
#: line, then its description indented by four spaces, as numpydoc writes them; or a
#: whole section, whose lines may name other blocks.
SHARED_DOCS: Mapping[str, str] = MappingProxyType(
    {
        # the data every metric takes
        "y_true": "y_true : array-like of shape (n,)\n    Observed outcome, 0 or 1.",
        "y_prob": "y_prob : array-like of shape (n,)\n    Predicted probability of the event.",
        "invalid_input": "DataError\n    On invalid or one-class input.",
        "invalid_threshold_input": (
            "DataError\n    On invalid or one-class input, or a threshold outside (0, 1)."
        ),
        # the bootstrap's arguments
        "patient_ids": (
            "patient_ids : array-like of shape (n,), optional\n"
            "    Patient of each row; the bootstrap then resamples patients."
        ),
        "n_boot": "n_boot : int, default=200\n    Bootstrap resamples (0: no intervals).",
        "ci_level": "ci_level : float, default=0.95\n    Confidence level of the intervals.",
        "random_state": (
            "random_state : int, numpy.random.Generator or None, default=0\n"
            "    Seed; the same seed gives the same numbers."
        ),
        "random_state_bootstrap": (
            "random_state : int, numpy.random.Generator or None, default=0\n"
            "    Seed of the bootstrap; the same seed gives the same numbers."
        ),
        "progress": "progress : callable, optional\n    Called as ``progress(done, n_boot)``.",
        "min_cell": (
            "min_cell : int, default=5\n"
            "    Smallest reportable number of rows, patients, events and non-events."
        ),
        # SHAP values and their per-variable contributions
        "contributions": (
            "contributions : array-like of shape (n_rows, n_variables)\n"
            "    Per-variable SHAP contributions of the explained rows."
        ),
        "variables": "variables : sequence of str\n    Name of each column of ``contributions``.",
        "estimator": (
            "estimator : object\n    The fitted final estimator (not the preprocessing pipeline)."
        ),
        "X_transformed": (
            "X_transformed : array-like, DataFrame or sparse matrix of shape (n, m)\n"
            "    The estimator's input (preprocessed features)."
        ),
        "feature_names": "feature_names : sequence of str\n    Name of each of the ``m`` columns.",
        "kind": 'kind : {"tree", "linear", "kernel"}\n    Explainer to use.',
        "n_background": (
            "n_background : int, default=100\n"
            '    Background rows (for ``"linear"`` and ``"kernel"``), sampled with the seed.'
        ),
        "random_state_shap": (
            "random_state : int or None, default=0\n"
            "    Seed of the row samples (and of the kernel explainer)."
        ),
        "background": (
            "background : array-like of shape (k, m), optional\n"
            "    Rows to draw the background sample from (e.g. transformed training\n"
            "    rows); default ``X_transformed``."
        ),
        # survival (time-to-event) data
        "time": "time : array-like of shape (n,)\n    Follow-up time, finite and >= 0.",
        "event": "event : array-like of shape (n,)\n    1 for an event, 0 for censoring.",
        "censoring": (
            "censoring : KaplanMeier, optional\n"
            "    The censoring distribution G (e.g. from the development data, as\n"
            "    scikit-survival's ``survival_train``); default: estimated from these data."
        ),
        "tied_tol": "tied_tol : float, default=1e-8\n    Scores closer than this count as tied.",
        # whole sections of a family of functions with the same inputs or result
        "binary_metric_parameters": "Parameters\n----------\n{y_true}\n{y_prob}",
        "kaplan_meier_parameters": "Parameters\n----------\n{time}\n{event}",
        "concordance_returns": "Returns\n-------\nConcordance",
    }
)


def fill_doc(func: _F) -> _F:
    """Replace each ``{name}`` line of ``func``'s docstring by the shared block ``name``.

    Parameters
    ----------
    func : callable
        A function whose docstring names blocks of :data:`SHARED_DOCS`.

    Returns
    -------
    callable
        ``func`` itself, its ``__doc__`` filled (unchanged when Python runs with
        ``-OO``, which drops docstrings).

    Raises
    ------
    KeyError
        If the docstring names a block that :data:`SHARED_DOCS` lacks (at import,
        so a misspelt placeholder never reaches a user).

    Examples
    --------
    >>> @fill_doc
    ... def f(y_true):
    ...     '''Count the events.
    ...
    ...     Parameters
    ...     ----------
    ...     {y_true}
    ...     '''
    >>> print(f.__doc__.splitlines()[4])
        y_true : array-like of shape (n,)
    """
    return _fill(func)


_fill = doc_filler(SHARED_DOCS, _TABLE)
