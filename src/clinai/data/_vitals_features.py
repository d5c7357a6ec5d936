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

How it scales: DuckDB first reduces the measurements (streamed from Parquet) to
one row of sufficient statistics (count, sum, min, max, time moments, last value)
per stay, parameter and time bucket, where the bucket width ``g`` divides every
window and every prediction time's offset, so each window is an exact union of
buckets. Window functions over the bucket rows plus one marker row per
prediction time then give every feature; DuckDB spills to disk when the data do
not fit in memory.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clinai.data._vitals import CANONICAL_PARAMETERS
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
# Below this variance of the times (hours squared, about 0.1 s spread) a slope is
# undefined; it also absorbs the rounding of the time moments.
_MIN_TIME_VARIANCE = 1e-9

MISSING_PREDICTION_COLUMN = (
    "prediction times lack column '{column}': pass a frame with columns "
    "'{stay}' and '{time}' (or name them with stay_column= and time_column=)"
)
BAD_PREDICTION_TIME = (
    "prediction times, column '{column}': {count} row(s) have no valid time: "
    "drop them or give every prediction a time"
)
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
        The bucket width DuckDB aggregated at.
    """

    path: str
    n_prediction_times: int
    n_without_vitals: int
    columns: tuple[str, ...]
    bucket_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-ready data."""
        return {
            "path": self.path,
            "n_prediction_times": self.n_prediction_times,
            "n_without_vitals": self.n_without_vitals,
            "columns": list(self.columns),
            "bucket_seconds": self.bucket_seconds,
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


def _prediction_frame(
    prediction_times: pd.DataFrame, stay_column: str, time_column: str
) -> pd.DataFrame:
    for column in (stay_column, time_column):
        if column not in prediction_times.columns:
            raise DataError(
                MISSING_PREDICTION_COLUMN.format(column=column, stay=stay_column, time=time_column)
            )
    times = pd.to_datetime(prediction_times[time_column], errors="coerce")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    if times.isna().any():
        raise DataError(
            BAD_PREDICTION_TIME.format(column=time_column, count=int(times.isna().sum()))
        )
    epoch_us = times.to_numpy().astype("datetime64[us]").astype(np.int64)
    return pd.DataFrame(
        {
            "pred_row": np.arange(len(prediction_times), dtype=np.int64),
            "stay_id": prediction_times[stay_column].to_numpy(),
            "t_us": epoch_us,
        }
    )


def _bucket_us(epoch_us: np.ndarray, window_us: Sequence[int], bucket_us: int) -> int:
    # the widest width that divides the bucket, every window and every prediction offset
    width = bucket_us
    for value in window_us:
        width = math.gcd(width, value)
    if len(epoch_us):
        width = math.gcd(width, int(np.gcd.reduce(np.mod(epoch_us, width))))
    return max(width, 1)


def _vitals_source(vitals: str | Path | Sequence[str | Path] | pd.DataFrame) -> str:
    if isinstance(vitals, pd.DataFrame):
        return "vitals_frame"
    paths = [vitals] if isinstance(vitals, str | Path) else list(vitals)
    for path in paths:
        if "*" not in str(path) and not Path(path).exists():
            raise DataError(NO_VITALS_FILE.format(path=path))
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return f"read_parquet([{quoted}])"


def _feature_sql(
    source: str,
    parameters: Sequence[str],
    windows: Sequence[tuple[str, int]],
    width_us: int,
) -> tuple[str, list[str]]:
    hours = width_us / _US_PER_HOUR
    quoted = ", ".join(f"'{p}'" for p in parameters)
    frames = []
    window_columns = []
    for label, window_us in windows:
        span = window_us // width_us
        frames.append(
            f"w_{label} AS (PARTITION BY stay_id, parameter ORDER BY k "
            f"RANGE BETWEEN {span} PRECEDING AND 1 PRECEDING)"
        )
        window_columns.append(
            f"sum(n) OVER w_{label} AS n_{label}, sum(sv) OVER w_{label} AS sv_{label}, "
            f"min(mn) OVER w_{label} AS mn_{label}, max(mx) OVER w_{label} AS mx_{label}, "
            f"sum(st) OVER w_{label} AS st_{label}, sum(stt) OVER w_{label} AS stt_{label}, "
            f"sum(stv) OVER w_{label} AS stv_{label}"
        )
    frames.append(
        "w_all AS (PARTITION BY stay_id, parameter ORDER BY k "
        "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )
    outputs = []
    names = []
    for parameter in parameters:
        where = f"FILTER (WHERE parameter = '{parameter}')"
        outputs.append(f'first(last_v) {where} AS "{parameter}_last"')
        outputs.append(
            f"first((t_us - last_t) / {_US_PER_HOUR}::DOUBLE) {where} "
            f'AS "{parameter}_hours_since_last"'
        )
        names += [f"{parameter}_last", f"{parameter}_hours_since_last"]
        for label, _ in windows:
            n, st, stt = f"n_{label}", f"st_{label}", f"stt_{label}"
            variance = f"({stt} / {n} - ({st} / {n}) * ({st} / {n}))"
            slope = (
                f"CASE WHEN {n} >= 2 AND {variance} > {_MIN_TIME_VARIANCE!r}::DOUBLE THEN "
                f"({n} * stv_{label} - {st} * sv_{label}) / ({n} * {stt} - {st} * {st}) END"
            )
            stats = {
                "count": f"coalesce({n}, 0)",
                "mean": f"sv_{label} / {n}",
                "min": f"mn_{label}",
                "max": f"mx_{label}",
                "slope": slope,
            }
            for stat in WINDOW_STATISTICS:
                name = f"{parameter}_{label}_{stat}"
                outputs.append(f'first({stats[stat]}) {where} AS "{name}"')
                names.append(name)
    sql = f"""
WITH preds AS (
    SELECT pred_row, stay_id, t_us, t_us // {width_us} AS k FROM prediction_times
),
origins AS (
    SELECT stay_id, min(k) AS k0 FROM preds GROUP BY stay_id
),
raw AS (
    SELECT v.stay_id, v.parameter, v.value::DOUBLE AS value,
           epoch_us(v.time::TIMESTAMP) AS t, t // {width_us} AS k
    FROM {source} AS v SEMI JOIN origins USING (stay_id)
    WHERE v.parameter IN ({quoted}) AND v.value IS NOT NULL
),
buckets AS (
    SELECT stay_id, parameter, k,
           count(*) AS n, sum(value) AS sv, min(value) AS mn, max(value) AS mx,
           sum((t - k * {width_us}) / {_US_PER_HOUR}::DOUBLE) AS s1,
           sum(((t - k * {width_us}) / {_US_PER_HOUR}::DOUBLE) ** 2) AS s2,
           sum((t - k * {width_us}) / {_US_PER_HOUR}::DOUBLE * value) AS s1v,
           max(t) AS last_t, arg_max(value, t) AS last_v
    FROM raw GROUP BY stay_id, parameter, k
),
shifted AS (
    -- time moments about the stay's first prediction (hours), so slopes keep precision
    SELECT b.stay_id, b.parameter, b.k, n, sv, mn, mx, last_t, last_v,
           s1 + n * c AS st, s2 + 2 * c * s1 + n * c * c AS stt, s1v + c * sv AS stv,
           NULL::BIGINT AS pred_row, NULL::BIGINT AS t_us
    FROM (SELECT *, (k - k0) * {hours!r}::DOUBLE AS c
          FROM buckets JOIN origins USING (stay_id)) AS b
),
markers AS (
    SELECT p.stay_id, par.parameter, p.k, NULL::BIGINT AS n, NULL::DOUBLE AS sv,
           NULL::DOUBLE AS mn, NULL::DOUBLE AS mx, NULL::BIGINT AS last_t,
           NULL::DOUBLE AS last_v, NULL::DOUBLE AS st, NULL::DOUBLE AS stt,
           NULL::DOUBLE AS stv, p.pred_row, p.t_us
    FROM preds AS p CROSS JOIN (SELECT unnest([{quoted}]) AS parameter) AS par
),
windowed AS (
    SELECT pred_row, parameter, t_us,
           max(last_t) OVER w_all AS last_t,
           arg_max(last_v, last_t) OVER w_all AS last_v,
           {", ".join(window_columns)}
    FROM (SELECT * FROM shifted UNION ALL SELECT * FROM markers)
    WINDOW {", ".join(frames)}
    QUALIFY pred_row IS NOT NULL
)
SELECT pred_row, {", ".join(outputs)}
FROM windowed GROUP BY pred_row ORDER BY pred_row
"""
    return sql, names


def _connect(
    threads: int | None, memory_limit: str | None, temp_directory: str
) -> duckdb.DuckDBPyConnection:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET temp_directory = '{temp_directory}'")
    connection.execute("SET preserve_insertion_order = false")
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        connection.execute(f"SET memory_limit = '{memory_limit}'")
    return connection


def _prepare(
    prediction_times: pd.DataFrame,
    windows: Sequence[str],
    parameters: Sequence[str] | None,
    stay_column: str,
    time_column: str,
    bucket: str,
) -> tuple[pd.DataFrame, list[str], list[tuple[str, int]], int]:
    chosen = list(CANONICAL_PARAMETERS if parameters is None else parameters)
    for name in chosen:
        if name not in CANONICAL_PARAMETERS:
            raise DataError(BAD_PARAMETER.format(name=name, known=list(CANONICAL_PARAMETERS)))
    parsed = [_window_label(window) for window in windows]
    preds = _prediction_frame(prediction_times, stay_column, time_column)
    width = _bucket_us(preds["t_us"].to_numpy(), [us for _, us in parsed], _window_label(bucket)[1])
    return preds, chosen, parsed, width


def _run(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    preds: pd.DataFrame,
    parameters: list[str],
    windows: list[tuple[str, int]],
    width: int,
    *,
    threads: int | None,
    memory_limit: str | None,
    out_path: Path | None,
) -> tuple[pd.DataFrame | None, list[str]]:
    import duckdb

    source = _vitals_source(vitals)
    sql, names = _feature_sql(source, parameters, windows, width)
    with tempfile.TemporaryDirectory(prefix="clinai-duckdb-") as spill:
        connection = _connect(threads, memory_limit, spill)
        try:
            connection.register("prediction_times", preds)
            if isinstance(vitals, pd.DataFrame):
                connection.register("vitals_frame", vitals)
            if out_path is None:
                return connection.execute(sql).df(), names
            tmp = out_path.with_name(out_path.name + ".tmp")
            escaped = str(tmp).replace("'", "''")
            connection.execute(f"COPY ({sql}) TO '{escaped}' (FORMAT parquet)")
            tmp.replace(out_path)
            return None, names
        except duckdb.Error as exc:
            reason = " ".join(str(exc).split())[:200]
            raise DataError(BAD_VITALS_FILE.format(path=vitals, reason=reason)) from exc
        finally:
            connection.close()


def window_features(
    vitals: str | Path | Sequence[str | Path] | pd.DataFrame,
    prediction_times: pd.DataFrame,
    *,
    windows: Sequence[str] = ("1h", "6h", "24h"),
    parameters: Sequence[str] | None = None,
    stay_column: str = "stay_id",
    time_column: str = "prediction_time",
    bucket: str = "1h",
    threads: int | None = None,
    memory_limit: str | None = None,
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
    threads, memory_limit : optional
        DuckDB settings (e.g. ``threads=2``, ``memory_limit="3GB"``).

    Returns
    -------
    pandas.DataFrame
        One row per prediction time, in input order: the stay and time columns,
        ``any_vitals_before`` and :func:`window_feature_names` columns. Every prediction
        time is kept; one without earlier vitals has count 0 and missing
        features, and their number is logged and stored in
        ``frame.attrs["n_without_vitals"]``.

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
    preds, chosen, parsed, width = _prepare(
        prediction_times, windows, parameters, stay_column, time_column, bucket
    )
    result, names = _run(
        vitals,
        preds,
        chosen,
        parsed,
        width,
        threads=threads,
        memory_limit=memory_limit,
        out_path=None,
    )
    assert result is not None
    features = result.drop(columns="pred_row")[names]
    for name in names:
        if name.endswith("_count"):
            features[name] = features[name].astype(np.int64)
    last = [f"{p}_last" for p in chosen]
    any_before = features[last].notna().any(axis=1).to_numpy()
    out = pd.concat(
        [
            prediction_times[[stay_column, time_column]].reset_index(drop=True),
            pd.DataFrame({"any_vitals_before": any_before}),
            features.reset_index(drop=True),
        ],
        axis=1,
    )
    missing = int((~any_before).sum())
    out.attrs["n_without_vitals"] = missing
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
    threads: int | None = None,
    memory_limit: str | None = None,
) -> WindowFeaturesSummary:
    """Stream the features of :func:`window_features` to a Parquet file.

    The file has ``pred_row`` (the row of ``prediction_times``, 0-based) and
    the :func:`window_feature_names` columns; DuckDB writes it without building a
    DataFrame, so the result need not fit in memory. It is written to a
    temporary name and renamed, so a failed run leaves no file that looks
    complete. The parameters are those of :func:`window_features`.

    Returns
    -------
    WindowFeaturesSummary
        The path, the number of prediction times and of those without vitals.
    """
    import duckdb

    out = Path(out_path)
    preds, chosen, parsed, width = _prepare(
        prediction_times, windows, parameters, stay_column, time_column, bucket
    )
    _, names = _run(
        vitals,
        preds,
        chosen,
        parsed,
        width,
        threads=threads,
        memory_limit=memory_limit,
        out_path=out,
    )
    last = " AND ".join(f'"{p}_last" IS NULL' for p in chosen)
    escaped = str(out).replace("'", "''")
    with duckdb.connect() as connection:
        fetched = connection.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {last}) FROM '{escaped}'"
        ).fetchone()
    assert fetched is not None
    total, missing = int(fetched[0]), int(fetched[1])
    if missing:
        logger.warning(NO_VITALS_BEFORE, missing, total)
    return WindowFeaturesSummary(
        path=str(out),
        n_prediction_times=total,
        n_without_vitals=missing,
        columns=tuple(names),
        bucket_seconds=width / 1e6,
    )
