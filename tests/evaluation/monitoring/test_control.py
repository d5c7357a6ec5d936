"""Risk-adjusted CUSUM: a worked example by hand and the false-alarm rate by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation.monitoring import cusum_limit, risk_adjusted_cusum
from clinai.evaluation.monitoring._control import (
    LIMIT_MSG,
    N_SIM_MSG,
    ODDS_RATIO_MSG,
    _simulated_maxima,
)
from clinai.exceptions import DataError


def test_worked_example_by_hand() -> None:
    # R = 2. W_t = y ln 2 - ln(1 + p):
    # t=1 y=1 p=0.2: 0.693147 - 0.182322 = 0.510826 -> S = 0.510826
    # t=2 y=0 p=0.5: -0.405465                       -> S = 0.105361
    # t=3 y=1 p=0.1: 0.693147 - 0.095310 = 0.597837 -> S = 0.703198
    # t=4 y=1 p=0.3: 0.693147 - 0.262364 = 0.430783 -> S = 1.133981 > h = 1
    chart = risk_adjusted_cusum([1, 0, 1, 1], [0.2, 0.5, 0.1, 0.3], odds_ratio=2.0, limit=1.0)
    assert chart.weights == pytest.approx([0.510826, -0.405465, 0.597837, 0.430783], abs=1e-6)
    assert chart.values == pytest.approx([0.510826, 0.105361, 0.703198, 1.133981], abs=1e-6)
    assert chart.first_signal == 3 and list(chart.signals) == [3] and chart.signalled
    assert chart.to_dict() == {
        "odds_ratio": 2.0,
        "limit": 1.0,
        "n": 4,
        "end": pytest.approx(1.133981, abs=1e-6),
        "max": pytest.approx(1.133981, abs=1e-6),
        "signalled": True,
        "first_signal": 3,
    }


def test_chart_is_floored_at_zero_and_continues_across_parts() -> None:
    # Two non-events at p = 0.5 (W = -ln 1.5 each) keep S at 0; then an event: ln 2 - ln 1.5.
    chart = risk_adjusted_cusum([0, 0, 1], [0.5, 0.5, 0.5], odds_ratio=2.0, limit=5.0)
    assert chart.values == pytest.approx([0.0, 0.0, 0.287682], abs=1e-6)
    assert not chart.signalled and chart.first_signal is None
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.4, size=400)
    y = (rng.uniform(size=400) < p * 1.5).astype(float)
    whole = risk_adjusted_cusum(y, p, limit=3.0)
    first = risk_adjusted_cusum(y[:150], p[:150], limit=3.0)
    second = risk_adjusted_cusum(y[150:], p[150:], limit=3.0, start=first.end)
    assert np.concatenate([first.values, second.values]) == pytest.approx(whole.values)
    # the closed form equals the recursion S_t = max(0, S_{t-1} + W_t)
    s, recursion = 0.0, []
    for w in whole.weights:
        s = max(0.0, s + w)
        recursion.append(s)
    assert whole.values == pytest.approx(recursion, abs=1e-12)


def test_false_alarm_rate_near_its_target() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(1.5, 10.0, size=300)
    h = cusum_limit(p, odds_ratio=1.5, false_alarm_rate=0.05, n_sim=4000, random_state=2)
    assert h == cusum_limit(p, odds_ratio=1.5, false_alarm_rate=0.05, n_sim=4000, random_state=2)
    null = rng.uniform(size=(4000, p.size)) < p
    alarms = np.mean(
        [risk_adjusted_cusum(y.astype(float), p, odds_ratio=1.5, limit=h).signalled for y in null]
    )
    # binomial sd of the rate over 4000 streams is 0.0034; the limit's own noise about as much
    assert alarms == pytest.approx(0.05, abs=0.015)
    shifted = rng.uniform(size=(1000, p.size)) < np.minimum(1.0, 2.0 * p)
    power = np.mean(
        [
            risk_adjusted_cusum(y.astype(float), p, odds_ratio=1.5, limit=h).signalled
            for y in shifted
        ]
    )
    assert power > 0.5


def test_empty_stream_and_bad_input() -> None:
    empty = risk_adjusted_cusum([], [], limit=1.0)
    assert empty.to_dict()["n"] == 0 and empty.end == 0.0 and not empty.signalled
    assert cusum_limit([], odds_ratio=1.5, false_alarm_rate=0.01) == 0.0
    with pytest.raises(DataError) as ratio:
        risk_adjusted_cusum([1], [0.5], odds_ratio=1.0, limit=1.0)
    assert str(ratio.value) == ODDS_RATIO_MSG.format(value=1.0)
    with pytest.raises(DataError) as limit:
        risk_adjusted_cusum([1], [0.5], limit=-1.0)
    assert str(limit.value) == LIMIT_MSG.format(value=-1.0)
    with pytest.raises(DataError) as n_sim:
        cusum_limit([0.5], odds_ratio=1.5, false_alarm_rate=0.01, n_sim=10)
    assert str(n_sim.value) == N_SIM_MSG.format(value=10)
    with pytest.raises(DataError, match="false_alarm_rate"):
        cusum_limit([0.5], odds_ratio=1.5, false_alarm_rate=1.5)
    with pytest.raises(DataError, match="y_true must contain only 0"):
        risk_adjusted_cusum([2], [0.5], limit=1.0)


def test_simulated_maxima_equal_the_recursion_on_the_same_draws() -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(0.01, 0.6, size=300)
    draws = np.random.default_rng(5).random((60, p.size), dtype=np.float32) < p.astype(np.float32)
    expected = []
    for y in draws:
        s = best = 0.0
        for w in y * np.log(1.5) - np.log1p(0.5 * p):
            s = max(0.0, s + w)
            best = max(best, s)
        expected.append(best)
    assert _simulated_maxima(p, 1.5, 60, 5) == pytest.approx(expected, abs=1e-9)
