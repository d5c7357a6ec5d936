"""NannyML's CBPE and Evidently's DataDriftPreset on bench_monitoring's streams (SYNTHETIC data).

Run by ``benchmarks/bench_monitoring.py`` with a separate interpreter that has the two
libraries (``/tmp/bench-mon-venv``), never clinai's pinned environment; it imports nothing of
clinai. Input: the ``streams.json`` that bench_monitoring writes (the development test split as
``reference.parquet``, one Parquet file per stream with the model's input columns, ``__y``
(outcome), ``__p`` (risk), ``__period`` (1..12) and ``__cluster`` (patient)). Output: per stream
and period, each library's flag and (CBPE) its estimated ROC AUC, and the library versions.

- CBPE (``nannyml.CBPE``, binary classification, metric ``roc_auc``): fitted on the reference
  (risks, decisions at the plan's threshold, outcomes), chunked by calendar month; a period is
  flagged when CBPE raises its alert (the estimate outside its thresholds, by default three
  standard deviations of the reference chunks' realised AUROC). It has no notion of patients:
  every row counts as independent.
- Evidently (the dataset-drift metric of ``DataDriftPreset``, ``DriftedColumnsCount`` with its
  default tests per column and ``drift_share=0.5``): every input column of the period against the
  reference; a period is flagged when Evidently reports dataset drift (at least half of the
  columns drifted, by its default tests per column); ``flags_any_column`` also records the more
  sensitive reading "any column drifted".

    /tmp/bench-mon-venv/bin/python benchmarks/_bench_monitoring_libs.py --streams S --out O
"""

from __future__ import annotations

import argparse
import json
import math
import time
import traceback
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

_PRIVATE = ("__y", "__p", "__period", "__cluster", "__time", "__pred")


def _with_time(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Give every row its period's month as a timestamp (the chunk) and the decision."""
    if "__time" not in frame.columns:
        frame = frame.assign(
            __time=pd.to_datetime({"year": 2025, "month": frame["__period"], "day": 1})
        )
    return frame.assign(__pred=(frame["__p"] >= threshold).astype(int))


def _cbpe(reference: pd.DataFrame, stream: pd.DataFrame) -> dict[str, Any]:
    import nannyml as nml

    nml.disable_usage_logging()  # no usage events sent anywhere
    estimator = nml.CBPE(
        y_pred_proba="__p",
        y_pred="__pred",
        y_true="__y",
        timestamp_column_name="__time",
        metrics=["roc_auc"],
        chunk_period="M",
        problem_type="classification_binary",
    )
    estimator.fit(reference)
    result = estimator.estimate(stream.drop(columns="__y")).filter(period="analysis").to_df()
    values = result[("roc_auc", "value")].tolist()
    alerts = result[("roc_auc", "alert")].tolist()
    return {
        "flags": [bool(a) for a in alerts],
        "estimated_auroc": [None if v is None or math.isnan(v) else float(v) for v in values],
    }


def _evidently(reference: pd.DataFrame, stream: pd.DataFrame) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import DriftedColumnsCount

    columns = [c for c in reference.columns if c not in _PRIVATE]
    categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(reference[c])]
    definition = DataDefinition(
        numerical_columns=[c for c in columns if c not in categorical],
        categorical_columns=categorical,
    )
    base = Dataset.from_pandas(reference[columns], data_definition=definition)
    flags, shares = [], []
    for period in sorted(stream["__period"].unique()):
        current = stream.loc[stream["__period"] == period, columns]
        # the DataDriftPreset's dataset-drift metric alone (the preset adds per-column
        # charts of the same tests, about 10x slower on 136 columns)
        snapshot = Report([DriftedColumnsCount(drift_share=0.5)]).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=base,
        )
        drifted = _drifted_share(snapshot.dict())
        shares.append(drifted)
        flags.append(drifted >= 0.5)  # Evidently's default dataset-drift share
    # Evidently's per-column verdicts, the more sensitive reading: any column drifted
    return {"flags": flags, "flags_any_column": [x > 0 for x in shares], "drifted_share": shares}


def _drifted_share(result: dict[str, Any]) -> float:
    for metric in result.get("metrics", []):
        name = str(metric.get("metric_name", metric.get("metric_id", "")))
        if name.startswith("DriftedColumnsCount"):
            return float(metric["value"]["share"])
    raise ValueError("no DriftedColumnsCount in Evidently's report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    spec = json.loads(args.streams.read_text())
    threshold = float(spec["threshold"])
    reference = _with_time(pd.read_parquet(args.streams.with_name("reference.parquet")), threshold)
    tools = {"nannyml_cbpe": _cbpe, "evidently_drift": _evidently}
    errors: dict[str, str] = {}
    seconds = dict.fromkeys(tools, 0.0)
    out = []
    for entry in spec["streams"]:
        stream = _with_time(pd.read_parquet(entry["path"]), threshold)
        row = {"kind": entry["kind"], "replicate": entry["replicate"]}
        for name, tool in tools.items():
            if name in errors:
                continue
            start = time.perf_counter()
            try:
                row[name] = tool(reference, stream)
            except Exception as exc:  # a library that fails is reported, not fatal
                errors[name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            seconds[name] += time.perf_counter() - start
        out.append(row)
        print(f"{entry['kind']} {entry['replicate']}: done", flush=True)
    versions = {}
    for package in ("nannyml", "evidently", "pandas", "numpy"):
        try:
            versions[package] = version(package)
        except Exception:  # not installed
            versions[package] = None
    args.out.write_text(
        json.dumps(
            {
                "versions": versions,
                "errors": errors,
                "seconds_by_tool": {k: round(v, 1) for k, v in seconds.items()},
                "streams": out,
                "n_streams": len(out),
            }
        )
    )


if __name__ == "__main__":
    main()
