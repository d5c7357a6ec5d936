"""DeepSurv: a PyTorch multilayer perceptron trained on the Cox partial likelihood."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from clinai.models._family import PipelineFactory
from clinai.models._mlp import TorchMLPClassifier, mlp_search_space
from clinai.models._survival_base import SurvivalModel, SurvivalPipeline
from clinai.models._torch_core import stratified_validation_split, torch_session

__all__ = [
    "DEEP_SURV_DEFAULTS",
    "DeepSurv",
    "deep_surv",
    "deep_surv_search_space",
    "make_deep_surv",
]

logger = logging.getLogger(__name__)

DEEP_SURV_PARAM_MSG = "DeepSurv parameter {name} must be {rule}; got {value!r}"


class DeepSurv(SurvivalModel, TorchMLPClassifier):
    """DeepSurv-style network: an MLP whose single output is the log relative hazard.

    The network is :class:`~clinai.models.TorchMLPClassifier`'s (ReLU layers with
    dropout) with one linear output, trained by the same core
    (:mod:`clinai.models._torch_core`: AdamW mini-batches, early stopping on an
    event-stratified validation split, seeding, restore of the best epoch) on the
    negative Cox partial log-likelihood with Breslow ties, computed within each
    mini-batch [Katzman et al. 2018, BMC Med Res Methodol 18:24]. Absolute risks come
    from Breslow's baseline hazard on the training data, as for every clinai survival
    model. Same seed and ``n_jobs``: same predictions.

    Its parameters are the MLP's (:class:`~clinai.models.TorchMLPClassifier`), with
    its defaults; the registry's ``deep_surv`` family sets :data:`DEEP_SURV_DEFAULTS`
    (larger batches: the partial likelihood compares each event with its batch's risk
    set, which small batches make noisy).

    Examples
    --------
    >>> from sksurv.datasets import load_whas500
    >>> X, y = load_whas500()
    >>> Xn = ((X[["age", "bmi"]] - X[["age", "bmi"]].mean()) / X[["age", "bmi"]].std())
    >>> m = deep_surv().set_params(max_epochs=5).fit(Xn.to_numpy(), y)
    >>> m.predict_risk(Xn.to_numpy()[:3], [365]).shape
    (3, 1)
    """

    _param_msg = DEEP_SURV_PARAM_MSG

    def _n_outputs(self) -> int:
        return 1

    def _fit_lp(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        self._check_params()
        inputs = (X,)
        train_idx, val_idx = stratified_validation_split(
            event, 2, float(self.validation_fraction), int(self.random_state)
        )
        with torch_session(int(self.n_jobs), int(self.random_state)) as torch:
            network = self._build_network(torch, inputs)
            target = np.column_stack([time, event]).astype(np.float64)
            self._train(torch, network, inputs, target, train_idx, val_idx)
            self._store_weights(network.module)

    def _lp(self, X: np.ndarray) -> np.ndarray:
        return self._logits(X)[:, 0]

    def _loss_function(self, torch: Any, y_enc: np.ndarray) -> Callable[[Any, Any], Any]:
        """Negative Cox partial log-likelihood (Breslow ties) of a batch, per event."""
        time_all = torch.from_numpy(np.ascontiguousarray(y_enc[:, 0], dtype=np.float64))
        event_all = torch.from_numpy(np.ascontiguousarray(y_enc[:, 1], dtype=np.float32))

        def loss(output: Any, rows: Any) -> Any:
            t = time_all[rows]
            order = torch.argsort(t, descending=True, stable=True)
            lp, e, neg_t = output[:, 0][order], event_all[rows][order], -t[order]
            # log of the risk-set sum: everyone in the batch followed at least as long,
            # ties included (the last row of a tied block in the descending order)
            last = torch.searchsorted(neg_t, neg_t, right=True) - 1
            log_risk = torch.logcumsumexp(lp, dim=0)[last]
            return -((lp - log_risk) * e).sum() / torch.clamp(e.sum(), min=1.0)

        return loss


#: The ``deep_surv`` family's settings that differ from the MLP's defaults.
DEEP_SURV_DEFAULTS: dict[str, Any] = {"lr": 1e-2, "weight_decay": 1e-3, "batch_size": 256}


def deep_surv(*, random_state: int = 0, n_jobs: int = 1) -> DeepSurv:
    """Return an unfitted :class:`DeepSurv` with :data:`DEEP_SURV_DEFAULTS`."""
    return DeepSurv(**DEEP_SURV_DEFAULTS, random_state=random_state, n_jobs=n_jobs)


#: The ``deep_surv`` family: ``preprocess`` (imputation, one-hot encoding, scaling) and
#: :func:`deep_surv`.
make_deep_surv = PipelineFactory(deep_surv, pipeline=SurvivalPipeline)

#: The MLP's ranges (width, depth, dropout, learning rate, weight decay, epochs): the
#: same network, so the same regularisation reaches small data.
deep_surv_search_space = mlp_search_space
