"""``clinai monitor``'s numbers per period: performance, estimates, subgroups and drift.

Every statistic comes from :mod:`clinai.evaluation`: realised performance from
:func:`~clinai.evaluation.evaluate_predictions` (the one bootstrap engine, its fast
path from 20,000 rows on, patients resampled), subgroups from
:func:`~clinai.evaluation.subgroup_metrics`, and the monitoring measures (drift,
confidence-based estimates, CUSUM, verdicts) from :mod:`clinai.evaluation.monitoring`.
This module only cuts the stream into periods and streams the feature columns.

Streaming: the ``feature:<name>`` columns are read file by file in batches of
:data:`COLUMN_BATCH` columns and :data:`ROW_BATCH` rows (never all columns of all
rows at once), counted into the drift reference's bins per period, and the counts
summed; two threads count different column batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from clinai.runs._monitor_inputs import FEATURE_PREFIX, Stream

__all__ = [
    "COLUMN_BATCH",
    "ROW_BATCH",
    "count_drift",
    "distinct_count",
    "performance",
    "period_rows",
    "subgroups",
]

#: Feature columns read together in one pass over a file.
COLUMN_BATCH = 8
#: Rows per Arrow record batch (a batch of COLUMN_BATCH float64 columns: 64 MiB).
ROW_BATCH = 1 << 20
#: Threads that count column batches at once (the measured target is 2 cores).
DRIFT_THREADS = 2
#: Suppression threshold for small subgroup cells (as everywhere in clinai).
MIN_CELL = 5


def distinct_count(codes: np.ndarray) -> int:
    """Return the number of distinct non-negative codes (a bitmap: no sort, no hash table)."""
    valid = codes[codes >= 0]
    if valid.size == 0:
        return 0
    seen = np.zeros(int(valid.max()) + 1, dtype=bool)
    seen[valid] = True
    return int(np.count_nonzero(seen))


def period_rows(stream: Stream) -> list[np.ndarray]:
    """Return the kept rows of each period, in time order (stable: file order breaks ties)."""
    order = np.lexsort((stream.time, stream.period))
    codes = stream.period[order]
    bounds = np.searchsorted(codes, np.arange(len(stream.periods) + 1), side="left")
    return [order[bounds[k] : bounds[k + 1]] for k in range(len(stream.periods))]


def performance(
    y: np.ndarray,
    p: np.ndarray,
    patient: np.ndarray | None,
    *,
    threshold: float,
    n_boot: int,
    seed: int,
) -> dict[str, dict[str, float | None]] | None:
    """Realised performance with patient-clustered bootstrap CIs; None without both classes.

    :func:`~clinai.evaluation.period_performance`: the numbers of
    :func:`~clinai.evaluation.evaluate_predictions` for the monitor's eight metrics,
    without the ones it does not report.
    """
    from clinai.evaluation import period_performance

    events = int(y.sum())
    if events == 0 or events == y.shape[0]:
        return None
    result = period_performance(
        y, p, threshold=threshold, patient_ids=patient, n_boot=n_boot, random_state=seed
    )
    return result.to_dict()


def _group_cell(y: np.ndarray, p: np.ndarray, patient: np.ndarray | None) -> dict[str, Any]:
    """Return one group's counts, AUROC and O/E (None where undefined: one class)."""
    from clinai.evaluation import auroc_score, oe_ratio

    events = int(y.sum())
    both = 0 < events < y.shape[0]
    return {
        "n": float(y.shape[0]),
        "events": float(events),
        "non_events": float(y.shape[0] - events),
        "patients": float(y.shape[0] if patient is None else distinct_count(patient)),
        "auroc": {"estimate": auroc_score(y, p) if both else None, "ci_low": None, "ci_high": None},
        "oe_ratio": {
            "estimate": oe_ratio(y, p) if events else None,
            "ci_low": None,
            "ci_high": None,
        },
    }


def _group_codes(values: Any, missing: str) -> tuple[np.ndarray, list[str | None]]:
    """Return each row's group code and each code's label (None: a code no row has).

    The labels are the values as text, missing values labelled ``missing``. A
    categorical column (the stream's) is read through its codes: no Python string per
    row (about 0.3 s per attribute and period of 850,000 rows); other values, and
    categories whose labels would merge, go through ``pd.factorize`` of the labels.
    """
    import pandas as pd

    if isinstance(values, pd.Categorical):
        labels: list[str | None] = [str(c) for c in values.categories]
        codes = np.asarray(values.codes)
        absent = codes < 0
        if len(set(labels)) == len(labels) and not (missing in labels and absent.any()):
            if absent.any():
                codes = np.where(absent, len(labels), codes)
                labels.append(missing)
            present = np.bincount(codes, minlength=len(labels)) > 0
            return codes, [
                label if seen else None for label, seen in zip(labels, present, strict=True)
            ]
    text = pd.Series(values, dtype="object").fillna(missing).astype(str).to_numpy()
    codes, names = pd.factorize(text)
    return codes, [str(name) for name in names]


def subgroups(
    y: np.ndarray,
    p: np.ndarray,
    patient: np.ndarray | None,
    groups: dict[str, Any],
) -> dict[str, list[dict[str, Any]]]:
    """Return the AUROC and O/E of each group of each watched attribute, small cells suppressed.

    The per-group numbers are :func:`~clinai.evaluation.auroc_score` and
    :func:`~clinai.evaluation.oe_ratio`; a group with fewer than :data:`MIN_CELL`
    rows, patients, events or non-events is suppressed, and the counts of the
    smallest other groups are hidden as :func:`~clinai.evaluation.subgroup_metrics`
    hides them (its own rule, reused), so no small count follows by subtraction.
    ``subgroup_metrics`` itself is not called: it runs fairlearn's ``MetricFrame``,
    which stacks every row in Python (minutes per period at 10^6 rows).
    """
    import pandas as pd

    from clinai.evaluation._groups import group_order
    from clinai.evaluation.fairness._subgroups import MISSING_GROUP, _hidden_counts

    out: dict[str, list[dict[str, Any]]] = {}
    for attribute, values in groups.items():
        codes, names = _group_codes(values, MISSING_GROUP)
        cells = {
            name: _group_cell(
                y[codes == k], p[codes == k], None if patient is None else patient[codes == k]
            )
            for k, name in enumerate(names)
            if name is not None
        }
        table = pd.DataFrame(cells).T.sort_index()
        counts = table[["n", "patients", "events", "non_events"]].astype(float)
        small = counts.min(axis=1) < MIN_CELL
        hidden = _hidden_counts(counts, small, MIN_CELL)
        rows = []
        for group in group_order(table.index):
            cell = cells[group]
            suppressed, hide = bool(small[group]), bool(hidden[group])
            rows.append(
                {
                    "group": group,
                    "n": None if hide else int(cell["n"]),
                    "events": None if hide else int(cell["events"]),
                    "suppressed": suppressed,
                    "auroc": None if suppressed else cell["auroc"],
                    "oe_ratio": None if suppressed else cell["oe_ratio"],
                }
            )
        out[str(attribute)] = rows
    return out


def _count_columns(
    stream: Stream, reference: Any, names: Sequence[str]
) -> list[dict[str, np.ndarray]]:
    """Bin counts of some features per period, streamed file by file and batch by batch.

    Each record batch's counts of a period are added to the period's running counts
    (the sums are added batch by batch, so the numbers depend on :data:`ROW_BATCH`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    counts: list[dict[str, np.ndarray]] = [{} for _ in stream.periods]
    columns = [f"{FEATURE_PREFIX}{name}" for name in names]
    for index, path in enumerate(stream.paths):
        start = int(stream.offsets[index])
        # through a memory map, without pre-buffering: the column chunks are decoded
        # straight from the page cache instead of being copied into fresh buffers first
        with pa.memory_map(str(path)) as source:
            batches = pq.ParquetFile(source, pre_buffer=False).iter_batches(
                batch_size=ROW_BATCH, columns=columns, use_threads=False
            )
            start = _count_batches(batches, reference, names, stream.period, start, counts)
    return counts


def _count_batches(
    batches: Any,
    reference: Any,
    names: Sequence[str],
    period: np.ndarray,
    start: int,
    counts: list[dict[str, np.ndarray]],
) -> int:
    """Add the bin counts of one file's record batches to ``counts``; return the next row."""
    from clinai.evaluation.monitoring import count_bins_by_period

    n_periods = len(counts)
    for batch in batches:
        codes = period[start : start + batch.num_rows]
        start += batch.num_rows
        for position, name in enumerate(names):
            values = batch.column(position).to_numpy(zero_copy_only=False)
            found = count_bins_by_period(reference, name, values, codes, n_periods)
            for k, cell in enumerate(found):
                if cell is None:
                    continue
                previous = counts[k].get(name)
                counts[k][name] = cell if previous is None else previous + cell
    return start


def count_drift(
    stream: Stream,
    reference: Any,
    rows: Sequence[np.ndarray],
    *,
    progress: Callable[[], None] | None = None,
) -> list[Any]:
    """Drift of every reference feature, and of the risks, per period (a ``DriftResult`` each)."""
    from clinai.evaluation.monitoring import RISK_KEY, count_bins, feature_drift

    names = list(reference.names)
    batches = [names[k : k + COLUMN_BATCH] for k in range(0, len(names), COLUMN_BATCH)]
    merged: list[dict[str, np.ndarray]] = [{} for _ in stream.periods]
    with ThreadPoolExecutor(DRIFT_THREADS) as pool:
        for found in pool.map(lambda batch: _count_columns(stream, reference, batch), batches):
            for period, counts in enumerate(found):
                merged[period].update(counts)
            if progress is not None:
                progress()
    results = []
    for period, counts in enumerate(merged):
        for name in names:  # a feature with no row in the period: empty counts
            counts.setdefault(name, np.zeros(reference.get(name).n_cells))
        if reference.risk is not None:
            counts[RISK_KEY] = count_bins(reference, RISK_KEY, stream.risk[rows[period]])
        results.append(feature_drift(reference, counts))
    return results
