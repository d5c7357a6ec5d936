"""Pydantic models of an experiment config (one YAML per experiment).

Unknown keys are refused (``extra="forbid"``) so a misspelt key never passes
silently; :mod:`clinai.config._load` adds a did-you-mean hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from clinai._utils._vocabulary import (
    COMPETING_FAIRNESS_METRICS,
    FAIRNESS_METRICS,
    FAIRNESS_RATIO_METRICS,
    SURVIVAL_FAIRNESS_METRICS,
    MitigationConstraint,
    MitigationObjective,
)
from clinai.config._economics import EconomicsConfig
from clinai.config._metric_names import (
    COMPETING_METRIC_TREE,
    SURVIVAL_METRIC_TREE,
    metric_path_problem,
)
from clinai.config._monitoring import MonitoringConfig
from clinai.config._outcome import OutcomeConfig

__all__ = [
    "AcceptanceCriterion",
    "CalibrationConfig",
    "DataConfig",
    "EvaluationConfig",
    "ExperimentConfig",
    "MitigationConfig",
    "SampleSizeConfig",
    "SourceConfig",
    "SplitConfig",
    "TrackingConfig",
    "TuningConfig",
    "ValidationConfig",
]


Language = Literal["en", "da"]
DEFAULT_LANGUAGES: tuple[Language, ...] = ("en", "da")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """Where the raw data come from.

    ``type: bundled`` names a dataset shipped inside a PyPI package (see
    ``clinai datasets``); ``csv`` and ``parquet`` read a local file;
    ``pipeline`` asks the use case's own ``load(**options)`` for the data (for
    sources that need more than one table, e.g. minute-level vital signs turned
    into one row per prediction time), passing ``options`` as keyword arguments.

    A relative ``path`` is read from the config file's folder (not the current
    folder), so a config and its data can move together; :func:`load_config`
    resolves it, and :attr:`file` is the file to read. ``path`` itself stays as
    written, so the config's hash does not depend on where the checkout lies.
    """

    type: Literal["bundled", "csv", "parquet", "pipeline"] = "bundled"
    name: str | None = None
    path: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    # Set by load_config: the absolute data file (``path`` against the config's folder).
    _file: Path | None = PrivateAttr(default=None)

    @property
    def file(self) -> Path | None:
        """The data file to read: ``path`` resolved by :func:`load_config`, else as written."""
        if self._file is not None:
            return self._file
        return None if self.path is None else Path(self.path)

    @model_validator(mode="after")
    def _name_or_path(self) -> SourceConfig:
        if self.type == "bundled" and not self.name:
            raise ValueError("a bundled source needs 'name' (list them with `clinai datasets`)")
        if self.type in ("csv", "parquet") and not self.path:
            raise ValueError(f"a {self.type} source needs 'path'")
        if self.options and self.type != "pipeline":
            raise ValueError("'options' is only read for a source of type 'pipeline'")
        return self


class DataConfig(_Strict):
    """Data source and identifiers.

    ``phi_columns`` names columns of the raw data whose values identify a person
    (names, dates of birth, addresses). They must not be features; at the end of
    every run clinai checks that none of their raw values, nor a raw
    ``patient_id``, appears in any output, and fails the run if one does.
    """

    source: SourceConfig
    patient_id: str | None = None
    require_pseudonymisation: bool = False
    phi_columns: list[str] = Field(default_factory=list)


SPLIT_NEEDS_TIME_COLUMN = (
    "split.method 'temporal' needs split.time_column: the column of the data that holds "
    "each admission's time"
)
SPLIT_NEEDS_SITE_COLUMN = (
    "split.method 'site' needs split.site_column: the column of the data that holds each "
    "admission's site"
)
SPLIT_NEEDS_TEST_SITES = (
    "split.method 'site' needs split.test_sites: the list of sites held out for testing"
)

DUPLICATE_MODELS_MSG = (
    "models lists {names} more than once: name each model family once (each is tuned, "
    "and the best one selected)"
)

MONITORING_SUBGROUPS_MSG = (
    "subgroups {missing} are not in evaluation.sensitive_attributes ({available}): only those "
    "attributes are kept with the data; add them there or remove them from monitoring.subgroups"
)

SPLIT_NONE_NEEDS_OPTIMISM = (
    "split.method 'none' keeps no test split, so performance must come from internal "
    "validation: set validation.method: optimism (or choose another split.method)"
)


class SplitConfig(_Strict):
    """How the held-out test split is drawn.

    ``stratified`` keeps the outcome prevalence; ``grouped`` keeps every row of
    a patient on one side (needs ``data.patient_id``). ``temporal`` (temporal
    validation) trains on earlier admissions and tests on the latest
    ``test_size`` fraction by ``time_column``, ties at the cut going to the test
    side. ``site`` (external validation by site) tests on the rows of
    ``test_sites`` in ``site_column`` and trains on the other sites
    (``test_size`` is not used). ``none`` sets no patient aside: the model is
    built on all the data and validated by Harrell's bootstrap optimism
    correction (needs ``validation.method: optimism``), which suits a cohort of a
    few hundred patients better than a small, noisy test split.
    ``time_column`` and ``site_column`` name
    columns of the data (the cohort the pipeline's ``exclusions()`` leaves),
    not features.
    """

    method: Literal["stratified", "grouped", "temporal", "site", "none"] = "stratified"
    test_size: float = Field(0.3, gt=0.0, lt=1.0)
    time_column: str | None = None
    site_column: str | None = None
    test_sites: list[str | int] | None = None

    @model_validator(mode="after")
    def _method_needs(self) -> SplitConfig:
        if self.method == "temporal" and not self.time_column:
            raise ValueError(SPLIT_NEEDS_TIME_COLUMN)
        if self.method == "site" and not self.site_column:
            raise ValueError(SPLIT_NEEDS_SITE_COLUMN)
        if self.method == "site" and not self.test_sites:
            raise ValueError(SPLIT_NEEDS_TEST_SITES)
        return self


class TuningConfig(_Strict):
    """Optuna budget and cross-validation inside the training split.

    ``n_trials`` is the budget: the same data, config and seed give the same trials and
    the same model on any machine. ``timeout_s`` (seconds per model family, default an
    hour) is only a safety stop against a runaway study; when it fires, the study ends
    short of ``n_trials``, ``training.json`` records it per family (``timeout_fired``,
    ``n_trials_completed``) and the validation report says so.
    """

    n_trials: int = Field(20, ge=1)
    timeout_s: float = Field(3600.0, gt=0)
    cv_folds: int = Field(5, ge=2, le=20)
    metric: Literal["roc_auc", "neg_log_loss", "neg_brier_score", "average_precision"] = "roc_auc"
    storage: str = "sqlite:///optuna.db"
    n_jobs: int = Field(1, ge=1)


class CalibrationConfig(_Strict):
    """Post-hoc calibration of the selected model (cross-validated).

    ``ensemble: false`` (default) learns one map from all out-of-fold predictions and
    applies it to the model refitted on every row. ``ensemble: true`` keeps the ``cv``
    fold models, each with the map learnt on its own held-out fold, and averages their
    probabilities: on very small cohorts a weakly penalised refit on all rows is more
    extreme than the fold models its map was learnt from, and the pairing avoids that.
    """

    method: Literal["isotonic", "sigmoid", "none"] = "sigmoid"
    cv: int = Field(5, ge=2, le=20)
    ensemble: bool = False


class TrainingConfig(_Strict):
    """How the train stage builds the model beyond tuning and calibration.

    ``small_data: auto`` (default) computes Riley et al.'s minimum sample size before
    tuning and, when the training data fall short, records the cross-validated shrinkage
    of a post-hoc calibrated model, or shrinks an uncalibrated model's logit by its
    bootstrap shrinkage factor (intercept re-estimated) so the expected calibration slope
    is near 1 (:mod:`clinai.runs._small_data`); ``off`` only records the criteria in
    ``training.json``.
    ``shrinkage_bootstrap`` replicates estimate the factor (each refits the selected
    model with its calibration; the factor's standard error is about 0.05 at 20).
    """

    small_data: Literal["auto", "off"] = "auto"
    shrinkage_bootstrap: int = Field(20, ge=5, le=1000)

    @field_validator("small_data", mode="before")
    @classmethod
    def _unquoted_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted ``off`` as False.
        return "off" if value is False else value


def _either_kind_problem(metric: str, statistic: str) -> str | None:
    """Why ``metric`` names no value of a binary or a survival run (None when one has it).

    Where only the survival names hold a near match (``harel_c``), that outcome's
    message (and its "did you mean") is the one shown.
    """
    binary = metric_path_problem(metric, statistic)
    survival = metric_path_problem(metric, statistic, SURVIVAL_METRIC_TREE)
    competing = metric_path_problem(metric, statistic, COMPETING_METRIC_TREE)
    if binary is None or survival is None or competing is None:
        return None
    unknown_to_binary = "does not exist" in binary and "did you mean" not in binary
    if unknown_to_binary and "did you mean" in survival:
        return survival.replace("metrics.json", "survival_metrics.json (outcome.type: survival)")
    if unknown_to_binary and "did you mean" in competing:  # wolber_c
        return competing.replace("metrics.json", "survival_metrics.json (competing risks)")
    return binary


class AcceptanceCriterion(_Strict):
    """One pre-registered acceptance criterion.

    ``metric`` is a dotted path into ``metrics.json`` (for example ``auroc`` or
    ``calibration.slope``); ``statistic`` picks the estimate or a CI bound.
    (Not ``on``: YAML 1.1 reads an unquoted ``on`` key as ``True``.)
    """

    name: str
    metric: str
    statistic: Literal["estimate", "ci_low", "ci_high"] = "estimate"
    min: float | None = None
    max: float | None = None

    @field_validator("metric")
    @classmethod
    def _metric_exists(cls, value: str, info: ValidationInfo) -> str:
        # A typo in a pre-registered plan is refused now, not judged "not applicable" later.
        # A survival name passes here; ExperimentConfig checks it against the outcome type.
        problem = _either_kind_problem(value, "estimate")
        if problem is not None:
            raise ValueError(f"criterion {info.data.get('name')!r}: {problem}")
        return value

    @model_validator(mode="after")
    def _has_bound(self) -> AcceptanceCriterion:
        if self.min is None and self.max is None:
            raise ValueError(f"criterion {self.name!r} needs 'min' or 'max'")
        problem = _either_kind_problem(self.metric, self.statistic)
        if problem is not None:
            raise ValueError(f"criterion {self.name!r}: {problem}")
        return self


class SampleSizeConfig(_Strict):
    """Anticipated values for Riley et al.'s minimum sample size (binary outcome).

    Give the anticipated Cox-Snell R² (``r2_cs``) or C-statistic (``c_statistic``);
    ``prevalence`` defaults to the training split's. The number of candidate
    parameters is counted from the fitted preprocessing (one-hot columns included).
    """

    r2_cs: float | None = Field(None, gt=0.0, lt=1.0)
    c_statistic: float | None = Field(None, gt=0.5, lt=1.0)
    prevalence: float | None = Field(None, gt=0.0, lt=1.0)
    shrinkage: float = Field(0.9, gt=0.0, lt=1.0)
    delta_r2: float = Field(0.05, gt=0.0, lt=1.0)
    margin: float = Field(0.05, gt=0.0, lt=1.0)
    mape: float | None = Field(None, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _one_anticipated_fit(self) -> SampleSizeConfig:
        if (self.r2_cs is None) == (self.c_statistic is None):
            raise ValueError("give exactly one of 'r2_cs' and 'c_statistic'")
        return self


# FAIRNESS_METRICS and FAIRNESS_RATIO_METRICS (binary runs) are clinai._utils._vocabulary's.
# So are SURVIVAL_FAIRNESS_METRICS and COMPETING_FAIRNESS_METRICS (time-to-event runs).
SURVIVAL_FAIRNESS_RATIO_METRICS = ("oe_ratio",)
OUTCOME_METRIC_MSG = "acceptance criterion {name!r} (outcome.type: {kind}): {problem}"
FAIRNESS_PATH_MSG = (
    "acceptance criterion {name!r}: metric {metric!r} is not a fairness result; use "
    "fairness.<table>.<metric>.difference or .ratio with <table> one of {tables} and <metric> "
    "one of {metrics} (ratio only for {ratio_metrics})"
)
INTERSECTION_ATTRIBUTES_MSG = (
    "intersection {pair!r} must name two different attributes of "
    "evaluation.sensitive_attributes ({available})"
)
MITIGATION_ATTRIBUTE_MSG = (
    "mitigation.attribute {attribute!r} is not in evaluation.sensitive_attributes ({available})"
)


class MitigationConfig(_Strict):
    """Optional post-processing mitigation, reported beside the model and never applied to it.

    ``threshold_optimizer``: fairlearn's ThresholdOptimizer learns group-specific
    thresholds for ``attribute`` on the training split's out-of-fold predictions
    (never the test split) so that ``constraint`` holds while ``objective`` is
    maximised; both rules are then compared on the test split.
    """

    method: Literal["threshold_optimizer"] = "threshold_optimizer"
    attribute: str
    constraint: MitigationConstraint = "equalized_odds"
    objective: MitigationObjective = "balanced_accuracy_score"
    cv: int = Field(5, ge=2, le=20)


class EvaluationConfig(_Strict):
    """The validation plan for the held-out split.

    ``operating_threshold``: the risk threshold of the subgroup and fairness
    metrics (sensitivity, specificity, net benefit) and of the card's natural
    frequencies; default the first of ``thresholds``. ``intersections``: pairs
    of ``sensitive_attributes`` crossed into one fairness table each (e.g.
    ``[[sex, age_band]]``, table ``sex_x_age_band``). ``mitigation``: optional
    post-processing mitigation (off by default), reported side by side.

    ``compare_with_registered``: when the tracking registry already holds a
    version of this model (alias ``approved``, else ``candidate``), score the
    same test patients with it and compare (paired bootstrap differences and
    DeLong's test), so a new version is judged against the one in use.
    """

    n_boot: int = Field(200, ge=1)  # 0 would leave every interval empty
    ci_level: float = Field(0.95, gt=0.5, lt=1.0)
    thresholds: list[float] = Field(default_factory=lambda: [0.1, 0.2, 0.3])
    decision_curve: tuple[float, float, float] = (0.01, 0.5, 0.01)
    min_cell: int = Field(5, ge=1)
    sensitive_attributes: list[str] = Field(default_factory=list)
    operating_threshold: float | None = Field(None, gt=0.0, lt=1.0)
    intersections: list[tuple[str, str]] = Field(default_factory=list)
    mitigation: MitigationConfig | None = None
    shap_background: int = Field(100, ge=10)
    shap_max_rows: int = Field(500, ge=10)
    acceptance: list[AcceptanceCriterion] = Field(default_factory=list)
    sample_size: SampleSizeConfig | None = None
    target_sensitivities: list[float] = Field(default_factory=list)
    compare_with_registered: bool = True

    @property
    def resolved_operating_threshold(self) -> float:
        """The operating threshold: as given, else the first of ``thresholds`` (else 0.5)."""
        if self.operating_threshold is not None:
            return self.operating_threshold
        return self.thresholds[0] if self.thresholds else 0.5

    @field_validator("intersections")
    @classmethod
    def _intersections_named(
        cls, value: list[tuple[str, str]], info: ValidationInfo
    ) -> list[tuple[str, str]]:
        attributes = info.data.get("sensitive_attributes", [])
        for pair in value:
            if pair[0] == pair[1] or any(a not in attributes for a in pair):
                raise ValueError(
                    INTERSECTION_ATTRIBUTES_MSG.format(
                        pair=list(pair), available=", ".join(attributes) or "none"
                    )
                )
        return value

    @field_validator("mitigation")
    @classmethod
    def _mitigation_attribute(
        cls, value: MitigationConfig | None, info: ValidationInfo
    ) -> MitigationConfig | None:
        attributes = info.data.get("sensitive_attributes", [])
        if value is not None and value.attribute not in attributes:
            raise ValueError(
                MITIGATION_ATTRIBUTE_MSG.format(
                    attribute=value.attribute, available=", ".join(attributes) or "none"
                )
            )
        return value

    @field_validator("acceptance")
    @classmethod
    def _fairness_paths(
        cls, value: list[AcceptanceCriterion], info: ValidationInfo
    ) -> list[AcceptanceCriterion]:
        pairs = info.data.get("intersections", [])
        tables = [*info.data.get("sensitive_attributes", []), *("_x_".join(p) for p in pairs)]
        for criterion in value:
            parts = criterion.metric.split(".")
            if parts[0] != "fairness":
                continue
            # a survival run's table; ExperimentConfig checks the outcome type
            if (
                len(parts) == 4
                and parts[1] in tables
                and parts[2] in (*SURVIVAL_FAIRNESS_METRICS, *COMPETING_FAIRNESS_METRICS)
                and (parts[3] == "difference" or parts[2] in SURVIVAL_FAIRNESS_RATIO_METRICS)
            ):
                continue
            summary_ok = len(parts) == 4 and (
                parts[3] == "difference"
                or (parts[3] == "ratio" and parts[2] in FAIRNESS_RATIO_METRICS)
            )
            ok = (
                len(parts) >= 3
                and parts[1] in tables
                and (parts[2] == "groups" or (parts[2] in FAIRNESS_METRICS and summary_ok))
            )
            if not ok:
                raise ValueError(
                    FAIRNESS_PATH_MSG.format(
                        name=criterion.name,
                        metric=criterion.metric,
                        tables=", ".join(tables) or "none (set sensitive_attributes)",
                        metrics=", ".join(FAIRNESS_METRICS),
                        ratio_metrics=", ".join(FAIRNESS_RATIO_METRICS),
                    )
                )
        return value

    @field_validator("thresholds", "target_sensitivities")
    @classmethod
    def _thresholds_in_unit_interval(cls, value: list[float]) -> list[float]:
        bad = [t for t in value if not 0.0 < t < 1.0]
        if bad:
            raise ValueError(f"thresholds must lie strictly between 0 and 1; got {bad}")
        return value

    @field_validator("decision_curve")
    @classmethod
    def _curve_range(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        low, high, step = value
        if not (0.0 < low < high < 1.0 and step > 0):
            raise ValueError("decision_curve must be [low, high, step] with 0 < low < high < 1")
        return value


class ValidationConfig(_Strict):
    """How performance is validated: on a held-out split, or also by optimism correction.

    ``holdout`` (the default) validates the model on the held-out test split
    only. ``optimism`` adds Harrell's bootstrap optimism correction: the whole
    model-building procedure (tuning, selection and calibration) is repeated on
    ``n_replicates`` bootstrap samples of the development data, and the mean
    optimism (performance on the bootstrap sample minus performance on the
    original data) is subtracted from the apparent performance. It costs
    ``n_replicates`` extra model builds; small data sets gain most.
    """

    method: Literal["holdout", "optimism"] = "holdout"
    n_replicates: int = Field(50, ge=1)


class TrackingConfig(_Strict):
    """MLflow tracking. The embedded default is a SQLite file in the working directory."""

    uri: str = "sqlite:///mlruns.db"
    enabled: bool = True
    register_model: bool = True
    model_name: str | None = None


class ExperimentConfig(_Strict):
    """One experiment: a use case, its data, models, tuning budget and validation plan."""

    # a folder name under output_dir: not '.' or '..' (a path out of it)
    experiment: str = Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
    pipeline: str
    description: str = ""
    data: DataConfig
    # None: a binary outcome (left out of the resolved config, so binary hashes are unchanged)
    outcome: OutcomeConfig | None = None
    split: SplitConfig = SplitConfig()
    models: list[str] = Field(default_factory=lambda: ["logistic", "lightgbm"], min_length=1)
    tuning: TuningConfig = TuningConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    training: TrainingConfig = TrainingConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    validation: ValidationConfig = ValidationConfig()
    monitoring: MonitoringConfig | None = None
    economics: EconomicsConfig | None = None
    tracking: TrackingConfig = TrackingConfig()
    languages: list[Language] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    seed: int = 42
    output_dir: str = "runs"

    @field_validator("models")
    @classmethod
    def _models_once(cls, value: list[str]) -> list[str]:
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(DUPLICATE_MODELS_MSG.format(names=", ".join(repeated)))
        return value

    @field_validator("monitoring")
    @classmethod
    def _subgroups_sensitive(
        cls, value: MonitoringConfig | None, info: ValidationInfo
    ) -> MonitoringConfig | None:
        # Only the sensitive attributes are kept with the data, so only they can be watched.
        evaluation = info.data.get("evaluation")
        available = evaluation.sensitive_attributes if evaluation is not None else []
        missing = [name for name in (value.subgroups if value else []) if name not in available]
        if missing:
            raise ValueError(
                MONITORING_SUBGROUPS_MSG.format(
                    missing=", ".join(missing), available=", ".join(available) or "none"
                )
            )
        return value

    @model_serializer(mode="wrap")
    def _without_default_outcome(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        plain = handler(self)
        if self.outcome is None:
            plain.pop("outcome", None)
        return plain

    @property
    def is_survival(self) -> bool:
        """Whether the config asks for a time-to-event outcome (``outcome.type: survival``)."""
        return self.outcome is not None and self.outcome.is_survival

    @model_validator(mode="after")
    def _criteria_of_the_outcome(self) -> ExperimentConfig:
        # Each criterion names a value of the outcome type's metrics (binary or survival).
        survival = self.is_survival
        competing = survival and bool(self.outcome and self.outcome.codes.competing)
        for criterion in self.evaluation.acceptance:
            parts = criterion.metric.split(".")
            if parts[0] == "fairness":
                own = SURVIVAL_FAIRNESS_METRICS if survival else FAIRNESS_METRICS
                own = COMPETING_FAIRNESS_METRICS if competing else own
                problem = None
                if parts[2] not in (*own, "groups"):
                    problem = f"metric {criterion.metric!r}: {parts[2]!r} is not one of {own}"
            elif survival:
                tree = COMPETING_METRIC_TREE if competing else SURVIVAL_METRIC_TREE
                problem = metric_path_problem(criterion.metric, criterion.statistic, tree)
                problem = problem and problem.replace("metrics.json", "survival_metrics.json")
            else:
                problem = metric_path_problem(criterion.metric, criterion.statistic)
            if problem is not None:
                kind = "survival" if survival else "binary"
                kind = "survival, competing risks" if competing else kind
                raise ValueError(
                    OUTCOME_METRIC_MSG.format(name=criterion.name, kind=kind, problem=problem)
                )
        return self

    @model_validator(mode="after")
    def _no_split_needs_optimism(self) -> ExperimentConfig:
        if self.split.method == "none" and self.validation.method != "optimism":
            raise ValueError(SPLIT_NONE_NEEDS_OPTIMISM)
        return self
