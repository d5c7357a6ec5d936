"""Clinical labels of generated window-feature names (issue 13, item 8b)."""

from __future__ import annotations

from clinai.data import CANONICAL_PARAMETERS, window_feature_labels, window_feature_names


def test_every_generated_window_feature_has_an_english_and_danish_label() -> None:
    names = window_feature_names(CANONICAL_PARAMETERS, ("1h", "6h", "24h", "30min"))
    labels = window_feature_labels(names)
    assert set(labels) == set(names)
    assert all(label["en"] and label["da"] for label in labels.values())
    # one name, one label: no two features read the same to a clinician
    assert len({label["en"] for label in labels.values()}) == len(names)
    assert len({label["da"] for label in labels.values()}) == len(names)


def test_labels_name_the_statistic_the_window_and_the_unit() -> None:
    labels = window_feature_labels(
        ["sbp_24h_min", "resp_rate_1h_count", "temperature_hours_since_last", "spo2__h0"]
    )
    assert labels["sbp_24h_min"] == {
        "en": "Systolic blood pressure, lowest in the last 24 h",
        "da": "Systolisk blodtryk, laveste de seneste 24 t",
        "unit": {"en": "mmHg", "da": "mmHg"},
    }
    assert "unit" not in labels["resp_rate_1h_count"]  # a count has no unit
    assert labels["temperature_hours_since_last"]["unit"] == {"en": "h", "da": "t"}
    assert (
        labels["spo2__h0"]["en"] == "Oxygen saturation (SpO2), mean in hour 1 before the prediction"
    )


def test_other_names_are_left_to_the_pipeline() -> None:
    assert (
        window_feature_labels(["age", "ward", "heart_rate_6h_median", "heart_rate_6x_mean"]) == {}
    )
