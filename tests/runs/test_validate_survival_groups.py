"""`clinai validate --time ... --group` and a survival run: a patient identifier is never a group.

Found with flchain predictions of 60 patients whose ids are integers: ``--group patient_id``
(with or without ``--patient patient_id``) printed every patient's id in the report's subgroup
table, each row "suppressed (small group)"; suppression hides numbers, not labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.cli import main
from clinai.runs._prediction_columns import GROUP_IS_PATIENT, GROUP_LOOKS_LIKE_ID

N = 60
ARGS = ["--time", "days", "--event", "died", "--horizon", "365", "--score", "risk"]
#: The binary form printed the ids too (metrics.json and the report's subgroup table).
BINARY_ARGS = ["--outcome", "died", "--score", "risk"]


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    risk = rng.uniform(0.05, 0.6, N)
    frame = pd.DataFrame(
        {
            "patient_id": 5_550_000 + np.arange(N),  # integers, as a hospital system writes them
            "days": np.where(rng.uniform(size=N) < risk, rng.uniform(10, 360, N), 400.0),
            "risk": risk,
            "sex": rng.choice(["female", "male"], N),
        }
    )
    frame["died"] = (frame["days"] < 400).astype(int)
    path = tmp_path / "predictions.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--group", "patient_id"], GROUP_LOOKS_LIKE_ID.format(column="patient_id", single=N, n=N)),
        (
            ["--patient", "patient_id", "--group", "sex", "--group", "patient_id"],
            GROUP_IS_PATIENT.format(column="patient_id"),
        ),
        (["--group", "risk"], "column 'risk' (--group) has a value of its own in 60 of 60 rows"),
    ],
)
@pytest.mark.parametrize("form", [ARGS, BINARY_ARGS], ids=["survival", "binary"])
def test_an_identifier_as_group_stops_before_any_output(
    predictions: Path,
    form: list[str],
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = predictions.parent / "validation"
    assert main(["validate", str(predictions), *form, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_a_runs_sensitive_attribute_holding_pseudonyms_stops_the_evaluate_stage() -> None:
    # a pipeline returning the (pseudonymised) patient id as an attribute printed 600 HMAC
    # pseudonyms in the card's subgroup table of a flchain run
    from clinai.data import pseudonymise
    from clinai.exceptions import DataError
    from clinai.runs._survival_test_split import ATTRIBUTE_LOOKS_LIKE_ID, SurvivalTest

    ids = pd.Series((5_550_000 + np.arange(N)).astype(str))
    sensitive = pd.DataFrame(
        {"sex": np.where(np.arange(N) % 2, "male", "female"), "pid": pseudonymise(ids, key=b"k")}
    )
    rows = (pd.DataFrame(index=range(N)), np.ones(N), np.zeros(N, int), np.full(N, 0.2))
    with pytest.raises(DataError) as caught:
        SurvivalTest(*rows, sensitive, None)
    assert str(caught.value) == ATTRIBUTE_LOOKS_LIKE_ID.format(column="pid", single=N, n=N)
    assert SurvivalTest(*rows, sensitive[["sex"]], None).sensitive.shape == (N, 1)
