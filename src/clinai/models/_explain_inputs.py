"""What an explainer needs from a fitted model, and a synthetic input example."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from clinai.exceptions import DataError, ModelError
from clinai.models._mlp import TorchMLPClassifier
from clinai.models._recalibrated import RecalibratedModel
from clinai.models._sequence import TorchGRUClassifier

__all__ = ["ExplainInputs", "explain_inputs", "synthetic_input_example"]

logger = logging.getLogger(__name__)

NOT_PIPELINE_MSG = (
    "explain_inputs needs a fitted pipeline from clinai.models.get_model (steps 'preprocess' "
    "and 'model'), or a CalibratedClassifierCV around one; got {kind}"
)
UNKNOWN_ESTIMATOR_MSG = (
    "explain_inputs does not know how to explain a {kind}: use a model from "
    "clinai.models.get_model_names()"
)
EMPTY_X_MSG = "X has no rows: a synthetic input example needs the training data's columns and rows"
MAPPING_MSG = (
    "the preprocessing produced {n_out} columns but {n_mapped} could be traced back to a "
    "clinical variable"
)

_INDICATOR_PREFIX = "missingindicator_"


@dataclass(frozen=True)
class ExplainInputs:
    """The model and data an explainer (SHAP) works on.

    Attributes
    ----------
    estimator : estimator
        The fitted final model (LightGBM, logistic regression or MLP). It takes
        ``X_transformed``, not the clinical DataFrame.
    X_transformed : ndarray of shape (n_samples, n_features_out)
        The rows to explain after the pipeline's preprocessing (float).
    feature_names : list of str
        Names of the transformed columns (``age``, ``missingindicator_age``,
        ``sex_F``).
    feature_to_variable : dict of str to str
        Transformed column -> the clinical variable it came from (one-hot and
        missing-indicator columns map to their source column), so that
        attributions can be summed per variable.
    kind : {"tree", "linear", "kernel"}
        Which SHAP explainer fits the model: tree (LightGBM), linear (logistic
        regression) or model-agnostic kernel (PyTorch MLP and GRU, any other
        classifier with ``predict_proba``).
    background : ndarray or None
        Transformed background sample (training data) for the linear and
        kernel explainers; None if no background data were given.
    link : str
        Scale of the explanations: ``"logit"`` (log-odds of the positive class).
    members : tuple of ExplainInputs
        For a calibrated ensemble, the inputs of every fold model (empty otherwise).
    """

    estimator: Any
    X_transformed: np.ndarray
    feature_names: list[str]
    feature_to_variable: dict[str, str]
    kind: Literal["tree", "linear", "kernel"]
    background: np.ndarray | None = None
    link: str = "logit"
    members: tuple[ExplainInputs, ...] = ()


def _pipelines(fitted: Any) -> list[Pipeline]:
    if isinstance(fitted, RecalibratedModel):
        # a shrunk (small-data) model: a monotone map of its base's log-odds, explained as it
        fitted = fitted.base
    pipes = [fitted]
    if isinstance(fitted, CalibratedClassifierCV):
        check_is_fitted(fitted, "calibrated_classifiers_")
        pipes = [member.estimator for member in fitted.calibrated_classifiers_]
    for pipe in pipes:
        if not isinstance(pipe, Pipeline) or set(pipe.named_steps) != {"preprocess", "model"}:
            raise ModelError(NOT_PIPELINE_MSG.format(kind=type(pipe).__name__))
        check_is_fitted(pipe)
    return pipes


def _kind(model: BaseEstimator) -> Literal["tree", "linear", "kernel"]:
    if isinstance(model, LogisticRegression):
        return "linear"
    if type(model).__name__ == "LGBMClassifier":
        return "tree"
    if isinstance(model, TorchMLPClassifier | TorchGRUClassifier) or hasattr(
        model, "predict_proba"
    ):
        # PyTorch models and any other classifier: the model-agnostic (kernel) explainer
        return "kernel"
    raise ModelError(UNKNOWN_ESTIMATOR_MSG.format(kind=type(model).__name__))


def _variable_map(preprocess: ColumnTransformer) -> dict[str, str]:
    """Map each output column of the fitted preprocessing to its input column.

    Built from the fitted transformers (not by parsing names), so column and
    category names with underscores map correctly.
    """
    mapping: dict[str, str] = {}
    for label, transformer, columns in preprocess.transformers_:
        if label == "remainder" or transformer == "drop":
            continue
        columns = [str(c) for c in columns]
        if label == "num":
            imputer = transformer.named_steps["impute"]
            for out in imputer.get_feature_names_out(columns):
                source = out[len(_INDICATOR_PREFIX) :] if out not in columns else out
                mapping[str(out)] = source
        elif label == "cat":
            # the imputer drops columns that were all missing in training
            variables = list(transformer.named_steps["impute"].get_feature_names_out(columns))
            encoder = transformer.named_steps["onehot"]
            names = list(encoder.get_feature_names_out(variables))
            pos = 0
            for i, variable in enumerate(variables):
                n_out = len(encoder.categories_[i])
                if encoder.drop_idx_ is not None and encoder.drop_idx_[i] is not None:
                    n_out -= 1
                for out in names[pos : pos + n_out]:
                    mapping[str(out)] = str(variable)
                pos += n_out
    return mapping


def explain_inputs(
    fitted: Any,
    X: pd.DataFrame,
    *,
    background: pd.DataFrame | None = None,
    max_background: int = 200,
    random_state: int = 0,
) -> ExplainInputs:
    """Collect what a SHAP explainer needs from a fitted clinai model.

    For a :class:`~sklearn.calibration.CalibratedClassifierCV`, the pipeline
    it calibrates is explained. SHAP then explains the uncalibrated model's
    log-odds; sigmoid and isotonic calibration are monotone maps of that score,
    so the ranking of patients, and which variables push a patient up or down,
    carry over to the calibrated probabilities (magnitudes on the probability
    scale do not). A calibrated ensemble (``ensemble=True``) has one pipeline per
    fold: each is described in ``members`` (the first is also the result itself),
    and their SHAP values are averaged (:func:`clinai.evaluation.mean_shap_values`),
    which explains the mean of the fold models' log-odds.

    Parameters
    ----------
    fitted : Pipeline or CalibratedClassifierCV
        A fitted pipeline from :func:`get_model`, or the result of
        :func:`calibrate_model`.
    X : pandas.DataFrame
        Rows to explain, with the clinical variables as columns.
    background : pandas.DataFrame, optional
        Training rows for the explainer's background distribution; at most
        ``max_background`` of them are drawn (seeded) and transformed.
    max_background : int, default=200
        Largest background sample.
    random_state : int, default=0
        Seed of the background sample.

    Returns
    -------
    ExplainInputs
        Final estimator, transformed rows, transformed column names, the map
        from transformed column to clinical variable, explainer kind,
        background sample and link.

    Raises
    ------
    ModelError
        If ``fitted`` is not a fitted clinai pipeline (or a calibrated one).
    """
    pipes = _pipelines(fitted)
    if len(pipes) > 1:
        members = tuple(
            explain_inputs(
                pipe,
                X,
                background=background,
                max_background=max_background,
                random_state=random_state,
            )
            for pipe in pipes
        )
        return replace(members[0], members=members)
    pipe = pipes[0]
    preprocess = pipe.named_steps["preprocess"]
    model = pipe.named_steps["model"]
    kind = _kind(model)
    X_t = np.asarray(preprocess.transform(X), dtype=np.float64)
    names = [str(n) for n in preprocess.get_feature_names_out()]
    mapping = _variable_map(preprocess)
    if len(names) != X_t.shape[1] or set(names) != set(mapping):
        raise ModelError(MAPPING_MSG.format(n_out=len(names), n_mapped=len(mapping)))
    bg: np.ndarray | None = None
    if background is not None:
        sample = background
        if len(background) > max_background:
            sample = background.sample(n=max_background, random_state=random_state)
        bg = np.asarray(preprocess.transform(sample), dtype=np.float64)
    return ExplainInputs(
        estimator=model,
        X_transformed=X_t,
        feature_names=names,
        feature_to_variable={n: mapping[n] for n in names},
        kind=kind,
        background=bg,
        link="logit",
    )


def synthetic_input_example(X: pd.DataFrame) -> pd.DataFrame:
    """Build one synthetic row with the columns and dtypes of ``X``.

    MLflow stores an input example with a logged model, and a real patient
    row must never be logged (DESIGN.md, privacy rules). This row is made of
    summaries instead: the median of each numeric column (rounded for integer
    columns) and the most frequent value of every other column. It describes
    no actual patient, only the schema.

    Parameters
    ----------
    X : pandas.DataFrame
        Training features.

    Returns
    -------
    pandas.DataFrame
        One row, same columns and dtypes as ``X``.

    Raises
    ------
    DataError
        If ``X`` has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from clinai.models import synthetic_input_example
    >>> X = pd.DataFrame({"age": [50, 60, 70], "sex": ["F", "M", "M"]})
    >>> synthetic_input_example(X)
       age sex
    0   60   M
    """
    if len(X) == 0:
        raise DataError(EMPTY_X_MSG)
    row: dict[str, pd.Series] = {}
    for column in X.columns:
        values = X[column]
        dtype = values.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            median = values.median()
            if pd.api.types.is_integer_dtype(dtype):
                value: Any = round(float(median)) if pd.notna(median) else pd.NA
            else:
                value = float(median) if pd.notna(median) else np.nan
        else:
            modes = values.mode(dropna=True)
            value = modes.iloc[0] if len(modes) else values.iloc[0]
        row[column] = pd.Series([value], dtype=dtype)
    return pd.DataFrame(row, columns=X.columns)
