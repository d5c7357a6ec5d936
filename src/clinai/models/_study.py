"""An Optuna study of one model family: opened or resumed, its trials run, its result read.

The study machinery of both tuners (binary, :mod:`clinai.models._tuning`; survival,
:mod:`clinai.models._survival_tuning`), which differ only in their objective: a stored
study must have been made for the same family and scoring; workers share its trial
budget under a lock; trials of dead workers are failed; a trial whose fit fails is
skipped; the family default is kept unless a trial beats it by a standard error.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from clinai.exceptions import ClinaiError, ModelError
from clinai.models._registry import get_default_params

if TYPE_CHECKING:
    import optuna

__all__ = ["TrialRecord", "TuningResult", "run_study", "study_result", "suggest_params"]

logger = logging.getLogger(__name__)

#: Trial user attributes set by clinai.
_ATTR_PARAMS = "clinai_model_params"
_ATTR_WORKER = "clinai_worker"
_ATTR_DEFAULT = "clinai_default"
_ATTR_ERROR = "clinai_error"
#: Failed trials, none complete, after which a study gives up: a fit that fails this
#: often at different parameters fails because of the data, not the parameters.
_FAILURES_WITHOUT_COMPLETE = 5
#: A RUNNING trial without a worker mark is stale after this many seconds. Trials are
#: marked in the same locked step that creates them, so only a process killed between
#: the two writes leaves one unmarked (seen once in CI: the resumed run then waited 600 s).
_UNMARKED_STALE_S = 60.0
#: Seconds between looks at the study while other workers finish the last trials.
_POLL_S = 0.25

STUDY_MISMATCH_MSG = (
    "study '{study}' in {storage} was made for {key}={old!r}, not {new!r}: "
    "use another study_name or the same {key}"
)
STUDY_FAILED_MSG = "tuning model '{name}' failed in study '{study}': {error}"
#: The error of :data:`STUDY_FAILED_MSG` when no trial could be fitted.
ALL_TRIALS_FAILED_MSG = (
    "{n} trial(s) failed and none completed; the first: {error}. Check the data the "
    "model is fitted on (e.g. extreme or constant features, too few events)"
)
#: Logged (WARNING) when one trial's fit fails: its parameters are skipped.
TRIAL_FAILED_MSG = "tuning study %s: trial %s failed (%s); its parameters are skipped"
#: Logged (WARNING) by the result of a study in which some trials failed.
FAILED_TRIALS_MSG = (
    "tuning %s: %s trial(s) of study %s failed and were skipped (the first: %s); "
    "%s of %s trials completed"
)
NO_COMPLETE_MSG = (
    "study '{study}' has no completed trial within tuning.timeout_s={timeout}: raise the timeout"
)
#: Logged (WARNING) when the safety timeout ends a study before ``n_trials``.
TIMEOUT_FIRED_MSG = (
    "tuning %s: the safety timeout tuning.timeout_s=%s stopped study %s after %s of %s trials; "
    "the model now depends on this machine's speed: raise tuning.timeout_s for a reproducible run"
)


@dataclass(frozen=True)
class TrialRecord:
    """One finished Optuna trial, for logging (nested MLflow runs, progress bars).

    Attributes
    ----------
    number : int
        Trial number within the study (0-based, unique, increasing).
    params : dict
        Keyword arguments for :func:`get_model` that the trial evaluated.
    score : float or None
        Mean cross-validated score (higher is better); None unless complete.
    state : str
        Optuna trial state: ``"COMPLETE"``, ``"FAIL"``, ``"PRUNED"`` or ``"RUNNING"``.
    duration_s : float or None
        Wall-clock seconds of the trial; None if unknown.
    """

    number: int
    params: dict[str, Any]
    score: float | None
    state: str
    duration_s: float | None


@dataclass(frozen=True)
class TuningResult:
    """The outcome of :func:`tune_model`.

    Attributes
    ----------
    model_name : str
        Model family that was tuned.
    best_params : dict
        Keyword arguments for :func:`get_model` of the best trial.
    best_score : float
        Its mean cross-validated score (scikit-learn sign: higher is better).
    n_trials : int
        Completed trials in the study, including those of earlier runs.
    trials : list of TrialRecord
        Every trial of the study, in order of ``number``.
    study_name : str
        Optuna study name.
    storage : str or None
        Optuna storage URL (None: in memory).
    best_score_se : float or None
        Standard error of the best trial's mean score over the folds
        (fold SD / sqrt(folds)); None for trials from before it was recorded.
    timeout_fired : bool
        Whether the safety timeout (``timeout_s``) ended the study before it held
        ``n_trials_requested`` complete trials. Only then does the result depend
        on the machine's speed.
    n_trials_requested : int or None
        The ``n_trials`` the study was asked for.
    """

    model_name: str
    best_params: dict[str, Any]
    best_score: float
    n_trials: int
    trials: list[TrialRecord]
    study_name: str
    storage: str | None
    best_score_se: float | None = None
    timeout_fired: bool = False
    n_trials_requested: int | None = None


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    """Tuples become lists, NumPy scalars Python scalars (as an RDB storage returns them)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def suggest_params(
    trial: optuna.Trial, space: Callable[[optuna.Trial], dict[str, Any]]
) -> dict[str, Any]:
    """Return a trial's parameters from ``space``, as JSON values, recorded on the trial.

    The record (a user attribute) keeps the parameters a family's search space
    derives, which ``trial.params`` (the raw suggestions) may not hold.
    """
    params = _jsonable(space(trial))
    trial.set_user_attr(_ATTR_PARAMS, params)
    return params


def _record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    value = trial.value if trial.state.name == "COMPLETE" else None
    return TrialRecord(
        number=trial.number,
        params=dict(trial.user_attrs.get(_ATTR_PARAMS, trial.params)),
        score=None if value is None else float(value),
        state=trial.state.name,
        duration_s=duration,
    )


def _worker_id() -> list[Any]:
    return [socket.gethostname(), os.getpid()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether a RUNNING trial was left behind by a process that no longer runs.

    Trials of live processes (on this host: their pid exists) or of other
    hosts are left alone, so several workers can share one study.
    """
    worker = trial.user_attrs.get(_ATTR_WORKER)
    if worker is None:
        start = trial.datetime_start
        if start is None:
            return True
        age = (datetime.now() - start).total_seconds()
        return age > _UNMARKED_STALE_S
    host, pid = worker
    if host != socket.gethostname():
        return False
    if int(pid) == os.getpid():
        return True
    return not _pid_alive(int(pid))


def _fail_stale_trials(study: optuna.Study) -> int:
    import optuna

    stale = [
        t
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if _is_stale(t)
    ]
    for trial in stale:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
    if stale:
        logger.warning(
            "marked %s stale RUNNING trial(s) of study %s as FAIL (left by a stopped process)",
            len(stale),
            study.study_name,
        )
    return len(stale)


def _trial_seed(random_state: int, number: int) -> int:
    """Sampler seed of trial ``number``: a function of the seed and the trial number only.

    Workers sharing a study therefore never draw the same random parameters, and
    one worker draws the same ones on every rerun.
    """
    return int(np.random.SeedSequence([int(random_state) % 2**32, number]).generate_state(1)[0])


def _run_trials(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    *,
    n_trials: int,
    timeout_s: float,
    random_state: int,
    budget_lock: Callable[[], AbstractContextManager[Any]],
    on_finished: Callable[[optuna.trial.FrozenTrial], None],
) -> bool:
    """Run trials until the study holds ``n_trials`` complete ones (all workers together).

    Under ``budget_lock`` a worker counts the complete and the running trials and
    creates the next trial only if their sum is below the budget, so the total is
    exact however many workers share the study. When the rest of the budget is
    running elsewhere it waits: a trial that fails, or whose process died, frees
    its place again.

    ``timeout_s`` is a safety stop, not a budget: it is checked between trials and
    ends the study once at least one trial is complete (a study without one has
    no model), or when this worker is only waiting for other workers' trials.
    Returns whether it fired, i.e. this call ended short of ``n_trials``.

    A trial whose fit raises (e.g. a penalised Cox model that does not converge at
    a small penalty) is marked failed, with its error, and tuning goes on with
    other parameters. This worker stops after ``n_trials`` failures, or after
    :data:`_FAILURES_WITHOUT_COMPLETE` while no trial is complete; with no complete
    trial it raises. An error of clinai's own (bad input) ends tuning at once.
    """
    import optuna

    state = optuna.trial.TrialState
    deadline = time.monotonic() + float(timeout_s)
    errors: list[str] = []
    while True:
        with budget_lock():
            _fail_stale_trials(study)
            # One read: with two, a trial finishing in between would be counted in neither.
            states = [t.state for t in study.get_trials(deepcopy=False)]
            complete = states.count(state.COMPLETE)
            if complete >= n_trials:
                return False
            if len(errors) >= n_trials or (
                not complete and len(errors) >= _FAILURES_WITHOUT_COMPLETE
            ):
                if not complete:
                    raise _TrialsFailed(
                        ALL_TRIALS_FAILED_MSG.format(n=len(errors), error=errors[0])
                    )
                return False
            over = time.monotonic() >= deadline
            if over and complete >= 1:
                return True
            # A WAITING (enqueued) trial is not running: ask() hands it out first.
            running = states.count(state.RUNNING)
            trial = study.ask() if complete + running < n_trials else None
            if trial is not None:
                # marked at once, so a process killed now leaves a trial that is known to be
                # its own (found stale by its pid), not an unmarked one waiting for the clock
                trial.set_user_attr(_ATTR_WORKER, _worker_id())
        if trial is None:
            if over:  # still waiting for other workers' trials: stop waiting
                return True
            time.sleep(_POLL_S)
            continue
        # Only parameter suggestions use the sampler, and they come after ask().
        study.sampler = optuna.samplers.TPESampler(seed=_trial_seed(random_state, trial.number))
        try:
            value = objective(trial)
        except ClinaiError:
            study.tell(trial, state=state.FAIL, skip_if_finished=True)
            raise
        except Exception as exc:  # a fit that fails at these parameters
            errors.append(_error_text(exc))
            trial.set_user_attr(_ATTR_ERROR, errors[-1])
            logger.warning(TRIAL_FAILED_MSG, study.study_name, trial.number, errors[-1])
            on_finished(study.tell(trial, state=state.FAIL, skip_if_finished=True))
            continue
        except BaseException:
            study.tell(trial, state=state.FAIL, skip_if_finished=True)
            raise
        on_finished(study.tell(trial, value))


class _TrialsFailed(RuntimeError):
    """No trial of a study could be fitted (its message names the first error)."""


def _error_text(exc: Exception) -> str:
    """One short line naming an exception: its type and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _check_study_attr(study: optuna.Study, storage: str | None, key: str, value: str) -> None:
    old = study.user_attrs.get(f"clinai_{key}")
    if old is None:
        study.set_user_attr(f"clinai_{key}", value)
    elif old != value:
        raise ModelError(
            STUDY_MISMATCH_MSG.format(
                study=study.study_name, storage=storage, key=key, old=old, new=value
            )
        )


def _keep_default_unless_beaten(
    best: optuna.trial.FrozenTrial, completed: Sequence[optuna.trial.FrozenTrial]
) -> optuna.trial.FrozenTrial:
    """Return the default trial if the best trial beats it by no more than one standard error.

    The best of many noisy CV scores is optimistic (the winner's curse); on a few hundred
    patients a tuned penalty often does worse on new patients than a sound default (measured
    on icu_mortality: tuned C 0.760 against C = 1 0.775 out of fold). The default, tried first,
    is therefore kept unless a trial beats it by more than the best trial's standard error, as
    in the one-standard-error rule (Hastie, Tibshirani & Friedman 2009, sec. 7.10).
    """
    default = next((t for t in completed if t.user_attrs.get(_ATTR_DEFAULT)), None)
    se = best.user_attrs.get("cv_se")
    if default is None or se is None or default.value is None or best.value is None:
        return best
    return default if default.value >= best.value - float(se) else best


def run_study(
    objective: Callable[[optuna.Trial], float],
    *,
    name: str,
    scoring: str,
    study_name: str,
    storage: str | None,
    n_trials: int,
    timeout_s: float,
    random_state: int,
    budget_lock: Callable[[], AbstractContextManager[Any]] | None,
    on_trial: Callable[[TrialRecord], None] | None,
) -> TuningResult:
    """Open or resume a study, run the trials its budget leaves, and return its result.

    The study machinery of both tuners (binary and survival): a stored study must
    have been made for the same family and scoring; stale trials of dead workers
    fail; the family default is the first trial of a new study; a trial whose fit
    fails is marked failed and skipped, and tuning ends with one :class:`ModelError`
    line only when no trial can be fitted. ``objective`` returns a trial's
    mean cross-validated score and records its parameters and standard error.
    """
    import optuna

    lock = budget_lock or nullcontext
    previous_verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        sampler = optuna.samplers.TPESampler(seed=random_state)
        with lock():
            try:
                study = optuna.create_study(
                    storage=storage,
                    study_name=study_name,
                    direction="maximize",
                    sampler=sampler,
                    load_if_exists=True,
                )
            except ValueError as exc:
                raise ModelError(
                    STUDY_FAILED_MSG.format(name=name, study=study_name, error=exc)
                ) from exc
            _check_study_attr(study, storage, "model", name)
            _check_study_attr(study, storage, "scoring", scoring)
            _fail_stale_trials(study)
            default = get_default_params(name)
            if default and not study.get_trials(deepcopy=False):
                study.enqueue_trial(default, user_attrs={_ATTR_DEFAULT: True})

        def finished(trial: optuna.trial.FrozenTrial) -> None:
            if on_trial is not None:
                on_trial(_record(trial))

        complete = optuna.trial.TrialState.COMPLETE
        n_done = len(study.get_trials(deepcopy=False, states=(complete,)))
        remaining = int(n_trials) - n_done
        timeout_fired = False
        if remaining > 0:
            logger.info(
                "tuning %s: %s of %s trials done in study %s; running up to %s more",
                name,
                n_done,
                n_trials,
                study_name,
                remaining,
            )
            try:
                timeout_fired = _run_trials(
                    study,
                    objective,
                    n_trials=int(n_trials),
                    timeout_s=float(timeout_s),
                    random_state=random_state,
                    budget_lock=lock,
                    on_finished=finished,
                )
            except ModelError:
                raise
            except Exception as exc:
                raise ModelError(
                    STUDY_FAILED_MSG.format(name=name, study=study_name, error=exc)
                ) from exc
        else:
            logger.info(
                "tuning %s: study %s already has %s completed trials", name, study_name, n_done
            )

        return study_result(
            study, name=name, storage=storage, n_trials=n_trials, timeout_s=timeout_s,
            timeout_fired=timeout_fired,
        )  # fmt: skip
    finally:
        optuna.logging.set_verbosity(previous_verbosity)


def study_result(
    study: optuna.Study,
    *,
    name: str,
    storage: str | None,
    n_trials: int,
    timeout_s: float,
    timeout_fired: bool,
) -> TuningResult:
    """Return the :class:`TuningResult` of a finished study (binary and survival tuners).

    The best trial, or the family default unless beaten by one standard error; a
    warning when the safety timeout fired; :class:`ModelError` when no trial completed.
    """
    trials = study.get_trials(deepcopy=False)
    completed = [t for t in trials if t.state.name == "COMPLETE"]
    if not completed:
        raise ModelError(NO_COMPLETE_MSG.format(study=study.study_name, timeout=timeout_s))
    if timeout_fired:
        logger.warning(
            TIMEOUT_FIRED_MSG, name, timeout_s, study.study_name, len(completed), int(n_trials)
        )
    failed = [t.user_attrs[_ATTR_ERROR] for t in trials if _ATTR_ERROR in t.user_attrs]
    if failed:
        logger.warning(
            FAILED_TRIALS_MSG, name, len(failed), study.study_name, failed[0],
            len(completed), int(n_trials),
        )  # fmt: skip
    best = _keep_default_unless_beaten(study.best_trial, completed)
    return TuningResult(
        model_name=name,
        best_params=dict(best.user_attrs.get(_ATTR_PARAMS, best.params)),
        best_score=float(best.value),  # type: ignore[arg-type]
        n_trials=len(completed),
        trials=[_record(t) for t in sorted(trials, key=lambda t: t.number)],
        study_name=study.study_name,
        storage=storage,
        best_score_se=best.user_attrs.get("cv_se"),
        timeout_fired=timeout_fired,
        n_trials_requested=int(n_trials),
    )
