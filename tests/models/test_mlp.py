"""TorchMLPClassifier: scikit-learn conformance, determinism, early stopping, errors."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from clinai.exceptions import ModelError
from clinai.models import TorchMLPClassifier
from clinai.models._mlp import MLP_ONE_CLASS_MSG, MLP_PARAM_MSG

# One class in y is a clinai ModelError by design, not sklearn's ValueError.
_EXPECTED_FAILED = {
    "check_classifiers_one_label": "one class raises ModelError by design",
    "check_fit2d_1sample": "one class raises ModelError by design",
}


@parametrize_with_checks(
    [TorchMLPClassifier(max_epochs=20, lr=1e-2)],
    expected_failed_checks=lambda est: _EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    return X, y


def test_same_seed_same_probabilities_other_seed_differs(blobs) -> None:
    X, y = blobs
    a = TorchMLPClassifier(random_state=1, max_epochs=30).fit(X, y).predict_proba(X)
    b = TorchMLPClassifier(random_state=1, max_epochs=30).fit(X, y).predict_proba(X)
    c = TorchMLPClassifier(random_state=2, max_epochs=30).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fitted_attributes_and_early_stopping(blobs) -> None:
    X, y = blobs
    clf = TorchMLPClassifier(hidden_layer_sizes=[16, 8], max_epochs=200, patience=3, lr=3e-2).fit(
        X, y
    )
    assert [w.shape for w in clf.coefs_] == [(4, 16), (16, 8), (8, 2)]
    assert clf.n_features_in_ == 4
    assert 1 <= clf.best_epoch_ <= clf.n_iter_ < 200
    assert clf.n_iter_ - clf.best_epoch_ == 3
    assert len(clf.loss_curve_) == len(clf.validation_loss_curve_) == clf.n_iter_

    no_stop = TorchMLPClassifier(validation_fraction=0.0, max_epochs=7).fit(X, y)
    assert no_stop.n_iter_ == no_stop.best_epoch_ == 7
    assert no_stop.validation_loss_curve_ == []


def test_string_labels(blobs) -> None:
    X, y = blobs
    labels = np.where(y == 1, "died", "alive")
    clf = TorchMLPClassifier(max_epochs=20).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["alive", "died"])
    assert set(clf.predict(X)) <= {"alive", "died"}


def test_torch_global_state_is_restored(blobs) -> None:
    torch = pytest.importorskip("torch")
    X, y = blobs
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    rng_state = torch.random.get_rng_state()
    TorchMLPClassifier(max_epochs=3, n_jobs=1).fit(X, y)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_pickled_and_cloned(blobs) -> None:
    X, y = blobs
    clf = TorchMLPClassifier(max_epochs=10).fit(X, y)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X)
    )
    assert clone(clf).get_params() == clf.get_params()


def test_one_class_is_a_model_error(blobs) -> None:
    X, _ = blobs
    with pytest.raises(ModelError, match=re.escape(MLP_ONE_CLASS_MSG.format(value=1))):
        TorchMLPClassifier().fit(X, np.ones(len(X), dtype=int))


@pytest.mark.parametrize(
    ("param", "value", "rule"),
    [
        ("dropout", 1.0, "a float in [0, 1)"),
        ("lr", 0.0, "> 0"),
        ("max_epochs", 0, "an integer >= 1"),
        ("hidden_layer_sizes", (8, 0), "a sequence of positive integers"),
    ],
)
def test_bad_parameters(blobs, param, value, rule) -> None:
    X, y = blobs
    msg = MLP_PARAM_MSG.format(name=param, rule=rule, value=value)
    with pytest.raises(ModelError, match=re.escape(msg)):
        TorchMLPClassifier(**{param: value}).fit(X, y)
