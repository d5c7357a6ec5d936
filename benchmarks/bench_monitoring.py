"""Monitoring quality: detection delay of planted shifts and false alarms on stable streams.

All data are SYNTHETIC (``clinai.data.generate_ward_stays``; no real patient behind any row),
pushed through the ``acute_deterioration`` use case's own pipeline (hourly prediction times,
136 window features from minute-level vitals) and judged against the monitoring plan of
``configs/acute_deterioration.yaml`` (monthly periods, its limits, minimum events and CUSUM).

Model (fixed once): a logistic regression (median imputation with missing indicators,
standardised; ward one-hot) fitted on ``--dev-stays`` development stays (seed 2026, 2024); its
risks on the held-out 30 % of the development patients give the drift reference
(``drift_reference``, with the training features) and the development alert rate at the plan's
operating threshold.

Streams. For each of four SYNTHETIC pools of ``--pool-factor`` x 12 x ``--stays-per-month``
stays admitted over 2025 (the same seed, so they are identical before the onset): no drift,
``oe_shift`` 1.3 from month 4 (events 1.3x the model-expected rate, the extra ones without
warning signs), ``spo2_offset`` -2 from month 4 (a new monitor brand) and ``older_case_mix``
+10 years from month 4, the pool's rows are scored once. A 12-month stream is then drawn from a
pool month by month: a random ``1 / --pool-factor`` of the month's (stay, month) pieces
(without replacement, so a period holds distinct stays, as a ward's month does), so each stream
has the volume of a ward with ``--stays-per-month`` admissions a month; each piece counts as its
own patient in the patient-clustered bootstrap. Stable streams are drawn from the no-drift
pool (``--streams``, default 200); shifted streams ``--replicates`` times from each scenario
pool. The outcomes are
the generator's own (an event within 24 h of the prediction time), so the hours of one stay stay
correlated, as on a ward: not ``y ~ Bernoulli(p)`` per row, which would understate the noise.

Per period (calendar month) as ``clinai monitor`` judges it, with ``clinai.evaluation`` and
``clinai.evaluation.monitoring``: O/E and calibration slope (estimates), AUROC with its
patient-clustered bootstrap interval (``n_boot`` of the plan), alert-rate change against
development, the largest feature PSI, the largest rise in missingness, the PSI of the risks
(``feature_drift_frame``), the risk-adjusted CUSUM over the stream (``risk_adjusted_cusum``
continued period by period on each stay's first prediction time of the period, as
``clinai monitor`` charts it (``first_row_per_patient``: the hours of a stay share one event);
its limit from ``cusum_limit`` over those rows' risks under the plan's odds ratio and
false-alarm rate; signalled in a period where it reaches the limit), and
the verdict (``period_verdict``; a CUSUM signal adds the plan's CUSUM action), as
``clinai monitor`` does.

Measured (issue 15):

- detection delay: the first period at or after the onset whose verdict leaves ``in_control``,
  minus the onset (0 = flagged in the onset month); target: within 2 periods, for every
  planted shift; periods flagged before the onset are counted apart;
- false alarms: the share of the stable streams' periods whose verdict is not ``in_control``
  (target <= 5 %), overall and per limit;
- the error of clinai's confidence-based AUROC estimate (``estimated_performance``) against the
  realised AUROC of each period;
- side by side, on the first ``--library-streams`` streams of each kind (same periods):
  NannyML's CBPE (estimated ROC AUC and its alerts) and Evidently's DataDriftPreset (dataset
  drift) run by ``benchmarks/_bench_monitoring_libs.py`` in a separate interpreter
  (``--libs-python``, default ``/tmp/bench-mon-venv/bin/python``), so that their dependencies
  never touch clinai's pinned environment. Without it the comparison is skipped with the
  command that installs it.

    python benchmarks/bench_monitoring.py [--stays-per-month 150] [--streams 200] [--quick]
        [--library-streams 0]  # 0: without the NannyML/Evidently comparison
        [--periods-out FILE]   # every period's measurements, to judge other plans offline
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import ROOT, write_json  # first: puts the repository root on sys.path

START = "2025-01-01"
ONSET = 4
SEED = 2027
#: The planted shifts: name -> generator scenario (None: stable).
SCENARIOS: dict[str, dict[str, Any] | None] = {
    "stable": None,
    "oe_1.3": {"kind": "oe_shift", "onset_month": ONSET, "size": 1.3},
    "spo2_-2": {"kind": "spo2_offset", "onset_month": ONSET, "size": -2.0},
    "case_mix_+10y": {"kind": "older_case_mix", "onset_month": ONSET, "size": 10.0},
}
LIBS_SCRIPT = Path(__file__).with_name("_bench_monitoring_libs.py")
DEFAULT_LIBS_PYTHON = Path("/tmp/bench-mon-venv/bin/python")
LIBS_INSTALL = (
    "python3.11 -m venv /tmp/bench-mon-venv && "
    "/tmp/bench-mon-venv/bin/pip install nannyml==0.13.1 evidently==0.7.23 pyarrow"
)
IN_CONTROL = "in_control"


def _pipeline() -> Any:
    import pipelines.acute_deterioration as pipeline  # the repository root is on sys.path

    return pipeline


def _plan() -> dict[str, Any]:
    from clinai.config import load_config

    config = load_config(ROOT / "configs" / "acute_deterioration.yaml")
    if config.monitoring is None:
        sys.exit("configs/acute_deterioration.yaml has no monitoring: section")
    return config.monitoring.model_dump(mode="json")


def _scored_rows(folder: Path) -> pd.DataFrame:
    """The use case's prediction times of the SYNTHETIC stays in ``folder`` (features, outcome)."""
    pipeline = _pipeline()
    frame = pipeline.load(data_dir=folder)
    keep = ~pipeline.exclusions(frame)[0][1].to_numpy()
    return frame[keep].reset_index(drop=True)


def _generate(
    n_stays: int, seed: int, start: str, scenario: dict[str, Any] | None, out: Path
) -> pd.DataFrame:
    from clinai.runs._monitoring_demo import new_synthetic_stays

    new_synthetic_stays(n_stays, seed=seed, out_dir=out, start=start, scenario=scenario)
    return _scored_rows(out)


def _model(train: pd.DataFrame, y: np.ndarray) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in train.columns if c != "ward"]
    prepare = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                ),
                numeric,
            ),
            ("ward", OneHotEncoder(handle_unknown="ignore"), ["ward"]),
        ]
    )
    model = make_pipeline(prepare, LogisticRegression(C=0.05, max_iter=3000))
    return model.fit(train, y)


class Development:
    """The fixed model, its drift reference, development alert rate and CUSUM limit."""

    def __init__(self, n_stays: int, plan: dict[str, Any], work: Path) -> None:
        from clinai.evaluation import auroc_score, calibration_slope
        from clinai.evaluation.monitoring import drift_reference

        pipeline = _pipeline()
        frame = _generate(n_stays, 2026, "2024-01-01", None, work / "development")
        x = pipeline.features(frame)
        y = pipeline.outcome(frame).to_numpy()
        patients = frame["patient_id"].to_numpy()
        rng = np.random.default_rng(0)
        unique = np.unique(patients)
        test_patients = rng.choice(unique, size=int(0.3 * len(unique)), replace=False)
        test = np.isin(patients, test_patients)
        self.model = _model(x[~test], y[~test])
        self.columns = list(x.columns)
        p_test = self.risk(x[test])
        self.x_test, self.y_test, self.p_test = x[test].reset_index(drop=True), y[test], p_test
        self.time_test = frame.loc[test, "prediction_time"].to_numpy()
        self.threshold = float(plan["operating_threshold"])
        self.alert_rate = float(np.mean(p_test >= self.threshold))
        self.reference = drift_reference(x[~test], risk=p_test, categorical=["ward"])
        self.summary = {
            "stays": n_stays,
            "rows": len(y),
            "test_rows": int(test.sum()),
            "test_events": int(y[test].sum()),
            "test_auroc": round(float(auroc_score(y[test], p_test)), 3),
            "test_calibration_slope": round(float(calibration_slope(y[test], p_test)), 3),
            "test_oe_ratio": round(float(y[test].sum() / p_test.sum()), 3),
            "alert_rate": round(self.alert_rate, 4),
        }

    def risk(self, x: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(x[self.columns])[:, 1]


class Pool:
    """A scenario's scored SYNTHETIC rows, cut into (stay, month) pieces to draw streams from."""

    def __init__(self, frame: pd.DataFrame, dev: Development, pool_factor: int) -> None:
        pipeline = _pipeline()
        start = pd.Timestamp(START)
        months = (
            (frame["prediction_time"].dt.year - start.year) * 12
            + frame["prediction_time"].dt.month
            - start.month
            + 1
        ).to_numpy()
        keep = (months >= 1) & (months <= 12)
        frame = frame[keep].reset_index(drop=True)
        self.month = months[keep]
        self.x = pipeline.features(frame)[dev.columns].reset_index(drop=True)
        self.y = pipeline.outcome(frame).to_numpy().astype(np.int8)
        self.p = dev.risk(self.x)
        self.time = frame["prediction_time"].to_numpy()
        stay = frame["stay_id"].to_numpy()
        # (stay, month) pieces: the rows a drawn stay contributes to one period
        piece = pd.MultiIndex.from_arrays([stay, self.month]).factorize()[0]
        order = np.argsort(piece, kind="stable")
        bounds = np.searchsorted(piece[order], np.arange(piece.max() + 2))
        self.pieces = [order[bounds[k] : bounds[k + 1]] for k in range(piece.max() + 1)]
        piece_month = np.array([self.month[rows[0]] for rows in self.pieces])
        self.by_month = {m: np.flatnonzero(piece_month == m) for m in range(1, 13)}
        self.draws = {m: max(1, round(len(v) / pool_factor)) for m, v in self.by_month.items()}

    def stream(self, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        """Twelve periods: each the rows (in time order) and the cluster of each row."""
        periods = []
        cluster = 0
        for m in range(1, 13):
            drawn = rng.choice(self.by_month[m], size=self.draws[m], replace=False)
            rows = np.concatenate([self.pieces[k] for k in drawn])
            ids = np.concatenate(
                [np.full(len(self.pieces[k]), cluster + i) for i, k in enumerate(drawn)]
            )
            cluster += len(drawn)
            order = np.argsort(self.time[rows], kind="stable")
            periods.append((rows[order], ids[order]))
        return periods


def _measure(
    pool: Pool,
    periods: list[tuple[np.ndarray, np.ndarray]],
    dev: Development,
    plan: dict[str, Any],
    seed: int,
) -> list[dict[str, Any]]:
    """Every period's measurements and verdict, as ``clinai monitor`` judges them."""
    from clinai.evaluation import auroc_score, bootstrap, calibration_slope, oe_ratio
    from clinai.evaluation.monitoring import (
        cusum_limit,
        estimated_performance,
        feature_drift_frame,
        first_row_per_patient,
        period_verdict,
        risk_adjusted_cusum,
    )

    cusum = plan["cusum"]
    limit = cusum.get("limit")
    # as clinai monitor: each patient's (piece's) first prediction time of the period
    charted = [rows[first_row_per_patient(ids, pool.time[rows])] for rows, ids in periods]
    if limit is None:  # as clinai monitor: simulated over the monitored stream's risks
        every = np.concatenate(charted)
        limit = cusum_limit(
            pool.p[every],
            odds_ratio=cusum["odds_ratio"],
            false_alarm_rate=cusum["false_alarm_rate"],
            random_state=seed,
        )
    out = []
    start = 0.0
    for k, (rows, ids) in enumerate(periods):
        y, p = pool.y[rows], pool.p[rows]
        events = int(y.sum())
        drift = feature_drift_frame(dev.reference, pool.x.iloc[rows], risk=p)
        measured: dict[str, Any] = dict(drift.measurements())
        measured["alert_rate_change"] = abs(float(np.mean(p >= dev.threshold)) / dev.alert_rate - 1)
        realised = None
        if 0 < events < len(y):
            measured["calibration.slope"] = float(calibration_slope(y, p))
            boot = bootstrap(
                y,
                p,
                metric={"auroc": auroc_score, "oe_ratio": oe_ratio},
                patient_ids=ids,
                n_boot=plan["n_boot"],
                random_state=seed * 100 + k,
            )
            measured["auroc"] = boot["auroc"]
            measured["oe_ratio"] = boot["oe_ratio"]
            realised = float(boot["auroc"].estimate)
        estimated = estimated_performance(p, threshold=dev.threshold)
        chart = risk_adjusted_cusum(
            pool.y[charted[k]],
            pool.p[charted[k]],
            odds_ratio=cusum["odds_ratio"],
            limit=limit,
            start=start,
        )
        start = chart.end
        verdict = period_verdict(
            measured, plan["limits"], events=events, min_events=plan["min_events"]
        )
        level = verdict.level
        reasons = [r["metric"] for r in verdict.to_dict()["reasons"] if r["kind"] == "breach"]
        if chart.signalled:  # as clinai monitor: the plan's CUSUM action
            level = _worse(level, cusum["action"])
            reasons.insert(0, "cusum")
        out.append(
            {
                "period": k + 1,
                "n": len(y),
                "events": events,
                "oe_ratio": _estimate(measured.get("oe_ratio")),
                "auroc": realised,
                "estimated_auroc": float(estimated.auroc.estimate),
                "psi": measured.get("psi"),
                "risk_psi": measured.get("risk_psi"),
                "level": level,
                "reasons": reasons,
                "measured": {m: _number_or_estimate(v) for m, v in measured.items()},
                "cusum_signalled": bool(chart.signalled),
            }
        )
    return out


def _estimate(value: Any) -> float | None:
    """The point estimate of an Estimate (or a plain number)."""
    return None if value is None else float(getattr(value, "estimate", value))


def _number_or_estimate(value: Any) -> Any:
    """A JSON-able measurement: a number, or ``{estimate, ci_low, ci_high}``."""
    if hasattr(value, "ci_low"):
        return {k: float(getattr(value, k)) for k in ("estimate", "ci_low", "ci_high")}
    return None if value is None else float(value)


_SEVERITY = ("in_control", "investigate", "recalibrate", "suspend")


def _worse(level: str, action: str) -> str:
    return max(level, action, key=_SEVERITY.index)


def _delay(flags: list[bool], onset: int) -> tuple[int | None, int]:
    """Periods from the onset to the first flagged period at or after it; flagged periods before."""
    before = sum(flags[: onset - 1])
    for k in range(onset - 1, len(flags)):
        if flags[k]:
            return k + 1 - onset, before
    return None, before


def _summarise(results: dict[str, list[list[dict[str, Any]]]]) -> dict[str, Any]:
    """Detection delays, false-alarm shares and the AUROC estimate's error from the periods."""
    stable = [p for stream in results["stable"] for p in stream]
    flagged = [p for p in stable if p["level"] != IN_CONTROL]
    by_reason = Counter(r for p in flagged for r in set(p["reasons"]))
    summary: dict[str, Any] = {
        "false_alarms": {
            "streams": len(results["stable"]),
            "periods": len(stable),
            "flagged": len(flagged),
            "share": round(len(flagged) / max(len(stable), 1), 4),
            "target": 0.05,
            "share_by_limit": {k: round(v / len(stable), 4) for k, v in by_reason.most_common()},
        },
        "detection": {},
    }
    for name, streams in results.items():
        if name == "stable":
            continue
        delays = [_delay([p["level"] != IN_CONTROL for p in stream], ONSET) for stream in streams]
        found = [d for d, _ in delays if d is not None]
        first = Counter(_first_reason(stream) for stream in streams)
        post = [p for stream in streams for p in stream[ONSET - 1 :]]
        summary["detection"][name] = {
            "streams": len(streams),
            "median_delay": float(np.median(found)) if found else None,
            "max_delay": max(found) if found else None,
            "within_2_periods": round(sum(d <= 2 for d in found) / len(streams), 3),
            "never_flagged": len(streams) - len(found),
            "flagged_before_onset": round(
                sum(b for _, b in delays) / (len(streams) * (ONSET - 1)), 3
            ),
            "first_reason": {str(k): v for k, v in first.most_common()},
            "realised_oe_after_onset": _median(p["oe_ratio"] for p in post),
        }
    # Which limits make the alarms: the same periods judged with some of the plan's limits left out
    summary["without"] = {
        label: _flag_summary(
            [
                (name, [bool(set(p["reasons"]) - set(left_out)) for p in stream])
                for name, streams in results.items()
                for stream in streams
            ]
        )
        for label, left_out in _LEAVE_OUT.items()
    }
    every = [
        p for streams in results.values() for s in streams for p in s if p["auroc"] is not None
    ]
    errors = np.array([p["estimated_auroc"] - p["auroc"] for p in every])
    summary["estimated_auroc_error"] = {
        "periods": len(errors),
        "mean_abs": round(float(np.mean(np.abs(errors))), 4) if len(errors) else None,
        "mean": round(float(np.mean(errors)), 4) if len(errors) else None,
        "stable_mean_abs": _mean_abs(results["stable"]),
        **{
            f"{name}_mean_abs_after_onset": _mean_abs(s, ONSET)
            for name, s in results.items()
            if name != "stable"
        },
    }
    return summary


#: Subsets of the plan's limits left out, to see which limits make the false alarms.
_LEAVE_OUT = {
    "cusum": ("cusum",),
    "cusum_and_feature_psi": ("cusum", "psi"),
    "drift_limits_and_cusum": ("cusum", "psi", "risk_psi", "missing_change", "alert_rate_change"),
}


def _first_reason(stream: list[dict[str, Any]]) -> str | None:
    """The first reason of the first flagged period at or after the onset."""
    for period in stream[ONSET - 1 :]:
        if period["level"] != IN_CONTROL:
            return period["reasons"][0] if period["reasons"] else period["level"]
    return None


def _median(values: Any) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.median(kept)), 3) if kept else None


def _mean_abs(streams: list[list[dict[str, Any]]], onset: int = 1) -> float | None:
    errors = [
        abs(p["estimated_auroc"] - p["auroc"])
        for s in streams
        for p in s[onset - 1 :]
        if p["auroc"] is not None
    ]
    return round(float(np.mean(errors)), 4) if errors else None


def _write_library_streams(
    pools: dict[str, Pool],
    streams: dict[str, list[list[tuple[np.ndarray, np.ndarray]]]],
    dev: Development,
    folder: Path,
    n: int,
) -> list[dict[str, Any]]:
    """Write the first ``n`` streams of each kind (rows, periods, clusters) for the libraries."""
    folder.mkdir(parents=True, exist_ok=True)
    reference = dev.x_test.assign(__y=dev.y_test, __p=dev.p_test, __time=dev.time_test)
    reference.to_parquet(folder / "reference.parquet")
    index = []
    for name, kind_streams in streams.items():
        pool = pools[name]
        for r, periods in enumerate(kind_streams[:n]):
            parts = []
            for k, (rows, ids) in enumerate(periods):
                part = pool.x.iloc[rows].reset_index(drop=True)
                parts.append(
                    part.assign(__y=pool.y[rows], __p=pool.p[rows], __period=k + 1, __cluster=ids)
                )
            path = folder / f"{name}_{r}.parquet"
            pd.concat(parts, ignore_index=True).to_parquet(path)
            index.append({"kind": name, "replicate": r, "path": str(path)})
    (folder / "streams.json").write_text(json.dumps({"threshold": dev.threshold, "streams": index}))
    return index


def _run_libraries(python: Path, folder: Path) -> dict[str, Any] | None:
    if not python.exists():
        print(
            f"SKIPPED the NannyML/Evidently comparison: no interpreter at {python}.\n"
            f"  Install them apart from clinai's pinned environment with:\n  {LIBS_INSTALL}"
        )
        return None
    out = folder / "libraries.json"
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(python),
            str(LIBS_SCRIPT),
            "--streams",
            str(folder / "streams.json"),
            "--out",
            str(out),
        ],
        check=False,
    )
    if done.returncode != 0:
        print(f"the library comparison failed (exit {done.returncode}); see its output above")
        return None
    result = json.loads(out.read_text())
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


#: The libraries' flag rules: (tool, flag list in its output, name in the summary).
_LIBRARY_RULES = (
    ("nannyml_cbpe", "flags", "nannyml_cbpe_alert"),
    ("evidently_drift", "flags", "evidently_dataset_drift"),
    ("evidently_drift", "flags_any_column", "evidently_any_column_drifted"),
)


def _flag_summary(streams: list[tuple[str, list[bool]]]) -> dict[str, Any]:
    """False-alarm share on the stable streams and detection delays on the shifted ones."""
    stable = [f for kind, flags in streams if kind == "stable" for f in flags]
    entry: dict[str, Any] = {
        "false_alarm_share": round(float(np.mean(stable)), 4) if stable else None,
        "stable_periods": len(stable),
    }
    for name in SCENARIOS:
        delays = [_delay(flags, ONSET)[0] for kind, flags in streams if kind == name]
        if name == "stable" or not delays:
            continue
        found = [d for d in delays if d is not None]
        entry[f"{name}_median_delay"] = float(np.median(found)) if found else None
        entry[f"{name}_within_2_periods"] = round(sum(d <= 2 for d in found) / len(delays), 3)
    return entry


def _library_summary(
    libs: dict[str, Any], results: dict[str, list[list[dict[str, Any]]]]
) -> dict[str, Any]:
    """Delay, false alarms and AUROC-estimate error of each library and of clinai, same streams."""
    out: dict[str, Any] = {
        "versions": libs.get("versions", {}),
        "errors": libs.get("errors", {}),
        "seconds_by_tool": libs.get("seconds_by_tool", {}),
    }
    same = [(s["kind"], results[s["kind"]][s["replicate"]]) for s in libs["streams"]]
    out["clinai"] = _flag_summary(
        [(kind, [p["level"] != IN_CONTROL for p in periods]) for kind, periods in same]
    )
    out["clinai"]["estimated_auroc_mean_abs_error"] = _mean_abs([periods for _, periods in same])
    for tool, key, label in _LIBRARY_RULES:
        rows = [s for s in libs["streams"] if tool in s]
        if rows:
            out[label] = _flag_summary([(s["kind"], s[tool][key]) for s in rows])
    cbpe = [s for s in libs["streams"] if "nannyml_cbpe" in s]
    errors = [
        abs(estimate - realised["auroc"])
        for s in cbpe
        for estimate, realised in zip(
            s["nannyml_cbpe"]["estimated_auroc"], results[s["kind"]][s["replicate"]], strict=True
        )
        if estimate is not None and realised["auroc"] is not None
    ]
    if errors:
        out["nannyml_cbpe_alert"]["estimated_auroc_mean_abs_error"] = round(
            float(np.mean(errors)), 4
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays-per-month", type=int, default=150)
    parser.add_argument("--streams", type=int, default=200, help="stable 12-month streams")
    parser.add_argument("--replicates", type=int, default=20, help="streams per planted shift")
    parser.add_argument("--pool-factor", type=int, default=3)
    parser.add_argument("--dev-stays", type=int, default=1000)
    parser.add_argument(
        "--library-streams",
        type=int,
        default=5,
        help="streams of each kind for the libraries (0: skip them)",
    )
    parser.add_argument("--libs-python", type=Path, default=DEFAULT_LIBS_PYTHON)
    parser.add_argument(
        "--quick", action="store_true", help="a small run to check the benchmark works"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "monitoring.json"
    )
    parser.add_argument(
        "--periods-out",
        type=Path,
        help="also write every period's measurements (JSON) to judge other plans offline",
    )
    args = parser.parse_args()
    if args.quick:
        args.stays_per_month, args.streams, args.replicates = 40, 10, 3
        args.dev_stays, args.library_streams = 300, min(args.library_streams, 2)
    plan = _plan()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clinai-bench-monitoring-") as tmp:
        work = Path(tmp)
        dev = Development(args.dev_stays, plan, work)
        print("development (SYNTHETIC):", dev.summary)
        pool_stays = args.pool_factor * 12 * args.stays_per_month
        pools = {
            name: Pool(
                _generate(pool_stays, SEED, START, scenario, work / name), dev, args.pool_factor
            )
            for name, scenario in SCENARIOS.items()
        }
        rng = np.random.default_rng(SEED)
        counts = {name: args.streams if name == "stable" else args.replicates for name in SCENARIOS}
        streams = {
            name: [pools[name].stream(rng) for _ in range(counts[name])] for name in SCENARIOS
        }
        results: dict[str, list[list[dict[str, Any]]]] = {}
        for name, kind_streams in streams.items():
            t0 = time.perf_counter()
            results[name] = [
                _measure(pools[name], s, dev, plan, seed=i) for i, s in enumerate(kind_streams)
            ]
            print(
                f"{name}: {len(kind_streams)} streams measured in {time.perf_counter() - t0:.0f} s"
            )
        summary = _summarise(results)
        libs = None
        if args.library_streams > 0:
            _write_library_streams(pools, streams, dev, work / "libraries", args.library_streams)
            libs = _run_libraries(args.libs_python, work / "libraries")
        if libs is not None:
            summary["libraries"] = _library_summary(libs, results)
    report = {
        "synthetic": True,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "plan": plan,
        "development": dev.summary,
        "pool_stays": pool_stays,
        "rows_per_period_median": int(np.median([p["n"] for s in results["stable"] for p in s])),
        "events_per_period_median": int(
            np.median([p["events"] for s in results["stable"] for p in s])
        ),
        **summary,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps({k: report[k] for k in report if k not in ("plan", "settings")}, indent=2))
    write_json(args.out, report)
    if args.periods_out is not None:
        write_json(args.periods_out, {"plan": plan, "onset": ONSET, "periods": results})


if __name__ == "__main__":
    main()
