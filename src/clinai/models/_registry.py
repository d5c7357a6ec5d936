"""The registry of model families: a plain dict from name to pipeline factory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from clinai.exceptions import ModelError
from clinai.models._lightgbm import lightgbm_search_space, make_lightgbm
from clinai.models._logistic import logistic_search_space, make_logistic
from clinai.models._mlp import make_mlp, mlp_search_space
from clinai.models._sequence import gru_search_space, make_gru
from clinai.models._survival import (
    cox_net_search_space,
    gbs_search_space,
    make_cause_specific_cox,
    make_cox_net,
    make_gradient_boosted_survival,
)
from clinai.models._survival_torch import deep_surv_search_space, make_deep_surv

if TYPE_CHECKING:
    import optuna

__all__ = [
    "BAD_PARAMS_MSG",
    "TASKS",
    "UNKNOWN_MODEL_MSG",
    "WRONG_TASK_MSG",
    "get_model",
    "get_model_names",
    "get_model_task",
    "get_search_space",
]

logger = logging.getLogger(__name__)

UNKNOWN_MODEL_MSG = (
    "unknown model '{name}': choose one of {names} (see clinai.models.get_model_names())"
)
BAD_PARAMS_MSG = "invalid parameters for model '{name}': {error}"
WRONG_TASK_MSG = (
    "model '{name}' is a {task} model, not a {wanted} one: choose one of {names} "
    "(see clinai.models.get_model_names(task='{wanted}'))"
)

#: Outcome kinds: a binary outcome (classifiers: ``predict_proba``), a time to event
#: (``predict_risk(X, horizons)``, ``predict_survival``) and competing events (also
#: ``predict_cumulative_incidence``). Models of one kind never stand in for another's.
TASKS = ("binary", "survival", "competing_risks")

#: Name -> factory building the unfitted pipeline.
_MODELS: dict[str, Callable[..., Pipeline]] = {
    "gru": make_gru,
    "lightgbm": make_lightgbm,
    "logistic": make_logistic,
    "mlp": make_mlp,
    "cause_specific_cox": make_cause_specific_cox,
    "cox_net": make_cox_net,
    "deep_surv": make_deep_surv,
    "gradient_boosted_survival": make_gradient_boosted_survival,
}

#: Name -> outcome kind (one of :data:`TASKS`); unlisted names are binary.
_TASK_OF: dict[str, str] = {
    "cause_specific_cox": "competing_risks",
    "cox_net": "survival",
    "deep_surv": "survival",
    "gradient_boosted_survival": "survival",
}

#: Name -> Optuna search space (trial -> keyword arguments of the factory).
_SEARCH_SPACES: dict[str, Callable[[optuna.Trial], dict[str, Any]]] = {
    "gru": gru_search_space,
    "lightgbm": lightgbm_search_space,
    "logistic": logistic_search_space,
    "mlp": mlp_search_space,
    "cause_specific_cox": cox_net_search_space,
    "cox_net": cox_net_search_space,
    "deep_surv": deep_surv_search_space,
    "gradient_boosted_survival": gbs_search_space,
}


#: Name -> the library's well-tried default, tried first and kept unless beaten (see
#: :func:`clinai.models.tune_model`). Only where the default is an established prior:
#: scikit-learn's C = 1 on standardised inputs. LightGBM's defaults over-fit a few hundred
#: patients and the neural networks have no standard setting, so they get none.
_DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "logistic": {"C": 1.0},
    # A light, mostly ridge penalty: close to the unpenalised Cox model, which calibrates
    # well from about 10 events per predictor (bench_survival.py).
    "cox_net": {"alpha": 0.01, "l1_ratio": 0.1},
    "cause_specific_cox": {"alpha": 0.01, "l1_ratio": 0.1},
}


def get_default_params(name: str) -> dict[str, Any]:
    """Return the default parameters a family's tuning starts from and keeps unless beaten.

    Examples
    --------
    >>> get_default_params("logistic"), get_default_params("lightgbm")
    ({'C': 1.0}, {})
    """
    return dict(_DEFAULT_PARAMS.get(check_model_name(name), {}))


def get_model_names(task: str | None = "binary") -> list[str]:
    """Return the names of the registered model families of an outcome kind, sorted.

    Parameters
    ----------
    task : {"binary", "survival", "competing_risks"} or None, default="binary"
        Outcome kind (:data:`TASKS`); None lists every family.

    Returns
    -------
    list of str
        ``["gru", "lightgbm", "logistic", "mlp"]`` for binary outcomes;
        ``["cox_net", "deep_surv", "gradient_boosted_survival"]`` for survival.

    See Also
    --------
    get_model : Build a pipeline by name.

    Examples
    --------
    >>> from clinai.models import get_model_names
    >>> get_model_names()
    ['gru', 'lightgbm', 'logistic', 'mlp']
    >>> get_model_names("survival")
    ['cox_net', 'deep_surv', 'gradient_boosted_survival']
    """
    return sorted(n for n in _MODELS if task is None or get_model_task(n) == task)


def get_model_task(name: str) -> str:
    """Return the outcome kind a registered family models (one of :data:`TASKS`).

    Examples
    --------
    >>> get_model_task("logistic"), get_model_task("cox_net")
    ('binary', 'survival')
    """
    return _TASK_OF.get(check_model_name(name), "binary")


def check_model_name(name: str, task: str | None = None) -> str:
    """Return ``name`` if it is registered (for ``task``), else raise :class:`ModelError`.

    Parameters
    ----------
    name : str
        A model family name.
    task : str, optional
        The outcome kind the caller needs; a family of another kind is refused.

    Returns
    -------
    str
        The same name.

    Raises
    ------
    ModelError
        If ``name`` is not registered; the message lists the valid names.
    """
    if not isinstance(name, str) or name not in _MODELS:
        names = get_model_names("binary" if task is None else task)
        raise ModelError(UNKNOWN_MODEL_MSG.format(name=name, names=", ".join(names)))
    kind = _TASK_OF.get(name, "binary")
    if task is not None and kind != task:
        listed = ", ".join(get_model_names(task))
        raise ModelError(WRONG_TASK_MSG.format(name=name, task=kind, wanted=task, names=listed))
    return name


def get_model(
    name: str,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    n_jobs: int = 1,
    **params: Any,
) -> Pipeline:
    """Build an unfitted model pipeline by family name.

    The pipeline has two steps: ``preprocess`` (a
    :class:`~sklearn.compose.ColumnTransformer`: median imputation with missing
    indicators and standard scaling for numeric columns, most-frequent
    imputation and one-hot encoding for categorical columns; dense output)
    and ``model`` (the estimator). Fit it on a DataFrame holding the named
    columns.

    Parameters
    ----------
    name : str
        Model family; see :func:`get_model_names` (``task=None``: every kind).
    numeric : sequence of str
        Numeric feature columns.
    categorical : sequence of str
        Categorical feature columns.
    random_state : int, default=0
        Seed of the estimator.
    n_jobs : int, default=1
        Threads of the estimator (LightGBM, torch).
    **params
        Estimator parameters, e.g. ``C`` for ``logistic`` or the
        ``best_params`` of :func:`tune_model`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted pipeline with steps ``preprocess`` and ``model``.

    Raises
    ------
    ModelError
        If the name is unknown, a parameter is not one of the estimator's, or
        the column lists are invalid.

    See Also
    --------
    get_model_names : The valid names.
    get_search_space : The Optuna search space of a family.

    Examples
    --------
    >>> from clinai.models import get_model
    >>> pipe = get_model("logistic", numeric=["age"], categorical=["sex"], C=0.1)
    >>> [step for step, _ in pipe.steps]
    ['preprocess', 'model']
    """
    factory = _MODELS[check_model_name(name)]
    try:
        return factory(
            numeric=numeric,
            categorical=categorical,
            random_state=random_state,
            n_jobs=n_jobs,
            **params,
        )
    except ValueError as exc:
        raise ModelError(BAD_PARAMS_MSG.format(name=name, error=exc)) from exc


def get_search_space(name: str) -> Callable[[optuna.Trial], dict[str, Any]]:
    """Return the Optuna search space of a model family.

    Parameters
    ----------
    name : str
        Model family; see :func:`get_model_names` (``task=None``: every kind).

    Returns
    -------
    callable
        ``space(trial) -> dict`` of keyword arguments for :func:`get_model`.
        The ranges allow strong regularisation, which small clinical data
        sets (a few hundred patients) need.

    Raises
    ------
    ModelError
        If the name is unknown.
    """
    return _SEARCH_SPACES[check_model_name(name)]
