"""Speed benchmark: SHAP for a LightGBM model on 100,000 rows x 50 features; rendering documents.

Data are SYNTHETIC: ``X ~ N(0, 1)`` of shape (100,000, 50), outcome drawn from
``expit(-1 + x_0 + 0.8 x_1 - 0.6 x_2 + 0.5 x_3 x_4 + 0.4 x_5^2)``. No patient data are involved.
The model is a default LightGBM classifier (100 trees, 31 leaves), fitted before timing.

Timed, part 1 (SHAP): ``clinai.evaluation.shap_values(kind="tree")`` on all 100,000 rows:
exact TreeSHAP from per-leaf lookup tables (clinai's choice for LightGBM,
``clinai.evaluation.explain._tree_shap_tables``), then the per-variable importance and its bootstrap
rank intervals. Also timed on a subset, with the same values checked: the booster's own
``pred_contrib`` and ``shap.TreeExplainer`` (both ``O(T L D^2)`` per row).

Baseline for the ratio (named, measured in the same run): shap's generic, model-agnostic
explainer, ``shap.Explainer(model.predict_proba, background)`` (a permutation explainer with
100 background rows and shap's default ``max_evals=500``), timed on a few hundred rows and scaled
linearly to 100,000 rows.

Timed, part 2 (rendering): from a finished run's results (metrics.json and importance.json of a
synthetic run, computed before timing): the plots, the model card (JSON, Markdown, HTML in
English and Danish), the validation report (HTML) and the three PDFs (WeasyPrint).

Targets (issue 4): SHAP under 30 s on 2 cores; rendering a card and a report under 10 s.

    python benchmarks/bench_explain.py [--rows 100000] [--features 50] [--generic-rows 200]
                                       [--threads 2] [--skip-render]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository root on sys.path, for tests._helpers)
import numpy as np
import pandas as pd
from scipy.special import expit
from tests._helpers import shap_of


def synthetic(n: int, m: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic features and a binary outcome with interactions and a quadratic term."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    logit = (
        -1 + X[:, 0] + 0.8 * X[:, 1] - 0.6 * X[:, 2] + 0.5 * X[:, 3] * X[:, 4] + 0.4 * X[:, 5] ** 2
    )
    return X, rng.binomial(1, expit(logit))


def _timed(label: str, func: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = func()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f} s")
    return out, seconds


def bench_shap(args: argparse.Namespace) -> None:
    import lightgbm
    import shap

    from clinai import evaluation

    X, y = synthetic(args.rows, args.features)
    names = [f"x{j}" for j in range(args.features)]
    print(
        f"SYNTHETIC data: {args.rows:,} rows x {args.features} features, prevalence {y.mean():.2f}"
    )
    model = lightgbm.LGBMClassifier(
        n_estimators=100, num_leaves=31, n_jobs=args.threads, verbose=-1, random_state=0
    ).fit(X, y)
    print("clinai (exact TreeSHAP by leaf tables, all rows):")
    values, clinai_s = _timed(
        "SHAP values",
        lambda: evaluation.shap_values(
            model, X, feature_names=names, kind="tree", max_rows=args.rows
        ),
    )
    _, stats_s = _timed(
        "importance + rank intervals (200 resamples)",
        lambda: evaluation.importance_rank_intervals(values.values, names, n_boot=200),
    )
    total = clinai_s + stats_s
    print(f"  total: {total:.2f} s (target < 30 s)")

    subset = min(args.rows, 10_000)
    print(f"the other exact TreeSHAP paths on {subset:,} rows (same values, checked):")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference, tree_s = _timed(
            "shap.TreeExplainer", lambda: shap.TreeExplainer(model).shap_values(X[:subset])
        )
    reference = np.asarray(reference)
    reference = reference[1] if reference.ndim == 3 and reference.shape[0] == 2 else reference
    native_sub, native_s = _timed(
        "LightGBM pred_contrib",
        lambda: evaluation.shap_values(
            model,
            X[:subset],
            feature_names=names,
            kind="tree",
            max_rows=subset,
            tree_method="native",
        ),
    )
    tables_sub, tables_s = _timed(
        "clinai leaf tables",
        lambda: evaluation.shap_values(
            model, X[:subset], feature_names=names, kind="tree", max_rows=subset
        ),
    )
    gap = float(np.max(np.abs(tables_sub.values - native_sub.values)))
    gap_shap = float(np.max(np.abs(tables_sub.values - reference)))
    print(
        f"  largest difference from pred_contrib {gap:.1e}, from TreeExplainer {gap_shap:.1e}; "
        f"leaf tables {native_s / tables_s:.1f}x faster than pred_contrib, "
        f"{tree_s / tables_s:.1f}x faster than TreeExplainer"
    )
    print(f"  pred_contrib scaled to {args.rows:,} rows: {native_s * args.rows / subset:.1f} s")

    print(
        f"generic baseline: shap.Explainer(model.predict_proba, background) on "
        f"{args.generic_rows} rows, scaled to {args.rows:,}:"
    )
    rng = np.random.default_rng(0)
    background = X[rng.choice(args.rows, size=100, replace=False)]
    explainer = shap.Explainer(model.predict_proba, background)
    _, generic_s = _timed(
        type(explainer).__name__, lambda: explainer(X[: args.generic_rows], silent=True)
    )
    generic_total = generic_s * args.rows / args.generic_rows
    print(f"  scaled: {generic_total:,.0f} s")
    print(
        f"SHAP: clinai {total:.1f} s; generic explainer {generic_total:,.0f} s (scaled); "
        f"ratio {generic_total / total:,.0f}x"
    )


def _finished_run() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """metrics.json, importance.json and a context of a small synthetic run (not timed)."""
    from clinai import evaluation, models

    rng = np.random.default_rng(7)
    n = 3_000
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 95, n),
            "lactate": rng.gamma(2.0, 1.0, n),
            "sbp": rng.normal(120, 20, n).round(),
            "sex": rng.choice(["female", "male"], n),
            "admission": rng.choice(["elective", "urgent", "emergency"], n),
        }
    )
    y = rng.binomial(
        1, expit(-4 + 0.035 * X["age"] + 0.5 * X["lactate"] + 0.7 * (X["admission"] == "emergency"))
    )
    numeric, categorical = ["age", "lactate", "sbp"], ["sex", "admission"]
    train, test = np.arange(n) < 2_000, np.arange(n) >= 2_000
    pipe = models.get_model("logistic", numeric=numeric, categorical=categorical).fit(
        X[train], y[train]
    )
    p = pipe.predict_proba(X[test])[:, 1]
    sensitive = pd.DataFrame(
        {
            "sex": X.loc[test, "sex"].to_numpy(),
            "age_band": np.where(X.loc[test, "age"] < 65, "<65", "65+"),
        }
    )
    metrics = evaluation.evaluate_predictions(
        y[test],
        p,
        sensitive_features=sensitive,
        thresholds=[0.1, 0.2, 0.3],
        dca_thresholds=np.arange(0.01, 0.51, 0.01),
        n_boot=200,
    ).to_dict()
    inputs = models.explain_inputs(pipe, X[test], background=X[train])
    values = shap_of(inputs, max_rows=500)
    profiles = evaluation.synthetic_profiles(X[test], p, reference=X)
    p_inputs = models.explain_inputs(pipe, profiles.X, background=X[train])
    p_values = shap_of(p_inputs, max_rows=10)
    local = evaluation.explain_profiles(
        profiles,
        predicted_risk=pipe.predict_proba(profiles.X)[:, 1],
        shap=p_values,
        feature_to_variable=p_inputs.feature_to_variable,
    )
    rows = values.rows
    importance = evaluation.explain_global(
        values,
        feature_to_variable=inputs.feature_to_variable,
        X=X[test].iloc[rows],
        sensitive_features=sensitive.iloc[rows],
        y_true=y[test][rows],
        profiles=local,
    ).to_dict()
    context = {
        "experiment": "bench_synthetic",
        "run_id": "bench",
        "created_at": "2026-11-26T10:00:00+00:00",
        "use_case": {
            "name": "bench_synthetic",
            "title": "SYNTHETIC benchmark use case",
            "outcome": "Synthetic event.",
            "intended_use": "Benchmarking only.",
            "not_for": ["Any clinical use."],
            "limitations": ["Synthetic data."],
        },
        "dataset": {"name": "synthetic", "n_rows": n},
        "split": {"method": "stratified", "n_train": 2_000, "n_test": 1_000},
        "model": {"family": "logistic", "calibration": "none", "best_params": {"C": 1.0}},
        "features": {"numeric": numeric, "categorical": categorical},
        "lineage": {"config_sha256": "0" * 64, "data_sha256": "1" * 64, "code_version": "bench"},
        "acceptance_verdict": "no criteria",
    }
    return metrics, importance, context


def bench_render() -> None:
    from clinai import reporting

    metrics, importance, context = _finished_run()
    print("rendering from a finished (synthetic) run's results:")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        plots, _ = _timed(
            "plots",
            lambda: reporting.render_plots(metrics, importance=importance, out_dir=out / "plots"),
        )
        card = reporting.build_model_card(context, metrics, importance=importance)
        files, _ = _timed(
            "model card (json, md, html; en, da)",
            lambda: reporting.write_model_card(card, out, languages=("en", "da"), images=plots),
        )
        report, _ = _timed(
            "validation report (html)",
            lambda: reporting.write_validation_report(
                context,
                metrics,
                plots=plots,
                importance=importance,
                out_path=out / "validation_report.html",
            ),
        )
        htmls = [report, files["model_card.html"], files["model_card.da.html"]]
        _timed(
            "3 PDFs (WeasyPrint)",
            lambda: [reporting.write_pdf(h, h.with_suffix(".pdf")) for h in htmls],
        )
        total = time.perf_counter() - started
    print(f"rendering total: {total:.2f} s (target < 10 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--generic-rows", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-render", action="store_true")
    args = parser.parse_args()
    bench_shap(args)
    if not args.skip_render:
        bench_render()


if __name__ == "__main__":
    main()
