"""Speed benchmark: survival calibration and decision curve on 1,000,000 predictions.

Data: the SYNTHETIC set of ``bench_survival_validation.py`` (seed 2026; exponential event times
with hazard ``0.1 exp(lp)``, censoring, ties from rounding to 0.01; predicted risk by t = 5
``1 - exp(-0.5 exp(0.9 lp))``, slightly under-dispersed). For D- and A-calibration each
patient's predicted survival at their own time is ``exp(-0.1 exp(0.9 lp) T_i)``. No patient data.

Timed with clinai on all ``--n`` rows: O/E at t, the calibration slope (on lp over the whole
follow-up, and on cloglog(risk) censored at t), the flexible calibration curve (Cox with a
3-knot restricted cubic spline, ICI/E50/E90/Emax), D-calibration, A-calibration, and the
decision curve at 50 thresholds. References, on identical inputs: scikit-survival's
``kaplan_meier_estimator`` (O/E; the decision curve as one Kaplan-Meier per threshold on the
rows above it) on all rows; statsmodels ``PHReg`` (Breslow ties; slope, flexible curve) on the
first ``--reference-n`` rows only, with clinai timed again on those rows for the ratio (PHReg
loops over the event times in Python: it took 171 s for one covariate on 1 M rows on this
project's 2-core machine). D- and A-calibration have no library reference (their by-definition
versions are in the tests).

``--repeat R`` times each clinai call R times and keeps the fastest (the machine is shared, so
the minimum is the least disturbed run); references run once.

    python benchmarks/bench_survival_calibration.py [--n 1000000] [--reference-n 20000]
        [--repeat 1] [--out FILE.json]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import write_json
from bench_survival_validation import SurvivalData, peak_rss_mb, synthetic, timed

THRESHOLDS = np.round(np.arange(0.01, 0.51, 0.01), 10)


def _own_survival(d: SurvivalData) -> np.ndarray:
    return np.exp(-0.1 * np.exp(0.9 * d.lp) * d.time)


def _km_at(event: np.ndarray, time: np.ndarray, t: float) -> float:
    from sksurv.nonparametric import kaplan_meier_estimator

    times, survival = kaplan_meier_estimator(event, time)
    index = np.searchsorted(times, t, side="right") - 1
    return 1.0 if index < 0 else float(survival[index])


def _phreg(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> Any:
    from statsmodels.duration.hazard_regression import PHReg

    x = x.reshape(time.shape[0], -1)
    return PHReg(time, x, status=event.astype(float), ties="breslow").fit()


def _ref_oe(d: SurvivalData) -> float:
    return (1.0 - _km_at(d.event, d.time, d.horizon)) / d.risk.mean()


def _ref_slope_lp(d: SurvivalData) -> float:
    return float(_phreg(d.time, d.event, d.lp).params[0])


def _ref_slope_risk(d: SurvivalData) -> float:
    from clinai.evaluation.survival._calibration import cloglog

    t = d.horizon
    return float(_phreg(np.minimum(d.time, t), d.event & (d.time <= t), cloglog(d.risk)).params[0])


def _ref_flexible(d: SurvivalData) -> float:
    """ICI from PHReg's fit of the same spline basis, Breslow H0(t) summed by definition."""
    from clinai.evaluation.survival._calibration import cloglog
    from clinai.evaluation.survival._flexible_calibration import rcs_basis, rcs_knots

    t = d.horizon
    time, event = np.minimum(d.time, t), d.event & (d.time <= t)
    x = cloglog(d.risk)
    basis = rcs_basis(x, rcs_knots(x, 3))
    relative = np.exp(basis @ _phreg(time, event, basis).params)
    order = np.argsort(-time, kind="stable")
    at_risk = np.cumsum(relative[order])  # sum over time >= time[order[k]] up to ties
    _, first = np.unique(-time[order], return_index=True)
    last = np.r_[first[1:], time.shape[0]] - 1
    events = np.add.reduceat(event[order].astype(float), first)
    h0 = float((events / at_risk[last]).sum())
    return float(np.abs(-np.expm1(-h0 * relative) - d.risk).mean())


def _ref_decision_curve(d: SurvivalData) -> float:
    """Net benefit at 0.11 after one scikit-survival Kaplan-Meier per threshold (all 50 run)."""
    values = []
    for threshold in THRESHOLDS:
        above = d.risk >= threshold
        share = above.mean()
        s_above = _km_at(d.event[above], d.time[above], d.horizon) if share > 0 else 1.0
        odds = threshold / (1.0 - threshold)
        values.append((1.0 - s_above) * share - s_above * share * odds)
    return values[10]


def _clinai() -> Any:
    import clinai.evaluation as ev

    return ev


#: (name, clinai, reference, reference on the first --reference-n rows only)
METRICS: list[tuple[str, Callable[[SurvivalData], float], Callable | None, bool]] = [
    (
        "survival_oe_ratio",
        lambda d: _clinai().survival_oe_ratio(d.time, d.event, d.risk, t=d.horizon).oe_ratio,
        _ref_oe,
        False,
    ),
    (
        "survival_calibration_slope (lp)",
        lambda d: _clinai().survival_calibration_slope(d.time, d.event, lp=d.lp).slope,
        _ref_slope_lp,
        True,
    ),
    (
        "survival_calibration_slope (risk at t)",
        lambda d: (
            _clinai().survival_calibration_slope(d.time, d.event, risk=d.risk, t=d.horizon).slope
        ),
        _ref_slope_risk,
        True,
    ),
    (
        "flexible_survival_calibration (ICI)",
        lambda d: _clinai().flexible_survival_calibration(d.time, d.event, d.risk, t=d.horizon).ici,
        _ref_flexible,
        True,
    ),
    (
        "d_calibration",
        lambda d: _clinai().d_calibration(d.time, d.event, _own_survival(d)).statistic,
        None,
        False,
    ),
    (
        "a_calibration",
        lambda d: _clinai().a_calibration(d.time, d.event, _own_survival(d)).statistic,
        None,
        False,
    ),
    (
        "survival_decision_curve (50 thresholds)",
        lambda d: (
            _clinai()
            .survival_decision_curve(d.time, d.event, d.risk, t=d.horizon, thresholds=THRESHOLDS)
            .points[10]
            .net_benefit
        ),
        _ref_decision_curve,
        False,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reference-n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1, help="keep the fastest of R runs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    data = synthetic(args.n)
    print(f"n = {args.n:,} rows, {int(data.event.sum()):,} events, horizon t = {data.horizon:g}")
    for _, ours, reference, _ in METRICS:  # imports and first calls, not timed
        timed(ours, data.head(2000))
        if reference is not None:
            timed(reference, data.head(2000))
    rows = []
    for name, ours, reference, on_subset in METRICS:
        seconds, value = min(timed(ours, data) for _ in range(max(args.repeat, 1)))
        row: dict[str, Any] = {"metric": name, "clinai_s": seconds, "clinai": value}
        line = f"{name:42s} {seconds:7.3f} s"
        if reference is not None:
            m = min(args.n, args.reference_n) if on_subset else args.n
            subset = data.head(m) if m < args.n else data
            ours_s, ours_value = timed(ours, subset) if m < args.n else (seconds, value)
            ref_s, ref_value = timed(reference, subset)
            row |= {
                "reference_rows": m,
                "clinai_on_those_rows_s": ours_s,
                "reference_s": ref_s,
                "ratio": ref_s / ours_s,
                "abs_difference": abs(ours_value - ref_value),
            }
            line += (
                f"  {ref_s / ours_s:8.1f}x on {m:,} rows  |diff| {abs(ours_value - ref_value):.1e}"
            )
        rows.append(row)
        print(line)
    result: dict[str, Any] = {
        "n": args.n,
        "repeat": args.repeat,
        "metrics": rows,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(f"peak RSS {result['peak_rss_mb']:,.0f} MB")
    if args.out is not None:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
