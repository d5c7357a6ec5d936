"""What every model family's pipeline factory and search space do the same way.

The registry (:mod:`clinai.models._registry`) maps a family name to a pipeline factory
and an Optuna search space. Every factory builds the same two-step pipeline
(``preprocess``, ``model``) and every search space draws its parameters one by one from
the trial, so both are written once here: a family module states only its estimator,
its preprocessing and its ranges.

optuna is not imported here: a search space only calls the trial it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from clinai.models._preprocess import make_preprocessor

if TYPE_CHECKING:
    import optuna

__all__ = ["FloatRange", "IntRange", "PipelineFactory", "SearchSpace"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineFactory:
    """Build a model family's unfitted pipeline, as :func:`clinai.models.get_model` does.

    Calling it, ``factory(*, numeric, categorical, random_state=0, n_jobs=1, **params)``,
    builds the estimator with ``random_state`` and ``n_jobs``, sets ``params`` on it
    (scikit-learn's ``set_params``: an unknown name raises ``ValueError``) and returns
    ``Pipeline([("preprocess", preprocessor(numeric, categorical)), ("model", estimator)])``.

    Attributes
    ----------
    estimator : callable
        ``estimator(random_state=..., n_jobs=...)`` returns the unfitted estimator,
        with the family's defaults.
    preprocessor : callable, default=make_preprocessor
        ``preprocessor(numeric, categorical)`` returns the unfitted ``preprocess`` step.
    pipeline : type, default=Pipeline
        The pipeline class (survival models use one that also passes ``predict_risk``
        and ``predict_survival`` through the preprocessing).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> factory = PipelineFactory(lambda random_state, n_jobs: LogisticRegression())
    >>> pipe = factory(numeric=["age"], categorical=[], C=0.5)
    >>> [step for step, _ in pipe.steps], pipe.named_steps["model"].C
    (['preprocess', 'model'], 0.5)
    """

    estimator: Callable[..., Any]
    preprocessor: Callable[[Sequence[str], Sequence[str]], Any] = make_preprocessor
    pipeline: Callable[..., Pipeline] = Pipeline

    def __call__(
        self,
        *,
        numeric: Sequence[str],
        categorical: Sequence[str],
        random_state: int = 0,
        n_jobs: int = 1,
        **params: Any,
    ) -> Pipeline:
        """Return the unfitted pipeline (see the class docstring)."""
        model = self.estimator(random_state=random_state, n_jobs=n_jobs)
        model.set_params(**params)
        preprocess = self.preprocessor(numeric, categorical)
        return self.pipeline([("preprocess", preprocess), ("model", model)])


@dataclass(frozen=True)
class IntRange:
    """An integer parameter of a search space (Optuna's ``trial.suggest_int``).

    Attributes
    ----------
    low, high : int
        Bounds, both included.
    step : int, default=1
        Spacing of the values.
    log : bool, default=False
        Draw on the log scale.
    """

    low: int
    high: int
    step: int = 1
    log: bool = False

    def suggest(self, trial: optuna.Trial, name: str) -> int:
        """Draw the parameter ``name`` from ``trial``."""
        return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)


@dataclass(frozen=True)
class FloatRange:
    """A real parameter of a search space (Optuna's ``trial.suggest_float``).

    Attributes
    ----------
    low, high : float
        Bounds.
    log : bool, default=False
        Draw on the log scale.
    """

    low: float
    high: float
    log: bool = False

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        """Draw the parameter ``name`` from ``trial``."""
        return trial.suggest_float(name, self.low, self.high, log=self.log)


@dataclass(frozen=True)
class SearchSpace:
    """A model family's Optuna search space, as :func:`clinai.models.get_search_space` gives it.

    Calling it, ``space(trial)``, draws every range in order (the order is part of
    the search: a seeded sampler gives the same parameters only in the same order) and
    returns the estimator parameters for :func:`clinai.models.get_model`.

    Attributes
    ----------
    ranges : mapping of str to IntRange or FloatRange
        The Optuna parameters and their ranges, in drawing order.
    to_params : callable, optional
        Turns the drawn values into estimator parameters (e.g. a width and a depth
        into layer sizes); by default they are the estimator parameters.

    Examples
    --------
    >>> import optuna
    >>> space = SearchSpace({"C": FloatRange(1e-3, 1e2, log=True)})
    >>> trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    >>> sorted(space(trial))
    ['C']
    """

    ranges: Mapping[str, IntRange | FloatRange]
    to_params: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw the parameters of one trial (see the class docstring)."""
        drawn = {name: bounds.suggest(trial, name) for name, bounds in self.ranges.items()}
        return drawn if self.to_params is None else self.to_params(drawn)
