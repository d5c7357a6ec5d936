"""The PyTorch training core: one contract for the MLP and the GRU.

Seeding, the early-stopping split and loop, the restore of the best epoch's weights,
torch's global state and the scikit-learn surface are shared code
(``clinai.models._torch_core``), so they are tested here once for both networks.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from clinai.exceptions import ModelError
from clinai.models import TorchGRUClassifier, TorchMLPClassifier
from clinai.models._mlp import MLP_PARAM_MSG
from clinai.models._sequence import GRU_PARAM_MSG
from clinai.models._torch_core import (
    ONE_CLASS_MSG,
    TorchClassifier,
    stratified_validation_split,
)

N = 160


def _mlp_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3))
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.7, size=N) > 0).astype(int)
    return X, y


def _gru_data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(N) < 0.4).astype(int)
    slope = np.where(y == 1, 3.0, -1.0) + rng.normal(0, 1.5, N)
    X = pd.DataFrame({f"hr__h{k}": 90 - slope * k + rng.normal(0, 2, N) for k in range(4)})
    X["age"] = rng.normal(70, 10, N)
    return X, y


#: name -> (estimator factory with small, fast defaults, data, its parameter message)
MODELS = {
    "mlp": (
        lambda **p: TorchMLPClassifier(**{"hidden_layer_sizes": (8,), "lr": 1e-2, **p}),
        _mlp_data,
        MLP_PARAM_MSG,
    ),
    "gru": (
        lambda **p: TorchGRUClassifier(**{"hidden_size": 4, "lr": 1e-2, **p}),
        _gru_data,
        GRU_PARAM_MSG,
    ),
}


@pytest.fixture(params=sorted(MODELS))
def model(request: pytest.FixtureRequest):
    """(estimator factory, X, y, parameter message) of each network."""
    factory, data, msg = MODELS[request.param]
    X, y = data()
    return factory, X, y, msg


def test_both_networks_use_the_core() -> None:
    assert issubclass(TorchMLPClassifier, TorchClassifier)
    assert issubclass(TorchGRUClassifier, TorchClassifier)


def test_same_seed_same_fit_other_seed_differs(model) -> None:
    factory, X, y, _ = model
    a = factory(random_state=5, max_epochs=15).fit(X, y)
    b = factory(random_state=5, max_epochs=15).fit(X, y)
    c = factory(random_state=6, max_epochs=15).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_loss_curve_ == b.validation_loss_curve_
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_fit_ignores_and_keeps_the_callers_torch_random_state(model) -> None:
    torch = pytest.importorskip("torch")
    factory, X, y, _ = model
    torch.manual_seed(123)
    a = factory(max_epochs=5).fit(X, y).predict_proba(X)
    torch.manual_seed(456)
    state = torch.random.get_rng_state()
    b = factory(max_epochs=5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_torch_threads_and_determinism_are_restored(model) -> None:
    torch = pytest.importorskip("torch")
    factory, X, y, _ = model
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    factory(max_epochs=2, n_jobs=1).fit(X, y)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_early_stopping_keeps_the_best_epochs_weights(model) -> None:
    factory, X, y, _ = model
    clf = factory(lr=5e-2, max_epochs=300, patience=3, random_state=1).fit(X, y)
    # stopped early, `patience` epochs after the best one
    assert 1 <= clf.best_epoch_ < clf.n_iter_ < 300
    assert clf.n_iter_ - clf.best_epoch_ == 3
    assert len(clf.loss_curve_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_epoch_ == 1 + int(np.argmin(clf.validation_loss_curve_))
    # The same run cut at the best epoch ends with the very weights that were kept.
    short = clone(clf).set_params(max_epochs=clf.best_epoch_).fit(X, y)
    assert short.validation_loss_curve_ == clf.validation_loss_curve_[: clf.best_epoch_]
    np.testing.assert_array_equal(short.predict_proba(X), clf.predict_proba(X))


def test_without_validation_every_epoch_runs_and_the_last_is_kept(model) -> None:
    factory, X, y, _ = model
    clf = factory(validation_fraction=0.0, max_epochs=6).fit(X, y)
    assert clf.n_iter_ == clf.best_epoch_ == 6
    assert len(clf.loss_curve_) == 6
    assert clf.validation_loss_curve_ == []


def test_too_few_rows_of_a_class_turns_early_stopping_off(model) -> None:
    factory, X, y, _ = model
    rows = np.r_[np.flatnonzero(y == 0)[:10], np.flatnonzero(y == 1)[:1]]
    X_small = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
    clf = factory(max_epochs=4).fit(X_small, y[rows])
    assert clf.n_iter_ == clf.best_epoch_ == 4
    assert clf.validation_loss_curve_ == []


@pytest.mark.parametrize(
    ("param", "value", "rule"),
    [
        ("dropout", 1.0, "a float in [0, 1)"),
        ("weight_decay", -1.0, ">= 0"),
        ("lr", 0.0, "> 0"),
        ("batch_size", 0, "an integer >= 1"),
        ("patience", 2.5, "an integer >= 1"),
        ("validation_fraction", 1.0, "a float in [0, 1)"),
        ("random_state", None, "an integer"),
    ],
)
def test_common_parameter_errors_name_the_model(model, param, value, rule) -> None:
    factory, X, y, msg = model
    expected = msg.format(name=param, rule=rule, value=value)
    with pytest.raises(ModelError, match=re.escape(expected)):
        factory(**{param: value}).fit(X, y)


def test_one_class_is_a_model_error(model) -> None:
    factory, X, y, _ = model
    with pytest.raises(ModelError, match=re.escape(ONE_CLASS_MSG.format(value=0))):
        factory().fit(X, np.zeros_like(y))


def test_unfitted_model_cannot_predict(model) -> None:
    factory, X, _, _ = model
    with pytest.raises(NotFittedError):
        factory().predict_proba(X)


def test_predictions_are_labels_of_the_most_probable_class(model) -> None:
    factory, X, y, _ = model
    clf = factory(max_epochs=5).fit(X, np.where(y == 1, "died", "alive"))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_fitted_model_predicts_without_torch(model, tmp_path) -> None:
    factory, X, y, _ = model
    clf = factory(max_epochs=3).fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    (tmp_path / "X.pkl").write_bytes(pickle.dumps(X))
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    code = (
        "import pickle, sys, pathlib, numpy as np\n"
        "class NoTorch:\n"  # any import of torch now fails
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "clf = pickle.loads((d / 'model.pkl').read_bytes())\n"
        "proba = clf.predict_proba(pickle.loads((d / 'X.pkl').read_bytes()))\n"
        "assert np.array_equal(proba, np.load(d / 'expected.npy'))\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_validation_split_is_stratified_sorted_and_seeded() -> None:
    y = np.array([0] * 30 + [1] * 10)
    train, val = stratified_validation_split(y, 2, 0.2, random_state=0)
    assert val is not None
    assert len(val) == 8 and np.bincount(y[val]).tolist() == [6, 2]
    assert np.array_equal(np.sort(np.r_[train, val]), np.arange(40))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    again = stratified_validation_split(y, 2, 0.2, random_state=0)[1]
    other = stratified_validation_split(y, 2, 0.2, random_state=1)[1]
    assert again is not None and np.array_equal(val, again)
    assert other is not None and not np.array_equal(val, other)


@pytest.mark.parametrize(
    ("y", "fraction"),
    [
        (np.array([0] * 10 + [1] * 10), 0.0),  # early stopping switched off
        (np.array([0] * 19 + [1]), 0.2),  # one row of class 1
        (np.array([0] * 10 + [1] * 10), 0.05),  # 1 validation row for 2 classes
    ],
)
def test_no_validation_split_when_it_cannot_hold_every_class(y, fraction) -> None:
    train, val = stratified_validation_split(y, 2, fraction, random_state=0)
    assert val is None
    assert np.array_equal(train, np.arange(len(y)))
