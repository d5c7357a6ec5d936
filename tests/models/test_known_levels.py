"""The levels a fitted model's one-hot encoder knows, and the scorer's warning of new ones.

The encoder ignores a level unseen in training (its columns all zero, as for no level), so a
new code or another case (``Emergency`` for ``emergency``) was scored without a word (H1,
fourteenth session). SYNTHETIC data (tests/models/conftest.py).
"""

from __future__ import annotations

import logging

import pytest
from sklearn.pipeline import Pipeline

from clinai.models import calibrate_model, get_model, known_levels
from clinai.runs._score import warn_unseen_levels

from .conftest import CATEGORICAL, NUMERIC, make_data

LEVELS = {
    "sex": frozenset({"F", "M"}),
    "admission_type": frozenset({"elective", "urgent", "emergency"}),
}


def test_every_family_and_its_calibration_report_the_training_levels(
    fitted_models: dict[str, Pipeline],
) -> None:
    for name, model in fitted_models.items():
        assert known_levels(model) == LEVELS, name
    X, y = make_data(200, seed=2)
    logistic = get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL, random_state=0)
    for ensemble in (False, True):
        calibrated = calibrate_model(logistic, X, y, cv=3, ensemble=ensemble)
        assert known_levels(calibrated) == LEVELS
    assert known_levels(object()) == {}  # not a clinai pipeline: nothing to compare with


def test_new_levels_are_counted_and_warned_of_without_a_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    X, _ = make_data(20, seed=3, missing_admission=False)
    X.loc[:2, "admission_type"] = "Emergency"  # another case
    X.loc[3, "admission_type"] = "transfer"  # a new code
    X.loc[4, "sex"] = None  # missing: imputed, not a new level
    with caplog.at_level(logging.WARNING, logger="clinai.runs._score"):
        counts = warn_unseen_levels(X, LEVELS, name="demo", version=3)
    assert counts == {"admission_type": 4}
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert (
        "column 'admission_type': 4 row(s) hold a level that version 3 of model 'demo'" in message
    )
    assert "(2 distinct level(s))" in message
    assert "Emergency" not in message and "transfer" not in message
