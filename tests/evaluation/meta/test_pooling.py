"""pool_metric: pooling on the metric's scale and the back-transforms for reading."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import special, stats

from clinai.evaluation import POOLING_SCALES, pool_metric, random_effects_meta
from clinai.evaluation.meta._pooling import UNKNOWN_METRIC_MSG
from clinai.exceptions import DataError

ESTIMATES = [1.10, 1.45, 0.95, 1.30, 1.60]
ERRORS = [0.10, 0.12, 0.09, 0.15, 0.11]
BACK = {"logit": special.expit, "log": np.exp, "identity": lambda x: x}


def test_pooling_scales_are_the_contract() -> None:
    assert dict(POOLING_SCALES) == {
        "auroc": "logit",
        "oe_ratio": "log",
        "calibration_intercept": "identity",
        "calibration_slope": "identity",
    }


@pytest.mark.parametrize("metric", sorted(POOLING_SCALES))
def test_back_transforms_estimate_intervals_and_sites(metric: str) -> None:
    labels = [f"hospital {c}" for c in "ABCDE"]
    pooled = pool_metric(metric, ESTIMATES, ERRORS, labels=labels, method="DL", ci="wald")
    analysis = random_effects_meta(
        ESTIMATES, np.square(ERRORS), method="DL", ci="wald", labels=labels
    )
    back = BACK[POOLING_SCALES[metric]]
    assert pooled.analysis == analysis
    assert (pooled.metric, pooled.scale) == (metric, POOLING_SCALES[metric])
    natural = (pooled.estimate, pooled.ci_low, pooled.ci_high, pooled.pi_low, pooled.pi_high)
    on_scale = (analysis.estimate, analysis.ci_low, analysis.ci_high)
    assert natural == pytest.approx(
        tuple(back(x) for x in (*on_scale, analysis.pi_low, analysis.pi_high)), rel=1e-12
    )
    z = stats.norm.ppf(0.975)
    for site, label, y, se, weight in zip(
        pooled.sites, labels, ESTIMATES, ERRORS, analysis.weights, strict=True
    ):
        assert site.label == label and site.weight == weight
        assert (site.estimate, site.ci_low, site.ci_high) == pytest.approx(
            (back(y), back(y - z * se), back(y + z * se)), rel=1e-12
        )
    assert sum(site.weight for site in pooled.sites) == pytest.approx(1.0)
    assert pooled.ci_low < pooled.estimate < pooled.ci_high


def test_auroc_stays_in_the_unit_interval() -> None:
    pooled = pool_metric("auroc", ESTIMATES, ERRORS)
    assert 0.5 < pooled.pi_low < pooled.ci_low < pooled.estimate < pooled.ci_high
    assert pooled.ci_high < pooled.pi_high < 1.0
    assert pooled.estimate == pytest.approx(special.expit(pooled.analysis.estimate))


def test_two_sites_and_to_dict() -> None:
    pooled = pool_metric("oe_ratio", [math.log(0.9), math.log(1.2)], [0.05, 0.08])
    assert (pooled.pi_low, pooled.pi_high) == (None, None)
    as_dict = pooled.to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert as_dict["analysis"]["k"] == 2 and as_dict["pi_low"] is None
    assert [site["label"] for site in as_dict["sites"]] == ["site 1", "site 2"]
    assert as_dict["sites"][0]["estimate"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("metric", "errors", "message"),
    [
        (
            "brier",
            ERRORS,
            UNKNOWN_METRIC_MSG.format(allowed=", ".join(POOLING_SCALES), value="brier"),
        ),
        ("auroc", [0.1, 0.0, 0.1, 0.1, 0.1], "standard_errors must be finite and greater than 0"),
        ("auroc", [0.1, 0.1], "estimates and standard_errors have different lengths (5 and 2)"),
    ],
)
def test_bad_input_is_one_line(metric: str, errors: list[float], message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as raised:
        pool_metric(metric, ESTIMATES, errors)
    assert "\n" not in str(raised.value)
