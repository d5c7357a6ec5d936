"""Survival validation on the tiny test splits a new user meets (H2, twelfth session).

The 18 patients below are the test split of a 60-patient run on flchain (scikit-survival)
with gradient-boosted survival: three deaths by 1826 days, each predicted above every
patient censored at the horizon but one. The flexible calibration's spline model then
separates them; the run stopped with "internal error: ValueError: math domain error".
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clinai.evaluation import evaluate_survival, flexible_survival_calibration
from clinai.evaluation.survival._flexible_calibration import NO_FINITE_FIT_MSG
from clinai.exceptions import DataError

HORIZON = 1826.0
# fmt: off
TIME = np.array([
    838, 3861, 4711, 4822, 4089, 2232, 3933, 4793, 4954, 244, 2532, 4766, 673, 4801, 4780,
    4962, 4829, 3987,
], dtype=float)
EVENT = np.array([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0])
RISK = np.array([
    0.5289, 0.1285, 0.0536, 0.0581, 0.0479, 0.1287, 0.5843, 0.3087, 0.0716, 0.4998, 0.0388,
    0.0493, 0.6279, 0.1144, 0.1087, 0.0553, 0.1334, 0.1185,
])
# fmt: on
EXPECTED = NO_FINITE_FIT_MSG.format(t=HORIZON, events=3, n=18)


def test_separated_flexible_calibration_is_one_clear_line_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the Cox fit's overflow warnings reached the console
        with pytest.raises(DataError) as caught:
            flexible_survival_calibration(TIME, EVENT, RISK, t=HORIZON)
    assert str(caught.value) == EXPECTED


def test_survival_validation_of_a_separated_tiny_split_stops_with_data_error() -> None:
    with pytest.raises(DataError, match="validate on more patients or events"):
        evaluate_survival(TIME, EVENT, RISK, horizon=HORIZON, n_boot=0)


def test_the_same_risk_for_everyone_is_said_as_such() -> None:
    # a constant score column (or a model that kept no predictor) stopped with "the Cox
    # calibration model did not converge after 1 iterations (calibration slope)"
    from clinai.evaluation.validate._survival import CONSTANT_RISK_MSG

    with pytest.raises(DataError) as caught:
        evaluate_survival(TIME, EVENT, np.full(TIME.shape, 0.1), horizon=HORIZON, n_boot=0)
    assert str(caught.value) == CONSTANT_RISK_MSG.format(value=0.1)
