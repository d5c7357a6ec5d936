"""IPCW Brier score, IPA and integrated Brier against scikit-survival and Graf's definition."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sksurv import metrics as sk
from sksurv.util import Surv

from clinai.evaluation import (
    censoring_survival,
    index_of_prediction_accuracy,
    integrated_brier_score,
    ipcw_brier_score,
    kaplan_meier,
)
from clinai.evaluation.survival._brier import (
    TWO_TIMES_MSG,
    _brier_from_prepared,
    _prepare_brier,
)
from clinai.evaluation.survival._kaplan_meier import (
    _censoring_at_unique,
    _survival_at_unique,
)
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import (
    LOADERS,
    random_survival,
    replicate,
    risk_at,
    shipped,
    slow_brier,
)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_equal_scikit_survival_on_shipped_data(name: str) -> None:
    time, event, score = shipped(name)
    outcome = Surv.from_arrays(event, time)
    horizons = np.quantile(time[event], [0.2, 0.4, 0.6, 0.8])
    risks = np.column_stack([risk_at(time, event, score, t) for t in horizons])
    _, expected = sk.brier_score(outcome, outcome, 1.0 - risks, horizons)
    got = [ipcw_brier_score(time, event, risks[:, k], t).brier for k, t in enumerate(horizons)]
    assert np.abs(np.asarray(got) - expected).max() <= 1e-12
    integrated = integrated_brier_score(time, event, risks, horizons)
    reference = sk.integrated_brier_score(outcome, outcome, 1.0 - risks, horizons)
    assert integrated.integrated == pytest.approx(reference, abs=1e-12)
    assert integrated.brier == pytest.approx(tuple(expected), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_graf_definition_with_ties(seed: int) -> None:
    time, event, score = random_survival(seed, 80)
    risk = np.clip(score / 6.0, 0.0, 1.0)
    for t in (2.0, 5.0, 9.0):
        got = ipcw_brier_score(time, event, risk, t)
        assert got.brier == pytest.approx(slow_brier(time, event, risk, t), abs=1e-12)
        null_risk = np.full(time.shape, 1.0 - kaplan_meier(time, event).at(t))
        assert got.null_brier == pytest.approx(slow_brier(time, event, null_risk, t), abs=1e-12)
        assert got.ipa == pytest.approx(1.0 - got.brier / got.null_brier, abs=1e-12)


def test_null_model_has_ipa_zero_and_results_are_json() -> None:
    time, event, _ = random_survival(3, 100, ties=False)
    t = float(np.median(time))
    null_risk = np.full(time.shape, 1.0 - kaplan_meier(time, event).at(t))
    assert index_of_prediction_accuracy(time, event, null_risk, t) == pytest.approx(0.0, abs=1e-12)
    result = integrated_brier_score(
        time, event, np.column_stack([null_risk, null_risk]), [t, t + 0.1]
    )
    assert result.ipa == pytest.approx(0.0, abs=1e-9)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(payload) == {"times", "brier", "null_brier", "integrated", "null_integrated", "ipa"}
    assert json.loads(json.dumps(ipcw_brier_score(time, event, null_risk, t).to_dict()))["t"] == t


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 3), min_size=40, max_size=40))
def test_weights_equal_repeated_rows(seed: int, counts: list[int]) -> None:
    """Bootstrap contract: counts as weights (with G re-estimated from them) = repeated rows."""
    time, event, score, rows, data, weights = replicate(seed, counts)
    risk = np.clip(score / 6.0, 0.0, 1.0)
    got = _brier_from_prepared(
        _prepare_brier(data, risk[data.order], 5.0),
        _censoring_at_unique(data, weights),
        _survival_at_unique(data, weights),
        weights,
    )
    try:
        expected = ipcw_brier_score(time[rows], event[rows], risk[rows], 5.0)
    except DataError:  # no event, or t outside the replicate's follow-up
        return
    assert got == pytest.approx((expected.brier, expected.null_brier), abs=1e-12)


@pytest.mark.parametrize(
    ("risk", "t", "message"),
    [
        ([0.1, 0.2, 1.3, 0.4], 3.0, "risk must lie in [0, 1]"),
        ([0.1, 0.2, 0.3, 0.4], 8.0, "t must be a finite time within follow-up"),
        ([0.1, 0.2, 0.3, 0.4], -1.0, "within follow-up"),
    ],
)
def test_bad_input(risk: list, t: float, message: str) -> None:
    with pytest.raises(DataError) as raised:
        ipcw_brier_score([1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], risk, t)
    assert message in str(raised.value)


def test_censoring_from_other_data_must_cover_the_horizon() -> None:
    short = censoring_survival([1.0, 2.0, 3.0], [0, 1, 0])
    with pytest.raises(DataError, match="censoring ends at time 3 but these data need it up to 5"):
        ipcw_brier_score(
            [1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], 5.0, censoring=short
        )
    long = censoring_survival([1.0, 2.0, 9.0], [0, 1, 0])
    got = ipcw_brier_score(
        [1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], 5.0, censoring=long
    )
    # G = 2/3 from time 1 on: cases at 1 and 4, the control at 8
    assert got.brier == pytest.approx((0.9**2 + 0.7**2 + 0.4**2) * 1.5 / 4)


def test_integrated_needs_two_horizons() -> None:
    with pytest.raises(DataError, match=TWO_TIMES_MSG.format(count=1)):
        integrated_brier_score([1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], [3.0])
