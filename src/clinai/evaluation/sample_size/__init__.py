"""Sample size: for developing a model (Riley et al.) and for validating it (Pavlou et al.).

Riley et al.'s minimum sample size for developing a prediction model and its
assessment; the patients a precise external validation needs.
"""

from __future__ import annotations

from clinai.evaluation.sample_size._assessment import SampleSizeAssessment, assess_sample_size
from clinai.evaluation.sample_size._sample_size import (
    SampleSizeCriterion,
    SampleSizeResult,
    cox_snell_r2_from_c_statistic,
    max_cox_snell_r2,
    riley_sample_size,
)
from clinai.evaluation.sample_size._survival_sample_size import (
    max_cox_snell_r2_survival,
    riley_sample_size_survival,
)
from clinai.evaluation.sample_size._validation_sample_size import (
    ValidationSampleSize,
    validation_sample_size,
)

__all__ = [
    "SampleSizeAssessment",
    "SampleSizeCriterion",
    "SampleSizeResult",
    "ValidationSampleSize",
    "assess_sample_size",
    "cox_snell_r2_from_c_statistic",
    "max_cox_snell_r2",
    "max_cox_snell_r2_survival",
    "riley_sample_size",
    "riley_sample_size_survival",
    "validation_sample_size",
]
