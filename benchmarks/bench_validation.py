"""Speed benchmark: the whole validation of 1,000,000 predictions with 1,000 bootstrap replicates.

Data are SYNTHETIC: n = 1,000,000 predicted probabilities ``p = expit(-1.5 + 1.2 x)``,
``x ~ N(0, 1)``, and outcomes drawn from a slightly miscalibrated truth
``expit(-1.4 + 1.1 x)`` (prevalence about 0.23). No patient data are involved.

Timed: ``clinai.evaluation.evaluate_predictions(y, p, n_boot=1000)``, i.e. every metric of
``metrics.json`` with percentile bootstrap intervals (AUROC with bootstrap and DeLong intervals,
AUPRC, Brier, scaled Brier, calibration intercept, slope, O/E, ICI, E50, E90, the LOWESS
calibration curve with its band, sensitivity/specificity/PPV/NPV/flag rate at 0.1, 0.2, 0.3 and at
a target sensitivity of 0.8, the decision curve and the ROC curve). With ``--baseline`` the
comparison with a NEWS2-like integer baseline score is added (paired bootstrap, DeLong test).
Subgroups (``sensitive_features``) are not part of this benchmark.

Baseline for the ratio (named, measured in the same run): the naive approach, a Python loop that
draws each resample's row indices and calls scikit-learn (``roc_auc_score``,
``average_precision_score``, ``brier_score_loss``, ``confusion_matrix`` per threshold),
statsmodels ``GLM`` (calibration intercept with an offset, calibration slope) and statsmodels
``lowess`` (ICI/E50/E90/curve, the same smoother clinai uses for its point estimate) on the
resampled rows. A few naive replicates are timed and scaled to ``n_boot``; clinai's time includes
its point estimates, so the ratio is conservative.

Printed: wall time, peak RSS (``resource.getrusage``, measured before the naive loop runs), the
ratio, and the accuracy of the two shortcuts of the fast path against exact computations on the
same resamples (binned LOWESS, Taylor-expanded calibration fits).

Targets (issue 3): under 15 s on 2 cores, peak RSS under 2 GB, ratio >= 30.

    python benchmarks/bench_validation.py [--n 1000000] [--n-boot 1000] [--naive 3] [--baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import numpy as np
from scipy.special import expit


def synthetic(n: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic predictions, outcomes and a NEWS2-like integer baseline score."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = expit(-1.5 + 1.2 * x)
    y = rng.binomial(1, expit(-1.4 + 1.1 * x)).astype(float)
    news2 = np.clip(np.round(6 + 2.5 * x + rng.normal(0, 2.0, size=n)), 0, 20)
    return y, p, news2


def naive_replicate(y: np.ndarray, p: np.ndarray, rng: np.random.Generator) -> None:
    """One bootstrap replicate the naive way: resample rows, call the reference libraries."""
    import statsmodels.api as sm
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        confusion_matrix,
        roc_auc_score,
    )
    from statsmodels.nonparametric.smoothers_lowess import lowess

    index = rng.integers(0, y.shape[0], size=y.shape[0])
    yb, pb = y[index], p[index]
    roc_auc_score(yb, pb)
    average_precision_score(yb, pb)
    brier = brier_score_loss(yb, pb)
    prevalence = yb.mean()
    _ = 1 - brier / (prevalence * (1 - prevalence))
    _ = yb.sum() / pb.sum()
    for threshold in (0.1, 0.2, 0.3):
        confusion_matrix(yb, pb >= threshold)
    lp = np.log(np.clip(pb, 1e-6, 1 - 1e-6) / (1 - np.clip(pb, 1e-6, 1 - 1e-6)))
    ones = np.ones_like(lp)
    sm.GLM(yb, ones[:, None], family=sm.families.Binomial(), offset=lp).fit()
    sm.GLM(yb, np.column_stack([ones, lp]), family=sm.families.Binomial()).fit()
    smooth = lowess(yb, pb, frac=0.75, it=0, delta=0.01 * np.ptp(pb), return_sorted=False)
    error = np.abs(pb - smooth)
    error.mean(), np.median(error), np.quantile(error, 0.9)


def accuracy_checks(y: np.ndarray, p: np.ndarray, n_checks: int) -> None:
    """Fast-path shortcuts against exact computations on the same resamples."""
    from clinai.evaluation.calibration._calibration import (
        _fit_intercept,
        _fit_slope,
        _logit_clipped,
        calibration_grid,
    )
    from clinai.evaluation.resampling import _fast_bootstrap as fb
    from clinai.evaluation.resampling import engine
    from clinai.evaluation.validate._steps import _lowess_replicate

    n = y.shape[0]
    x = _logit_clipped(p)
    ones = np.ones((1, n))
    a0 = float(_fit_intercept(y, x, ones)[0])
    c0, b0 = (float(v[0]) for v in _fit_slope(y, x, ones))
    grid = calibration_grid(p, 20)
    layout = fb._prepare(
        y,
        p,
        clusters=engine.clusters_of(None, n),
        thresholds=np.array([0.2]),
        nb_thresholds=np.zeros(0),
        curve_grid=grid,
        intercept=a0,
        slope_fit=(c0, b0),
        baseline=None,
        baseline_probability=False,
    )
    events = np.flatnonzero(y == 1)
    non_events = np.flatnonzero(y == 0)
    order = np.concatenate(
        [
            events[np.argsort(p[events], kind="stable")],
            non_events[np.argsort(p[non_events], kind="stable")],
        ]
    )
    exact_lowess = _lowess_replicate(grid)
    rng = np.random.default_rng(7)
    worst = {"ici": 0.0, "e50": 0.0, "e90": 0.0, "curve": 0.0, "intercept": 0.0, "slope": 0.0}
    for check in range(n_checks + 1):
        if check == 0:
            counts = np.ones((1, n), dtype=np.int64)  # the full sample itself
        else:
            counts = np.bincount(rng.integers(0, n, size=n), minlength=n)[None, :]
        chunk = fb._replicate_chunk(layout, counts)
        rows = np.repeat(order, counts[0])
        exact = exact_lowess(y[rows], p[rows])
        diff = np.abs(chunk["lowess"][0] - exact)
        worst["ici"] = max(worst["ici"], diff[0])
        worst["e50"] = max(worst["e50"], diff[1])
        worst["e90"] = max(worst["e90"], diff[2])
        worst["curve"] = max(worst["curve"], float(np.nanmax(diff[3:])))
        weights = counts.astype(float)
        exact_a = _fit_intercept(layout.y, layout.x, weights)[0]
        exact_b = _fit_slope(layout.y, layout.x, weights)[1][0]
        worst["intercept"] = max(worst["intercept"], abs(chunk["intercept"][0] - exact_a))
        worst["slope"] = max(worst["slope"], abs(chunk["slope"][0] - exact_b))
    print(
        f"accuracy of the fast path on the full sample and {n_checks} resamples "
        "(max |fast - exact|, same counts):"
    )
    print(
        f"  binned LOWESS: ICI {worst['ici']:.1e}  E50 {worst['e50']:.1e}  "
        f"E90 {worst['e90']:.1e}  curve {worst['curve']:.1e}"
    )
    print(
        f"  Taylor calibration fits: intercept {worst['intercept']:.1e}  slope {worst['slope']:.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=1_000)
    parser.add_argument("--naive", type=int, default=3, help="naive replicates to time")
    parser.add_argument("--baseline", action="store_true", help="add a baseline comparison")
    parser.add_argument("--accuracy", type=int, default=2, help="resamples for the accuracy check")
    args = parser.parse_args()

    from clinai.evaluation import evaluate_predictions

    y, p, news2 = synthetic(args.n)
    print(
        f"SYNTHETIC data: n = {args.n:,} predictions, prevalence {y.mean():.3f}; "
        f"B = {args.n_boot:,} bootstrap replicates; {os.cpu_count()} CPU(s) visible; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    extra = {"y_baseline": news2, "baseline_name": "NEWS2-like"} if args.baseline else {}
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = evaluate_predictions(
        y, p, n_boot=args.n_boot, random_state=0, target_sensitivities=(0.8,), **extra
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = after.ru_maxrss / 1024.0
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    document = result.to_dict()
    auroc = document["auroc"]
    print(f"clinai evaluate_predictions: wall time {wall:.1f} s, peak RSS {peak_mb:,.0f} MB")
    print(
        f"  CPU time {user:.1f} s user + {system:.1f} s system (system time is mostly the "
        f"first touch of new memory); load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"  AUROC {auroc['estimate']:.4f} ({auroc['ci_low']:.4f} to {auroc['ci_high']:.4f}); "
        f"calibration slope {document['calibration']['slope']['estimate']:.4f}; "
        f"ICI {document['calibration']['ici']['estimate']:.5f}"
    )

    rng = np.random.default_rng(1)
    naive_times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.naive):
            tick = time.perf_counter()
            naive_replicate(y, p, rng)
            naive_times.append(time.perf_counter() - tick)
    per_replicate = float(np.mean(naive_times))
    naive_total = per_replicate * args.n_boot
    print(
        f"naive loop (scikit-learn + statsmodels per resample): {per_replicate:.2f} s per "
        f"replicate x {args.n_boot:,} = {naive_total:,.0f} s (scaled from {args.naive})"
    )
    print(f"ratio naive / clinai: {naive_total / wall:,.0f}x")
    targets = [
        ("wall time < 15 s", wall < 15.0),
        ("peak RSS < 2 GB", peak_mb < 2048.0),
        ("ratio >= 30x", naive_total / wall >= 30.0),
    ]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    if args.accuracy:
        accuracy_checks(y, p, args.accuracy)


if __name__ == "__main__":
    main()
