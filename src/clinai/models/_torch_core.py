"""The training core shared by clinai's PyTorch classifiers (the MLP and the GRU).

Everything a clinai network does the same way lives here once: the parameter checks
common to every network, the scikit-learn surface (``fit``, ``predict_proba``,
``predict``, ``classes_``), the stratified early-stopping split, seeding and torch's
global state, the mini-batch AdamW loop with early stopping, and the restore of the best
epoch's weights. A model subclass supplies only its network and how it reads ``X``,
through the hooks of :class:`TorchClassifier`.

torch is imported inside :meth:`TorchClassifier.fit` only, so importing
:mod:`clinai.models` stays cheap and a fitted model predicts with NumPy alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from clinai._utils._docstrings import doc_filler
from clinai.exceptions import ModelError

__all__ = [
    "ONE_CLASS_MSG",
    "Network",
    "TorchClassifier",
    "is_int",
    "softmax",
    "stratified_validation_split",
    "torch_session",
]

logger = logging.getLogger(__name__)

ONE_CLASS_MSG = (
    "the outcome has one class only ({value}): a classifier needs both outcomes in the "
    "training data"
)
#: A validation loss must fall by more than this to count as an improvement, so that
#: rounding noise does not reset the patience counter.
MIN_IMPROVEMENT = 1e-6

#: ``X`` of the prediction methods, documented alike by each.
_DOCS = {
    "parameters_X_predict": (
        "Parameters\n----------\n"
        "X : array-like or pandas.DataFrame of shape (n_samples, n_features)\n"
        "    Features, as in :meth:`fit`."
    )
}
_fill_doc = doc_filler(_DOCS, "clinai.models._torch_core._DOCS")


def is_int(value: Any) -> bool:
    """Return whether ``value`` is an integer (Python or NumPy), not a bool.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return the row-wise softmax of ``logits`` (shifted by the row maximum, overflow-free).

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3)
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(shifted)
    out: np.ndarray = expd / expd.sum(axis=1, keepdims=True)
    return out


def stratified_validation_split(
    y_enc: np.ndarray, n_classes: int, validation_fraction: float, random_state: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the training and validation rows of an early-stopping split.

    Parameters
    ----------
    y_enc : ndarray of shape (n_samples,)
        Class codes ``0, ..., n_classes - 1``.
    n_classes : int
        Number of classes.
    validation_fraction : float
        Share of the rows held out, rounded up; 0 holds out none.
    random_state : int
        Seed of the stratified shuffle.

    Returns
    -------
    train : ndarray of int
        Training rows, sorted.
    validation : ndarray of int or None
        Validation rows, sorted; None (early stopping off) when the fraction is 0
        or a class has too few rows to appear on both sides.

    Examples
    --------
    >>> train, val = stratified_validation_split(np.array([0, 0, 0, 1, 1, 1]), 2, 0.3, 0)
    >>> len(train), len(val)
    (4, 2)
    """
    n = y_enc.shape[0]
    all_rows = np.arange(n)
    if validation_fraction == 0:
        return all_rows, None
    n_val = math.ceil(validation_fraction * n)
    counts = np.bincount(y_enc, minlength=n_classes)
    if counts.min() < 2 or n_val < n_classes or n - n_val < n_classes:
        logger.debug("too few rows per class for a validation split; early stopping is off")
        return all_rows, None
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=random_state)
    train, val = next(splitter.split(np.zeros(n), y_enc))
    return np.sort(train), np.sort(val)


@contextmanager
def torch_session(n_jobs: int, random_state: int) -> Iterator[Any]:
    """Yield torch set up for one reproducible fit, and put its global state back after.

    Inside: ``n_jobs`` CPU threads, deterministic algorithms, and the global random
    generator seeded with ``random_state`` in a fork, so the caller's torch random
    state is the same afterwards.

    Parameters
    ----------
    n_jobs : int
        Torch CPU threads.
    random_state : int
        Seed of torch's global generator (weight initialisation, dropout).

    Yields
    ------
    module
        The ``torch`` module.
    """
    import torch

    prev_threads = torch.get_num_threads()
    prev_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        torch.set_num_threads(int(n_jobs))
        torch.use_deterministic_algorithms(True)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            yield torch
    finally:
        torch.set_num_threads(prev_threads)
        torch.use_deterministic_algorithms(prev_deterministic)


class Network(NamedTuple):
    """A network as the training loop sees it.

    Attributes
    ----------
    module : torch.nn.Module
        Holds every trainable parameter and every dropout layer (the loop switches
        it between training and evaluation mode, and saves and restores its state).
    forward : callable
        ``forward(*tensors) -> logits`` for one batch; the tensors are the rows of
        the model's inputs, in the order :meth:`TorchClassifier._fit_inputs`
        returned them.
    """

    module: Any
    forward: Callable[..., Any]


@dataclass(eq=False, repr=False, kw_only=True)
class TorchClassifier(ClassifierMixin, BaseEstimator):
    """Base of the PyTorch classifiers: the training loop and the scikit-learn surface.

    ``fit`` checks the parameters, encodes the classes, holds out a stratified
    validation split, seeds torch, builds the network and trains it with AdamW on
    cross-entropy in mini-batches until the validation loss has not improved for
    ``patience`` epochs, then keeps the best epoch's weights as NumPy arrays.
    Prediction is a NumPy forward pass and a softmax, so a fitted model pickles and
    predicts without torch.

    The training parameters are declared once, here, as keyword-only dataclass
    fields: the generated ``__init__`` only stores them, as scikit-learn requires,
    and scikit-learn reads them from its signature. A subclass is a dataclass too
    (``@dataclass(eq=False, repr=False, kw_only=True)``, so that scikit-learn's
    ``repr`` and identity comparison stay), declares its network's parameters and
    the defaults it changes as fields, sets :attr:`_param_msg` and
    :attr:`_fitted_attr`, and implements the hooks: :meth:`_check_network_params`,
    :meth:`_check_fit_data`, :meth:`_fit_inputs`, :meth:`_build_network`,
    :meth:`_store_weights` and :meth:`_logits`.

    Parameters
    ----------
    dropout : float, default=0.1
        Dropout probability, in [0, 1).
    weight_decay : float, default=1e-4
        AdamW weight decay (decoupled, an L2-like penalty), >= 0.
    lr : float, default=1e-3
        Learning rate, > 0.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    validation_fraction : float, default=0.2
        Share of the training data held out (stratified) for early stopping, in
        [0, 1); 0 disables early stopping (also disabled when a class has too few
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
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    loss_curve_ : list of float
        Mean training loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (empty without early stopping).
    """

    #: Message of an invalid parameter, with ``{name}``, ``{rule}`` and ``{value}``.
    _param_msg: ClassVar[str]
    #: The fitted attribute :func:`~sklearn.utils.validation.check_is_fitted` looks for.
    _fitted_attr: ClassVar[str]

    dropout: float = 0.1
    weight_decay: float = 1e-4
    lr: float = 1e-3
    max_epochs: int = 100
    batch_size: int = 64
    validation_fraction: float = 0.2
    patience: int = 10
    random_state: int = 0
    n_jobs: int = 1

    # ---- hooks a model implements ------------------------------------------------------
    def _check_network_params(self) -> None:
        """Check the parameters of the network itself (checked before the common ones)."""
        raise NotImplementedError

    def _check_fit_data(self, X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """Validate ``X`` and ``y`` for fit, record the input features; return both."""
        raise NotImplementedError

    def _fit_inputs(self, X: Any) -> tuple[np.ndarray, ...]:
        """Fit any preprocessing and return the network inputs, rows first."""
        raise NotImplementedError

    def _build_network(self, torch: Any, inputs: tuple[np.ndarray, ...]) -> Network:
        """Build the untrained network (its initialisation draws from torch's global RNG)."""
        raise NotImplementedError

    def _store_weights(self, module: Any) -> None:
        """Copy the trained weights out of ``module`` into NumPy attributes."""
        raise NotImplementedError

    def _logits(self, X: Any) -> np.ndarray:
        """Return the logits of ``X`` of shape (n_samples, n_classes), with NumPy."""
        raise NotImplementedError

    def _loss_function(self, torch: Any, y_enc: np.ndarray) -> Callable[[Any, Any], Any]:
        """Return ``loss(output, rows)`` of a batch: cross-entropy of the classes by default.

        A model with another target (e.g. a survival network's Cox partial likelihood)
        overrides it; ``y_enc`` is whatever its ``fit`` passed to :meth:`_train`.
        """
        loss_fn = torch.nn.CrossEntropyLoss()
        y_all = torch.from_numpy(np.asarray(y_enc, dtype=np.int64))
        return lambda output, rows: loss_fn(output, y_all[rows])

    # ---- parameters --------------------------------------------------------------------
    def _check_param(self, name: str, value: Any, ok: bool, rule: str) -> None:
        if not ok:
            raise ModelError(self._param_msg.format(name=name, rule=rule, value=value))

    def _check_params(self) -> None:
        self._check_network_params()
        self._check_param(
            "dropout", self.dropout, 0.0 <= float(self.dropout) < 1.0, "a float in [0, 1)"
        )
        self._check_param("weight_decay", self.weight_decay, float(self.weight_decay) >= 0, ">= 0")
        self._check_param("lr", self.lr, float(self.lr) > 0, "> 0")
        for name in ("max_epochs", "batch_size", "patience", "n_jobs"):
            value = getattr(self, name)
            self._check_param(name, value, is_int(value) and value >= 1, "an integer >= 1")
        self._check_param(
            "validation_fraction",
            self.validation_fraction,
            0.0 <= float(self.validation_fraction) < 1.0,
            "a float in [0, 1)",
        )
        self._check_param(
            "random_state", self.random_state, is_int(self.random_state), "an integer"
        )

    # ---- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Fit the model's preprocessing (if any) and the network.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Features in the form the model reads (see the model's docstring).
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        Self
            The fitted estimator.

        Raises
        ------
        ModelError
            If a parameter is invalid, ``X`` is not in the form the model reads,
            or ``y`` has one class only.
        """
        self._check_params()
        X, y = self._check_fit_data(X, y)
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ModelError(ONE_CLASS_MSG.format(value=classes[0]))
        self.classes_ = classes
        inputs = self._fit_inputs(X)
        train_idx, val_idx = stratified_validation_split(
            y_enc, len(classes), float(self.validation_fraction), int(self.random_state)
        )
        with torch_session(int(self.n_jobs), int(self.random_state)) as torch:
            network = self._build_network(torch, inputs)
            self._train(torch, network, inputs, y_enc, train_idx, val_idx)
            self._store_weights(network.module)
        return self

    def _train(
        self,
        torch: Any,
        network: Network,
        inputs: tuple[np.ndarray, ...],
        y_enc: np.ndarray,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
    ) -> None:
        """Run the mini-batch loop with early stopping; leave the best weights in the network."""
        module, forward = network
        optimiser = torch.optim.AdamW(
            module.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
        )
        loss_of_output = self._loss_function(torch, y_enc)
        # Its own generator for the batch order, so dropout draws do not shift it.
        generator = torch.Generator().manual_seed(int(self.random_state))
        tensors = [torch.from_numpy(np.array(a, dtype=np.float32, copy=True)) for a in inputs]
        train_rows = torch.from_numpy(train_idx.astype(np.int64))
        n_train = len(train_idx)
        batch = int(self.batch_size)

        def loss_of(rows: Any) -> Any:
            return loss_of_output(forward(*(t[rows] for t in tensors)), rows)

        best_loss = math.inf
        best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        best_epoch, wait, epoch = 0, 0, 0
        self.loss_curve_: list[float] = []
        self.validation_loss_curve_: list[float] = []
        for epoch in range(1, int(self.max_epochs) + 1):
            module.train()
            order = train_rows[torch.randperm(n_train, generator=generator)]
            total = 0.0
            for start in range(0, n_train, batch):
                rows = order[start : start + batch]
                optimiser.zero_grad()
                loss = loss_of(rows)
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(rows)
            self.loss_curve_.append(total / n_train)
            if val_idx is None:
                best_epoch = epoch
                continue
            module.eval()
            with torch.no_grad():
                val_loss = float(loss_of(val_idx))
            self.validation_loss_curve_.append(val_loss)
            if val_loss < best_loss - MIN_IMPROVEMENT:
                best_loss, best_epoch, wait = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                wait += 1
                if wait >= int(self.patience):
                    break
        if val_idx is not None:
            module.load_state_dict(best_state)
        self.n_iter_ = epoch
        self.best_epoch_ = best_epoch

    # ---- prediction --------------------------------------------------------------------
    @_fill_doc
    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities.

        {parameters_X_predict}

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self, self._fitted_attr)
        return softmax(self._logits(X))

    @_fill_doc
    def predict(self, X: Any) -> np.ndarray:
        """Return the most probable class of each row.

        {parameters_X_predict}

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, self._fitted_attr)
        out: np.ndarray = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return out
