"""Fairness tables of a survival model: C and O/E by the horizon per group, and their gaps.

The survival counterpart of :func:`clinai.evaluation.fairness_metrics`: for each
sensitive attribute and each intersection of two, every group's Harrell's C (of the
score) and O/E by the horizon (Kaplan-Meier observed risk over the mean predicted
risk, :func:`survival_oe_ratio`), and between the reported groups the difference
(largest - smallest) of each and the ratio (smallest / largest) of O/E. One set of
patient resamples gives every interval, so a gap's interval accounts for its groups
being estimated together. A group with fewer than ``min_cell`` patients, events by
the horizon or patients without one is suppressed: no number of it is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clinai._utils._vocabulary import SURVIVAL_FAIRNESS_METRICS
from clinai.evaluation._estimate import Estimate, _estimate_or_none
from clinai.evaluation._groups import group_order
from clinai.evaluation.fairness import intersection_name
from clinai.evaluation.resampling._loop import loop_replicates, with_intervals
from clinai.evaluation.resampling.engine import RandomState
from clinai.evaluation.survival import harrell_c, survival_oe_ratio
from clinai.evaluation.validate._compare_survival import _checked
from clinai.exceptions import DataError

__all__ = [
    "SURVIVAL_FAIRNESS_METRICS",
    "SurvivalFairnessTable",
    "assemble_tables",
    "fairness_tables",
    "survival_fairness",
    "table_cells",
]

#: The one with a ratio (it cannot be negative and 1 is its target).
_RATIO = "oe_ratio"
#: Joins an intersection cell's levels ("female & 70+"), as the binary tables do.
_SEPARATOR = " & "

GROUPS_MSG = (
    "groups has {rows} rows for {n} patients: give one row of sensitive attributes per patient"
)
INTERSECTION_MSG = "intersections: {pair!r} must name two different columns of groups ({available})"


@dataclass(frozen=True)
class _Cell:
    group: str
    levels: Mapping[str, str]
    mask: np.ndarray
    n: int
    events: int
    suppressed: bool


@dataclass(frozen=True)
class SurvivalFairnessTable:
    """One attribute's (or intersection's) groups and the gaps between them.

    Attributes
    ----------
    attributes : tuple of str
    min_cell : int
    groups : tuple of dict
        ``{"group", "levels", "n", "events", "suppressed", "harrell_c", "oe_ratio"}``
        (``n``, ``events`` and the metrics ``None`` when suppressed; ``events`` by
        the horizon).
    disparities : Mapping[str, Mapping[str, Estimate]]
        By metric: ``difference`` (and ``ratio`` for O/E).
    n_groups : int
        Reported groups the gaps are taken over (fewer than 2: no gap).
    """

    attributes: tuple[str, ...]
    min_cell: int
    groups: tuple[Mapping[str, Any], ...]
    disparities: Mapping[str, Mapping[str, Estimate]]
    n_groups: int

    def to_dict(self) -> dict[str, Any]:
        """Return one table of survival_metrics.json's ``fairness``."""
        return {
            "attributes": list(self.attributes),
            "intersection": len(self.attributes) > 1,
            "min_cell": int(self.min_cell),
            "groups": [dict(group) for group in self.groups],
            **{
                metric: {
                    **{name: e.to_dict() for name, e in summaries.items()},
                    "n_groups": int(self.n_groups),
                }
                for metric, summaries in self.disparities.items()
            },
        }


def _cells(
    groups: pd.DataFrame,
    columns: Sequence[str],
    hit: np.ndarray,
    min_cell: int,
) -> list[_Cell]:
    labels = [groups[c].astype(str).where(groups[c].notna(), "missing") for c in columns]
    joined = labels[0]
    for more in labels[1:]:  # an intersection: "female & 70+"
        joined = joined.str.cat(more, sep=_SEPARATOR)
    values = joined.to_numpy()
    order = group_order(values, groups[columns[0]] if len(columns) == 1 else None)
    cells = []
    for label in order:
        mask = values == label
        n, events = int(mask.sum()), int(hit[mask].sum())
        levels = dict(zip(columns, str(label).split(_SEPARATOR), strict=False))
        small = min(n, events, n - events) < min_cell
        cells.append(_Cell(str(label), levels, mask, n, events, small))
    return cells


def _group_values(
    t: np.ndarray, e: np.ndarray, r: np.ndarray, s: np.ndarray, horizon: float
) -> list[float]:
    return [
        harrell_c(t, e, s).estimate,
        survival_oe_ratio(t, e, r, t=horizon).oe_ratio,
    ]


def _gaps(values: np.ndarray) -> np.ndarray:
    """Differences (max - min) of each metric and the O/E ratio (min / max); NaN if any is."""
    high, low = values.max(axis=-2), values.min(axis=-2)
    ratio = low[..., 1] / high[..., 1]
    return np.concatenate([high - low, ratio[..., None]], axis=-1)


def fairness_tables(
    groups: pd.DataFrame, n: int, intersections: Sequence[tuple[str, str]]
) -> tuple[pd.DataFrame, list[tuple[str, tuple[str, ...]]]]:
    """Check ``groups`` against ``n`` rows; return it re-indexed and its tables.

    The tables: one per column (named as the column) and one per pair of
    ``intersections`` (``"a_x_b"``), each with the columns it crosses.

    Raises
    ------
    DataError
        ``groups`` of another length, an intersection naming an unknown column.
    """
    if len(groups) != n:
        raise DataError(GROUPS_MSG.format(rows=len(groups), n=n))
    frame = groups.reset_index(drop=True)
    tables: list[tuple[str, tuple[str, ...]]] = [(str(c), (str(c),)) for c in frame.columns]
    for pair in intersections:
        if pair[0] == pair[1] or any(c not in frame.columns for c in pair):
            available = ", ".join(map(str, frame.columns))
            raise DataError(INTERSECTION_MSG.format(pair=list(pair), available=available))
        tables.append((intersection_name(pair), (str(pair[0]), str(pair[1]))))
    return frame, tables


def table_cells(
    frame: pd.DataFrame,
    tables: Sequence[tuple[str, tuple[str, ...]]],
    hit: np.ndarray,
    min_cell: int,
) -> tuple[dict[str, list[_Cell]], list[_Cell]]:
    """Every table's cells, and the reported (not suppressed) ones in table order."""
    cells = {name: _cells(frame, list(columns), hit, min_cell) for name, columns in tables}
    shown = [cell for name, _ in tables for cell in cells[name] if not cell.suppressed]
    return cells, shown


def assemble_tables(
    tables: Sequence[tuple[str, tuple[str, ...]]],
    cells: Mapping[str, list[_Cell]],
    point: np.ndarray,
    replicates: np.ndarray,
    *,
    metrics: Sequence[str],
    ci_level: float,
    min_cell: int,
) -> dict[str, SurvivalFairnessTable]:
    """Build each table from the reported cells' values and their replicates.

    ``point`` has one row per reported cell (in the order of :func:`table_cells`)
    and one column per metric of ``metrics`` (a rank index, then O/E);
    ``replicates`` has the bootstrap replicates of it along its first axis.
    """
    estimates = np.array(with_intervals(replicates, point, ci_level), dtype=object)
    estimates = estimates.reshape(point.shape)
    result: dict[str, SurvivalFairnessTable] = {}
    start = 0
    for name, columns in tables:
        rows_of_table = [c for c in cells[name] if not c.suppressed]
        index = slice(start, start + len(rows_of_table))
        start += len(rows_of_table)
        by_cell = dict(zip((c.group for c in rows_of_table), estimates[index], strict=True))
        disparities: dict[str, dict[str, Estimate]] = {}
        if len(rows_of_table) >= 2:
            gaps = with_intervals(_gaps(replicates[:, index]), _gaps(point[index]), ci_level)
            disparities = {
                metrics[0]: {"difference": gaps[0]},
                _RATIO: {"difference": gaps[1], "ratio": gaps[2]},
            }
        result[name] = SurvivalFairnessTable(
            attributes=columns,
            min_cell=int(min_cell),
            groups=tuple(
                {
                    "group": cell.group,
                    "levels": dict(cell.levels),
                    "n": None if cell.suppressed else cell.n,
                    "events": None if cell.suppressed else cell.events,
                    "suppressed": cell.suppressed,
                    **{
                        metric: None
                        if cell.suppressed
                        else _estimate_or_none(by_cell[cell.group][k])
                        for k, metric in enumerate(metrics)
                    },
                }
                for cell in cells[name]
            ),
            disparities=disparities,
            n_groups=len(rows_of_table),
        )
    return result


def survival_fairness(
    time: Any,
    event: Any,
    risk: Any,
    groups: pd.DataFrame,
    *,
    horizon: float,
    score: Any = None,
    intersections: Sequence[tuple[str, str]] = (),
    min_cell: int = 5,
    patient_ids: Any = None,
    n_boot: int = 200,
    ci_level: float = 0.95,
    random_state: RandomState = 0,
) -> dict[str, SurvivalFairnessTable]:
    """C and O/E by the horizon per group of each sensitive attribute, with the gaps.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Follow-up and event (0/1).
    risk : array-like of shape (n,)
        Predicted risk by ``horizon``.
    groups : pandas.DataFrame
        One column per sensitive attribute, one row per patient row.
    horizon : float
    score : array-like of shape (n,), optional
        The score of the C index (the linear predictor; default ``risk``).
    intersections : sequence of (str, str)
        Pairs of columns crossed into one table each (``"a_x_b"``).
    min_cell : int, default 5
    patient_ids, n_boot, ci_level, random_state
        The bootstrap (patients resampled when given).

    Returns
    -------
    dict of str to SurvivalFairnessTable
        By table name (the attribute, or ``"a_x_b"``).

    Raises
    ------
    DataError
        ``groups`` of another length, an intersection naming an unknown column.
    """
    t, e = _checked(time, event)
    n = t.shape[0]
    r = np.asarray(risk, dtype=np.float64)
    s = r if score is None else np.asarray(score, dtype=np.float64)
    frame, tables = fairness_tables(groups, n, intersections)
    cells, shown = table_cells(frame, tables, (e == 1) & (t <= horizon), min_cell)

    def values(rows: np.ndarray) -> np.ndarray:
        counts = np.bincount(rows, minlength=n)
        out = np.full((len(shown), len(SURVIVAL_FAIRNESS_METRICS)), np.nan)
        for k, cell in enumerate(shown):
            take = np.repeat(np.flatnonzero(cell.mask), counts[cell.mask])
            # undefined (NaN) where a resample's group has no event or no follow-up past t
            with suppress(DataError):
                out[k] = _group_values(t[take], e[take], r[take], s[take], horizon)
        return out

    point = values(np.arange(n))
    replicates = loop_replicates(
        values, point.shape, n, patient_ids=patient_ids, n_boot=n_boot, random_state=random_state
    )
    return assemble_tables(
        tables,
        cells,
        point,
        replicates,
        metrics=SURVIVAL_FAIRNESS_METRICS,
        ci_level=ci_level,
        min_cell=min_cell,
    )
