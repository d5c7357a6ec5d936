"""The development data's drift reference: aggregated bins, and counting a period into them.

The development (reference) data are summarised once, at training, into aggregated
bins (:func:`drift_reference`); no row is kept. A monitoring period is counted into
the same bins (:func:`count_bins`, additive, so a period can be counted in chunks
and the counts summed); :mod:`clinai.evaluation.monitoring._drift` compares them.
The bins, the categorical levels and the counting are defined in that module's
docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai.evaluation._estimate import _num
from clinai.evaluation._inputs import check_min_cell
from clinai.exceptions import DataError

__all__ = [
    "OTHER_LEVEL",
    "RISK_KEY",
    "DriftReference",
    "FeatureReference",
    "count_bins",
    "count_bins_by_period",
    "drift_reference",
]

DRIFT_REFERENCE_VERSION = 1
#: Level that stands for rare reference levels and for levels unseen in the reference.
OTHER_LEVEL = "other"
#: Key of the predicted risk in the counts given to :func:`feature_drift` (and the
#: name :func:`count_bins` takes for it); features cannot be named so.
RISK_KEY = "__risk__"

N_BINS_MSG = "n_bins must be an integer from 10 to 1000 (100: percentile bins); got {value!r}"
UNKNOWN_FEATURE_MSG = (
    "feature {feature!r} is not in the drift reference (its features: {known}): "
    "count only the model's input columns"
)
NOT_NUMERIC_MSG = (
    "feature {feature!r} must be numeric, as in the development data; got {values}: "
    "pass the model's input columns as fed to the model"
)
UNKNOWN_CATEGORICAL_MSG = "categorical names column(s) not in the features: {names}"
REFERENCE_DICT_MSG = (
    "the drift reference is not a DriftReference.to_dict() of version "
    f"{DRIFT_REFERENCE_VERSION}: {{detail}}; recreate it by training the model again"
)

_NUMERIC = "numeric"
#: Equal cells per edge of the lookup grid that finds a value's bin (:func:`_bin_index`):
#: fine enough that a cell rarely holds two edges, small enough to stay in cache.
_GRID_CELLS_PER_EDGE = 32
#: The sums after a numeric feature's bin and missing counts.
_NUMERIC_SUMS = ("sum", "sum_below", "sum_above")
_CATEGORICAL = "categorical"
_DECILES = np.arange(1, 10) / 10.0


@dataclass(frozen=True, eq=False)
class FeatureReference:
    """The development data's distribution of one feature, in aggregated bins.

    Attributes
    ----------
    feature : str
        Column name (:data:`RISK_KEY` for the predicted risk).
    kind : str
        ``"numeric"`` or ``"categorical"``.
    n : int
        Rows of the reference.
    missing_share : float
        Share of the rows with a missing value.
    edges : numpy.ndarray
        Numeric: the unique inner bin edges, ascending (empty when every value
        is missing); ``len(edges) + 1`` bins.
    decile_edges : numpy.ndarray
        Numeric: the unique deciles, a subset of ``edges``; PSI's bins.
    shares : numpy.ndarray
        Share of the non-missing values in each bin (numeric) or level
        (categorical); sums to 1 (all zero when every value is missing).
    levels : tuple of str
        Categorical: the levels, :data:`OTHER_LEVEL` last (empty for numeric).
    mean, sd : float
        Numeric: mean and standard deviation of the non-missing values (NaN otherwise).
    tail_means : tuple of float
        Numeric: mean of the values below the first edge and from the last edge on,
        for the Wasserstein distance's tails; NaN where a tail has fewer than
        ``min_cell`` rows (it would come close to one patient's value).
    """

    feature: str
    kind: str
    n: int
    missing_share: float
    edges: np.ndarray
    decile_edges: np.ndarray
    shares: np.ndarray
    levels: tuple[str, ...] = ()
    mean: float = math.nan
    sd: float = math.nan
    tail_means: tuple[float, float] = (math.nan, math.nan)

    @property
    def n_cells(self) -> int:
        """Length of this feature's counts.

        The bins or levels, then the missing count (numeric: then the sums of the
        non-missing values, of those below the first edge and of those from the
        last edge on).
        """
        if self.kind == _CATEGORICAL:
            return len(self.levels) + 1
        return self.edges.shape[0] + 2 + len(_NUMERIC_SUMS)

    def to_dict(self) -> dict[str, Any]:
        """Return the feature's bins as plain JSON values."""
        out: dict[str, Any] = {
            "feature": self.feature,
            "kind": self.kind,
            "n": int(self.n),
            "missing_share": float(self.missing_share),
            "shares": [float(s) for s in self.shares],
        }
        if self.kind == _CATEGORICAL:
            out["levels"] = list(self.levels)
        else:
            out["edges"] = [float(e) for e in self.edges]
            out["decile_edges"] = [float(e) for e in self.decile_edges]
            out["mean"] = _num(self.mean)
            out["sd"] = _num(self.sd)
            out["tail_means"] = [_num(m) for m in self.tail_means]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureReference:
        """Rebuild a feature's reference from :meth:`to_dict`."""
        kind = str(data["kind"])
        if kind not in (_NUMERIC, _CATEGORICAL):
            raise DataError(REFERENCE_DICT_MSG.format(detail=f"unknown kind {kind!r}"))
        mean, sd = data.get("mean"), data.get("sd")
        return cls(
            feature=str(data["feature"]),
            kind=kind,
            n=int(data["n"]),
            missing_share=float(data["missing_share"]),
            edges=np.asarray(data.get("edges", []), dtype="float64"),
            decile_edges=np.asarray(data.get("decile_edges", []), dtype="float64"),
            shares=np.asarray(data["shares"], dtype="float64"),
            levels=tuple(str(level) for level in data.get("levels", [])),
            mean=math.nan if mean is None else float(mean),
            sd=math.nan if sd is None else float(sd),
            tail_means=_pair(data.get("tail_means", [None, None])),
        )


@dataclass(frozen=True, eq=False)
class DriftReference:
    """The development data's feature (and predicted-risk) distributions, aggregated.

    Attributes
    ----------
    features : tuple of FeatureReference
        One per feature, in the column order of the development data.
    risk : FeatureReference or None
        The predicted risk's distribution, when given.
    n_bins : int
        Number of percentile bins asked for.
    min_cell : int
        Categorical levels with fewer rows were merged into :data:`OTHER_LEVEL`.
    """

    features: tuple[FeatureReference, ...]
    risk: FeatureReference | None = None
    n_bins: int = 100
    min_cell: int = 5

    @property
    def names(self) -> tuple[str, ...]:
        """The feature names, in order."""
        return tuple(f.feature for f in self.features)

    def get(self, feature: str) -> FeatureReference:
        """Return one feature's reference (:data:`RISK_KEY` for the risk)."""
        if feature == RISK_KEY and self.risk is not None:
            return self.risk
        for item in self.features:
            if item.feature == feature:
                return item
        known = ", ".join(self.names[:10]) + (" ..." if len(self.names) > 10 else "")
        raise DataError(UNKNOWN_FEATURE_MSG.format(feature=feature, known=known))

    def to_dict(self) -> dict[str, Any]:
        """Return ``drift_reference.json``: aggregated bins and shares only, never a row."""
        return {
            "version": DRIFT_REFERENCE_VERSION,
            "n_bins": int(self.n_bins),
            "min_cell": int(self.min_cell),
            "features": [f.to_dict() for f in self.features],
            "risk": None if self.risk is None else self.risk.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReference:
        """Rebuild a reference from :meth:`to_dict` (e.g. a loaded ``drift_reference.json``)."""
        if not isinstance(data, Mapping) or data.get("version") != DRIFT_REFERENCE_VERSION:
            version = data.get("version") if isinstance(data, Mapping) else type(data).__name__
            raise DataError(REFERENCE_DICT_MSG.format(detail=f"version {version!r}"))
        try:
            risk = data.get("risk")
            return cls(
                features=tuple(FeatureReference.from_dict(f) for f in data["features"]),
                risk=None if risk is None else FeatureReference.from_dict(risk),
                n_bins=int(data["n_bins"]),
                min_cell=int(data["min_cell"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                REFERENCE_DICT_MSG.format(detail=f"{type(exc).__name__} {exc}")
            ) from exc


def _check_n_bins(n_bins: Any) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer):
        raise DataError(N_BINS_MSG.format(value=n_bins))
    if not 10 <= int(n_bins) <= 1000:
        raise DataError(N_BINS_MSG.format(value=n_bins))
    return int(n_bins)


def _is_categorical(column: pd.Series) -> bool:
    dtype = column.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def _numeric_values(values: Any, feature: str) -> np.ndarray:
    """Return a column as float64 (missing values NaN; infinities count as missing)."""
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        shown = ", ".join(
            repr(v) for v in pd.unique(pd.Series(np.asarray(values, dtype=object)))[:3]
        )
        raise DataError(NOT_NUMERIC_MSG.format(feature=feature, values=shown)) from exc
    return np.where(np.isinf(array), np.nan, array) if np.isinf(array).any() else array


def _pair(values: Sequence[Any]) -> tuple[float, float]:
    """Return two numbers as floats, ``None`` as NaN."""
    low, high = (math.nan if v is None else float(v) for v in values)
    return low, high


def _tail_means(observed: np.ndarray, edges: np.ndarray, min_cell: int) -> tuple[float, float]:
    """Mean below the first edge and from the last edge on; NaN under ``min_cell`` rows."""
    below = observed[observed < edges[0]]
    above = observed[observed >= edges[-1]]
    enough = max(min_cell, 1)
    return _pair([tail.mean() if tail.shape[0] >= enough else None for tail in (below, above)])


def _numeric_reference(name: str, values: Any, n_bins: int, min_cell: int) -> FeatureReference:
    x = _numeric_values(values, name)
    n = x.shape[0]
    observed = x[~np.isnan(x)]
    missing = (n - observed.shape[0]) / n if n else 0.0
    if observed.shape[0] == 0:
        empty = np.empty(0)
        return FeatureReference(name, _NUMERIC, n, missing, empty, empty, np.zeros(1))
    # Each percentile bin holds at least min_cell rows: fewer bins for a small reference.
    bins = max(10, min(n_bins, observed.shape[0] // max(min_cell, 1)))
    levels = np.union1d(np.arange(1, bins) / bins, _DECILES)
    quantiles = np.quantile(observed, levels)
    edges = np.unique(quantiles)
    decile_edges = np.unique(quantiles[np.isin(levels, _DECILES)])
    counts = np.bincount(_bin_index(edges, observed), minlength=edges.size + 1)
    return FeatureReference(
        feature=name,
        kind=_NUMERIC,
        n=n,
        missing_share=missing,
        edges=edges,
        decile_edges=decile_edges,
        shares=counts / observed.shape[0],
        mean=float(observed.mean()),
        sd=float(observed.std(ddof=1)) if observed.shape[0] > 1 else math.nan,
        tail_means=_tail_means(observed, edges, min_cell),
    )


def _categorical_reference(name: str, values: Any, min_cell: int) -> FeatureReference:
    column = pd.Series(
        np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values
    )
    n = column.shape[0]
    counts = column.dropna().astype(str).value_counts(sort=False)
    kept = counts[(counts >= min_cell) & (counts.index != OTHER_LEVEL)].sort_index()
    other = int(counts.sum() - kept.sum())
    levels = (*(str(level) for level in kept.index), OTHER_LEVEL)
    cells = np.append(kept.to_numpy(dtype="float64"), float(other))
    observed = cells.sum()
    return FeatureReference(
        feature=name,
        kind=_CATEGORICAL,
        n=n,
        missing_share=(n - observed) / n if n else 0.0,
        edges=np.empty(0),
        decile_edges=np.empty(0),
        shares=cells / observed if observed else np.zeros_like(cells),
        levels=levels,
    )


def drift_reference(
    features: pd.DataFrame,
    *,
    risk: Any = None,
    n_bins: int = 100,
    categorical: Sequence[str] = (),
    min_cell: int = 5,
) -> DriftReference:
    """Summarise the development data's distributions into fixed bins for drift monitoring.

    Parameters
    ----------
    features : pandas.DataFrame
        The model's input columns on the development data (e.g. the training features).
    risk : array-like of shape (n,), optional
        Predicted risks on development data (out-of-fold or test-set risks) whose
        distribution the period's risks are compared with.
    n_bins : int, default=100
        Percentile bins per numeric feature: the inner edges are the
        ``100 k / n_bins`` percentiles (1st to 99th by default) plus the deciles, made
        unique. A feature with fewer than ``n_bins * min_cell`` observed values gets
        ``n // min_cell`` bins (at least 10), so that no bin holds fewer than
        ``min_cell`` rows.
    categorical : sequence of str, default=()
        Columns to treat as categorical even if numeric (e.g. coded levels); text,
        categorical and object columns are categorical anyway.
    min_cell : int, default=5
        Categorical levels with fewer rows are merged into :data:`OTHER_LEVEL`, numeric
        percentile bins and tail means need as many rows, so the reference holds no
        small count.

    Returns
    -------
    DriftReference
        Bins and shares per feature; ``to_dict()`` is ``drift_reference.json``.

    Raises
    ------
    DataError
        On an invalid ``n_bins`` or ``min_cell``, or a ``categorical`` name not in ``features``.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = drift_reference(pd.DataFrame({"age": range(1000), "sex": ["F", "M"] * 500}))
    >>> [f.kind for f in ref.features]
    ['numeric', 'categorical']
    >>> ref.get("sex").levels
    ('F', 'M', 'other')
    """
    n_bins = _check_n_bins(n_bins)
    min_cell = check_min_cell(min_cell)
    unknown = [name for name in categorical if name not in features.columns]
    if unknown:
        raise DataError(UNKNOWN_CATEGORICAL_MSG.format(names=", ".join(map(str, unknown))))
    chosen = set(categorical)
    items = []
    for name in features.columns:
        column = features[name]
        if name in chosen or _is_categorical(column):
            items.append(_categorical_reference(str(name), column, min_cell))
        else:
            items.append(_numeric_reference(str(name), column, n_bins, min_cell))
    risk_ref = None if risk is None else _numeric_reference(RISK_KEY, risk, n_bins, min_cell)
    return DriftReference(tuple(items), risk_ref, n_bins, min_cell)


def _bin_grid(edges: np.ndarray) -> tuple[float, float, int, np.ndarray] | None:
    """Return ``(lo, scale, cells, table)`` of :func:`_bin_index`'s grid; None for a binary search.

    A binary search per value (40 ns per value on the project's machine) was most
    of the counting time. Instead the range of the edges is cut into
    :data:`_GRID_CELLS_PER_EDGE` equal cells per edge; a value's cell (one
    multiplication) gives the number of edges below the cell (``table``), and one
    comparison adds the cell's own edge, if any: the same numbers (tested). Where
    some cell (widened by a rounding margin) holds two or more edges, e.g. a skewed
    feature whose percentiles crowd together, the binary search is used (None).
    """
    k = edges.size
    lo, hi = (float(edges[0]), float(edges[-1])) if k else (0.0, 0.0)
    if k < 2 or not hi > lo:
        return None
    cells = _GRID_CELLS_PER_EDGE * k
    scale = cells / (hi - lo)
    bounds = lo + np.arange(cells + 1) / scale
    # Rounding of (x - lo) * scale moves a value by far less than this margin.
    margin = 1e-9 * max(hi - lo, abs(lo), abs(hi))
    below = np.searchsorted(edges, bounds[:-1] - margin, side="right")
    if np.any(np.searchsorted(edges, bounds[1:] + margin, side="left") - below > 1):
        return None
    return lo, scale, cells, np.concatenate([[0], below, [k]])


def _bin_index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return ``np.searchsorted(edges, x, side="right")`` for finite ``x``, on a grid.

    :func:`_bin_grid`: 5 to 17 ns per value with numpy; :func:`count_bins` counts
    with the same grid in one compiled loop (:mod:`._drift_kernels`).
    """
    grid = _bin_grid(edges)
    if grid is None:
        return np.searchsorted(edges, x, side="right")
    lo, scale, cells, table = grid
    position = x - lo
    position *= scale
    position += 1.0
    np.clip(position, 0.0, cells + 1.0, out=position)
    index = table[position.astype(np.intp)]
    # NaN after the last edge: the comparison is False there, so the index stays k.
    index += x >= np.append(edges, np.nan)[index]
    return index


def _count_numeric_periods(
    ref: FeatureReference, values: Any, period: np.ndarray, n_periods: int
) -> list[np.ndarray | None]:
    """:func:`count_bins_by_period` of a numeric feature: one compiled pass over the rows."""
    from clinai.evaluation.monitoring._drift_kernels import count_periods

    x = _numeric_values(values, ref.feature)
    grid = _bin_grid(ref.edges)
    edges = np.append(np.asarray(ref.edges, dtype=np.float64), np.nan)  # the kernel's sentinel
    k = edges.size
    if grid is None:
        numbers, table = np.zeros(3), np.zeros(0, dtype=np.int64)
    else:
        numbers = np.array([grid[0], grid[1], float(grid[2])])
        table = grid[3].astype(np.int64)
    rows = np.zeros(n_periods, dtype=np.int64)
    missing = np.zeros(n_periods, dtype=np.int64)
    bins = np.zeros((n_periods, k), dtype=np.int64)
    sums = np.zeros((n_periods, k))
    count_periods(x, period, edges, numbers, table, rows, missing, bins, sums)
    out: list[np.ndarray | None] = []
    for g in range(n_periods):
        if not rows[g]:
            out.append(None)
            continue
        total = sums[g]
        tails = [total[0], total[-1]] if k > 1 else [0.0, 0.0]
        out.append(
            np.concatenate(
                [bins[g].astype("float64"), [float(missing[g]), float(total.sum())], tails]
            )
        )
    return out


def _count_numeric(ref: FeatureReference, values: Any) -> np.ndarray:
    x = _numeric_values(values, ref.feature)
    found = _count_numeric_periods(ref, x, np.zeros(x.shape[0], dtype=np.int16), 1)[0]
    if found is None:  # no value: empty bins
        return np.concatenate([np.zeros(ref.edges.size + 1), np.zeros(4)])
    return found


def _count_categorical(ref: FeatureReference, values: Any) -> np.ndarray:
    codes, uniques = pd.factorize(
        pd.Series(values) if not isinstance(values, pd.Series) else values
    )
    position = {level: k for k, level in enumerate(ref.levels)}
    other = len(ref.levels) - 1
    # Map each distinct value once; unseen levels count as "other", missing values last.
    mapped = np.array([position.get(str(u), other) for u in uniques] + [len(ref.levels)])
    return np.bincount(mapped[codes], minlength=len(ref.levels) + 1).astype("float64")


def count_bins(reference: DriftReference, feature: str, values: Any) -> np.ndarray:
    """Count a period's values of one feature into the reference's bins.

    Counts are additive: count a period in chunks and sum the arrays.

    Parameters
    ----------
    reference : DriftReference
        From :func:`drift_reference`.
    feature : str
        The feature's name, or :data:`RISK_KEY` for the predicted risk.
    values : array-like of shape (n,)
        The period's values (missing as NaN/None).

    Returns
    -------
    numpy.ndarray of float64
        Numeric: the count per bin (``len(edges) + 1``), then the missing count,
        the sum of the non-missing values, and their sums below the first edge
        and from the last edge on (for the means and the Wasserstein tails). Categorical:
        the count per level (unseen levels under :data:`OTHER_LEVEL`), then the
        missing count.

    Raises
    ------
    DataError
        When ``feature`` is not in the reference.
    """
    ref = reference.get(feature)
    if ref.kind == _CATEGORICAL:
        return _count_categorical(ref, values)
    return _count_numeric(ref, values)


def count_bins_by_period(
    reference: DriftReference, feature: str, values: Any, period: np.ndarray, n_periods: int
) -> list[np.ndarray | None]:
    """Count the values of several periods at once: :func:`count_bins` of each period's rows.

    Item ``g`` equals ``count_bins(reference, feature, values[period == g])`` (the
    same numbers: the same bins, each bin's sum over the same values in the same
    order), or is None when no row belongs to period ``g``; rows with a negative
    ``period`` are skipped. A numeric feature is counted in one compiled pass over
    the rows (:mod:`._drift_kernels`), not one selection and count per period.

    Parameters
    ----------
    reference, feature, values
        As :func:`count_bins` (``values`` of every period, shape (n,)).
    period : numpy.ndarray of int, shape (n,)
        Each row's period, ``0 .. n_periods - 1``, or negative for a row to skip.
    n_periods : int
        Number of periods.

    Returns
    -------
    list of numpy.ndarray or None
        One count vector (as :func:`count_bins`) per period; :class:`DataError`
        as :func:`count_bins`.
    """
    ref = reference.get(feature)
    codes = np.asarray(period)
    if ref.kind == _CATEGORICAL:
        present = np.bincount(codes[codes >= 0], minlength=n_periods)
        array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
        return [
            _count_categorical(ref, array[codes == g]) if present[g] else None
            for g in range(n_periods)
        ]
    return _count_numeric_periods(ref, values, codes, n_periods)
