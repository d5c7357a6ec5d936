"""Harrell's and Uno's C against scikit-survival, the pair-by-pair definition, and properties."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sksurv.metrics import concordance_index_censored, concordance_index_ipcw
from sksurv.util import Surv

from clinai.evaluation import harrell_c, uno_c
from clinai.evaluation.survival._concordance import (
    NO_PAIRS_MSG,
    _concordance_from_sorted,
    _prepare,
)
from clinai.evaluation.survival._kaplan_meier import sort_survival
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import (
    LOADERS,
    random_survival,
    shipped,
    slow_concordance,
)


def _counts(result: object) -> tuple[float, ...]:
    return tuple(getattr(result, k) for k in ("concordant", "discordant", "tied_risk", "tied_time"))


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_equal_scikit_survival_on_shipped_data(name: str) -> None:
    time, event, score = shipped(name)
    reference = concordance_index_censored(event, time, score)
    got = harrell_c(time, event, score)
    assert got.estimate == pytest.approx(reference[0], abs=1e-12)
    assert _counts(got) == tuple(float(v) for v in reference[1:])
    outcome = Surv.from_arrays(event, time)
    for tau in (None, float(np.quantile(time, 0.8))):
        expected = concordance_index_ipcw(outcome, outcome, score, tau=tau)
        got = uno_c(time, event, score, tau=tau)
        assert got.estimate == pytest.approx(expected[0], abs=1e-12)
        assert _counts(got) == tuple(float(v) for v in expected[1:])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_equal_scikit_survival_and_definition_with_ties(seed: int) -> None:
    time, event, score = random_survival(seed, 80)
    harrell = harrell_c(time, event, score)
    uno = uno_c(time, event, score, tau=9.0)
    slow_harrell, slow_uno = slow_concordance(time, event, score, tau=9.0)
    assert harrell.estimate == pytest.approx(slow_harrell, abs=1e-12)
    assert uno.estimate == pytest.approx(slow_uno, abs=1e-12)
    assert harrell.estimate == pytest.approx(
        concordance_index_censored(event, time, score)[0], abs=1e-12
    )
    outcome = Surv.from_arrays(event, time)
    expected = concordance_index_ipcw(outcome, outcome, score, tau=9.0)[0]
    assert uno.estimate == pytest.approx(expected, abs=1e-12)


def test_tolerance_ties_and_censoring_from_development_data() -> None:
    time, event, score = random_survival(7, 60, ties=False)
    nudged = np.round(score, 1) + np.random.default_rng(0).uniform(-1e-9, 1e-9, score.size)
    expected = concordance_index_censored(event, time, nudged, tied_tol=1e-8)
    got = harrell_c(time, event, nudged)
    assert got.estimate == pytest.approx(expected[0], abs=1e-12)
    assert got.tied_risk == expected[3]
    # G from other (development) data, as scikit-survival's survival_train
    dev_time, dev_event, _ = random_survival(8, 200, ties=False)
    dev_time = dev_time + time.max()  # followed longer: G defined at every test time
    from clinai.evaluation import censoring_survival

    reference = concordance_index_ipcw(
        Surv.from_arrays(dev_event, dev_time), Surv.from_arrays(event, time), score
    )[0]
    got = uno_c(time, event, score, censoring=censoring_survival(dev_time, dev_event))
    assert got.estimate == pytest.approx(reference, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 3), min_size=25, max_size=25))
def test_weights_equal_repeated_rows_and_reversed_score(seed: int, counts: list[int]) -> None:
    """Bootstrap contract (counts as weights = repeated rows); C(-score) = 1 - C(score)."""
    time, event, score = random_survival(seed, 25)
    weights = np.asarray(counts, dtype=float)
    rows = np.repeat(np.arange(25), counts)
    if not (event[rows].any() and np.ptp(time[rows]) > 0):
        return
    data = sort_survival(time, event)
    numerators, denominators, counts = _concordance_from_sorted(
        _prepare(data, score, 1e-8), weights[data.order]
    )
    try:
        repeated = harrell_c(time[rows], event[rows], score[rows])
    except DataError:
        assert denominators[0] == 0
        return
    assert numerators[0] / denominators[0] == pytest.approx(repeated.estimate, abs=1e-12)
    assert tuple(counts) == pytest.approx(_counts(repeated))
    reverse = harrell_c(time[rows], event[rows], -score[rows])
    assert reverse.estimate == pytest.approx(1.0 - repeated.estimate, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_without_censoring_uno_equals_harrell(seed: int) -> None:
    """G = 1 when nobody is censored, so the IPCW weights are all 1."""
    time, _, score = random_survival(seed, 50)
    event = np.ones(50, dtype=bool)
    expected = harrell_c(time, event, score).estimate
    assert uno_c(time, event, score).estimate == pytest.approx(expected, abs=1e-12)


def test_replicates_in_one_pass_equal_one_at_a_time() -> None:
    """B weightings (bootstrap replicates) in one kernel pass = B separate passes."""
    time, event, score = random_survival(11, 70)
    data = sort_survival(time, event)
    inputs = _prepare(data, score, 1e-8)
    rng = np.random.default_rng(2)
    weights = rng.integers(0, 3, (70, 5)).astype(float)
    ipcw = rng.random((70, 2, 5))
    together = _concordance_from_sorted(inputs, weights, ipcw)
    for b in range(5):
        alone = _concordance_from_sorted(inputs, weights[:, b], ipcw[:, :, b])
        for batch_part, single in zip(together, alone, strict=True):
            assert batch_part[b] == pytest.approx(single, abs=1e-12)


def test_result_is_frozen_and_json() -> None:
    time, event, score = random_survival(0, 40)
    result = uno_c(time, event, score, tau=8)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["method"] == "uno" and payload["tau"] == 8.0
    assert set(payload) == {
        "estimate",
        "method",
        "tau",
        "concordant",
        "discordant",
        "tied_risk",
        "tied_time",
    }
    with pytest.raises(AttributeError):
        result.estimate = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"time": [1, 2, 3], "event": [0, 0, 0], "score": [1, 2, 3]}, "event has no events"),
        ({"time": [3, 3], "event": [1, 1], "score": [1, 2]}, NO_PAIRS_MSG.format(where="")),
        ({"time": [1, 2], "event": [1, 0], "score": [1, np.nan]}, "score has 1 missing"),
        ({"time": [1, 2], "event": [1, 0], "score": [1]}, "score has 1 values but time has 2"),
        ({"time": [1, 2], "event": [1, 0], "score": [1, 2], "tied_tol": -1}, "tied_tol"),
    ],
)
def test_bad_input(arguments: dict, message: str) -> None:
    for metric in (harrell_c, uno_c):
        with pytest.raises(DataError) as raised:
            metric(**arguments)
        assert message in str(raised.value)


@pytest.mark.parametrize(("tau", "message"), [(0.5, "tau must be"), ("x", "tau must be")])
def test_uno_bad_tau(tau: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        uno_c([1.0, 2.0, 3.0], [1, 0, 1], [3, 2, 1], tau=tau)


def test_uno_censoring_zero_at_an_event() -> None:
    # the last time holds an event and a censoring: G is 0 there
    with pytest.raises(DataError, match="censoring distribution is 0 at 1 event time"):
        uno_c([1.0, 2.0, 3.0, 3.0], [1, 1, 1, 0], [4, 3, 2, 1])
