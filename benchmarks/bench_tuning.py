"""Tuning throughput: trials per minute with 1 and 2 workers, PostgreSQL beside SQLite (issue 6).

The same model family, data and budget in every cell: one Optuna study per cell, tuned by
`clinai.runs._workers.tune_with_workers` (what `clinai train --workers N` runs for each family),
on a bundled use case's cohort. PostgreSQL is a temporary server started by this script
(tests/integration/_services.py, the scale-out tests' helper; default settings, fsync on);
SQLite is a file in a temporary folder. Printed per cell: wall time (with the extra workers'
start-up), trials per minute over the wall time and over the trials themselves (first trial
start to last trial end), and, best of the rounds (cells interleaved), the ratio
2 workers / 1 worker for each storage.

    python benchmarks/bench_tuning.py [--use-case medpar_mortality] [--model logistic]
        [--trials 60] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import ROOT, write_json  # first: puts the repository root on sys.path
from tests.integration._services import postgres_server

from clinai.config import load_config
from clinai.runs._prepare import load_cohort
from clinai.runs._workers import tune_with_workers


def _cell(storage: str, workers: int, *, cohort, config, model: str, trials: int) -> dict:
    import optuna

    study_name = f"bench-{model}-{workers}w-{time.time_ns()}"
    start = time.perf_counter()
    result = tune_with_workers(
        model,
        workers=workers,
        X=cohort.X.reset_index(drop=True),
        y=cohort.y.to_numpy().astype(int),
        numeric=cohort.numeric,
        categorical=cohort.categorical,
        n_trials=trials,
        timeout_s=3600,
        cv_folds=config.tuning.cv_folds,
        scoring=config.tuning.metric,
        storage=storage,
        study_name=study_name,
        random_state=config.seed,
        n_jobs=1,
    )
    wall = time.perf_counter() - start
    study = optuna.load_study(study_name=study_name, storage=storage)
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    span = (
        max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
    ).total_seconds()
    pids = {tuple(t.user_attrs["clinai_worker"]) for t in done}
    assert result.n_trials == len(done) == trials, (result.n_trials, len(done))
    assert len(study.get_trials(deepcopy=False)) == trials  # exact budget, nothing extra
    return {
        "workers": workers,
        "trials": trials,
        "wall_s": wall,
        "trials_per_min": 60 * trials / wall,
        "trials_per_min_span": 60 * trials / span,
        "processes_used": len(pids),
        "best_score": result.best_score,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-case", default="medpar_mortality")
    parser.add_argument("--model", default="logistic")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tuning.json")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "1")

    config = load_config(ROOT / "configs" / f"{args.use_case}.yaml")
    cohort = load_cohort(config)
    print(
        f"{args.use_case}: n={len(cohort.y)}, model {args.model}, {args.trials} trials, "
        f"{config.tuning.cv_folds}-fold CV ({config.tuning.metric}), {os.cpu_count()} CPUs"
    )
    # Warm-up (imports, first fits) outside the timed cells.
    tune_with_workers(
        args.model,
        X=cohort.X.reset_index(drop=True),
        y=cohort.y.to_numpy().astype(int),
        numeric=cohort.numeric,
        categorical=cohort.categorical,
        n_trials=2,
        timeout_s=600,
        cv_folds=config.tuning.cv_folds,
        storage=None,
        study_name="warm-up",
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder, postgres_server(("optuna",), settings={}) as pg:
        storages = {
            "PostgreSQL 15": pg.url("optuna"),
            "SQLite": f"sqlite:///{Path(folder) / 'optuna.db'}",
        }
        # Cells interleaved and repeated: the machine's other load drifts over minutes.
        for round_ in range(1, args.rounds + 1):
            for workers in (1, 2):
                for label, storage in storages.items():
                    row = _cell(
                        storage,
                        workers,
                        cohort=cohort,
                        config=config,
                        model=args.model,
                        trials=args.trials,
                    )
                    rows.append({"storage": label, "round": round_, **row})
                    print(
                        f"  round {round_}: {label:14} {workers} worker(s): "
                        f"{row['wall_s']:6.1f} s, "
                        f"{row['trials_per_min']:6.1f} trials/min "
                        f"({row['trials_per_min_span']:6.1f} over the trials), "
                        f"{row['processes_used']} process(es) ran trials"
                    )

    def best(label: str, workers: int, key: str) -> float:
        return max(r[key] for r in rows if r["storage"] == label and r["workers"] == workers)

    print(f"\nBest of {args.rounds} round(s):")
    print("| storage | workers | trials/min (wall) | trials/min (trials) | 2 workers / 1 worker |")
    print("| --- | --- | --- | --- | --- |")
    for label in storages:
        for workers in (1, 2):
            wall, span = (
                best(label, workers, "trials_per_min"),
                best(label, workers, "trials_per_min_span"),
            )
            ratio = wall / best(label, 1, "trials_per_min")
            print(
                f"| {label} | {workers} | {wall:.1f} | {span:.1f} | "
                f"{f'{ratio:.2f}' if workers == 2 else ''} |"
            )
    write_json(args.out, rows)


if __name__ == "__main__":
    main()
