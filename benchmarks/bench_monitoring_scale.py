"""Scale benchmark: one ``clinai monitor`` pass over 10 million predictions x 136 features.

Data are SYNTHETIC (no patient data): a predictions Parquet file laid out as ``clinai score``
writes it (MONITORING.md section 3): 64-hex pseudonyms of 2 million made-up patients,
prediction times spread over the 12 months of 2025 in time order, risks
``expit(-2 + x)``, embedded outcomes ``Bernoulli(expit(-2 + 1.1 x))``, two subgroup
columns and 136 ``feature:f000`` ... columns (float64 with one decimal, 10% missing in
every tenth feature, a shift of 0.3 SD from month 7 in the first feature). The drift
reference comes from 100,000 development rows drawn the same way (month-1 distribution).

Timed (in a child process; peak RSS is its VmHWM, and CPU time is printed beside the wall time
because on a shared machine the wall time includes waiting for a core): the monitoring
pass of :func:`clinai.runs.monitor` without the registry and file output around it, i.e.
reading the light columns (:func:`clinai.runs._monitor_inputs.read_stream`), then per
month realised performance with patient-clustered bootstrap CIs (``B = 500``), estimates,
subgroups, drift of all 136 features and of the risks streamed by column batches, the
CUSUM and the verdicts (:func:`clinai.runs._monitor_document.period_entries`), and the
JSON serialisation of the result.

Baseline for the ratio (named, measured in the same run, also in a child process):
decoding the file once with pyarrow, every column, batch by batch
(``ParquetFile.iter_batches``), which is the least any pass that looks at every value
must do.

Targets (issue 15): at most 60 s and 4 GB on 2 cores.

    python benchmarks/bench_monitoring_scale.py [--rows 10000000] [--features 136]
        [--n-boot 500] [--folder /tmp/clinai-bench-monitoring] [--keep]
        [--no-baseline] [--write-json PATH]

``--write-json`` keeps the pass's ``periods`` and ``cusum`` (the JSON the timing
serialises) for a byte-for-byte comparison of two versions of the code; the line
printed names the ``clinai`` package that ran (run an older checkout with
``PYTHONPATH=src`` from its root, benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
from tests.integration._monitoring import PLAN as TEST_PLAN

MONTHS = 12
ROW_GROUP = 1_000_000
#: The test suite's plan, with the issue's B = 500 and two subgroup attributes.
PLAN: dict[str, Any] = {
    **TEST_PLAN,
    "n_boot": 500,
    "min_events": 20,
    "subgroups": ["sex", "age_band"],
}


def _features(rng: np.random.Generator, n: int, k: int, month: np.ndarray) -> np.ndarray:
    """Synthetic feature matrix (n x k, float64, one decimal; some missing; one shift)."""
    values = rng.standard_normal((n, k), dtype=np.float32) * 10 + 50
    values[:, 0] += np.where(month >= 6, 3.0, 0.0).astype(np.float32)  # 0.3 SD from July
    values = np.round(values.astype(np.float64), 1)
    for j in range(0, k, 10):
        values[rng.random(n) < 0.1, j] = np.nan
    return values


def _pseudonyms(n_patients: int) -> np.ndarray:
    return np.array([hashlib.sha256(str(i).encode()).hexdigest() for i in range(n_patients)])


def generate(path: Path, rows: int, k: int, seed: int = 2026) -> dict[str, Any]:
    """Write the synthetic predictions file row group by row group; return the reference."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from clinai.evaluation.monitoring import drift_reference

    rng = np.random.default_rng(seed)
    n_patients = max(1, rows // 5)
    ids = _pseudonyms(n_patients)
    start = np.datetime64("2025-01-01T00:00", "us").astype(np.int64)
    span = np.datetime64("2026-01-01T00:00", "us").astype(np.int64) - start
    times = np.sort(start + (rng.random(rows) * span).astype(np.int64))
    writer = None
    for first in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - first)
        t = times[first : first + n]
        month = (t.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) - 660) % 12
        x = rng.standard_normal(n)
        risk = 1 / (1 + np.exp(-(-2 + x)))
        columns: dict[str, Any] = {
            "patient_id": pa.array(ids[rng.integers(0, n_patients, n)]),
            "prediction_time": pa.array(t.astype("datetime64[us]")),
            "risk": risk,
            "model_name": pa.array(["bench"] * n).dictionary_encode(),
            "model_version": pa.array(["1"] * n).dictionary_encode(),
            "scored_at": pa.array(np.full(n, start + span, dtype="datetime64[us]")),
            "outcome": pa.array(rng.binomial(1, 1 / (1 + np.exp(-(-2 + 1.1 * x)))).astype(np.int8)),
            "group:sex": pa.array(rng.choice(["female", "male"], n)).dictionary_encode(),
            "group:age_band": pa.array(
                rng.choice(["18-64", "65-79", "80+"], n)
            ).dictionary_encode(),
        }
        values = _features(rng, n, k, month)
        columns.update({f"feature:f{j:03d}": values[:, j] for j in range(k)})
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        del values, table, columns
    assert writer is not None
    writer.close()
    development = _features(rng, 100_000, k, np.zeros(100_000, dtype=np.int64))
    import pandas as pd

    frame = pd.DataFrame(development, columns=[f"f{j:03d}" for j in range(k)])
    risk = 1 / (1 + np.exp(-(-2 + rng.standard_normal(100_000))))
    return dict(drift_reference(frame, risk=risk).to_dict())


def _peak_mb() -> float:
    """Peak RSS of this process since its exec (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User plus system CPU time of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_baseline(path: Path) -> dict[str, Any]:
    """Decode every column of the file once, batch by batch (the named baseline)."""
    import pyarrow.parquet as pq

    began = time.perf_counter()
    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP):
        rows += batch.num_rows
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "cpu_seconds": _cpu_seconds(), "peak_mb": _peak_mb(), "rows": rows}


def child_pass(
    path: Path, reference_path: Path, n_boot: int, write_json: Path | None = None
) -> dict[str, Any]:
    """One monitoring pass (no registry, no files): read, compute every period, serialise."""
    import clinai
    from clinai.config import MonitoringConfig
    from clinai.evaluation.monitoring import DriftReference
    from clinai.runs._monitor_document import period_entries
    from clinai.runs._monitor_inputs import read_stream

    plan = MonitoringConfig(**{**PLAN, "n_boot": n_boot})
    began = time.perf_counter()
    reference = DriftReference.from_dict(json.loads(reference_path.read_text()))
    stream = read_stream([path], period=plan.period, subgroups=plan.subgroups)
    read = time.perf_counter() - began
    # The development alert rate of risks expit(-2 + x), x ~ N(0, 1), at 0.2: P(x >= 0.614).
    development = {"alert_rate": 0.2696, "prevalence": 0.15, "n": 100_000}
    periods, cusum = period_entries(
        stream, plan, reference, development, seed=0, show_progress=False
    )
    text = json.dumps({"periods": periods, "cusum": cusum}, allow_nan=False)
    seconds = time.perf_counter() - began
    if write_json is not None:
        write_json.write_text(text)
    return {
        "clinai": str(Path(clinai.__file__).parent),
        "seconds": seconds,
        "read_seconds": read,
        "cpu_seconds": _cpu_seconds(),
        "peak_mb": _peak_mb(),
        "periods": len(periods),
        "json_bytes": len(text),
        "verdicts": [p["verdict"]["level"] for p in periods],
    }


def _run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Generate the file, time the baseline and the pass, print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=136)
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/clinai-bench-monitoring"))
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the file")
    parser.add_argument("--no-baseline", action="store_true", help="time the pass only")
    parser.add_argument("--write-json", type=Path, help="write the pass's periods and cusum here")
    parser.add_argument("--child", choices=["baseline", "pass"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.folder / f"predictions_{args.rows}x{args.features}.parquet"
    reference = args.folder / f"drift_reference_{args.rows}x{args.features}.json"
    if args.child == "baseline":
        print(json.dumps(child_baseline(path)))
        return
    if args.child == "pass":
        print(json.dumps(child_pass(path, reference, args.n_boot, args.write_json)))
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    if not (path.is_file() and reference.is_file()):
        began = time.perf_counter()
        reference.write_text(json.dumps(generate(path, args.rows, args.features)))
        print(
            f"generated {path.name} ({path.stat().st_size / 1e9:.2f} GB) in "
            f"{time.perf_counter() - began:.0f} s (synthetic)"
        )
    common = [
        "--rows",
        str(args.rows),
        "--features",
        str(args.features),
        "--folder",
        str(args.folder),
        "--n-boot",
        str(args.n_boot),
    ]
    base = None if args.no_baseline else _run_child(*common, "--child", "baseline")
    written = [] if args.write_json is None else ["--write-json", str(args.write_json.resolve())]
    result = _run_child(*common, *written, "--child", "pass")
    if base is not None:
        print(
            f"baseline (pyarrow decodes every column once): {base['seconds']:.1f} s wall, "
            f"{base['cpu_seconds']:.1f} s CPU, peak {base['peak_mb']:.0f} MB"
        )
    print(
        f"monitoring pass ({result['clinai']}), B = {args.n_boot}: {result['seconds']:.1f} s wall, "
        f"{result['cpu_seconds']:.1f} s CPU (reading the light columns "
        f"{result['read_seconds']:.1f} s), peak {result['peak_mb']:.0f} MB, "
        f"{result['periods']} periods; verdicts {result['verdicts']}"
    )
    if base is not None:
        print(
            f"ratio pass / baseline: {result['seconds'] / base['seconds']:.2f}x wall, "
            f"{result['cpu_seconds'] / base['cpu_seconds']:.2f}x CPU "
            f"(targets: <= 60 s, <= 4096 MB on 2 cores)"
        )
    if not args.keep:
        shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
