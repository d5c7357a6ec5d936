"""The ``monitoring:`` section: validated up front, each problem with its field path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clinai.config import MONITORING_METRICS, MonitoringConfig, load_config, parse_config
from clinai.config._monitoring import monitoring_metric_problem
from clinai.exceptions import ConfigError

_BASE = {
    "experiment": "demo",
    "pipeline": "icu_mortality",
    "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
    "evaluation": {"sensitive_attributes": ["sex", "age_band"]},
}
_PLAN: dict[str, Any] = {
    "operating_threshold": 0.2,
    "subgroups": ["sex"],
    "limits": [{"metric": "oe_ratio", "min": 0.8, "max": 1.25, "action": "recalibrate"}],
    "cusum": {"odds_ratio": 1.5, "false_alarm_rate": 0.01},
}


def _parse(**changes: Any) -> MonitoringConfig:
    config = parse_config({**_BASE, "monitoring": {**_PLAN, **changes}})
    assert config.monitoring is not None
    return config.monitoring


def test_the_bundled_deterioration_plan_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    plan = load_config(root / "configs" / "acute_deterioration.yaml").monitoring
    assert plan is not None
    assert plan.operating_threshold == 0.2
    assert plan.subgroups == ["sex", "age_band", "ward"]
    assert {limit.action for limit in plan.limits} == {"investigate", "recalibrate", "suspend"}


def test_defaults_and_no_section() -> None:
    plan = _parse()
    assert (plan.period, plan.min_events, plan.n_boot) == ("month", 20, 200)
    assert parse_config(_BASE).monitoring is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"period": "day"}, "'monitoring.period': Input should be 'week' or 'month'"),
        ({"operating_threshold": 1.0}, "'monitoring.operating_threshold': Input should be less"),
        ({"operating_threshold": 0}, "'monitoring.operating_threshold': Input should be greater"),
        ({"min_events": 0}, "'monitoring.min_events': Input should be greater than or equal to 1"),
        ({"n_boot": -1}, "'monitoring.n_boot': Input should be greater than or equal to 0"),
        (
            {"subgroups": ["sex", "ward"]},
            "'monitoring': subgroups ward are not in evaluation.sensitive_attributes "
            "(sex, age_band)",
        ),
        (
            {"limits": [{"metric": "oe_ratoi", "max": 1.2}]},
            "'monitoring.limits.0.metric': metric 'oe_ratoi' is not a monitoring measurement "
            "(did you mean 'oe_ratio'?)",
        ),
        (
            {"limits": [{"metric": "calibration.slop", "max": 1.2}]},
            "(did you mean 'calibration.slope'?)",
        ),
        (
            {"limits": [{"metric": "psi.", "max": 0.2}]},
            "'monitoring.limits.0.metric': metric 'psi.' names no feature",
        ),
        (
            {"limits": [{"metric": "auroc", "statistic": "ci_lo", "min": 0.6}]},
            "'monitoring.limits.0.statistic': Input should be 'estimate', 'ci_low' or 'ci_high'",
        ),
        (
            {"limits": [{"metric": "psi.spo2", "statistic": "ci_high", "max": 0.2}]},
            "'monitoring.limits.0': metric 'psi.spo2' is a plain number without an interval",
        ),
        (
            {"limits": [{"metric": "auroc", "action": "recalibrate"}]},
            "'monitoring.limits.0': limit on 'auroc' needs 'min' or 'max' (or both)",
        ),
        (
            {"limits": [{"metric": "auroc", "min": 0.9, "max": 0.6}]},
            "'monitoring.limits.0': limit on 'auroc' has min 0.9 above max 0.6: swap them",
        ),
        (
            {"limits": [{"metric": "auroc", "min": 0.6, "action": "stop"}]},
            "'monitoring.limits.0.action': Input should be 'investigate', 'recalibrate' or "
            "'suspend'",
        ),
        ({"cusum": {"odds_ratio": 1.0, "limit": 4}}, "'monitoring.cusum.odds_ratio': Input"),
        (
            {"cusum": {"false_alarm_rate": 1.5}},
            "'monitoring.cusum.false_alarm_rate': Input should be less than 1",
        ),
        ({"cusum": {"limit": 0}}, "'monitoring.cusum.limit': Input should be greater than 0"),
        (
            {"cusum": {"limit": 4.5, "false_alarm_rate": 0.01}},
            "'monitoring.cusum': give either false_alarm_rate",
        ),
        ({"cusum": {"odds_ratio": 2}}, "or limit (a fixed limit h), not neither"),
        ({"cusm": {}}, "unknown key 'monitoring.cusm' (did you mean 'cusum'?)"),
    ],
)
def test_bad_plan_is_refused_with_its_field_path(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        _parse(**changes)


def test_operating_threshold_is_required() -> None:
    plan = {key: value for key, value in _PLAN.items() if key != "operating_threshold"}
    with pytest.raises(
        ConfigError, match=re.escape("'monitoring.operating_threshold' is required")
    ):
        parse_config({**_BASE, "monitoring": plan})


@pytest.mark.parametrize("metric", [*MONITORING_METRICS, "psi.spo2_last"])
def test_every_listed_metric_is_accepted(metric: str) -> None:
    assert monitoring_metric_problem(metric) is None
    limits = [{"metric": metric, "max": 0.5}]
    assert _parse(limits=limits).limits[0].metric == metric


def test_the_names_equal_evaluations() -> None:
    """Config cannot import evaluation, so its copy of the names is guarded here."""
    from clinai.config import MONITORING_ACTIONS
    from clinai.config._monitoring import FEATURE_PSI_PREFIX, PLAIN_MONITORING_METRICS
    from clinai.evaluation import monitoring

    assert set(MONITORING_METRICS) == set(monitoring.MONITORING_METRICS)
    assert MONITORING_ACTIONS == monitoring.MONITORING_ACTIONS
    assert PLAIN_MONITORING_METRICS == monitoring._verdict.DRIFT_METRICS
    assert FEATURE_PSI_PREFIX == monitoring._verdict.FEATURE_PSI_PREFIX
