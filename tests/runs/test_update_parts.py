"""Parts of `clinai update`: the revision's risks and df per family, finding monitored files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clinai.config import parse_config
from clinai.runs import _update

from ..models.conftest import CATEGORICAL, NUMERIC, make_data

CONFIG = {
    "experiment": "x",
    "pipeline": "p",
    "data": {"source": {"type": "csv", "path": "x.csv"}},
    "calibration": {"method": "sigmoid", "cv": 3},
}
MANIFEST = {"features": {"numeric": NUMERIC, "categorical": CATEGORICAL}}


@pytest.mark.parametrize(
    ("family", "params"),
    [("logistic", {"C": 1.0}), ("lightgbm", {"n_estimators": 30, "num_leaves": 7})],
)
def test_revision_risks_and_df(family: str, params: dict[str, Any]) -> None:
    from clinai.models import get_model

    X, y = make_data(240, seed=4)
    groups = np.arange(240) // 2  # two rows per patient
    config = parse_config(CONFIG)
    training = {"selected": family, "best_params": params}
    model, risks, df = _update._revision(config, training, MANIFEST, X, y, groups)

    refit = get_model(family, numeric=NUMERIC, categorical=CATEGORICAL, random_state=42, **params)
    refit.fit(X, y)
    # df: the columns a logistic revision on the same inputs estimates, intercept included.
    assert df == refit.named_steps["preprocess"].transform(X.head(1)).shape[1] + 1
    in_sample = refit.predict_proba(X)[:, 1]
    if family == "logistic":  # the paper's revision: coefficients re-estimated, fitted risks
        assert risks == pytest.approx(in_sample, rel=1e-9)
    else:  # a flexible family's in-sample fit would win every test: out-of-fold risks
        assert np.max(np.abs(risks - in_sample)) > 0.05
    assert model.predict_proba(X).shape == (240, 2)  # the registered revision is calibrated


def test_monitored_files_are_found_by_name_and_checked_by_sha256(tmp_path: Path) -> None:
    from clinai._utils import sha256_file

    folder = tmp_path / "demo" / "monitoring"
    folder.mkdir(parents=True)
    (tmp_path / "demo" / "predictions").mkdir()
    stored = tmp_path / "demo" / "predictions" / "2025-01.parquet"
    stored.write_bytes(b"monitored")
    entry = {"file_name": stored.name, "sha256": sha256_file(stored)}
    assert _update._input_file(entry, folder, []) == stored  # beside the monitoring folder
    stored.write_bytes(b"edited since")
    changed = _update.PREDICTIONS_CHANGED.format(file=stored, path=folder / "monitoring.json")
    with pytest.raises(_update.UpdateError, match=re.escape(changed)):
        _update._input_file(entry, folder, [])
    gone = _update.PREDICTIONS_NOT_FOUND.format(
        name="other.parquet", path=folder / "monitoring.json"
    )
    with pytest.raises(_update.UpdateError, match=re.escape(gone)):
        _update._input_file({"file_name": "other.parquet"}, folder, [])
