"""``read_stream`` converts the light columns block by block: the arrays of a whole-stream pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clinai.runs import _monitor_inputs
from clinai.runs._monitor_inputs import NAT, read_stream


def _file(path: Path, n: int, seed: int, *, outcome: bool) -> pd.DataFrame:
    """Write one predictions file (ties, repeated patients, missing prediction times)."""
    rng = np.random.default_rng(seed)
    hours = np.sort(rng.integers(0, 24 * 90, n))  # about three months, many shared hours
    time = np.datetime64("2025-01-01T00:00", "us") + hours.astype("timedelta64[h]")
    frame = pd.DataFrame(
        {
            "patient_id": [f"p{k:03d}" for k in rng.integers(0, n // 3, n)],
            "prediction_time": pd.Series(time).where(rng.random(n) > 0.1),  # NaT: scored_at
            "risk": rng.random(n),
            "model_name": "m",
            "model_version": "1",
            "scored_at": pd.Timestamp("2025-04-02"),
            "group:sex": rng.choice(["f", "m"], n),
        }
    )
    if outcome:
        frame["outcome"] = rng.integers(0, 2, n).astype(np.int8)
    columns = {c: pa.array(frame[c]) for c in frame.columns}
    columns["prediction_time"] = pa.array(frame["prediction_time"], type=pa.timestamp("us"))
    columns["scored_at"] = pa.array(frame["scored_at"], type=pa.timestamp("us"))
    pq.write_table(pa.table(columns), path, row_group_size=n // 3)
    return frame


@pytest.mark.parametrize("period", ["month", "week"])
def test_blocks_of_three_rows_give_the_whole_stream_arrays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, period: str
) -> None:
    frames = [
        _file(tmp_path / "a.parquet", 61, 1, outcome=True),
        _file(tmp_path / "b.parquet", 47, 2, outcome=False),
    ]
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    whole = read_stream(paths, period=period, subgroups=["sex"])
    monkeypatch.setattr(_monitor_inputs, "_BLOCK", 3)
    blocks = read_stream(paths, period=period, subgroups=["sex"])
    for name in ("keep", "period", "time", "risk", "patient", "outcome", "offsets"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name), err_msg=name)
    assert blocks.periods == whole.periods and blocks.files == whole.files
    # and both are what the columns say: the scoring time where no prediction time
    both = pd.concat(frames, ignore_index=True)
    predicted = both["prediction_time"].to_numpy("datetime64[us]").view(np.int64)
    scored = both["scored_at"].to_numpy("datetime64[us]").view(np.int64)
    assert (predicted == NAT).any() and whole.duplicates > 0
    np.testing.assert_array_equal(whole.time, np.where(predicted == NAT, scored, predicted))
    np.testing.assert_array_equal(whole.risk, both["risk"].to_numpy())
    assert np.isnan(whole.outcome[61:]).all()
    np.testing.assert_array_equal(whole.outcome[:61], frames[0]["outcome"].to_numpy(float))
    assert whole.dictionary.to_pylist() == list(pd.unique(both["patient_id"]))
