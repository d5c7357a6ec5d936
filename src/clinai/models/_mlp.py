"""A PyTorch multilayer perceptron behind the scikit-learn classifier API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data

from clinai.models._family import FloatRange, IntRange, PipelineFactory, SearchSpace
from clinai.models._torch_core import ONE_CLASS_MSG, Network, TorchClassifier, is_int

__all__ = ["TorchMLPClassifier", "make_mlp", "mlp_search_space"]

logger = logging.getLogger(__name__)

MLP_PARAM_MSG = "TorchMLPClassifier parameter {name} must be {rule}; got {value!r}"
MLP_ONE_CLASS_MSG = ONE_CLASS_MSG


@dataclass(eq=False, repr=False, kw_only=True)
class TorchMLPClassifier(TorchClassifier):
    """Multilayer perceptron classifier trained with PyTorch on the CPU.

    Fully connected ReLU layers with dropout, a softmax output, cross-entropy
    loss and the AdamW optimiser (decoupled weight decay). Training stops early
    when the loss on an internal stratified validation split has not improved
    for ``patience`` epochs, and the weights of the best epoch are kept. The
    training loop is the one the GRU uses (``clinai.models._torch_core``); this
    class holds only the network.

    The fitted weights are stored as NumPy arrays (``coefs_``,
    ``intercepts_``) and predictions are computed with NumPy, so a fitted
    model pickles (pickle, joblib, cloudpickle) and predicts without torch.
    Inputs must be numeric, finite and scaled: in clinai the pipeline's
    ``preprocess`` step imputes and standardises them.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(32,)
        Width of each hidden layer; ``(64, 64)`` is two layers of 64 units.
    dropout, weight_decay, lr, max_epochs, batch_size
        Training parameters of :class:`~clinai.models._torch_core.TorchClassifier`,
        with its defaults; dropout acts after each hidden layer.
    validation_fraction, patience, random_state, n_jobs
        Training parameters of :class:`~clinai.models._torch_core.TorchClassifier`,
        with its defaults.

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    coefs_ : list of ndarray
        Weight matrix of each layer, shape (n_in, n_out).
    intercepts_ : list of ndarray
        Bias vector of each layer.
    classes_, n_iter_, best_epoch_, loss_curve_, validation_loss_curve_
        As in :class:`~clinai.models._torch_core.TorchClassifier`.

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

    _param_msg = MLP_PARAM_MSG
    _fitted_attr = "coefs_"

    hidden_layer_sizes: Sequence[int] = (32,)

    def _layer_sizes(self) -> Any:
        """``hidden_layer_sizes`` as a sequence (a single integer is one layer)."""
        sizes = self.hidden_layer_sizes
        return (sizes,) if is_int(sizes) else sizes

    def _check_network_params(self) -> None:
        sizes = self._layer_sizes()
        self._check_param(
            "hidden_layer_sizes",
            self.hidden_layer_sizes,
            isinstance(sizes, Sequence) and all(is_int(s) and s >= 1 for s in sizes),
            "a sequence of positive integers",
        )

    def _check_fit_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, dtype=np.float64)
        return X, y

    def _fit_inputs(self, X: np.ndarray) -> tuple[np.ndarray, ...]:
        return (X,)

    def _build_network(self, torch: Any, inputs: tuple[np.ndarray, ...]) -> Network:
        nn = torch.nn
        layers: list[Any] = []
        n_in = inputs[0].shape[1]
        for width in self._layer_sizes():
            layers += [nn.Linear(n_in, int(width)), nn.ReLU(), nn.Dropout(float(self.dropout))]
            n_in = int(width)
        layers.append(nn.Linear(n_in, self._n_outputs()))
        net = nn.Sequential(*layers)
        return Network(module=net, forward=net)

    def _n_outputs(self) -> int:
        """Width of the output layer: one logit per class."""
        return len(self.classes_)

    def _store_weights(self, module: Any) -> None:
        from torch import nn

        linears = [m for m in module if isinstance(m, nn.Linear)]
        self.coefs_ = [m.weight.detach().numpy().T.astype(np.float64) for m in linears]
        self.intercepts_ = [m.bias.detach().numpy().astype(np.float64) for m in linears]

    def _logits(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        hidden = X
        for weight, bias in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            hidden = np.maximum(hidden @ weight + bias, 0.0)
        out: np.ndarray = hidden @ self.coefs_[-1] + self.intercepts_[-1]
        return out


def _hidden_layers(drawn: dict[str, Any]) -> dict[str, Any]:
    """Turn the drawn ``width`` and ``depth`` into ``hidden_layer_sizes`` (a list)."""
    width, depth = drawn.pop("width"), drawn.pop("depth")
    return {"hidden_layer_sizes": [width] * depth, **drawn}


#: The ``mlp`` family's pipeline: ``preprocess`` (imputation with missing indicators,
#: one-hot encoding, scaling) and a :class:`TorchMLPClassifier`.
make_mlp = PipelineFactory(TorchMLPClassifier)

#: One or two hidden layers of 8 to 128 units, dropout up to 0.5 and weight decay up to
#: 0.1 allow a heavily regularised network; at most 100 epochs (with early stopping) keep
#: trials short. ``hidden_layer_sizes`` is ``width`` repeated ``depth`` times.
mlp_search_space = SearchSpace(
    {
        "width": IntRange(8, 128, log=True),
        "depth": IntRange(1, 2),
        "dropout": FloatRange(0.0, 0.5),
        "lr": FloatRange(1e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-6, 1e-1, log=True),
        "max_epochs": IntRange(20, 100, step=10),
    },
    to_params=_hidden_layers,
)
