"""Quality benchmark: clinai's tuned, calibrated model beside three peers on each binary use case.

Repeated cross-validation (5 folds x 2 repeats, the same folds for every method; held-out splits of
200 patients are too noisy). Inside each training fold clinai runs its whole procedure
(`clinai.runs.tune_and_calibrate`: Optuna tuning with inner CV, selection, cross-validated
calibration); the peers are logistic regression with defaults, LightGBM with defaults (the same
imputation/one-hot preprocessing) and FLAML AutoML given the same wall-clock budget clinai used on
that fold. Printed per use case: out-of-fold AUROC (mean and SD over the 10 folds) and calibration
slope (mean over the 10 folds), and the ratio of clinai's AUROC to the best peer's.

Targets (issue 2): clinai's AUROC >= best peer's - 0.01 on every use case; calibration slope
within 0.8-1.2 on every use case.

    python benchmarks/bench_quality.py [--use-cases icu_mortality ...] [--trials 20] [--budget 20]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import ROOT, write_json  # first: puts the repository root on sys.path
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from tests._helpers import BINARY_USE_CASES

from clinai import evaluation, models
from clinai.config import load_config
from clinai.runs._prepare import load_cohort
from clinai.runs._train import IN_MEMORY, procedure_options, tune_and_calibrate

# the survival use cases (ami_1y_mortality, colon_5y_mortality): benchmarks/bench_survival.py
USE_CASES = list(BINARY_USE_CASES)


def _default_pipeline(estimator, numeric, categorical):
    """The peers get clinai's preprocessing (imputation, one-hot, scaling) and default settings."""
    pipeline = models.get_model("logistic", numeric=numeric, categorical=categorical)
    pipeline.steps[-1] = ("model", estimator)
    return pipeline


def _lightgbm_default():
    import lightgbm

    return lightgbm.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0)


def _flaml(X_train, y_train, X_test, budget_s, seed):
    from flaml import AutoML

    automl = AutoML()
    frame = X_train.copy()
    test = X_test.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
            test[column] = pd.Categorical(test[column], categories=frame[column].cat.categories)
    automl.fit(
        frame,
        y_train,
        task="classification",
        metric="roc_auc",
        time_budget=budget_s,
        n_jobs=1,
        seed=seed,
        verbose=0,
        estimator_list=["lgbm", "rf", "extra_tree", "lrl1"],
    )
    return automl.predict_proba(test)[:, 1]


def _summarise(per_fold, oof, y):
    """AUROC: mean and SD over folds. Slope: on the pooled out-of-fold predictions of each
    repeat (a 40-patient fold gives a very noisy slope), mean and SD over repeats."""
    aurocs = np.array(per_fold)
    slopes = np.array([evaluation.calibration_slope(y, np.clip(p, 1e-6, 1 - 1e-6)) for p in oof])
    return {
        "auroc_mean": float(aurocs.mean()),
        "auroc_sd": float(aurocs.std(ddof=1)),
        "slope_mean": float(slopes.mean()),
        "slope_sd": float(slopes.std(ddof=1)) if len(slopes) > 1 else 0.0,
    }


def bench_use_case(
    name: str, *, trials: int, budget: float, folds: int, repeats: int, overrides: list[str]
) -> dict:
    config = load_config(
        ROOT / "configs" / f"{name}.yaml",
        overrides=[f"tuning.n_trials={trials}", f"tuning.timeout_s={budget}", *overrides],
    )
    cohort = load_cohort(config)
    X, y = cohort.X.reset_index(drop=True), cohort.y.to_numpy().astype(int)
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=config.seed)
    results: dict[str, list] = {
        "clinai": [],
        "logistic_default": [],
        "lightgbm_default": [],
        "flaml": [],
    }
    seconds: dict[str, float] = dict.fromkeys(results, 0.0)
    oof = {method: np.zeros((repeats, len(y))) for method in results}
    shrinkage: list[float | None] = []
    for fold, (train_idx, test_idx) in enumerate(splitter.split(X, y)):
        X_train, X_test = X.iloc[train_idx], X.iloc[test_idx]
        y_train, y_test = y[train_idx], y[test_idx]
        start = time.perf_counter()
        small_data: dict = {}
        fitted, _ = tune_and_calibrate(
            X_train,
            y_train,
            numeric=cohort.numeric,
            categorical=cohort.categorical,
            seed=config.seed + fold,
            study_prefix=f"{name}-{{family}}-fold{fold}",
            show_progress=False,
            storage=IN_MEMORY,
            record=small_data,
            # the train stage's options, with issue 16's Riley criteria and shrinkage
            **procedure_options(config),
        )
        shrinkage.append(small_data["shrinkage"])
        predictions = {"clinai": fitted.predict_proba(X_test)[:, 1]}
        clinai_seconds = time.perf_counter() - start
        seconds["clinai"] += clinai_seconds

        for peer, estimator in (
            ("logistic_default", LogisticRegression(max_iter=1000)),
            ("lightgbm_default", _lightgbm_default()),
        ):
            start = time.perf_counter()
            pipeline = _default_pipeline(estimator, cohort.numeric, cohort.categorical)
            predictions[peer] = pipeline.fit(X_train, y_train).predict_proba(X_test)[:, 1]
            seconds[peer] += time.perf_counter() - start
        start = time.perf_counter()
        predictions["flaml"] = _flaml(
            X_train, y_train, X_test, max(clinai_seconds, 5.0), config.seed + fold
        )
        seconds["flaml"] += time.perf_counter() - start

        for method, y_prob in predictions.items():
            results[method].append(evaluation.auroc_score(y_test, y_prob))
            oof[method][fold // folds, test_idx] = y_prob
    summary = {
        method: {**_summarise(folds_, oof[method], y), "seconds": seconds[method]}
        for method, folds_ in results.items()
    }
    best_peer = max((m for m in summary if m != "clinai"), key=lambda m: summary[m]["auroc_mean"])
    clinai = summary["clinai"]
    return {
        "use_case": name,
        "n": len(y),
        "events": int(y.sum()),
        "methods": summary,
        "best_peer": best_peer,
        "auroc_minus_best_peer": clinai["auroc_mean"] - summary[best_peer]["auroc_mean"],
        "auroc_ratio_to_best_peer": clinai["auroc_mean"] / summary[best_peer]["auroc_mean"],
        "auroc_target_met": clinai["auroc_mean"] >= summary[best_peer]["auroc_mean"] - 0.01,
        "slope_target_met": 0.8 <= clinai["slope_mean"] <= 1.2,
        # per fold: the small-data shrinkage factor (None: Riley's criteria met)
        "shrinkage": shrinkage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-cases", nargs="*", default=USE_CASES)
    parser.add_argument("--trials", type=int, default=20, help="Optuna trials per family per fold")
    parser.add_argument(
        "--budget", type=float, default=20.0, help="tuning seconds per family per fold"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality.json"
    )
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "1")
    warnings.filterwarnings("ignore")
    rows = []
    for name in args.use_cases:
        start = time.perf_counter()
        row = bench_use_case(
            name,
            trials=args.trials,
            budget=args.budget,
            folds=args.folds,
            repeats=args.repeats,
            overrides=args.set,
        )
        row["wall_s"] = time.perf_counter() - start
        rows.append(row)
        m = row["methods"]
        print(f"\n{name} (n={row['n']}, events={row['events']}, {row['wall_s']:.0f} s)")
        print(f"  {'method':18} {'AUROC mean (SD)':18} {'cal. slope mean (SD)':22} seconds")
        for method, s in m.items():
            print(
                f"  {method:18} {s['auroc_mean']:.3f} ({s['auroc_sd']:.3f})     "
                f"{s['slope_mean']:.2f} ({s['slope_sd']:.2f})            {s['seconds']:.0f}"
            )
        print(
            f"  clinai - best peer ({row['best_peer']}): {row['auroc_minus_best_peer']:+.3f} "
            f"(ratio {row['auroc_ratio_to_best_peer']:.3f}); AUROC target "
            f"{'met' if row['auroc_target_met'] else 'MISSED'}; slope target "
            f"{'met' if row['slope_target_met'] else 'MISSED'}"
        )
        factors = [f"{x:.2f}" if x is not None else "-" for x in row["shrinkage"]]
        print(f"  small-data shrinkage per fold: {' '.join(factors)}")
    write_json(args.out, rows, lead="\n")


if __name__ == "__main__":
    main()
