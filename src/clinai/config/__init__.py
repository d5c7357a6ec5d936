"""The experiment config: pydantic models of the YAML, validated up front.

Every problem is collected and reported at once, each with its field path.
"""

from __future__ import annotations

from clinai.config._economics import EconomicParameterConfig, EconomicsConfig
from clinai.config._load import apply_overrides, load_config, load_plan, parse_config
from clinai.config._monitoring import (
    MONITORING_ACTIONS,
    MONITORING_METRICS,
    CusumConfig,
    MonitoringConfig,
    MonitoringLimit,
)
from clinai.config._outcome import EventCodes, OutcomeConfig
from clinai.config._schema import (
    AcceptanceCriterion,
    CalibrationConfig,
    DataConfig,
    EvaluationConfig,
    ExperimentConfig,
    SampleSizeConfig,
    SourceConfig,
    SplitConfig,
    TrackingConfig,
    TrainingConfig,
    TuningConfig,
    ValidationConfig,
)

__all__ = [
    "MONITORING_ACTIONS",
    "MONITORING_METRICS",
    "AcceptanceCriterion",
    "CalibrationConfig",
    "CusumConfig",
    "DataConfig",
    "EconomicParameterConfig",
    "EconomicsConfig",
    "EvaluationConfig",
    "EventCodes",
    "ExperimentConfig",
    "MonitoringConfig",
    "MonitoringLimit",
    "OutcomeConfig",
    "SampleSizeConfig",
    "SourceConfig",
    "SplitConfig",
    "TrackingConfig",
    "TrainingConfig",
    "TuningConfig",
    "ValidationConfig",
    "apply_overrides",
    "load_config",
    "load_plan",
    "parse_config",
]
