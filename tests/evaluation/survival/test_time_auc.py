"""Cumulative/dynamic AUC against scikit-survival, the pair-by-pair definition, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sksurv.metrics import cumulative_dynamic_auc
from sksurv.util import Surv

from clinai.evaluation import time_dependent_auc
from clinai.evaluation.survival._kaplan_meier import _censoring_at_unique
from clinai.evaluation.survival._time_auc import _auc_from_prepared, _prepare_auc
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import (
    LOADERS,
    random_survival,
    replicate,
    risk_at,
    shipped,
    slow_auc,
)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_equal_scikit_survival_on_shipped_data(name: str) -> None:
    time, event, score = shipped(name)
    horizons = np.quantile(time[event], [0.25, 0.5, 0.75])
    outcome = Surv.from_arrays(event, time)
    auc, mean_auc = cumulative_dynamic_auc(outcome, outcome, score, horizons)
    got = time_dependent_auc(time, event, score, horizons)
    assert np.abs(np.asarray(got.auc) - auc).max() <= 1e-12
    assert got.mean_auc == pytest.approx(mean_auc, abs=1e-12)
    # one risk column per horizon, given in any order
    risks = np.column_stack([risk_at(time, event, score, t) for t in horizons])
    auc, _ = cumulative_dynamic_auc(outcome, outcome, risks, horizons)
    got = time_dependent_auc(time, event, risks[:, ::-1], horizons[::-1])
    assert np.abs(np.asarray(got.auc) - auc).max() <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_definition_and_scikit_survival_with_ties(seed: int) -> None:
    time, event, score = random_survival(seed, 80)
    outcome = Surv.from_arrays(event, time)
    got = time_dependent_auc(time, event, score, [3.0, 6.0])
    assert got.auc == pytest.approx([slow_auc(time, event, score, t) for t in (3.0, 6.0)])
    expected, mean_auc = cumulative_dynamic_auc(outcome, outcome, score, [3.0, 6.0])
    assert np.abs(np.asarray(got.auc) - expected).max() <= 1e-12
    assert got.mean_auc == pytest.approx(mean_auc, abs=1e-12)
    assert json.loads(json.dumps(got.to_dict()))["times"] == [3.0, 6.0]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 3), min_size=40, max_size=40))
def test_weights_equal_repeated_rows(seed: int, counts: list[int]) -> None:
    """Bootstrap contract: the prepared horizon with counts as weights = repeated rows."""
    time, event, score, rows, data, weights = replicate(seed, counts)
    inputs = _prepare_auc(data, score[data.order], 5.0, 1e-8)
    weighted = _auc_from_prepared(
        inputs, _censoring_at_unique(data, weights), weights[inputs.by_risk]
    )
    try:
        expected = time_dependent_auc(time[rows], event[rows], score[rows], 5.0).auc[0]
    except DataError:  # no case, no control, or t outside the replicate's follow-up
        return
    assert weighted == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("times", "risk", "message"),
    [
        (20.0, None, "times must be a finite time within follow-up"),
        ([3.0, 3.0], None, "times must be distinct horizons"),
        (3.0, np.ones((4, 2)), "risk must have one column per horizon (1)"),
        (3.0, [np.nan, 1, 2, 3], "risk has 1 missing"),
    ],
)
def test_bad_input(times: object, risk: object, message: str) -> None:
    risk = [0.1, 0.2, 0.3, 0.4] if risk is None else risk
    with pytest.raises(DataError) as raised:
        time_dependent_auc([1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], risk, times)
    assert message in str(raised.value)


def test_bad_tied_tol() -> None:
    with pytest.raises(DataError, match="tied_tol must be a finite number >= 0"):
        time_dependent_auc(
            [1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], 3.0, tied_tol=-1
        )


def test_no_cases_by_the_horizon() -> None:
    with pytest.raises(DataError, match="no cases"):
        time_dependent_auc([1.0, 2.0, 4.0, 8.0], [0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4], 1.5)
