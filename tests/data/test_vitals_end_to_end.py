"""Generator -> window features -> NEWS2 on a small seeded SYNTHETIC cohort, end to end.

Outcome: an event (ICU transfer, cardiac arrest, death) within 24 h after an hourly
prediction time. NEWS2 is scored from the last value of each parameter before the
prediction time; the model is a cross-validated (grouped by stay) logistic regression
on the last values and the 6 h window statistics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from clinai.data import generate_ward_stays, news2, window_features


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    result = generate_ward_stays(200, seed=2026, out_dir=out, minutes_per_row=5, event_rate=0.3)
    stays = pd.read_parquet(result.stays_path)
    # hourly predictions from the second hour of each stay until it ends
    rows = []
    for stay in stays.itertuples(index=False):
        first = stay.admission_time.ceil("h") + pd.Timedelta(hours=1)
        for when in pd.date_range(first, stay.end_time, freq="h", inclusive="left"):
            rows.append((stay.stay_id, when))
    preds = pd.DataFrame(rows, columns=["stay_id", "prediction_time"])
    preds = preds.merge(stays[["stay_id", "event_time", "hypercapnic"]], on="stay_id")
    ahead = preds["event_time"] - preds["prediction_time"]
    preds["y"] = (ahead > pd.Timedelta(0)) & (ahead <= pd.Timedelta(hours=24))
    features = window_features(result.vitals_path, preds[["stay_id", "prediction_time"]])
    return preds, features


def test_every_prediction_time_gets_features(cohort) -> None:
    preds, features = cohort
    assert len(features) == len(preds) > 5000
    assert features["any_vitals_before"].all()
    assert 0.02 < preds["y"].mean() < 0.3


@pytest.mark.slow
def test_news2_discriminates_and_the_features_carry_more(cohort) -> None:
    preds, features = cohort
    last = features[[c for c in features if c.endswith("_last")]]
    observations = last.rename(columns=lambda c: c.removesuffix("_last"))
    observations["spo2_scale"] = np.where(preds["hypercapnic"], 2, 1)
    scored = news2(observations, spo2_scale="column")
    complete = scored["news2"].notna().to_numpy()
    assert complete.mean() > 0.95
    y = preds["y"].to_numpy()
    news2_auroc = roc_auc_score(y[complete], scored["news2"].to_numpy()[complete])
    assert news2_auroc > 0.6

    columns = [c for c in features if c.endswith("_last") or "_6h_" in c]
    x = features[columns].astype(float).dropna(axis=1, how="all")
    x = x.fillna(x.median()).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    p = cross_val_predict(
        model, x, y, cv=GroupKFold(5), groups=preds["stay_id"], method="predict_proba"
    )[:, 1]
    model_auroc = roc_auc_score(y[complete], p[complete])
    assert model_auroc > news2_auroc
