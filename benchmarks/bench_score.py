"""Speed benchmark: ``clinai score`` on a folder of minute-level vitals (prediction times/s).

Data are SYNTHETIC (``clinai.data.generate_ward_stays``, seed 2026, ``--minutes-per-row``
minutes per monitor row): ``--stays`` stays in one folder (``synthetic_stays.parquet`` and
``synthetic_vitals.parquet``), kept in ``--data-dir`` and reused on the next run. The
acute_deterioration use case predicts at every full hour of a stay (about 70 prediction
times per stay at the generator's mean stay of 72 hours), so ``--stays 14500`` gives about
1 million prediction times (``--stays 1500``, the default, about 100,000).

Model: the acute_deterioration config with the smallest budget (``clinai run`` on
``--train-stays`` generated stays, logistic, one trial), registered in a SQLite MLflow store
in ``--work-dir`` (trained once: a work folder that holds ``mlruns.db`` is reused); the
version is scored by its ``candidate`` alias.

Timed, in this process, one after the other (the grid engine's compiled loops are warmed up
on a 3-stay folder first, and the first ``score`` call, on that folder, is timed apart: it
imports MLflow and scikit-learn, once per process):

- baseline (named): the pipeline's own feature step alone, ``load(data_dir=FOLDER)`` of
  pipelines/acute_deterioration.py (prediction times, window features over 8 parameters x
  3 windows, NEWS2; what scoring cannot avoid);
- ``clinai.runs.score``: the same plus the registered model loaded from MLflow, the input
  schema check, pseudonymisation (keyed HMAC), exclusions, prediction, the Parquet output
  written atomically and the audit record;
- the incremental rerun on the same folder (every prediction time already scored: nothing
  is added).

Printed: prediction times, seconds and prediction times per second of each, and the ratio
of ``clinai score``'s throughput to the baseline's (1.0 would mean scoring costs nothing
beyond the features).

    python benchmarks/bench_score.py [--stays 1500] [--data-dir /tmp/clinai-bench-score]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

from _common import ROOT, write_json

CONFIG = ROOT / "configs" / "acute_deterioration.yaml"
TRAIN = [
    "models=[logistic]",
    "tuning.n_trials=1",
    "tuning.cv_folds=2",
    "calibration.cv=2",
    "evaluation.n_boot=10",
    "languages=[en]",
    "tuning.storage=sqlite:///optuna.db",
]


def stays_folder(n_stays: int, data_dir: Path, minutes_per_row: int) -> Path:
    from clinai.data import generate_ward_stays

    out = data_dir / f"stays_{n_stays}_m{minutes_per_row}"
    if not (out / "done.json").exists():
        started = time.perf_counter()
        result = generate_ward_stays(
            n_stays, seed=2026, out_dir=out, minutes_per_row=minutes_per_row, progress=True
        )
        print(f"generated {result.n_rows:,} vitals rows in {n_stays:,} stays ", end="")
        print(f"({time.perf_counter() - started:.0f} s)")
        (out / "done.json").write_text(json.dumps(result.to_dict()))
    return out


def acute_pipeline():
    spec = importlib.util.spec_from_file_location(
        "bench_acute_deterioration", ROOT / "pipelines" / "acute_deterioration.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=1500)
    parser.add_argument("--minutes-per-row", type=int, default=5)
    parser.add_argument("--train-stays", type=int, default=40)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/clinai-bench-score"))
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="Write the results as JSON.")
    args = parser.parse_args()

    from clinai.runs import run_experiment, score

    folder = stays_folder(args.stays, args.data_dir, args.minutes_per_row)
    warm = stays_folder(3, args.data_dir, args.minutes_per_row)
    work = args.work_dir or args.data_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # the config's SQLite stores and runs/ land here
    os.environ.setdefault("CLINAI_PSEUDONYM_KEY", "bench-score-key")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "1")
    os.environ["CLINAI_PIPELINES_PATH"] = str(ROOT / "pipelines")

    if not (work / "mlruns.db").exists():
        started = time.perf_counter()
        overrides = [f"data.source.options.n_stays={args.train_stays}", *TRAIN]
        run_experiment(CONFIG, overrides=overrides, show_progress=False)
        print(f"model trained and registered ({time.perf_counter() - started:.0f} s)")

    pipeline = acute_pipeline()
    pipeline.load(data_dir=warm)  # compiles (or loads from the cache) the feature kernels
    started = time.perf_counter()
    n_times = len(pipeline.load(data_dir=folder))
    base_s = time.perf_counter() - started

    out = work / "predictions.parquet"
    for stale in (out, work / "warm.parquet"):
        stale.unlink(missing_ok=True)
    # first call: imports MLflow and scikit-learn (once per process), so it is timed apart
    small = score(
        CONFIG, data=warm, out=work / "warm.parquet", alias="candidate", show_progress=False
    )
    result = score(CONFIG, data=folder, out=out, alias="candidate", show_progress=False)
    rerun = score(CONFIG, data=folder, out=out, alias="candidate", show_progress=False)

    base_rate = n_times / base_s
    rate = result["n_scored"] / result["seconds"]
    rows = {
        "stays": args.stays,
        "prediction_times": n_times,
        "scored": result["n_scored"],
        "baseline_features_s": round(base_s, 2),
        "baseline_prediction_times_per_s": round(base_rate),
        "score_s": round(result["seconds"], 2),
        "score_prediction_times_per_s": round(rate),
        "ratio_score_to_baseline": round(rate / base_rate, 3),
        "first_call_3_stays_s": round(small["seconds"], 2),
        "incremental_rerun_s": round(rerun["seconds"], 2),
        "incremental_rerun_added": rerun["n_scored"],
        "cpus": os.cpu_count(),
    }
    print(f"prediction times          {n_times:,} ({args.stays:,} stays)")
    print(f"baseline: features alone  {base_s:8.1f} s  {base_rate:12,.0f} prediction times/s")
    print(f"clinai score              {result['seconds']:8.1f} s  {rate:12,.0f} prediction times/s")
    print(f"ratio score / baseline    {rate / base_rate:8.3f}")
    print(f"first call (3 stays)      {small['seconds']:8.1f} s  (imports, model load: once)")
    print(f"incremental rerun         {rerun['seconds']:8.1f} s  ({rerun['n_scored']} added)")
    if args.out is not None:
        write_json(args.out, rows)


if __name__ == "__main__":
    main()
