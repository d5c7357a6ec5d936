"""Windowed vital-sign features as of prediction times, computed with DuckDB over Parquet.

For each prediction time ``p`` of a stay, each parameter and each window ``w``:

- ``count``: measurements with ``p - w <= time < p``;
- ``mean``, ``min``, ``max`` of their values;
- ``slope``: the ordinary least-squares slope of value on time, per hour
  (missing with fewer than two distinct times);

and, over all earlier data of the stay (no window):

- ``last``: the most recent value before ``p``;
- ``hours_since_last``: hours from that measurement to ``p``.

**Nothing at or after the prediction time enters a feature.** A measurement stamped
exactly at ``p`` is excluded too: charted times are often truncated to the minute,
so a value stamped 10:00 may have been taken at 10:00:59, after a 10:00:00
prediction.

How it scales: the measurements (streamed from Parquet) are reduced to one set of
sufficient statistics (count, sum, min, max, time moments, last value) per stay,
parameter and time bucket, where the bucket width ``g`` divides every window and
every prediction time's offset, so each window is an exact union of buckets; sums
over buckets then give every feature. Two engines do the reduction:

- ``grid`` (:mod:`clinai.data._vitals_grid`), when each stay's rows are contiguous
  in the input: Arrow reads the Parquet row groups and compiled loops (numba) reduce
  each stay onto a dense bucket grid laid out from its prediction times (the first use
  in a fresh installation compiles them, about 10 s, then numba's disk cache serves);
- ``duckdb``, for any row order: DuckDB aggregates the buckets (a hash aggregation,
  spilling to disk when the data do not fit in memory) and sorts them by stay.

``engine="auto"`` takes the grid where it applies and falls back to DuckDB (also
mid-stream, when a stay reappears after another stay's rows). Both give the same
features.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai._utils import BackgroundCalls, ordinary_pages
from clinai.data._vitals import CANONICAL_PARAMETERS
from clinai.data._vitals_arrow import vitals_batches
from clinai.data._vitals_grid import (
    MIN_TIME_VARIANCE,
    GridLayout,
    GridReducer,
    StayRuns,
    StaysNotContiguous,
    Unit,
)
from clinai.data._vitals_predictions import align_stays, prediction_frame, vitals_stay_kind
from clinai.exceptions import DataError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "WINDOW_STATISTICS",
    "WindowFeaturesSummary",
    "window_feature_names",
    "window_features",
    "write_window_features",
]

logger = logging.getLogger(__name__)

#: The statistics computed per parameter and window, in column order.
WINDOW_STATISTICS: tuple[str, ...] = ("count", "mean", "min", "max", "slope")
_US_PER_HOUR = 3_600_000_000
#: The engines that reduce measurements to buckets (see the module docstring).
ENGINES = ("auto", "grid", "duckdb")
# the grid path is taken while its cells stay within this multiple of the input rows
# (plus a floor for small inputs): narrow buckets over long stays would make it sparse
_GRID_CELLS_PER_ROW = 4
_GRID_CELLS_FLOOR = 2**20
# features are mostly distinct floats: dictionary encoding and min/max statistics of
# the feature columns only cost time (statistics are kept for pred_row)
_WRITER_OPTIONS = {"use_dictionary": False, "write_statistics": ["pred_row"]}
_ROW_GROUP_ROWS = 65_536  # prediction rows per Parquet row group written

BAD_WINDOW = (
    "window_features: window {value!r} is not a positive duration such as '1h', '6h', "
    "'30min' or '2d'"
)
BAD_PARAMETER = "window_features: unknown parameter {name!r}: use some of {known}"
NO_VITALS_FILE = (
    "vitals Parquet '{path}' not found: write the cleaned vitals with "
    "DataFrame.to_parquet or generate_ward_stays first"
)
BAD_VITALS_FILE = (
    "vitals Parquet '{path}' cannot be read as canonical vitals ({reason}): it needs "
    "columns stay_id, time, parameter, value"
)
BAD_ENGINE = "window_features: engine {value!r} is not one of {known}"
GRID_NOT_APPLICABLE = (
    "window_features: engine='grid' needs each stay's rows together in the vitals, a "
    "timestamp 'time' column and bucket grids not much larger than the data: use "
    "engine='auto' or 'duckdb'"
)
NO_VITALS_BEFORE = (
    "%d of %d prediction times have no vital signs before them: their features are "
    "missing and their counts 0"
)


@dataclass(frozen=True)
class WindowFeaturesSummary:
    """What :func:`write_window_features` wrote.

    Attributes
    ----------
    path : str
        The Parquet file with one row per prediction time.
    n_prediction_times : int
        Rows written (every prediction time, none dropped).
    n_without_vitals : int
        Prediction times with no measurement of any parameter before them.
    columns : tuple of str
        The feature columns.
    bucket_seconds : float
        The bucket width the measurements were aggregated at.
    engine : str
        The engine that computed the features, ``"grid"`` or ``"duckdb"``.
    """

    path: str
    n_prediction_times: int
    n_without_vitals: int
    columns: tuple[str, ...]
    bucket_seconds: float
    engine: str = "duckdb"

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-ready data."""
        return {
            "path": self.path,
            "n_prediction_times": self.n_prediction_times,
            "n_without_vitals": self.n_without_vitals,
            "columns": list(self.columns),
            "bucket_seconds": self.bucket_seconds,
            "engine": self.engine,
        }


def _window_label(window: str | pd.Timedelta) -> tuple[str, int]:
    try:
        delta = pd.Timedelta(window)
    except (ValueError, TypeError) as exc:
        raise DataError(BAD_WINDOW.format(value=window)) from exc
    if delta <= pd.Timedelta(0) or pd.isna(delta):
        raise DataError(BAD_WINDOW.format(value=window))
    label = window if isinstance(window, str) else f"{int(delta.total_seconds())}s"
    return re.sub(r"\W+", "", label), int(delta / pd.Timedelta(microseconds=1))


def window_feature_names(
    parameters: Sequence[str] = CANONICAL_PARAMETERS,
    windows: Sequence[str] = ("1h", "6h", "24h"),
) -> list[str]:
    """List the feature columns :func:`window_features` returns, in order.

    Examples
    --------
    >>> window_feature_names(["heart_rate"], ["1h"])  # doctest: +NORMALIZE_WHITESPACE
    ['heart_rate_last', 'heart_rate_hours_since_last', 'heart_rate_1h_count',
     'heart_rate_1h_mean', 'heart_rate_1h_min', 'heart_rate_1h_max', 'heart_rate_1h_slope']
    """
    labels = [_window_label(window)[0] for window in windows]
    names: list[str] = []
    for parameter in parameters:
        names += [f"{parameter}_last", f"{parameter}_hours_since_last"]
        names += [f"{parameter}_{label}_{stat}" for label in labels for stat in WINDOW_STATISTICS]
    return names


def _bucket_us(epoch_us: np.ndarray, window_us: Sequence[int], bucket_us: int) -> int:
    # the widest width that divides the bucket, every window and every prediction offset
    width = bucket_us
    for value in window_us:
        width = math.gcd(width, value)
    if len(epoch_us):
        width = math.gcd(width, int(np.gcd.reduce(np.mod(epoch_us, width))))
    return max(width, 1)


def _bad_vitals(vitals: str | Path | Sequence[str | Path] | pd.DataFrame, exc: Exception) -> str:
    # the reader's words, with quoted values removed: a cast error quotes a stay id
    reason = re.sub(r"'[^']*'", "'...'", " ".join(str(exc).split()))[:200]
    label = "<vitals frame>" if isinstance(vitals, pd.DataFrame) else vitals
    return BAD_VITALS_FILE.format(path=label, reason=reason)


def _vitals_source(vitals: str | Path | Sequence[str | Path] | pd.DataFrame) -> str:
    if isinstance(vitals, pd.DataFrame):
        return "vitals_frame"
    paths = [vitals] if isinstance(vitals, str | Path) else list(vitals)
    for path in paths:
        if "*" not in str(path) and not Path(path).exists():
            raise DataError(NO_VITALS_FILE.format(path=path))
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return f"read_parquet([{quoted}])"


def _bucket_sql(source: str, width_us: int, parameters: Sequence[str]) -> str:
    # one row of sufficient statistics per stay, parameter and bucket, in stay order;
    # dt is the time from the bucket start in hours, so the moments stay small
    names = ", ".join(f"'{name}'" for name in parameters)
    return f"""
WITH raw AS (
    SELECT s.sidx, p.pidx, v.value::DOUBLE AS value,
           epoch_us(v.time::TIMESTAMP) AS t, t // {width_us} AS k,
           (t - k * {width_us}) / {_US_PER_HOUR}::DOUBLE AS dt
    FROM {source} AS v
    JOIN stay_index AS s ON v.stay_id = s.stay_id
    JOIN parameter_index AS p ON v.parameter::VARCHAR = p.parameter
    WHERE v.value IS NOT NULL AND v.time IS NOT NULL AND v.parameter::VARCHAR IN ({names})
)
SELECT sidx, pidx, k, count(*) AS n, sum(value) AS sv, min(value) AS mn, max(value) AS mx,
       sum(dt) AS s1, sum(dt * dt) AS s2, sum(dt * value) AS s1v,
       max(t) AS last_t, arg_max(value, t) AS last_v
FROM raw GROUP BY sidx, pidx, k ORDER BY sidx, pidx, k
"""


def _block_cumsum(values: np.ndarray, block: int) -> np.ndarray:
    # column-wise cumulative sums restarted every `block` rows, so differences have small
    # magnitudes (no cancellation against a running total over the whole chunk)
    rows = -(-len(values) // block) * block
    padded = np.zeros((rows, values.shape[1]), dtype=values.dtype)
    padded[: len(values)] = values
    sums = np.cumsum(padded.reshape(-1, block, values.shape[1]), axis=1).reshape(rows, -1)
    # a final row of zeros, which absent parts of a window read
    return np.vstack([sums, np.zeros((1, values.shape[1]), dtype=values.dtype)])


def _window_sum(local: np.ndarray, lo: np.ndarray, hi: np.ndarray, block: int) -> np.ndarray:
    """Sum each column over positions [lo, hi), from block-local cumulative sums.

    ``local`` ends with a row of zeros (see :func:`_block_cumsum`). A window spans
    at most two blocks: the part of the first block from ``lo`` to its end, plus
    the start of the next block up to ``hi - 1``; absent parts read the zero row.
    """
    zero = len(local) - 1
    present = hi > lo
    last = np.where(present, hi - 1, zero)
    first_block = lo // block
    spans_two = present & (first_block != last // block)
    block_end = np.where(spans_two, (first_block + 1) * block - 1, zero)
    before = np.where(present & (lo % block != 0), lo - 1, zero)
    total = np.take(local, last, axis=0)
    total += np.take(local, block_end, axis=0)
    total -= np.take(local, before, axis=0)
    return total


class _SparseTable:
    """Range minimum or maximum over positions in O(1) per query (windows up to `span`)."""

    def __init__(self, values: np.ndarray, span: int, op: np.ufunc, fill: float) -> None:
        self.op = op
        self.levels = [values]
        width = 1
        while width * 2 <= span:
            previous = self.levels[-1]
            shifted = np.full_like(previous, fill)
            if width < len(previous):
                shifted[: len(previous) - width] = previous[width:]
            self.levels.append(op(previous, shifted))
            width *= 2

    def query(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        length = np.maximum(hi - lo, 1)
        level = np.floor(np.log2(length)).astype(np.int64)
        level = np.minimum(level, len(self.levels) - 1)
        out = np.full(len(lo), np.nan)
        size = len(self.levels[0])
        if size == 0:
            return out
        top = size - 1  # empty windows may point past the end; their result is dropped
        for j in np.unique(level):
            rows = level == j
            table = self.levels[j]
            a = table[np.minimum(lo[rows], top)]
            b = table[np.minimum(np.maximum(hi[rows] - (1 << int(j)), lo[rows]), top)]
            out[rows] = self.op(a, b)
        return np.where(hi > lo, out, np.nan)


def _positions(
    groups: np.ndarray, k: np.ndarray, query_groups: np.ndarray, query_k: np.ndarray
) -> np.ndarray:
    """For each query, the first position whose (group, bucket) is not below it.

    ``groups`` and ``k`` are sorted lexically. Both parts are packed into one int64
    key when they fit (queries outside the buckets' range are clipped to its ends,
    which does not move them), otherwise a lexical sort decides.
    """
    if len(k) == 0:
        return np.zeros(len(query_k), dtype=np.int64)
    k_min, k_max = int(k.min()), int(k.max())
    g_min = int(min(groups.min(), query_groups.min()))
    width = k_max - k_min + 3
    if (int(max(groups.max(), query_groups.max())) - g_min + 1) * width < 2**62:
        key = (groups - g_min) * width + (k - k_min + 1)
        clipped = np.clip(query_k, k_min - 1, k_max + 1) - k_min + 1
        return np.searchsorted(key, (query_groups - g_min) * width + clipped, side="left")
    all_groups = np.concatenate([groups, query_groups])
    all_k = np.concatenate([k, query_k])
    is_query = np.concatenate([np.zeros(len(groups), bool), np.ones(len(query_groups), bool)])
    # at equal keys the query sorts first, so it counts only the buckets strictly below it
    order = np.lexsort((~is_query, all_k, all_groups))
    bucket_before = np.cumsum(~is_query[order]) - (~is_query[order])
    out = np.empty(len(query_groups), dtype=np.int64)
    sorted_query = is_query[order]
    out[order[sorted_query] - len(groups)] = bucket_before[sorted_query]
    return out


def _chunk_features(
    buckets: dict[str, np.ndarray],
    preds: dict[str, np.ndarray],
    n_parameters: int,
    spans: Sequence[int],
    hours: float,
) -> np.ndarray:
    """Features (rows: predictions, columns: parameter-major) for one chunk of whole stays."""
    group = buckets["sidx"].astype(np.int64) * n_parameters + buckets["pidx"]
    k = buckets["k"]
    n_stats = 2 + len(spans) * len(WINDOW_STATISTICS)
    n_pred = len(preds["sidx"])
    out = np.full((n_pred, n_parameters, n_stats), np.nan)
    if len(group) == 0:  # no vitals at all for these stays: counts 0, the rest missing
        for w in range(len(spans)):
            out[:, :, 2 + w * len(WINDOW_STATISTICS)] = 0
    if n_pred == 0 or len(group) == 0:
        return out.reshape(n_pred, -1)
    # per bucket: its bucket index relative to its group's first bucket (exact integers)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else group
    first_k = np.repeat(k[starts], np.diff(np.r_[starts, len(k)]))
    k_rel = k - first_k
    n = buckets["n"].astype(np.int64)
    # a window covers at most min(span, buckets) positions, so blocks need be no longer:
    # a span of billions of buckets (a prediction time with microseconds) would not fit
    block = max(1, min(max(spans, default=1), len(k)))
    # integer sums (exact; int64 wraps consistently, so differences stay exact while the
    # window's own sums fit, below count * span**2) and float sums. Buckets of microseconds
    # (prediction times with fractions of a second) give spans of billions: floats then
    exact = int(n.sum()) * max(spans, default=1) ** 2 < 2**62
    moments = np.int64 if exact else np.float64
    n_m, k_m = n.astype(moments), k_rel.astype(moments)
    integers = _block_cumsum(np.column_stack([n_m, n_m * k_m, n_m * k_m * k_m]), block)
    floats = _block_cumsum(
        np.column_stack(
            [
                buckets["sv"],
                buckets["s1"],
                buckets["s2"],
                buckets["s1v"],
                k_rel * buckets["s1"],
                k_rel * buckets["sv"],
            ]
        ),
        block,
    )
    minimum = _SparseTable(buckets["mn"], block, np.minimum, np.inf)
    maximum = _SparseTable(buckets["mx"], block, np.maximum, -np.inf)

    # every (prediction, parameter) pair is a query
    q_group = (
        preds["sidx"].astype(np.int64)[:, None] * n_parameters + np.arange(n_parameters)
    ).ravel()
    q_k = np.repeat(preds["k"], n_parameters)
    searches = [q_k] + [q_k - span for span in spans]
    found = _positions(group, k, np.tile(q_group, len(searches)), np.concatenate(searches))
    found = found.reshape(len(searches), -1)
    hi = found[0]
    group_start = _positions(group, k, q_group, np.full(len(q_group), np.iinfo(np.int64).min))
    has_last = hi > group_start
    previous = np.maximum(hi - 1, 0)
    stats = out.reshape(n_pred * n_parameters, n_stats)
    stats[:, 0] = np.where(has_last, buckets["last_v"][previous], np.nan)
    since = (np.repeat(preds["t_us"], n_parameters) - buckets["last_t"][previous]) / _US_PER_HOUR
    stats[:, 1] = np.where(has_last, since, np.nan)
    # the query's bucket relative to its group's first bucket
    q_first = np.where(has_last, first_k[previous], 0)
    kq = (q_k - q_first).astype(moments)
    for w in range(len(spans)):
        lo = np.maximum(found[w + 1], group_start)
        column = 2 + w * len(WINDOW_STATISTICS)

        count, nk, nkk = _window_sum(integers, lo, hi, block).T
        sum_v, s1, s2, s1v, ks1, ksv = _window_sum(floats, lo, hi, block).T
        # sums of powers of (k - kq); integer parts are exact (int64 wraps consistently)
        n_kappa = nk - kq * count
        n_kappa2 = nkk - 2 * kq * nk + kq * kq * count
        kappa_s1 = ks1 - kq * s1
        kappa_sv = ksv - kq * sum_v
        sum_tau = hours * n_kappa + s1
        sum_tau2 = hours * hours * n_kappa2 + 2 * hours * kappa_s1 + s2
        sum_tau_v = hours * kappa_sv + s1v
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sum_v / count
            variance = sum_tau2 / count - (sum_tau / count) ** 2
            slope = (count * sum_tau_v - sum_tau * sum_v) / (count * sum_tau2 - sum_tau**2)
        defined = (count >= 2) & (variance > MIN_TIME_VARIANCE)
        stats[:, column] = count
        stats[:, column + 1] = np.where(count > 0, mean, np.nan)
        stats[:, column + 2] = minimum.query(lo, hi)
        stats[:, column + 3] = maximum.query(lo, hi)
        stats[:, column + 4] = np.where(defined, slope, np.nan)
    return out.reshape(n_pred, -1)


def _connect(
    threads: int | None, memory_limit: str | None, temp_directory: str
) -> duckdb.DuckDBPyConnection:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET temp_directory = '{temp_directory}'")
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        connection.execute(f"SET memory_limit = '{memory_limit}'")
    return connection


@dataclass(frozen=True)
class _Job:
    """What one computation reads, checked and parsed once, for either engine.

    ``preds`` holds ``stay_id``, ``t_us`` and ``pred_row`` per prediction time,
    ``windows`` each window's label and microseconds, ``width`` the bucket width in
    microseconds.
    """

    vitals: str | Path | Sequence[str | Path] | pd.DataFrame
    preds: pd.DataFrame
    parameters: list[str]
    windows: list[tuple[str, int]]
    width: int

    @property
    def names(self) -> list[str]:
        """The feature columns, in order."""
        return window_feature_names(self.parameters, [label for label, _ in self.windows])

    @property
    def spans(self) -> list[int]:
        """Each window's width in buckets."""
        return [window_us // self.width for _, window_us in self.windows]


def _prepare(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    prediction_times: pd.DataFrame,
    windows: Sequence[str],
    parameters: Sequence[str] | None,
    stay_column: str,
    time_column: str,
    bucket: str,
) -> _Job:
    chosen = list(CANONICAL_PARAMETERS if parameters is None else parameters)
    for name in chosen:
        if name not in CANONICAL_PARAMETERS:
            raise DataError(BAD_PARAMETER.format(name=name, known=list(CANONICAL_PARAMETERS)))
    parsed = [_window_label(window) for window in windows]
    preds = prediction_frame(prediction_times, stay_column, time_column)
    preds["stay_id"] = align_stays(preds["stay_id"], vitals_stay_kind(vitals), stay_column)
    width = _bucket_us(preds["t_us"].to_numpy(), [us for _, us in parsed], _window_label(bucket)[1])
    return _Job(vitals, preds, chosen, parsed, width)


def _blocks(
    job: _Job,
    engine: str,
    threads: int | None,
    memory_limit: str | None,
    chunk_rows: int,
    start: Callable[[str], None],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (prediction rows, feature block) per chunk of whole stays, every row once.

    ``start(engine)`` is called before an engine's first block. If the grid engine
    finds a stay's rows split mid-stream, ``start("duckdb")`` follows: the consumer
    drops what it has, and DuckDB computes every row again.
    """
    if engine not in ENGINES:
        raise DataError(BAD_ENGINE.format(value=engine, known=list(ENGINES)))
    with ordinary_pages():
        if engine != "duckdb":
            finished = yield from _grid_attempt(job, engine, chunk_rows, start)
            if finished:
                return
        start("duckdb")
        yield from _duckdb_blocks(job, threads, memory_limit, chunk_rows)


def _grid_attempt(
    job: _Job, engine: str, chunk_rows: int, start: Callable[[str], None]
) -> Generator[tuple[np.ndarray, np.ndarray], None, bool]:
    """Yield the grid engine's blocks; return False where DuckDB must compute instead."""
    import pyarrow as pa

    preds, parameters, width = job.preds, job.parameters, job.width
    stay_codes, stay_values = pd.factorize(preds["stay_id"], sort=False)
    stays = pd.Index(stay_values)
    layout = GridLayout.plan(
        stay_codes, preds["t_us"].to_numpy() // width, len(stays), job.spans, width, len(parameters)
    )
    source = vitals_batches(job.vitals, parameters, stays, batch_rows=chunk_rows)
    if source is not None:
        n_rows, batches = source
        exact = n_rows * max(job.spans, default=1) ** 2 < 2**62  # see _chunk_features
        if exact and layout.n_cells <= _GRID_CELLS_PER_ROW * n_rows + _GRID_CELLS_FLOOR:
            try:
                start("grid")
                yield from _grid_blocks(batches, preds, stay_codes, stays, layout, chunk_rows)
                return True
            except StaysNotContiguous:
                if engine == "grid":
                    raise DataError(GRID_NOT_APPLICABLE) from None
                logger.info("a stay's vitals are not contiguous: computing with DuckDB")
                return False
            except (OSError, pa.ArrowException) as exc:  # a damaged row group, say
                raise DataError(_bad_vitals(job.vitals, exc)) from exc
    if engine == "grid":
        raise DataError(GRID_NOT_APPLICABLE)
    return False


def _grid_blocks(
    batches: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    preds: pd.DataFrame,
    stay_codes: np.ndarray,
    stays: pd.Index,
    layout: GridLayout,
    unit_rows: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    order = np.lexsort((preds["pred_row"].to_numpy(), stay_codes))
    pred_starts = np.searchsorted(stay_codes[order], np.arange(len(stays) + 1))
    t_us = preds["t_us"].to_numpy()[order]
    k = t_us // layout.width_us
    pred_rows = preds["pred_row"].to_numpy()[order]
    reducer = GridReducer(layout, pred_starts, k, t_us)
    runs = StayRuns(stays, unit_rows=min(unit_rows, 1 << 18))

    def features(unit: Unit) -> tuple[np.ndarray, np.ndarray]:
        positions, block = reducer.features(unit)
        return pred_rows[positions], block.T

    for batch in batches:
        for unit in runs.feed(*batch):
            yield features(unit)
    for unit in runs.finish():
        yield features(unit)


def _duckdb_blocks(
    job: _Job, threads: int | None, memory_limit: str | None, chunk_rows: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    import duckdb

    vitals, parameters, width, spans = job.vitals, job.parameters, job.width, job.spans
    source = _vitals_source(vitals)
    stay_codes, stay_values = pd.factorize(job.preds["stay_id"], sort=False)
    preds = job.preds.assign(sidx=stay_codes, k=job.preds["t_us"] // width)
    preds = preds.sort_values(["sidx", "pred_row"], kind="stable")
    sidx_sorted = preds["sidx"].to_numpy()
    hours = width / _US_PER_HOUR
    done = np.zeros(len(stay_values), dtype=bool)

    def block(
        lo_sidx: int, hi_sidx: int, buckets: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        a, b = np.searchsorted(sidx_sorted, [lo_sidx, hi_sidx + 1])
        part = preds.iloc[a:b]
        done[lo_sidx : hi_sidx + 1] = True
        arrays = {name: part[name].to_numpy() for name in ("sidx", "k", "t_us")}
        features = _chunk_features(buckets, arrays, len(parameters), spans, hours)
        return part["pred_row"].to_numpy(), features

    with tempfile.TemporaryDirectory(prefix="clinai-duckdb-") as spill:
        connection = _connect(threads, memory_limit, spill)
        try:
            connection.register(
                "stay_index",
                pd.DataFrame({"stay_id": stay_values, "sidx": np.arange(len(stay_values))}),
            )
            connection.register(
                "parameter_index",
                pd.DataFrame({"parameter": parameters, "pidx": np.arange(len(parameters))}),
            )
            if isinstance(vitals, pd.DataFrame):
                connection.register("vitals_frame", vitals)
            reader = connection.sql(_bucket_sql(source, width, parameters)).to_arrow_reader(
                min(chunk_rows, 1_000_000)
            )
            pending: list[pd.DataFrame] = []
            pending_rows = 0
            for batch in reader:
                pending.append(batch.to_pandas())
                pending_rows += batch.num_rows
                if pending_rows < chunk_rows:
                    continue
                frame = pd.concat(pending, ignore_index=True)
                # keep the last stay for the next chunk: its buckets may continue
                last = frame["sidx"].iloc[-1]
                cut = int(np.searchsorted(frame["sidx"].to_numpy(), last))
                if cut == 0:
                    continue
                head = frame.iloc[:cut]
                pending, pending_rows = [frame.iloc[cut:]], len(frame) - cut
                arrays = {c: head[c].to_numpy() for c in head.columns}
                yield block(int(head["sidx"].iloc[0]), int(last) - 1, arrays)
            if pending_rows:
                frame = pd.concat(pending, ignore_index=True)
                arrays = {c: frame[c].to_numpy() for c in frame.columns}
                yield block(int(frame["sidx"].iloc[0]), int(frame["sidx"].iloc[-1]), arrays)
        except duckdb.Error as exc:
            raise DataError(_bad_vitals(vitals, exc)) from exc
        finally:
            connection.close()
    # stays without any vitals: every feature missing, counts 0
    empty_stays = np.flatnonzero(~done)
    if len(empty_stays):
        rows = preds.loc[preds["sidx"].isin(empty_stays)]
        no_buckets = {
            name: np.array(
                [], dtype=np.int64 if name in ("sidx", "pidx", "k", "n", "last_t") else float
            )
            for name in (
                "sidx",
                "pidx",
                "k",
                "n",
                "sv",
                "mn",
                "mx",
                "s1",
                "s2",
                "s1v",
                "last_t",
                "last_v",
            )
        }
        arrays = {name: rows[name].to_numpy() for name in ("sidx", "k", "t_us")}
        yield (
            rows["pred_row"].to_numpy(),
            _chunk_features(no_buckets, arrays, len(parameters), spans, hours),
        )


def window_features(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    prediction_times: pd.DataFrame,
    *,
    windows: Sequence[str] = ("1h", "6h", "24h"),
    parameters: Sequence[str] | None = None,
    stay_column: str = "stay_id",
    time_column: str = "prediction_time",
    bucket: str = "1h",
    engine: str = "auto",
    threads: int | None = None,
    memory_limit: str | None = None,
    chunk_rows: int = 2_000_000,
) -> pd.DataFrame:
    """Compute vital-sign features as of each prediction time (see the module docstring).

    Parameters
    ----------
    vitals : path, list of paths, or pandas.DataFrame
        Canonical long vitals (``stay_id``, ``time``, ``parameter``, ``value``), as
        :func:`read_vitals` returns and :func:`generate_ward_stays` writes; Parquet
        paths (globs allowed) are streamed, not loaded.
    prediction_times : pandas.DataFrame
        One row per prediction: the stay and the prediction time (naive UTC,
        like the vitals; zoned times are converted to UTC).
    windows : sequence of str, default ("1h", "6h", "24h")
        Look-back windows, any pandas Timedelta string.
    parameters : sequence of str, optional
        Canonical parameters to use; all of :data:`CANONICAL_PARAMETERS` by default.
    stay_column, time_column : str
        Columns of ``prediction_times``.
    bucket : str, default "1h"
        The widest aggregation bucket; narrowed automatically so that it divides
        every window and prediction offset (results are exact for any bucket).
    engine : {"auto", "grid", "duckdb"}, default "auto"
        How measurements are reduced to buckets (see the module docstring); the
        results are the same.
    threads, memory_limit : optional
        DuckDB settings (e.g. ``threads=2``, ``memory_limit="3GB"``).
    chunk_rows : int, default 2,000,000
        Rows combined at a time: vitals rows per batch on the grid path (a Parquet
        row group is read whole up to this size), bucket rows on the DuckDB path;
        memory grows with it.

    Returns
    -------
    pandas.DataFrame
        One row per prediction time, in input order: the stay and time columns,
        ``any_vitals_before`` and :func:`window_feature_names` columns. Every prediction
        time is kept; one without earlier vitals has count 0 and missing
        features, and their number is logged and stored in
        ``frame.attrs["n_without_vitals"]``; ``frame.attrs["engine"]`` names the
        engine that computed them.

    Raises
    ------
    DataError
        A prediction column or time is missing, a window or parameter is invalid,
        or the vitals cannot be read.

    Examples
    --------
    >>> vitals = pd.DataFrame({"stay_id": [1, 1, 1],
    ...     "time": pd.to_datetime(["2024-01-01 08:30", "2024-01-01 09:30", "2024-01-01 10:00"]),
    ...     "parameter": "heart_rate", "value": [80.0, 90.0, 150.0]})
    >>> preds = pd.DataFrame({"stay_id": [1],
    ...     "prediction_time": [pd.Timestamp("2024-01-01 10:00")]})
    >>> row = window_features(vitals, preds, windows=["1h"], parameters=["heart_rate"]).iloc[0]
    >>> print(row["heart_rate_last"], row["heart_rate_1h_count"],
    ...     row["heart_rate_hours_since_last"])
    90.0 1 0.5
    """
    job = _prepare(vitals, prediction_times, windows, parameters, stay_column, time_column, bucket)
    names = job.names
    matrix = np.full((len(job.preds), len(names)), np.nan)
    used: list[str] = []
    # used.append is start(): after a restart every row is computed again and overwritten
    for rows, block in _blocks(job, engine, threads, memory_limit, chunk_rows, used.append):
        matrix[rows] = block
    features = pd.DataFrame(matrix, columns=names)
    for name in names:
        if name.endswith("_count"):
            features[name] = features[name].astype(np.int64)
    last = [f"{p}_last" for p in job.parameters]
    any_before = features[last].notna().any(axis=1).to_numpy()
    out = pd.concat(
        [
            prediction_times[[stay_column, time_column]].reset_index(drop=True),
            pd.DataFrame({"any_vitals_before": any_before}),
            features,
        ],
        axis=1,
    )
    missing = int((~any_before).sum())
    out.attrs["n_without_vitals"] = missing
    out.attrs["engine"] = used[-1]
    if missing:
        logger.warning(NO_VITALS_BEFORE, missing, len(out))
    return out


def write_window_features(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    prediction_times: pd.DataFrame,
    out_path: str | Path,
    *,
    windows: Sequence[str] = ("1h", "6h", "24h"),
    parameters: Sequence[str] | None = None,
    stay_column: str = "stay_id",
    time_column: str = "prediction_time",
    bucket: str = "1h",
    engine: str = "auto",
    threads: int | None = None,
    memory_limit: str | None = None,
    chunk_rows: int = 2_000_000,
) -> WindowFeaturesSummary:
    """Stream the features of :func:`window_features` to a Parquet file.

    The file has ``pred_row`` (the row of ``prediction_times``, 0-based) and
    the :func:`window_feature_names` columns, written chunk by chunk (of whole
    stays, not in ``pred_row`` order), so the result need not fit in memory. It is written to a
    temporary name and renamed, so a failed run leaves no file that looks
    complete. The parameters are those of :func:`window_features`.

    Returns
    -------
    WindowFeaturesSummary
        The path, the number of prediction times and of those without vitals.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_path)
    job = _prepare(vitals, prediction_times, windows, parameters, stay_column, time_column, bucket)
    names = job.names
    counts = {i for i, name in enumerate(names) if name.endswith("_count")}
    lasts = [names.index(f"{p}_last") for p in job.parameters]
    # missing features are NaN, never null: non-nullable columns need no definition
    # levels (measured: a third less CPU to write 1 million x 128 features)
    fields = [pa.field("pred_row", pa.int64(), nullable=False)] + [
        pa.field(name, pa.int64() if name.endswith("_count") else pa.float64(), nullable=False)
        for name in names
    ]
    schema = pa.schema(fields)
    tmp = out.with_name(out.name + ".tmp")
    writer = pq.ParquetWriter(tmp, schema, **_WRITER_OPTIONS)
    # pages are encoded and compressed on another thread while the next chunk is computed
    background = BackgroundCalls()
    total = missing = 0
    used: list[str] = []
    held: list[tuple[np.ndarray, np.ndarray]] = []  # chunks not yet written

    def start(engine: str) -> None:
        nonlocal writer, total, missing
        if used:  # the grid stopped mid-stream: write the file again
            background.wait()
            writer.close()
            writer = pq.ParquetWriter(tmp, schema, **_WRITER_OPTIONS)
            total = missing = 0
            held.clear()
        used.append(engine)

    def batch(rows: np.ndarray, block: np.ndarray) -> pa.RecordBatch:
        by_column = block.T  # the grid engine's blocks: each column contiguous, no copy
        columns = [pa.array(rows, pa.int64())] + [
            pa.array(by_column[i].astype(np.int64) if i in counts else by_column[i])
            for i in range(len(names))
        ]
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    def flush() -> None:
        # one row group of many chunks: fewer, larger pages cost less to write and read
        if held:
            table = pa.Table.from_batches([batch(*chunk) for chunk in held], schema=schema)
            held.clear()
            background.submit(writer.write_table, table)

    try:
        for rows, block in _blocks(job, engine, threads, memory_limit, chunk_rows, start):
            held.append((rows, block))
            total += len(rows)
            missing += int(np.isnan(block[:, lasts]).all(axis=1).sum())
            if sum(len(chunk_rows) for chunk_rows, _ in held) >= _ROW_GROUP_ROWS:
                flush()
        flush()
        background.wait()
    except BaseException:
        background.close()
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    background.close()
    writer.close()
    tmp.replace(out)
    if missing:
        logger.warning(NO_VITALS_BEFORE, missing, total)
    return WindowFeaturesSummary(
        path=str(out),
        n_prediction_times=total,
        n_without_vitals=missing,
        columns=tuple(names),
        bucket_seconds=job.width / 1e6,
        engine=used[-1],
    )
