"""The CUSUM on hourly prediction times: one row per patient keeps its false-alarm rate."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from clinai.evaluation.monitoring import cusum_limit, first_row_per_patient, risk_adjusted_cusum
from clinai.evaluation.monitoring._control import ROWS_MSG
from clinai.exceptions import DataError
from clinai.runs._monitor_document import _one_row_per_patient

HOURS = 24


def test_first_row_per_patient_takes_the_earliest_time_then_position() -> None:
    ids = np.array(["b", "a", "b", "a", "c", "c"])
    times = np.array([5, 2, 1, 2, 7, 7])
    assert first_row_per_patient(ids, times).tolist() == [1, 2, 4]
    assert first_row_per_patient(ids).tolist() == [0, 1, 4]
    assert first_row_per_patient([], []).size == 0
    with pytest.raises(DataError) as bad:
        first_row_per_patient([1, 2], [1])
    assert str(bad.value) == ROWS_MSG.format(ids=(2,), times=(1,))


def _alarm_rates(n_streams: int) -> tuple[float, float]:
    """False-alarm rates of the per-row and the per-patient chart when the model is right.

    150 patients a stream, each with 24 hourly rows of one risk; a patient's event
    (drawn once, with that risk) marks all 24 rows, as an event within 24 h does for
    hourly prediction times. Each chart's limit is simulated for a 5 % false-alarm rate
    over the rows it charts.
    """
    rng = np.random.default_rng(11)
    p_patient = rng.beta(1.2, 12.0, size=150)
    p_rows = np.repeat(p_patient, HOURS)
    patients = np.repeat(np.arange(p_patient.size), HOURS)
    first = first_row_per_patient(patients, np.tile(np.arange(HOURS), p_patient.size))
    assert np.array_equal(p_rows[first], p_patient)
    h_rows = cusum_limit(p_rows, odds_ratio=1.5, false_alarm_rate=0.05, n_sim=1000, random_state=3)
    h_first = cusum_limit(
        p_patient, odds_ratio=1.5, false_alarm_rate=0.05, n_sim=1000, random_state=3
    )
    per_row = per_patient = 0
    for _ in range(n_streams):
        y_rows = np.repeat(rng.uniform(size=p_patient.size) < p_patient, HOURS).astype(float)
        per_row += risk_adjusted_cusum(y_rows, p_rows, odds_ratio=1.5, limit=h_rows).signalled
        chart = risk_adjusted_cusum(y_rows[first], p_rows[first], odds_ratio=1.5, limit=h_first)
        per_patient += chart.signalled
    return per_row / n_streams, per_patient / n_streams


def test_per_patient_chart_keeps_its_false_alarm_rate_where_the_per_row_chart_does_not() -> None:
    per_row, per_patient = _alarm_rates(1000)
    # binomial sd of a 5 % rate over 1000 streams is 0.007; the limit's own noise about as much
    assert per_patient == pytest.approx(0.05, abs=0.025)
    assert per_row > 0.3


def test_monitor_charts_each_patients_first_prediction_time_of_the_period() -> None:
    # the monitor's stream (duck-typed: the columns _one_row_per_patient reads)
    stream = SimpleNamespace(
        patient=np.array([0, 0, 1, -1, 1, -1, 2]),
        time=np.array([10, 9, 4, 1, 3, 2, 8]),
    )
    index = np.array([6, 5, 4, 3, 2, 1, 0])  # a period's rows, in any order
    assert _one_row_per_patient(stream, index).tolist() == [6, 5, 4, 3, 1]
    single = SimpleNamespace(patient=np.array([3, 1, 2]), time=np.array([1, 2, 3]))
    assert _one_row_per_patient(single, np.array([2, 0, 1])).tolist() == [2, 0, 1]
