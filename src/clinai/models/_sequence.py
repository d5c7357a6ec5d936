"""A PyTorch GRU over hourly-resampled vital signs behind the scikit-learn classifier API.

Input contract: a DataFrame whose sequence columns are named ``<parameter>__h<k>``,
where ``k = 0`` is the hour ending at the prediction time and ``k = 1, ..., T-1``
are older hours; every other column is a static feature.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from clinai.exceptions import ModelError
from clinai.models._family import FloatRange, IntRange, PipelineFactory, SearchSpace
from clinai.models._preprocess import check_columns, make_preprocessor
from clinai.models._torch_core import Network, TorchClassifier, is_int

__all__ = [
    "SEQUENCE_COLUMN",
    "SequenceImputer",
    "TorchGRUClassifier",
    "gru_search_space",
    "make_gru",
    "make_sequence_preprocessor",
    "parse_sequence_columns",
]

logger = logging.getLogger(__name__)

#: ``<parameter>__h<k>``: the value of ``parameter`` in the hour ``k`` hours before prediction.
SEQUENCE_COLUMN = re.compile(r"^(?P<parameter>.+)__h(?P<hour>\d+)$")
#: Prefix of scikit-learn's missing-indicator columns (``missingindicator_heart_rate__h3``).
INDICATOR_PREFIX = "missingindicator_"

GRU_PARAM_MSG = "TorchGRUClassifier parameter {name} must be {rule}; got {value!r}"
GRU_NOT_FRAME_MSG = (
    "TorchGRUClassifier needs a pandas DataFrame with columns named <parameter>__h<k> "
    "(k = 0 is the hour ending at the prediction time); got {kind}"
)
GRU_COLUMNS_MSG = "X lacks the column(s) {columns} seen in fit: pass the same columns as in fit"
GRU_WIDTH_MSG = "X has {got} columns but TorchGRUClassifier was fitted on {expected}"
GRU_LABELS_MSG = "y must be 1-d with {n} labels (one per row of X); got shape {shape}"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic
    return out


def parse_sequence_columns(columns: Sequence[Any]) -> tuple[list[str], int, list[str]]:
    """Split column names into sequence parameters and static features.

    Parameters
    ----------
    columns : sequence of str
        Column names.

    Returns
    -------
    parameters : list of str
        Parameters with at least one ``<parameter>__h<k>`` column, in order of
        first appearance.
    n_steps : int
        ``T``, one more than the largest ``k`` seen.
    static : list of str
        The other columns, in their original order.

    Examples
    --------
    >>> parse_sequence_columns(["hr__h0", "hr__h2", "age", "sbp__h1", "missingindicator_hr__h2"])
    (['hr', 'sbp'], 3, ['age'])
    """
    parameters: list[str] = []
    candidates: list[str] = []
    n_steps = 0
    for column in columns:
        match = SEQUENCE_COLUMN.match(str(column))
        if match is None or str(column).startswith(INDICATOR_PREFIX):
            candidates.append(str(column))
            continue
        if match["parameter"] not in parameters:
            parameters.append(match["parameter"])
        n_steps = max(n_steps, int(match["hour"]) + 1)
    # The missing indicators of sequence columns (added by the pipeline's imputer) are the
    # mask channel, not static features.
    static = [
        c
        for c in candidates
        if not (
            c.startswith(INDICATOR_PREFIX)
            and (m := SEQUENCE_COLUMN.match(c.removeprefix(INDICATOR_PREFIX))) is not None
            and m["parameter"] in parameters
        )
    ]
    return parameters, n_steps, static


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Carry the last observed value forward in time along the last axis (oldest first)."""
    n_steps = values.shape[-1]
    observed = ~np.isnan(values)
    index = np.where(observed, np.arange(n_steps), 0)
    np.maximum.accumulate(index, axis=-1, out=index)
    filled = np.take_along_axis(values, index, axis=-1)
    # Positions before the first observation picked index 0, which may itself be missing.
    seen = np.maximum.accumulate(observed, axis=-1)
    return np.where(seen, filled, np.nan)


@dataclass(eq=False, repr=False, kw_only=True)
class TorchGRUClassifier(TorchClassifier):
    r"""Gated recurrent unit (GRU) classifier over hourly vital signs, trained with PyTorch.

    Each patient-time is a sequence of ``T`` hourly steps, oldest first. The
    input of step ``t`` holds, for every parameter, its standardised value and
    a missingness indicator (1 when the hour had no measurement). A missing
    hour takes the last earlier value of the same sequence (forward fill);
    hours before the first measurement take the parameter's training median.
    The GRU's final hidden state (at ``h0``, the hour ending at the prediction
    time) is concatenated with the static features (numeric: median
    imputation with missing indicators and standard scaling; categorical:
    one-hot encoding) and fed to a linear softmax layer. Training minimises
    cross-entropy with AdamW and stops early when the loss on an internal
    stratified validation split has not improved for ``patience`` epochs,
    keeping the best epoch's weights. The training loop is the one the MLP
    uses (``clinai.models._torch_core``); this class holds the network and
    the reading of the sequences.

    ``fit`` takes a DataFrame; prediction reads the columns seen in ``fit`` by
    name (extra columns are ignored), or a NumPy array in the fitted column order.

    The fitted weights are NumPy arrays and prediction runs the GRU recurrence
    in NumPy, so a fitted model pickles and predicts without torch:

    .. math::

        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\quad
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),

        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})),\quad
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.

    Parameters
    ----------
    hidden_size : int, default=32
        Width of the GRU's hidden state.
    lr : float, default=3e-3
        Learning rate, > 0 (higher than the MLP's).
    max_epochs : int, default=60
        Maximum number of passes over the training data.
    patience : int, default=8
        Epochs without improvement of the validation loss before stopping.
    dropout, weight_decay, batch_size, validation_fraction, random_state, n_jobs
        Training parameters of :class:`~clinai.models._torch_core.TorchClassifier`,
        with its defaults; dropout acts on the final hidden state.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns seen in fit.
    n_features_in_ : int
        Number of columns seen in fit.
    parameters_ : list of str
        The sequence parameters.
    n_steps_ : int
        Sequence length ``T``.
    static_features_ : list of str
        Static columns.
    medians_, means_, scales_ : ndarray of shape (n_parameters,)
        Training median (imputation), mean and standard deviation (scaling)
        of each parameter.
    gru_weights_ : dict of str to ndarray
        ``weight_ih`` (3H, 2P), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh``
        (3H,), gates in the order reset, update, new (PyTorch's layout); empty
        when ``X`` has no sequence column (then only static features are used).
    head_weight_, head_bias_ : ndarray
        Output layer, shapes (n_classes, H + n_static_out) and (n_classes,).
    classes_, n_iter_, best_epoch_, loss_curve_, validation_loss_curve_
        As in :class:`~clinai.models._torch_core.TorchClassifier`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from clinai.models import TorchGRUClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["hr__h0", "hr__h1", "age"])
    >>> y = (X["hr__h0"] > X["hr__h1"]).astype(int)
    >>> TorchGRUClassifier(max_epochs=3).fit(X, y).predict_proba(X).shape
    (60, 2)
    """

    _param_msg = GRU_PARAM_MSG
    _fitted_attr = "gru_weights_"

    hidden_size: int = 32
    lr: float = 3e-3
    max_epochs: int = 60
    patience: int = 8

    def _check_network_params(self) -> None:
        value = self.hidden_size
        self._check_param("hidden_size", value, is_int(value) and value >= 1, "an integer >= 1")

    # ---- preprocessing -------------------------------------------------------------
    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            if reset or not isinstance(X, np.ndarray):
                raise ModelError(GRU_NOT_FRAME_MSG.format(kind=type(X).__name__))
            # A plain array (e.g. from an explainer) is read in the fitted column order.
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ModelError(
                    GRU_WIDTH_MSG.format(got=X.shape[-1], expected=self.n_features_in_)
                )
            return pd.DataFrame(X, columns=self.feature_names_in_)
        if reset:
            return X
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ModelError(GRU_COLUMNS_MSG.format(columns=", ".join(missing)))
        return X

    def _raw_sequences(self, X: pd.DataFrame) -> np.ndarray:
        """Values of shape (n, n_parameters, n_steps), oldest hour first, NaN if missing."""
        out = np.full((len(X), len(self.parameters_), self.n_steps_), np.nan)
        for p, parameter in enumerate(self.parameters_):
            for k in range(self.n_steps_):
                column = f"{parameter}__h{k}"
                if column in self._sequence_columns_:
                    values = pd.to_numeric(X[column], errors="coerce")
                    out[:, p, self.n_steps_ - 1 - k] = values.to_numpy(dtype=np.float64)
        return out

    def _sequences(self, X: pd.DataFrame) -> np.ndarray:
        """Model input of shape (n, n_steps, 2 * n_parameters): scaled values, then masks."""
        raw = self._raw_sequences(X)
        missing = np.isnan(raw)
        # Values already imputed by the pipeline carry their mask in indicator columns.
        for p, parameter in enumerate(self.parameters_):
            for k in range(self.n_steps_):
                column = f"{INDICATOR_PREFIX}{parameter}__h{k}"
                if column in X.columns:
                    flags = pd.to_numeric(X[column], errors="coerce").to_numpy() > 0.5
                    missing[:, p, self.n_steps_ - 1 - k] |= flags
        filled = _forward_fill(raw)
        filled = np.where(np.isnan(filled), self.medians_[None, :, None], filled)
        scaled = (filled - self.means_[None, :, None]) / self.scales_[None, :, None]
        stacked = np.concatenate([scaled, missing.astype(np.float64)], axis=1)
        if stacked.shape[1] == 0:
            return np.zeros((len(X), 0, 0))
        return np.ascontiguousarray(stacked.transpose(0, 2, 1))

    def _static(self, X: pd.DataFrame) -> np.ndarray:
        if self.static_preprocess_ is None:
            return np.zeros((len(X), 0))
        return np.asarray(
            self.static_preprocess_.transform(X[self.static_features_]), dtype=np.float64
        )

    def _fit_preprocessing(self, X: pd.DataFrame) -> None:
        parameters, n_steps, static = parse_sequence_columns(list(X.columns))
        if not parameters:
            # Static features only: the network reduces to a linear softmax layer.
            logger.info("no <parameter>__h<k> column: the GRU model uses static features only")
        self.parameters_, self.n_steps_, self.static_features_ = parameters, n_steps, static
        self._sequence_columns_ = {str(c) for c in X.columns if str(c) not in set(static)}
        raw = self._raw_sequences(X)
        medians, means, scales = [], [], []
        for p, parameter in enumerate(parameters):
            observed = raw[:, p, :][~np.isnan(raw[:, p, :])]
            if observed.size == 0:
                logger.debug("parameter %s has no value in the training data", parameter)
                medians.append(0.0)
                means.append(0.0)
                scales.append(1.0)
                continue
            median = float(np.median(observed))
            filled = _forward_fill(raw[:, p, :])
            filled = np.where(np.isnan(filled), median, filled)
            std = float(filled.std())
            medians.append(median)
            means.append(float(filled.mean()))
            scales.append(std if std > 0 else 1.0)
        self.medians_ = np.asarray(medians)
        self.means_ = np.asarray(means)
        self.scales_ = np.asarray(scales)
        self.static_preprocess_: Any = None
        if static:
            frame = X[static]
            numeric = [c for c in static if pd.api.types.is_numeric_dtype(frame[c].dtype)]
            categorical = [c for c in static if c not in numeric]
            self.static_preprocess_ = make_preprocessor(numeric, categorical).fit(frame)

    # ---- fitting ---------------------------------------------------------------------
    def _check_fit_data(self, X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        X = self._frame(X, reset=True)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ModelError(GRU_LABELS_MSG.format(n=len(X), shape=y.shape))
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        return X, y

    def _fit_inputs(self, X: pd.DataFrame) -> tuple[np.ndarray, ...]:
        self._fit_preprocessing(X)
        return self._sequences(X), self._static(X)

    def _build_network(self, torch: Any, inputs: tuple[np.ndarray, ...]) -> Network:
        nn = torch.nn
        sequences, static = inputs
        hidden = int(self.hidden_size) if self.parameters_ else 0
        # The head is built (initialised) before the GRU: the order of the RNG draws.
        head = nn.Linear(hidden + static.shape[1], len(self.classes_))
        drop = nn.Dropout(float(self.dropout))
        modules = nn.ModuleDict({"head": head, "drop": drop})
        gru = None
        if hidden:
            gru = nn.GRU(input_size=sequences.shape[2], hidden_size=hidden, batch_first=True)
            modules["gru"] = gru

        def forward(seq: Any, stat: Any) -> Any:
            if gru is None:
                return head(stat)
            _, h_last = gru(seq)
            return head(torch.cat([drop(h_last[0]), stat], dim=1))

        return Network(module=modules, forward=forward)

    def _store_weights(self, module: Any) -> None:
        gru = getattr(module, "gru", None)  # None: static features only
        self.gru_weights_ = {
            name: getattr(gru, f"{name}_l0").detach().numpy().astype(np.float64)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            if gru is not None
        }
        self.head_weight_ = module["head"].weight.detach().numpy().astype(np.float64)
        self.head_bias_ = module["head"].bias.detach().numpy().astype(np.float64)

    # ---- prediction --------------------------------------------------------------------
    def _final_hidden(self, sequences: np.ndarray) -> np.ndarray:
        w = self.gru_weights_
        if not w:
            return np.zeros((sequences.shape[0], 0))
        size = w["weight_hh"].shape[1]
        h = np.zeros((sequences.shape[0], size))
        for t in range(sequences.shape[1]):
            gi = sequences[:, t, :] @ w["weight_ih"].T + w["bias_ih"]
            gh = h @ w["weight_hh"].T + w["bias_hh"]
            r = _sigmoid(gi[:, :size] + gh[:, :size])
            z = _sigmoid(gi[:, size : 2 * size] + gh[:, size : 2 * size])
            n = np.tanh(gi[:, 2 * size :] + r * gh[:, 2 * size :])
            h = (1.0 - z) * n + z * h
        return h

    def _logits(self, X: Any) -> np.ndarray:
        X = self._frame(X, reset=False)
        features = np.hstack([self._final_hidden(self._sequences(X)), self._static(X)])
        out: np.ndarray = features @ self.head_weight_.T + self.head_bias_
        return out


class SequenceImputer(TransformerMixin, BaseEstimator):
    """Impute hourly sequences by forward fill, then training medians; add missing indicators.

    The numeric imputation step of the ``gru`` pipeline. A column named
    ``<parameter>__h<k>`` takes, when missing, the value of the nearest older
    hour of the same parameter (``h<k+1>``, ``h<k+2>``, ...); hours before
    the first measurement take the parameter's training median (over all its
    hours). Every sequence column gets a missing indicator
    (``missingindicator_<parameter>__h<k>``, 1 where the hour had no value),
    which the GRU reads as its mask channel. Other numeric columns are
    imputed with their training median and get an indicator when they had
    missing values in training (as scikit-learn's ``SimpleImputer``).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Input columns.
    medians_ : dict of str to float
        Imputation value of each sequence parameter and static column.
    indicator_columns_ : list of str
        Input columns that get a missing indicator.
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> SequenceImputer:
        """Learn the medians and which columns get an indicator.

        Parameters
        ----------
        X : pandas.DataFrame
            Numeric columns.
        y : ignored
            Present for the scikit-learn API.

        Returns
        -------
        SequenceImputer
            Itself.
        """
        frame = self._as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        parameters, _, static = parse_sequence_columns(list(self.feature_names_in_))
        self.medians_: dict[str, float] = {}
        for parameter in parameters:
            values = frame[self._columns_of(parameter)].to_numpy(dtype=np.float64)
            observed = values[~np.isnan(values)]
            self.medians_[parameter] = float(np.median(observed)) if observed.size else 0.0
        for column in static:
            median = frame[column].astype(np.float64).median()
            self.medians_[column] = float(median) if pd.notna(median) else 0.0
        self.indicator_columns_ = [
            c for c in self.feature_names_in_ if c not in set(static) or bool(frame[c].isna().any())
        ]
        return self

    def _columns_of(self, parameter: str) -> list[str]:
        """Columns of a parameter, oldest hour first."""
        pairs = [
            (int(m["hour"]), c)
            for c in self.feature_names_in_
            if (m := SEQUENCE_COLUMN.match(c)) is not None and m["parameter"] == parameter
        ]
        return [c for _, c in sorted(pairs, reverse=True)]

    def _as_frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X.apply(pd.to_numeric, errors="coerce").astype(np.float64)
        columns = getattr(self, "feature_names_in_", None)
        return pd.DataFrame(np.asarray(X, dtype=np.float64), columns=columns)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Impute and append the missing indicators.

        Parameters
        ----------
        X : pandas.DataFrame
            The columns seen in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_columns + n_indicators)
            Imputed columns in input order, then the indicators.
        """
        check_is_fitted(self, "medians_")
        frame = self._as_frame(X)
        frame.columns = list(self.feature_names_in_)
        indicators = frame[self.indicator_columns_].isna().to_numpy(dtype=np.float64)
        out = frame.copy()
        parameters, _, static = parse_sequence_columns(list(self.feature_names_in_))
        for parameter in parameters:
            columns = self._columns_of(parameter)
            filled = _forward_fill(frame[columns].to_numpy(dtype=np.float64))
            out[columns] = np.where(np.isnan(filled), self.medians_[parameter], filled)
        for column in static:
            out[column] = frame[column].fillna(self.medians_[column])
        return np.hstack([out.to_numpy(dtype=np.float64), indicators])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the input columns followed by ``missingindicator_<column>`` names.

        Parameters
        ----------
        input_features : ignored
            Present for the scikit-learn API.

        Returns
        -------
        ndarray of str
            Output column names.
        """
        check_is_fitted(self, "medians_")
        names = [*self.feature_names_in_, *(INDICATOR_PREFIX + c for c in self.indicator_columns_)]
        return np.asarray(names, dtype=object)


def make_sequence_preprocessor(
    numeric: Sequence[str], categorical: Sequence[str]
) -> ColumnTransformer:
    """Build the preprocessing step of the ``gru`` pipeline.

    Numeric columns: :class:`SequenceImputer` (forward fill within each
    ``<parameter>__h<k>`` sequence, training medians, missing indicators)
    and standard scaling; categorical columns: as in
    :func:`~clinai.models._preprocess.make_preprocessor` (one-hot). The output
    is a DataFrame, so the GRU finds its sequences by column name.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns by type.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted, with pandas output.
    """
    num, cat = check_columns(numeric, categorical, require_some=False)
    transformers: list[tuple[str, Any, list[str]]] = []
    if num:
        steps = [("impute", SequenceImputer()), ("scale", StandardScaler())]
        transformers.append(("num", Pipeline(steps), num))
    if cat:
        transformers.extend(make_preprocessor([], cat).transformers)
    preprocess = ColumnTransformer(
        transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False
    )
    return preprocess.set_output(transform="pandas")


#: The ``gru`` family's pipeline: ``preprocess`` (:func:`make_sequence_preprocessor`; numeric
#: columns named ``<parameter>__h<k>`` form the sequences, the others are static features)
#: and a :class:`TorchGRUClassifier`.
make_gru = PipelineFactory(TorchGRUClassifier, make_sequence_preprocessor)

#: Hidden states of 8 to 64 units, dropout up to 0.5 and weight decay up to 0.1 allow a
#: heavily regularised network; at most 60 epochs (with early stopping) keep trials short.
gru_search_space = SearchSpace(
    {
        "hidden_size": IntRange(8, 64, log=True),
        "dropout": FloatRange(0.0, 0.5),
        "lr": FloatRange(3e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-6, 1e-1, log=True),
        "max_epochs": IntRange(10, 60, step=10),
    }
)
