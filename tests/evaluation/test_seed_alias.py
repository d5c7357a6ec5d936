"""``seed`` is a deprecated alias of ``random_state`` in the three functions that took it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from clinai.evaluation import probabilistic_sensitivity
from clinai.evaluation._inputs import RENAMED_KEYWORD_BOTH_MSG, RENAMED_KEYWORD_MSG
from clinai.evaluation.monitoring import cusum_limit, estimated_performance

_RNG = np.random.default_rng(3)
P = _RNG.beta(2, 8, size=120)
Y = _RNG.binomial(1, P)
PSA = {
    "cost_alert": {"distribution": "gamma", "shape": 25, "scale": 100},
    "cost_outcome": 40_000,
    "relative_risk_reduction": {"distribution": "beta", "alpha": 20, "beta": 80},
    "qalys_lost_per_event": 0.3,
    "willingness_to_pay": 200_000,
}

# each function on small data, its seeded result as a comparable value
CALLS: dict[str, Callable[..., Any]] = {
    "estimated_performance": lambda **seed: estimated_performance(
        P, threshold=0.2, n_boot=20, **seed
    ).to_dict(),
    "cusum_limit": lambda **seed: cusum_limit(
        P, odds_ratio=1.5, false_alarm_rate=0.05, n_sim=100, **seed
    ),
    "probabilistic_sensitivity": lambda **seed: probabilistic_sensitivity(
        Y, P, [0.1, 0.2], PSA, n_draws=50, **seed
    ).to_dict(),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_seed_warns_and_gives_the_numbers_of_random_state(name: str) -> None:
    call = CALLS[name]
    expected = call(random_state=5)
    assert expected != call(random_state=0)  # the seed reaches the draws
    message = RENAMED_KEYWORD_MSG.format(
        function=name, old="seed", new="random_state", removed_in="0.3"
    )
    with pytest.warns(FutureWarning) as record:
        assert call(seed=5) == expected
    assert [str(w.message) for w in record] == [message]
    assert record[0].filename == __file__  # points at the caller, not at the wrapper
    assert "pass random_state=...; seed will be removed in clinai 0.3" in message


@pytest.mark.parametrize("name", sorted(CALLS))
def test_seed_and_random_state_together_raise(name: str) -> None:
    message = RENAMED_KEYWORD_BOTH_MSG.format(function=name, old="seed", new="random_state")
    with pytest.raises(TypeError) as raised:
        CALLS[name](seed=5, random_state=5)
    assert str(raised.value) == message
    assert "seed" in message and "random_state" in message
