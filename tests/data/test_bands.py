"""Age bands and the sensitive-attribute table the bundled pipelines share."""

from __future__ import annotations

import pandas as pd

from clinai.data import age_band, attribute_frame


def test_attribute_frame_reads_missing_values_as_unknown_text_on_the_cohort_index() -> None:
    cohort = pd.DataFrame({"sex": [1, 0, None], "age": [50.0, None, 80.0]}, index=[7, 8, 9])
    table = attribute_frame(
        cohort, sex=cohort["sex"].map({1: "male", 0: "female"}), age_band=age_band(cohort["age"])
    )
    expected = pd.DataFrame(
        {"sex": ["male", "female", "unknown"], "age_band": ["<60", "unknown", ">=75"]},
        index=[7, 8, 9],
    )
    pd.testing.assert_frame_equal(table, expected)


def test_attribute_frame_writes_codes_as_text() -> None:
    cohort = pd.DataFrame({"ward": [3, 4]})
    assert attribute_frame(cohort, ward=cohort["ward"])["ward"].tolist() == ["3", "4"]
