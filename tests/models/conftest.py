"""Shared data and fitted models of the models tests (small, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from clinai.models import get_model, get_model_names

NUMERIC = ["age", "lab_value"]
CATEGORICAL = ["sex", "admission_type"]


def make_data(
    n: int, *, seed: int, missing_admission: bool = True
) -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed numeric and categorical features with missing values and a learnable outcome.

    ``missing_admission=False`` leaves every admission type present (lab values still miss).
    """
    rng = np.random.default_rng(seed)
    age = rng.normal(65, 12, n).round()
    lab = rng.normal(0, 1, n)
    sex = rng.choice(["F", "M"], n)
    admission = rng.choice(["elective", "urgent", "emergency"], n, p=[0.4, 0.3, 0.3])
    logit = 0.08 * (age - 65) + 1.3 * lab + 1.2 * (admission == "emergency") - 0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"age": age, "lab_value": lab, "sex": sex, "admission_type": admission})
    X.loc[rng.random(n) < 0.1, "lab_value"] = np.nan
    if missing_admission:
        X.loc[rng.random(n) < 0.1, "admission_type"] = None
    return X, y


@pytest.fixture(scope="session")
def train_data() -> tuple[pd.DataFrame, np.ndarray]:
    return make_data(300, seed=0)


@pytest.fixture(scope="session")
def test_data() -> tuple[pd.DataFrame, np.ndarray]:
    return make_data(300, seed=1)


@pytest.fixture(scope="session")
def fitted_models(train_data: tuple[pd.DataFrame, np.ndarray]) -> dict[str, Pipeline]:
    X, y = train_data
    return {
        name: get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, random_state=0).fit(X, y)
        for name in get_model_names()
    }
