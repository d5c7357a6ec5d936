"""A trial whose fit fails is skipped; tuning fails only when no trial can be fitted.

Before, the first failing fit ended tuning: a survival use case on flchain failed with
``ArithmeticError: weights are too large`` at one small penalty of a 3-trial study.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from clinai.exceptions import DataError, ModelError
from clinai.models import TrialRecord, TuningResult
from clinai.models._study import run_study


def _study(
    tmp_path: Path,
    fails: Callable[[int], bool],
    *,
    n_trials: int,
    error: Exception | None = None,
) -> tuple[TuningResult, list[TrialRecord]]:
    """Run a real SQLite-stored study whose trial ``k`` raises when ``fails(k)``."""
    records: list[TrialRecord] = []

    def objective(trial: optuna.Trial) -> float:
        c = trial.suggest_float("C", 1e-3, 1e3, log=True)
        if fails(trial.number):
            raise error or ArithmeticError("weights are too large\n(details on line two)")
        trial.set_user_attr("cv_se", 0.01)
        return 0.7 + c * 1e-6

    result = run_study(
        objective,
        name="logistic",
        scoring="roc_auc",
        study_name="failing",
        storage=f"sqlite:///{tmp_path / 'optuna.db'}",
        n_trials=n_trials,
        timeout_s=600,
        random_state=0,
        budget_lock=None,
        on_trial=records.append,
    )
    return result, records


def test_failed_trials_are_skipped_and_the_budget_is_still_met(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clinai.models._study"):
        result, records = _study(tmp_path, lambda k: k in (1, 3), n_trials=4)
    assert result.n_trials == 4 == result.n_trials_requested
    assert [r.state for r in records] == ["COMPLETE", "FAIL"] * 2 + ["COMPLETE"] * 2
    assert [r.state for r in result.trials].count("FAIL") == 2
    assert records[1].score is None and records[1].params  # its parameters are kept
    assert not result.timeout_fired
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("trial 1 failed (ArithmeticError: weights are too large)" in w for w in warnings)
    assert any("2 trial(s) of study failing failed" in w and "4 of 4" in w for w in warnings)
    assert not any("line two" in w for w in warnings)  # one line per error
    stored = optuna.load_study(study_name="failing", storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    assert stored.trials[1].user_attrs["clinai_error"] == ("ArithmeticError: weights are too large")


def test_a_study_stops_after_as_many_failures_as_trials_asked(tmp_path: Path) -> None:
    result, records = _study(tmp_path, lambda k: k > 0, n_trials=3)
    assert result.n_trials == 1 < result.n_trials_requested == 3
    assert [r.state for r in records] == ["COMPLETE"] + ["FAIL"] * 3


@pytest.mark.parametrize(("n_trials", "attempts"), [(2, 2), (50, 5)])
def test_a_study_none_of_whose_trials_can_be_fitted_fails_in_one_line(
    tmp_path: Path, n_trials: int, attempts: int
) -> None:
    records: list[TrialRecord] = []
    with pytest.raises(ModelError) as caught:
        records = _study(tmp_path, lambda k: records.append(k) or True, n_trials=n_trials)[1]
    message = str(caught.value)
    assert message.startswith("tuning model 'logistic' failed in study 'failing': ")
    assert f"{attempts} trial(s) failed and none completed" in message
    assert "the first: ArithmeticError: weights are too large." in message
    assert "\n" not in message
    assert len(records) == attempts  # at most 5 fits when the data, not the parameters, fail


def test_an_input_error_of_clinai_ends_tuning_at_once(tmp_path: Path) -> None:
    attempts: list[int] = []
    error = DataError("column 'age' holds text: convert it to numbers")
    with pytest.raises(ModelError, match="column 'age' holds text"):
        _study(tmp_path, lambda k: attempts.append(k) or True, n_trials=5, error=error)
    assert attempts == [0]
