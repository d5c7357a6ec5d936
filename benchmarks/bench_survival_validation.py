"""Speed benchmark: survival validation metrics on 1,000,000 predictions, against scikit-survival.

Data are SYNTHETIC (seed 2026): linear predictor ``lp ~ N(0, 1)``, event times exponential with
hazard ``0.1 * exp(lp)``, censoring times exponential with hazard 0.05 and administrative
censoring at 20 (an event rounded onto 20 counts as censored), times rounded to 0.01 (so there
are ties, as in day-level registry data). The model's predicted risk by ``t`` is
``1 - exp(-0.1 t exp(0.9 lp))`` (slightly over-fitted). No patient data are involved.

Timed, each on the same inputs: every metric in :data:`METRICS` (one row per metric; SURV-CAL
appends the calibration, decision-curve and D/A-calibration metrics there), first with clinai on
all ``--n`` rows, then with its reference implementation (scikit-survival 0.28). References that
are O(n^2) (``concordance_index_censored``, ``concordance_index_ipcw``: a Python loop over the
events, each comparing with every row) run on the first ``--reference-n`` rows only, and clinai
is timed again on that same subset: the ratio is always on identical inputs, and the table says
which rows it used. The two values are printed side by side (they agree to ~1e-12).

``--bootstrap B`` times the reuse that a bootstrap will build on: data sorted and scores ranked
once, then each replicate passes its row counts (multinomial draws of patients, broadcast to
their rows) as weights to the private ``_from_sorted`` kernels of Harrell's and Uno's C (one
pass for both), the censoring distribution, the time-dependent AUC and the Brier score/IPA.

Printed: seconds per metric, peak RSS (``resource.getrusage``), the ratio to scikit-survival.
Targets (issue 16): each metric on 1 M rows in about a second; with all item-3 metrics and
B = 200 patient-clustered replicates, 60 s and 2 GB on 2 cores (built on top of this later).

    python benchmarks/bench_survival_validation.py [--n 1000000] [--reference-n 20000]
        [--bootstrap 0] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import write_json


@dataclass(frozen=True)
class SurvivalData:
    """Synthetic validation data: outcome, linear predictor, risk by the horizon and a grid."""

    time: np.ndarray
    event: np.ndarray
    lp: np.ndarray
    risk: np.ndarray  # predicted risk by ``horizon``
    horizon: float
    grid: np.ndarray  # horizons for the integrated Brier score
    grid_risk: np.ndarray  # (n, len(grid))

    def head(self, n: int) -> SurvivalData:
        """The first ``n`` rows (the rows are in random order already)."""
        return SurvivalData(
            self.time[:n],
            self.event[:n],
            self.lp[:n],
            self.risk[:n],
            self.horizon,
            self.grid,
            self.grid_risk[:n],
        )


def synthetic(n: int, seed: int = 2026) -> SurvivalData:
    """Synthetic survival outcomes and predictions (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(size=n)
    event_time = rng.exponential(1.0 / (0.1 * np.exp(lp)))
    censor_time = np.minimum(rng.exponential(1.0 / 0.05, size=n), 20.0)
    time_ = np.maximum(np.round(np.minimum(event_time, censor_time), 2), 0.01)
    # an event rounded onto the end of follow-up would make G(T_i) = 0 there: censor it
    event = (event_time <= censor_time) & (time_ < 20.0)
    grid = np.array([2.0, 4.0, 6.0, 8.0, 10.0])

    def risk_by(t: float | np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-0.1 * np.multiply.outer(np.exp(0.9 * lp), np.atleast_1d(t)))

    return SurvivalData(time_, event, lp, risk_by(5.0)[:, 0], 5.0, grid, risk_by(grid))


@dataclass(frozen=True)
class Metric:
    """One benchmarked metric: clinai's call, the reference's call, both returning a float.

    ``reference_n``: the reference is O(n^2) and runs on ``--reference-n`` rows (its default
    here); None: on all rows. clinai is timed again on that subset for the ratio.
    """

    name: str
    clinai: Callable[[SurvivalData], float]
    reference: Callable[[SurvivalData], float] | None
    reference_n: int | None = None


def _outcome(data: SurvivalData) -> Any:
    from sksurv.util import Surv

    return Surv.from_arrays(data.event, data.time)


def _sk_harrell(d: SurvivalData) -> float:
    from sksurv.metrics import concordance_index_censored

    return float(concordance_index_censored(d.event, d.time, d.lp)[0])


def _sk_uno(d: SurvivalData) -> float:
    from sksurv.metrics import concordance_index_ipcw

    y = _outcome(d)
    return float(concordance_index_ipcw(y, y, d.lp, tau=d.horizon)[0])


def _sk_auc(d: SurvivalData) -> float:
    from sksurv.metrics import cumulative_dynamic_auc

    y = _outcome(d)
    return float(cumulative_dynamic_auc(y, y, d.risk, d.horizon)[0][0])


def _sk_brier(d: SurvivalData) -> float:
    from sksurv.metrics import brier_score

    y = _outcome(d)
    return float(brier_score(y, y, 1.0 - d.risk, d.horizon)[1][0])


def _sk_ibs(d: SurvivalData) -> float:
    from sksurv.metrics import integrated_brier_score

    y = _outcome(d)
    return float(integrated_brier_score(y, y, 1.0 - d.grid_risk, d.grid))


def _sk_km(d: SurvivalData) -> float:
    from sksurv.nonparametric import kaplan_meier_estimator

    times, survival = kaplan_meier_estimator(d.event, d.time)
    return float(survival[np.searchsorted(times, d.horizon, side="right") - 1])


def _clinai() -> Any:
    import clinai.evaluation as ev

    return ev


#: The metrics timed, in order. SURV-CAL: append yours here (one ``Metric`` each).
METRICS: list[Metric] = [
    Metric("kaplan_meier", lambda d: _clinai().kaplan_meier(d.time, d.event).at(d.horizon), _sk_km),
    Metric(
        "harrell_c",
        lambda d: _clinai().harrell_c(d.time, d.event, d.lp).estimate,
        _sk_harrell,
        20_000,
    ),
    Metric(
        "uno_c (tau = horizon)",
        lambda d: _clinai().uno_c(d.time, d.event, d.lp, tau=d.horizon).estimate,
        _sk_uno,
        20_000,
    ),
    Metric(
        "time_dependent_auc",
        lambda d: _clinai().time_dependent_auc(d.time, d.event, d.risk, d.horizon).auc[0],
        _sk_auc,
    ),
    Metric(
        "ipcw_brier_score (+ null, IPA)",
        lambda d: _clinai().ipcw_brier_score(d.time, d.event, d.risk, d.horizon).brier,
        _sk_brier,
    ),
    Metric(
        "integrated_brier_score (5 horizons)",
        lambda d: _clinai().integrated_brier_score(d.time, d.event, d.grid_risk, d.grid).integrated,
        _sk_ibs,
    ),
]


def timed(function: Callable[[SurvivalData], float], data: SurvivalData) -> tuple[float, float]:
    """Return (wall seconds, value) of one call; its CPU seconds go to ``CPU_SECONDS``."""
    start, cpu = time.perf_counter(), time.process_time()
    value = float(function(data))
    CPU_SECONDS.append(time.process_time() - cpu)
    return time.perf_counter() - start, value


CPU_SECONDS: list[float] = []  # of each timed call, in order (the machine is shared: wall varies)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bootstrap_reuse(
    data: SurvivalData, n_boot: int, seed: int = 1, chunk: int = 16
) -> dict[str, float]:
    """Time B replicates of C (Harrell and Uno), AUC(t) and Brier/IPA reusing one sort.

    Patients (about 1.25 rows each, as repeated admissions would give) are drawn with
    replacement; each row weighs its patient's count. The concordance pass serves
    ``chunk`` replicates at once; the rest is O(n) per replicate.
    """
    from clinai.evaluation.survival._brier import _brier_from_prepared, _prepare_brier
    from clinai.evaluation.survival._concordance import (
        _concordance_from_sorted,
        _prepare,
        _uno_rows,
        _uno_weights,
    )
    from clinai.evaluation.survival._kaplan_meier import (
        _censoring_at_unique,
        _survival_at_unique,
        sort_survival,
    )
    from clinai.evaluation.survival._time_auc import _auc_from_prepared, _prepare_auc

    wall, cpu = time.perf_counter(), time.process_time()
    sorted_data = sort_survival(data.time, data.event)
    ranks = _prepare(sorted_data, data.lp, 1e-8)
    sorted_risk = data.risk[sorted_data.order]
    auc_inputs = _prepare_auc(sorted_data, sorted_risk, data.horizon, 1e-8)
    brier_inputs = _prepare_brier(sorted_data, sorted_risk, data.horizon)
    uno_rows = _uno_rows(sorted_data, data.horizon)
    prepared = time.perf_counter() - wall
    rng = np.random.default_rng(seed)
    n = data.time.shape[0]
    patient = np.sort(rng.integers(0, int(n / 1.25), size=n))[rng.permutation(n)]
    n_patients = int(patient.max()) + 1
    sorted_patient = patient[sorted_data.order]
    patient_by_risk = sorted_patient[auc_inputs.by_risk]
    wall, cpu = time.perf_counter(), time.process_time()
    estimates = []
    for first in range(0, n_boot, chunk):
        size = min(chunk, n_boot - first)
        draws = rng.integers(0, n_patients, (size, n_patients))
        counts = np.stack([np.bincount(d, minlength=n_patients) for d in draws], axis=1)
        weights = counts[sorted_patient].astype(float)  # (n, size): the kernel's layout
        columns = np.ascontiguousarray(weights.T)  # one contiguous row per replicate
        risk_order = np.ascontiguousarray(counts[patient_by_risk].T.astype(float))
        uno = np.empty((n, 1, size))
        for b, w in enumerate(columns):
            g_unique = _censoring_at_unique(sorted_data, w)
            uno[:, 0, b] = _uno_weights(sorted_data, g_unique, uno_rows)[0]
            auc = _auc_from_prepared(auc_inputs, g_unique, risk_order[b])
            survival = _survival_at_unique(sorted_data, w)
            brier = _brier_from_prepared(brier_inputs, g_unique, survival, w)
            estimates.append([auc, *brier])
        numerators, denominators, _ = _concordance_from_sorted(ranks, weights, uno)
        estimates[-size:] = [
            [*c, *rest]
            for c, rest in zip(numerators / denominators, estimates[-size:], strict=True)
        ]
    loop_wall, loop_cpu = time.perf_counter() - wall, time.process_time() - cpu
    spread = np.percentile(np.asarray(estimates), [2.5, 97.5], axis=0)
    print("bootstrap 95% ranges (harrell, uno, auc, brier, null brier):", np.round(spread, 4))
    return {
        "prepare_s": prepared,
        "replicates_s": loop_wall,
        "replicates_cpu_s": loop_cpu,
        "per_replicate_s": loop_wall / max(n_boot, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reference-n", type=int, default=20_000)
    parser.add_argument("--bootstrap", type=int, default=0, help="B replicates of the reuse demo")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    data = synthetic(args.n)
    print(f"n = {args.n:,} rows, {int(data.event.sum()):,} events, horizon t = {data.horizon:g}")
    timed(METRICS[1].clinai, data.head(1000))  # load numba's compiled kernel once, not timed
    rows = []
    for metric in METRICS:
        seconds, value = timed(metric.clinai, data)
        row: dict[str, Any] = {
            "metric": metric.name,
            "clinai_s": seconds,
            "clinai_cpu_s": CPU_SECONDS[-1],
            "clinai": value,
        }
        if metric.reference is not None:
            m = args.n if metric.reference_n is None else min(args.n, args.reference_n)
            subset = data if m == args.n else data.head(m)
            ours_s, ours = (seconds, value) if m == args.n else timed(metric.clinai, subset)
            ref_s, ref = timed(metric.reference, subset)
            row |= {
                "reference_rows": m,
                "clinai_on_those_rows_s": ours_s,
                "reference_s": ref_s,
                "ratio": ref_s / ours_s,
                "abs_difference": abs(ours - ref),
            }
        rows.append(row)
        ratio = f"{row['ratio']:8.1f}x on {row['reference_rows']:,} rows" if "ratio" in row else ""
        diff = f"  |diff| {row['abs_difference']:.1e}" if "ratio" in row else ""
        print(f"{metric.name:36s} {seconds:6.3f} s ({row['clinai_cpu_s']:.3f} CPU)  {ratio}{diff}")
    result: dict[str, Any] = {"n": args.n, "metrics": rows}
    if args.bootstrap:
        result["bootstrap"] = bootstrap_reuse(data, args.bootstrap)
        boot = result["bootstrap"]
        print(
            f"bootstrap reuse: prepare {boot['prepare_s']:.2f} s, {args.bootstrap} replicates "
            f"{boot['replicates_s']:.1f} s wall, {boot['replicates_cpu_s']:.1f} s CPU "
            f"({boot['per_replicate_s']:.3f} s wall each)"
        )
    result["peak_rss_mb"] = peak_rss_mb()
    print(f"peak RSS {result['peak_rss_mb']:,.0f} MB")
    if args.out is not None:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
