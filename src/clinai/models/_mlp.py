"""A PyTorch multilayer perceptron behind the scikit-learn classifier API."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from clinai.exceptions import ModelError
from clinai.models._preprocess import make_preprocessor

if TYPE_CHECKING:
    import optuna

__all__ = ["TorchMLPClassifier", "make_mlp", "mlp_search_space"]

logger = logging.getLogger(__name__)

MLP_PARAM_MSG = "TorchMLPClassifier parameter {name} must be {rule}; got {value!r}"
MLP_ONE_CLASS_MSG = (
    "the outcome has one class only ({value}): a classifier needs both outcomes in the "
    "training data"
)


def _check_param(name: str, value: Any, ok: bool, rule: str) -> None:
    if not ok:
        raise ModelError(MLP_PARAM_MSG.format(name=name, rule=rule, value=value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(shifted)
    out: np.ndarray = expd / expd.sum(axis=1, keepdims=True)
    return out


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained with PyTorch on the CPU.

    Fully connected ReLU layers with dropout, a softmax output, cross-entropy
    loss and the AdamW optimiser (decoupled weight decay). Training stops early
    when the loss on an internal stratified validation split has not improved
    for ``patience`` epochs, and the weights of the best epoch are kept.

    The fitted weights are stored as NumPy arrays (``coefs_``,
    ``intercepts_``) and predictions are computed with NumPy, so a fitted
    model pickles (pickle, joblib, cloudpickle) and predicts without torch.
    Inputs must be numeric, finite and scaled: in clinai the pipeline's
    ``preprocess`` step imputes and standardises them.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(32,)
        Width of each hidden layer; ``(64, 64)`` is two layers of 64 units.
    dropout : float, default=0.1
        Dropout probability after each hidden layer, in [0, 1).
    weight_decay : float, default=1e-4
        AdamW weight decay (L2-like penalty), >= 0.
    lr : float, default=1e-3
        Learning rate, > 0.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    validation_fraction : float, default=0.2
        Share of the training data held out (stratified) for early stopping;
        0 disables early stopping (also disabled when a class has too few
        rows to split).
    patience : int, default=10
        Epochs without improvement of the validation loss before stopping.
    random_state : int, default=0
        Seeds the weight initialisation, dropout, mini-batch order and the
        validation split. Two fits with the same seed and ``n_jobs`` give
        identical probabilities.
    n_jobs : int, default=1
        Torch CPU threads while fitting (restored afterwards).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input features.
    coefs_ : list of ndarray
        Weight matrix of each layer, shape (n_in, n_out).
    intercepts_ : list of ndarray
        Bias vector of each layer.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (empty without early stopping).

    Examples
    --------
    >>> import numpy as np
    >>> from clinai.models import TorchMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = TorchMLPClassifier(max_epochs=5).fit(X, y)
    >>> clf.predict_proba(X).shape
    (100, 2)
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes: Sequence[int] = (32,),
        dropout: float = 0.1,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 64,
        validation_fraction: float = 0.2,
        patience: int = 10,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params_(self) -> tuple[int, ...]:
        sizes: Any = self.hidden_layer_sizes
        if _is_int(sizes):
            sizes = (int(sizes),)
        _check_param(
            "hidden_layer_sizes",
            self.hidden_layer_sizes,
            isinstance(sizes, Sequence) and all(_is_int(s) and s >= 1 for s in sizes),
            "a sequence of positive integers",
        )
        _check_param("dropout", self.dropout, 0.0 <= float(self.dropout) < 1.0, "a float in [0, 1)")
        _check_param("weight_decay", self.weight_decay, float(self.weight_decay) >= 0, ">= 0")
        _check_param("lr", self.lr, float(self.lr) > 0, "> 0")
        for name in ("max_epochs", "batch_size", "patience", "n_jobs"):
            value = getattr(self, name)
            _check_param(name, value, _is_int(value) and value >= 1, "an integer >= 1")
        _check_param(
            "validation_fraction",
            self.validation_fraction,
            0.0 <= float(self.validation_fraction) < 1.0,
            "a float in [0, 1)",
        )
        _check_param("random_state", self.random_state, _is_int(self.random_state), "an integer")
        return tuple(int(s) for s in sizes)

    def _split(self, y_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return train and validation row indices (validation None: no early stopping)."""
        n = y_enc.shape[0]
        all_rows = np.arange(n)
        if self.validation_fraction == 0:
            return all_rows, None
        n_classes = len(self.classes_)
        n_val = math.ceil(self.validation_fraction * n)
        counts = np.bincount(y_enc, minlength=n_classes)
        if counts.min() < 2 or n_val < n_classes or n - n_val < n_classes:
            logger.debug("too few rows per class for a validation split; early stopping is off")
            return all_rows, None
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=n_val, random_state=self.random_state
        )
        train, val = next(splitter.split(np.zeros(n), y_enc))
        return np.sort(train), np.sort(val)

    def fit(self, X: Any, y: Any) -> TorchMLPClassifier:
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric, finite, preferably standardised features.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        TorchMLPClassifier
            The fitted estimator.

        Raises
        ------
        ModelError
            If a parameter is invalid or ``y`` has one class only.
        """
        sizes = self._validate_params_()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ModelError(MLP_ONE_CLASS_MSG.format(value=classes[0]))
        self.classes_ = classes
        train_idx, val_idx = self._split(y_enc)

        import torch

        prev_threads = torch.get_num_threads()
        prev_deterministic = torch.are_deterministic_algorithms_enabled()
        try:
            torch.set_num_threads(int(self.n_jobs))
            torch.use_deterministic_algorithms(True)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(self.random_state))
                self._fit_torch(torch, X, y_enc, train_idx, val_idx, sizes)
        finally:
            torch.set_num_threads(prev_threads)
            torch.use_deterministic_algorithms(prev_deterministic)
        return self

    def _fit_torch(
        self,
        torch: Any,
        X: np.ndarray,
        y_enc: np.ndarray,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        sizes: tuple[int, ...],
    ) -> None:
        nn = torch.nn
        layers: list[Any] = []
        n_in = X.shape[1]
        for width in sizes:
            layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(float(self.dropout))]
            n_in = width
        layers.append(nn.Linear(n_in, len(self.classes_)))
        net = nn.Sequential(*layers)
        optimiser = torch.optim.AdamW(
            net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
        )
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(int(self.random_state))

        X_all = torch.from_numpy(np.array(X, dtype=np.float32, copy=True))
        y_all = torch.from_numpy(np.array(y_enc, dtype=np.int64, copy=True))
        X_train, y_train = X_all[train_idx], y_all[train_idx]
        n_train = X_train.shape[0]
        batch = int(self.batch_size)

        best_loss = math.inf
        best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        best_epoch = 0
        wait = 0
        self.loss_curve_: list[float] = []
        self.validation_loss_curve_: list[float] = []
        epoch = 0
        for epoch in range(1, int(self.max_epochs) + 1):
            net.train()
            order = torch.randperm(n_train, generator=generator)
            total = 0.0
            for start in range(0, n_train, batch):
                rows = order[start : start + batch]
                optimiser.zero_grad()
                loss = loss_fn(net(X_train[rows]), y_train[rows])
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            self.loss_curve_.append(total / n_train)
            if val_idx is None:
                best_epoch = epoch
                continue
            net.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(net(X_all[val_idx]), y_all[val_idx]))
            self.validation_loss_curve_.append(val_loss)
            if val_loss < best_loss - 1e-6:
                best_loss, best_epoch, wait = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                wait += 1
                if wait >= int(self.patience):
                    break
        if val_idx is not None:
            net.load_state_dict(best_state)
        linears = [m for m in net if isinstance(m, nn.Linear)]
        self.coefs_ = [m.weight.detach().numpy().T.astype(np.float64) for m in linears]
        self.intercepts_ = [m.bias.detach().numpy().astype(np.float64) for m in linears]
        self.n_iter_ = epoch
        self.best_epoch_ = best_epoch

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        hidden = X
        for weight, bias in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            hidden = np.maximum(hidden @ weight + bias, 0.0)
        return _softmax(hidden @ self.coefs_[-1] + self.intercepts_[-1])

    def predict(self, X: Any) -> np.ndarray:
        """Return the most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "coefs_")
        out: np.ndarray = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return out


def make_mlp(
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    n_jobs: int = 1,
    **params: Any,
) -> Pipeline:
    """Build a :class:`TorchMLPClassifier` pipeline.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Feature columns by type.
    random_state : int, default=0
        Seed of the network (initialisation, dropout, batches, validation split).
    n_jobs : int, default=1
        Torch CPU threads while fitting.
    **params
        :class:`TorchMLPClassifier` parameters.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``preprocess`` and ``model``.
    """
    model = TorchMLPClassifier(random_state=random_state, n_jobs=n_jobs)
    model.set_params(**params)
    return Pipeline([("preprocess", make_preprocessor(numeric, categorical)), ("model", model)])


def mlp_search_space(trial: optuna.Trial) -> dict[str, Any]:
    """Suggest :class:`TorchMLPClassifier` parameters for one Optuna trial.

    One or two hidden layers of 8 to 128 units, dropout up to 0.5 and weight
    decay up to 0.1 allow a heavily regularised network; at most 100 epochs
    (with early stopping) keep trials short.

    Parameters
    ----------
    trial : optuna.Trial
        The trial to draw from.

    Returns
    -------
    dict
        Keyword arguments for ``get_model("mlp", ...)``; ``hidden_layer_sizes``
        is a list (``width`` repeated ``depth`` times).
    """
    width = trial.suggest_int("width", 8, 128, log=True)
    depth = trial.suggest_int("depth", 1, 2)
    return {
        "hidden_layer_sizes": [width] * depth,
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-1, log=True),
        "max_epochs": trial.suggest_int("max_epochs", 20, 100, step=10),
    }
