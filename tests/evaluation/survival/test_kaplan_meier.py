"""Kaplan-Meier, censoring distribution and Aalen-Johansen against scikit-survival and counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sksurv.nonparametric import (
    CensoringDistributionEstimator,
    cumulative_incidence_competing_risks,
    kaplan_meier_estimator,
)
from sksurv.util import Surv

from clinai.evaluation import aalen_johansen, censoring_survival, kaplan_meier
from clinai.evaluation.survival import _inputs as msg
from clinai.evaluation.survival._kaplan_meier import (
    _censoring_at_unique,
    _kaplan_meier_sorted,
    sort_survival,
)
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import LOADERS, random_survival, shipped, slow_km


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_kaplan_meier_and_censoring_equal_scikit_survival(name: str) -> None:
    time, event, _ = shipped(name)
    times, survival = kaplan_meier_estimator(event, time)
    assert np.abs(kaplan_meier(time, event).at(times) - survival).max() <= 1e-12
    reference = CensoringDistributionEstimator().fit(Surv.from_arrays(event, time))
    got = censoring_survival(time, event.astype(int)).at(time)
    assert np.abs(got - reference.predict_proba(time)).max() <= 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimators_equal_counting_definition_with_ties(seed: int) -> None:
    time, event, _ = random_survival(seed)
    km, g = kaplan_meier(time, event), censoring_survival(time, event)
    grid = np.r_[0.0, np.unique(time), 2.5, 7.5]
    grid = grid[grid <= time.max()]
    assert km.at(grid) == pytest.approx([slow_km(time, event, t) for t in grid], abs=1e-12)
    expected = [slow_km(time, event, t, censoring=True) for t in grid]
    assert g.at(grid) == pytest.approx(expected, abs=1e-12)
    # left limits: the value just before each step
    steps = km.times
    assert km.before(steps) == pytest.approx(km.at(steps - 1e-9), abs=1e-12)


def test_step_function_is_one_before_the_first_event_and_undefined_after_follow_up() -> None:
    km = kaplan_meier([2.0, 3.0, 5.0], [1, 0, 0])
    assert km.at(1.0) == 1.0
    assert km.at([2.0, 4.0, 5.0]).tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3])
    assert np.isnan(km.at(6.0))
    assert kaplan_meier([2.0, 3.0], [1, 1]).at(9.0) == 0.0
    assert censoring_survival([1.0, 2.0], [1, 1]).at(1.5) == 1.0
    assert km.to_dict()["times"] == [2.0]


def test_aalen_johansen_equals_scikit_survival_and_one_cause_is_one_minus_km() -> None:
    rng = np.random.default_rng(5)
    time = rng.integers(1, 20, 300).astype(float)
    code = rng.integers(0, 3, 300)
    times, incidence = cumulative_incidence_competing_risks(code, time)
    for cause in (1, 2):
        assert np.abs(aalen_johansen(time, code, cause, times) - incidence[cause]).max() <= 1e-12
    event = code > 0
    km = kaplan_meier(time, event)
    one_cause = aalen_johansen(time, event.astype(int), 1, times)
    assert one_cause == pytest.approx(1.0 - km.at(times), abs=1e-12)
    assert aalen_johansen(time, code, 1, 0.5) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 3)), min_size=2, max_size=30
    )
)
def test_weights_equal_repeated_rows(rows: list[tuple[int, bool, int]]) -> None:
    """Bootstrap contract: a row's count as a weight equals repeating the row."""
    time = np.array([r[0] for r in rows], dtype=float)
    event = np.array([r[1] for r in rows])
    counts = np.array([r[2] for r in rows], dtype=float)
    if counts.sum() == 0:
        return
    data = sort_survival(time, event)
    weighted = _kaplan_meier_sorted(data, counts[data.order])
    repeated = np.repeat(np.arange(len(rows)), counts.astype(int))
    grid = np.unique(time[repeated])
    plain = kaplan_meier(time[repeated], event[repeated])
    assert weighted.at(grid) == pytest.approx(plain.at(grid), abs=1e-12)
    g_weighted = _censoring_at_unique(data, counts[data.order])
    g_plain = censoring_survival(time[repeated], event[repeated]).at(data.unique)
    keep = data.unique <= time[repeated].max()
    assert g_weighted[keep] == pytest.approx(g_plain[keep], abs=1e-12)


BAD_INPUTS = [
    ({"time": [1.0, -2.0], "event": [1, 0]}, "negative value"),
    ({"time": [1.0, np.nan], "event": [1, 0]}, "missing or non-finite"),
    ({"time": [1.0, 2.0], "event": [1, 2]}, "event must be 0 (censored) or 1"),
    ({"time": [1.0, 2.0], "event": [1, None]}, "event must be 0 (censored) or 1"),
    ({"time": [1.0, 2.0, 3.0], "event": [1, 0]}, "event has 2 values but time has 3 rows"),
    ({"time": [], "event": []}, msg.EMPTY_MSG),
    ({"time": [[1.0, 2.0]], "event": [1]}, "time must be one-dimensional"),
    ({"time": ["a", "b"], "event": [1, 0]}, "time must be numeric"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_naming_the_argument(arguments: dict, message: str) -> None:
    for estimator in (kaplan_meier, censoring_survival):
        with pytest.raises(DataError) as raised:
            estimator(**arguments)
        assert message in str(raised.value)
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("code", "cause", "message"),
    [
        ([0, 1, 2], 3, "cause must be a positive event code ([1, 2])"),
        ([0, 1.5, 2], 1, "event_code"),
    ],
)
def test_aalen_johansen_bad_codes(code: list, cause: int, message: str) -> None:
    with pytest.raises(DataError) as raised:
        aalen_johansen([1.0, 2.0, 3.0], code, cause, 2.0)
    assert message in str(raised.value)
