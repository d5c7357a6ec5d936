"""The survival outcome a pipeline's ``outcome()`` returns: checked, then time and event (0/1).

Called by the prepare stage's ``load_cohort`` for ``outcome.type: survival``; kept apart
from ``_survival_run.py`` so that the prepare stage does not import the survival stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig

__all__ = ["COMPETING_CODE", "check_split_follow_up", "competing_event_code", "survival_outcome"]

#: The code of a competing event in a prepared split's event code column (the event is 1).
COMPETING_CODE = 2

OUTCOME_COLUMNS = (
    "outcome() of pipeline {pipeline!r} must return a frame with columns 'time' and 'event' "
    "for outcome.type: survival; got {got}"
)
OUTCOME_LENGTH = (
    "outcome() of pipeline {pipeline!r} returned {got} rows for {expected} cohort rows: "
    "return one time and event per row"
)
TIME_BAD = (
    "outcome 'time' of pipeline {pipeline!r} has {count} missing, negative or non-numeric "
    "value(s): every patient needs a follow-up time >= 0 from the time origin"
)
ALL_AT_ZERO = (
    "outcome 'time' of pipeline {pipeline!r} is 0 for every patient: nobody was followed "
    "after time zero; check the time unit and origin"
)
EVENT_MISSING = (
    "outcome 'event' of pipeline {pipeline!r} has {count} missing or non-numeric value(s): "
    "every patient needs an event code (censored {censored}, event {event}{competing})"
)
EVENT_CODE = (
    "outcome 'event' of pipeline {pipeline!r} holds {values}, not in outcome.event_codes "
    "(censored {censored}, event {event}{competing}): recode the column or set "
    "outcome.event_codes"
)
SWAPPED = (
    "outcome 'time' of pipeline {pipeline!r} holds only event codes ({codes}) and 'event' has "
    "{distinct} distinct values: time and event look swapped in outcome(); return them the "
    "other way round"
)
HORIZON_BEYOND = (
    "outcome.horizons {horizon:g} is not before the last follow-up ({last:g}) of pipeline "
    "{pipeline!r}: choose horizons within follow-up"
)
NO_EVENTS = (
    "no events up to outcome.horizons {horizon:g} in pipeline {pipeline!r}: choose a later "
    "horizon or check the event coding"
)
SPLIT_HORIZON_BEYOND = (
    "outcome.horizons {horizon:g} is not before the last follow-up of the {split} split "
    "({last:g}) of pipeline {pipeline!r}: too few patients are followed past it; choose "
    "horizons well within follow-up"
)
SPLIT_NO_EVENTS = (
    "no events up to outcome.horizons {horizon:g} in the {split} split of pipeline "
    "{pipeline!r}: choose a later first horizon"
)


def survival_outcome(
    config: ExperimentConfig, outcome: Any, n_rows: int
) -> tuple[pd.Series, pd.Series]:
    """Check a pipeline's survival ``outcome()`` and return follow-up time and event (0/1).

    Parameters
    ----------
    config : ExperimentConfig
        A survival config (``outcome.event_codes``, ``outcome.horizons``).
    outcome : pandas.DataFrame
        What ``outcome()`` returned: columns ``time`` and ``event``, one row per cohort row.
    n_rows : int
        Rows of the cohort.

    Returns
    -------
    time : pandas.Series
        Follow-up, float, >= 0 (index reset).
    event : pandas.Series
        1 for the event, 0 censored (index reset).

    Raises
    ------
    DataError
        One line per problem: missing columns, wrong length, missing or negative
        times, missing or unknown event codes, time and event swapped, every time 0, a horizon
        beyond the last follow-up, no event before the first horizon.
    """
    assert config.outcome is not None  # a survival config
    pipeline = config.pipeline
    columns = list(getattr(outcome, "columns", []))
    if not {"time", "event"} <= set(columns):
        got = ", ".join(map(str, columns)) or type(outcome).__name__
        raise DataError(OUTCOME_COLUMNS.format(pipeline=pipeline, got=got))
    if len(outcome) != n_rows:
        raise DataError(OUTCOME_LENGTH.format(pipeline=pipeline, got=len(outcome), expected=n_rows))
    time = pd.to_numeric(outcome["time"], errors="coerce").to_numpy(dtype=float)
    event = pd.to_numeric(outcome["event"], errors="coerce").to_numpy(dtype=float)
    codes = config.outcome.codes
    allowed = (codes.censored, codes.event, *codes.competing)
    distinct = int(np.unique(event[np.isfinite(event)]).shape[0])
    # follow-up holding only event codes beside an event column of many values: swapped
    if np.isin(time, allowed).all() and distinct > len(allowed):
        shown = "/".join(map(str, allowed))
        raise DataError(SWAPPED.format(pipeline=pipeline, codes=shown, distinct=distinct))
    bad = ~np.isfinite(time) | (time < 0)
    if bad.any():
        raise DataError(TIME_BAD.format(pipeline=pipeline, count=int(bad.sum())))
    if (time == 0).all():
        raise DataError(ALL_AT_ZERO.format(pipeline=pipeline))
    named = {
        "pipeline": pipeline,
        "censored": codes.censored,
        "event": codes.event,
        "competing": f", competing {codes.competing}" if codes.competing else "",
    }
    missing = ~np.isfinite(event)
    if missing.any():
        raise DataError(EVENT_MISSING.format(count=int(missing.sum()), **named))
    wrong = ~np.isin(event, allowed)
    if wrong.any():
        shown = ", ".join(str(v) for v in pd.unique(outcome["event"][wrong])[:5])
        raise DataError(EVENT_CODE.format(values=shown, **named))
    hit = (event == codes.event).astype(np.int64)
    for horizon in config.outcome.horizons:
        if horizon >= time.max():
            raise DataError(
                HORIZON_BEYOND.format(horizon=horizon, last=time.max(), pipeline=pipeline)
            )
    first = config.outcome.horizons[0]
    if not (hit.astype(bool) & (time <= first)).any():
        raise DataError(NO_EVENTS.format(horizon=first, pipeline=pipeline))
    return pd.Series(time, name="time"), pd.Series(hit, name="event")


def check_split_follow_up(
    config: ExperimentConfig, time: Any, event: Any, splits: dict[str, Any]
) -> None:
    """Check that every split reaches past each horizon and has an event by the first.

    The whole cohort's follow-up is checked by :func:`survival_outcome`; a horizon
    just before its last follow-up can still lie beyond a split's, which the train
    stage would find only after tuning (the model cannot predict past its training
    follow-up) and the evaluate stage after training.

    Parameters
    ----------
    config : ExperimentConfig
        A survival config.
    time, event : array-like of shape (n,)
        Follow-up and event (0/1) of the cohort (what :func:`survival_outcome` returned).
    splits : dict of str to array-like
        Row positions of each split by name (``"training"``, ``"test"``); an empty
        split is skipped.

    Raises
    ------
    DataError
        One line naming ``outcome.horizons`` and the split.
    """
    assert config.outcome is not None  # a survival config
    time_arr = np.asarray(time, dtype=float)
    hit = np.asarray(event) == 1
    first = config.outcome.horizons[0]
    for split, rows in splits.items():
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            continue
        last = float(time_arr[rows].max())
        for horizon in config.outcome.horizons:
            if horizon >= last:
                raise DataError(
                    SPLIT_HORIZON_BEYOND.format(
                        horizon=horizon, split=split, last=last, pipeline=config.pipeline
                    )
                )
        if not (hit[rows] & (time_arr[rows] <= first)).any():
            raise DataError(
                SPLIT_NO_EVENTS.format(horizon=first, split=split, pipeline=config.pipeline)
            )


def competing_event_code(config: ExperimentConfig, outcome: Any) -> pd.Series | None:
    """Return 0 censored, 1 the event, :data:`COMPETING_CODE` a competing event; None without.

    ``outcome`` is what :func:`survival_outcome` checked (call it first); None when
    the config names no competing codes (``outcome.event_codes.competing``).
    """
    assert config.outcome is not None  # a survival config
    codes = config.outcome.codes
    if not codes.competing:
        return None
    event = pd.to_numeric(outcome["event"], errors="coerce").to_numpy(dtype=float)
    coded = np.where(event == codes.event, 1, 0)
    coded[np.isin(event, codes.competing)] = COMPETING_CODE
    return pd.Series(coded.astype(np.int64), name="event_code")
