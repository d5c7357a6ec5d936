"""A score column of only 0 and 1 is validated, with a warning that it looks like class labels."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from clinai.runs._prediction_columns import risk_column


def test_class_labels_get_a_warning_naming_the_column(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"label": [0, 1, 1, 0, 1], "risk": [0.1, 0.9, 0.7, 0.0, 1.0]})
    with caplog.at_level(logging.WARNING, logger="clinai.runs._prediction_columns"):
        assert risk_column(frame, "label").tolist() == [0, 1, 1, 0, 1]
        assert len(caplog.records) == 1 and "'label' (--score) holds only 0 and 1" in caplog.text
        caplog.clear()
        risk_column(frame, "risk")  # 0 and 1 among other risks: a risk column
        assert not caplog.records


def test_the_auroc_of_labels_is_the_mean_of_sensitivity_and_specificity() -> None:
    # what the warning says, checked on scikit-learn's AUROC
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    labels = np.where(rng.random(200) < 0.8, y, 1 - y)
    sensitivity = labels[y == 1].mean()
    specificity = 1 - labels[y == 0].mean()
    assert roc_auc_score(y, labels) == pytest.approx((sensitivity + specificity) / 2)
