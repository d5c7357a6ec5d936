"""The CUSUM's one row per patient and period, found by one stable sort of time-ordered rows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from clinai.evaluation.monitoring import first_row_per_patient
from clinai.runs._monitor_document import _one_row_per_patient


@pytest.mark.parametrize("ordered", [True, False])
def test_one_row_per_patient_equals_first_row_per_patient(ordered: bool) -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    patient = rng.integers(-1, 700, n)  # -1: no patient, always charted
    time = rng.integers(0, 400, n)  # many ties in time, within and across patients
    index = np.argsort(time, kind="stable") if ordered else rng.permutation(n)
    stream = SimpleNamespace(patient=patient, time=time)
    found = _one_row_per_patient(stream, index)  # type: ignore[arg-type]
    named = np.flatnonzero(patient[index] >= 0)
    keep = patient[index] < 0
    keep[named[first_row_per_patient(patient[index][named], time[index][named])]] = True
    assert found.tolist() == index[keep].tolist()
