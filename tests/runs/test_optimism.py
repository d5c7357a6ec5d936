"""Harrell's bootstrap optimism correction (clinai.runs._optimism)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from clinai.config import parse_config
from clinai.exceptions import ConfigError, DataError, ModelError
from clinai.runs import _optimism
from clinai.runs._optimism import (
    DEFAULT_METRICS,
    optimism_corrected_performance,
)

SKLEARN_METRICS: dict[str, Callable[[Any, Any], float]] = {
    "auroc": lambda y, p: float(roc_auc_score(y, p)),
    "brier": lambda y, p: float(brier_score_loss(y, p)),
}


def _noisy(n: int = 80, n_noise: int = 10, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """One weak signal and many noise features: an unpenalised fit overfits."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, n_noise + 1)), columns=[f"x{i}" for i in range(n_noise + 1)]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 0.8 * X["x0"])))).astype(int)
    return X, y.to_numpy()


def _logistic(X: pd.DataFrame, y: np.ndarray, seed: int, groups: Any = None) -> LogisticRegression:
    # Weakly penalised (C=100): nearly the unpenalised fit, without convergence warnings.
    return LogisticRegression(C=100.0, max_iter=5000).fit(X, y)


def _reference(
    X: pd.DataFrame,
    y: np.ndarray,
    build: Callable[[pd.DataFrame, np.ndarray, int], Any],
    metrics: dict[str, Callable[[Any, Any], float]],
    n_replicates: int,
    random_state: int,
) -> dict[str, Any]:
    """Slow, obviously correct transcription of Harrell's procedure and the documented seeds."""
    n = len(y)

    def score(model: Any, X_: pd.DataFrame, y_: np.ndarray) -> dict[str, float]:
        p = model.predict_proba(X_)[:, 1]
        return {name: metric(y_, p) for name, metric in metrics.items()}

    apparent = score(build(X, y, random_state), X, y)
    differences: dict[str, list[float]] = {name: [] for name in metrics}
    skipped = 0
    for child in np.random.SeedSequence(random_state).spawn(n_replicates):
        rng = np.random.default_rng(child)
        rows = [int(i) for i in rng.integers(0, n, size=n)]
        seed = int(rng.integers(0, 2**31 - 1))
        X_boot = pd.DataFrame([X.iloc[i].to_dict() for i in rows])
        y_boot = np.array([y[i] for i in rows])
        if len(set(y_boot.tolist())) < 2:
            skipped += 1
            continue
        model = build(X_boot, y_boot, seed)
        on_boot, on_orig = score(model, X_boot, y_boot), score(model, X, y)
        for name in metrics:
            differences[name].append(on_boot[name] - on_orig[name])
    result = {}
    for name, values in differences.items():
        optimism = sum(values) / len(values)
        sd = math.sqrt(sum((v - optimism) ** 2 for v in values) / (len(values) - 1))
        result[name] = {
            "apparent": apparent[name],
            "optimism": optimism,
            "corrected": apparent[name] - optimism,
            "optimism_sd": sd,
            "n_replicates": len(values),
        }
    return {"metrics": result, "n_skipped": skipped, "n_done": n_replicates - skipped}


def test_matches_a_slow_reference_on_three_replicates() -> None:
    X, y = _noisy(n=50, n_noise=4)
    got = optimism_corrected_performance(
        X, y, build=_logistic, metrics=SKLEARN_METRICS, n_replicates=3, random_state=11
    )
    want = _reference(X, y, _logistic, SKLEARN_METRICS, n_replicates=3, random_state=11)
    assert got["n_done"] == want["n_done"] and got["n_skipped"] == want["n_skipped"]
    for name in SKLEARN_METRICS:
        assert got["metrics"][name] == pytest.approx(want["metrics"][name], rel=1e-9, abs=1e-12)


def test_optimism_is_positive_for_an_overfitted_model() -> None:
    X, y = _noisy()
    result = optimism_corrected_performance(X, y, build=_logistic, n_replicates=10, random_state=0)
    assert set(result["metrics"]) == set(DEFAULT_METRICS)
    auroc = result["metrics"]["auroc"]
    assert auroc["optimism"] > 0
    assert auroc["corrected"] < auroc["apparent"]
    assert auroc["corrected"] == pytest.approx(auroc["apparent"] - auroc["optimism"])
    slope = result["metrics"]["calibration_slope"]
    assert slope["apparent"] == pytest.approx(1.0, abs=0.05)  # (nearly) unpenalised ML fit
    assert slope["corrected"] < 0.9  # the shrinkage a new population would show
    brier = result["metrics"]["brier"]
    assert brier["optimism"] < 0 and brier["corrected"] > brier["apparent"]
    assert result["n_done"] == 10 and result["n_skipped"] == 0
    assert result["resampling"] == "rows" and result["method"] == "bootstrap_optimism"


def test_same_seed_same_result_and_replicates_are_prefix_stable() -> None:
    X, y = _noisy(n=50, n_noise=4)
    kwargs: dict[str, Any] = {"build": _logistic, "metrics": SKLEARN_METRICS}
    a = optimism_corrected_performance(X, y, n_replicates=4, random_state=5, **kwargs)
    b = optimism_corrected_performance(X, y, n_replicates=4, random_state=5, **kwargs)
    c = optimism_corrected_performance(X, y, n_replicates=4, random_state=6, **kwargs)
    assert a == b
    assert a["metrics"]["auroc"]["optimism"] != c["metrics"]["auroc"]["optimism"]
    # Replicate b is the b-th child seed whatever the total: 2 replicates are a prefix of 4.
    seen: list[int] = []

    def recording(
        X_: pd.DataFrame, y_: np.ndarray, seed: int, groups: Any = None
    ) -> LogisticRegression:
        seen.append(seed)
        return _logistic(X_, y_, seed)

    optimism_corrected_performance(X, y, build=recording, n_replicates=4, random_state=5)
    first = list(seen)
    seen.clear()
    optimism_corrected_performance(X, y, build=recording, n_replicates=2, random_state=5)
    assert seen == first[:3]  # the apparent build (seed 5) and the first two replicates
    assert first[0] == 5


def _seed_with_a_one_class_replicate(y: np.ndarray, n_replicates: int) -> int:
    for seed in range(1000):
        for child in np.random.SeedSequence(seed).spawn(n_replicates):
            rows = np.random.default_rng(child).integers(0, len(y), size=len(y))
            if y[rows].min() == y[rows].max():
                return seed
    raise AssertionError("no seed found")


def test_one_class_replicates_are_skipped_and_counted() -> None:
    X, _ = _noisy(n=25, n_noise=2)
    y = np.zeros(25, dtype=int)
    y[[3, 17]] = 1  # two events: about one bootstrap sample in eight has none
    seed = _seed_with_a_one_class_replicate(y, 6)
    result = optimism_corrected_performance(
        X, y, build=_logistic, metrics=SKLEARN_METRICS, n_replicates=6, random_state=seed
    )
    want = _reference(X, y, _logistic, SKLEARN_METRICS, n_replicates=6, random_state=seed)
    assert result["n_skipped"] == want["n_skipped"] >= 1
    assert result["n_done"] + result["n_skipped"] == 6
    assert result["metrics"]["auroc"]["n_replicates"] == result["n_done"]
    assert result["metrics"]["auroc"] == pytest.approx(want["metrics"]["auroc"])


def test_every_replicate_one_class_is_an_error() -> None:
    X, _ = _noisy(n=25, n_noise=2)
    y = np.zeros(25, dtype=int)
    y[3] = 1
    seed = next(
        s
        for s in range(1000)
        if y[np.random.default_rng(np.random.SeedSequence(s).spawn(1)[0]).integers(0, 25, 25)].max()
        == 0
    )
    message = _optimism.ALL_SKIPPED_MSG.format(total=1)
    with pytest.raises(DataError, match=re.escape(message)):
        optimism_corrected_performance(X, y, build=_logistic, n_replicates=1, random_state=seed)


def test_patients_are_resampled_whole() -> None:
    X, y = _noisy(n=60, n_noise=2)
    X["row"] = np.arange(60)
    groups = np.repeat([f"p{i}" for i in range(30)], 2)  # rows 2k and 2k+1: one patient
    samples: list[pd.DataFrame] = []

    def recording(
        X_: pd.DataFrame, y_: np.ndarray, seed: int, groups: Any = None
    ) -> LogisticRegression:
        samples.append(X_)
        return _logistic(X_.drop(columns="row"), y_, seed)

    class DropRow:
        def __init__(self, model: LogisticRegression) -> None:
            self.model = model

        def predict_proba(self, X_: pd.DataFrame) -> np.ndarray:
            return self.model.predict_proba(X_.drop(columns="row"))

    result = optimism_corrected_performance(
        X,
        y,
        build=lambda X_, y_, s, g: DropRow(recording(X_, y_, s)),
        metrics=SKLEARN_METRICS,
        n_replicates=3,
        random_state=2,
        groups=groups,
    )
    assert result["resampling"] == "patients"
    for sample in samples[1:]:  # samples[0] is the apparent model's data
        counts = np.bincount(sample["row"].to_numpy(), minlength=60)
        assert np.array_equal(counts[0::2], counts[1::2])
        assert counts.sum() == 60


def test_apparent_model_and_progress() -> None:
    X, y = _noisy(n=50, n_noise=3)
    calls: list[int] = []
    ticks: list[tuple[int, int]] = []

    def counting(
        X_: pd.DataFrame, y_: np.ndarray, seed: int, groups: Any = None
    ) -> LogisticRegression:
        calls.append(seed)
        return _logistic(X_, y_, seed)

    apparent = _logistic(X, y, 0)
    given = optimism_corrected_performance(
        X,
        y,
        build=counting,
        metrics=SKLEARN_METRICS,
        n_replicates=3,
        random_state=0,
        apparent_model=apparent,
        progress=lambda done, total: ticks.append((done, total)),
    )
    assert len(calls) == 3
    assert ticks == [(1, 3), (2, 3), (3, 3)]
    built = optimism_corrected_performance(
        X, y, build=_logistic, metrics=SKLEARN_METRICS, n_replicates=3, random_state=0
    )
    assert given == built


def test_an_undefined_metric_is_left_out_of_its_mean_only() -> None:
    X, y = _noisy(n=50, n_noise=3)
    metrics = {**SKLEARN_METRICS, "undefined": lambda y_, p: float("nan")}
    result = optimism_corrected_performance(
        X, y, build=_logistic, metrics=metrics, n_replicates=2, random_state=0
    )
    assert result["metrics"]["undefined"]["n_replicates"] == 0
    assert math.isnan(result["metrics"]["undefined"]["corrected"])
    assert result["metrics"]["auroc"]["n_replicates"] == 2


def test_bad_arguments() -> None:
    X, y = _noisy(n=30, n_noise=1)
    with pytest.raises(ConfigError, match=re.escape(_optimism.N_REPLICATES_MSG.format(value=0))):
        optimism_corrected_performance(X, y, build=_logistic, n_replicates=0)
    with pytest.raises(ConfigError, match=re.escape(_optimism.RANDOM_STATE_MSG.format(value=-1))):
        optimism_corrected_performance(X, y, build=_logistic, random_state=-1)
    with pytest.raises(ConfigError, match=re.escape(_optimism.NO_METRICS_MSG)):
        optimism_corrected_performance(X, y, build=_logistic, metrics={})
    with pytest.raises(DataError, match=re.escape(_optimism.LENGTH_MSG.format(n_x=30, n_y=29))):
        optimism_corrected_performance(X, y[:-1], build=_logistic)
    with pytest.raises(DataError, match="one class"):
        optimism_corrected_performance(X, np.zeros(30, dtype=int), build=_logistic)
    message = _optimism.GROUPS_LENGTH_MSG.format(got=2, expected=30)
    with pytest.raises(DataError, match=re.escape(message)):
        optimism_corrected_performance(X, y, build=_logistic, groups=["a", "b"])


def test_a_failing_replicate_names_its_number() -> None:
    X, y = _noisy(n=30, n_noise=1)
    calls: list[int] = []

    def flaky(
        X_: pd.DataFrame, y_: np.ndarray, seed: int, groups: Any = None
    ) -> LogisticRegression:
        calls.append(seed)
        if len(calls) == 3:  # the apparent build, replicate 1, then replicate 2 fails
            raise ModelError("tuning failed")
        return _logistic(X_, y_, seed)

    message = _optimism.REPLICATE_FAILED_MSG.format(replicate=2, total=3, error="tuning failed")
    with pytest.raises(ModelError, match=re.escape(message)):
        optimism_corrected_performance(X, y, build=flaky, n_replicates=3)


def test_internal_validation_runs_on_the_training_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinai.runs._optimism import internal_validation
    from clinai.runs._prepare import prepare, read_split
    from clinai.runs._rundir import resolve_run_dir
    from tests.integration.conftest import FIXTURES, synthetic_frame, tiny_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    synthetic_frame(n=120).to_csv(tmp_path / "patients.csv", index=False)
    raw = tiny_config(
        test_size=0.25,
        tuning={"n_trials": 2, "timeout_s": 60, "cv_folds": 3},
        validation={"method": "optimism", "n_replicates": 2},
    )
    config = parse_config(raw)
    run_dir = resolve_run_dir(tmp_path / "runs", "tiny", None, create=True)
    manifest = prepare(config, run_dir)
    assert internal_validation(parse_config({**raw, "validation": {}}), run_dir) is None

    result = internal_validation(config, run_dir, show_progress=False)
    assert result is not None
    _, y_train, _, _ = read_split(run_dir, "train")
    assert result["n"] == manifest["split"]["n_train"] == len(y_train)
    assert result["events"] == manifest["split"]["events_train"]
    assert result["resampling"] == "patients"
    assert result["n_done"] + result["n_skipped"] == 2
    assert set(result["metrics"]) == set(DEFAULT_METRICS)
    for values in result["metrics"].values():
        assert all(math.isfinite(values[k]) for k in ("apparent", "optimism", "corrected"))
    # build_with_config tunes in memory: no Optuna database appears in the working directory.
    assert not list(tmp_path.glob("*.db"))


# ------------------------------------------------------- folds inside a replicate (issue 13)


def _memorisable(n_patients: int, rows_each: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """SYNTHETIC: a pure-noise outcome and a categorical key unique to each patient.

    A model can learn a patient's outcome from the key only if a fold shows it the
    patient's copies on both sides; patient-grouped folds see no signal at all.
    """
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(n_patients), rows_each)
    X = pd.DataFrame({"key": [f"k{p}" for p in patient], "x": rng.normal(size=patient.size)})
    y = (rng.random(n_patients) < 0.4).astype(int)[patient]
    return X, y


def _tiny_config() -> Any:
    return parse_config(
        {
            "experiment": "tiny",
            "pipeline": "tiny_pipeline",
            "data": {"source": {"type": "csv", "path": "x.csv"}, "patient_id": "patient"},
            "models": ["logistic"],
            "tuning": {"n_trials": 2, "cv_folds": 3},
            "calibration": {"method": "sigmoid", "cv": 3},
        }
    )


@pytest.mark.parametrize("rows_each", [1, 2])
def test_folds_inside_a_replicate_keep_a_patients_copies_together(rows_each: int) -> None:
    from clinai.models._tuning import cv_splits
    from clinai.runs._optimism import build_with_config

    X, y = _memorisable(60, rows_each)
    patients = X["key"].to_numpy() if rows_each > 1 else None
    config = _tiny_config()
    real_build = build_with_config(config, numeric=["x"], categorical=["key"])
    received: list[tuple[pd.DataFrame, np.ndarray, int, Any]] = []

    def build(X_: pd.DataFrame, y_: np.ndarray, seed: int, groups: Any) -> Any:
        received.append((X_, y_, seed, groups))
        return real_build(X_, y_, seed, groups)

    result = optimism_corrected_performance(
        X,
        y,
        build=build,
        metrics=SKLEARN_METRICS,
        n_replicates=2,
        random_state=4,
        groups=patients,
    )
    assert result["n_done"] == 2
    apparent, *replicates = received
    # The apparent model is the train stage's: grouped by patient, or not grouped at all.
    assert (apparent[3] is None) == (patients is None)
    for X_, y_, seed, groups in replicates:
        keys = X_["key"].to_numpy()
        assert len(set(keys)) < len(keys) // rows_each  # some patient was drawn twice
        # One unit per drawn patient: its copies (and its rows) share it, others differ.
        pairs = set(zip(keys, np.asarray(groups), strict=True))
        assert len(pairs) == len(set(keys)) == len(set(np.asarray(groups)))
        # The folds tune_model builds from these units never split a patient.
        for train, test in cv_splits(y_, config.tuning.cv_folds, random_state=seed, groups=groups):
            assert not set(keys[train]) & set(keys[test])


def test_tuning_on_a_bootstrap_sample_learns_nothing_from_duplicates() -> None:
    """Why the units matter: with row folds, copies of a drawn patient leak across folds."""
    from clinai.runs._train import tune_and_calibrate

    X, y = _memorisable(80, 1, seed=1)
    rows = np.random.default_rng(10).integers(0, len(y), len(y))
    X_boot, y_boot = X.iloc[rows].reset_index(drop=True), y[rows]
    config = _tiny_config()
    scores = {}
    for label, groups in (("units", rows), ("rows", None)):
        _, candidates = tune_and_calibrate(
            X_boot,
            y_boot,
            numeric=["x"],
            categorical=["key"],
            families=["logistic"],
            tuning=config.tuning,
            calibration=config.calibration,
            seed=0,
            study_prefix=f"{label}-{{family}}",
            show_progress=False,
            storage=":memory:",
            groups=groups,
        )
        scores[label] = candidates[0].best_score
    assert scores["units"] < 0.7 < 0.75 < scores["rows"], scores  # noise: AUROC about 0.5
