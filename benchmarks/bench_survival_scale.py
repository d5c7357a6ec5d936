"""Survival validation at scale: evaluate_survival on 1,000,000 predictions with B = 200.

Data are SYNTHETIC (``bench_survival_validation.synthetic``, seed 2026; about 1.25 rows per
patient, as repeated admissions give, so the bootstrap resamples patients). Timed:

1. ``clinai.evaluation.evaluate_survival`` with every metric of issue 16 item 3 at one
   horizon (Harrell's and Uno's C, AUC(t), O/E, calibration slope, flexible calibration
   with ICI/E50/E90/Emax, IPCW Brier and IPA, decision curve with 50 thresholds, one
   subgroup attribute), ``--boot`` patient-clustered replicates: wall, CPU and peak RSS.
2. The naive loop: per replicate, build the resampled rows and call scikit-survival 0.28
   (``concordance_index_censored``, ``concordance_index_ipcw``, ``cumulative_dynamic_auc``,
   ``brier_score``, ``kaplan_meier_estimator`` for O/E and the null Brier) and, where
   scikit-survival has no function (calibration slope, flexible calibration, decision
   curve), clinai's public functions. Its two C indices loop over the events in Python,
   comparing each with every row: O(n^2). A few replicates are timed on ``--naive-n`` rows,
   and each part is scaled to ``--n`` rows by its own complexity (n^2 for the C indices,
   n log n for the rest), measured on two sizes; the table shows both the measured and the
   scaled seconds. Also timed: the same loop with clinai's public functions only on all rows
   (what a loop costs without the case-weight reuse).

    python benchmarks/bench_survival_scale.py [--n 1000000] [--boot 200] [--naive-n 20000]
        [--naive-reps 2] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import write_json
from bench_survival_validation import SurvivalData, synthetic


def _patients(n: int, seed: int = 7) -> np.ndarray:
    """About 1.25 rows per patient, rows in random order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.integers(0, int(n / 1.25), size=n))[rng.permutation(n)]


def _clock(function: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def _sksurv_parts(d: SurvivalData) -> dict[str, Callable[[], Any]]:
    """The naive replicate's parts on rows ``d`` (already resampled)."""
    from sksurv.metrics import (
        brier_score,
        concordance_index_censored,
        concordance_index_ipcw,
        cumulative_dynamic_auc,
    )
    from sksurv.nonparametric import kaplan_meier_estimator
    from sksurv.util import Surv

    import clinai.evaluation as ev

    y = Surv.from_arrays(d.event, d.time)
    t = d.horizon
    return {
        "harrell_c (sksurv, n^2)": lambda: concordance_index_censored(d.event, d.time, d.lp),
        "uno_c (sksurv, n^2)": lambda: concordance_index_ipcw(y, y, d.lp, tau=t),
        "time_auc (sksurv)": lambda: cumulative_dynamic_auc(y, y, d.risk, t),
        "brier (sksurv)": lambda: brier_score(y, y, 1.0 - d.risk, t),
        "kaplan_meier for O/E, null Brier (sksurv)": lambda: kaplan_meier_estimator(
            d.event, d.time
        ),
        "calibration slope (clinai)": lambda: ev.survival_calibration_slope(
            d.time, d.event, lp=d.lp, t=t
        ),
        "flexible calibration (clinai)": lambda: ev.flexible_survival_calibration(
            d.time, d.event, d.risk, t=t
        ),
        "decision curve (clinai)": lambda: ev.survival_decision_curve(d.time, d.event, d.risk, t=t),
    }


def _resampled(data: SurvivalData, patients: np.ndarray, rng: np.random.Generator) -> SurvivalData:
    units = int(patients.max()) + 1
    counts = np.bincount(rng.integers(0, units, units), minlength=units)
    rows = np.repeat(np.arange(patients.shape[0]), counts[patients])
    return SurvivalData(
        data.time[rows],
        data.event[rows],
        data.lp[rows],
        data.risk[rows],
        data.horizon,
        data.grid,
        data.grid_risk[rows],
    )


def naive(data: SurvivalData, n_target: int, reps: int) -> dict[str, Any]:
    """Per-part seconds per replicate at two sizes, scaled to ``n_target`` rows."""
    sizes = (data.time.shape[0] // 2, data.time.shape[0])
    seconds: dict[str, list[float]] = {}
    rng = np.random.default_rng(5)
    for m in sizes:
        head = data.head(m)
        patients = _patients(m)
        for _ in range(reps):
            for name, part in _sksurv_parts(_resampled(head, patients, rng)).items():
                seconds.setdefault(name, []).append(_clock(part)[1] / reps)
    rows = {}
    for name, values in seconds.items():
        small = sum(values[:reps])
        large = sum(values[reps:])
        power = 2.0 if "n^2" in name else 1.0  # n log n taken as ~n at these sizes (conservative)
        scaled = large * (n_target / sizes[1]) ** power
        rows[name] = {"seconds_at": {sizes[0]: small, sizes[1]: large}, "scaled_s": scaled}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--naive-n", type=int, default=20_000)
    parser.add_argument("--naive-reps", type=int, default=2)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import clinai.evaluation as ev

    data = synthetic(args.n)
    patients = _patients(args.n)
    sex = pd.DataFrame({"sex": np.where(np.arange(args.n) % 2 == 0, "F", "M")})
    print(f"n = {args.n:,} rows, {patients.max() + 1:,} patients, {int(data.event.sum()):,} events")
    small = data.head(2000)  # compile numba's kernels once, not timed
    ev.evaluate_survival(small.time, small.event, small.risk, horizon=5.0, lp=small.lp, n_boot=2)
    options = {"lp": data.lp, "patient_ids": patients, "groups": sex, "n_boot": args.boot}
    report = lambda done, total: print(f"  {done}/{total}", flush=True)  # noqa: E731
    wall, cpu, result = _clock(
        lambda: ev.evaluate_survival(
            data.time, data.event, data.risk, horizon=data.horizon, progress=report, **options
        )
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"evaluate_survival, B = {args.boot}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"peak RSS {peak:,.0f} MB"
    )
    for name, estimate in result.metrics.items():
        print(
            f"  {name:18s} {estimate.estimate:.4f} "
            f"({estimate.ci_low:.4f} to {estimate.ci_high:.4f})"
        )
    out: dict[str, Any] = {
        "n": args.n,
        "n_boot": args.boot,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": peak,
    }
    if not args.skip_naive:
        parts = naive(data.head(args.naive_n), args.n, args.naive_reps)
        per_replicate = sum(p["scaled_s"] for p in parts.values())
        total = per_replicate * args.boot
        for name, part in parts.items():
            print(f"  naive {name:42s} {part['scaled_s']:10.1f} s per replicate at {args.n:,} rows")
        print(
            f"naive loop: {total:,.0f} s CPU for B = {args.boot} (scaled); "
            f"ratio {total / cpu:,.0f}x"
        )
        without_c = sum(p["scaled_s"] for k, p in parts.items() if "n^2" not in k) * args.boot
        print(
            f"  without the two O(n^2) C indices: {without_c:,.0f} s; ratio {without_c / cpu:,.1f}x"
        )
        out |= {
            "naive_parts": parts,
            "naive_s": total,
            "ratio": total / cpu,
            "naive_without_c_s": without_c,
            "ratio_without_c": without_c / cpu,
        }
        rng = np.random.default_rng(9)
        loop = [
            _clock(lambda: _public_replicate(ev, _resampled(data, patients, rng)))[1]
            for _ in range(2)
        ]
        out["public_loop_per_replicate_s"] = float(np.mean(loop))
        print(
            f"loop over clinai's public functions on all rows: {np.mean(loop):.2f} s CPU per "
            f"replicate, {np.mean(loop) * args.boot:,.0f} s for B = {args.boot}; ratio "
            f"{np.mean(loop) * args.boot / cpu:.1f}x"
        )
    if args.out is not None:
        write_json(args.out, out)


def _public_replicate(ev: Any, d: SurvivalData) -> None:
    """One replicate by the public functions (each sorts and checks again)."""
    t = d.horizon
    ev.harrell_c(d.time, d.event, d.lp)
    ev.uno_c(d.time, d.event, d.lp, tau=t)
    ev.time_dependent_auc(d.time, d.event, d.risk, t)
    ev.ipcw_brier_score(d.time, d.event, d.risk, t)
    ev.survival_oe_ratio(d.time, d.event, d.risk, t=t)
    ev.survival_calibration_slope(d.time, d.event, lp=d.lp, t=t)
    ev.flexible_survival_calibration(d.time, d.event, d.risk, t=t)
    ev.survival_decision_curve(d.time, d.event, d.risk, t=t)
    math.isfinite(t)


if __name__ == "__main__":
    main()
