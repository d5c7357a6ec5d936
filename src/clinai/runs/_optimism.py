"""Internal validation: Harrell's bootstrap optimism correction of apparent performance.

A model evaluated on the data it was built from looks better than it will on
new patients: its *apparent* performance is optimistic. Harrell's bootstrap
(Harrell, Lee & Mark, Stat Med 1996;15:361-87; Steyerberg, *Clinical
Prediction Models*, 2nd ed. 2019, ch. 5 and 17) estimates that optimism
without setting patients aside, which matters most for small data sets:

1. Build the model on all ``n`` rows of the development data and compute its
   apparent performance ``P_app`` on those same rows.
2. For each replicate ``b = 1..B``: draw a bootstrap sample of ``n`` rows with
   replacement (of patients, with every row of each drawn patient, when
   ``groups`` is given); build a model on it with the *whole* procedure
   (tuning, model selection and calibration included, so the optimism of
   those choices is counted too), its cross-validation folds grouped by the
   resampled unit; compute its performance ``P_boot,b`` on the
   bootstrap sample and ``P_orig,b`` on the original data; the replicate's
   optimism is ``O_b = P_boot,b - P_orig,b``.
3. The optimism is the mean ``O = mean_b O_b`` and the optimism-corrected
   performance is ``P_app - O``.

The same formula is used for every metric, whatever its direction: for the
AUROC the optimism is usually positive (corrected < apparent), for the Brier
score usually negative (corrected > apparent), and the corrected calibration
slope estimates the shrinkage a new population would show.

A bootstrap sample with only one outcome class cannot be built on or scored;
such a replicate is skipped and counted (``n_skipped``), not redrawn. A metric
that is undefined on a replicate (NaN, e.g. the calibration slope when the
predictions separate the classes perfectly) leaves that replicate out of that
metric only; each metric reports how many replicates it used. The replicates
left out this way are typically the most overfitted ones, so a metric that used
markedly fewer replicates than ``n_done`` understates its optimism: show the
count beside the value.

Determinism: replicate ``b`` uses the ``b``-th child of
``numpy.random.SeedSequence(random_state).spawn(n_replicates)``; a
``numpy.random.default_rng`` on that child first draws the ``n_units``
resampled unit positions (``rng.integers(0, n_units, n_units)``) and then
the replicate's build seed (``rng.integers(0, 2**31 - 1)``). The same seed
gives the same numbers, and raising ``n_replicates`` keeps the first
replicates unchanged. The apparent model is built with ``random_state``
itself, the seed the train stage uses.

Folds inside a replicate. A procedure that tunes by cross-validation would,
on a bootstrap sample, put the copies of a patient (or row) drawn twice on
both sides of a fold: the held-out fold then holds rows the model was fitted
on, which favours flexible models and inflates the optimism. ``build``
therefore receives, with every sample, the unit each row was drawn from (the
original patient, or the original row when every row is its own unit), and
clinai's procedure keeps each unit in one fold, as the train stage keeps a
patient's rows together (:func:`clinai.models.tune_model`'s ``groups``). The
apparent model gets the train stage's grouping (the patients, or none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai import data, evaluation
from clinai.exceptions import ClinaiError, ConfigError, DataError

if TYPE_CHECKING:
    from clinai.config import ExperimentConfig
    from clinai.runs._rundir import RunDir

__all__ = [
    "DEFAULT_METRICS",
    "IN_MEMORY_STORAGE",
    "apply_optimism_correction",
    "build_with_config",
    "internal_validation",
    "optimism_corrected_performance",
]

logger = logging.getLogger(__name__)

Metric = Callable[[np.ndarray, np.ndarray], float]
#: ``build(X, y, seed, groups)``: ``groups`` (or None) holds the fold unit of each row.
Build = Callable[[pd.DataFrame, np.ndarray, int, np.ndarray | None], Any]

#: The metrics corrected by default: discrimination, calibration slope and
#: intercept, and overall accuracy.
DEFAULT_METRICS: Mapping[str, Metric] = {
    "auroc": evaluation.auroc_score,
    "calibration_slope": evaluation.calibration_slope,
    "calibration_intercept": evaluation.calibration_intercept,
    "brier": evaluation.brier_score,
}

#: Optuna storage of the tuning inside each replicate: in memory, so replicates
#: neither resume nor pollute the run's study.
IN_MEMORY_STORAGE = ":memory:"  # clinai.runs._train.IN_MEMORY

N_REPLICATES_MSG = (
    "n_replicates (validation.n_replicates) must be an integer of at least 1; got {value!r}"
)
RANDOM_STATE_MSG = "random_state (seed) must be a non-negative integer; got {value!r}"
LENGTH_MSG = "X has {n_x} rows but y has {n_y} values: pass one outcome per row"
GROUPS_LENGTH_MSG = (
    "groups (data.patient_id) has {got} values for {expected} rows: pass one identifier per row"
)
GROUPS_MISSING_MSG = (
    "groups (data.patient_id) has {count} missing value(s): every row needs a patient identifier"
)
NO_METRICS_MSG = "metrics is empty: name at least one metric to correct for optimism"
REPLICATE_FAILED_MSG = "optimism bootstrap replicate {replicate} of {total} failed: {error}"
ALL_SKIPPED_MSG = (
    "all {total} optimism bootstrap replicates had one outcome class: the data have too few "
    "events; use holdout validation or more data"
)


def _check_int(value: Any, *, minimum: int, message: str, exc: type[ClinaiError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise exc(message.format(value=value))
    return int(value)


def _cluster_members(groups: Any, n: int) -> tuple[list[np.ndarray] | None, np.ndarray]:
    """Return each patient's row positions and the resampling unit of each row.

    The positions are None when every row is its own unit; the units are patient codes
    in order of first appearance, or the row positions.
    """
    if groups is None:
        return None, np.arange(n)
    series = pd.Series(np.asarray(groups, dtype=object))
    if len(series) != n:
        raise DataError(GROUPS_LENGTH_MSG.format(got=len(series), expected=n))
    n_missing = int(series.isna().sum())
    if n_missing:
        raise DataError(GROUPS_MISSING_MSG.format(count=n_missing))
    codes, uniques = pd.factorize(series)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(len(uniques))], codes


def _draw(
    rng: np.random.Generator, n: int, members: list[np.ndarray] | None
) -> tuple[np.ndarray, int]:
    """Draw one bootstrap sample's row positions, then the replicate's build seed."""
    n_units = n if members is None else len(members)
    units = rng.integers(0, n_units, size=n_units)
    rows = units if members is None else np.concatenate([members[u] for u in units])
    seed = int(rng.integers(0, 2**31 - 1))
    return rows, seed


def _scores(
    model: Any, X: pd.DataFrame, y: np.ndarray, metrics: Mapping[str, Metric]
) -> dict[str, float]:
    """Score ``model`` on ``(X, y)``; the event probability is ``predict_proba(X)[:, 1]``."""
    y_prob = np.asarray(model.predict_proba(X))[:, 1]
    return {name: float(metric(y, y_prob)) for name, metric in metrics.items()}


def optimism_corrected_performance(
    X: pd.DataFrame,
    y: np.ndarray | pd.Series | Sequence[int],
    *,
    build: Build,
    metrics: Mapping[str, Metric] | None = None,
    n_replicates: int = 50,
    random_state: int = 0,
    groups: np.ndarray | pd.Series | Sequence[Any] | None = None,
    apparent_model: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Harrell's bootstrap optimism-corrected performance of a model-building procedure.

    For each metric ``P``: the apparent performance ``P_app`` of the model
    built on all of ``(X, y)`` and scored on it; the optimism
    ``O = mean_b (P_boot,b - P_orig,b)``, where replicate ``b`` builds a model
    on a bootstrap sample with the whole procedure ``build`` and scores it on
    that sample (``P_boot,b``) and on the original data (``P_orig,b``); and the
    corrected performance ``P_app - O`` (Harrell, Lee & Mark 1996; Steyerberg
    2019, ch. 5 and 17). See the module docstring for the resampling scheme,
    the seeds and the handling of one-class replicates.

    Parameters
    ----------
    X : pandas.DataFrame
        Development data (features), one row per admission.
    y : array-like of shape (n,)
        Binary outcome (0/1), both classes present.
    build : callable
        ``build(X, y, seed, groups) -> fitted`` runs the *whole* model-building
        procedure (tuning and calibration included) and returns a model with
        ``predict_proba``; column 1 is the probability of the event. It must
        be deterministic given ``seed``. ``groups`` is None for the apparent
        model without ``groups``; otherwise it gives the unit of each row (the
        patient, or in a bootstrap sample the patient or row it was drawn
        from), and any cross-validation inside ``build`` must keep a unit's
        rows in one fold. See :func:`build_with_config`.
    metrics : mapping of str to callable, optional
        ``name -> metric(y_true, y_prob) -> float``; default
        :data:`DEFAULT_METRICS` (AUROC, calibration slope, calibration
        intercept, Brier score).
    n_replicates : int, default 50
        Bootstrap replicates ``B`` to draw, >= 1.
    random_state : int, default 0
        Seed (non-negative); the same seed gives the same result.
    groups : array-like of shape (n,), optional
        Patient identifier of each row. When given, whole patients are
        resampled (every row of a drawn patient, as many patients as there
        are), so a patient's rows never count as independent.
    apparent_model : estimator, optional
        A model already built on all of ``(X, y)`` by ``build`` with seed
        ``random_state`` (e.g. the train stage's model); saves one build.
    progress : callable, optional
        Called as ``progress(done, n_replicates)`` after each replicate.

    Returns
    -------
    dict
        JSON-ready: ``method`` (``"bootstrap_optimism"``), ``n_replicates``
        (requested), ``n_done`` (replicates built and scored), ``n_skipped``
        (one-class replicates), ``random_state``, ``resampling`` (``"rows"``
        or ``"patients"``) and ``metrics``: for each metric name
        ``{"apparent", "optimism", "corrected", "optimism_sd", "n_replicates"}``,
        where ``optimism_sd`` is the standard deviation (ddof=1) of the
        replicates' optimism (NaN with fewer than two) and ``n_replicates``
        the replicates in which the metric was defined on both the bootstrap
        sample and the original data. Undefined values are NaN.

    Raises
    ------
    ConfigError
        If ``n_replicates`` or ``random_state`` is invalid, or ``metrics`` is empty.
    DataError
        If ``y`` is not a binary outcome with both classes, the lengths
        disagree, an identifier is missing, or every replicate has one class.
    ClinaiError
        If ``build`` fails on a replicate (re-raised with the replicate number).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(120, 8)))
    >>> y = (rng.random(120) < 0.4).astype(int)
    >>> fit = lambda X, y, seed, groups: LogisticRegression(C=1e4).fit(X, y)
    >>> result = optimism_corrected_performance(X, y, build=fit, n_replicates=5, random_state=1)
    >>> auroc = result["metrics"]["auroc"]
    >>> bool(auroc["corrected"] < auroc["apparent"]), result["n_done"]
    (True, 5)
    """
    n_total = _check_int(n_replicates, minimum=1, message=N_REPLICATES_MSG, exc=ConfigError)
    seed = _check_int(random_state, minimum=0, message=RANDOM_STATE_MSG, exc=ConfigError)
    metric_map = dict(DEFAULT_METRICS if metrics is None else metrics)
    if not metric_map:
        raise ConfigError(NO_METRICS_MSG)
    y_arr = np.asarray(y)
    if len(X) != len(y_arr):
        raise DataError(LENGTH_MSG.format(n_x=len(X), n_y=len(y_arr)))
    data.check_binary_outcome(pd.Series(y_arr), column="outcome of the development data")
    y_arr = y_arr.astype(int)
    n = len(y_arr)
    members, units = _cluster_members(groups, n)

    # The apparent model is the train stage's: folds by patient when there are patients.
    apparent_groups = None if members is None else units
    model = apparent_model if apparent_model is not None else build(X, y_arr, seed, apparent_groups)
    apparent = _scores(model, X, y_arr, metric_map)

    optimism: dict[str, list[float]] = {name: [] for name in metric_map}
    n_skipped = 0
    children = np.random.SeedSequence(seed).spawn(n_total)
    for b, child in enumerate(children, start=1):
        rows, build_seed = _draw(np.random.default_rng(child), n, members)
        y_boot = y_arr[rows]
        if np.unique(y_boot).size < 2:
            n_skipped += 1
            logger.info("optimism replicate %s of %s has one outcome class: skipped", b, n_total)
        else:
            X_boot = X.iloc[rows].reset_index(drop=True)
            try:
                # Copies of one patient (or row) drawn twice share a unit: one fold.
                fitted = build(X_boot, y_boot, build_seed, units[rows])
                boot = _scores(fitted, X_boot, y_boot, metric_map)
                orig = _scores(fitted, X, y_arr, metric_map)
            except ClinaiError as exc:
                message = REPLICATE_FAILED_MSG.format(replicate=b, total=n_total, error=exc)
                raise type(exc)(message) from exc
            for name in metric_map:
                difference = boot[name] - orig[name]
                if np.isfinite(difference):
                    optimism[name].append(difference)
        if progress is not None:
            progress(b, n_total)
    n_done = n_total - n_skipped
    if n_done == 0:
        raise DataError(ALL_SKIPPED_MSG.format(total=n_total))

    summary: dict[str, dict[str, float | int]] = {}
    for name, values in optimism.items():
        mean = float(np.mean(values)) if values else float("nan")
        sd = float(np.std(values, ddof=1)) if len(values) >= 2 else float("nan")
        summary[name] = {
            "apparent": apparent[name],
            "optimism": mean,
            "corrected": apparent[name] - mean,
            "optimism_sd": sd,
            "n_replicates": len(values),
        }
    logger.info(
        "optimism correction: %s replicates done, %s skipped (one outcome class)",
        n_done,
        n_skipped,
    )
    return {
        "method": "bootstrap_optimism",
        "n_replicates": n_total,
        "n_done": n_done,
        "n_skipped": n_skipped,
        "random_state": seed,
        "resampling": "rows" if members is None else "patients",
        "metrics": summary,
    }


def build_with_config(
    config: ExperimentConfig,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> Build:
    """Return ``build(X, y, seed, groups)``: clinai's model-building procedure under ``config``.

    The closure calls :func:`clinai.runs._train.tune_and_calibrate` with the
    config's model families, tuning budget and calibration, exactly as the
    train stage does, but with the Optuna study in memory
    (:data:`IN_MEMORY_STORAGE`, a fresh database per call, named after the
    seed), no progress bars and no MLflow tracking. With ``seed=config.seed``
    and the train stage's groups it builds the train stage's model (unless the
    safety stop ``tuning.timeout_s`` fired). ``groups`` go to the tuning and
    calibration folds, which keep each group's rows in one fold.

    Parameters
    ----------
    config : ExperimentConfig
        The experiment config (``models``, ``tuning``, ``calibration``).
    numeric, categorical : sequence of str
        Feature columns by type (the data manifest's ``features``).

    Returns
    -------
    callable
        ``build(X, y, seed, groups) -> fitted`` for :func:`optimism_corrected_performance`.
    """
    from clinai.runs._train import tune_and_calibrate

    numeric_cols = list(numeric)
    categorical_cols = list(categorical)

    def build(X: pd.DataFrame, y: np.ndarray, seed: int, groups: np.ndarray | None) -> Any:
        fitted, _ = tune_and_calibrate(
            X,
            y,
            numeric=numeric_cols,
            categorical=categorical_cols,
            families=config.models,
            tuning=config.tuning,
            calibration=config.calibration,
            seed=seed,
            study_prefix=f"{config.experiment}-{{family}}-optimism-{seed}",
            tracker=None,
            show_progress=False,
            storage=IN_MEMORY_STORAGE,
            groups=groups,
        )
        return fitted

    return build


def internal_validation(
    config: ExperimentConfig,
    run_dir: RunDir,
    *,
    model: Any = None,
    show_progress: bool = True,
) -> dict[str, Any] | None:
    """Optimism-corrected performance of the run's model-building procedure on its training split.

    Does nothing (returns None) unless ``validation.method`` is ``optimism``.
    Otherwise it reads the prepared training split (the development data) and
    the manifest's feature types, and calls
    :func:`optimism_corrected_performance` with :func:`build_with_config`,
    ``validation.n_replicates`` replicates and the config's ``seed``,
    resampling patients when ``data.patient_id`` is set. Writes no file: the
    caller puts the result in ``metrics.json`` (as ``internal_validation``).

    Parameters
    ----------
    config : ExperimentConfig
        The experiment config.
    run_dir : RunDir
        A run directory where the prepare stage has run.
    model : estimator, optional
        The train stage's model (built on the training split with
        ``config.seed``); used as the apparent model, which saves one build.
    show_progress : bool, default True
        Show a progress bar over the replicates.

    Returns
    -------
    dict or None
        The result of :func:`optimism_corrected_performance` plus ``data``
        (``"training split"``), ``n`` and ``events``; None for ``holdout``.
    """
    from clinai.runs._prepare import read_split
    from clinai.runs._progress import progress_bar

    spec = config.validation
    if spec.method != "optimism":
        return None
    manifest = run_dir.read_json("data_manifest.json", stage="prepare")
    X, y, _, patients = read_split(run_dir, "train")
    build = build_with_config(
        config,
        numeric=manifest["features"]["numeric"],
        categorical=manifest["features"]["categorical"],
    )
    with progress_bar("optimism bootstrap", spec.n_replicates, enabled=show_progress) as advance:
        result = optimism_corrected_performance(
            X,
            y,
            build=build,
            n_replicates=spec.n_replicates,
            random_state=config.seed,
            groups=patients if config.data.patient_id is not None else None,
            apparent_model=model,
            progress=advance,
        )
    y_values = np.asarray(y).astype(int)
    return {
        "data": "training split",
        "n": int(y_values.shape[0]),
        "events": int(y_values.sum()),
        **result,
    }


#: Where each corrected metric sits in ``metrics.json``.
_METRIC_PATHS: Mapping[str, tuple[str, ...]] = {
    "auroc": ("auroc",),
    "brier": ("brier",),
    "calibration_slope": ("calibration", "slope"),
    "calibration_intercept": ("calibration", "intercept"),
}

APPARENT_NOTE = (
    "No test split (split.method: none): the model was built on all {n} patients. AUROC, Brier "
    "score and calibration intercept and slope are optimism-corrected (Harrell's bootstrap, "
    "{replicates} replicates; interval = the apparent bootstrap interval shifted by the mean "
    "optimism, an approximation); every other number is apparent performance on the "
    "development data and is optimistic."
)


def apply_optimism_correction(
    metrics: dict[str, Any], optimism: Mapping[str, Any]
) -> dict[str, Any]:
    """Replace apparent estimates by optimism-corrected ones where a correction exists.

    Used when no patient is set aside (``split.method: none``): ``metrics`` is the
    validation of the final model on its own development data (apparent
    performance, with bootstrap intervals) and ``optimism`` the result of
    :func:`internal_validation`. Each corrected metric's estimate and interval
    bounds are shifted by minus its mean optimism (the interval keeps the
    apparent interval's width: an approximation, stated in the report). The
    metrics that are not corrected stay apparent and are listed in
    ``metrics["validation_basis"]``.
    """
    corrected = []
    for name, path in _METRIC_PATHS.items():
        entry = optimism.get("metrics", {}).get(name)
        block: Any = metrics
        for key in path:
            block = block.get(key) if isinstance(block, dict) else None
        if entry is None or not isinstance(block, dict) or not np.isfinite(entry["optimism"]):
            continue
        for bound in ("estimate", "ci_low", "ci_high"):
            if block.get(bound) is not None:
                block[bound] = float(block[bound]) - float(entry["optimism"])
        corrected.append(".".join(path))
    metrics["validation_basis"] = {
        "data": "development data (no test split)",
        "method": "bootstrap optimism correction",
        "corrected": corrected,
        "note": APPARENT_NOTE.format(n=metrics.get("n"), replicates=optimism.get("n_done")),
    }
    return metrics
