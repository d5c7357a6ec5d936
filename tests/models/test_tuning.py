"""tune_model: budget, resuming, stale trials, callbacks and errors."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clinai.exceptions import DataError, ModelError
from clinai.models import TrialRecord, TuningResult, get_model, get_model_names, tune_model
from clinai.models._study import STUDY_MISMATCH_MSG
from clinai.models._tuning import N_TRIALS_MSG, SCORING_MSG, TIMEOUT_MSG

from .conftest import CATEGORICAL, NUMERIC, make_data

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def small_data():
    return make_data(120, seed=2)


def _tune(data, storage, *, name="logistic", n_trials=2, study_name="s", **kwargs) -> TuningResult:
    X, y = data
    kwargs.setdefault("cv_folds", 3)
    kwargs.setdefault("timeout_s", 60)
    return tune_model(
        name,
        X,
        y,
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        n_jobs=1,
        **kwargs,
    )


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'optuna.db'}"


def test_respects_n_trials_and_calls_on_trial(small_data, tmp_path) -> None:
    seen: list[TrialRecord] = []
    result = _tune(small_data, _sqlite(tmp_path), n_trials=3, on_trial=seen.append)
    assert isinstance(result, TuningResult)
    assert result.model_name == "logistic"
    assert result.n_trials == 3
    assert [t.number for t in seen] == [0, 1, 2]
    assert [t.number for t in result.trials] == [0, 1, 2]
    assert all(t.state == "COMPLETE" and t.duration_s is not None for t in seen)
    assert all(0.5 < t.score <= 1.0 for t in seen)
    # C = 1 (scikit-learn's default) is tried first and kept unless beaten by > 1 SE.
    assert seen[0].params == {"C": 1.0}
    assert result.best_score in {t.score for t in seen}
    assert result.best_score == max(t.score for t in seen) or result.best_params == {"C": 1.0}
    assert set(result.best_params) == {"C"}
    assert result.study_name == "s"
    assert result.storage == _sqlite(tmp_path)
    get_model("logistic", numeric=NUMERIC, categorical=CATEGORICAL, **result.best_params)


def test_rerun_resumes_the_study(small_data, tmp_path) -> None:
    storage = _sqlite(tmp_path)
    first = _tune(small_data, storage, n_trials=2, study_name="resume")
    assert [t.number for t in first.trials] == [0, 1]

    seen: list[TrialRecord] = []
    second = _tune(small_data, storage, n_trials=4, study_name="resume", on_trial=seen.append)
    assert [t.number for t in seen] == [2, 3]
    assert second.n_trials == 4
    assert [t.number for t in second.trials] == [0, 1, 2, 3]
    assert second.trials[:2] == first.trials

    seen.clear()
    third = _tune(small_data, storage, n_trials=4, study_name="resume", on_trial=seen.append)
    assert seen == []
    assert third.n_trials == 4
    assert third.best_params == second.best_params


def test_stale_running_trial_is_failed_before_resuming(small_data, tmp_path) -> None:
    storage = _sqlite(tmp_path)
    _tune(small_data, storage, n_trials=1, study_name="stale")
    # a trial left RUNNING by a process that has exited
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    study = optuna.load_study(study_name="stale", storage=storage)
    trial = study.ask()
    trial.set_user_attr("clinai_worker", [socket.gethostname(), int(dead.stdout)])

    result = _tune(small_data, storage, n_trials=2, study_name="stale")
    states = [t.state for t in result.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE"]
    assert result.n_trials == 2


def test_unmarked_running_trial_is_failed_once_older_than_a_minute(
    small_data, tmp_path, monkeypatch
) -> None:
    from clinai.models import _study

    storage = _sqlite(tmp_path)
    _tune(small_data, storage, n_trials=1, study_name="unmarked")
    # a process killed between creating a trial and marking it as its own
    optuna.load_study(study_name="unmarked", storage=storage).ask()
    # younger than the limit: it may still be marked, so it counts toward the budget
    result = _tune(small_data, storage, n_trials=2, study_name="unmarked", timeout_s=1)
    assert [t.state for t in result.trials] == ["COMPLETE", "RUNNING"]
    monkeypatch.setattr(_study, "_UNMARKED_STALE_S", 0.0)
    result = _tune(small_data, storage, n_trials=2, study_name="unmarked")
    assert [t.state for t in result.trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    # every trial clinai starts carries its worker from the moment it exists
    study = optuna.load_study(study_name="unmarked", storage=storage)
    assert all("clinai_worker" in t.user_attrs for t in study.trials if t.state.name == "COMPLETE")


def test_running_trial_of_a_live_worker_is_left_alone(small_data, tmp_path) -> None:
    storage = _sqlite(tmp_path)
    _tune(small_data, storage, n_trials=1, study_name="live")
    study = optuna.load_study(study_name="live", storage=storage)
    trial = study.ask()
    trial.set_user_attr("clinai_worker", ["another-host.example", 1])
    # The live worker's trial counts toward the budget: nothing beyond it starts.
    result = _tune(small_data, storage, n_trials=2, study_name="live", timeout_s=1)
    assert [t.state for t in result.trials] == ["COMPLETE", "RUNNING"]
    study.tell(trial, 0.5)
    result = _tune(small_data, storage, n_trials=3, study_name="live")
    assert [t.state for t in result.trials] == ["COMPLETE", "COMPLETE", "COMPLETE"]


def test_study_of_another_model_is_refused(small_data, tmp_path) -> None:
    storage = _sqlite(tmp_path)
    _tune(small_data, storage, n_trials=1, study_name="mine")
    msg = STUDY_MISMATCH_MSG.format(
        study="mine", storage=storage, key="model", old="logistic", new="lightgbm"
    )
    with pytest.raises(ModelError, match=re.escape(msg)):
        _tune(small_data, storage, name="lightgbm", n_trials=1, study_name="mine")


@pytest.mark.parametrize("name", get_model_names())
def test_every_family_tunes(name, small_data) -> None:
    result = _tune(
        small_data,
        None,
        name=name,
        n_trials=2,
        study_name=f"{name}-mem",
        cv_folds=2,
        scoring="neg_log_loss",
    )
    assert result.n_trials == 2
    assert result.storage is None
    assert result.best_score < 0  # a negated log loss
    X, y = small_data
    pipe = get_model(name, numeric=NUMERIC, categorical=CATEGORICAL, **result.best_params)
    assert pipe.fit(X, y).predict_proba(X).shape == (len(X), 2)


def test_same_seed_same_trials(small_data) -> None:
    a = _tune(small_data, None, n_trials=3, study_name="a", random_state=5)
    b = _tune(small_data, None, n_trials=3, study_name="b", random_state=5)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.score for t in a.trials] == [t.score for t in b.trials]


def test_timeout_stops_tuning(small_data) -> None:
    X, y = small_data
    result = tune_model(
        "logistic",
        X,
        y,
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        n_trials=10_000,
        timeout_s=0.3,
        cv_folds=2,
        storage=None,
        study_name="t",
    )
    assert 1 <= result.n_trials < 10_000


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"n_trials": 0}, N_TRIALS_MSG.format(value=0)),
        ({"timeout_s": 0}, TIMEOUT_MSG.format(value=0)),
        ({"timeout_s": -1.0}, TIMEOUT_MSG.format(value=-1.0)),
        (
            {"scoring": "accuracy"},
            SCORING_MSG.format(
                choices="roc_auc, neg_log_loss, neg_brier_score, average_precision",
                value="accuracy",
            ),
        ),
        ({"cv_folds": 1}, "tuning.cv_folds must be an integer >= 2; got 1"),
    ],
)
def test_invalid_budget(small_data, kwargs, msg) -> None:
    X, y = small_data
    args = {"n_trials": 2, "timeout_s": 10.0, "storage": None, "study_name": "bad"} | kwargs
    with pytest.raises(ModelError, match=re.escape(msg)):
        tune_model("logistic", X, y, numeric=NUMERIC, categorical=CATEGORICAL, **args)


def _one_trial(name: str, X, y, *, study_name: str) -> TuningResult:
    """One in-memory trial: enough to reach the checks before any tuning work."""
    return tune_model(
        name,
        X,
        y,
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        n_trials=1,
        timeout_s=10,
        storage=None,
        study_name=study_name,
    )


def test_too_few_events_for_the_folds(small_data) -> None:
    X, _ = small_data
    y = np.zeros(len(X), dtype=int)
    y[:3] = 1
    with pytest.raises(ModelError, match=re.escape("at least tuning.cv_folds=5 rows each")):
        _one_trial("logistic", X, y, study_name="few")


def test_unknown_model_before_any_work(small_data) -> None:
    X, y = small_data
    with pytest.raises(ModelError, match=re.escape("unknown model 'xgb'")):
        _one_trial("xgb", X, y, study_name="x")


def test_missing_column_is_a_data_error(small_data) -> None:
    X, y = small_data
    with pytest.raises(DataError, match=re.escape("X lacks the feature column(s) lab_value")):
        _one_trial("logistic", X.drop(columns="lab_value"), y, study_name="cols")


def _trial(number: int, value: float, se: float, *, default: bool = False):
    import optuna

    attrs = {"cv_se": se, **({"clinai_default": True} if default else {})}
    trial = optuna.trial.create_trial(
        params={"C": 1.0 + number},
        distributions={"C": optuna.distributions.FloatDistribution(1e-3, 1e2, log=True)},
        value=value,
        user_attrs=attrs,
    )
    return trial


def test_default_kept_unless_beaten_by_more_than_one_standard_error() -> None:
    from clinai.models._study import _keep_default_unless_beaten

    default = _trial(0, -0.45, 0.03, default=True)
    close = _trial(1, -0.43, 0.02)  # better by 0.02 <= its SE 0.02: the default stays
    far = _trial(2, -0.40, 0.02)  # better by 0.05 > 0.02: the tuned trial wins
    assert _keep_default_unless_beaten(close, [default, close]) is default
    assert _keep_default_unless_beaten(far, [default, close, far]) is far
    assert _keep_default_unless_beaten(close, [close]) is close  # no default trial
