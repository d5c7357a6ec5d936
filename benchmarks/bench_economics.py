"""Speed benchmark: the probabilistic sensitivity analysis (PSA) of the net monetary benefit.

Data are SYNTHETIC: the ``acute_deterioration`` use case's own pipeline at the size of
``configs/acute_deterioration.yaml`` (``load(n_stays=250, seed=2026, minutes_per_row=5,
event_rate=0.3)``: hourly prediction times with 136 window features from minute-level vital
signs, NEWS2 at each prediction time), split by patient 70/30 as the config's
``split: {method: grouped, test_size: 0.3}``. Model: a quick logistic regression (median
imputation with missing indicators, standardised, ward one-hot; C = 0.05) fitted on the 70 %;
its risks on the 30 % test set are what the PSA judges (the run's tuned and calibrated model
would give other risks but the same amount of work). No real patient is involved.

Economic parameters: the ``economics:`` section of ``configs/acute_deterioration.yaml`` (gamma,
beta and fixed values; its sources are named there).

Timed: ``clinai.evaluation.probabilistic_sensitivity`` with ``--draws`` (10,000) draws at the
decision-curve thresholds 0.01, 0.02, ..., 0.50 plus NEWS2 at each of its values (every
strategy's TP/FP counted once; the NMB of draws x strategies and the 41-point CEAC
vectorised). Best of ``--repeat`` runs. Then once per admission (``patient_ids`` = the stays: a
stay is an event when any hour is, flagged when any hour's risk reaches the threshold).

Baseline for the ratio (named, measured in the same run on a subset of ``--naive`` draws and
scaled to ``--draws``): the naive approach, a Python loop over draws that, for each draw and
each strategy, counts the confusion matrix on the flagged rows (with
``sklearn.metrics.confusion_matrix``, and again with numpy sums of the flag masks) and sums the
per-patient NMB (TP, FP, FN, TN values of predictNMB), then picks the best strategy; the CEAC
repeats the loop per willingness to pay and is not included, so the ratio is conservative.
The naive and vectorised NMBs of the subset are compared.

Target (issue 17): 10,000 draws in at most 10 s on 2 cores.

    python benchmarks/bench_economics.py [--draws 10000] [--naive 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from _common import ROOT  # first: puts the repository root on sys.path
from bench_monitoring import _model


def _test_set(n_stays: int, seed: int) -> tuple[np.ndarray, ...]:
    """Outcome, model risk, NEWS2 and stay on the SYNTHETIC test set (30 % of the patients)."""
    import pipelines.acute_deterioration as pipeline
    from sklearn.model_selection import GroupShuffleSplit

    raw = pipeline.load(n_stays=n_stays, seed=seed, minutes_per_row=5, event_rate=0.3)
    cohort = raw[~pipeline.exclusions(raw)[0][1].to_numpy()].reset_index(drop=True)
    x, y = pipeline.features(cohort), pipeline.outcome(cohort).to_numpy()
    news2 = pipeline.baseline(cohort).to_numpy()
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=42)
    train, test = next(split.split(x, y, groups=cohort["patient_id"]))
    model = _model(x.iloc[train], y[train])  # bench_monitoring's fixed logistic regression
    stays = cohort["stay_id"].to_numpy()  # an admission: the unit of the per-patient NMB
    return y[test], model.predict_proba(x.iloc[test])[:, 1], news2[test], stays[test]


def _numpy_counts(y: np.ndarray, flagged: np.ndarray) -> tuple[int, int, int, int]:
    """TN, FP, FN, TP of one flag mask with numpy sums."""
    event = y == 1
    tp, fp = int(np.sum(flagged & event)), int(np.sum(flagged & ~event))
    return int(np.sum(~event)) - fp, fp, int(np.sum(event)) - tp, tp


def _sklearn_counts(y: np.ndarray, flagged: np.ndarray) -> tuple[int, int, int, int]:
    """TN, FP, FN, TP of one flag mask with scikit-learn's confusion matrix."""
    from sklearn.metrics import confusion_matrix

    tn, fp, fn, tp = confusion_matrix(y, flagged, labels=[0, 1]).ravel()
    return tn, fp, fn, tp


def _naive(
    y: np.ndarray, strategies: list[np.ndarray], draws: dict[str, np.ndarray], n: int, count: Any
) -> np.ndarray:
    """NMB per 1,000 of each strategy (flag masks) for the first ``n`` draws, draw by draw."""
    out = np.empty((n, len(strategies)))
    for d in range(n):
        a, c = draws["cost_alert"][d], draws["cost_outcome"][d]
        r, q = draws["relative_risk_reduction"][d], draws["qalys_lost_per_event"][d]
        harm = c + q * draws["willingness_to_pay"][d]
        for s, flagged in enumerate(strategies):
            tn, fp, fn, tp = count(y, flagged)
            total = tp * (-a - (1 - r) * harm) + fp * -a + fn * -harm + tn * 0.0
            out[d, s] = total / len(y) * 1000
        int(np.argmax(out[d]))  # the best strategy of the draw, as the PSA reports
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=20, help="draws timed the naive way")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stays", type=int, default=250)
    args = parser.parse_args()

    from clinai.config import load_config
    from clinai.evaluation import parameter_distribution, probabilistic_sensitivity
    from clinai.evaluation.economics._net_monetary_benefit import _strategies

    config = load_config(ROOT / "configs" / "acute_deterioration.yaml")
    if config.economics is None:
        raise SystemExit("configs/acute_deterioration.yaml has no economics: section")
    section: dict[str, Any] = config.economics.model_dump(mode="json")
    names = (
        "cost_alert",
        "cost_outcome",
        "relative_risk_reduction",
        "qalys_lost_per_event",
        "willingness_to_pay",
    )
    distributions = {name: parameter_distribution(section[name], name=name) for name in names}

    started = time.perf_counter()
    y, p, news2, stays = _test_set(args.stays, 2026)
    print(
        f"SYNTHETIC acute_deterioration test set: {len(y):,} prediction times, "
        f"{int(y.sum()):,} events ({time.perf_counter() - started:.1f} s to build and fit)"
    )
    thresholds = np.round(np.arange(0.01, 0.51, 0.01), 10)
    comparators = {"NEWS2": news2}

    # the per-row and the per-admission analyses differ only in patient_ids
    inputs = (y, p, thresholds, distributions)
    options = {"n_draws": args.draws, "random_state": 0, "comparators": comparators}
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        psa = probabilistic_sensitivity(*inputs, **options)
        times.append(time.perf_counter() - start)
    fast = min(times)
    n_strategies = len(psa.strategies)
    print(
        f"clinai PSA: {args.draws:,} draws x {n_strategies} strategies "
        f"(+ CEAC at {len(psa.acceptability.willingness_to_pay)} WTP values): "
        f"{fast:.3f} s (best of {args.repeat}: {', '.join(f'{t:.3f}' for t in times)})"
    )
    print(f"  best: {psa.best}; best model threshold {psa.best_model_threshold:g}")
    start = time.perf_counter()
    by_patient = probabilistic_sensitivity(*inputs, **options, patient_ids=stays)
    print(
        f"clinai PSA per admission ({by_patient.n} stays, {by_patient.events} with an event; "
        f"a stay flagged when any hour is): {time.perf_counter() - start:.3f} s; "
        f"best: {by_patient.best}; best model threshold {by_patient.best_model_threshold:g}"
    )

    # the same draws (same seed, same order) and the same strategies, the naive way
    rng = np.random.default_rng(0)
    draws = {name: dist.draw(args.draws, rng) for name, dist in distributions.items()}
    counts = _strategies(y, p, thresholds, comparators)
    scores = {"model": p, "NEWS2": news2}
    masks = [np.zeros(len(y), bool), np.ones(len(y), bool)] + [
        scores[row.name] >= row.threshold for row in counts.rows[2:]
    ]
    vectorised = counts.nmb_per_1000(**{k: v[: args.naive] for k, v in draws.items()})
    for label, count in (
        ("sklearn confusion_matrix", _sklearn_counts),
        ("numpy mask sums", _numpy_counts),
    ):
        start = time.perf_counter()
        naive = _naive(y, masks, draws, args.naive, count)
        naive_time = (time.perf_counter() - start) / args.naive * args.draws
        worst = float(np.max(np.abs(naive - vectorised) / np.maximum(np.abs(naive), 1.0)))
        print(
            f"naive per-draw loop ({label} per strategy), {args.naive} draws timed, scaled to "
            f"{args.draws:,}: {naive_time:.1f} s; ratio {naive_time / fast:.0f}x "
            f"(CEAC not included); largest relative difference in NMB {worst:.1e}"
        )


if __name__ == "__main__":
    main()
