"""RecalibratedModel: the approved model's risks recalibrated on the logit scale (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from clinai.models import RecalibratedModel, get_model, synthetic_input_example
from clinai.models._recalibrated import BAD_NUMBER_MSG

from .conftest import CATEGORICAL, NUMERIC, make_data


@pytest.fixture(scope="module")
def base() -> Any:
    X, y = make_data(300, seed=0)
    return get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL).fit(X, y)


def test_risks_are_the_base_risks_recalibrated_on_the_logit_scale(base: Any) -> None:
    X, _ = make_data(100, seed=1)
    p = base.predict_proba(X)[:, 1]
    model = RecalibratedModel(base, intercept=-0.4, slope=0.7).fit(X)
    q = model.predict_proba(X)
    assert q[:, 1] == pytest.approx(expit(-0.4 + 0.7 * logit(p)), rel=1e-12)
    assert q.sum(axis=1) == pytest.approx(np.ones(100))
    assert set(model.predict(X)) <= set(base.classes_)
    assert RecalibratedModel(base).predict_proba(X) == pytest.approx(base.predict_proba(X))
    # The scikit-learn surface: parameters, clone, classes.
    assert clone(model).get_params()["slope"] == 0.7
    assert list(model.classes_) == list(base.classes_)


def test_an_unfitted_base_or_a_bad_number_is_refused() -> None:
    X, _ = make_data(20, seed=2)
    unfitted = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL)
    with pytest.raises(NotFittedError):
        RecalibratedModel(unfitted, intercept=0.1).predict_proba(X)
    with pytest.raises(ValueError, match=re.escape(BAD_NUMBER_MSG.format(name="slope", got=None))):
        RecalibratedModel(unfitted, slope=None).fit(X)  # type: ignore[arg-type]


def test_saved_and_loaded_with_the_sklearn_flavour_and_the_base_signature(
    base: Any, tmp_path: Path
) -> None:
    from mlflow.models import Model

    from clinai.tracking import load_model_dir, save_model_dir

    X, _ = make_data(50, seed=3)
    example = synthetic_input_example(X)
    save_model_dir(base, tmp_path / "base", input_example=example)
    model = RecalibratedModel(base, intercept=0.3, slope=0.9)
    save_model_dir(model, tmp_path / "updated", input_example=example)
    loaded = load_model_dir(tmp_path / "updated")
    assert isinstance(loaded, RecalibratedModel)
    assert loaded.predict_proba(X) == pytest.approx(model.predict_proba(X), rel=1e-12)
    signatures = [Model.load(str(tmp_path / name)).signature for name in ("base", "updated")]
    assert signatures[0].inputs == signatures[1].inputs
